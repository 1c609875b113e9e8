//! weather's own tests of its telemetry, as the README's "Testing your tool's telemetry" shows
//! them: an event's properties, and what a real run records and delivers.

use std::process::Output;
use std::time::Duration;

use telemetry_core::properties_json;
use telemetry_core::testing::TestHome;
use telemetry_devserver::{DevServer, DevServerOptions};
use weather::{ForecastShown, SCHEMA, Units};

#[test]
fn a_shown_forecast_sends_its_days_and_units() {
    let shown = ForecastShown {
        forecast_days: 3,
        units: Units::Imperial,
    };
    assert_eq!(
        properties_json(&shown),
        r#""forecast_days":3,"units":"imperial""#
    );
}

/// `weather ARGS` in `home`: none of the developer's environment, telemetry on, delivery to the
/// home's development endpoint (by default a loopback port nothing listens on).
fn weather(home: &TestHome, args: &[&str]) -> Output {
    home.command(env!("CARGO_BIN_EXE_weather"))
        .args(args)
        .output()
        .expect("weather runs")
}

fn json(output: Output) -> serde_json::Value {
    assert!(output.status.success(), "{output:?}");
    serde_json::from_slice(&output.stdout).expect("JSON")
}

#[test]
fn a_forecast_records_what_it_showed() {
    let home = TestHome::new(&SCHEMA).unwrap();
    let out = weather(&home, &["forecast", "--days", "5"]);
    assert_eq!(String::from_utf8_lossy(&out.stdout), "5 days of sunshine (Metric)\n");

    // every event, queued or sent, exactly as PostHog gets it (`-n`: the last 10 by default)
    let inspected = json(weather(&home, &["telemetry", "inspect", "--json", "-n", "100"]));
    let shown: Vec<&serde_json::Value> = inspected["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| &e["record"])
        .filter(|record| record["event"] == "forecast.shown")
        .collect();
    assert_eq!(shown.len(), 1, "{inspected}");
    assert_eq!(shown[0]["properties"]["forecast_days"], 5);
    assert_eq!(shown[0]["properties"]["units"], "metric");
    assert_eq!(shown[0]["properties"]["is_ci"], false);
    // dropping `home` waits for the sender the run started
}

#[test]
fn do_not_track_records_nothing() {
    let home = TestHome::new(&SCHEMA).unwrap();
    let out = home
        .command(env!("CARGO_BIN_EXE_weather"))
        .arg("forecast")
        .env("DO_NOT_TRACK", "1")
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    assert!(!home.state_dir().exists());
}

/// What arrives, with `telemetry-devserver` (a PostHog-compatible server on 127.0.0.1) as the
/// endpoint: the events `inspect` showed, once each.
#[test]
fn a_forecast_arrives_as_inspect_showed_it() {
    let server = DevServer::start(DevServerOptions::default()).unwrap();
    let home = TestHome::new(&SCHEMA).unwrap().sending_to(server.url());
    let out = weather(&home, &["forecast"]);
    assert!(out.status.success(), "{out:?}");
    assert!(server.wait_for_events(2, Duration::from_secs(30)));
    assert!(home.wait_for_sender(Duration::from_secs(30)));

    let mut arrived: Vec<String> = server.events().iter().map(|e| e.event.clone()).collect();
    arrived.sort();
    assert_eq!(arrived, ["cli.command_completed", "forecast.shown"]);
    let shown = server
        .events()
        .into_iter()
        .find(|e| e.event == "forecast.shown")
        .unwrap();
    assert_eq!(shown.properties["forecast_days"], 3);
    assert_eq!(shown.properties["units"], "metric");
    // inspect lists them as sent, with the same uuids
    let inspected = json(weather(&home, &["telemetry", "inspect", "--json", "-n", "100"]));
    assert_eq!(inspected["sent"], 2, "{inspected}");
    let mut sent: Vec<String> = inspected["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["record"]["uuid"].as_str().unwrap().to_owned())
        .collect();
    let mut received: Vec<String> = server
        .events()
        .iter()
        .map(|e| e.uuid.expect("a uuid").to_string())
        .collect();
    sent.sort();
    received.sort();
    assert_eq!(sent, received);
}

//! weather's own tests of its telemetry, as the README's "Testing your tool's telemetry" shows
//! them: an event's properties, and what a real run records.

use std::path::Path;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use telemetry_core::properties_json;
use telemetry_devserver::{DevServer, DevServerOptions};
use weather::{ForecastShown, Units};

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

/// `weather ARGS` with a HOME of its own and none of the developer's environment (their
/// `DO_NOT_TRACK`, `WEATHER_TELEMETRY_DIR` or `CI` would change what is recorded), telemetry
/// on, and a debug build's development endpoint `endpoint` (honoured on loopback only).
fn weather_sending_to(endpoint: &str, home: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_weather"))
        .args(args)
        .env_clear()
        .env("HOME", home)
        .env("WEATHER_TELEMETRY", "1")
        .env("WEATHER_TELEMETRY_DEV_ENDPOINT", endpoint)
        .env("WEATHER_TELEMETRY_DEV_KEY", "phc_test")
        .output()
        .expect("weather runs")
}

/// [`weather_sending_to`] a loopback port nothing listens on: nothing can leave the machine.
fn weather(home: &Path, args: &[&str]) -> Output {
    weather_sending_to("http://127.0.0.1:9", home, args)
}

fn json(output: Output) -> serde_json::Value {
    assert!(output.status.success(), "{output:?}");
    serde_json::from_slice(&output.stdout).expect("JSON")
}

/// Each recording command starts a sender as it exits (`weather` run again), which works on
/// in HOME for a moment: wait for it before HOME is deleted.
fn wait_for_the_sender(home: &Path) {
    let until = Instant::now() + Duration::from_secs(30);
    while Instant::now() < until {
        let status = json(weather(home, &["telemetry", "status", "--json"]));
        if status["delivery"]["sender_running"] == false {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("the sender still runs");
}

#[test]
fn a_forecast_records_what_it_showed() {
    let home = tempfile::tempdir().unwrap();
    let out = weather(home.path(), &["forecast", "--days", "5"]);
    assert_eq!(String::from_utf8_lossy(&out.stdout), "5 days of sunshine (Metric)\n");

    // every event, queued or sent, exactly as PostHog gets it (`-n`: the last 10 by default)
    let inspected = json(weather(
        home.path(),
        &["telemetry", "inspect", "--json", "-n", "100"],
    ));
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
    wait_for_the_sender(home.path());
}

/// What arrives, with `telemetry-devserver` (a PostHog-compatible server on 127.0.0.1) as the
/// endpoint: the events `inspect` showed, once each.
#[test]
fn a_forecast_arrives_as_inspect_showed_it() {
    let server = DevServer::start(DevServerOptions::default()).unwrap();
    let home = tempfile::tempdir().unwrap();
    let out = weather_sending_to(&server.url(), home.path(), &["forecast"]);
    assert!(out.status.success(), "{out:?}");
    assert!(server.wait_for_events(2, Duration::from_secs(30)));
    wait_for_the_sender(home.path());

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
    let inspected = json(weather(
        home.path(),
        &["telemetry", "inspect", "--json", "-n", "100"],
    ));
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

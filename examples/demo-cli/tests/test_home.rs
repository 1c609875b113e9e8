//! `telemetry_core::testing::TestHome`, the helper authors use in their own tests, driving the
//! real `demo` binary against a real dev server.

mod common;

use std::time::Duration;

use common::{DEMO, RUN_EVENTS, RUN_OUT};
use telemetry_core::testing::TestHome;
use telemetry_devserver::{DevServer, DevServerOptions, Mode};

#[test]
fn a_test_home_records_and_delivers_a_run_with_nothing_of_the_developers_environment() {
    let server = DevServer::start(DevServerOptions::default()).unwrap();
    let home = TestHome::new(&telemetry_schema::SCHEMA)
        .unwrap()
        .sending_to(server.url());
    let out = home.command(DEMO).args(["run", "assist"]).output().unwrap();
    assert!(out.status.success(), "{out:?}");
    assert_eq!(String::from_utf8_lossy(&out.stdout), RUN_OUT);
    assert_eq!(String::from_utf8_lossy(&out.stderr), "");
    assert!(home.state_dir().join("telemetry-id.json").is_file());

    assert!(server.wait_for_events(RUN_EVENTS.len(), Duration::from_secs(30)));
    assert!(home.wait_for_sender(Duration::from_secs(30)));
    let mut arrived: Vec<String> = server.events().iter().map(|e| e.event.clone()).collect();
    arrived.sort();
    let mut expected = RUN_EVENTS.map(str::to_owned).to_vec();
    expected.sort();
    assert_eq!(arrived, expected);
    // `is_ci` is false whatever the machine running this test says (CI clears nothing here)
    assert!(
        server
            .events()
            .iter()
            .all(|e| e.properties["is_ci"] == false)
    );

    // the developer's own variables are the test's to add
    let off = home
        .command(DEMO)
        .args(["telemetry", "status"])
        .env("DO_NOT_TRACK", "1")
        .output()
        .unwrap();
    assert!(
        String::from_utf8_lossy(&off.stdout).contains("DO_NOT_TRACK=1"),
        "{off:?}"
    );
}

#[test]
fn dropping_a_test_home_waits_for_the_sender_then_deletes_it() {
    // the server takes its time, so the sender is still sending when the test is done
    let server = DevServer::start(DevServerOptions::default()).unwrap();
    server.set_mode(Mode::Slow(Duration::from_millis(1500)));
    let home = TestHome::new(&telemetry_schema::SCHEMA)
        .unwrap()
        .sending_to(server.url());
    let out = home.command(DEMO).args(["run", "assist"]).output().unwrap();
    assert!(out.status.success(), "{out:?}");
    let started = std::time::Instant::now();
    while !home.sender_running() {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "no sender started"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    let path = home.path().to_owned();
    drop(home);
    // the slow server records a batch just before it answers, and the sender lets go of its
    // lock only after the answer: had the drop not waited, nothing would have arrived yet
    assert_eq!(server.events().len(), RUN_EVENTS.len());
    assert!(!path.exists());
}

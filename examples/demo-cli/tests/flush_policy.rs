//! The flush policy end to end: a burst of commands starts a few senders, not one every few
//! commands, and what the burst leaves is sent by the first command after the interval.

mod common;

use std::time::Duration;

use common::{Demo, RUN_EVENTS, can_record, expire_flush_interval, senders_started, wait_until};
use telemetry_devserver::{DevServer, DevServerOptions};

/// How long a test waits for something that should happen within a second or two.
const PATIENCE: Duration = Duration::from_secs(60);

#[test]
fn fifty_back_to_back_commands_start_a_few_senders_and_every_event_arrives() {
    if !can_record() {
        return;
    }
    let server = DevServer::start(DevServerOptions::default()).expect("dev server");
    let demo = Demo::sending_to(&server.url()).telemetry_on();
    for _ in 0..50 {
        demo.ok(&["run", "assist"]);
    }
    let started = senders_started(&demo);
    eprintln!("senders started by 50 commands: {started}");
    assert!(started >= 1, "the first command started one");
    // one per flush interval and one more each time a sender finished before the burst did;
    // a debug build's 50 commands take a few intervals at most
    assert!(started <= 6, "{started} senders for 50 commands");
    assert!(
        wait_until(PATIENCE, || demo.processes().is_empty()),
        "the senders end"
    );

    // the end of the burst may wait for a later command: as a user's next command after the
    // interval, `telemetry status` (which records three events) sends everything
    expire_flush_interval(&demo);
    demo.ok(&["telemetry", "status"]);
    let expected = 50 * RUN_EVENTS.len() + 3;
    assert!(
        server.wait_for_events(expected, PATIENCE),
        "{} of {expected} events received",
        server.events().len()
    );
    assert!(wait_until(PATIENCE, || demo.queue().is_empty()
        && demo.processes().is_empty()));
    let mut uuids: Vec<_> = server.events().iter().map(|e| e.uuid).collect();
    uuids.sort();
    uuids.dedup();
    assert_eq!(uuids.len(), expected, "each event once");
    assert_eq!(senders_started(&demo), started + 1);
}

#[test]
fn a_single_command_is_sent_by_the_sender_its_exit_starts() {
    if !can_record() {
        return;
    }
    let server = DevServer::start(DevServerOptions::default()).expect("dev server");
    let demo = Demo::sending_to(&server.url()).telemetry_on();
    demo.ok(&["run", "assist"]);
    assert!(server.wait_for_events(RUN_EVENTS.len(), PATIENCE));
    assert!(wait_until(PATIENCE, || demo.queue().is_empty()));
    assert_eq!(senders_started(&demo), 1);
}

/// A host that parses its arguments before it starts telemetry (`demo-args-first`) starts
/// senders that exit at once: `status` says so, with the fix, from the second one on; a
/// sender that runs again ends it and sends what waited.
#[test]
fn senders_that_never_run_are_reported_until_one_does() {
    if !can_record() {
        return;
    }
    let server = DevServer::start(DevServerOptions::default()).expect("dev server");
    let demo = Demo::sending_to(&server.url()).telemetry_on();
    let args_first = |demo: &Demo| {
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_demo-args-first"));
        demo.prepare(&mut cmd);
        let out = cmd.arg("run").output().expect("demo-args-first runs");
        assert!(out.status.success(), "{out:?}");
        assert!(out.stdout.is_empty() && out.stderr.is_empty(), "{out:?}");
        // its sender exits at once (on clap's error), never reaching the lock
        assert!(wait_until(PATIENCE, || demo.processes().is_empty()));
    };
    let status = |demo: &Demo| -> serde_json::Value {
        let out = demo.run(&["telemetry", "status", "--json"]);
        serde_json::from_slice(&out.stdout).expect("status --json")
    };
    let problems = |status: &serde_json::Value| -> Vec<String> {
        status["problems"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| format!("{} / {}", p["problem"], p["fix"]))
            .collect()
    };

    args_first(&demo);
    expire_flush_interval(&demo);
    args_first(&demo);
    let one = status(&demo);
    assert_eq!(one["delivery"]["senders_not_run"], 1);
    assert!(problems(&one).is_empty(), "one alone: {:?}", problems(&one));
    expire_flush_interval(&demo);
    args_first(&demo);
    assert_eq!(senders_started(&demo), 3);

    let two = status(&demo);
    assert_eq!(two["delivery"]["senders_not_run"], 2);
    let reported = problems(&two);
    assert_eq!(reported.len(), 1, "{reported:?}");
    assert!(
        reported[0].contains(
            "the last 2 telemetry senders this program started exited before sending anything"
        ) && reported[0].contains("first thing in `main`, before parsing arguments"),
        "{reported:?}"
    );
    let text = demo.run(&["telemetry", "status"]);
    assert_eq!(text.status.code(), Some(1), "a problem: exit 1");
    assert!(
        String::from_utf8_lossy(&text.stderr).contains("before parsing arguments"),
        "{text:?}"
    );
    assert_eq!(server.events().len(), 0, "nothing was sent");

    // demo starts telemetry first: its sender runs, and sends what waited
    expire_flush_interval(&demo);
    demo.ok(&["run", "assist"]);
    let waiting = 3 + 2 * 3 + RUN_EVENTS.len(); // 3 binary.startup, 2 statuses, the run
    assert!(
        server.wait_for_events(waiting, PATIENCE),
        "{} of {waiting} events received",
        server.events().len()
    );
    assert!(wait_until(PATIENCE, || demo.processes().is_empty()));
    expire_flush_interval(&demo);
    demo.ok(&["run", "assist"]);
    let healed = status(&demo);
    assert_eq!(healed["delivery"]["senders_not_run"], 0);
    assert!(problems(&healed).is_empty(), "{:?}", problems(&healed));
}

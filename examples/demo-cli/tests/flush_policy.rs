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

//! End to end: the real `demo` binary delivers its queue to a PostHog-compatible server on
//! 127.0.0.1 through the detached sender (and, for `serve`, a thread of its own).
//!
//! Each test has its own HOME, a cleared environment, its own server, and points the debug
//! build at it with `DEMO_TELEMETRY_DEV_ENDPOINT` / `DEMO_TELEMETRY_DEV_KEY`. Nothing waits a
//! fixed time: every wait polls with a generous timeout.

mod common;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::process::{Output, Stdio};
use std::time::{Duration, Instant};

use common::{
    Demo, Mount, RUN_EVENTS, SpawnServer, assert_no_sender_survives, assert_nothing_sent_twice,
    can_record, sender_state_json, server, text, wait_until,
};
use serde_json::Value;
use telemetry_core::limits::SENDER_DEADLINE;
use telemetry_core::testing::TestHome;
use telemetry_devserver::{DevServer, DevServerOptions, Mode, RecordedEvent};

/// How long a test waits for something that should happen within a second or two.
const PATIENCE: Duration = Duration::from_secs(30);

/// Waits until the queue is empty and no sender runs.
fn wait_until_delivered(demo: &Demo) {
    assert!(
        wait_until(PATIENCE, || demo.queue().is_empty()
            && demo.processes().is_empty()),
        "the queue was not emptied: {} left; sender state {}; processes {:?}",
        demo.queue().len(),
        sender_state_json(demo),
        demo.processes(),
    );
}

/// The pid the last sender wrote into the sender lock (`<pid> sending` while it holds it,
/// `<pid>` once it let go by returning).
fn last_sender_pid(demo: &Demo) -> Option<u32> {
    std::fs::read_to_string(demo.sender_lock_path())
        .ok()?
        .split_ascii_whitespace()
        .next()?
        .parse()
        .ok()
}

/// Pretends the back-off after a failure is over (as if its time had passed).
fn expire_backoff(demo: &Demo) {
    let mut state = sender_state_json(demo);
    state["next_attempt_at"] = Value::String("2000-01-01T00:00:00.000Z".into());
    std::fs::write(
        demo.app_dir().join("telemetry-sender.json"),
        state.to_string(),
    )
    .unwrap();
}

fn status_json(demo: &Demo) -> Value {
    serde_json::from_str(&demo.ok(&["telemetry", "status", "--json"])).unwrap()
}

/// `inspect --json`: every record shown, by uuid, with its state (`queued` or `sent`).
fn inspected(demo: &Demo) -> HashMap<String, (String, Value)> {
    let doc: Value =
        serde_json::from_str(&demo.ok(&["telemetry", "inspect", "--json", "-n", "10000"])).unwrap();
    doc["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            let record = e["record"].clone();
            let uuid = record["uuid"].as_str().unwrap().to_string();
            (uuid, (e["state"].as_str().unwrap().to_string(), record))
        })
        .collect()
}

fn queued_uuids(demo: &Demo) -> BTreeSet<String> {
    demo.queue()
        .iter()
        .map(|r| r["uuid"].as_str().unwrap().to_string())
        .collect()
}

fn received_uuids(server: &DevServer) -> BTreeMap<String, Vec<RecordedEvent>> {
    server
        .events_by_uuid()
        .into_iter()
        .map(|(uuid, events)| (uuid.hyphenated().to_string(), events))
        .collect()
}

fn same_instant(a: &str, b: &str) -> bool {
    match (
        chrono::DateTime::parse_from_rfc3339(a),
        chrono::DateTime::parse_from_rfc3339(b),
    ) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}

/// The received event is the recorded one: name, distinct id, same instant, and properties
/// equal as JSON objects (posthog-rs sends them in another order).
fn assert_same(received: &RecordedEvent, record: &Value) {
    assert_eq!(received.event, record["event"].as_str().unwrap());
    assert_eq!(
        received.distinct_id,
        record["distinct_id"].as_str().unwrap()
    );
    assert_eq!(
        Value::Object(received.properties.clone()),
        record["properties"],
        "properties on the wire differ from the record's"
    );
    assert!(
        same_instant(
            received.timestamp.as_deref().unwrap_or(""),
            record["timestamp"].as_str().unwrap()
        ),
        "{:?} vs {}",
        received.timestamp,
        record["timestamp"]
    );
}

#[test]
fn twenty_commands_are_delivered_once_with_the_properties_inspect_shows() {
    if !can_record() {
        return;
    }
    let server = server(Mode::Ok);
    let demo = Demo::sending_to(&server.url()).telemetry_on();
    for i in 0..20 {
        if i == 19 {
            // the last command comes after the flush interval (as if its time had passed):
            // its sender sends whatever the burst left
            common::expire_flush_interval(&demo);
        }
        demo.ok(&["run", "assist"]);
    }
    let expected = 20 * RUN_EVENTS.len();
    assert!(
        server.wait_for_events(expected, PATIENCE),
        "{} of {expected} events received",
        server.events().len()
    );
    wait_until_delivered(&demo);

    let received = received_uuids(&server);
    assert_eq!(
        server.events().len(),
        expected,
        "nothing more, nothing twice"
    );
    assert_eq!(received.len(), expected);
    for name in RUN_EVENTS {
        assert_eq!(
            server.events().iter().filter(|e| e.event == name).count(),
            20,
            "{name}"
        );
    }
    for request in server.requests() {
        assert_eq!(request.path, "/batch/");
        assert_eq!(request.status, Some(200));
        assert!(request.event_uuids.len() <= telemetry_core::limits::BATCH_MAX_RECORDS);
        // the headers the page lists ("What is on the wire"), and no other
        let mut names: Vec<&str> = request.headers.iter().map(|(n, _)| n.as_str()).collect();
        names.sort_unstable();
        assert_eq!(
            names,
            [
                "accept",
                "accept-encoding",
                "content-length",
                "content-type",
                "host",
                "user-agent"
            ],
            "{:?}",
            request.headers
        );
        let header = |name: &str| {
            request
                .headers
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, v)| v.as_str())
        };
        assert_eq!(header("content-type"), Some("application/json"));
        assert_eq!(header("accept"), Some("*/*"));
        assert_eq!(header("accept-encoding"), Some("gzip"));
        assert!(
            header("user-agent").is_some_and(|ua| ua.starts_with("posthog-rs/")),
            "{:?}",
            request.headers
        );
    }

    // inspect shows every delivered record as sent, with the same properties
    let shown = inspected(&demo);
    for (uuid, deliveries) in &received {
        let (state, record) = shown
            .get(uuid)
            .unwrap_or_else(|| panic!("{uuid} not shown by inspect"));
        assert_eq!(state, "sent");
        assert_eq!(deliveries.len(), 1, "{uuid} delivered more than once");
        assert_same(&deliveries[0], record);
        let props = &deliveries[0].properties;
        assert_eq!(props["$geoip_disable"], true);
        assert_eq!(props["$process_person_profile"], false);
        for stripped in ["$lib", "$lib_version", "$os", "$os_version", "$is_server"] {
            assert!(!props.contains_key(stripped), "{stripped} was sent");
        }
    }
    // inspect's own run recorded two events, still queued
    assert_eq!(shown.values().filter(|(s, _)| s == "queued").count(), 2);
    let status = status_json(&demo);
    assert!(status["queue"]["sent"].as_u64().unwrap() >= expected as u64);
    assert!(status["delivery"]["last_success_at"].is_string());
}

/// A developer's shell often sets proxy variables, and reqwest follows them. The development
/// endpoint is on this machine: its events go straight to it, never to a proxy (which would
/// carry them off the machine, to its own `127.0.0.1`). Here the "proxy" is a listener that
/// never answers: had the sender used it, nothing would reach the server.
#[test]
fn a_loopback_endpoint_is_reached_without_the_proxies_the_environment_names() {
    if !can_record() {
        return;
    }
    let server = server(Mode::Ok);
    let (proxy, proxy_url) = common::loopback_listener();
    let mut demo = Demo::sending_to(&server.url());
    for name in ["HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY"] {
        demo = demo
            .with(name, &proxy_url)
            .with(&name.to_lowercase(), &proxy_url);
    }
    let demo = demo.telemetry_on();
    demo.ok(&["run", "assist"]);
    assert!(
        server.wait_for_events(RUN_EVENTS.len(), PATIENCE),
        "{} of {} events received; sender state {}",
        server.events().len(),
        RUN_EVENTS.len(),
        sender_state_json(&demo)
    );
    wait_until_delivered(&demo);
    assert_eq!(
        common::connections(&proxy),
        0,
        "the sender went through the proxy"
    );
}

#[test]
fn after_an_outage_the_next_run_delivers_everything_once() {
    if !can_record() {
        return;
    }
    // a port where a server was and is no more
    let port = server(Mode::Ok).port();
    let demo = Demo::sending_to(&format!("http://127.0.0.1:{port}")).telemetry_on();
    for _ in 0..10 {
        demo.ok(&["run", "assist"]);
    }
    assert_no_sender_survives(&demo);
    assert_eq!(demo.queue().len(), 10 * RUN_EVENTS.len(), "nothing lost");
    let status = status_json(&demo);
    assert_eq!(status["delivery"]["last_failure"]["class"], "network");
    assert_eq!(status["delivery"]["backing_off"], true);
    // (status recorded its own three events, and started no sender: the back-off holds)
    let waiting = queued_uuids(&demo);
    assert_eq!(waiting.len(), 10 * RUN_EVENTS.len() + 3);

    // the server is back; the back-off's time has passed
    let server =
        DevServer::start(DevServerOptions::default().port(port)).expect("the same port again");
    expire_backoff(&demo);
    demo.ok(&["run", "assist"]);
    let expected = waiting.len() + RUN_EVENTS.len();
    assert!(server.wait_for_events(expected, PATIENCE));
    wait_until_delivered(&demo);
    let received = received_uuids(&server);
    assert_eq!(received.len(), expected);
    assert!(received.values().all(|d| d.len() == 1), "each once");
    assert!(waiting.iter().all(|uuid| received.contains_key(uuid)));
    assert_eq!(status_json(&demo)["delivery"]["backing_off"], false);
}

/// Runs the same commands with telemetry on against a failing server and with telemetry
/// off: same exit codes, same output, nothing printed by telemetry, each command prompt; the
/// records stay queued and the sender dies by its deadline.
fn failing_server_changes_nothing_the_user_sees(mode: Mode) {
    if !can_record() {
        return;
    }
    let server = server(mode.clone());
    let on = Demo::sending_to(&server.url()).telemetry_on();
    let off = Demo::new();
    let commands: [&[&str]; 4] = [
        &["run", "assist"],
        &["run", "assist", "--fail"],
        &["setup", "--assistant", "codex"],
        &["run"],
    ];
    for args in commands {
        let started = Instant::now();
        let with: Output = on.run(args);
        let elapsed = started.elapsed();
        let without = off.run(args);
        assert_eq!(
            with.status.code(),
            without.status.code(),
            "{mode:?} {args:?}"
        );
        assert_eq!(
            text(&with.stdout),
            text(&without.stdout),
            "{mode:?} {args:?}"
        );
        assert_eq!(
            text(&with.stderr),
            text(&without.stderr),
            "{mode:?} {args:?}"
        );
        assert!(
            elapsed < Duration::from_secs(3),
            "{mode:?} {args:?} took {elapsed:?}"
        );
    }
    assert!(
        server.wait_for_requests(1, PATIENCE),
        "a sender talked to the server"
    );
    assert_no_sender_survives(&on);
    assert!(server.events().is_empty());
    // run: 5 records, run --fail: 6, setup: 4, a usage error: 1 (start-up)
    assert_eq!(on.queue().len(), 5 + 6 + 4 + 1, "every record kept");
    let status = status_json(&on);
    assert_eq!(status["delivery"]["backing_off"], true, "{status}");
    assert_eq!(off.files(), ["work", "work/project"]);
}

#[test]
fn a_server_answering_503_changes_nothing_the_user_sees() {
    failing_server_changes_nothing_the_user_sees(Mode::Status(503));
}

#[test]
fn a_server_answering_429_with_retry_after_changes_nothing_the_user_sees() {
    failing_server_changes_nothing_the_user_sees(Mode::TooManyRequests {
        retry_after_secs: Some(1),
    });
}

#[test]
fn a_hanging_server_changes_nothing_the_user_sees() {
    failing_server_changes_nothing_the_user_sees(Mode::Hang);
}

#[test]
fn a_server_closing_the_connection_changes_nothing_the_user_sees() {
    failing_server_changes_nothing_the_user_sees(Mode::CloseConnection);
}

fn refused_records_are_dropped_counted_and_not_retried(mode: Mode, reason: &str, words: &str) {
    if !can_record() {
        return;
    }
    let server = server(mode.clone());
    let demo = Demo::sending_to(&server.url()).telemetry_on();
    demo.ok(&["run", "assist"]);
    let refused = queued_uuids(&demo);
    assert_eq!(refused.len(), 5);
    wait_until_delivered(&demo);
    // a server refusing everything: the batch is split down to single records (the batch,
    // then halves, ...: 2 * 5 - 1 requests), each refused alone once, never retried
    assert_eq!(server.requests().len(), 9, "split down to single records");
    // (from here the server accepts, so that status's own records are not refused too)
    server.set_mode(Mode::Ok);
    let status = status_json(&demo);
    assert_eq!(status["queue"]["rejected"], 5, "{status}");
    assert_eq!(status["queue"]["rejected_by"][reason], 5, "{status}");
    assert_eq!(
        status["delivery"]["backing_off"], false,
        "not a failure to retry"
    );
    let human = demo.ok(&["telemetry", "status"]);
    assert!(
        human.contains("5 refused by the server") && human.contains(&format!("5 {words}")),
        "{human}"
    );

    // later runs never send them again
    let requests_before = server.requests().len();
    demo.ok(&["run", "assist"]);
    wait_until_delivered(&demo);
    for uuid in &refused {
        let carried_later = server.requests()[requests_before..]
            .iter()
            .filter(|r| r.event_uuids.iter().any(|u| u.to_string() == *uuid))
            .count();
        assert_eq!(carried_later, 0, "{mode:?}: {uuid} sent again");
        assert!(!received_uuids(&server).contains_key(uuid));
    }
    assert!(server.events().len() >= 5);
}

#[test]
fn records_refused_with_400_are_dropped_and_counted() {
    refused_records_are_dropped_counted_and_not_retried(
        Mode::BadRequest,
        "bad_request",
        "refused as invalid (400)",
    );
}

#[test]
fn records_refused_with_413_are_dropped_and_counted() {
    refused_records_are_dropped_counted_and_not_retried(
        Mode::PayloadTooLarge,
        "too_large",
        "refused as too large (413)",
    );
}

#[test]
fn the_alias_is_acknowledged_before_any_event_under_the_account() {
    if !can_record() {
        return;
    }
    // queue everything first (the server fails), so that one sender sends it all in order
    let server = server(Mode::Status(503));
    let demo = Demo::sending_to(&server.url()).telemetry_on();
    demo.ok(&["run", "assist"]);
    let anon = demo.anon_id().unwrap();
    // events go out under the account's keyed hash (keyed by the key sent with), never its id
    let key = if cfg!(debug_assertions) {
        "phc_test"
    } else {
        option_env!("DEMO_POSTHOG_KEY").unwrap_or("")
    };
    let account = telemetry_core::PrincipalId::derive(key, "user-42")
        .unwrap()
        .to_string();
    demo.ok(&["login", "user-42"]);
    demo.ok(&["run", "assist"]);
    demo.ok(&["logout"]);
    demo.ok(&["run", "assist"]);
    let fresh = demo.anon_id().unwrap();
    assert_no_sender_survives(&demo);
    let queued = demo.queue();

    server.set_mode(Mode::Ok);
    expire_backoff(&demo);
    demo.ok(&["setup"]);
    wait_until_delivered(&demo);

    let accepted: Vec<_> = server
        .requests()
        .into_iter()
        .filter(|r| r.status == Some(200))
        .collect();
    let events = received_uuids(&server);
    let alias_uuid = queued
        .iter()
        .find(|r| r["event"] == "$create_alias")
        .map(|r| r["uuid"].as_str().unwrap().to_string())
        .expect("an alias was recorded");
    let alias_request = accepted
        .iter()
        .find(|r| r.event_uuids.iter().any(|u| u.to_string() == alias_uuid))
        .expect("the alias was accepted");
    assert_eq!(
        alias_request.event_uuids.last().map(ToString::to_string),
        Some(alias_uuid.clone()),
        "a batch ends with the alias"
    );
    for request in &accepted {
        let carries_linked = request.event_uuids.iter().any(|u| {
            events
                .get(&u.to_string())
                .is_some_and(|d| d[0].distinct_id == account)
        });
        if carries_linked {
            assert!(
                request.id > alias_request.id,
                "an event under the account was sent before the alias was answered"
            );
        }
    }
    for record in &queued {
        let uuid = record["uuid"].as_str().unwrap();
        let delivered = &events[uuid];
        assert_eq!(delivered.len(), 1);
        assert_same(&delivered[0], record);
        let props = &delivered[0].properties;
        let id = delivered[0].distinct_id.as_str();
        if record["event"] == "$create_alias" {
            assert_eq!(id, anon);
            assert_eq!(props["alias"], account.as_str());
            assert!(!props.contains_key("$process_person_profile"));
        } else if id == account {
            assert!(!props.contains_key("$process_person_profile"));
        } else {
            assert!(id == anon || id == fresh, "{id}");
            assert_eq!(
                props["$process_person_profile"], false,
                "anonymous: personless"
            );
        }
    }
    assert!(events.values().any(|d| d[0].distinct_id == account));
    assert!(events.values().any(|d| d[0].distinct_id == fresh));
}

/// Starts a command whose sender will be caught mid-batch, and returns the sender's pid once
/// its request is in flight.
fn kill_the_sender_mid_batch(demo: &Demo, server: &DevServer) -> u32 {
    let before = server.requests().len();
    demo.ok(&["run", "assist"]);
    assert!(
        server.wait_for_requests(before + 1, PATIENCE),
        "the sender's request arrived"
    );
    let pid = last_sender_pid(demo).expect("the sender wrote its pid");
    assert!(demo.processes().contains(&pid), "the sender is alive");
    demo.kill_sender(pid);
    pid
}

#[test]
fn killing_the_sender_mid_batch_loses_nothing() {
    if !can_record() {
        return;
    }
    let server = server(Mode::Hang);
    let demo = Demo::sending_to(&server.url()).telemetry_on();
    kill_the_sender_mid_batch(&demo, &server);
    let first_batch = queued_uuids(&demo);
    assert_eq!(first_batch.len(), 5, "the batch in flight is still queued");

    server.set_mode(Mode::Ok);
    demo.ok(&["run", "assist"]);
    wait_until_delivered(&demo);
    let received = received_uuids(&server);
    assert_eq!(received.len(), 10);
    assert!(first_batch.iter().all(|u| received.contains_key(u)));
    assert!(received.values().all(|d| d.len() == 1));
    // the next sender found its predecessor's lock file still saying "sending": recorded, no
    // back-off for one, and its own success ends the run of failures
    let delivery = &status_json(&demo)["delivery"];
    assert_eq!(
        delivery["last_failure"]["class"], "interrupted",
        "{delivery}"
    );
    assert_eq!(delivery["consecutive_failures"], 0, "{delivery}");
}

/// A sender that ends while it holds its lock (killed here; in a program built with
/// `panic = "abort"`, a panic does the same) is recorded by the next one. One alone is no
/// fault; two in a row back off and are a problem for `status`, so a sender that aborts every
/// time is not started again by every command.
#[test]
fn senders_stopped_before_they_finish_back_off_from_the_second_in_a_row() {
    if !can_record() {
        return;
    }
    let server = server(Mode::Hang);
    let demo = Demo::sending_to(&server.url()).telemetry_on();
    kill_the_sender_mid_batch(&demo, &server);
    // the next sender records the first and, with no back-off for one, sends (and is killed)
    kill_the_sender_mid_batch(&demo, &server);
    let state = sender_state_json(&demo);
    assert_eq!(state["consecutive_failures"], 1, "{state}");
    assert_eq!(state["last_failure"]["class"], "interrupted", "{state}");
    assert_eq!(demo.queue().len(), 10, "nothing lost");

    // the third records the second and backs off: it sends nothing
    demo.ok(&["run", "assist"]);
    assert_no_sender_survives(&demo);
    assert!(
        wait_until(
            PATIENCE,
            || sender_state_json(&demo)["consecutive_failures"] == 2
        ),
        "{}",
        sender_state_json(&demo)
    );
    assert_eq!(server.requests().len(), 2, "no request within the back-off");
    let status = demo.run(&["telemetry", "status", "--json"]);
    assert_eq!(status.status.code(), Some(1), "a problem");
    let doc: Value = serde_json::from_slice(&status.stdout).unwrap();
    assert_eq!(doc["delivery"]["backing_off"], true, "{doc}");
    let human = demo.run(&["telemetry", "status"]);
    assert!(
        text(&human.stderr).contains("the last telemetry sender was stopped before it finished"),
        "{}",
        text(&human.stderr)
    );

    // once the wait is over and the server answers, everything goes, and the problem is gone
    server.set_mode(Mode::Ok);
    expire_backoff(&demo);
    demo.ok(&["run", "assist"]);
    wait_until_delivered(&demo);
    // four runs of five records, two status commands of three
    assert_eq!(
        received_uuids(&server).len(),
        4 * 5 + 2 * 3,
        "every record, once"
    );
    assert_eq!(demo.run(&["telemetry", "status"]).status.code(), Some(0));
}

/// The flush policy learns that the last sender took the lock from the lock file's time. A file
/// system that cuts it to the second made a killed sender's lock look taken before its start,
/// and the records waited for a command 5 s later; the policy now allows for it.
#[test]
fn a_killed_sender_is_replaced_where_the_file_system_keeps_whole_seconds() {
    if !can_record() {
        return;
    }
    let server = server(Mode::Hang);
    let demo = Demo::sending_to(&server.url());
    // dropped before the sandbox, so it is unmounted before the sandbox is removed
    let _disk = match Mount::whole_second_ext4(&demo.app_dir()) {
        Ok(disk) => disk,
        Err(why) => {
            eprintln!("skipped: {why}");
            return;
        }
    };
    demo.ok(&["telemetry", "on"]);
    kill_the_sender_mid_batch(&demo, &server);
    assert_eq!(
        queued_uuids(&demo).len(),
        5,
        "the batch in flight is still queued"
    );

    server.set_mode(Mode::Ok);
    demo.ok(&["run", "assist"]);
    wait_until_delivered(&demo);
    let received = received_uuids(&server);
    assert_eq!(received.len(), 10);
    assert!(received.values().all(|d| d.len() == 1));
}

#[test]
fn a_batch_the_server_stored_but_never_acknowledged_comes_back_with_the_same_uuids() {
    if !can_record() {
        return;
    }
    // the server stores the batch 1.5 s after reading it, whether or not the client waits
    let server = server(Mode::Ok);
    let demo = Demo::sending_to(&server.url()).telemetry_on();
    server.set_mode(Mode::Slow(Duration::from_millis(1500)));
    demo.ok(&["run", "assist"]);
    let in_flight = queued_uuids(&demo);
    // the sender is caught while the server holds its request (requests are listed once
    // answered, so find the sender by its lock instead)
    assert!(wait_until(PATIENCE, || {
        last_sender_pid(&demo).is_some_and(|pid| demo.processes().contains(&pid))
    }));
    let pid = last_sender_pid(&demo).unwrap();
    std::thread::sleep(Duration::from_millis(300));
    demo.kill_sender(pid);
    // whatever the server stored of it is in before the next run
    let stored_or_not = wait_until(Duration::from_secs(5), || !server.requests().is_empty());

    server.set_mode(Mode::Ok);
    demo.ok(&["run", "assist"]);
    wait_until_delivered(&demo);
    let received = received_uuids(&server);
    assert_eq!(received.len(), 10, "every record delivered");
    for (uuid, deliveries) in &received {
        if deliveries.len() > 1 {
            assert!(
                in_flight.contains(uuid),
                "only the unacknowledged batch repeats"
            );
            for again in &deliveries[1..] {
                assert_eq!(again.event, deliveries[0].event);
                assert_eq!(again.properties, deliveries[0].properties);
            }
        }
    }
    if stored_or_not {
        let repeated = received.values().filter(|d| d.len() == 2).count();
        assert_eq!(repeated, 5, "the stored batch came again, same uuids");
    }
}

#[test]
fn turning_telemetry_off_after_recording_stops_the_sender() {
    if !can_record() {
        return;
    }
    let server = server(Mode::Status(503));
    let demo = Demo::sending_to(&server.url()).telemetry_on();
    demo.ok(&["run", "assist"]);
    assert_no_sender_survives(&demo);
    demo.ok(&["telemetry", "off"]);
    let queued = demo.queue().len();
    assert!(queued >= 5);
    server.set_mode(Mode::Ok);
    server.clear();
    expire_backoff(&demo);

    // a command now spawns nothing (telemetry is off)...
    demo.ok(&["run", "assist"]);
    // ...and a sender started anyway decides consent again and sends nothing
    let sender = |extra: &[(&str, &str)]| {
        let mut cmd = demo.command(&["--telemetry-sender-process"]);
        cmd.env("DEMO_TELEMETRY_SENDER", "1")
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        for (k, v) in extra {
            cmd.env(k, v);
        }
        let started = Instant::now();
        let status = cmd.status().expect("the sender runs");
        assert!(status.success());
        assert!(started.elapsed() < SENDER_DEADLINE + Duration::from_secs(2));
    };
    sender(&[]);
    sender(&[("DO_NOT_TRACK", "1")]);
    assert!(server.requests().is_empty(), "nothing sent");
    assert_eq!(demo.queue().len(), queued);

    // the same sender with consent given (here by variable) does send: the check is real
    sender(&[("DEMO_TELEMETRY", "1")]);
    assert_eq!(server.events().len(), queued);
    assert!(demo.queue().is_empty());
}

#[test]
fn within_the_backoff_commands_start_no_sender() {
    if !can_record() {
        return;
    }
    let server = server(Mode::Status(503));
    let demo = Demo::sending_to(&server.url()).telemetry_on();
    demo.ok(&["run", "assist"]);
    assert_no_sender_survives(&demo);
    let attempts = server.requests().len();
    assert_eq!(attempts, 1, "one attempt within the run");
    let pid = last_sender_pid(&demo).expect("the sender wrote its pid");

    for _ in 0..5 {
        demo.ok(&["run", "assist"]);
        assert_eq!(last_sender_pid(&demo), Some(pid), "no new sender started");
    }
    assert!(demo.processes().is_empty());
    assert_eq!(server.requests().len(), attempts, "no new request");

    let status = status_json(&demo);
    let delivery = &status["delivery"];
    assert_eq!(delivery["backing_off"], true);
    assert_eq!(delivery["consecutive_failures"], 1);
    assert_eq!(delivery["last_failure"]["class"], "server_error");
    assert_eq!(delivery["last_failure"]["status"], 503);
    let human = demo.ok(&["telemetry", "status"]);
    assert!(
        human.contains("Last failure: server error (5xx), HTTP 503"),
        "{human}"
    );
    assert!(human.contains("Next attempt: in "), "{human}");

    // once the wait is over, the next command tries again (and fails again: longer wait)
    expire_backoff(&demo);
    demo.ok(&["run", "assist"]);
    assert!(server.wait_for_requests(attempts + 1, PATIENCE));
    assert_no_sender_survives(&demo);
    assert_ne!(last_sender_pid(&demo), Some(pid));
    assert_eq!(sender_state_json(&demo)["consecutive_failures"], 2);
    // seven runs of five records, two status commands of three
    assert_eq!(demo.queue().len(), 7 * 5 + 2 * 3, "nothing lost");
}

#[test]
fn a_server_process_delivers_from_its_own_thread() {
    if !can_record() {
        return;
    }
    let server = server(Mode::Ok);
    let demo = Demo::sending_to(&server.url()).telemetry_on();
    let started = Instant::now();
    let mut child = demo.command(&["serve", "--for", "6"]).spawn_server();
    // startup, invocation and server start arrive while the server still runs
    assert!(server.wait_for_events(3, PATIENCE));
    assert!(
        child.try_wait().unwrap().is_none(),
        "delivered by the running server, not at its exit"
    );
    let names: BTreeSet<String> = server.events().iter().map(|e| e.event.clone()).collect();
    assert!(names.contains("mcp.server_started"), "{names:?}");
    let status = child.wait().unwrap();
    assert!(status.success());
    assert!(
        started.elapsed() < Duration::from_secs(6 + 5),
        "stops promptly"
    );
    // its completion, recorded at the end, goes with the detached sender
    assert!(server.wait_for_events(4, PATIENCE));
    wait_until_delivered(&demo);
    assert!(received_uuids(&server).values().all(|d| d.len() == 1));
    assert_eq!(server.events().len(), 4);
}

#[test]
fn a_server_stopping_mid_round_still_hands_its_last_events_to_a_sender() {
    if !can_record() {
        return;
    }
    // A server that stops at once, while its background thread may be starting a round against
    // a slow capture server (1.8 s a request), still hands every event it recorded, its own
    // completion included, to a sender.
    let server = server(Mode::Slow(Duration::from_millis(1800)));
    let demo = Demo::sending_to(&server.url()).telemetry_on();
    let out = demo
        .command(&["serve", "--for", "0"])
        .stdin(Stdio::piped())
        .output()
        .expect("demo serve");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        wait_until(PATIENCE, || {
            server
                .events()
                .iter()
                .any(|e| e.event == "cli.command_completed")
        }),
        "the completion recorded as the server stopped was never sent"
    );
    wait_until_delivered(&demo);
    let names: BTreeSet<String> = server.events().iter().map(|e| e.event.clone()).collect();
    assert!(names.contains("mcp.server_started"), "{names:?}");
    // an interrupted batch may arrive twice, always with the same uuids
    assert_eq!(received_uuids(&server).len(), 4);
}

#[test]
fn the_sender_never_touches_a_home_it_was_not_given() {
    if !can_record() {
        return;
    }
    let server = server(Mode::Ok);
    let demo = Demo::sending_to(&server.url()).telemetry_on();
    demo.ok(&["run", "assist"]);
    wait_until_delivered(&demo);
    let files = demo.files();
    for file in &files {
        assert!(
            file.starts_with(".demo") || file.starts_with("work"),
            "{file}"
        );
    }
    assert!(files.contains(&".demo/telemetry-sender.json".to_string()));
    assert!(demo.sender_lock_path().exists());
}

/// A server upgraded while it runs: its file is removed and a new one put in its place (what
/// a package manager does). Linux then names the running program `<path> (deleted)`, which
/// cannot be started; the sender is still started, as the running program.
#[test]
fn a_server_whose_file_is_replaced_by_an_upgrade_still_delivers() {
    if !can_record() {
        return;
    }
    let server = server(Mode::Ok);
    let demo = Demo::sending_to(&server.url()).telemetry_on();
    let installed = demo.root().join("bin/demo");
    std::fs::create_dir_all(installed.parent().unwrap()).unwrap();
    std::fs::copy(common::DEMO, &installed).unwrap();
    let mut command = std::process::Command::new(&installed);
    demo.prepare(&mut command);
    let mut serve = command.arg("serve").spawn_server();
    // startup, invocation and the server's start, delivered while it runs; then its sender
    // has ended, so what follows needs a new one
    assert!(server.wait_for_events(3, PATIENCE));
    assert!(
        wait_until(PATIENCE, || demo.processes() == [serve.id()]),
        "{:?}",
        demo.processes()
    );

    std::fs::remove_file(&installed).unwrap();
    std::fs::copy(common::DEMO, &installed).unwrap();
    common::expire_flush_interval(&demo);
    drop(serve.stdin.take());
    assert!(serve.wait().unwrap().success());
    assert!(
        server.wait_for_events(4, PATIENCE),
        "the server's completion was not delivered: {} received; sender state {}",
        server.events().len(),
        sender_state_json(&demo)
    );
    wait_until_delivered(&demo);
}

/// A host whose `main` is `#[tokio::main]` (`demo-async`): its sender is the same program, so
/// `Telemetry::start` runs inside a tokio runtime there too, where the blocking HTTP client
/// cannot be built; the sender still delivers.
#[test]
fn a_host_with_an_async_main_delivers() {
    let server = server(Mode::Ok);
    let home = telemetry_core::testing::TestHome::new(&telemetry_schema::SCHEMA)
        .unwrap()
        .sending_to(server.url());
    let out = home
        .command(env!("CARGO_BIN_EXE_demo-async"))
        .arg("run")
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    assert_eq!(text(&out.stderr), "");
    let status = || {
        let out = home
            .command(env!("CARGO_BIN_EXE_demo"))
            .args(["telemetry", "status"])
            .output()
            .unwrap();
        text(&out.stdout)
    };
    assert!(server.wait_for_events(1, PATIENCE), "{}", status());
    assert!(home.wait_for_sender(PATIENCE));
    let arrived: Vec<String> = server.events().into_iter().map(|e| e.event).collect();
    assert_eq!(arrived, ["binary.startup"]);
}

/// `demo-async serve` in a test home sending to `server`, once it says it serves: the process,
/// the client's end of its stdin (dropping it stops the server) and the home.
fn async_server(server: &DevServer) -> (std::process::Child, std::process::ChildStdin, TestHome) {
    use std::io::BufRead;
    let home = TestHome::new(&telemetry_schema::SCHEMA)
        .unwrap()
        .sending_to(server.url());
    let mut child = home
        .command(env!("CARGO_BIN_EXE_demo-async"))
        .arg("serve")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let client_end = child.stdin.take().unwrap();
    let mut ready = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut ready)
        .unwrap();
    assert_eq!(ready, "serving\n");
    (child, client_end, home)
}

/// Waits for `child` to end quietly and successfully, then for its events: only the server's
/// start, delivered by the sender its end started. Returns when the child had ended.
fn ends_and_delivers_its_start(
    child: std::process::Child,
    server: &DevServer,
    home: &TestHome,
) -> Instant {
    let out = child.wait_with_output().unwrap();
    let ended = Instant::now();
    assert!(out.status.success(), "{out:?}");
    assert_eq!(text(&out.stderr), "");
    assert!(
        server.wait_for_events(1, PATIENCE),
        "nothing delivered after the server ended"
    );
    assert!(home.wait_for_sender(PATIENCE));
    let arrived: Vec<String> = server.events().into_iter().map(|e| e.event).collect();
    assert_eq!(arrived, ["mcp.server_started"]);
    ended
}

/// A server that shares its handle (an `Arc`) and ends with `std::process::exit` when
/// SIGTERM comes (`demo-async serve`), or SIGHUP (its terminal closed): exit skips
/// destructors, so what hands its events to a sender is `Telemetry::shutdown` through the
/// shared handle, called by the signal's task.
#[test]
fn a_server_stopped_by_sigterm_or_sighup_hands_its_events_to_a_sender() {
    for signal in ["-TERM", "-HUP"] {
        let server = server(Mode::Ok);
        // its client keeps stdin open until after the signal
        let (child, client_end, home) = async_server(&server);
        assert!(server.events().is_empty(), "nothing sent while it serves");
        let started = Instant::now();
        let killed = std::process::Command::new("kill")
            .args([signal, &child.id().to_string()])
            .status()
            .unwrap();
        assert!(killed.success());
        let ended = ends_and_delivers_its_start(child, &server, &home);
        assert!(
            ended - started < Duration::from_secs(3),
            "{signal}: stops promptly"
        );
        drop(client_end);
    }
}

/// The same server, stopped by its client closing stdin: `main` returns while the signal's
/// task still holds an `Arc` of the handle. The runtime drops that task with it, so the last
/// `Arc` drops the handle and its events go to a sender, as the README says.
#[test]
fn a_server_returning_from_an_async_main_hands_its_events_to_a_sender() {
    let server = server(Mode::Ok);
    let (child, client_end, home) = async_server(&server);
    drop(client_end);
    ends_and_delivers_its_start(child, &server, &home);
}

/// A server started while another command holds `telemetry.lock`, stopped (Ctrl-Z): it
/// answers as always, keeps its events beside the queue's head while the lock stays held (no
/// wait for it, nothing dropped), and hands everything to a sender once the lock is let go.
#[test]
fn a_server_records_on_while_a_held_lock_is_let_go() {
    use std::io::{BufRead, Write};
    if !can_record() {
        return;
    }
    let server = server(Mode::Ok);
    let demo = Demo::sending_to(&server.url()).telemetry_on();
    let lock = common::hold_state_lock(&demo.app_dir());

    let mut child = demo
        .command(&["serve"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // its answer comes after the start-up events were recorded
    let mut stdin = child.stdin.take().unwrap();
    writeln!(stdin, "{{\"method\":\"tools/list\"}}").unwrap();
    let mut answer = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut answer)
        .unwrap();
    assert!(answer.starts_with("{\"tools\":"), "{answer}");
    let while_held = demo.queue().len();
    assert!(while_held >= 1, "nothing recorded while the lock was held");

    lock.unlock().unwrap();
    drop(stdin);
    assert!(child.wait().unwrap().success());
    assert!(
        server.wait_for_events(while_held + 1, PATIENCE),
        "not every event was delivered; sender state {}",
        sender_state_json(&demo)
    );
    wait_until_delivered(&demo);
    let arrived: Vec<String> = server.events().into_iter().map(|e| e.event).collect();
    assert_eq!(arrived.len(), while_held + 1, "{arrived:?}");
    assert_eq!(
        arrived
            .iter()
            .filter(|e| *e == "cli.command_completed")
            .count(),
        1,
        "{arrived:?}"
    );
    assert_nothing_sent_twice(&server);
}

//! The send loop against a real HTTP server (the dev server on 127.0.0.1).

use std::time::{Duration, Instant};

use telemetry_devserver::{DevServer, DevServerOptions, Mode};
use uuid::Uuid;

use super::backoff::SenderState;
use super::outcome::FailureClass;
use super::sender::{RoundEnd, send_round};
use super::{Delivery, client};
use crate::limits::REQUEST_TIMEOUT;
use crate::paths::{StateDir, StateDirSource};
use crate::queue::Queue;
use crate::record::{ALIAS_EVENT, Record, now_rfc3339};
use crate::{PostHogHost, TelemetryConfig};

struct Setup {
    _home: tempfile::TempDir,
    queue: Queue,
    server: DevServer,
    client: posthog_rs::Client,
}

fn setup() -> Setup {
    setup_with(DevServerOptions::default())
}

fn setup_with(options: DevServerOptions) -> Setup {
    let home = tempfile::tempdir().unwrap();
    let dir = StateDir::new(home.path().join(".demo"), StateDirSource::Explicit);
    let server = DevServer::start(options).unwrap();
    let config = TelemetryConfig::builder(&crate::schema::DEMO)
        .project_key("phc_test")
        .host(PostHogHost::parse(&format!("{}/ingest", server.url())).unwrap())
        .environment(crate::Environment::empty())
        .on_terminal(false)
        .build()
        .unwrap();
    let client = client::build(&Delivery::resolve(&config)).unwrap();
    Setup {
        _home: home,
        queue: Queue::new(dir),
        server,
        client,
    }
}

fn event(n: u32) -> Record {
    record("test.ping", n, 0)
}

/// A record named `name` whose properties carry `pad` bytes of padding.
fn record(name: &str, n: u32, pad: usize) -> Record {
    Record::parse(&format!(
        r#"{{"uuid":"{}","event":"{name}","distinct_id":"anon-1","properties":{{"n":{n},"os":"linux","pad":"{}","$geoip_disable":true,"$process_person_profile":false}},"timestamp":"{}"}}"#,
        Uuid::now_v7(),
        "x".repeat(pad),
        now_rfc3339()
    ))
    .unwrap()
}

/// The uuids the server accepted, in the order it received them.
fn accepted(s: &Setup) -> Vec<Uuid> {
    s.server.events().iter().filter_map(|e| e.uuid).collect()
}

fn round(s: &Setup) -> super::sender::RoundReport {
    send_round(
        &s.queue,
        &s.client,
        Instant::now() + Duration::from_secs(30),
    )
}

fn uuids(records: &[Record]) -> Vec<Uuid> {
    records.iter().map(|r| r.uuid).collect()
}

#[test]
fn accepted_records_move_to_the_sent_log_with_their_exact_properties() {
    let s = setup();
    let records: Vec<Record> = (0..3).map(event).collect();
    s.queue.append(&records).unwrap();
    let report = round(&s);
    assert_eq!((report.sent, report.end), (3, RoundEnd::Empty));
    assert!(s.queue.read_all().unwrap().records.is_empty());
    let sent = s.queue.recently_sent().unwrap();
    assert_eq!(
        sent.iter().map(|e| e.record.clone()).collect::<Vec<_>>(),
        records
    );
    let received = s.server.events();
    assert_eq!(received.len(), 3);
    for (got, record) in received.iter().zip(&records) {
        let recorded: serde_json::Value = serde_json::from_str(&record.json).unwrap();
        assert_eq!(got.uuid, Some(record.uuid));
        assert_eq!(got.event, record.event);
        assert_eq!(got.distinct_id, record.distinct_id);
        assert_eq!(
            serde_json::Value::Object(got.properties.clone()),
            recorded["properties"],
            "the properties on the wire are the record's"
        );
        let sent_at = chrono::DateTime::parse_from_rfc3339(got.timestamp.as_deref().unwrap());
        let recorded_at = chrono::DateTime::parse_from_rfc3339(&record.timestamp);
        assert_eq!(sent_at.unwrap(), recorded_at.unwrap(), "same instant");
        assert_eq!(got.path, "/ingest/batch/");
    }
    let state = SenderState::read(s.queue.dir());
    assert!(state.last_success_at.is_some());
    assert_eq!(s.queue.stats().unwrap().sent, 3);
}

#[test]
fn a_batch_ends_after_an_alias_and_nothing_follows_a_failed_alias() {
    let s = setup();
    let before = event(1);
    let alias = Record::alias("anon-1", "user-42");
    let after: Vec<Record> = (2..4).map(event).collect();
    s.queue.append(&[before.clone(), alias.clone()]).unwrap();
    s.queue.append(&after).unwrap();

    // the alias batch fails: nothing after it is sent in this run
    s.server.set_mode(Mode::Status(503));
    let report = round(&s);
    assert!(matches!(report.end, RoundEnd::Failed(f) if f.class == FailureClass::ServerError));
    let requests = s.server.requests();
    assert_eq!(requests.len(), 1, "one attempt within the run");
    for request in &requests {
        assert_eq!(request.event_uuids, uuids(&[before.clone(), alias.clone()]));
    }
    assert_eq!(s.queue.read_all().unwrap().records.len(), 4);
    let state = SenderState::read(s.queue.dir());
    assert_eq!(state.consecutive_failures, 1);
    assert!(!state.allows_attempt_now());

    // the next run: the alias batch is answered before the rest is sent
    s.server.set_mode(Mode::Ok);
    s.server.clear();
    let report = round(&s);
    assert_eq!((report.sent, report.end), (4, RoundEnd::Empty));
    let requests = s.server.requests();
    assert_eq!(requests.len(), 2);
    assert_eq!(requests[0].event_uuids, uuids(&[before, alias]));
    assert_eq!(requests[0].status, Some(200));
    assert_eq!(requests[1].event_uuids, uuids(&after));
    let state = SenderState::read(s.queue.dir());
    assert_eq!(state.consecutive_failures, 0);
    assert!(state.allows_attempt_now());
}

#[test]
fn refused_records_are_dropped_and_counted_by_reason() {
    let s = setup();
    s.queue.append(&[event(1), event(2)]).unwrap();
    s.server.set_mode(Mode::PayloadTooLarge);
    let report = round(&s);
    assert_eq!((report.rejected, report.end), (2, RoundEnd::Empty));
    // the pair, then each record alone; none is retried after being refused alone
    assert_eq!(s.server.requests().len(), 3);
    assert!(s.queue.read_all().unwrap().records.is_empty());
    let stats = s.queue.stats().unwrap();
    assert_eq!(stats.rejected, 2);
    assert_eq!(stats.rejected_by["too_large"], 2);
    assert!(SenderState::read(s.queue.dir()).allows_attempt_now());

    s.queue.append(&[event(3)]).unwrap();
    s.server.set_mode(Mode::Unauthorized);
    round(&s);
    assert_eq!(s.queue.stats().unwrap().rejected_by["unauthorized"], 1);
}

#[test]
fn not_found_and_closed_connections_are_retried_later() {
    let s = setup();
    s.queue.append(&[event(1)]).unwrap();
    for (mode, class) in [
        (Mode::Status(404), FailureClass::NotFound),
        (Mode::CloseConnection, FailureClass::Network),
        (
            Mode::TooManyRequests {
                retry_after_secs: Some(1),
            },
            FailureClass::RateLimited,
        ),
    ] {
        s.server.set_mode(mode);
        let report = round(&s);
        assert!(
            matches!(&report.end, RoundEnd::Failed(f) if f.class == class),
            "{report:?}"
        );
        assert_eq!(s.queue.read_all().unwrap().records.len(), 1);
    }
    let state = SenderState::read(s.queue.dir());
    assert_eq!(state.consecutive_failures, 3);
    let wait = state.next_attempt().unwrap() - chrono::Utc::now();
    assert!(
        wait > chrono::Duration::minutes(4),
        "429 waits longer: {wait}"
    );
}

#[test]
fn a_round_ends_at_its_last_start() {
    let s = setup();
    s.queue.append(&[event(1)]).unwrap();
    let report = send_round(&s.queue, &s.client, Instant::now());
    assert_eq!(report.end, RoundEnd::OutOfTime);
    assert!(s.server.requests().is_empty());
}

#[test]
fn a_413_splits_the_batch_until_the_parts_fit_and_drops_only_a_record_too_large_alone() {
    // the server takes at most 4000 bytes of body: one padded record fits, eight do not,
    // and the big one never does
    let s = setup_with(DevServerOptions::default().max_body_bytes(4000));
    let mut records: Vec<Record> = (0..4).map(|n| record("test.ping", n, 1000)).collect();
    let big = record("test.big", 99, 6000);
    records.push(big.clone());
    records.extend((4..8).map(|n| record("test.ping", n, 1000)));
    s.queue.append(&records).unwrap();

    let report = round(&s);
    assert_eq!(
        (report.sent, report.rejected, report.end),
        (8, 1, RoundEnd::Empty)
    );
    let expected: Vec<Uuid> = records
        .iter()
        .filter(|r| r.uuid != big.uuid)
        .map(|r| r.uuid)
        .collect();
    assert_eq!(accepted(&s), expected, "each once, in queue order");
    assert!(s.server.requests().len() > 3, "the batch was split");
    assert!(s.queue.read_all().unwrap().records.is_empty());
    let stats = s.queue.stats().unwrap();
    assert_eq!(stats.rejected, 1);
    assert_eq!(stats.rejected_by["too_large"], 1);
    assert!(SenderState::read(s.queue.dir()).allows_attempt_now());
}

#[test]
fn a_400_isolates_the_bad_records_and_the_alias_still_goes_last() {
    let s = setup();
    let bad_1 = record("test.bad", 2, 0);
    let bad_2 = record("test.bad", 5, 0);
    let alias = Record::alias("anon-1", "user-42");
    let mut records: Vec<Record> = (0..2).map(event).collect();
    records.push(bad_1.clone());
    records.extend((3..5).map(event));
    records.push(bad_2.clone());
    records.extend((6..9).map(event));
    records.push(alias.clone());
    let after: Vec<Record> = (10..12).map(event).collect();
    s.queue.append(&records).unwrap();
    s.queue.append(&after).unwrap();
    s.server.set_mode(Mode::RejectEvent("test.bad".into()));

    let report = round(&s);
    assert_eq!(
        (report.sent, report.rejected, report.end),
        (10, 2, RoundEnd::Empty)
    );
    let good: Vec<Uuid> = records
        .iter()
        .chain(&after)
        .filter(|r| r.event != "test.bad")
        .map(|r| r.uuid)
        .collect();
    // queue order: the alias after every record before it, the rest after the alias
    assert_eq!(accepted(&s), good);
    let requests = s.server.requests();
    let alias_request = requests
        .iter()
        .position(|r| r.status == Some(200) && r.event_uuids.contains(&alias.uuid))
        .unwrap();
    for later in &requests[alias_request + 1..] {
        assert!(
            later
                .event_uuids
                .iter()
                .all(|u| after.iter().any(|r| r.uuid == *u))
        );
    }
    // the bad records were each refused alone, once, and are gone
    for bad in [&bad_1, &bad_2] {
        let alone = requests
            .iter()
            .filter(|r| r.event_uuids == [bad.uuid])
            .count();
        assert_eq!(alone, 1);
    }
    assert!(s.queue.read_all().unwrap().records.is_empty());
    let stats = s.queue.stats().unwrap();
    assert_eq!(stats.rejected, 2);
    assert_eq!(stats.rejected_by["bad_request"], 2);
}

#[test]
fn a_refused_alias_found_by_bisection_stops_the_round() {
    let s = setup();
    let before = event(1);
    let alias = Record::alias("anon-1", "user-42");
    let after = event(2);
    s.queue.append(&[before.clone(), alias]).unwrap();
    s.queue.append(std::slice::from_ref(&after)).unwrap();
    s.server.set_mode(Mode::RejectEvent(ALIAS_EVENT.into()));
    let report = round(&s);
    assert_eq!(
        (report.sent, report.rejected, report.end),
        (1, 1, RoundEnd::AliasRefused)
    );
    assert_eq!(accepted(&s), [before.uuid]);
    assert_eq!(uuids(&s.queue.read_all().unwrap().records), [after.uuid]);
}

#[test]
fn a_slow_server_gets_each_batch_once_within_a_run() {
    // slower than the former 2 s timeout, within the current one
    let s = setup();
    let records: Vec<Record> = (0..3).map(event).collect();
    s.queue.append(&records).unwrap();
    let delay = Duration::from_millis(2500);
    assert!(delay < REQUEST_TIMEOUT);
    s.server.set_mode(Mode::Slow(delay));
    let report = round(&s);
    assert_eq!((report.sent, report.end), (3, RoundEnd::Empty));
    assert_eq!(s.server.requests().len(), 1);
    for (uuid, deliveries) in s.server.events_by_uuid() {
        assert_eq!(deliveries.len(), 1, "{uuid} received more than once");
    }
    assert_eq!(accepted(&s), uuids(&records));
}

#[test]
fn a_server_slower_than_the_timeout_is_not_sent_the_batch_again_within_the_run() {
    // it stores the batch after the client stopped waiting
    let s = setup();
    let records: Vec<Record> = (0..3).map(event).collect();
    s.queue.append(&records).unwrap();
    s.server
        .set_mode(Mode::Slow(REQUEST_TIMEOUT + Duration::from_millis(500)));
    let report = round(&s);
    assert!(
        matches!(&report.end, RoundEnd::Failed(f) if f.class == FailureClass::Network),
        "{report:?}"
    );
    assert!(s.server.wait_for_events(3, Duration::from_secs(30)));
    assert_eq!(s.server.requests().len(), 1, "one attempt within the run");
    for (uuid, deliveries) in s.server.events_by_uuid() {
        assert_eq!(deliveries.len(), 1, "{uuid} received more than once");
    }
    // kept for a later run (PostHog de-duplicates on the uuid)
    assert_eq!(s.queue.read_all().unwrap().records.len(), 3);
}

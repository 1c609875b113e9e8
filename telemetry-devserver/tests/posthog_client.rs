//! The real posthog-rs 0.30 blocking client, over real HTTP on 127.0.0.1,
//! against the dev server: what it sends, and how it sees each failure mode.

mod support;

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use posthog_rs::{CaptureCompression, Client, ClientOptionsBuilder, Error, Event};
use serde_json::json;
use support::{SOON, server};
use telemetry_devserver::{DevServer, DevServerOptions, Mode, RecordedRequest};
use uuid::Uuid;

const KEY: &str = "phc_devserver_test";

/// A client the way a CLI would configure it.
fn cli_client(host: &str, configure: impl FnOnce(&mut ClientOptionsBuilder)) -> Client {
    let mut builder = ClientOptionsBuilder::default();
    builder
        .api_key(KEY.to_string())
        .host(host.to_string())
        .is_server(false)
        .disable_geoip(true)
        .request_timeout_seconds(5);
    configure(&mut builder);
    posthog_rs::client(builder.build().expect("options"))
}

fn event(name: &str, distinct_id: &str) -> (Uuid, Event) {
    let uuid = Uuid::new_v4();
    let mut event = Event::new(name, distinct_id);
    event.set_uuid(uuid);
    (uuid, event)
}

fn statuses(requests: &[RecordedRequest]) -> Vec<Option<u16>> {
    requests.iter().map(|request| request.status).collect()
}

#[test]
fn capture_batch_immediate_is_received_with_uuids_and_properties() {
    let server = server();
    let client = cli_client(&server.url(), |_| {});

    let (uuid_a, mut a) = event("cli.command_completed", "anon-1");
    a.insert_prop("command", "build").unwrap();
    a.insert_prop("duration_ms", 1234).unwrap();
    a.insert_prop("success", true).unwrap();
    a.insert_prop("flags", vec!["a", "b"]).unwrap();
    let (uuid_b, mut b) = event("binary.startup", "anon-1");
    let when = chrono_like_timestamp();
    b.set_timestamp(when).unwrap();

    let summary = client
        .capture_batch_immediate(vec![a, b], false)
        .expect("accepted");
    assert_eq!(summary.submitted(), 2);

    // The 200 is written after recording, so the events are already there.
    let events = server.events();
    assert_eq!(events.len(), 2);
    let by_uuid = server.events_by_uuid();
    assert_eq!(by_uuid.len(), 2);
    assert_eq!(by_uuid[&uuid_a].len(), 1);
    assert_eq!(by_uuid[&uuid_b].len(), 1);

    let a = &by_uuid[&uuid_a][0];
    assert_eq!(a.event, "cli.command_completed");
    assert_eq!(a.distinct_id, "anon-1");
    assert_eq!(a.properties["command"], json!("build"));
    assert_eq!(a.properties["duration_ms"], json!(1234));
    assert_eq!(a.properties["success"], json!(true));
    assert_eq!(a.properties["flags"], json!(["a", "b"]));
    assert_eq!(a.api_key, KEY);
    assert!(!a.historical_migration);
    assert!(a.sent_at.is_some(), "posthog-rs sends sent_at");
    assert_eq!(a.path, "/batch/");
    assert_eq!(a.user_agent.as_deref(), Some("posthog-rs/0.30.0"));
    assert_eq!(a.content_type.as_deref(), Some("application/json"));
    assert!(!a.compressed);
    // capture_batch_immediate does not stamp a timestamp: it is sent as null
    // unless the event set one.
    assert_eq!(a.raw["timestamp"], json!(null));
    assert!(a.timestamp.is_none());
    let b = &by_uuid[&uuid_b][0];
    assert!(
        b.timestamp
            .as_deref()
            .is_some_and(|t| t.starts_with("2024-05-06T07:08:09"))
    );

    // What posthog-rs adds to every event, with is_server(false) and
    // disable_geoip(true): no `$is_server`, `$geoip_disable: true`.
    let keys: BTreeSet<&str> = a.properties.keys().map(String::as_str).collect();
    let added: BTreeSet<&str> = keys
        .iter()
        .copied()
        .filter(|key| key.starts_with('$'))
        .collect();
    assert_eq!(
        added,
        BTreeSet::from([
            "$geoip_disable",
            "$lib",
            "$lib_version",
            "$lib_version__major",
            "$lib_version__minor",
            "$lib_version__patch",
            "$os",
            "$os_version",
        ])
    );
    assert_eq!(a.properties["$lib"], json!("posthog-rs"));
    assert_eq!(a.properties["$lib_version"], json!("0.30.0"));
    assert_eq!(a.properties["$geoip_disable"], json!(true));

    // The wire shape of one event: exactly these members.
    let members: BTreeSet<&str> = a
        .raw
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        members,
        BTreeSet::from(["uuid", "event", "distinct_id", "properties", "timestamp"])
    );

    let requests = server.requests();
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0].method, "POST");
    assert_eq!(requests[0].status, Some(200));
    assert_eq!(requests[0].accepted_events, 2);
    assert_eq!(requests[0].event_uuids, vec![uuid_a, uuid_b]);
}

fn chrono_like_timestamp() -> chrono::DateTime<chrono::Utc> {
    "2024-05-06T07:08:09Z".parse().unwrap()
}

#[test]
fn default_options_mark_events_as_server_side() {
    let server = server();
    let client = posthog_rs::client((KEY, server.url().as_str()));
    client
        .capture_immediate(Event::new("e", "d"))
        .expect("accepted");
    let events = server.events();
    assert_eq!(events[0].properties["$is_server"], json!(true));
    assert!(!events[0].properties.contains_key("$geoip_disable"));
}

#[test]
fn before_send_sees_and_can_remove_what_posthog_rs_adds() {
    let server = server();
    let client = cli_client(&server.url(), |builder| {
        builder.before_send(|mut event| {
            let added: Vec<String> = event
                .properties()
                .keys()
                .filter(|key| key.starts_with('$') && key.as_str() != "$geoip_disable")
                .cloned()
                .collect();
            for key in added {
                event.remove_prop(&key);
            }
            Some(event)
        });
    });
    let (uuid, mut e) = event("e", "d");
    e.insert_prop("kept", 1).unwrap();
    client
        .capture_batch_immediate(vec![e], false)
        .expect("accepted");

    let received = &server.events_by_uuid()[&uuid][0];
    let keys: BTreeSet<&str> = received.properties.keys().map(String::as_str).collect();
    assert_eq!(keys, BTreeSet::from(["$geoip_disable", "kept"]));
}

#[test]
fn before_send_returning_none_sends_nothing() {
    let server = server();
    let client = cli_client(&server.url(), |builder| {
        builder.before_send(|_| None);
    });
    let summary = client
        .capture_batch_immediate(vec![Event::new("e", "d")], false)
        .expect("nothing to send is not an error");
    assert_eq!(summary.submitted(), 0);
    assert!(server.requests().is_empty());
}

#[test]
fn fire_and_forget_capture_batch_arrives_after_flush_with_timestamps() {
    let server = server();
    let client = cli_client(&server.url(), |_| {});
    let (uuid_a, a) = event("a", "d");
    let (uuid_b, b) = event("b", "d");
    client.capture_batch(vec![a, b], false);
    client.flush();
    assert!(server.wait_for_events(2, SOON));
    let by_uuid = server.events_by_uuid();
    for uuid in [uuid_a, uuid_b] {
        // The background worker stamps the enqueue time.
        assert!(by_uuid[&uuid][0].timestamp.is_some());
    }

    let (uuid_h, h) = event("historical", "d");
    client.capture_batch(vec![h], true);
    client.flush();
    assert!(server.wait_for_events(3, SOON));
    assert!(server.events_by_uuid()[&uuid_h][0].historical_migration);
    client.shutdown();
}

#[test]
fn gzip_bodies_are_accepted() {
    let server = server();
    let client = cli_client(&server.url(), |builder| {
        builder.capture_compression(CaptureCompression::Gzip);
    });
    let (uuid, mut e) = event("zipped", "d");
    e.insert_prop("text", "x".repeat(10_000)).unwrap();
    client
        .capture_batch_immediate(vec![e], false)
        .expect("accepted");

    let received = &server.events_by_uuid()[&uuid][0];
    assert!(received.compressed);
    assert_eq!(received.content_encoding.as_deref(), Some("gzip"));
    assert_eq!(received.compression.as_deref(), Some("gzip"));
    assert_eq!(received.properties["text"], json!("x".repeat(10_000)));
    let request = &server.requests()[0];
    assert_eq!(request.query.as_deref(), Some("compression=gzip"));
    assert!(
        request.body_len < 1_000,
        "the body was compressed on the wire"
    );
}

#[test]
fn a_path_prefix_is_served() {
    let server = server();
    let client = cli_client(&format!("{}/ingest", server.url()), |_| {});
    client
        .capture_immediate(Event::new("e", "d"))
        .expect("accepted");
    assert_eq!(server.events()[0].path, "/ingest/batch/");
}

#[test]
fn invalid_events_get_400_and_are_not_recorded() {
    let server = server();
    let client = cli_client(&server.url(), |_| {});
    let good = Event::new("fine", "d");
    let no_distinct_id = Event::new("e", "");
    let result = client.capture_batch_immediate(vec![good, no_distinct_id], false);
    assert!(matches!(result, Err(Error::BadRequest(_))), "{result:?}");
    let no_name = Event::new("", "d");
    let result = client.capture_batch_immediate(vec![no_name], false);
    assert!(matches!(result, Err(Error::BadRequest(_))), "{result:?}");

    assert!(
        server.events().is_empty(),
        "a refused batch records nothing"
    );
    assert_eq!(statuses(&server.requests()), vec![Some(400), Some(400)]);
}

#[test]
fn status_503_is_retried_three_times_then_fails_and_retries_reuse_uuids() {
    let server = server();
    let client = cli_client(&server.url(), |_| {});
    server.set_mode(Mode::Status(503));
    let (uuid, e) = event("e", "d");
    let result = client.capture_batch_immediate(vec![e], false);
    assert!(
        matches!(result, Err(Error::ServerError { status: 503, .. })),
        "{result:?}"
    );
    let requests = server.requests();
    assert_eq!(statuses(&requests), vec![Some(503); 3]);
    assert!(requests.iter().all(|r| r.event_uuids == vec![uuid]));
    assert!(server.events().is_empty());

    // One failure, then success: the retry delivers the same uuid once.
    server.clear();
    server.set_mode(Mode::Ok);
    server.set_mode_for(Mode::Status(503), 1);
    let (uuid, e) = event("e", "d");
    client
        .capture_batch_immediate(vec![e], false)
        .expect("retried");
    assert_eq!(statuses(&server.requests()), vec![Some(503), Some(200)]);
    assert_eq!(server.events_by_uuid()[&uuid].len(), 1);
}

#[test]
fn status_429_is_retried_only_with_retry_after() {
    let server = server();
    let client = cli_client(&server.url(), |_| {});

    server.set_mode_for(
        Mode::TooManyRequests {
            retry_after_secs: Some(1),
        },
        1,
    );
    let started = Instant::now();
    client
        .capture_immediate(Event::new("e", "d"))
        .expect("retried after Retry-After");
    assert!(
        started.elapsed() >= Duration::from_millis(900),
        "waited Retry-After"
    );
    let requests = server.requests();
    assert_eq!(statuses(&requests), vec![Some(429), Some(200)]);
    assert_eq!(
        requests[0].header("retry-after"),
        None,
        "a request header, not ours"
    );
    assert_eq!(server.events().len(), 1);

    server.clear();
    server.set_mode(Mode::TooManyRequests {
        retry_after_secs: None,
    });
    let result = client.capture_immediate(Event::new("e", "d"));
    assert!(matches!(result, Err(Error::RateLimit)), "{result:?}");
    assert_eq!(statuses(&server.requests()), vec![Some(429)]);
    assert!(server.events().is_empty());
}

#[test]
fn status_400_413_401_are_terminal() {
    let server = server();
    let client = cli_client(&server.url(), |_| {});
    type IsExpected = fn(&Error) -> bool;
    let cases: [(Mode, IsExpected); 3] = [
        (Mode::BadRequest, |e| matches!(e, Error::BadRequest(_))),
        (Mode::PayloadTooLarge, |e| matches!(e, Error::BadRequest(_))),
        (Mode::Unauthorized, |e| matches!(e, Error::Unauthorized)),
    ];
    for (mode, expected) in cases {
        server.clear();
        server.set_mode(mode.clone());
        let result = client.capture_immediate(Event::new("e", "d"));
        let error = result.expect_err("refused");
        assert!(expected(&error), "{mode}: {error:?}");
        let requests = server.requests();
        assert_eq!(requests.len(), 1, "{mode} is not retried");
        assert_eq!(requests[0].mode, mode);
        assert!(server.events().is_empty());
    }
}

#[test]
fn hang_makes_a_short_timeout_client_time_out() {
    let server = server();
    server.set_mode(Mode::Hang);
    let client = cli_client(&server.url(), |builder| {
        builder
            .request_timeout_seconds(1)
            .max_capture_attempts(1u32);
    });
    let started = Instant::now();
    let result = client.capture_immediate(Event::new("e", "d"));
    assert!(matches!(result, Err(Error::Connection(_))), "{result:?}");
    assert!(started.elapsed() < SOON);
    let requests = server.requests();
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0].status, None);
    assert!(server.events().is_empty());
}

#[test]
fn close_connection_is_a_retried_transport_error() {
    let server = server();
    server.set_mode(Mode::CloseConnection);
    let client = cli_client(&server.url(), |_| {});
    let result = client.capture_immediate(Event::new("e", "d"));
    assert!(matches!(result, Err(Error::Connection(_))), "{result:?}");
    let requests = server.requests();
    assert_eq!(statuses(&requests), vec![None; 3], "three attempts");
    assert!(server.events().is_empty());
}

#[test]
fn slow_answers_are_accepted_and_a_timed_out_one_is_still_recorded() {
    let server = server();
    server.set_mode(Mode::Slow(Duration::from_millis(300)));
    let client = cli_client(&server.url(), |_| {});
    client
        .capture_immediate(Event::new("e", "d"))
        .expect("slow but fine");
    assert_eq!(server.events().len(), 1);

    server.clear();
    server.set_mode(Mode::Slow(Duration::from_secs(3)));
    let impatient = cli_client(&server.url(), |builder| {
        builder
            .request_timeout_seconds(1)
            .max_capture_attempts(1u32);
    });
    let (uuid, e) = event("e", "d");
    let result = impatient.capture_batch_immediate(vec![e], false);
    assert!(matches!(result, Err(Error::Connection(_))), "{result:?}");
    // The server still stores it: the client cannot tell, and a retry would
    // deliver the same uuid twice.
    assert!(server.wait_for_events(1, SOON));
    assert_eq!(server.events()[0].uuid, Some(uuid));
}

#[test]
fn dropping_the_server_while_a_client_hangs_on_it_is_prompt() {
    let server = server();
    server.set_mode(Mode::Hang);
    let url = server.url();
    let client_thread = std::thread::spawn(move || {
        let client = cli_client(&url, |builder| {
            builder
                .request_timeout_seconds(30)
                .max_capture_attempts(1u32);
        });
        let started = Instant::now();
        let result = client.capture_immediate(Event::new("e", "d"));
        (result.map(|summary| summary.submitted()), started.elapsed())
    });
    assert!(server.wait_for_requests(1, SOON), "the request is held");
    let started = Instant::now();
    drop(server);
    assert!(started.elapsed() < SOON, "drop does not wait for the hang");

    let (result, elapsed) = client_thread.join().unwrap();
    assert!(matches!(result, Err(Error::Connection(_))), "{result:?}");
    assert!(elapsed < Duration::from_secs(25), "closed, not timed out");
}

#[test]
fn bodies_over_the_limit_get_413() {
    // PostHog's real 20 MB limit: 30 events of 700 kB each (each under the
    // 1 MB event limit).
    let server = server();
    let client = cli_client(&server.url(), |builder| {
        builder.request_timeout_seconds(30);
    });
    let chunk = "x".repeat(700_000);
    let events: Vec<Event> = (0..30)
        .map(|i| {
            let mut e = Event::new("big", "d");
            e.insert_prop("chunk", &chunk).unwrap();
            e.insert_prop("i", i).unwrap();
            e
        })
        .collect();
    let result = client.capture_batch_immediate(events, false);
    assert!(matches!(result, Err(Error::BadRequest(_))), "{result:?}");
    assert_eq!(statuses(&server.requests()), vec![Some(413)]);
    assert!(server.events().is_empty());

    // One event over 1 MB.
    server.clear();
    let mut e = Event::new("big", "d");
    e.insert_prop("chunk", "y".repeat(1_100_000)).unwrap();
    let result = client.capture_immediate(e);
    assert!(matches!(result, Err(Error::BadRequest(_))), "{result:?}");
    assert_eq!(statuses(&server.requests()), vec![Some(413)]);

    // A configured lower limit, compressed body: the limit holds after
    // decompression too.
    let small = DevServer::start(DevServerOptions::default().max_body_bytes(5_000)).unwrap();
    let client = cli_client(&small.url(), |builder| {
        builder.capture_compression(CaptureCompression::Gzip);
    });
    let mut e = Event::new("e", "d");
    e.insert_prop("text", "z".repeat(20_000)).unwrap();
    let result = client.capture_immediate(e);
    assert!(matches!(result, Err(Error::BadRequest(_))), "{result:?}");
    let requests = small.requests();
    assert_eq!(statuses(&requests), vec![Some(413)]);
    assert!(requests[0].body_len < 5_000, "small on the wire");
}

#[test]
fn set_mode_for_applies_to_the_next_requests_only() {
    let server = server();
    let client = cli_client(&server.url(), |_| {});
    server.set_mode_for(Mode::BadRequest, 2);
    assert!(client.capture_immediate(Event::new("e", "d")).is_err());
    assert!(client.capture_immediate(Event::new("e", "d")).is_err());
    client
        .capture_immediate(Event::new("e", "d"))
        .expect("back to ok");
    assert_eq!(
        statuses(&server.requests()),
        vec![Some(400), Some(400), Some(200)]
    );
}

#[test]
fn other_statuses_and_refused_connections_as_posthog_rs_reports_them() {
    let server = server();
    let client = cli_client(&server.url(), |_| {});
    // 408 is retried like 5xx, but its final error is `Connection`, the same
    // variant as a transport error; so are 403 and 404 (not retried).
    server.set_mode(Mode::Status(408));
    let result = client.capture_immediate(Event::new("e", "d"));
    assert!(
        matches!(&result, Err(Error::Connection(m)) if m.starts_with("Unexpected HTTP status 408")),
        "{result:?}"
    );
    assert_eq!(server.requests().len(), 3);
    for code in [403, 404] {
        server.clear();
        server.set_mode(Mode::Status(code));
        let result = client.capture_immediate(Event::new("e", "d"));
        let prefix = format!("Unexpected HTTP status {code}");
        assert!(
            matches!(&result, Err(Error::Connection(m)) if m.starts_with(&prefix)),
            "{result:?}"
        );
        assert_eq!(server.requests().len(), 1);
    }
    server.clear();
    server.set_mode(Mode::Status(402));
    let result = client.capture_immediate(Event::new("e", "d"));
    assert!(
        matches!(result, Err(Error::BillingLimitExceeded(_))),
        "{result:?}"
    );

    // Nothing listening: a transport error, after three attempts.
    let url = server.url();
    drop(server);
    let client = cli_client(&url, |_| {});
    let result = client.capture_immediate(Event::new("e", "d"));
    assert!(
        matches!(&result, Err(Error::Connection(m)) if !m.starts_with("Unexpected")),
        "{result:?}"
    );
}

#[test]
fn dropping_a_fire_and_forget_client_on_a_hanging_server_is_bounded_by_its_options() {
    // With the defaults (30 s request timeout, 30 s shutdown timeout) this drop
    // takes 30 s; a CLI must shorten both.
    let server = server();
    server.set_mode(Mode::Hang);
    let client = cli_client(&server.url(), |builder| {
        builder
            .request_timeout_seconds(2)
            .shutdown_timeout_ms(1_000u64);
    });
    client.capture(Event::new("e", "d"));
    let started = Instant::now();
    drop(client);
    assert!(started.elapsed() < SOON, "{:?}", started.elapsed());
    assert_eq!(
        server.requests().len(),
        1,
        "the drop attempted delivery once"
    );
    assert!(server.events().is_empty());
}

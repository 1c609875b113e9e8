//! Edge cases posthog-rs does not produce, driven with a raw `TcpStream`.

mod support;

use std::io::{Read, Write};
use std::net::TcpListener;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use support::{SOON, connect, exchange, gzip, post_bytes, post_json, read_to_end, server};
use telemetry_devserver::{Activity, DevServer, DevServerOptions, Error, Mode};

fn one_event() -> Value {
    json!({"event": "e", "distinct_id": "d", "properties": {"p": 1},
           "uuid": "01890a5d-ac96-774b-bcce-b302099a8057"})
}

fn batch() -> Value {
    json!({"api_key": "k", "sent_at": "2024-01-01T00:00:00Z", "batch": [one_event()]})
}

#[test]
fn accepted_batch_answers_status_1() {
    let server = server();
    let response = post_json(server.addr(), "/batch/", &batch());
    assert_eq!(response.status, 200);
    assert_eq!(response.json(), json!({"status": 1}));
    assert_eq!(response.header("content-type"), Some("application/json"));
    let events = server.events();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].sent_at.as_deref(), Some("2024-01-01T00:00:00Z"));
    assert_eq!(events[0].raw, one_event());
}

#[test]
fn every_capture_route_and_prefix_is_served() {
    let server = server();
    for path in [
        "/batch/",
        "/batch",
        "/capture/",
        "/i/v0/e/",
        "/e/",
        "/track/",
        "/ingest/batch/",
        "/a/b/e",
    ] {
        assert_eq!(
            post_json(server.addr(), path, &batch()).status,
            200,
            "{path}"
        );
    }
    assert_eq!(server.events().len(), 8);
}

#[test]
fn single_event_and_array_bodies_are_accepted() {
    let server = server();
    let single = json!({"api_key": "k", "event": "one", "distinct_id": 7});
    assert_eq!(post_json(server.addr(), "/capture/", &single).status, 200);
    let array = json!([{"event": "two", "distinct_id": "d", "api_key": "k"}]);
    assert_eq!(post_json(server.addr(), "/e/", &array).status, 200);
    let token = json!({"token": "k2", "batch": [one_event()]});
    assert_eq!(post_json(server.addr(), "/batch/", &token).status, 200);
    let events = server.events();
    assert_eq!(events[0].distinct_id, "7");
    assert_eq!(events[1].api_key, "k");
    assert_eq!(events[2].api_key, "k2");
}

#[test]
fn validation_errors_are_refused_with_json_and_not_recorded() {
    let server = server();
    let event = one_event();
    let cases: Vec<(Value, u16, &str)> = vec![
        (json!({"batch": [event.clone()]}), 401, "no api_key"),
        (
            json!({"api_key": "  ", "batch": [event.clone()]}),
            401,
            "blank api_key",
        ),
        (json!({"api_key": "k", "batch": []}), 400, "empty batch"),
        (json!({"api_key": "k"}), 400, "no events"),
        (
            json!({"api_key": "k", "batch": {}}),
            400,
            "batch not an array",
        ),
        (
            json!({"api_key": "k", "batch": [{"distinct_id": "d"}]}),
            400,
            "no event name",
        ),
        (
            json!({"api_key": "k", "batch": [{"event": "e"}]}),
            400,
            "no distinct_id",
        ),
        (
            json!({"api_key": "k", "batch": [{"event": "e", "distinct_id": ""}]}),
            400,
            "empty distinct_id",
        ),
        (
            json!({"api_key": "k", "batch": [{"event": "e", "distinct_id": null}]}),
            400,
            "null distinct_id",
        ),
        (
            json!({"api_key": "k", "batch": [{"event": "e", "distinct_id": "d", "uuid": "x"}]}),
            400,
            "bad uuid",
        ),
        (
            json!({"api_key": "k", "batch": [{"event": "e", "distinct_id": "d", "properties": "p"}]}),
            400,
            "properties",
        ),
        (
            json!({"api_key": "k", "batch": [event.clone(), {"event": "e"}]}),
            400,
            "one bad event refuses all",
        ),
    ];
    for (body, status, what) in &cases {
        let response = post_json(server.addr(), "/batch/", body);
        assert_eq!(response.status, *status, "{what}");
        let error = response.json();
        assert!(
            error["detail"].as_str().is_some_and(|d| !d.is_empty()),
            "{what}: {error}"
        );
        assert!(error["type"].is_string(), "{what}: {error}");
    }
    let response = exchange(server.addr(), &post_bytes("/batch/", "", b"{not json")).unwrap();
    assert_eq!(response.status, 400);

    assert!(server.events().is_empty());
    let requests = server.requests();
    assert_eq!(requests.len(), cases.len() + 1);
    assert!(
        requests
            .iter()
            .all(|r| r.accepted_events == 0 && r.error.is_some())
    );
    // The refused request still says which uuids it carried.
    assert!(requests.last().unwrap().event_uuids.is_empty());
    assert_eq!(
        requests[cases.len() - 1].event_uuids,
        vec![
            "01890a5d-ac96-774b-bcce-b302099a8057"
                .parse::<uuid::Uuid>()
                .unwrap()
        ]
    );
}

#[test]
fn gzip_by_header_by_query_and_deflate() {
    let server = server();
    let body = gzip(batch().to_string().as_bytes());
    let header = post_bytes("/batch/", "Content-Encoding: gzip\r\n", &body);
    assert_eq!(exchange(server.addr(), &header).unwrap().status, 200);
    let query = post_bytes("/batch/?compression=gzip-js&ver=1", "", &body);
    assert_eq!(exchange(server.addr(), &query).unwrap().status, 200);

    let mut zlib = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    zlib.write_all(batch().to_string().as_bytes()).unwrap();
    let deflate = post_bytes(
        "/batch/",
        "Content-Encoding: deflate\r\n",
        &zlib.finish().unwrap(),
    );
    assert_eq!(exchange(server.addr(), &deflate).unwrap().status, 200);

    let events = server.events();
    assert_eq!(events.len(), 3);
    assert!(events.iter().all(|e| e.compressed));
    assert_eq!(events[1].compression.as_deref(), Some("gzip-js"));

    let broken = post_bytes("/batch/", "Content-Encoding: gzip\r\n", b"not gzip");
    assert_eq!(exchange(server.addr(), &broken).unwrap().status, 400);
    assert_eq!(server.events().len(), 3);
}

#[test]
fn chunked_bodies_and_expect_continue() {
    let server = server();
    let body = batch().to_string();
    let (first, second) = body.split_at(10);
    let request = format!(
        "POST /batch/ HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n\
         {:x}\r\n{first}\r\n{:x};ext=1\r\n{second}\r\n0\r\n\r\n",
        first.len(),
        second.len()
    );
    assert_eq!(
        exchange(server.addr(), request.as_bytes()).unwrap().status,
        200
    );

    let mut stream = connect(server.addr());
    write!(
        stream,
        "POST /batch/ HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\nExpect: 100-continue\r\n\
         Connection: close\r\n\r\n",
        body.len()
    )
    .unwrap();
    let mut interim = [0u8; 25];
    stream.read_exact(&mut interim).unwrap();
    assert_eq!(&interim, b"HTTP/1.1 100 Continue\r\n\r\n");
    stream.write_all(body.as_bytes()).unwrap();
    assert_eq!(read_to_end(&mut stream).unwrap().status, 200);
    assert_eq!(server.events().len(), 2);
}

#[test]
fn keep_alive_serves_several_requests_on_one_connection() {
    let server = server();
    let body = batch().to_string();
    let mut stream = connect(server.addr());
    for _ in 0..3 {
        write!(
            stream,
            "POST /batch/ HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        )
        .unwrap();
        let mut head = Vec::new();
        let mut byte = [0u8; 1];
        while !head.ends_with(b"\r\n\r\n") {
            stream.read_exact(&mut byte).unwrap();
            head.push(byte[0]);
        }
        let head = String::from_utf8(head).unwrap();
        assert!(head.starts_with("HTTP/1.1 200"), "{head}");
        let length: usize = head
            .lines()
            .find_map(|l| l.strip_prefix("Content-Length: "))
            .unwrap()
            .parse()
            .unwrap();
        let mut rest = vec![0u8; length];
        stream.read_exact(&mut rest).unwrap();
    }
    assert_eq!(server.events().len(), 3);
}

#[test]
fn declared_body_over_20_mb_gets_413_without_sending_it() {
    let server = server();
    let mut stream = connect(server.addr());
    write!(
        stream,
        "POST /batch/ HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\n\r\n",
        20 * 1024 * 1024 + 1
    )
    .unwrap();
    stream.shutdown(std::net::Shutdown::Write).unwrap();
    let response = read_to_end(&mut stream).expect("an answer");
    assert_eq!(response.status, 413);
    assert_eq!(response.json()["code"], "payload_too_large");
    assert_eq!(server.requests()[0].status, Some(413));
}

#[test]
fn chunked_body_over_the_limit_gets_413() {
    let server = DevServer::start(DevServerOptions::default().max_body_bytes(1_000)).unwrap();
    let chunk = "x".repeat(600);
    let request = format!(
        "POST /batch/ HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n\
         {len:x}\r\n{chunk}\r\n{len:x}\r\n{chunk}\r\n{len:x}\r\n{chunk}\r\n0\r\n\r\n",
        len = chunk.len()
    );
    let response = exchange(server.addr(), request.as_bytes()).expect("an answer");
    assert_eq!(response.status, 413);
    assert_eq!(response.json()["code"], "payload_too_large");
    let requests = server.requests();
    assert_eq!(requests[0].status, Some(413));
    assert!(requests[0].capture);
    assert!(server.events().is_empty());
}

#[test]
fn malformed_heads_and_bodies_get_400_or_431_and_are_recorded() {
    let server = server();
    let huge = format!(
        "GET / HTTP/1.1\r\nHost: x\r\nX-Big: {}\r\n\r\n",
        "a".repeat(70 * 1024)
    );
    assert_eq!(
        exchange(server.addr(), huge.as_bytes()).unwrap().status,
        431
    );
    let bad_length = b"POST /batch/ HTTP/1.1\r\nHost: x\r\nContent-Length: ten\r\n\r\n";
    assert_eq!(exchange(server.addr(), bad_length).unwrap().status, 400);
    let bad_chunk =
        b"POST /batch/ HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n";
    let response = exchange(server.addr(), bad_chunk).unwrap();
    assert_eq!(response.status, 400);
    assert_eq!(response.json()["code"], "malformed_request");

    assert!(server.wait_for_requests(3, SOON));
    let requests = server.requests();
    let statuses: Vec<_> = requests.iter().map(|r| r.status).collect();
    assert_eq!(statuses, vec![Some(431), Some(400), Some(400)]);
    assert!(requests.iter().all(|r| r.error.is_some()));
    assert_eq!(requests[2].path, "/batch/", "the head was read");
    assert!(server.events().is_empty());
}

#[test]
fn other_paths_and_methods() {
    let server = server();
    let get = exchange(
        server.addr(),
        b"GET /batch/ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    )
    .unwrap();
    assert_eq!(get.status, 405);
    assert_eq!(get.header("allow"), Some("POST"));
    let unknown = post_json(server.addr(), "/flags/?v=2", &json!({}));
    assert_eq!(unknown.status, 404);
    let root = exchange(
        server.addr(),
        b"GET / HTTP/1.1\r\nConnection: close\r\n\r\n",
    )
    .unwrap();
    assert_eq!(root.status, 200);
    let garbage = exchange(server.addr(), b"HELLO\r\n\r\n").unwrap();
    assert_eq!(garbage.status, 400);

    // hyper answers a malformed request itself; the server records it just
    // after that answer, so it may not be in the record yet.
    assert!(server.wait_for_requests(4, SOON));
    let requests = server.requests();
    let statuses: Vec<_> = requests.iter().map(|r| r.status).collect();
    assert_eq!(statuses, vec![Some(405), Some(404), Some(200), Some(400)]);
    assert!(requests[0].capture && !requests[1].capture);
    assert_eq!(requests[1].query.as_deref(), Some("v=2"));
    // Non-capture requests do not use up a temporary mode.
    server.set_mode_for(Mode::Status(503), 1);
    assert_eq!(post_json(server.addr(), "/flags/", &json!({})).status, 404);
    assert_eq!(post_json(server.addr(), "/batch/", &batch()).status, 503);
    assert_eq!(post_json(server.addr(), "/batch/", &batch()).status, 200);
}

#[test]
fn status_modes_answer_json_and_record_no_event() {
    let server = server();
    server.set_mode(Mode::TooManyRequests {
        retry_after_secs: Some(7),
    });
    let response = post_json(server.addr(), "/batch/", &batch());
    assert_eq!(response.status, 429);
    assert_eq!(response.header("retry-after"), Some("7"));
    assert!(response.json()["detail"].is_string());

    server.set_mode(Mode::Status(502));
    assert_eq!(post_json(server.addr(), "/batch/", &batch()).status, 502);
    // A 2xx failure mode acknowledges and loses the events.
    server.set_mode(Mode::Status(200));
    let lying = post_json(server.addr(), "/batch/", &batch());
    assert_eq!(lying.status, 200);
    assert!(server.events().is_empty());
    let requests = server.requests();
    assert_eq!(requests.len(), 3);
    assert!(
        requests
            .iter()
            .all(|r| r.error.is_some() && r.event_uuids.len() == 1)
    );
}

#[test]
fn close_connection_reads_the_request_and_closes_without_answer() {
    let server = server();
    server.set_mode(Mode::CloseConnection);
    let request = post_bytes("/batch/", "", batch().to_string().as_bytes());
    assert!(exchange(server.addr(), &request).is_none());
    let requests = server.requests();
    assert_eq!(requests[0].status, None);
    assert_eq!(requests[0].mode, Mode::CloseConnection);
    assert!(server.events().is_empty());
}

#[test]
fn hang_holds_until_the_mode_changes_then_closes_unanswered() {
    let server = server();
    server.set_mode(Mode::Hang);
    let mut stream = connect(server.addr());
    stream
        .write_all(&post_bytes("/batch/", "", batch().to_string().as_bytes()))
        .unwrap();
    assert!(server.wait_for_requests(1, SOON));
    // Nothing arrives while it hangs.
    stream
        .set_read_timeout(Some(Duration::from_millis(300)))
        .unwrap();
    let mut byte = [0u8; 1];
    let early = stream.read(&mut byte);
    assert!(
        matches!(&early, Err(e) if matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut)),
        "{early:?}"
    );
    server.set_mode(Mode::Ok);
    stream.set_read_timeout(Some(SOON)).unwrap();
    assert!(
        read_to_end(&mut stream).is_none(),
        "closed without an answer"
    );
    assert!(server.events().is_empty());
    // The server serves normally again.
    assert_eq!(post_json(server.addr(), "/batch/", &batch()).status, 200);
}

#[test]
fn drop_is_prompt_with_hanging_slow_and_idle_connections() {
    let server = server();
    let addr = server.addr();
    let body = batch().to_string();

    server.set_mode(Mode::Hang);
    let mut hanging = connect(addr);
    hanging
        .write_all(&post_bytes("/batch/", "", body.as_bytes()))
        .unwrap();
    assert!(server.wait_for_requests(1, SOON));

    server.set_mode(Mode::Slow(Duration::from_secs(600)));
    let mut slow = connect(addr);
    slow.write_all(&post_bytes("/batch/", "", body.as_bytes()))
        .unwrap();
    let idle = connect(addr);
    let mut partial = connect(addr);
    partial
        .write_all(b"POST /batch/ HTTP/1.1\r\nContent-Le")
        .unwrap();
    std::thread::sleep(Duration::from_millis(200));

    let started = Instant::now();
    drop(server);
    assert!(
        started.elapsed() < SOON,
        "drop took {:?}",
        started.elapsed()
    );
    assert!(read_to_end(&mut hanging).is_none());
    assert!(read_to_end(&mut slow).is_none());
    drop((idle, partial));
    // The port is free again at once.
    let again = DevServer::start(DevServerOptions::default().port(addr.port()))
        .expect("the port can be bound again");
    assert_eq!(again.port(), addr.port());
}

#[test]
fn a_busy_port_is_a_bind_error() {
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port();
    let result = DevServer::start(DevServerOptions::default().port(port));
    assert!(matches!(result, Err(Error::Bind { port: p, .. }) if p == port));
}

#[test]
fn subscribe_wait_and_clear() {
    let server = server();
    let activity = server.subscribe();
    assert!(!server.wait_for_events(1, Duration::from_millis(100)));
    post_json(server.addr(), "/batch/", &batch());
    assert!(server.wait_for_events(1, SOON));
    match activity.recv_timeout(SOON).unwrap() {
        Activity::Request(request) => assert_eq!(request.accepted_events, 1),
        other => panic!("{other:?}"),
    }
    match activity.recv_timeout(SOON).unwrap() {
        Activity::Event(event) => assert_eq!(event.event, "e"),
        other => panic!("{other:?}"),
    }
    server.clear();
    assert!(server.events().is_empty() && server.requests().is_empty());
    post_json(server.addr(), "/batch/", &batch());
    assert_eq!(server.requests()[0].id, 2, "ids keep counting after clear");
    assert_eq!(server.url(), format!("http://127.0.0.1:{}", server.port()));
}

#[test]
fn the_binary_prints_the_url_and_each_event() {
    use std::io::BufRead;
    use std::process::{Command, Stdio};

    /// Kills the server process even when an assertion fails.
    struct KillOnDrop(std::process::Child);
    impl Drop for KillOnDrop {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }

    let child = Command::new(env!("CARGO_BIN_EXE_telemetry-devserver"))
        .args(["--port", "0"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary starts");
    let mut child = KillOnDrop(child);
    let child = &mut child.0;
    let mut stderr = std::io::BufReader::new(child.stderr.take().unwrap());
    let mut first = String::new();
    stderr.read_line(&mut first).unwrap();
    let url = first
        .split_whitespace()
        .find(|word| word.starts_with("http://127.0.0.1:"))
        .unwrap_or_else(|| panic!("no URL in {first:?}"))
        .to_string();
    let addr: std::net::SocketAddr = url.trim_start_matches("http://").parse().unwrap();

    // Switch to 503 through stdin, then back, to see both on stderr.
    let mut stdin = child.stdin.take().unwrap();
    writeln!(stdin, "503").unwrap();
    let mut line = String::new();
    while !line.contains("mode: 503") {
        line.clear();
        assert!(stderr.read_line(&mut line).unwrap() > 0, "stderr ended");
    }
    assert_eq!(post_json(addr, "/batch/", &batch()).status, 503);
    writeln!(stdin, "ok").unwrap();
    while !line.contains("mode: ok") {
        line.clear();
        assert!(stderr.read_line(&mut line).unwrap() > 0, "stderr ended");
    }
    assert_eq!(post_json(addr, "/batch/", &batch()).status, 200);

    let mut stdout = std::io::BufReader::new(child.stdout.take().unwrap());
    let mut printed = String::new();
    while serde_json::from_str::<Value>(&printed).is_err() {
        assert!(stdout.read_line(&mut printed).unwrap() > 0, "stdout ended");
    }
    assert_eq!(
        serde_json::from_str::<Value>(&printed).unwrap(),
        one_event()
    );
}

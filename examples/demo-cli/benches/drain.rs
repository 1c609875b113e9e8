//! How fast a queue of 10,000 events is delivered: the wall time of one detached sender
//! process (`demo --telemetry-sender-process`, as a command's exit starts it) that finds
//! 10,000 events queued and sends them all to the development server on 127.0.0.1, from its
//! start to its exit (process start, consent, client, every batch and every acknowledgement).
//!
//! `cargo bench -p demo-cli --bench drain`. The queue is filled by `demo run assist` itself
//! (5 events a run) while the server is down, as a week offline would fill it; the back-off
//! those failures set is then cleared, the endpoint pointed at the live server, and the sender
//! started directly. Repeated [`ROUNDS`] times; the median is the figure (goal: at most 1 s).

#[path = "../tests/common/mod.rs"]
mod common;

use std::time::{Duration, Instant};

use common::{Demo, wait_until};
use telemetry_devserver::{DevServer, DevServerOptions};

/// Queued events per round.
const EVENTS: usize = 10_000;
/// Events `demo run assist` records.
const PER_RUN: usize = 5;
const ROUNDS: usize = 5;

/// A port nothing listens on.
fn dead_url() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
    let port = listener.local_addr().expect("its address").port();
    drop(listener);
    format!("http://127.0.0.1:{port}")
}

/// A sandbox whose queue holds [`EVENTS`] events, recorded while the server was down.
fn offline_sandbox() -> Demo {
    let demo = Demo::sending_to(&dead_url()).telemetry_on();
    for _ in 0..EVENTS / PER_RUN {
        let out = demo.run(&["run", "assist"]);
        assert!(out.status.success(), "{out:?}");
    }
    assert!(wait_until(Duration::from_secs(30), || demo
        .processes()
        .is_empty()));
    demo
}

fn main() {
    let server = DevServer::start(DevServerOptions::default()).expect("dev server");
    let mut times = Vec::new();
    for round in 0..ROUNDS {
        let demo = offline_sandbox();
        let queued = demo.queue().len();
        assert!(queued >= EVENTS, "{queued} queued");
        // the failures' back-off is over
        let _ = std::fs::remove_file(demo.app_dir().join("telemetry-sender.json"));
        let before = server.events().len();
        let mut sender = demo.command(&["--telemetry-sender-process"]);
        sender
            .env("DEMO_TELEMETRY_DEV_ENDPOINT", server.url())
            .env("DEMO_TELEMETRY_SENDER", "1")
            .env("DEMO_TELEMETRY_DIR", demo.app_dir());
        let started = Instant::now();
        let status = sender.status().expect("the sender runs");
        let elapsed = started.elapsed();
        assert!(status.success(), "{status:?}");
        let received = server.events().len() - before;
        let left = demo.queue().len();
        println!(
            "round {}: {queued} queued, {received} received, {left} left, {:.0} ms ({:.0} events/s)",
            round + 1,
            elapsed.as_secs_f64() * 1000.0,
            received as f64 / elapsed.as_secs_f64()
        );
        assert_eq!(left, 0, "the sender sent everything");
        times.push(elapsed);
    }
    times.sort();
    let median = times[times.len() / 2];
    println!(
        "drain of {EVENTS} queued events by one sender process: median {:.0} ms over {ROUNDS} rounds (min {:.0}, max {:.0}); {} requests in all",
        median.as_secs_f64() * 1000.0,
        times[0].as_secs_f64() * 1000.0,
        times[times.len() - 1].as_secs_f64() * 1000.0,
        server.requests().len()
    );
}

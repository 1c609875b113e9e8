//! Whole-process wall time of `demo run assist`: telemetry off; on with the dev server
//! answering, a sender started by every run (the most a command pays) and back to back (the
//! flush policy: one sender per burst); and on with the dev server hanging. Speed goals live
//! here, never in timed tests.
//!
//! `cargo bench -p demo-cli` (the workspace's bench profile keeps debug assertions on, so the
//! optimised binary honours the loopback development endpoint). Each configuration has its own
//! HOME and runs the command [`RUNS`] times after [`WARMUP`] untimed runs; the time is that of
//! `Command::output()` (fork, exec, the command, exit). In the "a sender every run"
//! configuration the next run waits (untimed) until the previous sender is gone and the flush
//! interval is made to have passed, so each timed run pays for recording and spawning but does
//! not compete with a sender for the CPU.
//! With the server hanging, the first sender hangs until its deadline and later runs find it
//! running (then backing off), which is what a user on a broken network sees.

#[path = "../tests/common/mod.rs"]
mod common;

use std::time::{Duration, Instant};

use common::{Demo, expire_flush_interval, wait_until};
use telemetry_devserver::{DevServer, DevServerOptions, Mode};

const RUNS: usize = 30;
const WARMUP: usize = 3;

/// A sandbox run from its HOME: telemetry off without an endpoint, on and sending to it with
/// one.
fn sandbox(endpoint: Option<&str>) -> Demo {
    let mut demo = match endpoint {
        Some(url) => Demo::sending_to(url),
        None => Demo::without_key(),
    };
    demo.cwd = demo.root().to_path_buf();
    match endpoint {
        Some(_) => demo.telemetry_on(),
        None => demo,
    }
}

/// Waits (at most `limit`) until no process of this sandbox (a sender) is alive.
fn wait_for_no_sender(demo: &Demo, limit: Duration) {
    wait_until(limit, || demo.processes().is_empty());
}

/// What happens between two timed runs (untimed).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Between {
    /// Nothing: commands back to back, as a script or a busy user runs them (with telemetry
    /// on, the flush policy starts a sender for the first and not for the next ones).
    Nothing,
    /// The previous run's sender is waited for, and the flush interval is made to have passed,
    /// so that every timed run starts a sender: the most a command pays.
    SenderEachRun,
}

/// Runs `demo run assist` WARMUP + RUNS times; returns the timed durations.
fn measure(sandbox: &Demo, between: Between) -> Vec<Duration> {
    let mut times = Vec::with_capacity(RUNS);
    for i in 0..WARMUP + RUNS {
        if between == Between::SenderEachRun {
            wait_for_no_sender(sandbox, Duration::from_secs(15));
            expire_flush_interval(sandbox);
        }
        let started = Instant::now();
        let out = sandbox
            .command(&["run", "assist"])
            .output()
            .expect("demo runs");
        let elapsed = started.elapsed();
        assert!(out.status.success(), "{out:?}");
        if i >= WARMUP {
            times.push(elapsed);
        }
    }
    times
}

fn median(times: &[Duration]) -> Duration {
    let mut sorted = times.to_vec();
    sorted.sort();
    let n = sorted.len();
    if n % 2 == 1 {
        sorted[n / 2]
    } else {
        (sorted[n / 2 - 1] + sorted[n / 2]) / 2
    }
}

fn p90(times: &[Duration]) -> Duration {
    let mut sorted = times.to_vec();
    sorted.sort();
    sorted[(sorted.len() * 9 / 10).min(sorted.len() - 1)]
}

fn main() {
    if !cfg!(debug_assertions) {
        // the binary is built with the same profile: without debug assertions it ignores the
        // development endpoint and the "on" runs would record nothing
        eprintln!("note: built without debug assertions; the 'on' rows may not record");
    }
    let off = sandbox(None);
    let off_times = measure(&off, Between::Nothing);

    let answering = DevServer::start(DevServerOptions::default()).expect("dev server");
    let on_ok = sandbox(Some(&answering.url()));
    let ok_times = measure(&on_ok, Between::SenderEachRun);
    wait_for_no_sender(&on_ok, Duration::from_secs(15));
    let delivered = answering.events().len();

    let steady_server = DevServer::start(DevServerOptions::default()).expect("dev server");
    let steady = sandbox(Some(&steady_server.url()));
    let steady_times = measure(&steady, Between::Nothing);
    // what the burst left queued goes with the next command after the interval
    wait_for_no_sender(&steady, Duration::from_secs(15));
    expire_flush_interval(&steady);
    let _ = steady.command(&["run", "assist"]).output();
    wait_for_no_sender(&steady, Duration::from_secs(15));
    let steady_delivered = steady_server.events().len();

    let hanging = DevServer::start(DevServerOptions::default().mode(Mode::Hang)).expect("server");
    let on_hang = sandbox(Some(&hanging.url()));
    let hang_times = measure(&on_hang, Between::Nothing);
    wait_for_no_sender(&on_hang, Duration::from_secs(15));

    let base = median(&off_times);
    println!(
        "demo run assist, whole process, {RUNS} runs each ({WARMUP} warm-up runs not counted)"
    );
    println!(
        "{:<34} {:>10} {:>10} {:>12}",
        "configuration", "median", "p90", "median/off"
    );
    for (name, times) in [
        ("telemetry off", &off_times),
        ("on, answering, a sender every run", &ok_times),
        ("on, answering, back to back", &steady_times),
        ("on, server hanging", &hang_times),
    ] {
        let m = median(times);
        println!(
            "{:<34} {:>8.2}ms {:>8.2}ms {:>11.2}x",
            name,
            m.as_secs_f64() * 1000.0,
            p90(times).as_secs_f64() * 1000.0,
            m.as_secs_f64() / base.as_secs_f64()
        );
    }
    let added = |times: &[Duration]| (median(times).as_secs_f64() - base.as_secs_f64()) * 1000.0;
    println!(
        "median added by telemetry: {:+.2} ms (a sender every run), {:+.2} ms (back to back), {:+.2} ms (hanging)",
        added(&ok_times),
        added(&steady_times),
        added(&hang_times)
    );
    println!(
        "events received: {delivered} of {} (a sender every run), {steady_delivered} of {} (back to back, then one command after the interval)",
        (WARMUP + RUNS) * 5,
        (WARMUP + RUNS + 1) * 5
    );
}

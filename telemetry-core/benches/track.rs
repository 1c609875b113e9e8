//! `Telemetry::track()`: one event recorded into a real state directory (a temporary directory,
//! so the machine's temp filesystem), on a short queue and on a queue at its cap
//! ([`MAX_QUEUE_RECORDS`]). The handle is built as the `Telemetry` rustdoc example builds one
//! (consent from `DEMO_TELEMETRY=1`, no detached sender), so nothing is sent.
//!
//! - short queue: the queue file is removed (outside the timed part) every
//!   [`SHORT_QUEUE`] events, so it holds 0 to `SHORT_QUEUE - 1` records when `track()` runs;
//! - full queue: [`MAX_QUEUE_RECORDS`] events are tracked first; every further event then
//!   appends to a queue at its cap, which drops the oldest record to make room.

use std::hint::black_box;
use std::path::Path;
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use telemetry_core::limits::MAX_QUEUE_RECORDS;
use telemetry_core::{Environment, Telemetry, TelemetryConfig};

mod support;

use support::{SCHEMA, event};

/// How many records the short queue holds at most.
const SHORT_QUEUE: u64 = 50;

fn handle(state: &Path) -> Telemetry {
    let telemetry = TelemetryConfig::builder(&SCHEMA)
        .version("1.2.3")
        .project_key("phc_x")
        .environment(Environment::empty().with("DEMO_TELEMETRY", "1"))
        .stderr_is_terminal(false)
        .state_dir(state)
        .detached_sender(false)
        .start();
    assert!(telemetry.is_recording());
    telemetry
}

/// The queue file(s) under `state` (`telemetry-queue.jsonl`), wherever the handle put them.
fn remove_queue(state: &Path) {
    for entry in std::fs::read_dir(state).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            remove_queue(&path);
        } else if path
            .file_name()
            .is_some_and(|n| n.to_string_lossy().contains("queue"))
        {
            std::fs::remove_file(&path).unwrap();
        }
    }
}

fn track(c: &mut Criterion) {
    let event = event();
    let mut group = c.benchmark_group("Telemetry::track");

    let short = tempfile::tempdir().unwrap();
    let telemetry = handle(short.path());
    group.bench_function(format!("short queue (< {SHORT_QUEUE} records)"), |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            let mut i = 0;
            while i < iters {
                remove_queue(short.path());
                let n = SHORT_QUEUE.min(iters - i);
                let start = Instant::now();
                for _ in 0..n {
                    telemetry.track(black_box(&event));
                }
                total += start.elapsed();
                i += n;
            }
            total
        })
    });
    drop(telemetry);

    let full = tempfile::tempdir().unwrap();
    let telemetry = handle(full.path());
    for _ in 0..MAX_QUEUE_RECORDS {
        telemetry.track(&event);
    }
    group.bench_function(format!("full queue ({MAX_QUEUE_RECORDS} records)"), |b| {
        b.iter(|| telemetry.track(black_box(&event)))
    });
    drop(telemetry);
    group.finish();
}

criterion_group!(benches, track);
criterion_main!(benches);

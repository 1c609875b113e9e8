//! `Telemetry::track()`: one event recorded into a real state directory (a temporary directory,
//! so the machine's temp filesystem), on a short queue and on a queue at its cap
//! ([`MAX_QUEUE_BYTES`]). The handle is built as the `Telemetry` rustdoc example builds one
//! (consent from `DEMO_TELEMETRY=1`, no detached sender), so nothing is sent.
//!
//! - short queue: the queue files are removed (outside the timed part) every
//!   [`SHORT_QUEUE`] events, as a sender that sent everything removes them, so the queue holds
//!   1 to `SHORT_QUEUE` records when a timed `track()` runs; the first event after each
//!   removal, which creates the queue file again, is timed on its own (a third line);
//! - full queue: events are tracked until the queue holds [`MAX_QUEUE_BYTES`]; every further
//!   event then appends to a queue at its cap, which drops the oldest segment to make room
//!   each time the head is sealed.

use std::hint::black_box;
use std::path::Path;
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use telemetry_core::limits::MAX_QUEUE_BYTES;
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
        .on_terminal(false)
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

/// The bytes of the queue files under `state`.
fn queue_bytes(state: &Path) -> u64 {
    let mut total = 0;
    for entry in std::fs::read_dir(state).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            total += queue_bytes(&path);
        } else if path
            .file_name()
            .is_some_and(|n| n.to_string_lossy().contains("queue"))
        {
            total += std::fs::metadata(&path).unwrap().len();
        }
    }
    total
}

fn track(c: &mut Criterion) {
    let event = event();
    let mut group = c.benchmark_group("Telemetry::track");

    let short = tempfile::tempdir().unwrap();
    let telemetry = handle(short.path());
    group.bench_function(format!("short queue (1 to {SHORT_QUEUE} records)"), |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            let mut i = 0;
            while i < iters {
                remove_queue(short.path());
                // the first event after that re-creates the queue: timed on its own below
                telemetry.track(&event);
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
    // What a command pays once when a sender emptied the queue since its last event: the
    // handle finds its queue file removed, drops it and creates a new one (with its header).
    group.bench_function("first event after the queue was emptied", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                remove_queue(short.path());
                let start = Instant::now();
                telemetry.track(black_box(&event));
                total += start.elapsed();
            }
            total
        })
    });
    drop(telemetry);

    let full = tempfile::tempdir().unwrap();
    let telemetry = handle(full.path());
    telemetry.track(&event);
    let one = queue_bytes(full.path());
    telemetry.track(&event);
    // one record's line (the first size includes the head's header)
    let record_bytes = (queue_bytes(full.path()) - one).max(1);
    let at_cap = MAX_QUEUE_BYTES / record_bytes + 1;
    for _ in 0..at_cap {
        telemetry.track(&event);
    }
    let mib = MAX_QUEUE_BYTES / (1024 * 1024);
    group.bench_function(format!("full queue ({mib} MiB, {at_cap} records)"), |b| {
        b.iter(|| telemetry.track(black_box(&event)))
    });
    drop(telemetry);
    group.finish();
}

criterion_group!(benches, track);
criterion_main!(benches);

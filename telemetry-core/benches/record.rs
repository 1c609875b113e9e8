//! Building and serialising one record: what `Telemetry::track()` does for every event before
//! it touches the queue file, against posthog-rs doing the same for an `Event` with the same
//! properties (`Event::new` + `insert_prop` per property + `serde_json::to_string`), in the
//! same run. The record is `cli.command_completed` with 5 properties of its own, the 6 common
//! properties and `$geoip_disable` / `$process_person_profile`; the posthog-rs event carries the
//! same 13 properties.
//!
//! Reaches the crate-private record builder through `telemetry_core::__private::bench`, which
//! is not API.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use telemetry_core::__private::bench::{Common, record_json, record_line};
use telemetry_core::{Environment, TelemetryConfig};

mod support;

use support::{SCHEMA, event};

fn records(c: &mut Criterion) {
    let config = TelemetryConfig::builder(&SCHEMA)
        .version("1.2.3")
        .git_commit("abc1234")
        .environment(Environment::empty())
        .on_terminal(false)
        .build()
        .unwrap();
    let common = Common::new(&config);
    let event = event();
    let distinct_id = "0190a3c2-7b1e-7c3a-9f4e-2d8b6a1c5e70";

    let mut group = c.benchmark_group("record of cli.command_completed");
    group.bench_function("telemetry-core: build + serialise", |b| {
        b.iter(|| record_json(black_box(&event), black_box(&common)))
    });
    group.bench_function(
        "telemetry-core: build + serialise + frame (queue line)",
        |b| b.iter(|| record_line(black_box(&event), black_box(&common))),
    );
    group.bench_function("posthog-rs: Event::new + insert_prop + to_string", |b| {
        b.iter(|| {
            let mut e = posthog_rs::Event::new("cli.command_completed", black_box(distinct_id));
            e.insert_prop("command", black_box("telemetry")).unwrap();
            e.insert_prop("subcommand", black_box("status")).unwrap();
            e.insert_prop("exit_code", black_box(2i32)).unwrap();
            e.insert_prop("duration_ms", black_box(1234u64)).unwrap();
            e.insert_prop("error_class", black_box("ConfigError"))
                .unwrap();
            e.insert_prop("app_version", "1.2.3").unwrap();
            e.insert_prop("app_git_commit", "abc1234").unwrap();
            e.insert_prop("build_kind", "release").unwrap();
            e.insert_prop("os", std::env::consts::OS).unwrap();
            e.insert_prop("arch", std::env::consts::ARCH).unwrap();
            e.insert_prop("is_ci", false).unwrap();
            e.insert_prop("$geoip_disable", true).unwrap();
            e.insert_prop("$process_person_profile", false).unwrap();
            serde_json::to_string(&e).unwrap()
        })
    });
    group.finish();
}

criterion_group!(benches, records);
criterion_main!(benches);

//! Writing an event's properties as JSON: the generated writer against serde_json writing the
//! same struct with `#[derive(Serialize)]`, in the same run. This is what decides whether the
//! hand-written writer (`event/writer.rs`) earns its keep over serde_json.

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use telemetry_core::{ErrorClass, properties_json, telemetry_bucket, telemetry_event};

/// A top-level command.
#[telemetry_bucket(property = "command")]
pub struct CommandName;

/// Sent when a command finishes.
#[telemetry_event(name = "cli.command_completed")]
pub struct CommandCompleted {
    /// The command.
    pub command: CommandName,
    /// The exit code.
    pub exit_code: i32,
    /// How long it ran.
    pub duration_ms: Duration,
    /// The error's class.
    pub error_class: Option<ErrorClass>,
}

/// The same properties, as serde would write them.
#[derive(serde::Serialize)]
struct WithSerde<'a> {
    command: &'a str,
    exit_code: i32,
    duration_ms: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    error_class: Option<&'a str>,
}

#[derive(Debug)]
struct ConfigError;

fn writers(c: &mut Criterion) {
    let event = CommandCompleted {
        command: CommandName::sanitize("run"),
        exit_code: 2,
        duration_ms: Duration::from_millis(1234),
        error_class: Some(ErrorClass::of(&ConfigError)),
    };
    let serde = WithSerde {
        command: "run",
        exit_code: 2,
        duration_ms: 1234,
        error_class: Some("ConfigError"),
    };
    let mut group = c.benchmark_group("properties of cli.command_completed");
    group.bench_function("generated writer", |b| {
        b.iter(|| properties_json(black_box(&event)))
    });
    group.bench_function("serde_json::to_string", |b| {
        b.iter(|| serde_json::to_string(black_box(&serde)).unwrap())
    });
    group.finish();
}

criterion_group!(benches, writers);
criterion_main!(benches);

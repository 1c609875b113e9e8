//! A `duration_ms` property: `Duration` however it is spelled, sent in whole milliseconds.

use std::time::Duration;

use telemetry_core::{Event, PropertyKind, properties_json, telemetry_event};

/// Sent when a command finishes.
#[telemetry_event(name = "cli.command_completed")]
pub struct Plain {
    pub duration_ms: Duration,
}

/// Sent when a command finishes.
#[telemetry_event(name = "cli.command_completed_std")]
pub struct StdPath {
    pub duration_ms: std::time::Duration,
}

/// Sent when a command finishes.
#[telemetry_event(name = "cli.command_completed_core")]
pub struct CorePath {
    pub duration_ms: Option<core::time::Duration>,
}

fn main() {
    let plain = Plain {
        duration_ms: Duration::from_micros(1_500_999),
    };
    assert_eq!(properties_json(&plain), r#""duration_ms":1500"#);
    let std_path = StdPath {
        duration_ms: Duration::from_secs(3),
    };
    assert_eq!(properties_json(&std_path), r#""duration_ms":3000"#);
    let huge = StdPath {
        duration_ms: Duration::MAX,
    };
    assert_eq!(
        properties_json(&huge),
        r#""duration_ms":18446744073709551615"#
    );
    assert_eq!(properties_json(&CorePath { duration_ms: None }), "");
    assert_eq!(
        properties_json(&CorePath {
            duration_ms: Some(Duration::from_nanos(999_999))
        }),
        r#""duration_ms":0"#
    );

    let meta = <Plain as Event>::META;
    assert_eq!(meta.properties[0].kind, PropertyKind::DurationMs);
    assert_eq!(
        meta.properties[0].description,
        "How long the command or workflow took, in milliseconds."
    );
    assert!(<CorePath as Event>::META.properties[0].optional);
}

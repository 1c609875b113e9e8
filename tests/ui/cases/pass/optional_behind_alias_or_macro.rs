//! An `Option` behind a type alias, or passed through a `macro_rules!`, makes its property
//! optional as a plain `Option` does: listed as optional (page, catalog) and left out when
//! `None` (found by a red-team review: the metadata once read the field's spelling).

#![deny(warnings)]

use telemetry_core::{Event, properties_json, telemetry_event};

type Maybe<T> = Option<T>;

macro_rules! event_with {
    ($ty:ty) => {
        /// Sent when a command finishes.
        #[telemetry_event(name = "cli.command_completed")]
        pub struct ThroughMacro {
            pub exit_code: $ty,
        }
    };
}

event_with!(Option<i32>);

/// Sent when a command finishes.
#[telemetry_event(name = "cli.command_completed")]
pub struct ThroughAlias {
    pub exit_code: Maybe<i32>,
    pub duration_ms: std::time::Duration,
}

fn main() {
    let alias = <ThroughAlias as Event>::META.properties;
    assert!(alias[0].optional);
    assert!(!alias[1].optional);
    assert!(<ThroughMacro as Event>::META.properties[0].optional);
    let event = ThroughAlias {
        exit_code: None,
        duration_ms: std::time::Duration::from_millis(3),
    };
    assert_eq!(properties_json(&event), r#""duration_ms":3"#);
    assert_eq!(
        properties_json(&ThroughMacro { exit_code: Some(2) }),
        r#""exit_code":2"#
    );
}

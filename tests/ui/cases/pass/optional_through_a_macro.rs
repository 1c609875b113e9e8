//! An `Option` passed through a `macro_rules!` (as `$ty:ty`) or in parentheses makes its
//! property optional as a plain `Option` does: listed as optional (page, catalog) and left
//! out when `None` (found by a red-team review: the metadata read the field's spelling, and a
//! macro's invisible group hid it).

#![deny(warnings)]
// the parentheses are the point of the second event
#![allow(unused_parens)]

use telemetry_core::{Event, properties_json, telemetry_event};

macro_rules! event_with {
    ($ty:ty) => {
        /// Sent when a command finishes.
        #[telemetry_event(name = "cli.command_completed")]
        pub struct ThroughMacro {
            pub exit_code: $ty,
            pub duration_ms: std::time::Duration,
        }
    };
}

event_with!(Option<i32>);

/// Sent when a command finishes.
#[telemetry_event(name = "cli.command_completed")]
pub struct InParentheses {
    pub exit_code: (Option<i32>),
}

fn main() {
    let properties = <ThroughMacro as Event>::META.properties;
    assert!(properties[0].optional);
    assert!(!properties[1].optional);
    assert!(<InParentheses as Event>::META.properties[0].optional);
    let event = ThroughMacro {
        exit_code: None,
        duration_ms: std::time::Duration::from_millis(3),
    };
    assert_eq!(properties_json(&event), r#""duration_ms":3"#);
    assert_eq!(
        properties_json(&InParentheses { exit_code: Some(2) }),
        r#""exit_code":2"#
    );
}

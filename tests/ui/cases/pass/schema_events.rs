//! The reference schema's events and value types, used from another crate, write what they
//! declare.

use std::time::Duration;

use telemetry_core::{Event, properties_json};
use telemetry_schema::{CommandCompleted, CommandName, SubcommandName};

fn main() {
    let event = CommandCompleted {
        command: CommandName::sanitize("telemetry"),
        subcommand: Some(SubcommandName::sanitize("my-typo")),
        exit_code: 1,
        duration_ms: Duration::from_millis(12),
        error_class: None,
    };
    assert_eq!(
        properties_json(&event),
        r#""command":"telemetry","subcommand":"user-defined","exit_code":1,"duration_ms":12"#
    );

    assert_eq!(<CommandCompleted as Event>::META.properties.len(), 5);
}

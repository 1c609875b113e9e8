//! Doc comments and lint attributes on fields, and the usual attributes on the struct, are
//! allowed: they change nothing that is sent. A multi-paragraph doc comment is the event's
//! description.

#![deny(missing_docs)]

use telemetry_core::{Event, properties_json, telemetry_event};

/// Sent when a command
/// finishes, successfully or not.
///
/// It is the last event of a run.
#[telemetry_event(name = "cli.command_completed")]
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use]
#[non_exhaustive]
#[repr(C)]
pub struct CommandCompleted {
    /// The exit code.
    #[allow(clippy::struct_field_names)]
    pub exit_code: i32,
    /// How many nodes ran.
    ///
    /// Not sent for commands without a workflow.
    #[warn(unused)]
    #[deny(dead_code)]
    #[doc(alias = "nodes")]
    pub node_count: Option<u32>,
}

fn main() {
    let event = CommandCompleted {
        exit_code: 0,
        node_count: None,
    };
    assert_eq!(properties_json(&event), r#""exit_code":0"#);
    assert_eq!(
        <CommandCompleted as Event>::META.description,
        "Sent when a command finishes, successfully or not.\n\nIt is the last event of a run."
    );
}

//! An event's description may be kept in a file of its own (`#[doc = include_str!(...)]`,
//! relative to this file) or `#[doc = concat!(...)]`: it is read as rustc reads it.

use telemetry_core::{Event, telemetry_event};

#[doc = include_str!("docs/command_completed.md")]
#[telemetry_event(name = "cli.command_completed")]
pub struct CommandCompleted {
    /// A field's doc comment may be included too.
    #[doc = include_str!("docs/command_completed.md")]
    pub exit_code: i32,
}

/// Sent when a run starts.
///
#[doc = include_str!(concat!("docs/", "command_completed.md"))]
#[doc = concat!("Built by ", env!("CARGO_CRATE_NAME"), ".")]
#[telemetry_event(name = "workflow.run_started")]
pub struct RunStarted {}

fn main() {
    assert_eq!(
        <CommandCompleted as Event>::META.description,
        "Sent when a command finishes, successfully or not.\n\nIt is the last event of a run."
    );
    assert_eq!(
        <RunStarted as Event>::META.description,
        concat!(
            "Sent when a run starts.\n\nSent when a command finishes, successfully or not.",
            "\n\nIt is the last event of a run.\n\nBuilt by ",
            env!("CARGO_CRATE_NAME"),
            "."
        )
    );
}

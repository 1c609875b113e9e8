//! The event the `record` and `track` benchmarks record: `cli.command_completed` with 5
//! properties of its own, declared against the workspace allowlist.

use std::time::Duration;

use telemetry_core::{ErrorClass, telemetry_bucket, telemetry_event, telemetry_schema};

/// A top-level command.
#[telemetry_bucket(property = "command")]
pub struct CommandName;

/// A subcommand.
#[telemetry_bucket(property = "subcommand")]
pub struct SubcommandName;

/// Sent when a command finishes.
#[telemetry_event(name = "cli.command_completed")]
pub struct CommandCompleted {
    /// The command.
    pub command: CommandName,
    /// The subcommand.
    pub subcommand: Option<SubcommandName>,
    /// The exit code.
    pub exit_code: i32,
    /// How long it ran.
    pub duration_ms: Duration,
    /// The error's class.
    pub error_class: Option<ErrorClass>,
}

telemetry_schema! {
    /// The benchmarks' one event.
    pub static SCHEMA = [CommandCompleted];
}

#[derive(Debug)]
struct ConfigError;

/// The event both benchmarks record (a failed `telemetry status`).
pub fn event() -> CommandCompleted {
    CommandCompleted {
        command: CommandName::sanitize("telemetry"),
        subcommand: Some(SubcommandName::sanitize("status")),
        exit_code: 2,
        duration_ms: Duration::from_millis(1234),
        error_class: Some(ErrorClass::of(&ConfigError)),
    }
}

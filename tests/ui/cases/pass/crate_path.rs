//! `crate = "..."`: events, enums, bucketed names and the schema declared through a crate that
//! re-exports the library (a company's shared crate, as with serde's `#[serde(crate = "...")]`).
//! This crate also depends on the library itself, so a path left at `::telemetry_core` would
//! compile here: `tests/adoption/tests/shared_crate.rs` builds a tool that does not.

/// What a shared crate offers its tools.
mod kit {
    pub use ::telemetry_core;
}

use kit::telemetry_core::{
    Event, properties_json, telemetry_bucket, telemetry_enum, telemetry_event, telemetry_schema,
};

/// Whether a failure is worth retrying.
#[telemetry_enum(property = "error_classification", crate = "crate::kit::telemetry_core")]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Classification {
    Transient,
    Fatal,
    CreditExhausted,
}

/// A top-level command.
#[telemetry_bucket(property = "command", crate = "crate::kit::telemetry_core")]
pub struct CommandName;

/// Sent when a command fails.
#[telemetry_event(name = "cli.command_failed", crate = "crate::kit::telemetry_core")]
pub struct CommandFailed {
    pub command: CommandName,
    pub error_classification: Classification,
    pub exit_code: i32,
}

telemetry_schema! {
    crate = "crate::kit::telemetry_core";
    /// Every event.
    pub static SCHEMA = [CommandFailed];
}

fn main() {
    let event = CommandFailed {
        command: CommandName::sanitize("run"),
        error_classification: Classification::Fatal,
        exit_code: 2,
    };
    assert_eq!(
        properties_json(&event),
        r#""command":"run","error_classification":"fatal","exit_code":2"#
    );
    assert_eq!(SCHEMA.events(), [CommandFailed::META]);
}

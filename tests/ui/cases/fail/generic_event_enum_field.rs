//! A generic event is refused once, even with enum and bucketed fields, whose types are still
//! checked.

use telemetry_core::telemetry_event;
use telemetry_schema::{CommandName, Provider};

/// Sent when a command finishes.
#[telemetry_event(name = "cli.command_completed")]
pub struct CommandCompleted<T> {
    pub exit_code: T,
    pub provider: Provider,
    pub command: CommandName,
    /// Not `subcommand`'s names.
    pub subcommand: CommandName,
}

fn main() {}

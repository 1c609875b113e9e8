//! A bucket declared for another property is refused at the field's type, naming that property.

use telemetry_core::telemetry_event;
use telemetry_schema::{CommandName, SubcommandName};

/// Sent when a command finishes.
#[telemetry_event(name = "cli.command_completed")]
pub struct CommandCompleted {
    /// `SubcommandName` keeps `subcommand`'s names, not `command`'s.
    pub command: SubcommandName,
    /// And the other way round.
    pub subcommand: Option<CommandName>,
}

fn main() {}

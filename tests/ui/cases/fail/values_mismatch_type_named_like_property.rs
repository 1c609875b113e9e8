//! A type whose path uses the property's name (`command::SubcommandName`) is still checked,
//! and the error still names the property.

use telemetry_core::telemetry_event;

mod command {
    pub use telemetry_schema::SubcommandName;
}

/// Sent when a command finishes.
#[telemetry_event(name = "cli.command_completed")]
pub struct CommandCompleted {
    pub command: command::SubcommandName,
}

fn main() {}

//! A bucket declared against another allowlist is refused when its names are not this one's.

use telemetry_core::{telemetry_bucket, telemetry_event};

/// Another program's command.
#[telemetry_bucket(property = "command", allowlist = "allowlists/other_command.toml")]
pub struct OtherCommand;

/// Another program's tool.
#[telemetry_bucket(property = "tool", allowlist = "allowlists/other_command.toml")]
pub struct Tool;

/// Sent when a command finishes.
#[telemetry_event(name = "cli.command_completed")]
pub struct CommandCompleted {
    /// Declared for `command`, with other names.
    pub command: OtherCommand,
    /// Declared for `tool`, which this allowlist does not have.
    pub subcommand: Tool,
}

fn main() {}

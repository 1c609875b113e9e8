use telemetry_core::{telemetry_enum, telemetry_event};

/// Sent when a command finishes.
#[telemetry_event(
    name = "cli.command_completed",
    allowlist = "allowlists/several_problems.toml"
)]
pub struct CommandCompleted {
    pub exit_code: i32,
}

/// Sent when a command starts.
#[telemetry_event(
    name = "cli.command_invoked",
    allowlist = "allowlists/several_problems.toml"
)]
pub struct CommandInvoked {
    pub exit_code: i32,
}

/// A provider.
#[telemetry_enum(property = "provider", allowlist = "allowlists/several_problems.toml")]
pub enum Provider {
    Claude,
}

fn main() {}

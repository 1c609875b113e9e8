use telemetry_core::telemetry_event;

/// Sent when a command starts.
#[telemetry_event(name = "cli.command_invoked")]
pub struct CommandInvoked {
    /// Optional, but still free text.
    pub subcommand: Option<String>,
}

fn main() {}

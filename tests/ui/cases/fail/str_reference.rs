use telemetry_core::telemetry_event;

/// Sent when a command starts.
#[telemetry_event(name = "cli.command_invoked")]
pub struct CommandInvoked {
    /// A string slice is free text too.
    pub command: &'static str,
}

fn main() {}

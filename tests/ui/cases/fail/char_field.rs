use telemetry_core::telemetry_event;

/// Sent when a command starts.
#[telemetry_event(name = "cli.command_invoked")]
pub struct CommandInvoked {
    /// One character of what the user typed, then another in the next event...
    pub command: char,
}

fn main() {}

use telemetry_core::telemetry_event;

/// Sent when a command finishes.
#[telemetry_event(name = "cli.command_invoked")]
pub struct CommandInvoked {
    /// The command line: arguments are user data.
    pub command: Vec<String>,
}

fn main() {}

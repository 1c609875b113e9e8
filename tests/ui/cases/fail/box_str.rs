use telemetry_core::telemetry_event;

/// Sent when a command starts.
#[telemetry_event(name = "cli.command_invoked")]
pub struct CommandInvoked {
    /// A boxed string is a string.
    pub command: Box<str>,
}

fn main() {}

use telemetry_core::telemetry_event;

/// Looks harmless; is a `String`.
pub type CommandLabel = String;

/// Sent when a command starts.
#[telemetry_event(name = "cli.command_invoked")]
pub struct CommandInvoked {
    /// The alias hides the type from the macro, not from the trait bound.
    pub command: CommandLabel,
}

fn main() {}

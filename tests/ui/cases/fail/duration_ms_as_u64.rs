use telemetry_core::telemetry_event;

/// Sent when a command finishes.
#[telemetry_event(name = "cli.command_completed")]
pub struct CommandCompleted {
    /// The name says milliseconds, the kind says `Duration`: a bare number could be seconds.
    pub duration_ms: u64,
}

fn main() {}

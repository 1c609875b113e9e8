use telemetry_core::telemetry_event;

/// Sent when a command finishes.
#[telemetry_event(name = "cli.command_completed")]
pub struct CommandCompleted {
    pub exit_code: i32,
    /// Added to every event by the runtime: an event cannot set it.
    pub is_ci: bool,
}

fn main() {}

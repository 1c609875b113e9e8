use telemetry_core::telemetry_event;

/// Sent when a command finishes.
#[telemetry_event(name = "cli.command_completed")]
pub struct CommandCompleted {
    /// `Some(None)` would be neither sent nor absent.
    pub exit_code: Option<Option<i32>>,
}

fn main() {}

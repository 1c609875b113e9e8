use telemetry_core::telemetry_event;

/// Sent when a command finishes.
#[telemetry_event(name = "cli.command_completed")]
pub struct CommandCompleted {
    pub exit_code: i32,
    /// The git branch: could leak feature plans, never sent.
    pub branch: String,
}

fn main() {}

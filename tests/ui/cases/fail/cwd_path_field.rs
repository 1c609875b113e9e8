use telemetry_core::telemetry_event;

/// Sent when a command finishes.
#[telemetry_event(name = "cli.command_completed")]
pub struct CommandCompleted {
    pub exit_code: i32,
    /// The directory the user ran the command in: a path, never sent.
    pub cwd: String,
}

fn main() {}

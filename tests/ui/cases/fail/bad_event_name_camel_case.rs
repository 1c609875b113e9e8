use telemetry_core::telemetry_event;

/// Sent when a command finishes.
#[telemetry_event(name = "cli.CommandCompleted")]
pub struct CommandCompleted {
    pub exit_code: i32,
}

fn main() {}

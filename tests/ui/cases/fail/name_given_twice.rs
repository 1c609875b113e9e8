use telemetry_core::telemetry_event;

/// Sent when a command finishes.
#[telemetry_event(name = "cli.command_completed", name = "cli.command_done")]
pub struct CommandCompleted {
    pub exit_code: i32,
}

fn main() {}

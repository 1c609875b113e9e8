use telemetry_core::telemetry_event;

/// Sent when a command finishes.
#[telemetry_event(name = "cli.command_completed", crate = "acme kit")]
pub struct CommandCompleted {
    pub exit_code: i32,
}

fn main() {}

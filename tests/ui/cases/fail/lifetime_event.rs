use telemetry_core::telemetry_event;

/// Sent when a command finishes.
#[telemetry_event(name = "cli.command_completed")]
pub struct CommandCompleted<'a> {
    /// A borrowed value.
    pub exit_code: &'a i32,
}

fn main() {}

use telemetry_core::telemetry_event;

/// Sent when a command finishes.
#[telemetry_event(name = "cli.command_completed")]
pub struct CommandCompleted {
    pub exit_code: i32,
    /// The same property again, spelled as a raw identifier.
    pub r#exit_code: i64,
}

fn main() {}

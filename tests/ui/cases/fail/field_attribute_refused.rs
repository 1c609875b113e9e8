use telemetry_core::telemetry_event;

/// Sent when a command finishes.
#[telemetry_event(name = "cli.command_completed")]
pub struct CommandCompleted {
    /// Another macro could rewrite what the field holds.
    #[deprecated]
    pub exit_code: i32,
}

fn main() {}

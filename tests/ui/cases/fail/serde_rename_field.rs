use telemetry_core::telemetry_event;

/// Sent when a command finishes.
#[telemetry_event(name = "cli.command_completed")]
pub struct CommandCompleted {
    /// Reviewed as `exit_code`, but would be sent under another name.
    #[serde(rename = "cwd")]
    pub exit_code: i32,
}

fn main() {}

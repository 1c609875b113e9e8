use telemetry_core::telemetry_event;

/// Sent when a command finishes.
#[telemetry_event(name = "cli.command_completed")]
#[serde(rename_all = "camelCase")]
pub struct CommandCompleted {
    /// Would be sent as `exitCode`, which nobody reviewed.
    pub exit_code: i32,
}

fn main() {}

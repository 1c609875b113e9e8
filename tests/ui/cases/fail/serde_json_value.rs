use telemetry_core::telemetry_event;

/// Sent when a command finishes.
#[telemetry_event(name = "cli.command_completed")]
pub struct CommandCompleted {
    /// Arbitrary JSON: strings, objects, anything.
    pub exit_code: serde_json::Value,
}

fn main() {}

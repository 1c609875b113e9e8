use telemetry_core::telemetry_event;

/// Sent when a command finishes.
#[telemetry_event(name = "cli.command_completed")]
pub struct CommandCompleted {
    pub exit_code: i32,
    /// Skipping would make the docs list a property that is never sent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub node_count: Option<u32>,
}

fn main() {}

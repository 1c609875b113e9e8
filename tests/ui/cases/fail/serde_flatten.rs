use telemetry_core::telemetry_event;

pub struct Extra {
    pub exit_code: i32,
}

/// Sent when a command finishes.
#[telemetry_event(name = "cli.command_completed")]
pub struct CommandCompleted {
    /// Flattening would send whatever `Extra` holds, unreviewed.
    #[serde(flatten)]
    pub exit_code: Extra,
}

fn main() {}

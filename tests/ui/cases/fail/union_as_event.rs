use telemetry_core::telemetry_event;

/// Sent when a command finishes.
#[telemetry_event(name = "cli.command_completed")]
pub union CommandCompleted {
    pub exit_code: i32,
    pub node_count: u32,
}

fn main() {}

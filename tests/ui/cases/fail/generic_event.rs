use telemetry_core::telemetry_event;

/// Sent when a command finishes.
#[telemetry_event(name = "cli.command_completed")]
pub struct CommandCompleted<T> {
    /// Any type at all: the allowlist could not check it.
    pub exit_code: T,
    pub node_count: u32,
}

fn main() {}

use telemetry_core::telemetry_event;

/// Sent when a command finishes.
#[telemetry_event(name = "cli.command_completed")]
pub struct CommandCompleted {
    pub exit_code: i32,
    /// Sent by debug builds only: the docs could not say what a build sends.
    #[cfg(debug_assertions)]
    pub node_count: u32,
}

fn main() {}

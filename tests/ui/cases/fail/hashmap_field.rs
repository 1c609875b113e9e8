use std::collections::HashMap;

use telemetry_core::telemetry_event;

/// Sent when a command finishes.
#[telemetry_event(name = "cli.command_completed")]
pub struct CommandCompleted {
    /// Any keys, any values: nothing the allowlist reviewed.
    pub exit_code: HashMap<String, i32>,
}

fn main() {}

use std::collections::BTreeMap;

use telemetry_core::telemetry_event;

/// Sent when a command finishes.
#[telemetry_event(name = "cli.command_completed")]
pub struct CommandCompleted {
    /// Any keys, any values: nothing the allowlist reviewed.
    pub node_count: BTreeMap<u32, u32>,
}

fn main() {}

use std::sync::Arc;

use telemetry_core::telemetry_event;

/// Sent when a command starts.
#[telemetry_event(name = "cli.command_invoked")]
pub struct CommandInvoked {
    /// A shared string is a string.
    pub command: Arc<str>,
}

fn main() {}

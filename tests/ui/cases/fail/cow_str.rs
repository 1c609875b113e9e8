use std::borrow::Cow;

use telemetry_core::telemetry_event;

/// Sent when a command starts.
#[telemetry_event(name = "cli.command_invoked")]
pub struct CommandInvoked {
    /// Borrowed or owned, still free text.
    pub command: Cow<'static, str>,
}

fn main() {}

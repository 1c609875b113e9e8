//! A field spelling a property with Cyrillic look-alike letters (`соmmand`) is told which.

use telemetry_core::telemetry_event;

/// Sent when a command finishes.
#[telemetry_event(name = "cli.command_completed")]
pub struct CommandCompleted {
    pub exit_code: i32,
    /// Looks like `command`.
    pub соmmand: u32,
}

fn main() {}

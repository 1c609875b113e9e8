use telemetry_core::telemetry_event;

/// Sent when a command finishes.
#[telemetry_event(name = "cli..completed")]
pub struct CommandCompleted {}

fn main() {}

use telemetry_core::telemetry_event;

/// Milliseconds, says the name.
pub struct Millis(pub u64);

/// Sent when a command finishes.
#[telemetry_event(name = "cli.command_completed")]
pub struct CommandCompleted {
    /// `duration_ms` takes a `std::time::Duration`.
    pub duration_ms: Millis,
}

fn main() {}

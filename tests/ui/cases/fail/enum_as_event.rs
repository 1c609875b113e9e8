use telemetry_core::telemetry_event;

/// Sent when a command starts or finishes.
#[telemetry_event(name = "cli.command")]
pub enum CommandEvent {
    Invoked,
    Completed { exit_code: i32 },
}

fn main() {}

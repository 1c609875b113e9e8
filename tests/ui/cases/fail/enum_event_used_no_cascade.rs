use telemetry_core::{Event, telemetry_event};

/// Sent when a command starts or finishes.
#[telemetry_event(name = "cli.command")]
pub enum CommandEvent {
    Invoked,
    Completed { exit_code: i32 },
}

fn record(_event: impl Event) {}

fn main() {
    record(CommandEvent::Invoked);
    record(CommandEvent::Completed { exit_code: 0 });
}

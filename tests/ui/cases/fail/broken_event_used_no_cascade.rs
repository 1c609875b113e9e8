use telemetry_core::{Event, telemetry_event};

/// Sent when a command finishes.
#[telemetry_event(name = "cli.command_completed")]
#[derive(Debug, Clone)]
pub struct CommandCompleted {
    pub exit_code: i32,
    /// The only error: the rest of the program still compiles against the event.
    pub cwd: String,
}

fn record(event: impl Event) -> &'static str {
    let _ = telemetry_core::properties_json(&event);
    <CommandCompleted as Event>::META.name
}

fn main() {
    let event = CommandCompleted {
        exit_code: 1,
        cwd: String::from("/home/me/secret"),
    };
    let _ = event.cwd.len();
    record(event.clone());
    record(event);
}

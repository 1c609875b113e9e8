use telemetry_core::{telemetry_event, telemetry_schema};

/// Sent when a command finishes.
#[telemetry_event(name = "cli.command_completed")]
pub struct CommandCompleted {
    /// Its exit code.
    pub exit_code: i32,
}

/// Not an event: no `#[telemetry_event]`.
pub struct Settings {
    pub verbose: bool,
}

telemetry_schema! {
    /// Every event of this program.
    pub static SCHEMA = [CommandCompleted, Settings];
}

fn main() {}

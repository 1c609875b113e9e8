use telemetry_core::{telemetry_event, telemetry_schema};

/// Sent when a command finishes.
#[telemetry_event(
    name = "cli.command_completed",
    allowlist = "allowlists/unknown_consent.toml"
)]
pub struct CommandCompleted {
    pub exit_code: i32,
}

telemetry_schema! {
    allowlist = "allowlists/unknown_consent.toml";
    /// Every event.
    pub static SCHEMA = [CommandCompleted];
}

fn main() {}

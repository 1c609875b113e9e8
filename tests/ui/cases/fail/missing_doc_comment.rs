use telemetry_core::telemetry_event;

#[telemetry_event(name = "cli.command_completed")]
pub struct CommandCompleted {
    pub exit_code: i32,
}

fn main() {}

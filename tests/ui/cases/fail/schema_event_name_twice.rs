use telemetry_core::{telemetry_event, telemetry_schema};

mod sync {
    use super::telemetry_event;

    /// Sent when a sync finishes.
    #[telemetry_event(name = "sync.finished")]
    pub struct Finished {
        /// Its exit code.
        pub exit_code: i32,
    }
}

/// Sent when a setup finishes (a copy-and-paste slip: it kept the other event's name).
#[telemetry_event(name = "sync.finished")]
pub struct SetupFinished {
    /// Its exit code.
    pub exit_code: i32,
}

/// Sent when a command finishes.
#[telemetry_event(name = "cli.command_completed")]
pub struct CommandCompleted {
    /// Its exit code.
    pub exit_code: i32,
}

telemetry_schema! {
    /// Every event of this program.
    pub static SCHEMA = [sync::Finished, CommandCompleted, SetupFinished];
}

fn main() {}

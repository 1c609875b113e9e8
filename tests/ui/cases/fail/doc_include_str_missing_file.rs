//! A doc `include_str!` of a missing file is reported by rustc alone, not as a missing doc.

use telemetry_core::telemetry_event;

#[doc = include_str!("docs/no_such_file.md")]
#[telemetry_event(name = "cli.command_completed")]
pub struct CommandCompleted {
    pub exit_code: i32,
}

fn main() {}

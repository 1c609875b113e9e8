//! An event's description cannot come from a macro the event macro cannot read when it runs.

use telemetry_core::telemetry_event;

macro_rules! when_sent {
    () => {
        "Sent when a command finishes."
    };
}

/// A first line.
#[doc = when_sent!()]
#[telemetry_event(name = "cli.command_completed")]
pub struct CommandCompleted {
    pub exit_code: i32,
}

fn main() {}

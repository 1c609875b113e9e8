//! An `Option` behind a type alias fails to compile: the metadata reads the field's spelling,
//! so the page would list the property as always sent while `None` leaves it out (found by a
//! code review of the red-team's fixes).

use telemetry_core::telemetry_event;

type Maybe<T> = Option<T>;

/// Sent when a command finishes.
#[telemetry_event(name = "cli.command_completed")]
pub struct CommandCompleted {
    pub exit_code: Maybe<i32>,
}

fn main() {}

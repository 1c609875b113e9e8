//! An event listed twice under two paths is reported at the second one (found by a red-team
//! review: the error spanned the whole macro).

use telemetry_core::{telemetry_event, telemetry_schema};

mod events {
    /// Sent when the program starts.
    #[telemetry_core::telemetry_event(name = "binary.startup")]
    pub struct Startup {}
}

use events::Startup;

/// Sent when a command is invoked.
#[telemetry_event(name = "cli.command_invoked")]
pub struct Invoked {}

telemetry_schema! {
    /// Every event.
    pub static SCHEMA = [Startup, Invoked, events::Startup];
}

fn main() {}

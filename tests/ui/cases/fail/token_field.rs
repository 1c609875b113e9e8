use telemetry_core::telemetry_event;

/// Sent when the user logs in.
#[telemetry_event(name = "auth.logged_in")]
pub struct LoggedIn {
    /// A secret: never sent.
    pub token: u64,
}

fn main() {}

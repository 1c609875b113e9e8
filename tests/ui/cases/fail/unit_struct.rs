use telemetry_core::telemetry_event;

/// Sent when the program starts.
#[telemetry_event(name = "binary.startup")]
pub struct Startup;

fn main() {}

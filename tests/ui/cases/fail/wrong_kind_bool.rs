use telemetry_core::telemetry_event;

/// Sent when a workflow starts.
#[telemetry_event(name = "workflow.run_started")]
pub struct RunStarted {
    /// `is_cli_invoked` is a `bool` property.
    pub is_cli_invoked: u8,
}

fn main() {}

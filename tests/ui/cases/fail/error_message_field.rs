use telemetry_core::telemetry_event;

/// Sent when a workflow run fails.
#[telemetry_event(name = "workflow.run_failed")]
pub struct RunFailed {
    /// The error's message: may name hosts, paths or user input.
    pub error_message: String,
}

fn main() {}

use telemetry_core::telemetry_event;

/// Sent when a workflow run fails.
#[telemetry_event(name = "workflow.run_failed")]
pub struct RunFailed {
    /// `error.to_string()` would be the message, not the class.
    pub error_class: String,
}

fn main() {}

use telemetry_core::telemetry_event;

/// Sent when a workflow run completes.
#[telemetry_event(name = "workflow.run_completed")]
pub struct RunCompleted {
    /// No kind takes a float.
    pub node_count: f64,
}

fn main() {}

use telemetry_core::telemetry_event;

/// Sent when a workflow run completes.
#[telemetry_event(name = "workflow.run_completed")]
pub struct RunCompleted {
    /// `node_count` is `unsigned`.
    pub node_count: i32,
}

fn main() {}

use telemetry_core::telemetry_event;

/// Sent when a workflow run completes.
#[telemetry_event(name = "workflow.run_completed")]
pub struct RunCompleted {
    /// Wide enough to hold a UUID or a hash: not an `unsigned` value.
    pub node_count: u128,
}

fn main() {}

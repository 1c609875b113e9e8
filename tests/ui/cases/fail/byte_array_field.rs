use telemetry_core::telemetry_event;

/// Sent when a workflow run completes.
#[telemetry_event(name = "workflow.run_completed")]
pub struct RunCompleted {
    /// Bytes can spell anything (a hash of a path, a name).
    pub node_count: [u8; 32],
}

fn main() {}

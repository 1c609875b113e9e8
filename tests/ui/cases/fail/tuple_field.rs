use telemetry_core::telemetry_event;

/// Sent when a workflow run completes.
#[telemetry_event(name = "workflow.run_completed")]
pub struct RunCompleted {
    /// Two values under one reviewed name.
    pub node_count: (u32, u32),
}

fn main() {}

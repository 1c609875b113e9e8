use telemetry_core::telemetry_event;
use telemetry_schema::WorkflowName;

/// Sent when a workflow run starts.
#[telemetry_event(name = "workflow.run_started")]
pub struct RunStarted {
    /// `provider` is an `enum`: a bucketed name could be `user-defined`, which it does not list.
    pub provider: WorkflowName,
}

fn main() {}

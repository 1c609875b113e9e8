use telemetry_core::telemetry_event;
use telemetry_schema::CommandName;

/// Sent when a workflow run starts.
#[telemetry_event(name = "workflow.run_started")]
pub struct RunStarted {
    /// Command names are not workflow names.
    pub workflow_name: CommandName,
}

fn main() {}

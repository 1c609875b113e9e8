use std::path::PathBuf;

use telemetry_core::telemetry_event;

/// Sent when a workflow run starts.
#[telemetry_event(name = "workflow.run_started")]
pub struct RunStarted {
    /// The workflow file: a path on the user's disk.
    pub workflow_name: PathBuf,
}

fn main() {}

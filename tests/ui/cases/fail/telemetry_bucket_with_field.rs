use telemetry_core::telemetry_bucket;

/// A workflow name.
#[telemetry_bucket(property = "workflow_name")]
pub struct WorkflowName(pub String);

fn main() {}

//! A derive the macro does not know (derive_more's `From`) on a bucket is refused, one error each.

use telemetry_core::telemetry_bucket;

/// A workflow: bundled ones by name, the user's own as `user-defined`.
#[telemetry_bucket(property = "workflow_name")]
#[derive(derive_more::From, serde::Serialize, Constructor)]
pub struct WorkflowName;

fn main() {
    let _ = WorkflowName::sanitize("assist");
}

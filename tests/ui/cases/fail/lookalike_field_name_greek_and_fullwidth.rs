//! Greek and full-width look-alikes in a field name are named too, each letter once.

use telemetry_core::telemetry_event;

/// Sent when a workflow run completes.
#[telemetry_event(name = "workflow.run_completed")]
pub struct RunCompleted {
    /// Two Greek omicrons: looks like `node_count`.
    pub nοde_cοunt: u32,
    /// Full-width `ｅ` and `＿`.
    pub ｅxit＿code: i32,
}

fn main() {}

//! Events about workflow runs.

use std::time::Duration;

use telemetry_core::{ErrorClass, telemetry_event};

use crate::values::{ErrorClassification, NodeType, Provider, WorkflowName};

/// Sent when a workflow run begins.
#[telemetry_event(name = "workflow.run_started")]
#[derive(Debug, Clone)]
pub struct RunStarted {
    /// The workflow (bundled name or `user-defined`).
    pub workflow_name: WorkflowName,
    /// How many nodes it has.
    pub node_count: u32,
    /// The provider it runs on.
    pub provider: Provider,
    /// Whether it was started from the command line.
    pub is_cli_invoked: bool,
}

/// Sent when a workflow run ends successfully.
#[telemetry_event(name = "workflow.run_completed")]
#[derive(Debug, Clone)]
pub struct RunCompleted {
    /// The workflow (bundled name or `user-defined`).
    pub workflow_name: WorkflowName,
    /// How long it ran.
    pub duration_ms: Duration,
    /// How many nodes it has.
    pub node_count: u32,
    /// How many nodes finished.
    pub nodes_completed: u32,
}

/// Sent when a workflow run fails.
#[telemetry_event(name = "workflow.run_failed")]
#[derive(Debug, Clone)]
pub struct RunFailed {
    /// The workflow (bundled name or `user-defined`).
    pub workflow_name: WorkflowName,
    /// The class of the error it failed with.
    pub error_class: ErrorClass,
    /// The kind of node that failed, when one did.
    pub failed_node_type: Option<NodeType>,
    /// How long it ran before failing.
    pub duration_ms: Duration,
}

/// Sent when one node of a workflow fails, even if the workflow goes on.
#[telemetry_event(name = "workflow.node_failed")]
#[derive(Debug, Clone)]
pub struct NodeFailed {
    /// The workflow (bundled name or `user-defined`).
    pub workflow_name: WorkflowName,
    /// The kind of node.
    pub node_type: NodeType,
    /// Whether the failure is worth retrying.
    pub error_classification: ErrorClassification,
    /// The provider the node used.
    pub provider: Provider,
}

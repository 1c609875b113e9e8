//! `demo run <workflow>`: a pretend workflow of a few nodes, recording the workflow events.

use std::time::Instant;

use clap::ValueEnum;
use telemetry_core::{ErrorClass, Telemetry};
use telemetry_schema::{
    ErrorClassification, NodeFailed, NodeType, Provider, RunCompleted, RunFailed, RunStarted,
    WorkflowName,
};

/// Arguments of `demo run`.
#[derive(Debug, clap::Args)]
pub struct RunArgs {
    /// The workflow's name (bundled ones: assist, fix-github-issue, release-notes, ...)
    pub workflow: String,
    /// Make the second node fail
    #[arg(long)]
    pub fail: bool,
    /// The AI provider
    #[arg(long, value_enum, default_value_t = ProviderArg::Claude)]
    pub provider: ProviderArg,
    /// How many nodes the workflow has
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u32).range(1..=100))]
    pub nodes: u32,
}

/// An AI provider on the command line.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ProviderArg {
    /// Claude
    Claude,
    /// Codex
    Codex,
    /// A local model
    Local,
}

impl From<ProviderArg> for Provider {
    fn from(arg: ProviderArg) -> Self {
        match arg {
            ProviderArg::Claude => Provider::Claude,
            ProviderArg::Codex => Provider::Codex,
            ProviderArg::Local => Provider::Local,
        }
    }
}

/// A workflow node failed.
#[derive(Debug, thiserror::Error)]
#[error("workflow {workflow} failed at node {node} of {nodes} (bash): simulated failure")]
pub struct WorkflowError {
    workflow: String,
    node: u32,
    nodes: u32,
}

/// Runs the workflow, recording its events.
pub fn run(telemetry: &Telemetry, args: &RunArgs) -> Result<(), WorkflowError> {
    let started = Instant::now();
    let provider = Provider::from(args.provider);
    let name = WorkflowName::sanitize(&args.workflow);
    telemetry.track(&RunStarted {
        workflow_name: name,
        node_count: args.nodes,
        provider,
        is_cli_invoked: true,
    });
    println!(
        "Running workflow {} ({} nodes on {})...",
        args.workflow,
        args.nodes,
        provider.as_str()
    );
    if args.fail {
        let node = 2.min(args.nodes);
        let error = WorkflowError {
            workflow: args.workflow.clone(),
            node,
            nodes: args.nodes,
        };
        telemetry.track(&NodeFailed {
            workflow_name: name,
            node_type: NodeType::Bash,
            error_classification: ErrorClassification::Fatal,
            provider,
        });
        telemetry.track(&RunFailed {
            workflow_name: name,
            error_class: ErrorClass::of(&error),
            failed_node_type: Some(NodeType::Bash),
            duration_ms: started.elapsed(),
        });
        return Err(error);
    }
    telemetry.track(&RunCompleted {
        workflow_name: name,
        duration_ms: started.elapsed(),
        node_count: args.nodes,
        nodes_completed: args.nodes,
    });
    println!(
        "Workflow {} completed: {} of {} nodes.",
        args.workflow, args.nodes, args.nodes
    );
    Ok(())
}

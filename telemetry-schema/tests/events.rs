//! The reference events write exactly their declared properties, and all are in the schema.

use std::time::Duration;

use telemetry_core::{ErrorClass, Event, code_location, properties_json};
use telemetry_schema::*;

fn properties<E: Event>(event: &E) -> serde_json::Value {
    serde_json::from_str(&format!("{{{}}}", properties_json(event))).expect("valid JSON")
}

#[test]
fn command_completed_writes_its_properties() {
    let event = CommandCompleted {
        command: CommandName::sanitize("run"),
        subcommand: None,
        exit_code: 2,
        duration_ms: Duration::from_millis(1234),
        error_class: Some(ErrorClass::of(&std::fmt::Error)),
    };
    assert_eq!(
        properties(&event),
        serde_json::json!({"command": "run", "exit_code": 2, "duration_ms": 1234, "error_class": "Error"})
    );
    assert_eq!(CommandCompleted::META.name, "cli.command_completed");
    assert_eq!(
        CommandCompleted::META.description,
        "Sent when a command finishes, successfully or not."
    );
}

#[test]
fn enums_buckets_and_locations_are_written_as_strings() {
    let event = NodeFailed {
        workflow_name: WorkflowName::sanitize("acme-secret-deploy"),
        node_type: NodeType::Approval,
        error_classification: ErrorClassification::CreditExhausted,
        provider: Provider::Codex,
    };
    assert_eq!(
        properties(&event),
        serde_json::json!({"workflow_name": "user-defined", "node_type": "approval",
            "error_classification": "credit_exhausted", "provider": "codex"})
    );
    let uncaught = UncaughtError {
        error_class: ErrorClass::of_type::<std::io::Error>(),
        location: code_location!(),
    };
    assert_eq!(properties(&uncaught)["location"], "events");
}

#[test]
fn the_schema_lists_every_reference_event_once() {
    let names: Vec<&str> = SCHEMA.events_by_name().iter().map(|e| e.name).collect();
    assert_eq!(
        names,
        [
            "binary.startup",
            "cli.command_completed",
            "cli.command_invoked",
            "error.uncaught",
            "mcp.server_started",
            "setup.completed",
            "workflow.node_failed",
            "workflow.run_completed",
            "workflow.run_failed",
            "workflow.run_started",
        ]
    );
}

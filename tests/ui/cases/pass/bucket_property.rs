//! A `bucketed` property: a `#[telemetry_bucket]` name keeps the allowlist's known names and
//! sends every other name as `user-defined`.

use telemetry_core::{
    Event, PropertyKind, USER_DEFINED, properties_json, telemetry_bucket, telemetry_event,
};
use telemetry_schema::CommandName;

/// A workflow: bundled ones by name, the user's own as `user-defined`.
#[telemetry_bucket(property = "workflow_name")]
pub struct Workflow;

/// Sent when a workflow run starts.
#[telemetry_event(name = "workflow.run_started")]
pub struct RunStarted {
    pub workflow_name: Workflow,
    pub command: Option<CommandName>,
}

fn main() {
    assert_eq!(Workflow::sanitize("assist").as_str(), "assist");
    assert_eq!(
        Workflow::sanitize("acme-deploy-to-prod").as_str(),
        "user-defined"
    );
    assert_eq!(
        Workflow::sanitize("/home/me/flows/x.yaml"),
        Workflow::USER_DEFINED
    );
    assert_eq!(Workflow::sanitize("ASSIST").as_str(), USER_DEFINED);
    assert_eq!(Workflow::KNOWN.len(), 6);

    let event = RunStarted {
        workflow_name: Workflow::sanitize("my-internal-deploy"),
        command: Some(CommandName::sanitize("run")),
    };
    assert_eq!(
        properties_json(&event),
        r#""workflow_name":"user-defined","command":"run""#
    );
    let event = RunStarted {
        workflow_name: Workflow::sanitize("release-notes"),
        command: None,
    };
    assert_eq!(
        properties_json(&event),
        r#""workflow_name":"release-notes""#
    );

    let meta = <RunStarted as Event>::META;
    assert_eq!(
        meta.properties[0].kind,
        PropertyKind::Bucketed(Workflow::KNOWN)
    );
    assert_eq!(meta.properties[1].kind.values(), Some(CommandName::KNOWN));
    assert!(meta.properties[1].optional);
}

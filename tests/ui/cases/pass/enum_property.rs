//! An `enum` property: a fieldless `#[telemetry_enum]` enum, sent as its variant in snake_case;
//! two properties with the same values can share one enum.

use telemetry_core::{Event, PropertyKind, properties_json, telemetry_enum, telemetry_event};
use telemetry_schema::NodeType;

/// Whether a failure is worth retrying.
#[telemetry_enum(property = "error_classification")]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Classification {
    /// May succeed if retried.
    Transient,
    Fatal,
    CreditExhausted,
}

/// Sent when a workflow node fails.
#[telemetry_event(name = "workflow.node_failed")]
pub struct NodeFailed {
    pub error_classification: Classification,
    pub node_type: NodeType,
    pub failed_node_type: Option<NodeType>,
}

fn main() {
    assert_eq!(
        Classification::ALL,
        [
            Classification::Transient,
            Classification::Fatal,
            Classification::CreditExhausted
        ]
    );
    assert_eq!(Classification::CreditExhausted.as_str(), "credit_exhausted");

    let event = NodeFailed {
        error_classification: Classification::CreditExhausted,
        node_type: NodeType::Approval,
        failed_node_type: Some(NodeType::Bash),
    };
    assert_eq!(
        properties_json(&event),
        r#""error_classification":"credit_exhausted","node_type":"approval","failed_node_type":"bash""#
    );
    let event = NodeFailed {
        failed_node_type: None,
        ..event
    };
    assert_eq!(
        properties_json(&event),
        r#""error_classification":"credit_exhausted","node_type":"approval""#
    );

    let meta = <NodeFailed as Event>::META;
    assert_eq!(
        meta.properties[0].kind,
        PropertyKind::Enum(&["transient", "fatal", "credit_exhausted"])
    );
    assert_eq!(
        meta.properties[2].kind,
        PropertyKind::Enum(&["prompt", "command", "bash", "loop", "approval"])
    );
    assert!(meta.properties[2].optional);
}

//! A `bool` property, required and optional.

use telemetry_core::{Event, PropertyKind, properties_json, telemetry_event};

/// Sent when a workflow run starts.
#[telemetry_event(name = "workflow.run_started")]
pub struct RunStarted {
    pub is_cli_invoked: bool,
}

/// Sent when a workflow run starts, when it is known how.
#[telemetry_event(name = "workflow.run_started_maybe")]
pub struct RunStartedMaybe {
    pub is_cli_invoked: Option<bool>,
}

fn main() {
    assert_eq!(
        properties_json(&RunStarted {
            is_cli_invoked: true
        }),
        r#""is_cli_invoked":true"#
    );
    assert_eq!(
        properties_json(&RunStarted {
            is_cli_invoked: false
        }),
        r#""is_cli_invoked":false"#
    );
    assert_eq!(
        properties_json(&RunStartedMaybe {
            is_cli_invoked: Some(false)
        }),
        r#""is_cli_invoked":false"#
    );
    assert_eq!(
        properties_json(&RunStartedMaybe {
            is_cli_invoked: None
        }),
        ""
    );

    let meta = <RunStarted as Event>::META;
    assert_eq!(meta.name, "workflow.run_started");
    assert_eq!(meta.properties.len(), 1);
    assert_eq!(meta.properties[0].name, "is_cli_invoked");
    assert_eq!(meta.properties[0].kind, PropertyKind::Bool);
    assert!(!meta.properties[0].optional);
    assert!(<RunStartedMaybe as Event>::META.properties[0].optional);
}

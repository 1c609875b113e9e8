//! An `error_class` property: the error's type name, never its message.

use telemetry_core::{ErrorClass, Event, PropertyKind, properties_json, telemetry_event};

#[derive(Debug)]
struct ConnectError {
    #[allow(dead_code)]
    host: String,
}

/// Sent when a workflow run fails.
#[telemetry_event(name = "workflow.run_failed")]
pub struct RunFailed {
    pub error_class: ErrorClass,
}

/// Sent when a command finishes, failed or not.
#[telemetry_event(name = "cli.command_completed")]
pub struct CommandCompleted {
    pub error_class: Option<ErrorClass>,
}

fn main() {
    let error = ConnectError {
        host: "internal-vpn.acme.com".into(),
    };
    let event = RunFailed {
        error_class: ErrorClass::of(&error),
    };
    assert_eq!(properties_json(&event), r#""error_class":"ConnectError""#);

    let io = std::io::Error::new(std::io::ErrorKind::NotFound, "/home/me/secret");
    let event = CommandCompleted {
        error_class: Some(ErrorClass::of(&io)),
    };
    assert_eq!(
        properties_json(&event),
        r#""error_class":"io::Error(NotFound)""#
    );
    assert_eq!(properties_json(&CommandCompleted { error_class: None }), "");

    assert_eq!(
        <RunFailed as Event>::META.properties[0].kind,
        PropertyKind::ErrorClass
    );
}

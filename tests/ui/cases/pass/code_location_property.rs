//! A `code_location` property: a module path inside the program, never a file path.

use telemetry_core::{
    CodeLocation, ErrorClass, Event, PropertyKind, properties_json, telemetry_event,
};

mod commands {
    pub mod run {
        pub fn here() -> telemetry_core::CodeLocation {
            telemetry_core::code_location!()
        }
    }
}

/// Sent when an error reaches the top of the program.
#[telemetry_event(name = "error.uncaught")]
pub struct UncaughtError {
    pub error_class: ErrorClass,
    pub location: CodeLocation,
}

/// Sent when an error reaches the top of the program, wherever it came from.
#[telemetry_event(name = "error.uncaught_somewhere")]
pub struct MaybeLocated {
    pub location: Option<CodeLocation>,
}

fn main() {
    let location = commands::run::here();
    assert_eq!(
        location.as_str(),
        format!("{}::commands::run", module_path!())
    );
    assert!(!location.as_str().contains('/'));

    let event = UncaughtError {
        error_class: ErrorClass::of_type::<std::fmt::Error>(),
        location,
    };
    assert_eq!(
        properties_json(&event),
        format!(
            r#""error_class":"Error","location":"{}::commands::run""#,
            module_path!()
        )
    );
    assert_eq!(properties_json(&MaybeLocated { location: None }), "");

    let meta = <UncaughtError as Event>::META;
    assert_eq!(meta.properties[1].kind, PropertyKind::CodeLocation);
}

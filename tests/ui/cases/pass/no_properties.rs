//! An event with no properties of its own: it carries only the common properties.

use telemetry_core::{Event, properties_json, telemetry_event};

/// Sent when the program starts.
#[telemetry_event(name = "binary.startup")]
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Startup {}

/// Sent when an HTTP/2 server starts (digits are fine in a name).
#[telemetry_event(name = "http2.server_started")]
pub struct Http2ServerStarted {}

fn main() {
    assert_eq!(properties_json(&Startup::default()), "");
    assert_eq!(properties_json(&Http2ServerStarted {}), "");

    let meta = <Startup as Event>::META;
    assert_eq!(meta.name, "binary.startup");
    assert_eq!(meta.description, "Sent when the program starts.");
    assert!(meta.properties.is_empty());
    assert_eq!(meta.type_name, "Startup");
    assert_eq!(
        <Http2ServerStarted as Event>::META.name,
        "http2.server_started"
    );
}

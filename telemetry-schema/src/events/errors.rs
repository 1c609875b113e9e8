//! Events about errors nothing else handled.

use telemetry_core::{CodeLocation, ErrorClass, telemetry_event};

/// Sent when an error reaches the top of the program without being handled.
#[telemetry_event(name = "error.uncaught")]
#[derive(Debug, Clone)]
pub struct UncaughtError {
    /// The error's type name.
    pub error_class: ErrorClass,
    /// The module where it surfaced.
    pub location: CodeLocation,
}

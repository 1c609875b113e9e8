//! A free-form type written with its crate or module (`std::path::PathBuf`) is refused by name.

use telemetry_core::telemetry_event;

/// Sent when a workflow run starts.
#[telemetry_event(name = "workflow.run_started")]
pub struct RunStarted {
    /// A path on the user's disk.
    pub workflow_name: std::path::PathBuf,
    /// Text from the OS.
    pub command: std::ffi::OsString,
    /// The user's address.
    pub subcommand: ::std::net::IpAddr,
    /// Any JSON object.
    pub node_type: serde_json::Map<String, serde_json::Value>,
}

fn main() {}

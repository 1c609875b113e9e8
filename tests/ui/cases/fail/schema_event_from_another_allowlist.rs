//! A schema refuses an event checked against another allowlist than its own: the page
//! documents the schema's allowlist, so the event could send a property it does not list, or
//! list one as another kind (found by a red-team review).

use telemetry_core::{telemetry_event, telemetry_schema};

/// Sent when a tool is used.
#[telemetry_event(name = "tool.used", allowlist = "allowlists/other_command.toml")]
pub struct ToolUsed {
    /// A property only the other allowlist has.
    pub tool: Tool,
}

/// Another program's tool.
#[telemetry_core::telemetry_bucket(property = "tool", allowlist = "allowlists/other_command.toml")]
pub struct Tool;

/// Sent when the program starts.
#[telemetry_event(name = "binary.startup")]
pub struct Startup {}

telemetry_schema! {
    /// Every event.
    pub static SCHEMA = [Startup, ToolUsed];
}

fn main() {}

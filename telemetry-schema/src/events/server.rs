//! Events of a long-running server (an MCP server).

use telemetry_core::telemetry_event;

use crate::values::Transport;

/// Sent when an MCP server starts serving.
#[telemetry_event(name = "mcp.server_started")]
#[derive(Debug, Clone)]
pub struct McpServerStarted {
    /// How it talks to its clients.
    pub transport: Transport,
    /// How many tools it offers.
    pub tool_count: u32,
}

//! Events about installation and first-run setup.

use telemetry_core::telemetry_event;

use crate::values::{InstallMethod, Provider};

/// Sent when first-run setup finishes.
#[telemetry_event(name = "setup.completed")]
#[derive(Debug, Clone)]
pub struct SetupCompleted {
    /// How the program was installed.
    pub install_method: InstallMethod,
    /// The assistant chosen as default.
    pub default_assistant: Provider,
}

use telemetry_core::telemetry_event;
use telemetry_schema::Provider;

/// Sent when setup finishes.
#[telemetry_event(name = "setup.completed")]
pub struct SetupCompleted {
    /// `Provider`'s values are claude, codex, local; `install_method`'s are not.
    pub install_method: Provider,
}

fn main() {}

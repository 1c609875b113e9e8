use telemetry_core::{Event, telemetry_enum, telemetry_event};

/// An AI provider, with one variant the allowlist does not list.
#[telemetry_enum(property = "provider")]
#[derive(Debug, Clone, Copy)]
pub enum Provider {
    Claude,
    Codex,
    Local,
    Gemini,
}

/// Sent when a workflow run starts.
#[telemetry_event(name = "workflow.run_started")]
pub struct RunStarted {
    /// Uses the broken enum: reports nothing more.
    pub provider: Provider,
}

fn record(event: impl Event) {
    let _ = telemetry_core::properties_json(&event);
}

fn main() {
    record(RunStarted {
        provider: Provider::Gemini,
    });
    let _ = Provider::Codex.as_str();
}

use telemetry_core::telemetry_enum;

/// An AI provider.
#[telemetry_enum(property = "provider")]
pub enum Provider {
    Claude,
    Codex,
}

fn main() {}

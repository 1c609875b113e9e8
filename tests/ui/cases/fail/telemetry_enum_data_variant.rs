use telemetry_core::telemetry_enum;

/// An AI provider.
#[telemetry_enum(property = "provider")]
pub enum Provider {
    Claude,
    Codex,
    /// The model's name would be sent with it.
    Local(String),
}

fn main() {}

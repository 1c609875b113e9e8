use telemetry_core::telemetry_enum;

/// An AI provider.
#[telemetry_enum(property = "provider")]
pub struct Provider(pub String);

fn main() {}

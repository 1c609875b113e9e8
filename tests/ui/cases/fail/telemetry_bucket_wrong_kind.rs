use telemetry_core::telemetry_bucket;

/// `provider` is an `enum` property, not a bucketed name.
#[telemetry_bucket(property = "provider")]
pub struct ProviderName;

fn main() {}

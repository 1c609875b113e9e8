use telemetry_core::telemetry_enum;

/// A git branch kind.
#[telemetry_enum(property = "branch")]
pub enum Branch {
    Main,
    Feature,
}

fn main() {}

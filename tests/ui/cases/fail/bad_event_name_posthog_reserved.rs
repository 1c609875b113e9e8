use telemetry_core::telemetry_event;

/// Sent when a page is viewed.
#[telemetry_event(name = "$pageview")]
pub struct PageView {}

fn main() {}

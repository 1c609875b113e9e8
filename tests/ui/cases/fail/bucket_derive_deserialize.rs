//! `#[derive(Deserialize)]` on a bucket is refused at the derive; the bucket is still generated.

use telemetry_core::telemetry_bucket;

/// A top-level command of the program.
#[telemetry_bucket(property = "command")]
#[derive(Debug, serde::Deserialize)]
pub struct CommandName;

fn main() {
    let _ = CommandName::sanitize("run").as_str();
}

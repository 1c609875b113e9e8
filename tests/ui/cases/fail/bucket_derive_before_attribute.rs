//! A derive above `#[telemetry_bucket]` sees a unit struct, whose constructor it cannot reach.

use telemetry_core::telemetry_bucket;

/// A top-level command of the program.
#[derive(serde::Deserialize)]
#[telemetry_bucket(property = "command")]
pub struct CommandName;

fn main() {}

//! Attributes but docs, lint levels, `cfg` and `derive` on a bucket are refused, one error each.

use telemetry_core::telemetry_bucket;

/// A top-level command of the program.
#[telemetry_bucket(property = "command")]
#[derive(Debug, serde::Serialize)]
#[serde(transparent)]
#[my_macros::constructor]
#[repr(transparent)]
pub struct CommandName;

fn main() {
    let _ = CommandName::sanitize("run");
}

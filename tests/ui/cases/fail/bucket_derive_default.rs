//! `#[derive(Default)]` on a bucket is refused (an empty name); reading derives are kept.

use telemetry_core::telemetry_bucket;

/// A subcommand of the program.
#[telemetry_bucket(property = "subcommand")]
#[derive(Clone, Default, PartialOrd, Ord)]
pub struct SubcommandName;

fn main() {
    let _ = SubcommandName::USER_DEFINED < SubcommandName::sanitize("status");
}

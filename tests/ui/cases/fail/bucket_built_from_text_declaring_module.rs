//! The module declaring a `#[telemetry_bucket]` cannot build one from text: its field is private.

use telemetry_core::telemetry_bucket;

/// A top-level command of the program.
#[telemetry_bucket(property = "command")]
pub struct CommandName;

fn main() {
    let leaked: &'static str = Box::leak(String::from("/home/me/secret").into_boxed_str());
    let _ = CommandName(leaked);
}

//! Nor can a struct literal naming the tuple field (`CommandName { 0: text }`) build one.

use telemetry_core::telemetry_bucket;

/// A top-level command of the program.
#[telemetry_bucket(property = "command")]
pub struct CommandName;

fn main() {
    let leaked: &'static str = Box::leak(String::from("/home/me/secret").into_boxed_str());
    let _ = CommandName { 0: leaked };
}

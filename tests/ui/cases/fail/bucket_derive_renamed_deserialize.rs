//! `Deserialize` imported under the name `Serialize` is not derived on a bucket: the `Serialize`
//! a bucket keeps is serde's own, named by its full path, so no bucket can be built from text.

use serde::Deserialize as Serialize;
use telemetry_core::telemetry_bucket;

/// A top-level command of the program.
#[telemetry_bucket(property = "command")]
#[derive(Debug, Serialize)]
pub struct CommandName;

fn main() {
    // serializing works, as with `serde::Serialize`...
    let _ = serde_json::to_string(&CommandName::sanitize("run"));
    // ...and no text becomes a bucket
    let _: CommandName = serde_json::from_str("\"/home/alice/secret-repo\"").unwrap();
}

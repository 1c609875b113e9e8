//! A child of the declaring module can neither build a bucket from text nor read its field.

use telemetry_core::telemetry_bucket;

/// A top-level command of the program.
#[telemetry_bucket(property = "command")]
pub struct CommandName;

mod child {
    pub fn from_text(text: String) -> super::CommandName {
        super::CommandName(Box::leak(text.into_boxed_str()))
    }

    pub fn inner(name: super::CommandName) -> &'static str {
        name.0
    }
}

fn main() {
    let _ = child::inner(child::from_text(String::from("/home/me/secret")));
}

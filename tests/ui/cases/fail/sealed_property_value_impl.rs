//! A `String` newtype cannot implement `PropertyValue` by hand: the trait is sealed.

use telemetry_core::kinds::PropertyValue;

pub struct Cwd(pub String);

impl PropertyValue for Cwd {
    fn write_json(&self, out: &mut String) {
        out.push_str(&self.0);
    }
}

fn main() {}

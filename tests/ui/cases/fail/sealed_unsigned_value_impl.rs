//! A `String` newtype cannot implement `UnsignedValue`: it needs the sealed `PropertyValue`.

use telemetry_core::kinds::UnsignedValue;

pub struct NodeCount(pub String);

impl UnsignedValue for NodeCount {}

fn main() {}

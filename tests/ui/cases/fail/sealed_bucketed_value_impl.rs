//! A `String` newtype cannot pass for a bucketed name by implementing `BucketedValue`: sealed.

use telemetry_core::kinds::{BucketedValue, PropertyValue};

pub struct WorkflowName(pub String);

impl PropertyValue for WorkflowName {
    fn write_json(&self, out: &mut String) {
        out.push_str(&self.0);
    }
}

impl BucketedValue for WorkflowName {
    const KNOWN: &'static [&'static str] = &["assist"];
    const PROPERTY: &'static str = "workflow_name";
}

fn main() {}

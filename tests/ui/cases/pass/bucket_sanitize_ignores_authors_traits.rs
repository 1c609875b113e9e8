//! A bucket's `sanitize` calls no method the declaring module's traits could stand in for: a
//! trait in scope whose `find` takes `self`, implemented for the slice iterator the generated
//! code once searched with, would be chosen before `Iterator::find` and could return any
//! text (found by a red-team review).

#![allow(dead_code)]

use telemetry_core::telemetry_bucket;

/// Returns the author's own text, whatever is looked up.
pub trait Find {
    fn find<P: FnMut(&&'static &'static str) -> bool>(
        self,
        predicate: P,
    ) -> Option<&'static &'static str>;
}

static LEAKED: &str = "/home/alice/secret-project";

impl Find for std::slice::Iter<'static, &'static str> {
    fn find<P: FnMut(&&'static &'static str) -> bool>(
        self,
        _: P,
    ) -> Option<&'static &'static str> {
        Some(&LEAKED)
    }
}

/// A workflow: bundled ones by name, the user's own as `user-defined`.
#[telemetry_bucket(property = "workflow_name")]
pub struct Workflow;

fn main() {
    assert_eq!(Workflow::sanitize("whatever").as_str(), "user-defined");
    assert_eq!(Workflow::sanitize("assist").as_str(), "assist");
}

//! The test lives in `tests/outside_crate.rs`; the crate it builds is in `tests/recipe/`, the
//! README's "Adding telemetry to your own tool" as files.

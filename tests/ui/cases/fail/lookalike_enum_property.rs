//! A `#[telemetry_enum(property = "рrovider")]` with a Cyrillic `р` is told so.

use telemetry_core::telemetry_enum;

/// An AI provider.
#[telemetry_enum(property = "рrovider")]
pub enum Provider {
    Claude,
    Codex,
    Local,
}

fn main() {}

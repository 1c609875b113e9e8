//! The example product's telemetry events: the only crate that knows product-specific names.
//!
//! Every event here is checked at compile time against `allowlist.toml` beside this crate's
//! `Cargo.toml`, and listed once in [`SCHEMA`]. `cargo run --bin gen-docs` writes
//! `docs/telemetry.md` from it. This crate depends on `telemetry-core` without its runtime:
//! declaring events and writing the page compile no network stack.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod events;
pub mod values;

pub use events::*;
pub use values::*;

telemetry_core::telemetry_schema! {
    /// Every event `demo` can send: what `demo telemetry catalog` and `docs/telemetry.md` list.
    pub static SCHEMA = [
        BinaryStartup,
        CommandInvoked,
        CommandCompleted,
        UncaughtError,
        McpServerStarted,
        SetupCompleted,
        RunStarted,
        RunCompleted,
        RunFailed,
        NodeFailed,
    ];
}

//! The product's telemetry events: the only crate that knows product-specific names.
//!
//! Every event here is checked at compile time against `allowlist.toml` beside this crate's
//! `Cargo.toml`. `cargo run --bin gen-docs` writes `docs/telemetry.md` from the same
//! declarations.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod docs;
pub mod events;
pub mod values;

pub use events::*;
pub use values::*;

/// The allowlist these events are checked against, as compiled into this crate.
pub const ALLOWLIST_TOML: &str = include_str!("../allowlist.toml");

/// Where the allowlist lives in the repository (for messages and the docs).
pub const ALLOWLIST_PATH: &str = "telemetry-schema/allowlist.toml";

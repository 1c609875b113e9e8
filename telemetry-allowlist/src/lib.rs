//! The privacy-reviewed telemetry allowlist: its data model, its parser and its checks.
//!
//! One TOML file lists every property an event may carry, the properties added to every
//! event, and what is never sent. The `#[telemetry_event]` macro reads it at compile time and
//! `gen-docs` reads it to write the documentation; nothing else parses it. Every problem is
//! reported with the file, line and column it comes from, and all problems of one file are
//! reported together.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod error;
mod model;
mod names;
mod parse;
mod raw;

pub use error::{AllowlistError, AllowlistErrors};
pub use model::{Allowlist, Kind, NeverSent, Property, Section, Sensitivity};
pub use names::{RESERVED_NAMES, closest_name, is_snake_case};
pub use parse::{parse, read};

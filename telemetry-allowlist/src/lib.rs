//! The privacy-reviewed telemetry allowlist: its data model, its parser and its checks.
//!
//! One TOML file holds what the product decides about its telemetry:
//!
//! - `[product]`: who makes the program and how its data is handled (its name, where deletion
//!   requests go, where the data lives and for how long, and whether telemetry is opt-in or
//!   opt-out), for the generated docs page and the runtime. Optional to the parser, checked when
//!   present.
//! - `[[property]]`: every property an event may carry, with its kind, sensitivity and meaning.
//! - `[[never_sent]]`: what is never sent, and why.
//!
//! The properties the runtime adds to every event are not listed: `telemetry-core` declares them
//! itself, and no `[[property]]` may take their names ([`COMMON_PROPERTY_NAMES`]).
//!
//! The `#[telemetry_event]` macro reads the file at compile time and `gen-docs` reads it to write
//! the documentation; nothing else parses it. Every problem is reported with the file, line and
//! column it comes from, and all problems of one file are reported together, in file order.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod error;
mod model;
mod names;
mod parse;
mod product;
mod raw;

pub use error::{AllowlistError, AllowlistErrors};
pub use model::{
    Allowlist, ClientIp, ConsentPolicy, Kind, NeverSent, Product, Property, Sensitivity,
};
pub use names::{
    COMMON_PROPERTY_NAMES, RESERVED_NAMES, closest_name, is_common_property, is_snake_case,
};
pub use parse::{parse, read};

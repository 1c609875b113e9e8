//! Attribute macros that declare telemetry events and their value types, checked at compile
//! time against the privacy-reviewed allowlist.
//!
//! Use them through `telemetry_core`, which re-exports them and holds what they generate code for.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod allowlist;
mod attr;
mod check;
mod ctxt;
mod expand;
mod fit;
mod krate;
mod model;
mod text_types;

use proc_macro::TokenStream;

/// Declares a telemetry event: `#[telemetry_event(name = "cli.command_completed")]` on a struct
/// with named fields, each named after an allowlisted property and typed to fit its kind.
///
/// The struct's doc comment says when the event is sent. The allowlist is found at
/// `allowlist = "path"` (relative to the file, as `include_str!`), else `allowlist.toml` beside
/// the crate's `Cargo.toml`, else the file the `TELEMETRY_ALLOWLIST` environment variable names
/// (for the crates of a workspace that share one allowlist and have none of their own). `crate =
/// "path"` names `telemetry_core` where the crate reaches it through a re-export (all four
/// macros take it).
#[proc_macro_attribute]
pub fn telemetry_event(args: TokenStream, input: TokenStream) -> TokenStream {
    expand::event::expand(args.into(), input.into()).into()
}

/// Declares the values of an `enum` property: `#[telemetry_enum(property = "provider")]` on a
/// fieldless enum whose variants, in snake_case, are exactly the values the allowlist lists.
#[proc_macro_attribute]
pub fn telemetry_enum(args: TokenStream, input: TokenStream) -> TokenStream {
    expand::value_enum::expand(args.into(), input.into()).into()
}

/// Declares a bucketed name: `#[telemetry_bucket(property = "workflow_name")] pub struct
/// WorkflowName;` becomes a type whose `sanitize(name)` keeps the allowlist's known names and
/// turns every other name into `user-defined`.
#[proc_macro_attribute]
pub fn telemetry_bucket(args: TokenStream, input: TokenStream) -> TokenStream {
    expand::bucket::expand(args.into(), input.into()).into()
}

/// Declares the program's telemetry schema: the `[product]` of its allowlist and every event it
/// can send, listed once.
///
/// ```ignore
/// telemetry_core::telemetry_schema! {
///     /// Every event `demo` can send.
///     pub static SCHEMA = [BinaryStartup, CommandInvoked, CommandCompleted];
/// }
/// ```
///
/// The runtime takes it (`TelemetryConfig::builder(&SCHEMA)`), and so does `gen-docs`.
/// Optional first lines `allowlist = "path";` and `crate = "path";` name the allowlist and the
/// path to `telemetry_core` as `#[telemetry_event]`'s arguments do. Recording an event that no
/// schema lists fails to compile; one listed only by another crate's schema is not recorded.
#[proc_macro]
pub fn telemetry_schema(input: TokenStream) -> TokenStream {
    expand::schema::expand(input.into()).into()
}

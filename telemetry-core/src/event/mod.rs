//! What an event is: its static description, the kinds of values it may carry, and how its
//! properties are written.
//!
//! Every trait here is sealed: its supertrait [`Sealed`] is reachable only through
//! `telemetry_core::__private`, which the macros' generated code names and no host should.

pub mod common;
pub mod kinds;
pub mod meta;
pub mod values;
pub mod writer;

use meta::EventMeta;
use writer::PropertyWriter;

/// The supertrait that seals [`Event`], [`PropertyValue`](writer::PropertyValue) and the
/// [kind traits](kinds): implemented by the code `#[telemetry_event]`, `#[telemetry_enum]` and
/// `#[telemetry_bucket]` generate, and for the standard types this crate accepts.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a telemetry event or value type",
    label = "declared by hand",
    note = "only `#[telemetry_event]` declares events, and only `#[telemetry_enum]` and `#[telemetry_bucket]` declare value types (besides the numbers, booleans, durations, `ErrorClass` and `CodeLocation` each kind accepts): a type of your own cannot choose what is sent"
)]
pub trait Sealed {}

/// A telemetry event: implemented by `#[telemetry_event]`, never by hand (the trait is sealed).
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a telemetry event",
    label = "not declared with `#[telemetry_event]`",
    note = "an event is a struct declared with `#[telemetry_event(name = \"area.what_happened\")]`, whose fields are allowlisted properties"
)]
pub trait Event: Sealed {
    /// The event's static description: its name, when it is sent, and its properties.
    const META: &'static EventMeta;

    /// Writes the event's own properties (not the common ones) as JSON object members.
    #[doc(hidden)]
    fn write_properties(&self, out: &mut PropertyWriter<'_>);

    /// A fingerprint (FNV-1a) of the allowlist the event's properties were checked against,
    /// which the schema listing it compares with its own (the one its page documents); 0 when
    /// unknown (an allowlist that could not be read, already reported, or an event declared by
    /// hand in this crate's tests). Only a number: the schema's message names its own file,
    /// and the event's other file is in the event's own `allowlist = "..."`.
    #[doc(hidden)]
    const __ALLOWLIST: u64 = 0;
}

/// An event listed in a [`telemetry_schema!`](crate::telemetry_schema): what the runtime
/// records. Implemented by `telemetry_schema!` for each event it lists, in the crate that
/// declares the event (Rust's orphan rule keeps another crate from listing it).
///
/// It proves that *a* schema lists the event, not that the program's does: an event a
/// library's own `telemetry_schema!` lists is `Listed` in every program that links the library.
/// [`Telemetry::track`](crate::Telemetry::track) therefore also checks, at run time, that the
/// program's schema lists it ([`Schema::lists`](crate::Schema::lists)), and records nothing
/// else.
#[diagnostic::on_unimplemented(
    message = "event `{Self}` is not listed in the program's `telemetry_schema!`",
    label = "add `{Self}` to the `telemetry_schema!` list",
    note = "the schema is what `gen-docs` and `telemetry catalog` list: an event missing from it would be sent without being documented",
    note = "a schema lists the events of its own crate: for events shared by several programs, see the README's \"Several programs and shared crates\""
)]
pub trait Listed: Event {
    /// Implementing this requires naming the hidden token: only `telemetry_schema!` does.
    #[doc(hidden)]
    fn __in_schema(_: SchemaToken);
}

/// The token [`Listed`]'s one method takes, reachable only through `__private`, so that only
/// `telemetry_schema!` implements it.
#[derive(Debug)]
pub struct SchemaToken(());

/// The JSON members an event writes for its own properties (`"command":"run","exit_code":0`),
/// without braces, common properties or anything else the runtime adds: for a host's tests of
/// its events.
///
/// ```
/// # use telemetry_core::{properties_json, telemetry_event};
/// /// Sent when a command finishes.
/// #[telemetry_event(name = "cli.command_completed")]
/// struct CommandCompleted {
///     /// Exit code.
///     exit_code: i32,
/// }
///
/// assert_eq!(properties_json(&CommandCompleted { exit_code: 2 }), r#""exit_code":2"#);
/// ```
pub fn properties_json<E: Event>(event: &E) -> String {
    let mut out = String::with_capacity(128);
    event.write_properties(&mut PropertyWriter::new(&mut out, true));
    out
}

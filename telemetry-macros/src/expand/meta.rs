//! The static metadata the runtime and the docs read: an event's `&EventMeta { .. }`.
//!
//! Written as Rust source text and parsed once (`str::parse` of a `TokenStream`), not built
//! token by token with `quote!`: inside rustc every token pushed is a call across the proc-macro
//! bridge, in a macro crate that a host's dev profile builds unoptimised, where parsing text is
//! one call to rustc's own lexer. An event's metadata is most of its tokens (each property's
//! name, kind, values, sensitivity and description); built token by token it was a quarter of
//! the instructions rustc spent on a crate of 200 events (callgrind, `scripts/bench-compile-time`).
//! The tokens get the call site's span, as `quote!`'s do: no error points into them.
//!
//! Every item whose value carries meaning (a kind, a sensitivity, a consent policy,
//! `user-defined`) is named through `__private`: a module of the author's passed as `crate =
//! "..."` that re-exports the library cannot replace one of them without spelling out
//! `__private` for all to see.

use std::fmt::Write as _;

use proc_macro2::TokenStream;
use quote::quote;
use telemetry_allowlist::{Kind, Property, Sensitivity};

/// One property of an event, as its metadata lists it: `optional` when the field is spelt
/// `Option<..>` (see `EventField::optional`). Asking the type system instead
/// (`<Optional<T>>::OPTIONAL`, an inherent constant for `Option<T>`) cost 200 events a third
/// more build time (`scripts/bench-compile-time`, 1.23x to 1.52x of serde's).
pub(crate) struct PropertyMetaOf<'a> {
    pub property: &'a Property,
    pub optional: bool,
}

/// `&<krate>::EventMeta { .. }` for an event named `name` with the doc comment `doc`, its
/// `properties` in field order, and the type name `type_name`.
pub(crate) fn event_meta(
    name: &str,
    doc: &str,
    properties: &[PropertyMetaOf<'_>],
    type_name: &str,
    krate: &TokenStream,
) -> TokenStream {
    let krate = krate.to_string();
    let mut text = String::with_capacity(256 + 256 * properties.len());
    let _ = write!(
        text,
        "&{krate}::EventMeta {{ name: {name:?}, description: {doc:?}, properties: &["
    );
    for PropertyMetaOf { property, optional } in properties {
        let _ = write!(
            text,
            "{krate}::PropertyMeta {{ name: {:?}, kind: ",
            property.name
        );
        kind(&mut text, &property.kind, &krate);
        let _ = write!(
            text,
            ", sensitivity: {krate}::__private::Sensitivity::{}, description: {:?}, optional: {optional} }},",
            sensitivity(property.sensitivity),
            property.description
        );
    }
    let _ = write!(text, "], type_name: {type_name:?} }}");
    // Every piece is a path, a literal written by `{:?}` (a valid Rust string literal) or a
    // `bool`, so the text parses; were it ever not to, the build stops with a message rather
    // than a panic.
    parse(&text).unwrap_or_else(|| {
        quote!(::core::compile_error!(
            "telemetry_event: the event's generated metadata did not parse (a bug: please report it)"
        ))
    })
}

/// `text` lexed by rustc itself where this runs inside it: `proc_macro2`'s `FromStr` first
/// lexes the text with its own lexer (to return an error rather than let rustc's panic), which
/// in an unoptimised macro crate cost more than the tokens it saved. Elsewhere (unit tests)
/// `proc_macro2`'s.
fn parse(text: &str) -> Option<TokenStream> {
    if proc_macro::is_available() {
        text.parse::<proc_macro::TokenStream>().ok().map(Into::into)
    } else {
        text.parse().ok()
    }
}

/// `<krate>::__private::PropertyKind::...` for `kind`, appended to `text`.
fn kind(text: &mut String, kind: &Kind, krate: &str) {
    let variant = match kind {
        Kind::Bool => "Bool",
        Kind::Unsigned => "Unsigned",
        Kind::Signed => "Signed",
        Kind::DurationMs => "DurationMs",
        Kind::Enum(_) => "Enum",
        Kind::Bucketed(_) => "Bucketed",
        Kind::ErrorClass => "ErrorClass",
        Kind::CodeLocation => "CodeLocation",
    };
    let _ = write!(text, "{krate}::__private::PropertyKind::{variant}");
    if let Kind::Enum(values) | Kind::Bucketed(values) = kind {
        text.push_str("(&[");
        for value in values {
            let _ = write!(text, "{value:?},");
        }
        text.push_str("])");
    }
}

/// The `Sensitivity` variant of `sensitivity`.
fn sensitivity(sensitivity: Sensitivity) -> &'static str {
    match sensitivity {
        Sensitivity::Technical => "Technical",
        Sensitivity::Interaction => "Interaction",
    }
}

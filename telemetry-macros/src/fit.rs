//! Recognising, from the written type alone, well-known types (numbers, `bool`, `Duration`) that
//! do not fit a property's kind.
//!
//! The trait bounds would refuse these too; recognising them here gives an error in the macro's
//! own words, stable across compiler versions. Any other type (an enum, a bucketed name, an
//! alias) is left to the trait bounds, and so is a bare `Duration`: unlike the primitives, it
//! may be the program's own `#[telemetry_enum]` (see `text_types` for the rule).

use syn::Type;
use telemetry_allowlist::Kind;

/// The well-known types the macro recognises.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Known {
    Bool,
    Unsigned,
    Signed,
    /// `u128`, `i128`: wider than what is sent.
    Wide,
    Float,
    Duration,
}

fn known(ty: &Type) -> Option<Known> {
    match ty {
        Type::Group(group) => known(&group.elem),
        Type::Paren(paren) => known(&paren.elem),
        Type::Path(path) if path.qself.is_none() => {
            let segments: Vec<String> = path
                .path
                .segments
                .iter()
                .map(|s| s.ident.to_string())
                .collect();
            if path.path.segments.iter().any(|s| !s.arguments.is_empty()) {
                return None;
            }
            let segments: Vec<&str> = segments.iter().map(String::as_str).collect();
            match segments.as_slice() {
                ["bool"] => Some(Known::Bool),
                ["u8" | "u16" | "u32" | "u64" | "usize"] => Some(Known::Unsigned),
                ["i8" | "i16" | "i32" | "i64" | "isize"] => Some(Known::Signed),
                ["u128" | "i128"] => Some(Known::Wide),
                ["f32" | "f64"] => Some(Known::Float),
                ["std" | "core", "time", "Duration"] => Some(Known::Duration),
                _ => None,
            }
        }
        _ => None,
    }
}

fn fits(known: Known, kind: &Kind) -> bool {
    matches!(
        (known, kind),
        (Known::Bool, Kind::Bool)
            | (Known::Unsigned, Kind::Unsigned)
            | (Known::Signed, Kind::Signed)
            | (Known::Duration, Kind::DurationMs)
    )
}

/// Why `ty`, a well-known type, does not fit `kind`; `None` when it fits or is not well known.
pub(crate) fn misfit(ty: &Type, kind: &Kind, property: &str) -> Option<String> {
    let known = known(ty)?;
    if fits(known, kind) {
        return None;
    }
    let ty_text = quote::quote!(#ty).to_string().replace(' ', "");
    let why = match known {
        Known::Wide => " (no property takes integers wider than 64 bits)",
        Known::Float => " (no property takes floating-point numbers)",
        _ => "",
    };
    Some(format!(
        "property `{property}` is `{}` in the allowlist: `{ty_text}` does not fit{why}; {}",
        kind.keyword(),
        hint(kind, property)
    ))
}

/// What to write for a property of `kind`.
pub(crate) fn hint(kind: &Kind, property: &str) -> String {
    match kind {
        Kind::Bool => "use `bool`".into(),
        Kind::Unsigned => "use `u8`, `u16`, `u32`, `u64` or `usize`".into(),
        Kind::Signed => "use `i8`, `i16`, `i32`, `i64` or `isize`".into(),
        Kind::DurationMs => "use `std::time::Duration` (it is sent in whole milliseconds)".into(),
        Kind::Enum(values) => format!(
            "use a fieldless enum marked `#[telemetry_enum(property = \"{property}\")]`, one variant per value: {}",
            values.join(", ")
        ),
        Kind::Bucketed(_) => format!(
            "use a unit struct marked `#[telemetry_bucket(property = \"{property}\")]` and build its value with `sanitize(name)`"
        ),
        Kind::ErrorClass => {
            "use `telemetry_core::ErrorClass`, built with `ErrorClass::of(&error)`".into()
        }
        Kind::CodeLocation => {
            "use `telemetry_core::CodeLocation`, built with `telemetry_core::code_location!()`"
                .into()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn misfit_of(ty: &str, kind: &Kind) -> Option<String> {
        misfit(&syn::parse_str::<Type>(ty).unwrap(), kind, "p")
    }

    #[test]
    fn well_known_types_are_checked_against_the_kind() {
        assert!(misfit_of("u8", &Kind::Unsigned).is_none());
        assert!(misfit_of("std::time::Duration", &Kind::DurationMs).is_none());
        assert!(misfit_of("i32", &Kind::Unsigned).is_some());
        assert!(misfit_of("u64", &Kind::DurationMs).is_some());
        assert!(misfit_of("f64", &Kind::Signed).is_some());
        assert!(misfit_of("u128", &Kind::Unsigned).is_some());
        assert!(misfit_of("bool", &Kind::Enum(vec!["a".into()])).is_some());
    }

    #[test]
    fn other_types_are_left_to_the_trait_bounds() {
        assert!(misfit_of("Provider", &Kind::Unsigned).is_none());
        assert!(misfit_of("chrono::Duration", &Kind::Bool).is_none());
        assert!(misfit_of("MyAlias", &Kind::DurationMs).is_none());
        // Perhaps `#[telemetry_enum] enum Duration { Short, Long }`.
        assert!(misfit_of("Duration", &Kind::Enum(vec!["short".into()])).is_none());
    }
}

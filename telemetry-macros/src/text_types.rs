//! Recognising, from the written type alone, values that could carry free-form user data.
//!
//! The trait bounds refuse every such type too, and they are the final word; recognising a type
//! here gives an error in the macro's own words, which names the problem and what to use
//! instead. A macro sees only the path as written, not what it resolves to, so a type is refused
//! by name only when the path leaves no doubt which type it is:
//!
//! - `String`, `str` and `char`, bare: the prelude's and the primitives (a program that declares
//!   its own `String` for telemetry has bigger problems);
//! - a well-known container written with its type arguments (`Vec<T>`, `HashMap<K, V>`,
//!   `Cow<'_, str>`, `Box<str>`...): `#[telemetry_enum]` and `#[telemetry_bucket]` declare no
//!   generic types, so such a path is never one of the program's own value types;
//! - a name under a known crate or module (`std::path::PathBuf`, `serde_json::Value`,
//!   `url::Url`, `http::Uri`...).
//!
//! Any other path, such as a bare `Path`, `Value`, `Url` or `PathBuf`, may be the program's own
//! `#[telemetry_enum]` or `#[telemetry_bucket]` type, and is left to the trait bounds, which say
//! "`X` cannot be the value of a `bucketed` property" for std's.

use syn::{GenericArgument, PathArguments, Type, TypePath};

/// Why a type can never be the value of a property, when it is one of the known free-form,
/// map or collection types.
pub(crate) fn refusal(ty: &Type) -> Option<String> {
    match ty {
        Type::Reference(reference) => Some(refusal(&reference.elem).unwrap_or_else(|| {
            "a reference cannot be a property value: store the value itself".into()
        })),
        Type::Slice(_) | Type::Array(_) => Some(collection()),
        Type::Tuple(tuple) if !tuple.elems.is_empty() => Some(
            "a tuple cannot be a property value: declare one allowlisted property per value".into(),
        ),
        Type::TraitObject(_) | Type::ImplTrait(_) => Some(
            "a trait object cannot be a property value: its contents are not known at compile time"
                .into(),
        ),
        Type::Group(group) => refusal(&group.elem),
        Type::Paren(paren) => refusal(&paren.elem),
        Type::Path(path) if path.qself.is_none() => path_refusal(path),
        _ => None,
    }
}

/// What a well-known type is, which says why it is refused.
#[derive(Clone, Copy)]
enum What {
    FreeText,
    PathOrAddress,
    /// Arbitrary structured data (JSON, TOML, YAML).
    AnyValue(&'static str),
    Map,
    Collection,
    /// `Box`, `Rc`, `Arc`: as what they hold.
    Pointer,
}

/// Generic containers: recognised by name when written with type arguments.
const GENERIC: &[(&str, What)] = &[
    ("Cow", What::FreeText),
    ("HashMap", What::Map),
    ("BTreeMap", What::Map),
    ("IndexMap", What::Map),
    ("Vec", What::Collection),
    ("VecDeque", What::Collection),
    ("HashSet", What::Collection),
    ("BTreeSet", What::Collection),
    ("IndexSet", What::Collection),
    ("LinkedList", What::Collection),
    ("BinaryHeap", What::Collection),
    ("SmallVec", What::Collection),
    ("Box", What::Pointer),
    ("Rc", What::Pointer),
    ("Arc", What::Pointer),
];

/// Names recognised under a known crate or module: (first segment(s), last segment, what).
const QUALIFIED: &[(&[&str], &str, What)] = &[
    (STD, "String", What::FreeText),
    (STD, "str", What::FreeText),
    (STD, "char", What::FreeText),
    (STD, "OsString", What::FreeText),
    (STD, "OsStr", What::FreeText),
    (STD, "CString", What::FreeText),
    (STD, "CStr", What::FreeText),
    (STD, "PathBuf", What::PathOrAddress),
    (STD, "Path", What::PathOrAddress),
    (STD, "IpAddr", What::PathOrAddress),
    (STD, "Ipv4Addr", What::PathOrAddress),
    (STD, "Ipv6Addr", What::PathOrAddress),
    (STD, "SocketAddr", What::PathOrAddress),
    (STD, "SocketAddrV4", What::PathOrAddress),
    (STD, "SocketAddrV6", What::PathOrAddress),
    (&["camino"], "Utf8PathBuf", What::PathOrAddress),
    (&["camino"], "Utf8Path", What::PathOrAddress),
    (&["url"], "Url", What::PathOrAddress),
    (
        &["http", "hyper", "axum", "reqwest"],
        "Uri",
        What::PathOrAddress,
    ),
    (&["reqwest"], "Url", What::PathOrAddress),
    (&["smol_str"], "SmolStr", What::FreeText),
    (&["compact_str"], "CompactString", What::FreeText),
    (&["serde_json"], "Value", What::AnyValue("JSON")),
    (&["serde_json"], "Map", What::AnyValue("JSON")),
    (&["toml"], "Value", What::AnyValue("TOML")),
    (&["toml"], "Table", What::AnyValue("TOML")),
    (
        &["serde_yaml", "serde_yml"],
        "Value",
        What::AnyValue("YAML"),
    ),
    (
        &["serde_yaml", "serde_yml"],
        "Mapping",
        What::AnyValue("YAML"),
    ),
];

/// The standard library's crates.
const STD: &[&str] = &["std", "core", "alloc"];

fn path_refusal(path: &TypePath) -> Option<String> {
    let segments = &path.path.segments;
    let last = segments.last()?;
    let name = last.ident.to_string();
    let has_type_arguments = match &last.arguments {
        PathArguments::AngleBracketed(args) => args
            .args
            .iter()
            .any(|arg| matches!(arg, GenericArgument::Type(_))),
        _ => false,
    };
    let what = if segments.len() == 1 && matches!(name.as_str(), "String" | "str" | "char") {
        Some(What::FreeText)
    } else if segments.len() > 1 {
        let first = segments.first()?.ident.to_string();
        QUALIFIED
            .iter()
            .find(|(crates, n, _)| *n == name && crates.contains(&first.as_str()))
            .map(|(_, _, what)| *what)
    } else {
        None
    };
    let what = what.or_else(|| {
        let known = GENERIC.iter().find(|(n, _)| *n == name)?;
        // A generic container is known by its type arguments (or by its crate).
        let qualified =
            segments.len() > 1 && STD.contains(&segments.first()?.ident.to_string().as_str());
        (has_type_arguments || qualified).then_some(known.1)
    })?;
    let written = if segments.len() > 1 {
        let names: Vec<String> = segments.iter().map(|s| s.ident.to_string()).collect();
        names.join("::")
    } else {
        name.clone()
    };
    match what {
        What::FreeText => Some(free_text(&written)),
        What::PathOrAddress => Some(format!(
            "`{written}` is a path or address, which identifies the user's files or infrastructure and is never sent; use an enum (`#[telemetry_enum]`) or a bucketed name (`#[telemetry_bucket]`)"
        )),
        What::AnyValue(format) => Some(format!(
            "`{written}` is arbitrary {format}, which can hold any text, list or map and bypasses the allowlist; declare one allowlisted property per value"
        )),
        What::Map => Some(format!(
            "`{written}` is a map of free-form keys and values, which bypasses the allowlist; declare one allowlisted property per value"
        )),
        What::Collection => Some(collection()),
        // `Box<str>` is refused as `str`; `Box<u32>` is left to the trait bounds.
        What::Pointer => match &last.arguments {
            PathArguments::AngleBracketed(args) => args.args.iter().find_map(|arg| match arg {
                GenericArgument::Type(inner) => refusal(inner),
                _ => None,
            }),
            _ => None,
        },
    }
}

fn free_text(name: &str) -> String {
    format!(
        "`{name}` is free-form text, which may carry user data (paths, names, messages); use an enum (`#[telemetry_enum]`), a bucketed name (`#[telemetry_bucket]`) or a number"
    )
}

fn collection() -> String {
    "a collection cannot be a property value: it can carry any number of free-form values; declare one allowlisted property per value, or send a count".into()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(ty: &str) -> bool {
        refusal(&syn::parse_str::<Type>(ty).unwrap()).is_some()
    }

    #[test]
    fn free_form_types_are_refused() {
        for ty in [
            "String",
            "std::string::String",
            "&'static str",
            "std::borrow::Cow<'static, str>",
            "Cow<'static, str>",
            "std::path::PathBuf",
            "std::path::Path",
            "std::ffi::OsString",
            "Vec<u8>",
            "HashMap<u8, u8>",
            "std::collections::HashMap<u8, u8>",
            "serde_json::Value",
            "serde_json::value::Value",
            "::serde_json::Map",
            "toml::Value",
            "url::Url",
            "http::Uri",
            "std::net::IpAddr",
            "Box<str>",
            "std::sync::Arc<str>",
            "[u8; 4]",
            "(u8, u8)",
            "Box<dyn std::any::Any>",
            "char",
        ] {
            assert!(refused(ty), "{ty} should be refused");
        }
    }

    #[test]
    fn the_programs_own_types_are_left_to_the_trait_bounds() {
        for ty in [
            "u32",
            "bool",
            "std::time::Duration",
            "Provider",
            "Box<u32>",
            // Possibly the program's own `#[telemetry_enum]` / `#[telemetry_bucket]` types.
            "Value",
            "kinds::Value",
            "Path",
            "crate::kinds::Path",
            "Url",
            "Uri",
            "Map",
            "PathBuf",
            "OsString",
            "HashMap",
            "values::Vec",
        ] {
            assert!(!refused(ty), "{ty} should be left to the trait bounds");
        }
    }

    #[test]
    fn the_message_names_the_type_as_written() {
        let message = refusal(&syn::parse_str::<Type>("toml::Value").unwrap()).unwrap();
        assert!(
            message.starts_with("`toml::Value` is arbitrary TOML"),
            "{message}"
        );
    }
}

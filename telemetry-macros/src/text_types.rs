//! Recognising, from the written type alone, values that could carry free-form user data.
//!
//! The trait bounds would refuse these too; recognising them here gives an error in the macro's
//! own words, which names the problem and what to use instead.

use syn::{GenericArgument, PathArguments, Type};

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
        Type::Path(path) if path.qself.is_none() => {
            let last = path.path.segments.last()?;
            let name = last.ident.to_string();
            match name.as_str() {
                "String" | "str" | "Cow" | "OsString" | "OsStr" | "CString" | "CStr" | "char" => {
                    Some(free_text(&name))
                }
                "PathBuf" | "Path" | "Url" | "Uri" => Some(format!(
                    "`{name}` is a path or address, which identifies the user's files or infrastructure and is never sent; use an enum (`#[telemetry_enum]`) or a bucketed name (`#[telemetry_bucket]`)"
                )),
                "Value" => Some(
                    "`Value` is arbitrary JSON, which can hold any text, list or map and bypasses the allowlist; declare one allowlisted property per value".into(),
                ),
                "Map" | "HashMap" | "BTreeMap" | "IndexMap" => Some(format!(
                    "`{name}` is a map of free-form keys and values, which bypasses the allowlist; declare one allowlisted property per value"
                )),
                "Vec" | "VecDeque" | "HashSet" | "BTreeSet" | "IndexSet" | "LinkedList"
                | "BinaryHeap" => Some(collection()),
                "Box" | "Rc" | "Arc" => match &last.arguments {
                    PathArguments::AngleBracketed(args) => {
                        args.args.iter().find_map(|arg| match arg {
                            GenericArgument::Type(inner) => refusal(inner),
                            _ => None,
                        })
                    }
                    _ => None,
                },
                _ => None,
            }
        }
        _ => None,
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
            "&'static str",
            "std::borrow::Cow<'static, str>",
            "PathBuf",
            "Vec<u8>",
            "HashMap<u8, u8>",
            "serde_json::Value",
            "Box<str>",
            "[u8; 4]",
            "(u8, u8)",
            "Box<dyn std::any::Any>",
            "char",
        ] {
            assert!(refused(ty), "{ty} should be refused");
        }
        for ty in ["u32", "bool", "std::time::Duration", "Provider", "Box<u32>"] {
            assert!(!refused(ty), "{ty} should be left to the trait bounds");
        }
    }
}

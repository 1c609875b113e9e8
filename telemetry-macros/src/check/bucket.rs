//! The attributes of a `#[telemetry_bucket]` struct: nothing may build its value but `sanitize`.
//!
//! The struct is generated inside a module of its own, so its field is private to that module;
//! but a derive or an attribute macro expands right beside it, inside that module, and could
//! build a value from outside data (`Deserialize` from any text, `Default` from an empty name,
//! derive_more's `From` from any `&'static str`). So only derives that read a value are kept,
//! and other attributes that could expand to code are refused.

use proc_macro2::TokenStream;
use quote::{ToTokens, quote, quote_spanned};
use syn::punctuated::Punctuated;
use syn::spanned::Spanned;
use syn::{Attribute, Ident, Path, Token};

use crate::ctxt::Ctxt;

/// The attributes a bucket keeps, sorted by where they go.
#[derive(Default)]
pub(crate) struct BucketAttrs {
    /// `#[cfg]`: on the module and on the re-export, which exist together or not at all.
    pub cfgs: Vec<Attribute>,
    /// Doc comments and lint levels: on the struct.
    pub item: Vec<Attribute>,
    /// Derives beyond the ones the macro generates (`PartialOrd`, `Ord`, `Serialize`), each
    /// given once.
    pub derives: Vec<TokenStream>,
}

/// Lint levels, kept on the struct.
const LINTS: &[&str] = &["allow", "warn", "deny", "expect", "forbid"];

/// Derives the macro generates itself: a repeat is dropped, not an error.
const GENERATED: &[&str] = &["Debug", "Clone", "Copy", "PartialEq", "Eq", "Hash"];

/// Sorts the struct's attributes, recording every refused one in `cx`. A refused attribute is
/// left out, and the struct is generated as usual, so its uses report nothing more.
pub(crate) fn attributes(cx: &mut Ctxt, ident: &Ident, attrs: &[Attribute]) -> BucketAttrs {
    let mut kept = BucketAttrs::default();
    let mut seen: Vec<String> = Vec::new();
    for attr in attrs {
        let path = attr.path();
        if path.is_ident("doc") || LINTS.iter().any(|lint| path.is_ident(lint)) {
            kept.item.push(attr.clone());
        } else if path.is_ident("cfg") {
            kept.cfgs.push(attr.clone());
        } else if path.is_ident("derive") {
            let parsed = attr.parse_args_with(Punctuated::<Path, Token![,]>::parse_terminated);
            match parsed {
                Ok(paths) => {
                    for derive in &paths {
                        derive_path(cx, ident, derive, &mut kept, &mut seen);
                    }
                }
                Err(error) => cx.syn_error(error),
            }
        } else if path.is_ident("cfg_attr") {
            // rustc expands `cfg_attr` before the macro runs, so `#[cfg_attr(feature = "serde",
            // derive(Serialize))]` arrives as the derive it becomes; one that arrives as itself
            // is refused, since what it would add is unknown.
            cx.error_spanned_by(
                attr,
                format!("`#[cfg_attr]` is not allowed on a `#[telemetry_bucket]`: it could add a derive or an attribute that builds a `{ident}` from any text, skipping `sanitize`"),
            );
        } else {
            let name = path_text(path);
            cx.error_spanned_by(
                attr,
                format!("attribute `#[{name}]` is not allowed on a `#[telemetry_bucket]`: it would expand inside the bucket's own module, where it could build a `{ident}` from any text, skipping `sanitize`; only doc comments, lint levels, `cfg` and `derive` are"),
            );
        }
    }
    kept
}

/// One derive: dropped when the macro generates it, kept when it only reads the value,
/// refused (at its path) when it could build one.
fn derive_path(
    cx: &mut Ctxt,
    ident: &Ident,
    derive: &Path,
    kept: &mut BucketAttrs,
    seen: &mut Vec<String>,
) {
    let Some(last) = derive.segments.last() else {
        return;
    };
    let name = last.ident.to_string();
    if GENERATED.contains(&name.as_str()) || seen.contains(&name) {
        return;
    }
    // The derives kept are named by their full path, so an import renamed to look like one of
    // them (`use serde::Deserialize as Serialize;`) cannot slip another derive in.
    let pinned = match name.as_str() {
        "PartialOrd" => Some(quote!(::core::cmp::PartialOrd)),
        "Ord" => Some(quote!(::core::cmp::Ord)),
        // Serializing only reads the name. serde's, by its crate name: a crate that derives it
        // depends on serde.
        "Serialize" => Some(quote_spanned!(derive.span()=> ::serde::Serialize)),
        _ => None,
    };
    if let Some(tokens) = pinned {
        seen.push(name);
        kept.derives.push(tokens);
        return;
    }
    let sanitize = format!("a bucketed name is made only by `{ident}::sanitize(name)`");
    let message = match name.as_str() {
        "Deserialize" => format!(
            "`Deserialize` could build a `{ident}` from any text, skipping `sanitize`: {sanitize}"
        ),
        "Default" => format!(
            "`Default` would build a `{ident}` holding an empty name, neither a known name nor `user-defined`: {sanitize} (or is `{ident}::USER_DEFINED`)"
        ),
        _ => format!(
            "`{}` could build a `{ident}` from outside data, skipping `sanitize`: {sanitize}; a `#[telemetry_bucket]` takes only the derives that cannot build one: `Debug`, `Clone`, `Copy`, `PartialEq`, `Eq`, `Hash`, `PartialOrd`, `Ord` and `Serialize`",
            path_text(derive)
        ),
    };
    cx.error_spanned_by(derive, message);
}

/// `serde::Deserialize`, as written, without spaces.
fn path_text(path: &Path) -> String {
    path.to_token_stream().to_string().replace(' ', "")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sorted(item: &str) -> (BucketAttrs, usize) {
        let item: syn::ItemStruct = syn::parse_str(item).unwrap();
        let mut cx = Ctxt::default();
        let kept = attributes(&mut cx, &item.ident, &item.attrs);
        (kept, cx.error_count())
    }

    #[test]
    fn reading_derives_are_kept_once_and_generated_ones_dropped() {
        let (kept, errors) = sorted(
            "/// Doc.\n#[derive(Debug, Clone, PartialOrd, Ord, serde::Serialize)]\n#[derive(PartialOrd, Hash)]\n#[allow(dead_code)]\n#[cfg(test)]\nstruct Name;",
        );
        assert_eq!(errors, 0);
        let derives: Vec<String> = kept.derives.iter().map(ToString::to_string).collect();
        assert_eq!(
            derives,
            [
                ":: core :: cmp :: PartialOrd",
                ":: core :: cmp :: Ord",
                ":: serde :: Serialize"
            ]
        );
        assert_eq!(kept.item.len(), 2);
        assert_eq!(kept.cfgs.len(), 1);
    }

    #[test]
    fn building_derives_and_other_attributes_are_refused() {
        let (kept, errors) = sorted(
            "#[derive(Debug, serde::Deserialize, Default, derive_more::From)]\n#[cfg_attr(test, derive(Default))]\n#[some_macro]\nstruct Name;",
        );
        assert_eq!(errors, 5);
        assert!(kept.derives.is_empty());
    }
}

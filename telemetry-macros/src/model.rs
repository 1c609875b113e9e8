//! The event as the macro sees it: a struct, its doc comment and its fields.

use std::path::PathBuf;

use syn::punctuated::Punctuated;
use syn::{Attribute, Expr, ExprLit, ExprMacro, Field, Ident, Lit, LitStr, Meta, Token, Type};

use crate::ctxt::Ctxt;

/// One field of an event struct.
pub(crate) struct EventField<'a> {
    pub field: &'a Field,
    pub ident: &'a Ident,
    /// The property name: the field's name without `r#`.
    pub name: String,
    /// The type inside `Option<...>` (seen through parentheses and a macro's invisible
    /// group), or the field's type.
    pub value_ty: &'a Type,
    /// Whether the field is spelt `Option<...>`: left out of the event when `None`. An
    /// `Option` behind a type alias is not seen: the kinds take no `Option`, so such a field
    /// fails to compile at the writes.
    pub optional: bool,
}

impl<'a> EventField<'a> {
    pub(crate) fn new(field: &'a Field, ident: &'a Ident) -> Self {
        let name = property_name(ident);
        let inner = option_inner(&field.ty);
        Self {
            field,
            ident,
            name,
            value_ty: inner.unwrap_or(&field.ty),
            optional: inner.is_some(),
        }
    }
}

/// The property a field declares: its name without `r#`.
pub(crate) fn property_name(ident: &Ident) -> String {
    syn::ext::IdentExt::unraw(ident).to_string()
}

/// `T` when `ty` is `Option<T>` (also written `std::option::Option<T>`), seen through
/// parentheses and the invisible group a `macro_rules!` puts around a `$t:ty`.
pub(crate) fn option_inner(ty: &Type) -> Option<&Type> {
    let ty = unwrapped(ty);
    let Type::Path(path) = ty else { return None };
    if path.qself.is_some() {
        return None;
    }
    let last = path.path.segments.last()?;
    if last.ident != "Option" {
        return None;
    }
    let syn::PathArguments::AngleBracketed(args) = &last.arguments else {
        return None;
    };
    match args.args.first() {
        Some(syn::GenericArgument::Type(inner)) if args.args.len() == 1 => Some(inner),
        _ => None,
    }
}

/// `ty` without the parentheses and invisible groups around it.
fn unwrapped(mut ty: &Type) -> &Type {
    loop {
        match ty {
            Type::Group(group) => ty = &group.elem,
            Type::Paren(paren) => ty = &paren.elem,
            _ => return ty,
        }
    }
}

/// The doc comment of an item, lines trimmed and joined with spaces; every problem is recorded
/// in `cx`.
///
/// `#[doc = include_str!("file")]` is read as rustc reads it (relative to the file it is
/// written in; `concat!` and `env!` in the path are understood), so a description kept in a
/// file of its own is the event's description too; so is `#[doc = concat!(...)]` of literals. `None` when such a file cannot be read:
/// rustc reports that itself, and nothing more should be said about the description.
pub(crate) fn doc_comment(cx: &mut Ctxt, attrs: &[Attribute]) -> Option<String> {
    let mut lines: Vec<String> = Vec::new();
    let mut unreadable = false;
    for attr in attrs {
        if !attr.path().is_ident("doc") {
            continue;
        }
        // `#[doc(hidden)]`, `#[doc(alias = "...")]`: not text.
        let Meta::NameValue(nv) = &attr.meta else {
            continue;
        };
        match doc_text(&nv.value) {
            // `split`, not `lines`: an empty `///` is a paragraph break.
            Ok(Some(text)) => lines.extend(text.split('\n').map(|line| line.trim().to_owned())),
            Ok(None) => unreadable = true,
            Err(error) => cx.syn_error(error),
        }
    }
    if unreadable {
        return None;
    }
    let mut text = String::new();
    for line in lines {
        if line.is_empty() {
            if !text.is_empty() && !text.ends_with("\n\n") {
                text.push_str("\n\n");
            }
        } else {
            if !text.is_empty() && !text.ends_with('\n') {
                text.push(' ');
            }
            text.push_str(&line);
        }
    }
    Some(text.trim().to_owned())
}

/// The text of one `#[doc = ...]`: a literal (`concat!` and `env!` of literals are understood),
/// or `include_str!` of a file; `Ok(None)` when the file cannot be read.
fn doc_text(value: &Expr) -> syn::Result<Option<String>> {
    if let Expr::Macro(ExprMacro { mac, .. }) = value
        && mac.path.is_ident("include_str")
    {
        let arg: Expr = mac.parse_body()?;
        let path = constant_str(&arg).map(PathBuf::from).ok_or_else(|| {
            syn::Error::new_spanned(
                &arg,
                "the file of an event's description must be named by a string literal (`concat!` and `env!` of literals are understood)",
            )
        })?;
        let path = if path.is_absolute() {
            path
        } else {
            let dir = invoking_dir(&arg).ok_or_else(|| {
                syn::Error::new_spanned(
                    &arg,
                    "cannot tell which file this attribute is in to read the event's description: use an absolute path",
                )
            })?;
            dir.join(path)
        };
        return Ok(std::fs::read_to_string(path).ok());
    }
    constant_str(value).map(Some).ok_or_else(|| {
        syn::Error::new_spanned(
            value,
            "an event's doc comment is its description in docs/telemetry.md, read when the macro runs: write it with `///`, or as `#[doc = include_str!(\"file.md\")]`",
        )
    })
}

/// A string literal, or `concat!` / `env!` of them, as the compiler would expand it.
fn constant_str(expr: &Expr) -> Option<String> {
    match expr {
        Expr::Lit(ExprLit {
            lit: Lit::Str(text),
            ..
        }) => Some(text.value()),
        Expr::Macro(ExprMacro { mac, .. }) if mac.path.is_ident("concat") => {
            let parts = mac
                .parse_body_with(Punctuated::<Expr, Token![,]>::parse_terminated)
                .ok()?;
            parts.iter().map(constant_str).collect()
        }
        Expr::Macro(ExprMacro { mac, .. }) if mac.path.is_ident("env") => {
            let name: LitStr = mac.parse_body().ok()?;
            std::env::var(name.value()).ok()
        }
        _ => None,
    }
}

/// The directory of the file `tokens` are written in: what `include_str!` paths are relative
/// to. `None` outside a compiler (in unit tests) or for tokens of no file.
fn invoking_dir(tokens: &Expr) -> Option<PathBuf> {
    use syn::spanned::Spanned;
    if !proc_macro::is_available() {
        return None;
    }
    let file = tokens
        .span()
        .unwrap()
        .local_file()
        .or_else(|| proc_macro::Span::call_site().local_file())?;
    Some(file.parent().map(PathBuf::from).unwrap_or_default())
}

/// `alpha_beta` from `AlphaBeta`: how an enum variant is sent.
pub(crate) fn snake_case(ident: &str) -> String {
    let mut out = String::new();
    for (i, c) in ident.chars().enumerate() {
        if c.is_ascii_uppercase() {
            if i > 0 {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// `AlphaBeta` from `alpha_beta`: the variant sent as a value (the inverse of [`snake_case`]).
pub(crate) fn camel_case(value: &str) -> String {
    value
        .split(|c: char| !c.is_ascii_alphanumeric())
        .map(|word| {
            let mut chars = word.chars();
            match chars.next() {
                Some(first) => first.to_ascii_uppercase().to_string() + chars.as_str(),
                None => String::new(),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snake_case_of_variants() {
        assert_eq!(snake_case("CreditExhausted"), "credit_exhausted");
        assert_eq!(snake_case("Fatal"), "fatal");
        assert_eq!(snake_case("Http2"), "http2");
    }

    #[test]
    fn camel_case_of_values() {
        assert_eq!(camel_case("credit_exhausted"), "CreditExhausted");
        assert_eq!(camel_case("local"), "Local");
        assert_eq!(snake_case(&camel_case("http2")), "http2");
    }

    fn doc_of(item: &str) -> (Option<String>, bool) {
        let item: syn::ItemStruct = syn::parse_str(item).unwrap();
        let mut cx = Ctxt::default();
        let doc = doc_comment(&mut cx, &item.attrs);
        (doc, cx.has_errors())
    }

    #[test]
    fn doc_lines_are_joined_into_paragraphs() {
        let (doc, errors) = doc_of(
            "/// Sent when a command\n///   finishes.\n///\n/// Once.\n#[doc(hidden)]\nstruct E;",
        );
        assert_eq!(
            doc.as_deref(),
            Some("Sent when a command finishes.\n\nOnce.")
        );
        assert!(!errors);
    }

    #[test]
    fn an_included_doc_is_read_and_other_expressions_refused() {
        let dir = std::env::var("CARGO_MANIFEST_DIR").unwrap();
        let (doc, errors) = doc_of(&format!(
            "#[doc = include_str!(concat!(\"{dir}\", \"/Cargo.toml\"))]\nstruct E;"
        ));
        assert!(
            doc.unwrap()
                .starts_with("[package] name = \"telemetry-macros\"")
        );
        assert!(!errors);
        let (_, errors) = doc_of("#[doc = my_docs!()]\nstruct E;");
        assert!(errors);
    }

    #[test]
    fn option_is_seen_through() {
        let ty: Type = syn::parse_quote!(std::option::Option<u32>);
        assert!(option_inner(&ty).is_some());
        let ty: Type = syn::parse_quote!(Vec<u32>);
        assert!(option_inner(&ty).is_none());
    }
}

//! The event as the macro sees it: a struct, its doc comment and its fields.

use syn::{Attribute, Expr, Field, Ident, Lit, Meta, Type};

/// One field of an event struct.
pub(crate) struct EventField<'a> {
    pub field: &'a Field,
    pub ident: &'a Ident,
    /// The property name: the field's name without `r#`.
    pub name: String,
    /// The type inside `Option<...>`, or the field's type.
    pub value_ty: &'a Type,
    /// Whether the field is an `Option`, left out of the event when `None`.
    pub optional: bool,
}

impl<'a> EventField<'a> {
    pub(crate) fn new(field: &'a Field, ident: &'a Ident) -> Self {
        let name = property_name(ident);
        let (value_ty, optional) = match option_inner(&field.ty) {
            Some(inner) => (inner, true),
            None => (&field.ty, false),
        };
        Self {
            field,
            ident,
            name,
            value_ty,
            optional,
        }
    }
}

/// The property a field declares: its name without `r#`.
pub(crate) fn property_name(ident: &Ident) -> String {
    syn::ext::IdentExt::unraw(ident).to_string()
}

/// `T` when `ty` is `Option<T>` (also written `std::option::Option<T>`).
pub(crate) fn option_inner(ty: &Type) -> Option<&Type> {
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

/// The doc comment of an item, lines trimmed and joined with spaces.
pub(crate) fn doc_comment(attrs: &[Attribute]) -> String {
    let mut lines: Vec<String> = Vec::new();
    for attr in attrs {
        if !attr.path().is_ident("doc") {
            continue;
        }
        if let Meta::NameValue(nv) = &attr.meta
            && let Expr::Lit(lit) = &nv.value
            && let Lit::Str(text) = &lit.lit
        {
            lines.push(text.value().trim().to_owned());
        }
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
    text.trim().to_owned()
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

    #[test]
    fn option_is_seen_through() {
        let ty: Type = syn::parse_quote!(std::option::Option<u32>);
        assert!(option_inner(&ty).is_some());
        let ty: Type = syn::parse_quote!(Vec<u32>);
        assert!(option_inner(&ty).is_none());
    }
}

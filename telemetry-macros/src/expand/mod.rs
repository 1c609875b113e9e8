//! Code generation, one module per attribute.

pub(crate) mod bucket;
pub(crate) mod event;
pub(crate) mod meta;
pub(crate) mod schema;
pub(crate) mod value_enum;

use proc_macro2::{Span, TokenStream};
use quote::quote;

use crate::ctxt::Ctxt;

/// Parses the annotated item; when it is not valid Rust, gives back the input unchanged with
/// every error so far (rustc then reports the syntax error itself, once).
pub(crate) fn parse_item(cx: &mut Ctxt, input: TokenStream) -> Result<syn::Item, TokenStream> {
    syn::parse2(input.clone()).map_err(|error| {
        cx.syn_error(error);
        let errors = cx.to_compile_errors();
        quote!(#input #errors)
    })
}

/// The keyword of an item (`struct`, `enum`, `fn`...), where an error about what the item is
/// belongs; the whole item when it has none.
pub(crate) fn item_keyword_span(item: &syn::Item) -> Span {
    use syn::spanned::Spanned;
    match item {
        syn::Item::Struct(s) => s.struct_token.span,
        syn::Item::Enum(e) => e.enum_token.span,
        syn::Item::Union(u) => u.union_token.span,
        syn::Item::Fn(f) => f.sig.fn_token.span,
        syn::Item::Type(t) => t.type_token.span,
        syn::Item::Trait(t) => t.trait_token.span,
        syn::Item::Impl(i) => i.impl_token.span,
        syn::Item::Mod(m) => m.mod_token.span,
        syn::Item::Const(c) => c.const_token.span,
        syn::Item::Static(s) => s.static_token.span,
        other => other.span(),
    }
}

/// The values of the property that `#[telemetry_enum]` or `#[telemetry_bucket]` names, when the
/// allowlist declares it with the `expected` kind (`enum` or `bucketed`); every problem on the
/// way is recorded in `cx`. Also gives the tokens that make cargo rebuild when the file changes.
pub(crate) fn named_property_values(
    cx: &mut Ctxt,
    args: &crate::attr::ValueArgs,
    expected: &str,
) -> (TokenStream, Option<Vec<String>>) {
    let located = match crate::allowlist::locate(args.allowlist.as_ref()) {
        Ok(located) => located,
        Err(error) => {
            cx.syn_error(error);
            return (TokenStream::new(), None);
        }
    };
    let dependency = located.dependency_tokens();
    let Some(list) = located.get(cx) else {
        return (dependency, None);
    };
    let Some(property) = &args.property else {
        return (dependency, None);
    };
    let name = property.value();
    let values = match list.property(&name).map(|p| &p.kind) {
        Some(kind) if kind.keyword() == expected => kind.values().map(<[String]>::to_vec),
        Some(other) => {
            cx.error_spanned_by(
                property,
                format!(
                    "property `{name}` is of kind `{}` in the allowlist, not `{expected}`: {}",
                    other.keyword(),
                    crate::fit::hint(other, &name)
                ),
            );
            None
        }
        None => {
            let message = crate::check::lookalike_property(&name, list)
                .unwrap_or_else(|| format!("`{name}` is not an allowlisted telemetry property"));
            cx.error_spanned_by(property, message);
            None
        }
    };
    (dependency, values)
}

//! Code generation, one module per attribute.

pub(crate) mod bucket;
pub(crate) mod event;
pub(crate) mod meta;
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

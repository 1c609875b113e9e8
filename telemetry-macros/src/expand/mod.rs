//! Code generation, one module per attribute.

pub(crate) mod bucket;
pub(crate) mod event;
pub(crate) mod meta;
pub(crate) mod value_enum;

use proc_macro2::TokenStream;
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

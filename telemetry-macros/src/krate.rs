//! The path the generated code names the library by: `::telemetry_core`, or the
//! `crate = "..."` argument of a crate whose events are declared through a crate that
//! re-exports it (as serde's `#[serde(crate = "...")]`).

use proc_macro2::TokenStream;
use quote::quote;
use syn::LitStr;

use crate::ctxt::Ctxt;

/// The library's path for `arg` (`None`: `::telemetry_core`). A literal that is no path is
/// reported at the literal, and the default is used so that nothing else fails with it.
pub(crate) fn path(cx: &mut Ctxt, arg: Option<&LitStr>) -> TokenStream {
    let Some(lit) = arg else {
        return quote!(::telemetry_core);
    };
    match lit.parse::<syn::Path>() {
        Ok(path) => quote!(#path),
        Err(_) => {
            cx.error_spanned_by(
                lit,
                format!(
                    "`crate = \"{}\"` is not a path: name the telemetry_core crate as this crate reaches it, such as `crate = \"acme_cli_kit::telemetry_core\"`",
                    lit.value()
                ),
            );
            quote!(::telemetry_core)
        }
    }
}

/// `krate` with every token at `span`, for code whose failures are reported at `span`.
pub(crate) fn at(krate: &TokenStream, span: proc_macro2::Span) -> TokenStream {
    krate
        .clone()
        .into_iter()
        .map(|mut token| {
            token.set_span(span);
            token
        })
        .collect()
}

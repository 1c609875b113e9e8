//! Tokens for the static metadata the runtime and the docs read.

use proc_macro2::TokenStream;
use quote::quote;
use telemetry_allowlist::{Kind, Property, Sensitivity};

/// `<krate>::__private::PropertyKind::...` for `kind`. Every item whose value carries meaning
/// (a kind, a sensitivity, a consent policy, `user-defined`) is named through `__private`:
/// a module of the author's passed as `crate = "..."` that re-exports the library cannot
/// replace one of them without spelling out `__private` for all to see.
pub(crate) fn kind(kind: &Kind, krate: &TokenStream) -> TokenStream {
    match kind {
        Kind::Bool => quote!(#krate::__private::PropertyKind::Bool),
        Kind::Unsigned => quote!(#krate::__private::PropertyKind::Unsigned),
        Kind::Signed => quote!(#krate::__private::PropertyKind::Signed),
        Kind::DurationMs => quote!(#krate::__private::PropertyKind::DurationMs),
        Kind::Enum(values) => quote!(#krate::__private::PropertyKind::Enum(&[#(#values),*])),
        Kind::Bucketed(values) => {
            quote!(#krate::__private::PropertyKind::Bucketed(&[#(#values),*]))
        }
        Kind::ErrorClass => quote!(#krate::__private::PropertyKind::ErrorClass),
        Kind::CodeLocation => quote!(#krate::__private::PropertyKind::CodeLocation),
    }
}

/// `<krate>::__private::Sensitivity::...`.
pub(crate) fn sensitivity(sensitivity: Sensitivity, krate: &TokenStream) -> TokenStream {
    match sensitivity {
        Sensitivity::Technical => quote!(#krate::__private::Sensitivity::Technical),
        Sensitivity::Interaction => quote!(#krate::__private::Sensitivity::Interaction),
    }
}

/// A `PropertyMeta` literal; `optional` when the field is spelt `Option<..>` (see
/// `EventField::optional`). Asking the type system instead (`<Optional<T>>::OPTIONAL`, an
/// inherent constant for `Option<T>`) cost 200 events a third more build time
/// (`scripts/bench-compile-time`, 1.23x to 1.52x of serde's).
pub(crate) fn property(property: &Property, optional: bool, krate: &TokenStream) -> TokenStream {
    let name = &property.name;
    let kind = kind(&property.kind, krate);
    let sensitivity = sensitivity(property.sensitivity, krate);
    let description = &property.description;
    quote! {
        #krate::PropertyMeta {
            name: #name,
            kind: #kind,
            sensitivity: #sensitivity,
            description: #description,
            optional: #optional,
        }
    }
}

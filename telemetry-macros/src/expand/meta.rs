//! Tokens for the static metadata the runtime and the docs read.

use proc_macro2::TokenStream;
use quote::quote;
use telemetry_allowlist::{Kind, Property, Sensitivity};

/// `<krate>::PropertyKind::...` for `kind`.
pub(crate) fn kind(kind: &Kind, krate: &TokenStream) -> TokenStream {
    match kind {
        Kind::Bool => quote!(#krate::PropertyKind::Bool),
        Kind::Unsigned => quote!(#krate::PropertyKind::Unsigned),
        Kind::Signed => quote!(#krate::PropertyKind::Signed),
        Kind::DurationMs => quote!(#krate::PropertyKind::DurationMs),
        Kind::Enum(values) => quote!(#krate::PropertyKind::Enum(&[#(#values),*])),
        Kind::Bucketed(values) => quote!(#krate::PropertyKind::Bucketed(&[#(#values),*])),
        Kind::ErrorClass => quote!(#krate::PropertyKind::ErrorClass),
        Kind::CodeLocation => quote!(#krate::PropertyKind::CodeLocation),
    }
}

/// `<krate>::Sensitivity::...`.
pub(crate) fn sensitivity(sensitivity: Sensitivity, krate: &TokenStream) -> TokenStream {
    match sensitivity {
        Sensitivity::Technical => quote!(#krate::Sensitivity::Technical),
        Sensitivity::Interaction => quote!(#krate::Sensitivity::Interaction),
    }
}

/// A `PropertyMeta` literal.
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

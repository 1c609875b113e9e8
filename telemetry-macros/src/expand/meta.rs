//! Tokens for the static metadata the runtime and the docs read.

use proc_macro2::TokenStream;
use quote::quote;
use telemetry_allowlist::{Kind, Property, Sensitivity};

/// `::telemetry_core::PropertyKind::...` for `kind`.
pub(crate) fn kind(kind: &Kind) -> TokenStream {
    match kind {
        Kind::Bool => quote!(::telemetry_core::PropertyKind::Bool),
        Kind::Unsigned => quote!(::telemetry_core::PropertyKind::Unsigned),
        Kind::Signed => quote!(::telemetry_core::PropertyKind::Signed),
        Kind::DurationMs => quote!(::telemetry_core::PropertyKind::DurationMs),
        Kind::Enum(values) => quote!(::telemetry_core::PropertyKind::Enum(&[#(#values),*])),
        Kind::Bucketed(values) => quote!(::telemetry_core::PropertyKind::Bucketed(&[#(#values),*])),
        Kind::ErrorClass => quote!(::telemetry_core::PropertyKind::ErrorClass),
        Kind::CodeLocation => quote!(::telemetry_core::PropertyKind::CodeLocation),
    }
}

/// `::telemetry_core::Sensitivity::...`.
pub(crate) fn sensitivity(sensitivity: Sensitivity) -> TokenStream {
    match sensitivity {
        Sensitivity::Technical => quote!(::telemetry_core::Sensitivity::Technical),
        Sensitivity::Interaction => quote!(::telemetry_core::Sensitivity::Interaction),
    }
}

/// A `PropertyMeta` literal.
pub(crate) fn property(property: &Property, optional: bool) -> TokenStream {
    let name = &property.name;
    let kind = kind(&property.kind);
    let sensitivity = sensitivity(property.sensitivity);
    let description = &property.description;
    quote! {
        ::telemetry_core::PropertyMeta {
            name: #name,
            kind: #kind,
            sensitivity: #sensitivity,
            description: #description,
            optional: #optional,
        }
    }
}

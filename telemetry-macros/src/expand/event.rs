//! `#[telemetry_event]`: the struct, its `Event` impl and its catalog registration.

use proc_macro2::TokenStream;
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{Fields, Item, ItemStruct};
use telemetry_allowlist::Kind;

use crate::allowlist;
use crate::attr::EventArgs;
use crate::check::{self, CheckedField};
use crate::ctxt::Ctxt;
use crate::expand::meta;
use crate::model::{doc_comment, property_name};

pub(crate) fn expand(args: TokenStream, input: TokenStream) -> TokenStream {
    let mut cx = Ctxt::default();
    let args = EventArgs::parse(&mut cx, args);
    let name = args
        .name
        .as_ref()
        .map(syn::LitStr::value)
        .unwrap_or_default();
    let item = match super::parse_item(&mut cx, input) {
        Ok(item) => item,
        Err(tokens) => return tokens,
    };
    let item = match item {
        Item::Struct(item) => item,
        other => {
            let what = match &other {
                Item::Enum(_) => {
                    "an enum cannot be an event: declare one struct per event (an enum of allowed values is `#[telemetry_enum]`)"
                }
                Item::Union(_) => "a union cannot be an event: declare a struct with named fields",
                _ => "`#[telemetry_event]` goes on a struct with named fields",
            };
            cx.syn_error(syn::Error::new(super::item_keyword_span(&other), what));
            let errors = cx.to_compile_errors();
            // An enum or a union still implements `Event`, with no properties, so code that
            // records it reports nothing more.
            let stub = match &other {
                Item::Enum(e) => stub_impl(&e.ident, &e.generics, &name, &e.attrs),
                Item::Union(u) => stub_impl(&u.ident, &u.generics, &name, &u.attrs),
                _ => TokenStream::new(),
            };
            return quote!(#other #stub #errors);
        }
    };

    check::shape(&mut cx, &item);
    check::attributes(&mut cx, &item.attrs, false);
    if let Some(name) = &args.name {
        check::event_name(&mut cx, name);
    }
    let doc = doc_comment(&item.attrs);
    check::description(&mut cx, &item, &doc);

    let located = allowlist::locate(args.allowlist.as_ref())
        .map_err(|error| cx.syn_error(error))
        .ok();
    let dependency = located
        .as_ref()
        .map(|l| l.dependency_tokens())
        .unwrap_or_default();
    let fields = match located.as_ref().and_then(|l| l.get(&mut cx)) {
        Some(allowlist) => check::fields(&mut cx, &item, allowlist),
        None => Vec::new(),
    };
    // Even with errors, the fields that passed are written as usual, so their type errors are
    // reported in the same compile; the struct loses only what was already reported.
    let mut emitted = item.clone();
    if cx.has_errors() {
        dedup_fields(&mut emitted);
        strip_refused_attributes(&mut emitted);
    }
    let errors = cx.to_compile_errors();
    let generated = generate(&emitted, &name, &doc, &fields, dependency);
    quote!(#generated #errors)
}

/// An `Event` impl with no properties, for an item that cannot be an event.
fn stub_impl(
    ident: &syn::Ident,
    generics: &syn::Generics,
    name: &str,
    attrs: &[syn::Attribute],
) -> TokenStream {
    event_impl(ident, generics, name, &doc_comment(attrs), &[], &[])
}

fn generate(
    item: &ItemStruct,
    name: &str,
    doc: &str,
    fields: &[CheckedField<'_>],
    dependency: TokenStream,
) -> TokenStream {
    let ident = &item.ident;
    let properties: Vec<TokenStream> = fields
        .iter()
        .map(|f| meta::property(f.property, f.field.optional))
        .collect();
    let writes: Vec<TokenStream> = fields.iter().map(write_call).collect();
    let value_checks = fields.iter().filter_map(|f| value_check(ident, f));
    let event_impl = event_impl(ident, &item.generics, name, doc, &properties, &writes);
    let register = if item.generics.params.is_empty() {
        quote! {
            ::telemetry_core::__private::inventory::submit! {
                ::telemetry_core::CatalogEntry::new(<#ident as ::telemetry_core::Event>::META)
            }
        }
    } else {
        TokenStream::new()
    };
    quote! {
        #item

        #event_impl

        const _: () = {
            #dependency
            #(#value_checks)*
            #register
        };
    }
}

/// The `Event` impl: static metadata and the writes.
fn event_impl(
    ident: &syn::Ident,
    generics: &syn::Generics,
    name: &str,
    doc: &str,
    properties: &[TokenStream],
    writes: &[TokenStream],
) -> TokenStream {
    let type_name = ident.to_string();
    let (impl_generics, ty_generics, where_clause) = generics.split_for_impl();
    // `out` is unused by an event without properties.
    let out = if writes.is_empty() {
        quote!(_out)
    } else {
        quote!(out)
    };
    quote! {
        impl #impl_generics ::telemetry_core::Event for #ident #ty_generics #where_clause {
            const META: &'static ::telemetry_core::EventMeta = &::telemetry_core::EventMeta {
                name: #name,
                description: #doc,
                properties: &[#(#properties),*],
                type_name: #type_name,
            };

            fn write_properties(&self, #out: &mut ::telemetry_core::PropertyWriter<'_>) {
                #(#writes)*
            }
        }
    }
}

/// `PropertyWriter::<kind>::<FieldType>(out, "name", &self.field);`: the field's type is named
/// in the turbofish, so a type that does not fit the kind is reported at the type, once, and
/// nowhere else.
fn write_call(field: &CheckedField<'_>) -> TokenStream {
    let method = format_ident!("{}", writer_method(&field.property.kind));
    let ident = field.field.ident;
    let name = &field.property.name;
    let ty = &field.field.field.ty;
    quote! {
        ::telemetry_core::PropertyWriter::#method::<#ty>(out, #name, &self.#ident);
    }
}

/// For enum and bucketed properties: the type's values must be the allowlist's. Checked in a
/// constant, which says nothing when the type is not of the kind (the writer's bound does).
fn value_check(event: &syn::Ident, field: &CheckedField<'_>) -> Option<TokenStream> {
    let (probe, values, what) = match &field.property.kind {
        Kind::Enum(values) => (quote!(EnumProbe), values, "the variants of"),
        Kind::Bucketed(values) => (quote!(BucketProbe), values, "the known names of"),
        _ => return None,
    };
    let ty = &field.field.field.ty;
    let ty_text = quote!(#ty).to_string().replace(' ', "");
    let message = format!(
        "field `{}` of event `{event}`: {what} `{ty_text}` are not the values the allowlist lists for `{}` ({})",
        field.field.name,
        field.property.name,
        values.join(", ")
    );
    Some(quote_spanned! {ty.span()=>
        #[allow(unused_imports)]
        use ::telemetry_core::__private::{NotBucketedValue as _, NotEnumValue as _};
        const _: () = match ::telemetry_core::__private::#probe::<#ty>::VALUES {
            ::core::option::Option::Some(values) => {
                if !::telemetry_core::__private::same_values(values, &[#(#values),*]) {
                    ::core::panic!(#message)
                }
            }
            ::core::option::Option::None => {}
        };
    })
}

/// Drops repeated fields (already reported) so rustc does not report them again.
fn dedup_fields(item: &mut ItemStruct) {
    if let Fields::Named(named) = &mut item.fields {
        let mut seen: Vec<String> = Vec::new();
        let fields = std::mem::take(&mut named.named);
        for pair in fields.into_pairs() {
            let field = pair.into_value();
            let name = field.ident.as_ref().map(property_name).unwrap_or_default();
            if !seen.contains(&name) {
                seen.push(name);
                named.named.push(field);
            }
        }
    }
}

/// Drops the attributes already reported as refused, so rustc does not report them again.
fn strip_refused_attributes(item: &mut ItemStruct) {
    item.attrs.retain(|attr| !attr.path().is_ident("serde"));
    for field in item.fields.iter_mut() {
        field.attrs.retain(|attr| {
            check::FIELD_ATTRIBUTES
                .iter()
                .any(|name| attr.path().is_ident(name))
        });
    }
}

/// The writer method of a kind: its trait bound is what checks the field's type.
fn writer_method(kind: &Kind) -> &'static str {
    match kind {
        Kind::Enum(_) => "enumeration",
        other => other.keyword(),
    }
}

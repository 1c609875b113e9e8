//! `#[telemetry_event]`: the struct, its `Event` impl and the checks of its enum and bucketed
//! fields' types.

use proc_macro2::TokenStream;
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{Fields, Item, ItemStruct};
use telemetry_allowlist::{Allowlist, Kind};

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
    let doc = doc_comment(&mut cx, &item.attrs);
    if let Some(doc) = &doc {
        check::description(&mut cx, &item, doc);
    }
    let doc = doc.unwrap_or_default();

    let located = allowlist::locate(args.allowlist.as_ref())
        .map_err(|error| cx.syn_error(error))
        .ok();
    let dependency = located
        .as_ref()
        .map(|l| l.dependency_tokens())
        .unwrap_or_default();
    let allowlist = located.as_ref().and_then(|l| l.get(&mut cx));
    let fields = match allowlist {
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
    let generated = generate(&emitted, &name, &doc, &fields, allowlist, dependency);
    quote!(#generated #errors)
}

/// An `Event` impl with no properties, for an item that cannot be an event.
fn stub_impl(
    ident: &syn::Ident,
    generics: &syn::Generics,
    name: &str,
    attrs: &[syn::Attribute],
) -> TokenStream {
    // The item's problems are reported already; its doc comment's would add nothing.
    let doc = doc_comment(&mut Ctxt::default(), attrs).unwrap_or_default();
    event_impl(ident, generics, name, &doc, &[], TokenStream::new())
}

fn generate(
    item: &ItemStruct,
    name: &str,
    doc: &str,
    fields: &[CheckedField<'_>],
    allowlist: Option<&Allowlist>,
    dependency: TokenStream,
) -> TokenStream {
    let ident = &item.ident;
    let properties: Vec<TokenStream> = fields
        .iter()
        .map(|f| meta::property(f.property, f.field.optional))
        .collect();
    let writes = writes(fields);
    let value_checks = allowlist.into_iter().flat_map(|allowlist| {
        fields
            .iter()
            .filter_map(move |f| value_check(ident, f, allowlist))
    });
    let event_impl = event_impl(ident, &item.generics, name, doc, &properties, writes);
    quote! {
        #item

        #event_impl

        const _: () = {
            #dependency
            #(#value_checks)*
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
    writes: TokenStream,
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
        #[diagnostic::do_not_recommend]
        impl #impl_generics ::telemetry_core::__private::Sealed for #ident #ty_generics #where_clause {}

        impl #impl_generics ::telemetry_core::Event for #ident #ty_generics #where_clause {
            const META: &'static ::telemetry_core::EventMeta = &::telemetry_core::EventMeta {
                name: #name,
                description: #doc,
                properties: &[#(#properties),*],
                type_name: #type_name,
            };

            fn write_properties(&self, #out: &mut ::telemetry_core::__private::PropertyWriter<'_>) {
                #writes
            }
        }
    }
}

/// The body of `write_properties`: one call per field of the writer's method for its kind,
/// with the field's type in the turbofish (`PropertyWriter::duration_ms::<Millis>(out, ...)`).
/// A type that does not fit its kind is reported at the type, once, in the words of the kind
/// trait's `on_unimplemented`.
///
/// The writer's methods are shared by every event of the crate (one instance per kind and
/// type). Local generic functions per event would let rustc's "required by a bound" note point
/// at the event's attribute instead of the writer, but each event would then instantiate its
/// own copies: for 200 events that cost 30% of the crate's build (`scripts/bench-compile-time`:
/// 542 ms against 419 ms), and no diagnostic attribute removes the note.
fn writes(fields: &[CheckedField<'_>]) -> TokenStream {
    fields
        .iter()
        .map(|field| {
            let method = writer_method(&field.property.kind);
            let ident = field.field.ident;
            let name = &field.property.name;
            let ty = &field.field.field.ty;
            quote! {
                ::telemetry_core::__private::PropertyWriter::#method::<#ty>(out, #name, &self.#ident);
            }
        })
        .collect()
}

/// For enum and bucketed properties, a constant that checks the type's values are the ones the
/// allowlist lists for this property. A type declared for another property with the same
/// values fits (one `Provider` for `provider` and `default_assistant`); when the values differ,
/// the error says which property the type was declared for
/// (`#[telemetry_bucket(property = "subcommand")]`), or, when it was declared for this one,
/// that its values are another allowlist's. It says nothing when the type is not of the kind:
/// the writer's bound does.
///
/// A constant's panic message must be a literal, so the declared property is compared with
/// every property of the same kind in the allowlist, one message each, with a general message
/// for a property of another allowlist.
fn value_check(
    event: &syn::Ident,
    field: &CheckedField<'_>,
    allowlist: &Allowlist,
) -> Option<TokenStream> {
    let kind = &field.property.kind;
    let (probe, fallback, values, what, attribute) = match kind {
        Kind::Enum(values) => (
            quote!(EnumProbe),
            quote!(NotEnumValue),
            values,
            "the variants of",
            "telemetry_enum",
        ),
        Kind::Bucketed(values) => (
            quote!(BucketProbe),
            quote!(NotBucketedValue),
            values,
            "the known names of",
            "telemetry_bucket",
        ),
        _ => return None,
    };
    let ty = field.field.value_ty;
    // Every token at the field's type, so that whichever panic fires is reported there.
    let span = ty.span();
    let ty_text = quote!(#ty).to_string().replace(' ', "");
    let expected = &field.property.name;
    let values_message = format!(
        "field `{expected}` of event `{event}`: {what} `{ty_text}` are not the values the allowlist lists for `{expected}` ({})",
        values.join(", ")
    );
    let use_instead =
        format!("use a type declared with `#[{attribute}(property = \"{expected}\")]`");
    let others = allowlist
        .properties
        .iter()
        .filter(|p| p.name != *expected && p.kind.keyword() == kind.keyword())
        .map(|p| {
            let other = &p.name;
            let message =
                format!("`{ty_text}` is declared for `{other}`, not `{expected}`: {use_instead}");
            quote_spanned! {span=>
                else if str_eq(declared, #other) {
                    ::core::panic!(#message)
                }
            }
        });
    let elsewhere = format!(
        "`{ty_text}` is declared for a property of another allowlist, not `{expected}`: {use_instead}"
    );
    // Named, so that rustc's "evaluation of `_::check_command` failed" says which field.
    let check = format_ident!("check_{}", field.field.name);
    Some(quote_spanned! {span=>
        #[allow(non_upper_case_globals, dead_code)]
        const #check: () = {
            #[allow(unused_imports)]
            use ::telemetry_core::__private::{#probe, #fallback as _, same_values, str_eq};
            match (#probe::<#ty>::PROPERTY, #probe::<#ty>::VALUES) {
                (::core::option::Option::Some(declared), ::core::option::Option::Some(values))
                    if !same_values(values, &[#(#values),*]) =>
                {
                    if str_eq(declared, #expected) {
                        ::core::panic!(#values_message)
                    }
                    #(#others)*
                    else {
                        ::core::panic!(#elsewhere)
                    }
                }
                _ => {}
            }
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

/// The writer method of a kind (and the name of the generated function that calls it).
fn writer_method(kind: &Kind) -> syn::Ident {
    match kind {
        Kind::Enum(_) => format_ident!("enumeration"),
        other => format_ident!("{}", other.keyword()),
    }
}

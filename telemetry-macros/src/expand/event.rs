//! `#[telemetry_event]`: the struct, its `Event` impl and the checks of its enum and bucketed
//! fields' types.

use proc_macro2::{Span, TokenStream, TokenTree};
use quote::{ToTokens, format_ident, quote, quote_spanned};
use syn::ext::IdentExt;
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
                Item::Enum(e) => stub_impl(&e.ident, &e.generics, &name, &e.attrs, &args.krate),
                Item::Union(u) => stub_impl(&u.ident, &u.generics, &name, &u.attrs, &args.krate),
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
    // which file the fields were checked against, for the schema's check (left unknown when
    // it could not be read: that is reported already)
    let allowlist_id = match (&located, allowlist) {
        (Some(located), Some(_)) => {
            let fingerprint = located.fingerprint;
            quote! {
                #[doc(hidden)]
                const __ALLOWLIST: u64 = #fingerprint;
            }
        }
        _ => TokenStream::new(),
    };
    let errors = cx.to_compile_errors();
    let generated = generate(
        &emitted,
        &name,
        &doc,
        &fields,
        (dependency, allowlist_id),
        &args.krate,
    );
    quote!(#generated #errors)
}

/// An `Event` impl with no properties, for an item that cannot be an event.
fn stub_impl(
    ident: &syn::Ident,
    generics: &syn::Generics,
    name: &str,
    attrs: &[syn::Attribute],
    krate: &TokenStream,
) -> TokenStream {
    // The item's problems are reported already; its doc comment's would add nothing.
    let doc = doc_comment(&mut Ctxt::default(), attrs).unwrap_or_default();
    let nothing = (TokenStream::new(), TokenStream::new());
    event_impl(ident, generics, name, &doc, &[], nothing, krate)
}

fn generate(
    item: &ItemStruct,
    name: &str,
    doc: &str,
    fields: &[CheckedField<'_>],
    (dependency, allowlist_id): (TokenStream, TokenStream),
    krate: &TokenStream,
) -> TokenStream {
    let ident = &item.ident;
    let properties: Vec<meta::PropertyMetaOf<'_>> = fields
        .iter()
        .map(|f| meta::PropertyMetaOf {
            property: f.property,
            optional: f.field.optional,
        })
        .collect();
    let writes = writes(ident, item.generics.params.is_empty(), fields, krate);
    let event_impl = event_impl(
        ident,
        &item.generics,
        name,
        doc,
        &properties,
        (writes, allowlist_id),
        krate,
    );
    quote! {
        #item

        #event_impl

        #dependency
    }
}

/// The `Event` impl: static metadata, the writes, and the allowlist the fields were checked
/// against (none: unknown).
fn event_impl(
    ident: &syn::Ident,
    generics: &syn::Generics,
    name: &str,
    doc: &str,
    properties: &[meta::PropertyMetaOf<'_>],
    (writes, allowlist_id): (TokenStream, TokenStream),
    krate: &TokenStream,
) -> TokenStream {
    let type_name = ident.to_string();
    let meta = meta::event_meta(name, doc, properties, &type_name, krate);
    let (impl_generics, ty_generics, where_clause) = generics.split_for_impl();
    // `out` is unused by an event without properties.
    let out = if writes.is_empty() {
        quote!(_out)
    } else {
        quote!(out)
    };
    quote! {
        #[diagnostic::do_not_recommend]
        impl #impl_generics #krate::__private::Sealed for #ident #ty_generics #where_clause {}

        impl #impl_generics #krate::Event for #ident #ty_generics #where_clause {
            const META: &'static #krate::EventMeta = #meta;

            fn write_properties(&self, #out: &mut #krate::__private::PropertyWriter<'_>) {
                #writes
            }

            #allowlist_id
        }
    }
}

/// The body of `write_properties`: one call per field of the writer's method for its kind,
/// with the field's type in the turbofish (`PropertyWriter::duration_ms::<Millis>(out, ...)`).
/// A type that does not fit is reported at the type, once, in the words of the kind trait's
/// `on_unimplemented`.
///
/// An enum or bucketed field goes through `__private::enumeration` / `bucketed`, whose const
/// parameter is the fingerprint of the values the allowlist lists for the property: the type's
/// own fingerprint (`EnumValue::Fingerprint`, from its `#[telemetry_enum]`) must be the same, or the
/// field fails to compile with `__private::EnumValuesOf`'s message. A trait bound, not a
/// constant that compares the lists: with a constant per field, 200 events took 1.7× the
/// rebuild of serde's derive (`scripts/bench-compile-time`, BENCHMARKS.md).
///
/// That message names the property through a type parameter named after it (rustc prints a
/// type parameter by its name; a type declared here would print with its path, `_::command`,
/// when several events declare one): the calls are in a function local to `write_properties`,
/// generic over one parameter per enum or bucketed property, and called with `()` for each.
/// It costs 0.14× of serde's rebuild time for the 200 events; an event without such a
/// property writes directly.
///
/// The writer's methods are shared by every event of the crate (one instance per kind and
/// type, the local function's parameters being `()` in every event). Local generic functions
/// per kind and event would let rustc's "required by a bound" note point at the event's
/// attribute instead of the writer, but each event would then instantiate its own copies: for
/// 200 events that cost 30% of the crate's build (`scripts/bench-compile-time`: 542 ms against
/// 419 ms), and no diagnostic attribute removes the note.
fn writes(
    event: &syn::Ident,
    not_generic: bool,
    fields: &[CheckedField<'_>],
    krate: &TokenStream,
) -> TokenStream {
    // One name per enum or bucketed property, but for the event's own (`this: &event` would
    // name the parameter).
    let mut names: Vec<syn::Ident> = Vec::new();
    for field in fields {
        let name = &field.property.name;
        if matches!(field.property.kind, Kind::Enum(_) | Kind::Bucketed(_))
            && event.unraw() != *name
            && !names.iter().any(|p| p.unraw() == *name)
        {
            names.push(syn::Ident::new_raw(name, Span::call_site()));
        }
    }
    // The local names at the call site (a field's type may come from another macro's input).
    let out = quote!(out);
    let this = if names.is_empty() || !not_generic {
        quote!(self)
    } else {
        quote!(this)
    };
    let calls: TokenStream = fields
        .iter()
        .map(|field| {
            let name = &field.property.name;
            // An `Option<T>` field writes its `T` when it is `Some`: the kinds take no `Option`,
            // so one behind an alias, which the metadata cannot see, fails to compile here
            // rather than being documented as always sent.
            let ty = field.field.value_ty;
            let span = field.field.field.ty.span();
            // A name must not hide one that the field's type uses (a module `provider` in
            // `provider::Provider`): such a type is inferred from the field instead.
            let ty = if mentions(ty.to_token_stream(), &names) {
                quote_spanned!(span=> _)
            } else {
                quote!(#ty)
            };
            // Every other token at the field's type: whichever bound fails is reported there.
            let krate = crate::krate::at(krate, span);
            let ident = field.field.ident;
            let ident = syn::Ident::new_raw(&ident.unraw().to_string(), span);
            let value = if field.field.optional {
                quote_spanned!(span=> __telemetry_present)
            } else {
                quote_spanned!(span=> &#this.#ident)
            };
            let call = match &field.property.kind {
                Kind::Enum(values) | Kind::Bucketed(values) => {
                    let function = writer_method(&field.property.kind);
                    let fingerprint = super::values_fingerprint(values);
                    let property = match names.iter().find(|p| p.unraw() == *name) {
                        Some(param) => quote!(#param),
                        None => quote!(()),
                    };
                    quote_spanned! {span=>
                        #krate::__private::#function::<#ty, #property, #fingerprint>(#out, #name, #value);
                    }
                }
                kind => {
                    let method = writer_method(kind);
                    quote_spanned! {span=>
                        #krate::__private::PropertyWriter::#method::<#ty>(#out, #name, #value);
                    }
                }
            };
            if field.field.optional {
                quote_spanned! {span=>
                    if let ::core::option::Option::Some(#value) = &#this.#ident {
                        #call
                    }
                }
            } else {
                call
            }
        })
        .collect();
    if names.is_empty() {
        return calls;
    }
    if !not_generic {
        // A generic event (already reported): a local function could not name its type, so
        // the names are local types instead, printed with their path when not unique.
        return quote! {
            #(
                #[allow(non_camel_case_types)]
                struct #names;
            )*
            #calls
        };
    }
    let units = names.iter().map(|_| quote!(()));
    quote! {
        #[allow(non_camel_case_types)]
        #[inline(always)]
        fn write<#(#names),*>(
            this: &#event,
            out: &mut #krate::__private::PropertyWriter<'_>,
        ) {
            #calls
        }
        write::<#(#units),*>(self, out);
    }
}

/// Whether `tokens` use one of `names` (as an identifier, anywhere).
fn mentions(tokens: TokenStream, names: &[syn::Ident]) -> bool {
    tokens.into_iter().any(|token| match token {
        TokenTree::Ident(ident) => names.iter().any(|name| name.unraw() == ident.unraw()),
        TokenTree::Group(group) => mentions(group.stream(), names),
        _ => false,
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

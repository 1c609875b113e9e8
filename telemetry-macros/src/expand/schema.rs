//! `telemetry_schema!`: the program's product and the explicit list of its events.
//!
//! Explicit, not collected at link time: a list the compiler sees cannot lose an event to the
//! linker, and cannot pick up events of another program's crate linked into the same binary.
//! Every listed event gets a `Listed` impl, which `track` requires, so an event that is
//! recorded but missing from the list fails to compile instead of going out undocumented.

use proc_macro2::{Span, TokenStream};
use quote::{quote, quote_spanned};
use syn::parse::{Parse, ParseStream};
use syn::punctuated::Punctuated;
use syn::spanned::Spanned;
use syn::{Attribute, Ident, LitStr, Token, Type, Visibility, bracketed};

use crate::allowlist;
use crate::ctxt::Ctxt;

/// `[allowlist = "path";] [crate = "path";] #[doc..] VIS static NAME = [Event, ...];`
struct SchemaInput {
    allowlist: Option<LitStr>,
    krate: Option<LitStr>,
    attrs: Vec<Attribute>,
    vis: Visibility,
    static_token: Token![static],
    name: Ident,
    events: Punctuated<Type, Token![,]>,
}

/// `key = "literal";` before the schema, for `allowlist` and `crate`.
fn setting(input: ParseStream<'_>, key: &str, slot: &mut Option<LitStr>) -> syn::Result<()> {
    let span = input.span();
    input.parse::<Token![=]>()?;
    let value: LitStr = input.parse()?;
    input.parse::<Token![;]>()?;
    if slot.is_some() {
        return Err(syn::Error::new(span, format!("`{key}` is given twice")));
    }
    *slot = Some(value);
    Ok(())
}

impl Parse for SchemaInput {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let (mut allowlist, mut krate) = (None, None);
        loop {
            if input.peek(Token![crate]) && input.peek2(Token![=]) {
                input.parse::<Token![crate]>()?;
                setting(input, "crate", &mut krate)?;
            } else if input.peek(Ident) && input.peek2(Token![=]) {
                let key: Ident = input.parse()?;
                if key != "allowlist" {
                    return Err(syn::Error::new(
                        key.span(),
                        "expected `allowlist = \"path\";`, `crate = \"path\";` or the schema (`pub static SCHEMA = [...];`)",
                    ));
                }
                setting(input, "allowlist", &mut allowlist)?;
            } else {
                break;
            }
        }
        let attrs = input.call(Attribute::parse_outer)?;
        let vis: Visibility = input.parse()?;
        let static_token: Token![static] = input.parse()?;
        let name: Ident = input.parse()?;
        input.parse::<Token![=]>()?;
        let content;
        bracketed!(content in input);
        let events = content.parse_terminated(Type::parse, Token![,])?;
        input.parse::<Token![;]>()?;
        Ok(Self {
            allowlist,
            krate,
            attrs,
            vis,
            static_token,
            name,
            events,
        })
    }
}

pub(crate) fn expand(input: TokenStream) -> TokenStream {
    let input: SchemaInput = match syn::parse2(input) {
        Ok(input) => input,
        Err(error) => return error.to_compile_error(),
    };
    let mut cx = Ctxt::default();
    let krate = crate::krate::path(&mut cx, input.krate.as_ref());
    if input.events.is_empty() {
        cx.error_spanned_by(
            &input.name,
            "a schema lists every event the program can send: name at least one `#[telemetry_event]` struct",
        );
    }
    let mut seen: Vec<String> = Vec::new();
    let mut events: Vec<&Type> = Vec::new();
    for ty in &input.events {
        let text = type_text(ty);
        if seen.contains(&text) {
            cx.error_spanned_by(ty, format!("`{text}` is listed twice"));
        } else {
            seen.push(text);
            events.push(ty);
        }
    }

    let located = allowlist::locate(input.allowlist.as_ref())
        .map_err(|error| cx.syn_error(error))
        .ok();
    let dependency = located
        .as_ref()
        .map(|l| l.dependency_tokens())
        .unwrap_or_default();
    let product = located.as_ref().and_then(|l| {
        let list = l.get(&mut cx)?;
        match &list.product {
            Some(product) => Some(product_tokens(product, &krate)),
            None => {
                cx.syn_error(syn::Error::new(
                    l.span,
                    format!(
                        "{} has no [product] table: add one with the program's `name`, `contact`, `data_location` and `retention` (the README's recipe shows it)",
                        l.path.display()
                    ),
                ));
                None
            }
        }
    });
    let errors = cx.to_compile_errors();
    let (Some(product), Some(located)) = (product, located.as_ref()) else {
        // No schema value without its product; the listed events still count as listed, so
        // code that records them reports nothing more.
        let listed = events.iter().map(|ty| listed_impl(ty, &krate));
        let list = quote!(&[#(#krate::__private::listed_meta::<#events>()),*]);
        let distinct = distinct_names(events.len(), &list, input.name.span(), &krate);
        return quote! { #errors #(#listed)* #distinct const _: () = { #dependency }; };
    };

    let SchemaInput {
        attrs,
        vis,
        static_token,
        name,
        ..
    } = &input;
    let path = located.path.to_string_lossy().into_owned();
    let shown = located.shown_path();
    let fingerprint = located.fingerprint;
    let listed = events.iter().map(|ty| listed_impl(ty, &krate));
    let list = Ident::new("__TELEMETRY_SCHEMA_EVENTS", Span::call_site());
    let distinct = distinct_names(events.len(), &quote!(#list), name.span(), &krate);
    let allowlists = same_allowlist(&events, quote!(#fingerprint, #shown), name.span(), &krate);
    quote! {
        #(#attrs)*
        #vis #static_token #name: #krate::Schema = {
            // one list, for the schema and its check
            const #list: &[&#krate::EventMeta] =
                &[#(#krate::__private::listed_meta::<#events>()),*];
            #distinct
            #allowlists
            #krate::__private::schema(
                #product,
                #list,
                #krate::AllowlistSource {
                    text: ::core::include_str!(#path),
                    path: #shown,
                    crate_name: ::core::env!("CARGO_PKG_NAME"),
                },
            )
        };
        #(#listed)*
        const _: () = { #dependency };
        #errors
    }
}

/// The check that no two listed events send one name (`__private::check_distinct_names`), as
/// a constant item reported at `at` (the schema's name); `events` is the list, or the name of
/// a constant holding it. One call for the whole list: no code per listed type.
fn distinct_names(
    count: usize,
    events: &TokenStream,
    at: Span,
    krate: &TokenStream,
) -> TokenStream {
    if count < 2 {
        return TokenStream::new();
    }
    let krate = crate::krate::at(krate, at);
    let check = quote_spanned!(at=> #krate::__private::check_distinct_names(#events));
    quote! { const _: () = #check; }
}

/// The check that every listed event was checked against the schema's allowlist
/// (`__private::check_allowlists`), as a constant item reported at `at` (the schema's name).
/// One call for the whole list: one comparison of two numbers per listed type.
fn same_allowlist(
    events: &[&Type],
    schema: TokenStream,
    at: Span,
    krate: &TokenStream,
) -> TokenStream {
    if events.is_empty() {
        return TokenStream::new();
    }
    let krate = crate::krate::at(krate, at);
    let check = quote_spanned!(at=>
        #krate::__private::check_allowlists(
            &[#(#krate::__private::listed_allowlist::<#events>()),*],
            #schema
        )
    );
    quote! { const _: () = #check; }
}

/// A listed type as the user wrote it, for messages (`events::Saved`, not `events :: Saved`).
fn type_text(ty: &Type) -> String {
    quote!(#ty).to_string().replace(' ', "")
}

/// `impl Listed` for a listed type, at the type: a type listed twice under two paths (`A` and
/// `self::A`, which the check of repeated entries cannot tell apart) is reported at the second
/// one rather than across the whole macro.
fn listed_impl(ty: &Type, krate: &TokenStream) -> TokenStream {
    quote_spanned! {ty.span()=>
        impl #krate::Listed for #ty {
            fn __in_schema(_: #krate::__private::SchemaToken) {}
        }
    }
}

fn product_tokens(product: &telemetry_allowlist::Product, krate: &TokenStream) -> TokenStream {
    let option = |value: &Option<String>| match value {
        Some(value) => quote!(::core::option::Option::Some(#value)),
        None => quote!(::core::option::Option::None),
    };
    let telemetry_allowlist::Product {
        name,
        command,
        docs_path,
        contact,
        data_location,
        retention,
        ..
    } = product;
    let docs_url = option(&product.docs_url);
    let purpose = option(&product.purpose);
    let policy = match product.consent {
        telemetry_allowlist::ConsentPolicy::OptIn => quote!(OptIn),
        telemetry_allowlist::ConsentPolicy::OptOut => quote!(OptOut),
    };
    quote! {
        #krate::__private::product(
            #name, #command, #docs_url, #docs_path, #contact, #data_location, #retention, #purpose,
            #krate::__private::ConsentPolicy::#policy,
        )
    }
}

//! `#[telemetry_bucket]`: a name sent as itself when the allowlist knows it, else `user-defined`.

use proc_macro2::TokenStream;
use quote::{format_ident, quote};
use syn::{Fields, Item, ItemStruct};

use crate::attr::ValueArgs;
use crate::check::bucket::BucketAttrs;
use crate::ctxt::Ctxt;

pub(crate) fn expand(args: TokenStream, input: TokenStream) -> TokenStream {
    let mut cx = Ctxt::default();
    let args = ValueArgs::parse(&mut cx, args, "telemetry_bucket");
    let item = match super::parse_item(&mut cx, input) {
        Ok(item) => item,
        Err(tokens) => return tokens,
    };
    let Item::Struct(item) = item else {
        cx.syn_error(syn::Error::new(
            super::item_keyword_span(&item),
            "`#[telemetry_bucket]` goes on a unit struct (`pub struct WorkflowName;`); for a fixed set of values use `#[telemetry_enum]` on an enum",
        ));
        let errors = cx.to_compile_errors();
        return quote!(#item #errors);
    };
    if !matches!(item.fields, Fields::Unit) || !item.generics.params.is_empty() {
        cx.error_spanned_by(
            &item.ident,
            format!("write `struct {};` with no fields or generics: `#[telemetry_bucket]` supplies the one field, a name that is either known or `user-defined`", item.ident),
        );
    }

    let attrs = crate::check::bucket::attributes(&mut cx, &item.ident, &item.attrs);

    let (dependency, named) = super::named_property_values(&mut cx, &args, "bucketed");
    let known = named.unwrap_or_default();
    let property = args
        .property
        .as_ref()
        .map(syn::LitStr::value)
        .unwrap_or_default();
    let errors = cx.to_compile_errors();
    let generated = generate(&item, &attrs, &known, &property, &args.krate);
    quote! {
        #generated
        #errors
        const _: () = { #dependency };
    }
}

/// The struct in a module of its own, re-exported where it was declared: its field is private
/// to that module, so no code of the declaring crate can build a value from text of its own
/// (`CommandName(leaked)`); `sanitize` is the only way in.
fn generate(
    item: &ItemStruct,
    attrs: &BucketAttrs,
    known: &[String],
    property: &str,
    krate: &TokenStream,
) -> TokenStream {
    let ItemStruct { vis, ident, .. } = item;
    let BucketAttrs {
        cfgs,
        item: item_attrs,
        derives,
    } = attrs;
    let module = format_ident!("__telemetry_bucket_{}", ident);
    let fingerprint = super::values_fingerprint(known);
    quote! {
        #(#cfgs)*
        #[doc(hidden)]
        #[allow(non_snake_case, unreachable_pub)]
        mod #module {
            // The declaring module's names, for the doc comment's links and the derives' paths.
            #[allow(unused_imports)]
            use super::*;

            // The standard derives by their full path: a derive macro of the same name that
            // the declaring module imports (reached through the glob) cannot stand in for one.
            #(#item_attrs)*
            #[derive(
                ::core::fmt::Debug,
                ::core::clone::Clone,
                ::core::marker::Copy,
                ::core::cmp::PartialEq,
                ::core::cmp::Eq,
                ::core::hash::Hash
                #(, #derives)*
            )]
            pub struct #ident(&'static str);

            impl #ident {
                /// The names sent as themselves, from the allowlist.
                pub const KNOWN: &'static [&'static str] = &[#(#known),*];

                /// What every name the allowlist does not know is sent as.
                pub const USER_DEFINED: #ident = #ident(#krate::__private::USER_DEFINED);

                /// `name` itself when the allowlist knows it, `user-defined` otherwise.
                pub fn sanitize(name: &str) -> Self {
                    // a function of the library, no method call: the glob import above
                    // brings the author's traits into scope, and a method of one of them
                    // could be chosen before the standard one
                    #ident(#krate::__private::bucket_name(#ident::KNOWN, name))
                }

                /// The name as sent.
                pub const fn as_str(&self) -> &'static str {
                    self.0
                }
            }

            #[diagnostic::do_not_recommend]
            impl #krate::__private::Sealed for #ident {}

            #[diagnostic::do_not_recommend]
            impl #krate::__private::PropertyValue for #ident {
                fn write_json(&self, out: &mut ::std::string::String) {
                    #krate::__private::write_json_str(out, self.0);
                }
            }

            // A type that does not fit is told what the kind takes, not shown every impl.
            #[diagnostic::do_not_recommend]
            impl #krate::kinds::BucketedValue for #ident {
                const KNOWN: &'static [&'static str] = #ident::KNOWN;
                const PROPERTY: &'static str = #property;
                type Fingerprint = #krate::__private::Values<#fingerprint>;
            }
        }

        #(#cfgs)*
        #vis use #module::#ident;
    }
}

//! `#[telemetry_bucket]`: a name sent as itself when the allowlist knows it, else `user-defined`.

use proc_macro2::TokenStream;
use quote::quote;
use syn::{Fields, Item, ItemStruct};

use crate::attr::ValueArgs;
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

    let (dependency, named) = super::named_property_values(&mut cx, &args, "bucketed");
    let known = named.unwrap_or_default();
    let errors = cx.to_compile_errors();
    let generated = generate(&item, &known);
    quote! {
        #generated
        #errors
        const _: () = { #dependency };
    }
}

fn generate(item: &ItemStruct, known: &[String]) -> TokenStream {
    let ItemStruct {
        attrs, vis, ident, ..
    } = item;
    quote! {
        #(#attrs)*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        #vis struct #ident(&'static str);

        impl #ident {
            /// The names sent as themselves, from the allowlist.
            pub const KNOWN: &'static [&'static str] = &[#(#known),*];

            /// What every name the allowlist does not know is sent as.
            pub const USER_DEFINED: #ident = #ident(::telemetry_core::USER_DEFINED);

            /// `name` itself when the allowlist knows it, `user-defined` otherwise.
            pub fn sanitize(name: &str) -> Self {
                match Self::KNOWN.iter().find(|known| **known == name) {
                    ::core::option::Option::Some(known) => #ident(known),
                    ::core::option::Option::None => Self::USER_DEFINED,
                }
            }

            /// The name as sent.
            pub const fn as_str(&self) -> &'static str {
                self.0
            }
        }

        impl ::telemetry_core::PropertyValue for #ident {
            fn write_json(&self, out: &mut ::std::string::String) {
                ::telemetry_core::__private::write_json_str(out, self.0);
            }
        }

        // A type that does not fit is told what the kind takes, not shown every impl.
        #[diagnostic::do_not_recommend]
        impl ::telemetry_core::kinds::BucketedValue for #ident {
            const KNOWN: &'static [&'static str] = #ident::KNOWN;
        }
    }
}

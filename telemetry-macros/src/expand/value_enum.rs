//! `#[telemetry_enum]`: a fieldless enum whose variants are an `enum` property's values.

use proc_macro2::TokenStream;
use quote::quote;
use syn::{Fields, Item, ItemEnum};

use crate::attr::ValueArgs;
use crate::ctxt::Ctxt;
use crate::model::{camel_case, snake_case};

pub(crate) fn expand(args: TokenStream, input: TokenStream) -> TokenStream {
    let mut cx = Ctxt::default();
    let args = ValueArgs::parse(&mut cx, args, "telemetry_enum");
    let item = match super::parse_item(&mut cx, input) {
        Ok(item) => item,
        Err(tokens) => return tokens,
    };
    let Item::Enum(item) = item else {
        cx.syn_error(syn::Error::new(
            super::item_keyword_span(&item),
            "`#[telemetry_enum]` goes on a fieldless enum; for a name with a closed list of known values use `#[telemetry_bucket]`",
        ));
        let errors = cx.to_compile_errors();
        return quote!(#item #errors);
    };

    if !item.generics.params.is_empty() {
        cx.error_spanned_by(&item.generics, "a `#[telemetry_enum]` cannot be generic");
    }
    let mut variants: Vec<(&syn::Ident, String)> = Vec::new();
    // Every variant's value, with data or not: a variant with data was reported already, so its
    // value does not count as missing.
    let mut declared: Vec<String> = Vec::new();
    for variant in &item.variants {
        let value = snake_case(&variant.ident.to_string());
        declared.push(value.clone());
        if matches!(variant.fields, Fields::Unit) {
            variants.push((&variant.ident, value));
        } else {
            cx.error_spanned_by(
                &variant.fields,
                format!("variant `{}` carries data: a `#[telemetry_enum]` sends only which variant it is, so its variants cannot have fields", variant.ident),
            );
        }
    }

    let (dependency, named) = super::named_property_values(&mut cx, &args, "enum");
    let allowed = named.inspect(|values| {
        let name = args
            .property
            .as_ref()
            .map(syn::LitStr::value)
            .unwrap_or_default();
        check_variants(&mut cx, &item, &variants, &declared, &name, values);
    });

    // On error the impls still exist, with the allowlist's values, so events that use the enum
    // report nothing more.
    let values: Vec<String> = match (cx.has_errors(), allowed) {
        (true, Some(allowed)) => allowed,
        _ => variants.iter().map(|(_, value)| value.clone()).collect(),
    };
    let property = args
        .property
        .as_ref()
        .map(syn::LitStr::value)
        .unwrap_or_default();
    let errors = cx.to_compile_errors();
    let impls = generate(&item, &variants, &values, &property, &args.krate);
    // The enum is emitted with every derive and attribute it was given (`Default`,
    // `Deserialize`, `clap::ValueEnum`, strum...), unlike a `#[telemetry_bucket]`: its values
    // are its variants, each an allowlisted value, so no derive can produce any other.
    quote! {
        #item
        #errors
        #impls
        const _: () = { #dependency };
    }
}

fn check_variants(
    cx: &mut Ctxt,
    item: &ItemEnum,
    variants: &[(&syn::Ident, String)],
    declared: &[String],
    property: &str,
    values: &[String],
) {
    for (ident, value) in variants {
        if !values.contains(value) {
            cx.error_spanned_by(
                ident,
                format!("variant `{ident}` (sent as `{value}`) is not a value of `{property}`, whose allowlisted values are: {}", values.join(", ")),
            );
        }
    }
    let (unsendable, missing): (Vec<&str>, Vec<&str>) = values
        .iter()
        .filter(|v| !declared.contains(v))
        .map(String::as_str)
        .partition(|v| snake_case(&camel_case(v)) != *v);
    // a value no variant's name is sent as (`ten_to_99`: `TenTo99` is sent as `ten_to99`):
    // suggesting a variant would repeat the error, so the allowlist is what to change
    for value in unsendable {
        let variant = camel_case(value);
        cx.error_spanned_by(
            &item.ident,
            format!(
                "no variant of `{}` can be sent as the allowlisted value `{value}` of `{property}`: a variant `{variant}` is sent as `{}`. Values of an enum are variant names in snake_case; in the allowlist, write `{}` instead",
                item.ident,
                snake_case(&variant),
                snake_case(&variant),
            ),
        );
    }
    if !missing.is_empty() {
        let quoted = |words: Vec<String>| {
            words
                .iter()
                .map(|w| format!("`{w}`"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let values = quoted(missing.iter().map(|v| (*v).to_owned()).collect());
        let variants = quoted(missing.iter().map(|v| camel_case(v)).collect());
        let (noun, add) = if missing.len() == 1 {
            ("value", "a variant")
        } else {
            ("values", "variants")
        };
        cx.error_spanned_by(
            &item.ident,
            format!(
                "`{}` has no variant for the allowlisted {noun} {values} of `{property}`: add {add} {variants}",
                item.ident,
            ),
        );
    }
}

fn generate(
    item: &ItemEnum,
    variants: &[(&syn::Ident, String)],
    values: &[String],
    property: &str,
    krate: &TokenStream,
) -> TokenStream {
    let ident = &item.ident;
    let fingerprint = super::values_fingerprint(values);
    let arms = variants
        .iter()
        .map(|(variant, value)| quote!(#ident::#variant => #value));
    let all = variants.iter().map(|(variant, _)| quote!(#ident::#variant));
    let fallback = if variants.len() < item.variants.len() {
        quote!(_ => "")
    } else {
        quote!()
    };
    quote! {
        impl #ident {
            /// Every variant, in declaration order.
            pub const ALL: &'static [#ident] = &[#(#all),*];

            /// The value this variant is sent as.
            pub const fn as_str(&self) -> &'static str {
                #[allow(unreachable_patterns)]
                match self {
                    #(#arms,)*
                    #fallback
                }
            }
        }

        #[diagnostic::do_not_recommend]
        impl #krate::__private::Sealed for #ident {}

        #[diagnostic::do_not_recommend]
        impl #krate::__private::PropertyValue for #ident {
            fn write_json(&self, out: &mut ::std::string::String) {
                #krate::__private::write_json_str(out, self.as_str());
            }
        }

        // A type that does not fit is told what the kind takes, not shown every impl.
        #[diagnostic::do_not_recommend]
        impl #krate::kinds::EnumValue for #ident {
            const VALUES: &'static [&'static str] = &[#(#values),*];
            const PROPERTY: &'static str = #property;
            type Fingerprint = #krate::__private::Values<#fingerprint>;
        }
    }
}

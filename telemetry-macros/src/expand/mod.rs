//! Code generation, one module per attribute.

pub(crate) mod bucket;
pub(crate) mod event;
pub(crate) mod meta;
pub(crate) mod schema;
pub(crate) mod value_enum;

use proc_macro2::{Span, TokenStream};
use quote::quote;

use crate::ctxt::Ctxt;

/// Parses the annotated item; when it is not valid Rust, gives back the input unchanged with
/// every error so far (rustc then reports the syntax error itself, once).
pub(crate) fn parse_item(cx: &mut Ctxt, input: TokenStream) -> Result<syn::Item, TokenStream> {
    syn::parse2(input.clone()).map_err(|error| {
        cx.syn_error(error);
        let errors = cx.to_compile_errors();
        quote!(#input #errors)
    })
}

/// The keyword of an item (`struct`, `enum`, `fn`...), where an error about what the item is
/// belongs; the whole item when it has none.
pub(crate) fn item_keyword_span(item: &syn::Item) -> Span {
    use syn::spanned::Spanned;
    match item {
        syn::Item::Struct(s) => s.struct_token.span,
        syn::Item::Enum(e) => e.enum_token.span,
        syn::Item::Union(u) => u.union_token.span,
        syn::Item::Fn(f) => f.sig.fn_token.span,
        syn::Item::Type(t) => t.type_token.span,
        syn::Item::Trait(t) => t.trait_token.span,
        syn::Item::Impl(i) => i.impl_token.span,
        syn::Item::Mod(m) => m.mod_token.span,
        syn::Item::Const(c) => c.const_token.span,
        syn::Item::Static(s) => s.static_token.span,
        other => other.span(),
    }
}

/// The values of the property that `#[telemetry_enum]` or `#[telemetry_bucket]` names, when the
/// allowlist declares it with the `expected` kind (`enum` or `bucketed`); every problem on the
/// way is recorded in `cx`. Also gives the tokens that make cargo rebuild when the file changes.
pub(crate) fn named_property_values(
    cx: &mut Ctxt,
    args: &crate::attr::ValueArgs,
    expected: &str,
) -> (TokenStream, Option<Vec<String>>) {
    let located = match crate::allowlist::locate(args.allowlist.as_ref()) {
        Ok(located) => located,
        Err(error) => {
            cx.syn_error(error);
            return (TokenStream::new(), None);
        }
    };
    let dependency = located.dependency_tokens();
    let Some(list) = located.get(cx) else {
        return (dependency, None);
    };
    let Some(property) = &args.property else {
        return (dependency, None);
    };
    let name = property.value();
    let values = match list.property(&name).map(|p| &p.kind) {
        Some(kind) if kind.keyword() == expected => kind.values().map(<[String]>::to_vec),
        Some(other) => {
            cx.error_spanned_by(
                property,
                format!(
                    "property `{name}` is of kind `{}` in the allowlist, not `{expected}`: {}",
                    other.keyword(),
                    crate::fit::hint(other, &name)
                ),
            );
            None
        }
        None => {
            let message = crate::check::lookalike_property(&name, list)
                .unwrap_or_else(|| format!("`{name}` is not an allowlisted telemetry property"));
            cx.error_spanned_by(property, message);
            None
        }
    };
    (dependency, values)
}

/// The fingerprint of an `enum` or `bucketed` property's values, the const parameter of
/// `telemetry_core::__private::Values`: FNV-1a (64 bits) of the set, its values sorted, each
/// followed by a `0xff` byte (never part of UTF-8). The same set gives the same fingerprint in
/// every crate, whatever the order the allowlist lists it in and whichever property it is for.
pub(crate) fn values_fingerprint(values: &[String]) -> u64 {
    let mut sorted: Vec<&str> = values.iter().map(String::as_str).collect();
    sorted.sort_unstable();
    sorted.dedup();
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in sorted
        .iter()
        .flat_map(|value| value.bytes().chain(std::iter::once(0xff)))
    {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    hash
}

#[cfg(test)]
mod tests {
    use super::values_fingerprint;

    fn strings(values: &[&str]) -> Vec<String> {
        values.iter().map(|v| (*v).to_owned()).collect()
    }

    #[test]
    fn fingerprint_is_of_the_set() {
        let a = values_fingerprint(&strings(&["claude", "codex", "local"]));
        assert_eq!(
            a,
            values_fingerprint(&strings(&["local", "claude", "codex"]))
        );
        assert_ne!(a, values_fingerprint(&strings(&["claude", "codex"])));
        assert_ne!(
            a,
            values_fingerprint(&strings(&["claude", "codex", "locals"]))
        );
        // The separator: the values are not concatenated.
        assert_ne!(
            values_fingerprint(&strings(&["ab", "c"])),
            values_fingerprint(&strings(&["a", "bc"]))
        );
        assert_ne!(values_fingerprint(&[]), a);
    }
}

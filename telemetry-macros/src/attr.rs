//! Parsing the arguments of the three attributes (`name` or `property`, `allowlist`, `crate`).

use proc_macro2::{Span, TokenStream};
use syn::LitStr;
use syn::parse::Parser;

use crate::ctxt::Ctxt;

/// `#[telemetry_event(name = "...", allowlist = "...", crate = "...")]`.
pub(crate) struct EventArgs {
    pub name: Option<LitStr>,
    pub allowlist: Option<LitStr>,
    /// The library's path in the generated code ([`crate::krate`]).
    pub krate: TokenStream,
}

/// `#[telemetry_enum(property = "...", allowlist = "...", crate = "...")]` and
/// `#[telemetry_bucket(...)]`.
pub(crate) struct ValueArgs {
    pub property: Option<LitStr>,
    pub allowlist: Option<LitStr>,
    /// The library's path in the generated code ([`crate::krate`]).
    pub krate: TokenStream,
}

/// Parses `key = "literal"` pairs, recording unknown, repeated or malformed keys in `cx`.
fn parse_pairs(
    cx: &mut Ctxt,
    args: TokenStream,
    attribute: &str,
    keys: &[&str],
) -> Vec<(String, LitStr)> {
    let mut pairs: Vec<(String, LitStr)> = Vec::new();
    let mut problems: Vec<syn::Error> = Vec::new();
    let parser = syn::meta::parser(|meta| {
        let key = meta
            .path
            .get_ident()
            .map(ToString::to_string)
            .unwrap_or_default();
        if !keys.contains(&key.as_str()) {
            let expected = keys
                .iter()
                .map(|k| format!("`{k}`"))
                .collect::<Vec<_>>()
                .join(", ");
            problems.push(meta.error(format!(
                "unknown argument for `#[{attribute}]`: expected {expected}"
            )));
            // Skip the value so the remaining arguments are still checked.
            if meta.input.peek(syn::Token![=]) {
                let _ = meta.value()?.parse::<syn::Expr>();
            }
            return Ok(());
        }
        let value: LitStr = meta.value()?.parse()?;
        if pairs.iter().any(|(k, _)| *k == key) {
            problems.push(syn::Error::new(
                value.span(),
                format!("`{key}` is given twice"),
            ));
        } else {
            pairs.push((key, value));
        }
        Ok(())
    });
    if let Err(error) = parser.parse2(args) {
        cx.syn_error(error);
    }
    for problem in problems {
        cx.syn_error(problem);
    }
    pairs
}

fn take(pairs: &mut Vec<(String, LitStr)>, key: &str) -> Option<LitStr> {
    let index = pairs.iter().position(|(k, _)| k == key)?;
    Some(pairs.remove(index).1)
}

impl EventArgs {
    pub(crate) fn parse(cx: &mut Ctxt, args: TokenStream) -> Self {
        let mut pairs = parse_pairs(cx, args, "telemetry_event", &["name", "allowlist", "crate"]);
        let name = take(&mut pairs, "name");
        if name.is_none() && !cx.has_errors() {
            cx.syn_error(syn::Error::new(
                Span::call_site(),
                "missing event name: write `#[telemetry_event(name = \"area.event_name\")]`",
            ));
        }
        let krate = crate::krate::path(cx, take(&mut pairs, "crate").as_ref());
        Self {
            name,
            allowlist: take(&mut pairs, "allowlist"),
            krate,
        }
    }
}

impl ValueArgs {
    pub(crate) fn parse(cx: &mut Ctxt, args: TokenStream, attribute: &str) -> Self {
        let mut pairs = parse_pairs(cx, args, attribute, &["property", "allowlist", "crate"]);
        let property = take(&mut pairs, "property");
        if property.is_none() && !cx.has_errors() {
            cx.syn_error(syn::Error::new(
                Span::call_site(),
                format!(
                    "missing property: write `#[{attribute}(property = \"allowlisted_name\")]`"
                ),
            ));
        }
        let krate = crate::krate::path(cx, take(&mut pairs, "crate").as_ref());
        Self {
            property,
            allowlist: take(&mut pairs, "allowlist"),
            krate,
        }
    }
}

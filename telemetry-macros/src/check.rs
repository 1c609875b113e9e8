//! What an event declaration means, checked against the allowlist. Every problem is recorded
//! in the context; nothing here stops at the first one.

pub(crate) mod bucket;
mod lookalike;

use proc_macro2::{TokenStream, TokenTree};
use quote::ToTokens;
use syn::{Attribute, Fields, GenericParam, Generics, ItemStruct, LitStr, Type};
use telemetry_allowlist::{Allowlist, Property, closest_name, is_snake_case};

use crate::ctxt::Ctxt;
use crate::fit;
use crate::model::{EventField, option_inner};
use crate::text_types;

/// A field that passed every check, with the property it declares.
pub(crate) struct CheckedField<'a> {
    pub field: EventField<'a>,
    pub property: &'a Property,
}

/// `area.event_name`: two or more snake_case segments.
pub(crate) fn event_name(cx: &mut Ctxt, name: &LitStr) {
    let value = name.value();
    let segments: Vec<&str> = value.split('.').collect();
    if value.starts_with('$') {
        cx.error_spanned_by(
            name,
            format!("event name `{value}` is reserved: `$`-prefixed events belong to PostHog; name the event as an area then an action, such as `cli.command_completed`"),
        );
    } else if segments.len() < 2 || !segments.iter().all(|s| is_snake_case(s)) {
        cx.error_spanned_by(
            name,
            format!("event name `{value}` must be dotted snake_case, an area then an action, such as `cli.command_completed`"),
        );
    }
}

/// The doc comment is the "when" of the event in the docs: it is required.
pub(crate) fn description(cx: &mut Ctxt, item: &ItemStruct, doc: &str) {
    if doc.is_empty() {
        cx.error_spanned_by(
            &item.ident,
            format!("event `{}` needs a doc comment saying when it is sent (`/// Sent when ...`): it is the event's entry in docs/telemetry.md", item.ident),
        );
    }
}

/// No generics, and a struct with named fields.
pub(crate) fn shape(cx: &mut Ctxt, item: &ItemStruct) {
    let generics = &item.generics;
    if !generics.params.is_empty() {
        let only_lifetimes = generics
            .params
            .iter()
            .all(|param| matches!(param, GenericParam::Lifetime(_)));
        let message = if only_lifetimes {
            "an event cannot borrow: it owns its values (numbers, enums, bucketed names), so it has no lifetime parameters"
        } else {
            "an event cannot be generic: the allowlist checks each field's concrete type at compile time"
        };
        cx.error_spanned_by(generics, message);
    } else if let Some(where_clause) = &generics.where_clause {
        cx.error_spanned_by(
            where_clause,
            "an event cannot have a `where` clause: the allowlist checks each field's concrete type at compile time",
        );
    }
    match &item.fields {
        Fields::Named(_) => {}
        Fields::Unnamed(fields) => cx.error_spanned_by(
            fields,
            "an event needs named fields: each field's name is the property's name on the wire",
        ),
        Fields::Unit => cx.error_spanned_by(
            &item.ident,
            format!("an event needs named fields, one per allowlisted property: write `struct {} {{}}` for an event without properties", item.ident),
        ),
    }
}

/// The attributes an event field may carry: doc comments and lint levels.
pub(crate) const FIELD_ATTRIBUTES: &[&str] = &["doc", "allow", "expect", "warn", "deny", "forbid"];

/// Attributes that would change what is sent are refused on the struct and on its fields.
pub(crate) fn attributes(cx: &mut Ctxt, attrs: &[Attribute], on_field: bool) {
    for attr in attrs {
        let path = attr.path();
        let name = path
            .get_ident()
            .map(ToString::to_string)
            .unwrap_or_else(|| quote::quote!(#path).to_string());
        match name.as_str() {
            allowed if FIELD_ATTRIBUTES.contains(&allowed) => {}
            "serde" => cx.error_spanned_by(
                attr,
                "`#[serde]` is not allowed on an event: field names are the property names on the wire, so renaming, flattening or skipping would send what the allowlist did not review",
            ),
            "cfg" | "cfg_attr" if on_field => cx.error_spanned_by(
                attr,
                "a conditional field is not allowed on an event: every build must send the same, documented properties; use an `Option` field instead",
            ),
            _ if on_field => cx.error_spanned_by(
                attr,
                format!("attribute `#[{name}]` is not allowed on an event field: only doc comments and lint attributes are"),
            ),
            _ => {}
        }
    }
}

/// Each field: an allowlisted property, declared once, with a type that cannot carry free text.
pub(crate) fn fields<'a>(
    cx: &mut Ctxt,
    item: &'a ItemStruct,
    allowlist: &'a Allowlist,
) -> Vec<CheckedField<'a>> {
    let Fields::Named(named) = &item.fields else {
        return Vec::new();
    };
    let generic_names = generic_names(&item.generics);
    let mut checked: Vec<CheckedField<'a>> = Vec::new();
    let mut seen: Vec<String> = Vec::new();
    for field in &named.named {
        let Some(ident) = &field.ident else { continue };
        let field = EventField::new(field, ident);
        attributes(cx, &field.field.attrs, true);

        if seen.contains(&field.name) {
            cx.error_spanned_by(
                ident,
                format!("property `{}` is declared twice in this event", field.name),
            );
            continue;
        }
        seen.push(field.name.clone());

        // A field that is not an allowlisted property has one error, at its name: whatever its
        // type, the fix is to remove it (or to have the property reviewed).
        let Some(property) = property(cx, &field, allowlist) else {
            continue;
        };
        if !field_type(cx, &field, property) {
            continue;
        }
        // A type that uses the struct's generic parameters was reported with the generics; the
        // field is not written, so its unknown type reports nothing more.
        if mentions_any(&field.field.ty, &generic_names) {
            continue;
        }
        checked.push(CheckedField { field, property });
    }
    checked
}

/// The names of the struct's generic parameters (lifetimes without their `'`).
fn generic_names(generics: &Generics) -> Vec<String> {
    generics
        .params
        .iter()
        .map(|param| match param {
            GenericParam::Type(t) => t.ident.to_string(),
            GenericParam::Lifetime(l) => l.lifetime.ident.to_string(),
            GenericParam::Const(c) => c.ident.to_string(),
        })
        .collect()
}

/// Whether `ty` mentions one of `names`.
fn mentions_any(ty: &Type, names: &[String]) -> bool {
    fn walk(tokens: TokenStream, names: &[String]) -> bool {
        tokens.into_iter().any(|token| match token {
            TokenTree::Ident(ident) => names.iter().any(|name| ident == name),
            TokenTree::Group(group) => walk(group.stream(), names),
            _ => false,
        })
    }
    !names.is_empty() && walk(ty.to_token_stream(), names)
}

fn property<'a>(
    cx: &mut Ctxt,
    field: &EventField<'_>,
    allowlist: &'a Allowlist,
) -> Option<&'a Property> {
    let name = field.name.as_str();
    let path = allowlist.path.display();
    if let Some(property) = allowlist.property(name) {
        return Some(property);
    }
    if telemetry_allowlist::is_common_property(name) {
        cx.error_spanned_by(
            field.ident,
            format!("`{name}` is a common property, added to every event by the runtime: remove this field"),
        );
        return None;
    }
    if let Some(message) = lookalike_property(name, allowlist) {
        cx.error_spanned_by(field.ident, message);
        return None;
    }
    let mut message = format!("`{name}` is not an allowlisted telemetry property");
    if !name.is_ascii() {
        message.push_str("\nnote: allowlisted property names are ASCII snake_case");
    }
    if let Some(row) = never_sent_row(name, allowlist) {
        message.push_str(&format!(
            "\nnote: the allowlist's never-sent list has \"{}\" ({}): {}",
            row.category, row.examples, row.reason
        ));
    }
    if let Some(reason) = text_types::refusal(field.value_ty) {
        message.push_str(&format!(
            "\nnote: its type could not be sent either: {reason}"
        ));
    }
    if let Some(suggestion) =
        closest_name(name, allowlist.properties.iter().map(|p| p.name.as_str()))
    {
        message.push_str(&format!("\nhelp: did you mean `{suggestion}`?"));
    }
    message.push_str(&format!(
        "\nhelp: a new property must be added to {path} and pass privacy review; send an enum, a bucketed name, a number or an error class, never free text"
    ));
    cx.error_spanned_by(field.ident, message);
    None
}

/// When `name` spells a property of `allowlist` (or a common one) with look-alike non-ASCII
/// letters: a message that says so, rather than "not allowlisted" about a name that looks
/// allowlisted.
pub(crate) fn lookalike_property(name: &str, allowlist: &Allowlist) -> Option<String> {
    lookalike::explain(name, |ascii| {
        allowlist.property(ascii).is_some() || telemetry_allowlist::is_common_property(ascii)
    })
}

/// The never-sent row whose category or examples mention the field's name.
fn never_sent_row<'a>(
    name: &str,
    allowlist: &'a Allowlist,
) -> Option<&'a telemetry_allowlist::NeverSent> {
    let spaced = name.replace('_', " ");
    allowlist.never_sent.iter().find(|row| {
        let text = format!("{} {}", row.category, row.examples).to_lowercase();
        text.contains(&spaced)
            || text
                .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .any(|word| word == name)
    })
}

/// The type refused outright (free text, maps, collections), a nested `Option`, or a well-known
/// type of another kind: one error at the type. Other types are left to the trait bounds.
fn field_type(cx: &mut Ctxt, field: &EventField<'_>, property: &Property) -> bool {
    let name = &field.name;
    let problem = if let Some(reason) = text_types::refusal(field.value_ty) {
        // what this property's kind takes, after the general advice
        Some(format!(
            "property `{name}`: {reason}\nhelp: `{name}` is `{}` in the allowlist: {}",
            property.kind.keyword(),
            fit::hint(&property.kind, name)
        ))
    } else if option_inner(field.value_ty).is_some() {
        Some(format!(
            "property `{name}`: an `Option` inside an `Option` cannot be sent: a property is either present or left out; use one `Option`"
        ))
    } else {
        fit::misfit(field.value_ty, &property.kind, name)
    };
    match problem {
        Some(message) => {
            cx.error_spanned_by(&field.field.ty, message);
            false
        }
        None => true,
    }
}

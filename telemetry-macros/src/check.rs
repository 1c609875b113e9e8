//! What an event declaration means, checked against the allowlist. Every problem is recorded
//! in the context; nothing here stops at the first one.

use syn::{Attribute, Fields, ItemStruct, LitStr};
use telemetry_allowlist::{Allowlist, Kind, Property, closest_name, is_snake_case};

use crate::ctxt::Ctxt;
use crate::model::EventField;
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
    if segments.len() < 2 || !segments.iter().all(|s| is_snake_case(s)) {
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
    if !item.generics.params.is_empty() || item.generics.where_clause.is_some() {
        cx.error_spanned_by(
            &item.generics,
            "an event cannot be generic: the allowlist checks each field's concrete type at compile time",
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

/// Attributes that would change what is sent are refused on the struct and on its fields.
pub(crate) fn attributes(cx: &mut Ctxt, attrs: &[Attribute], on_field: bool) {
    for attr in attrs {
        let path = attr.path();
        let name = path
            .get_ident()
            .map(ToString::to_string)
            .unwrap_or_else(|| quote::quote!(#path).to_string());
        match name.as_str() {
            "doc" | "allow" | "expect" | "warn" | "deny" | "forbid" => {}
            "derive" | "must_use" | "non_exhaustive" | "repr" if !on_field => {}
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

        let property = property(cx, &field, allowlist);
        let type_ok = field_type(cx, &field);
        if let (Some(property), true) = (property, type_ok) {
            checked.push(CheckedField { field, property });
        }
    }
    checked
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
    if allowlist.common_property(name).is_some() {
        cx.error_spanned_by(
            field.ident,
            format!("`{name}` is a common property, added to every event by the runtime: remove this field"),
        );
        return None;
    }
    let mut message = format!("`{name}` is not an allowlisted telemetry property");
    if let Some(row) = never_sent_row(name, allowlist) {
        message.push_str(&format!(
            "\nnote: the allowlist lists {} ({}) among what is never sent: {}",
            row.category.to_lowercase(),
            row.examples,
            row.reason
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

fn field_type(cx: &mut Ctxt, field: &EventField<'_>) -> bool {
    if let Some(reason) = text_types::refusal(field.value_ty) {
        cx.error_spanned_by(
            &field.field.ty,
            format!("property `{}`: {reason}", field.name),
        );
        return false;
    }
    true
}

/// The writer method of a kind: its trait bound is what checks the field's type.
pub(crate) fn writer_method(kind: &Kind) -> &'static str {
    match kind {
        Kind::Bool => "bool",
        Kind::Unsigned => "unsigned",
        Kind::Signed => "signed",
        Kind::DurationMs => "duration_ms",
        Kind::Enum(_) => "enumeration",
        Kind::Bucketed(_) => "bucketed",
        Kind::ErrorClass => "error_class",
        Kind::CodeLocation => "code_location",
        Kind::BuildConstant => "build_constant",
    }
}

//! `telemetry catalog`: every event and property this build can send, from the program's
//! telemetry schema compiled into it (what VS Code's `--telemetry` prints): the same events
//! as its generated page.

use std::fmt::Write as _;

use super::{Io, command_name};
use crate::event::common::{COMMON_PROPERTIES, GEOIP_DISABLE, PROCESS_PERSON_PROFILE};
use crate::event::meta::{EventMeta, PropertyKind, PropertyMeta};
use crate::event::writer::write_json_str;
use crate::record::ALIAS_EVENT;

pub(super) fn run(telemetry: &super::Telemetry, as_json: bool, io: &mut Io<'_>) -> i32 {
    let events = telemetry
        .config()
        .map(|c| c.schema().events_by_name())
        .unwrap_or_default();
    if as_json {
        io.out(&to_json(&events));
    } else {
        io.out(&to_text(command_name(telemetry), &events));
    }
    0
}

/// Appends `values` separated by commas.
fn push_list(out: &mut String, values: &[&str]) {
    for (i, value) in values.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        out.push_str(value);
    }
}

fn property_line(out: &mut String, p: &PropertyMeta) {
    let _ = write!(
        out,
        "    {}{}  [{}, {}]\n      {}",
        p.name,
        if p.optional { " (optional)" } else { "" },
        p.kind.keyword(),
        p.sensitivity.keyword(),
        p.description,
    );
    match p.kind {
        PropertyKind::Enum(values) => {
            out.push_str(" One of: ");
            push_list(out, values);
            out.push('.');
        }
        PropertyKind::Bucketed(values) => {
            out.push_str(" Sent as itself when one of: ");
            push_list(out, values);
            out.push_str("; any other as `");
            out.push_str(crate::USER_DEFINED);
            out.push_str("`.");
        }
        _ => {}
    }
    out.push('\n');
}

fn to_text(cmd: &str, events: &[&'static EventMeta]) -> String {
    let mut out = String::new();
    let _ = write!(
        out,
        "Every event {cmd} can send ({} events), from the catalog compiled into this build.\n\
         Nothing else is ever sent: no paths, file names or messages, and nothing you typed\n\
         unless it is one of the values or names listed for its property below.\n\n",
        events.len()
    );
    out.push_str("Common properties, added to every event:\n");
    for p in COMMON_PROPERTIES {
        property_line(&mut out, p);
    }
    for event in events {
        let _ = write!(out, "\n{}\n  {}\n", event.name, event.description.trim());
        if event.properties.is_empty() {
            out.push_str("  (no properties of its own)\n");
        } else {
            out.push_str("  Properties:\n");
            for p in event.properties {
                property_line(&mut out, p);
            }
        }
    }
    let _ = write!(
        out,
        "\nAlso sent:\n\
         \x20 {GEOIP_DISABLE}: true on every event, so PostHog does not look up where your IP address is.\n\
         \x20 {PROCESS_PERSON_PROFILE}: false on every event sent under the anonymous ID, so PostHog builds no profile for it.\n\
         \x20 {ALIAS_EVENT}: once, if you log in to an account, linking the anonymous ID to your account (properties distinct_id and alias).\n"
    );
    out
}

/// Appends the JSON of `properties`, members in the order `serde_json` sorts them.
///
/// Written out rather than built with `serde_json::json!`: every `json!` member instantiates
/// serde code of its own, and this output is fixed.
fn properties_json(out: &mut String, properties: &[PropertyMeta]) {
    for (i, p) in properties.iter().enumerate() {
        for (name, value) in [
            (
                if i == 0 {
                    "{\"description\":"
                } else {
                    ",{\"description\":"
                },
                p.description,
            ),
            (",\"kind\":", p.kind.keyword()),
            (",\"name\":", p.name),
            (
                if p.optional {
                    ",\"optional\":true,\"sensitivity\":"
                } else {
                    ",\"optional\":false,\"sensitivity\":"
                },
                p.sensitivity.keyword(),
            ),
        ] {
            out.push_str(name);
            write_json_str(out, value);
        }
        out.push_str(",\"values\":");
        match p.kind.values() {
            Some(values) => {
                for (j, value) in values.iter().enumerate() {
                    out.push(if j == 0 { '[' } else { ',' });
                    write_json_str(out, value);
                }
                out.push_str(if values.is_empty() { "[]}" } else { "]}" });
            }
            None => out.push_str("null}"),
        }
    }
}

fn to_json(events: &[&'static EventMeta]) -> String {
    let mut out = String::from("{\"common_properties\":[");
    properties_json(&mut out, COMMON_PROPERTIES);
    out.push_str("],\"events\":[");
    for (i, event) in events.iter().enumerate() {
        out.push_str(if i == 0 {
            "{\"description\":"
        } else {
            ",{\"description\":"
        });
        write_json_str(&mut out, event.description.trim());
        out.push_str(",\"name\":");
        write_json_str(&mut out, event.name);
        out.push_str(",\"properties\":[");
        properties_json(&mut out, event.properties);
        out.push_str("]}");
    }
    out.push_str("]}");
    let mut text = super::json::pretty(&out);
    text.push('\n');
    text
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    /// What `serde_json` makes of the same catalog (the implementation before it was written
    /// out).
    fn by_serde_json(events: &[&'static EventMeta]) -> String {
        let property = |p: &PropertyMeta| {
            json!({
                "name": p.name,
                "kind": p.kind.keyword(),
                "values": p.kind.values(),
                "sensitivity": p.sensitivity.keyword(),
                "description": p.description,
                "optional": p.optional,
            })
        };
        let value = json!({
            "common_properties": COMMON_PROPERTIES.iter().map(property).collect::<Vec<_>>(),
            "events": events.iter().map(|e| json!({
                "name": e.name,
                "description": e.description.trim(),
                "properties": e.properties.iter().map(property).collect::<Vec<_>>(),
            })).collect::<Vec<_>>(),
        });
        let mut text = serde_json::to_string_pretty(&value).unwrap();
        text.push('\n');
        text
    }

    #[test]
    fn the_json_is_what_serde_json_writes() {
        let events = crate::schema::DEMO.events_by_name();
        assert_eq!(to_json(&events), by_serde_json(&events));
        assert_eq!(to_json(&[]), by_serde_json(&[]));
    }
}

//! `telemetry catalog`: every event and property this build can send, from the program's
//! telemetry schema compiled into it (what VS Code's `--telemetry` prints): the same events
//! as its generated page.

use serde_json::json;

use super::{Io, command_name};
use crate::event::common::{COMMON_PROPERTIES, GEOIP_DISABLE, PROCESS_PERSON_PROFILE};
use crate::event::meta::{EventMeta, PropertyKind, PropertyMeta};
use crate::record::ALIAS_EVENT;

pub(super) fn run(telemetry: &super::Telemetry, as_json: bool, io: &mut Io<'_>) -> i32 {
    let events = telemetry
        .config()
        .map(|c| c.schema().events_by_name())
        .unwrap_or_default();
    if as_json {
        io.out(&to_json(&events));
    } else {
        io.out(&to_text(&command_name(telemetry), &events));
    }
    0
}

fn values(kind: &PropertyKind) -> String {
    match kind {
        PropertyKind::Enum(values) => format!(" One of: {}.", values.join(", ")),
        PropertyKind::Bucketed(values) => format!(
            " Sent as itself when one of: {}; any other as `{}`.",
            values.join(", "),
            crate::USER_DEFINED
        ),
        _ => String::new(),
    }
}

fn property_line(p: &PropertyMeta) -> String {
    format!(
        "    {}{}  [{}, {}]\n      {}{}\n",
        p.name,
        if p.optional { " (optional)" } else { "" },
        p.kind.keyword(),
        p.sensitivity.keyword(),
        p.description,
        values(&p.kind)
    )
}

fn to_text(cmd: &str, events: &[&'static EventMeta]) -> String {
    let mut out = format!(
        "Every event {cmd} can send ({} events), from the catalog compiled into this build.\n\
         Nothing else is ever sent: no paths, file names, messages, or values you typed.\n\n",
        events.len()
    );
    out.push_str("Common properties, added to every event:\n");
    for p in COMMON_PROPERTIES {
        out.push_str(&property_line(p));
    }
    for event in events {
        out.push_str(&format!(
            "\n{}\n  {}\n",
            event.name,
            event.description.trim()
        ));
        if event.properties.is_empty() {
            out.push_str("  (no properties of its own)\n");
        } else {
            out.push_str("  Properties:\n");
            for p in event.properties {
                out.push_str(&property_line(p));
            }
        }
    }
    out.push_str(&format!(
        "\nAlso sent:\n\
         \x20 {GEOIP_DISABLE}: true on every event, so PostHog does not look up where your IP address is.\n\
         \x20 {PROCESS_PERSON_PROFILE}: false on every event sent under the anonymous ID, so PostHog builds no profile for it.\n\
         \x20 {ALIAS_EVENT}: once, after you log in, linking the anonymous ID to your account (properties distinct_id and alias).\n"
    ));
    out
}

fn property_json(p: &PropertyMeta) -> serde_json::Value {
    json!({
        "name": p.name,
        "kind": p.kind.keyword(),
        "values": p.kind.values(),
        "sensitivity": p.sensitivity.keyword(),
        "description": p.description,
        "optional": p.optional,
    })
}

fn to_json(events: &[&'static EventMeta]) -> String {
    let value = json!({
        "common_properties": COMMON_PROPERTIES.iter().map(property_json).collect::<Vec<_>>(),
        "events": events.iter().map(|e| json!({
            "name": e.name,
            "description": e.description.trim(),
            "properties": e.properties.iter().map(property_json).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
    });
    let mut text = serde_json::to_string_pretty(&value).unwrap_or_default();
    text.push('\n');
    text
}

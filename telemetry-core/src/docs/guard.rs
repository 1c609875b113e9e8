//! What `gen-docs` refuses: two events with one name, and a property whose kind changed since
//! the committed docs were generated.
//!
//! A property's kind is part of what it means in PostHog: charts and filters built on a number
//! break, silently, when it becomes a name. The committed page records each property's kind in
//! a comment at its end, and a change needs a new property name or an explicit acknowledgement.

use std::collections::BTreeMap;

use telemetry_allowlist::Allowlist;

use crate::event::common::COMMON_PROPERTIES;
use crate::event::meta::EventMeta;

const BLOCK_START: &str = "<!-- gen-docs property kinds: a property whose kind changes needs a new name or `gen-docs --allow-kind-change NAME`";
const BLOCK_END: &str = "-->";

/// The comment block that records each property's kind.
pub(crate) fn kinds_block(allowlist: &Allowlist) -> String {
    let mut out = String::from(BLOCK_START);
    out.push('\n');
    for (name, kind) in recorded_now(allowlist) {
        out.push_str(&format!("{name} {kind}\n"));
    }
    out.push_str(BLOCK_END);
    out.push('\n');
    out
}

/// Every property the page documents, common ones first, with its kind's keyword.
fn recorded_now(allowlist: &Allowlist) -> impl Iterator<Item = (&str, &'static str)> {
    COMMON_PROPERTIES
        .iter()
        .map(|p| (p.name, p.kind.keyword()))
        .chain(
            allowlist
                .properties
                .iter()
                .map(|p| (p.name.as_str(), p.kind.keyword())),
        )
}

/// The kinds recorded in a page generated earlier (empty for a page without the block).
pub(crate) fn recorded_kinds(page: &str) -> BTreeMap<String, String> {
    let Some(start) = page.find(BLOCK_START) else {
        return BTreeMap::new();
    };
    let body = &page[start + BLOCK_START.len()..];
    let body = body.split(BLOCK_END).next().unwrap_or("");
    body.lines()
        .filter_map(|line| {
            let mut words = line.split_whitespace();
            Some((words.next()?.to_owned(), words.next()?.to_owned()))
        })
        .collect()
}

/// A property documented with one kind and now declared with another.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KindChange {
    /// The property.
    pub name: String,
    /// Its kind in the committed docs.
    pub was: String,
    /// Its kind in the allowlist now.
    pub now: String,
}

/// Properties whose kind differs from the one recorded in the committed docs.
pub(crate) fn kind_changes(
    recorded: &BTreeMap<String, String>,
    allowlist: &Allowlist,
) -> Vec<KindChange> {
    recorded_now(allowlist)
        .filter_map(|(name, now)| {
            let was = recorded.get(name)?;
            (was != now).then(|| KindChange {
                name: name.to_owned(),
                was: was.clone(),
                now: now.to_owned(),
            })
        })
        .collect()
}

/// Event names declared by more than one type, with the types.
pub(crate) fn duplicate_events(events: &[&EventMeta]) -> Vec<(String, Vec<String>)> {
    let mut by_name: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    for event in events {
        by_name
            .entry(event.name)
            .or_default()
            .push(event.type_name.to_owned());
    }
    by_name
        .into_iter()
        .filter(|(_, types)| types.len() > 1)
        .map(|(name, types)| (name.to_owned(), types))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn allowlist(kind: &str) -> Allowlist {
        let text = format!(
            "[[property]]\nname = \"count\"\nkind = \"{kind}\"\nsensitivity = \"technical\"\ndescription = \"How many.\"\n"
        );
        telemetry_allowlist::parse(Path::new("allowlist.toml"), &text).expect("valid")
    }

    #[test]
    fn a_changed_kind_is_found_in_the_recorded_block() {
        let page = format!("# Docs\n\n{}", kinds_block(&allowlist("unsigned")));
        let recorded = recorded_kinds(&page);
        assert_eq!(recorded.get("count").map(String::as_str), Some("unsigned"));
        assert!(kind_changes(&recorded, &allowlist("unsigned")).is_empty());
        assert_eq!(
            kind_changes(&recorded, &allowlist("signed")),
            vec![KindChange {
                name: "count".into(),
                was: "unsigned".into(),
                now: "signed".into()
            }]
        );
    }

    #[test]
    fn a_page_without_the_block_records_nothing() {
        assert!(recorded_kinds("# Docs\n").is_empty());
    }

    #[test]
    fn duplicate_names_are_found() {
        const A: EventMeta = EventMeta {
            name: "a.b",
            description: "",
            properties: &[],
            type_name: "A",
        };
        const B: EventMeta = EventMeta {
            name: "a.b",
            description: "",
            properties: &[],
            type_name: "B",
        };
        const C: EventMeta = EventMeta {
            name: "a.c",
            description: "",
            properties: &[],
            type_name: "C",
        };
        assert_eq!(
            duplicate_events(&[&A, &B, &C]),
            vec![("a.b".to_owned(), vec!["A".to_owned(), "B".to_owned()])]
        );
    }
}

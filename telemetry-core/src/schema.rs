//! A program's telemetry schema: who the program is and every event it can send, declared
//! once with [`telemetry_schema!`](crate::telemetry_schema) beside its events.
//!
//! The runtime takes it ([`TelemetryConfig::builder`](crate::TelemetryConfig::builder)) for the
//! program's name, its messages and `telemetry catalog`; `gen-docs` takes it for the page. Both
//! therefore list exactly the same events, and only those of this program: events of another
//! crate linked into the same binary are not in its schema.

use crate::event::meta::EventMeta;

/// What the program does when the user has not said anything: the `consent` of the
/// `[product]` table in its allowlist, so that the privacy review sees it and the generated
/// page describes the policy the program follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ConsentPolicy {
    /// `consent = "opt-in"`, the default: nothing is recorded until the user turns telemetry
    /// on.
    #[default]
    OptIn,
    /// `consent = "opt-out"`: events are recorded unless the user turns telemetry off. The
    /// first-run notice is then mandatory: nothing is recorded until it has been shown on a
    /// terminal, on an earlier run (its marker was written before this run started).
    OptOut,
}

/// Who the program is, from the `[product]` table of its allowlist: its name (which names its
/// environment variables and state directory) and the words of its telemetry page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Product {
    pub(crate) name: &'static str,
    pub(crate) command: &'static str,
    pub(crate) docs_url: Option<&'static str>,
    pub(crate) docs_path: &'static str,
    pub(crate) contact: &'static str,
    pub(crate) data_location: &'static str,
    pub(crate) retention: &'static str,
    pub(crate) purpose: Option<&'static str>,
    pub(crate) policy: ConsentPolicy,
}

impl Product {
    /// The program's short name (`demo`): its environment variables are `DEMO_TELEMETRY`, ...,
    /// its state directory `~/.demo`.
    pub const fn name(&self) -> &'static str {
        self.name
    }

    /// How users run the program, for messages (`demo telemetry on`).
    pub const fn command(&self) -> &'static str {
        self.command
    }

    /// The published telemetry policy page, if the product has one.
    pub const fn docs_url(&self) -> Option<&'static str> {
        self.docs_url
    }

    /// Where `gen-docs` writes the page, relative to the workspace root (`docs/telemetry.md`).
    pub const fn docs_path(&self) -> &'static str {
        self.docs_path
    }

    /// Where deletion requests go.
    pub const fn contact(&self) -> &'static str {
        self.contact
    }

    /// Where the data lives.
    pub const fn data_location(&self) -> &'static str {
        self.data_location
    }

    /// How long events are kept.
    pub const fn retention(&self) -> &'static str {
        self.retention
    }

    /// What the data helps the authors learn (`which commands are used and which fail`).
    pub const fn purpose(&self) -> Option<&'static str> {
        self.purpose
    }

    /// Whether telemetry is opt-in or opt-out (the allowlist's `consent`).
    pub const fn policy(&self) -> ConsentPolicy {
        self.policy
    }

    /// The prefix of the program's environment variables: `demo` → `DEMO_`, `my-tool` →
    /// `MY_TOOL_`.
    pub fn env_prefix(&self) -> String {
        env_prefix(self.name)
    }

    /// The file a team commits to turn telemetry off for a repository: `.demo-telemetry.toml`.
    pub fn project_file(&self) -> String {
        format!(".{}-telemetry.toml", self.name)
    }
}

/// The prefix of the environment variables of a program called `name` (the one rule, for the
/// page and the runtime): upper case, `-` as `_`, then `_`.
pub(crate) fn env_prefix(name: &str) -> String {
    let mut prefix: String = name
        .chars()
        .map(|c| {
            if c == '-' {
                '_'
            } else {
                c.to_ascii_uppercase()
            }
        })
        .collect();
    prefix.push('_');
    prefix
}

/// A program's telemetry schema: its [`Product`], its events, and the allowlist they were
/// checked against. Made by [`telemetry_schema!`](crate::telemetry_schema).
#[derive(Debug, Clone, Copy)]
pub struct Schema {
    pub(crate) product: Product,
    pub(crate) events: &'static [&'static EventMeta],
    pub(crate) allowlist: AllowlistSource,
}

/// The allowlist a schema's events were checked against, as compiled into the program.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AllowlistSource {
    /// Its text.
    pub text: &'static str,
    /// Its path relative to the manifest of the crate that declares the schema (for messages).
    pub path: &'static str,
    /// That crate's name.
    pub crate_name: &'static str,
}

impl Schema {
    /// Who the program is.
    pub const fn product(&self) -> &Product {
        &self.product
    }

    /// Every event the program can send, in the order the schema lists them.
    pub const fn events(&self) -> &'static [&'static EventMeta] {
        self.events
    }

    /// The allowlist the events were checked against.
    pub const fn allowlist(&self) -> &AllowlistSource {
        &self.allowlist
    }

    /// Whether `event` is one of the schema's events: the same description (name, properties
    /// with their kinds, type name, ...), not only the same name.
    /// [`Telemetry::track`](crate::Telemetry::track) records nothing else.
    pub fn lists(&self, event: &EventMeta) -> bool {
        self.events
            .iter()
            .any(|listed| std::ptr::eq(*listed, event) || *listed == event)
    }

    /// The events sorted by name, as the catalog and the page list them.
    pub fn events_by_name(&self) -> Vec<&'static EventMeta> {
        // An insertion sort: a schema lists tens of events, and `sort_by_key` would add a
        // stable sort of its own (~5 KB of code) to every host for this one list. Each event
        // goes after those of its name already placed, so equal names keep the schema's order.
        let mut events: Vec<&'static EventMeta> = Vec::with_capacity(self.events.len());
        for &event in self.events {
            let at = events.partition_point(|e| e.name <= event.name);
            events.insert(at, event);
        }
        events
    }
}

/// The schema of [`TelemetryConfig::disabled`](crate::TelemetryConfig::disabled): no product
/// to speak of, no events.
#[cfg(feature = "runtime")]
pub(crate) static DISABLED: Schema = Schema {
    product: Product {
        name: "disabled",
        command: "disabled",
        docs_url: None,
        docs_path: "docs/telemetry.md",
        contact: "",
        data_location: "",
        retention: "",
        purpose: None,
        policy: ConsentPolicy::OptIn,
    },
    events: &[],
    allowlist: AllowlistSource {
        text: "",
        path: "",
        crate_name: "",
    },
};

/// The schema the crate's own tests run under: a product called `demo`.
#[cfg(all(test, feature = "runtime"))]
pub(crate) static DEMO: Schema = Schema {
    product: Product {
        name: "demo",
        command: "demo",
        docs_url: Some("https://example.com/policy"),
        ..DISABLED.product
    },
    events: &[
        <crate::test_events::Ping as crate::Event>::META,
        <crate::test_events::Done as crate::Event>::META,
    ],
    allowlist: DISABLED.allowlist,
};

/// [`DEMO`] under the opt-out policy.
#[cfg(all(test, feature = "runtime"))]
pub(crate) static DEMO_OPT_OUT: Schema = Schema {
    product: Product {
        policy: ConsentPolicy::OptOut,
        ..DEMO.product
    },
    ..DEMO
};

/// [`DEMO`] under `policy`.
#[cfg(all(test, feature = "runtime"))]
pub(crate) fn demo_under(policy: ConsentPolicy) -> &'static Schema {
    match policy {
        ConsentPolicy::OptIn => &DEMO,
        ConsentPolicy::OptOut => &DEMO_OPT_OUT,
    }
}

#[cfg(all(test, feature = "runtime"))]
mod tests {
    use super::*;

    #[test]
    fn events_by_name_sorts_by_name_keeping_the_schema_order_of_equal_names() {
        const fn event(name: &'static str, type_name: &'static str) -> EventMeta {
            EventMeta {
                name,
                description: "",
                properties: &[],
                type_name,
            }
        }
        static EVENTS: [EventMeta; 5] = [
            event("b.x", "B1"),
            event("a.x", "A"),
            event("b.x", "B2"),
            event("c.x", "C"),
            event("b.x", "B3"),
        ];
        static SCHEMA: Schema = Schema {
            events: &[&EVENTS[0], &EVENTS[1], &EVENTS[2], &EVENTS[3], &EVENTS[4]],
            ..DISABLED
        };
        let order: Vec<&str> = SCHEMA
            .events_by_name()
            .iter()
            .map(|e| e.type_name)
            .collect();
        assert_eq!(order, ["A", "B1", "B2", "B3", "C"]);
        assert!(DISABLED.events_by_name().is_empty());
    }
}

//! The checked allowlist: what the macro and the docs generator work from.

use std::path::PathBuf;

/// A parsed and checked allowlist file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Allowlist {
    /// Where it was read from.
    pub path: PathBuf,
    /// Who makes the program and how its data is handled, from the `[product]` table (optional in
    /// the file: the macro needs only the properties, so small allowlists may leave it out).
    pub product: Option<Product>,
    /// Properties events may declare, in file order.
    pub properties: Vec<Property>,
    /// What is never sent, and why.
    pub never_sent: Vec<NeverSent>,
}

impl Allowlist {
    /// The event property called `name`, if the allowlist has it.
    pub fn property(&self, name: &str) -> Option<&Property> {
        self.properties.iter().find(|p| p.name == name)
    }
}

/// The `[product]` table: the program's identity, for its generated docs page and its runtime.
///
/// It lives in the allowlist so that what users are told about their data is privacy-reviewed
/// together with the data itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Product {
    /// The program's short name: 1 to 32 characters of `a-z`, `0-9`, `-` and `_`, starting with
    /// a letter. It names the environment variables, the state directory and the project opt-out
    /// file: for `demo`, `DEMO_TELEMETRY`..., `~/.demo` and `.demo-telemetry.toml`.
    pub name: String,
    /// How users run the program, for messages such as `demo telemetry on`: the same characters
    /// as `name` plus `.`, up to 64 of them. Defaults to `name`.
    pub command: String,
    /// Where the telemetry policy is published (an `http://` or `https://` address), if it is.
    pub docs_url: Option<String>,
    /// Where `gen-docs` writes the policy page: a relative `/`-separated path from the workspace
    /// root, ending in `.md`. Defaults to `docs/telemetry.md`.
    pub docs_path: String,
    /// Where users send deletion requests (an email address or a web page).
    pub contact: String,
    /// Where the data is stored, e.g. `https://eu.i.posthog.com (PostHog Cloud, EU region)`.
    pub data_location: String,
    /// How long events are kept, e.g. `1 year`.
    pub retention: String,
    /// One sentence on what the data helps the authors learn, e.g. `which commands are used and
    /// which fail`.
    pub purpose: Option<String>,
    /// What the program does when the user has not said anything: `consent = "opt-in"` (the
    /// default) or `"opt-out"`. Here rather than in the program's code so that the privacy
    /// review sees it, and the generated page describes the policy the program follows.
    pub consent: ConsentPolicy,
    /// What the program's PostHog project does with the IP address each request comes from:
    /// `client_ip = "discarded"` or `"kept"`. `None` when the table does not say, and the page
    /// then tells users that it may be stored.
    pub client_ip: Option<ClientIp>,
    /// The line of the file where the `[product]` table starts.
    pub line: usize,
}

/// The `[product]` table's `consent`: whether telemetry is off or on until the user says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ConsentPolicy {
    /// `"opt-in"`: nothing is recorded until the user turns telemetry on.
    #[default]
    OptIn,
    /// `"opt-out"`: recording starts on the run after the first-run notice was shown on a
    /// terminal, unless the user turned telemetry off.
    OptOut,
}

impl ConsentPolicy {
    /// Its value in the file: `opt-in` or `opt-out`.
    pub fn keyword(self) -> &'static str {
        match self {
            ConsentPolicy::OptIn => "opt-in",
            ConsentPolicy::OptOut => "opt-out",
        }
    }
}

/// The `[product]` table's `client_ip`: what the program's PostHog project does with the IP
/// address its requests come from. PostHog sees it, as any server sees who connects; whether
/// it is stored with the events is a project setting ("Discard client IP data"), which the
/// privacy review states here so that the page can tell users.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientIp {
    /// `"discarded"`: the project discards client IP data; no address is stored with events.
    Discarded,
    /// `"kept"`: the address is stored with the events.
    Kept,
}

impl ClientIp {
    /// Its value in the file: `discarded` or `kept`.
    pub fn keyword(self) -> &'static str {
        match self {
            ClientIp::Discarded => "discarded",
            ClientIp::Kept => "kept",
        }
    }
}

/// One allowlisted property.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Property {
    /// Its name on the wire (snake_case).
    pub name: String,
    /// The shape of its values.
    pub kind: Kind,
    /// Glean's data-sensitivity category.
    pub sensitivity: Sensitivity,
    /// What it means, for the docs.
    pub description: String,
    /// The line of the file where it is declared.
    pub line: usize,
}

/// The shape of a property's values: each kind admits only types that cannot carry free text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kind {
    /// `true` or `false`.
    Bool,
    /// A non-negative integer.
    Unsigned,
    /// An integer.
    Signed,
    /// A duration, sent as whole milliseconds.
    DurationMs,
    /// One of a closed list of values.
    Enum(Vec<String>),
    /// A name sent as itself when it is one of the known values, as `user-defined` otherwise.
    Bucketed(Vec<String>),
    /// The type name of an error, never its message.
    ErrorClass,
    /// A Rust module path inside the host program (never a file path).
    CodeLocation,
}

impl Kind {
    /// The word the allowlist file uses for this kind.
    pub fn keyword(&self) -> &'static str {
        match self {
            Kind::Bool => "bool",
            Kind::Unsigned => "unsigned",
            Kind::Signed => "signed",
            Kind::DurationMs => "duration_ms",
            Kind::Enum(_) => "enum",
            Kind::Bucketed(_) => "bucketed",
            Kind::ErrorClass => "error_class",
            Kind::CodeLocation => "code_location",
        }
    }

    /// The closed list of values of an enum or bucketed kind.
    pub fn values(&self) -> Option<&[String]> {
        match self {
            Kind::Enum(values) | Kind::Bucketed(values) => Some(values),
            _ => None,
        }
    }

    /// A one-line description of the kind, with its values where it has them (in backticks).
    pub fn describe(&self) -> String {
        let listed = |values: &[String]| {
            values
                .iter()
                .map(|v| format!("`{v}`"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        match self {
            Kind::Bool => "boolean".into(),
            Kind::Unsigned => "unsigned integer".into(),
            Kind::Signed => "signed integer".into(),
            Kind::DurationMs => "duration in milliseconds".into(),
            Kind::Enum(values) => format!("one of {}", listed(values)),
            Kind::Bucketed(values) => format!(
                "bucketed name: {}; any other name is sent as `{BUCKET_FALLBACK}`",
                listed(values)
            ),
            Kind::ErrorClass => "error type name (never the message)".into(),
            Kind::CodeLocation => "module path inside the program (never a file path)".into(),
        }
    }
}

/// The value every unknown name of a bucketed property is sent as.
pub(crate) const BUCKET_FALLBACK: &str = "user-defined";

/// The keywords accepted for `kind`, in the order the docs list them.
pub(crate) const KIND_KEYWORDS: &[&str] = &[
    "bool",
    "unsigned",
    "signed",
    "duration_ms",
    "enum",
    "bucketed",
    "error_class",
    "code_location",
];

/// Glean's data-sensitivity categories. Only the first two may be sent by this library.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Sensitivity {
    /// Information about the program and the machine it runs on.
    Technical,
    /// How the user interacts with the program.
    Interaction,
}

impl Sensitivity {
    /// The word the allowlist file uses.
    pub fn keyword(self) -> &'static str {
        match self {
            Sensitivity::Technical => "technical",
            Sensitivity::Interaction => "interaction",
        }
    }
}

/// One row of the "never sent" table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NeverSent {
    /// What kind of data (e.g. "File paths").
    pub category: String,
    /// Examples of it.
    pub examples: String,
    /// Why it is excluded.
    pub reason: String,
}

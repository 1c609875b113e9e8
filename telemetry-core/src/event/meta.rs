//! Static descriptions of events and properties, generated from the allowlist at compile time.

/// The static description of one event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EventMeta {
    /// Dotted snake_case name, e.g. `cli.command_completed`.
    pub name: &'static str,
    /// When the event is sent (the struct's doc comment).
    pub description: &'static str,
    /// Its properties, in declaration order.
    pub properties: &'static [PropertyMeta],
    /// The Rust type that declares it, for error messages and the docs.
    pub type_name: &'static str,
}

/// The static description of one property of an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PropertyMeta {
    /// The property's name on the wire.
    pub name: &'static str,
    /// The shape of its values.
    pub kind: PropertyKind,
    /// Its data-sensitivity category.
    pub sensitivity: Sensitivity,
    /// What it means, from the allowlist.
    pub description: &'static str,
    /// Whether the event may leave it out (an `Option` field).
    pub optional: bool,
}

/// The shape of a property's values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum PropertyKind {
    /// `true` or `false`.
    Bool,
    /// A non-negative integer.
    Unsigned,
    /// An integer.
    Signed,
    /// A duration in whole milliseconds.
    DurationMs,
    /// One of a closed list of values.
    Enum(&'static [&'static str]),
    /// A known name sent as itself, any other as `user-defined`.
    Bucketed(&'static [&'static str]),
    /// An error's type name.
    ErrorClass,
    /// A module path inside the program.
    CodeLocation,
    /// A value fixed when the program is built.
    BuildConstant,
}

impl PropertyKind {
    /// The allowlist's word for this kind.
    pub fn keyword(&self) -> &'static str {
        match self {
            PropertyKind::Bool => "bool",
            PropertyKind::Unsigned => "unsigned",
            PropertyKind::Signed => "signed",
            PropertyKind::DurationMs => "duration_ms",
            PropertyKind::Enum(_) => "enum",
            PropertyKind::Bucketed(_) => "bucketed",
            PropertyKind::ErrorClass => "error_class",
            PropertyKind::CodeLocation => "code_location",
            PropertyKind::BuildConstant => "build_constant",
        }
    }

    /// The closed list of values of an enum or bucketed property.
    pub fn values(&self) -> Option<&'static [&'static str]> {
        match self {
            PropertyKind::Enum(values) | PropertyKind::Bucketed(values) => Some(values),
            _ => None,
        }
    }
}

/// Glean's data-sensitivity categories that may be sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Sensitivity {
    /// About the program and the machine.
    Technical,
    /// About how the program is used.
    Interaction,
}

impl Sensitivity {
    /// The allowlist's word for it.
    pub fn keyword(self) -> &'static str {
        match self {
            Sensitivity::Technical => "technical",
            Sensitivity::Interaction => "interaction",
        }
    }
}

//! The properties the runtime adds to every event, and the few PostHog names a record uses.
//!
//! Declared here once: the runtime writes them, `gen-docs` documents them, and the allowlist
//! does not repeat them (`telemetry_allowlist::COMMON_PROPERTY_NAMES` names them so that no
//! product can declare a property of the same name; a test keeps the two lists equal).

use super::meta::{PropertyKind, PropertyMeta, Sensitivity};

/// The operating systems sent as themselves in `os`; any other is sent as `user-defined`.
pub const OS_VALUES: &[&str] = &[
    "linux", "macos", "windows", "freebsd", "openbsd", "netbsd", "android", "ios",
];

/// The architectures sent as themselves in `arch`; any other is sent as `user-defined`.
pub const ARCH_VALUES: &[&str] = &[
    "x86_64",
    "aarch64",
    "x86",
    "arm",
    "riscv64",
    "powerpc64",
    "s390x",
    "loongarch64",
];

/// The properties the runtime adds to every event, in the order they are written.
pub const COMMON_PROPERTIES: &[PropertyMeta] = &[
    PropertyMeta {
        name: "app_version",
        kind: PropertyKind::BuildConstant,
        sensitivity: Sensitivity::Technical,
        description: "Version of the program that sent the event.",
        optional: false,
    },
    PropertyMeta {
        name: "app_git_commit",
        kind: PropertyKind::BuildConstant,
        sensitivity: Sensitivity::Technical,
        description: "Commit the program was built from (the program's own source, never the user's repository).",
        optional: false,
    },
    PropertyMeta {
        name: "build_kind",
        kind: PropertyKind::Enum(&["release", "debug"]),
        sensitivity: Sensitivity::Technical,
        description: "Whether the program is an optimised release build or a development build.",
        optional: false,
    },
    PropertyMeta {
        name: "os",
        kind: PropertyKind::Bucketed(OS_VALUES),
        sensitivity: Sensitivity::Technical,
        description: "Operating system family the program runs on.",
        optional: false,
    },
    PropertyMeta {
        name: "arch",
        kind: PropertyKind::Bucketed(ARCH_VALUES),
        sensitivity: Sensitivity::Technical,
        description: "Processor architecture the program was built for.",
        optional: false,
    },
    PropertyMeta {
        name: "is_ci",
        kind: PropertyKind::Bool,
        sensitivity: Sensitivity::Technical,
        description: "Whether the program runs in a continuous-integration environment.",
        optional: false,
    },
];

/// PostHog's flag that keeps an event from creating a person profile; set to `false` on every
/// event sent under the anonymous id, never on an alias.
pub const PROCESS_PERSON_PROFILE: &str = "$process_person_profile";

/// PostHog's flag that turns off GeoIP enrichment of the event (the server would otherwise look
/// up the location of the sender's IP address); `true` on every record, aliases included.
pub const GEOIP_DISABLE: &str = "$geoip_disable";
/// PostHog's alias event, which merges the anonymous id into a principal (the sender's and
/// the page's name for it).
pub const ALIAS_EVENT: &str = "$create_alias";

#[cfg(test)]
mod tests {
    use super::*;

    /// The allowlist refuses properties named like these, so no product can declare one.
    #[test]
    fn the_allowlist_knows_the_common_names() {
        let names: Vec<&str> = COMMON_PROPERTIES.iter().map(|p| p.name).collect();
        assert_eq!(names, telemetry_allowlist::COMMON_PROPERTY_NAMES);
    }
}

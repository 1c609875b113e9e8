//! A workspace shares one allowlist through `TELEMETRY_ALLOWLIST` in its `.cargo/config.toml`,
//! as the README says, and depends on another project's events crate that ships its own
//! `allowlist.toml`. Cargo's `[env]` reaches that dependency too: it must still be checked
//! against its own file, while the workspace's crates, which have none, are checked against
//! the shared one.

use std::path::Path;

use telemetry_adoption_tests::{core_dir, write};

/// An allowlist for `product` with one property.
fn allowlist(product: &str, property: &str, description: &str) -> String {
    format!(
        r#"[product]
name = "{product}"
contact = "privacy@{product}.example.org"
data_location = "https://eu.i.posthog.com (PostHog Cloud, EU region)"
retention = "90 days"

[[property]]
name = "{property}"
kind = "unsigned"
sensitivity = "technical"
description = "{description}"
"#
    )
}

/// A light events crate's manifest (no runtime), with `extra` dependencies.
fn manifest(name: &str, extra: &str) -> String {
    format!(
        "[package]\nname = \"{name}\"\nversion = \"0.1.0\"\nedition = \"2024\"\n\n[dependencies]\ntelemetry-core = {{ path = {:?}, default-features = false }}\n{extra}",
        core_dir().to_string_lossy()
    )
}

/// A crate that declares one event with one `u64` field, `field`, and its schema.
fn events(event: &str, field: &str) -> String {
    format!(
        r#"//! Events.
use telemetry_core::{{telemetry_event, telemetry_schema}};

/// Sent when something was done.
#[telemetry_event(name = "{event}")]
pub struct Done {{
    /// How many.
    pub {field}: u64,
}}

telemetry_schema! {{
    /// Every event this crate sends.
    pub static SCHEMA = [Done];
}}
"#
    )
}

#[test]
fn a_dependency_with_its_own_allowlist_is_checked_against_it_not_the_workspace_variable() {
    let dir = tempfile::tempdir().unwrap();
    let (ws, kit) = (dir.path().join("tool"), dir.path().join("kit-events"));

    // another project's published events crate: its allowlist beside its manifest
    write(&kit.join("Cargo.toml"), &manifest("kit-events", ""));
    write(
        &kit.join("allowlist.toml"),
        &allowlist("kit", "cache_hits", "How many cache lookups hit."),
    );
    write(
        &kit.join("src/lib.rs"),
        &events("kit.cache_checked", "cache_hits"),
    );

    // the workspace: one allowlist at its root, named by the variable for every crate
    write(
        &ws.join("Cargo.toml"),
        "[workspace]\nmembers = [\"tool-events\", \"tool-stray\"]\nresolver = \"3\"\n",
    );
    write(
        &ws.join(".cargo/config.toml"),
        "[env]\nTELEMETRY_ALLOWLIST = { value = \"allowlist.toml\", relative = true }\n",
    );
    write(
        &ws.join("allowlist.toml"),
        &allowlist("tool", "lines", "How many lines were counted."),
    );
    write(
        &ws.join("tool-events/Cargo.toml"),
        &manifest(
            "tool-events",
            "kit-events = { path = \"../../kit-events\" }\n",
        ),
    );
    write(
        &ws.join("tool-events/src/lib.rs"),
        &(events("tool.counted", "lines") + "\npub use kit_events;\n"),
    );
    // a member that sends the dependency's property: not on the workspace's allowlist
    write(
        &ws.join("tool-stray/Cargo.toml"),
        &manifest("tool-stray", ""),
    );
    write(
        &ws.join("tool-stray/src/lib.rs"),
        &events("tool.cache_checked", "cache_hits"),
    );
    telemetry_adoption_tests::copy_lockfile(&ws);

    let target = Path::new(env!("CARGO_TARGET_TMPDIR")).join("workspace-allowlist");
    let built = telemetry_adoption_tests::cargo(&ws, &target, &["build", "-p", "tool-events"]);
    assert!(
        built.status.success(),
        "the workspace's crate and the dependency each build against their own allowlist:\n{}",
        String::from_utf8_lossy(&built.stderr)
    );

    let stray = telemetry_adoption_tests::cargo(&ws, &target, &["build", "-p", "tool-stray"]);
    let stderr = String::from_utf8_lossy(&stray.stderr);
    assert!(!stray.status.success(), "{stderr}");
    assert!(
        stderr.contains("`cache_hits` is not an allowlisted telemetry property"),
        "{stderr}"
    );
    let shared = ws.join("allowlist.toml").canonicalize().unwrap();
    assert!(
        stderr.contains(&*shared.to_string_lossy()),
        "the error names the workspace's allowlist, which the variable chose:\n{stderr}"
    );
}

//! A company's shared crate re-exports the library, and a tool that depends on it alone (not
//! on `telemetry-core`) declares its events, an enum, a bucketed name, an event the shared
//! crate offers as a `macro_rules!`, and its schema, with `crate = "kit::telemetry_core"`, as
//! the README's "Several programs and shared crates" says. Any generated path left at
//! `::telemetry_core` fails this build.

use std::path::Path;

use telemetry_adoption_tests::{core_dir, write};

const KIT: &str = r#"//! Acme's shared crate: the library, and an event every tool records.
pub use telemetry_core;

/// Declares `UpdateChecked` in the tool that expands it: checked against the tool's allowlist
/// and listed in the tool's schema.
#[macro_export]
macro_rules! update_checked_event {
    () => {
        /// Sent when the tool checked for an update.
        #[$crate::telemetry_core::telemetry_event(
            name = "kit.update_checked",
            crate = "kit::telemetry_core"
        )]
        pub struct UpdateChecked {
            /// Whether a newer version exists.
            pub update_available: bool,
        }
    };
}
"#;

const TOOL: &str = r##"//! A tool that reaches the library only through the shared crate.
use kit::telemetry_core::{
    properties_json, telemetry_bucket, telemetry_enum, telemetry_event, telemetry_schema,
};

kit::update_checked_event!();

/// Where a deployment went.
#[telemetry_enum(property = "environment", crate = "kit::telemetry_core")]
pub enum Environment {
    /// The staging environment.
    Staging,
    /// Production.
    Production,
}

/// A deployment strategy.
#[telemetry_bucket(property = "strategy", crate = "kit::telemetry_core")]
pub struct Strategy;

/// Sent when a deployment finishes.
#[telemetry_event(name = "deploy.finished", crate = "kit::telemetry_core")]
pub struct DeployFinished {
    /// How many targets were deployed.
    pub target_count: u32,
    /// Where to.
    pub environment: Environment,
    /// How.
    pub strategy: Strategy,
}

telemetry_schema! {
    crate = "kit::telemetry_core";
    /// Every event the tool can send.
    pub static SCHEMA = [DeployFinished, UpdateChecked];
}

#[test]
fn the_tool_declares_and_lists_its_events_through_the_kit() {
    let names: Vec<&str> = SCHEMA.events().iter().map(|e| e.name).collect();
    assert_eq!(names, ["deploy.finished", "kit.update_checked"]);
    assert_eq!(SCHEMA.product().name(), "deploy");
    assert_eq!(
        properties_json(&UpdateChecked { update_available: true }),
        r#""update_available":true"#
    );
    let finished = DeployFinished {
        target_count: 2,
        environment: Environment::Production,
        strategy: Strategy::sanitize("canary"),
    };
    assert_eq!(
        properties_json(&finished),
        r#""target_count":2,"environment":"production","strategy":"canary""#
    );
}
"##;

const ALLOWLIST: &str = r#"[product]
name = "deploy"
contact = "privacy@acme.example"
data_location = "PostHog Cloud, EU region"
retention = "1 year"

[[property]]
name = "target_count"
kind = "unsigned"
sensitivity = "interaction"
description = "How many targets were deployed."

[[property]]
name = "environment"
kind = "enum"
values = ["staging", "production"]
sensitivity = "interaction"
description = "Where a deployment went."

[[property]]
name = "strategy"
kind = "bucketed"
values = ["canary", "blue_green"]
sensitivity = "interaction"
description = "How a deployment was rolled out."

[[property]]
name = "update_available"
kind = "bool"
sensitivity = "technical"
description = "Whether a newer version exists."
"#;

#[test]
fn a_tool_reaches_the_library_through_a_shared_crate() {
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    write(
        &dir.join("Cargo.toml"),
        "[workspace]\nmembers = [\"kit\", \"deploy\"]\nresolver = \"3\"\n",
    );
    write(
        &dir.join("kit/Cargo.toml"),
        &format!(
            "[package]\nname = \"kit\"\nversion = \"0.1.0\"\nedition = \"2024\"\n\n[dependencies]\ntelemetry-core = {{ path = {:?}, default-features = false }}\n",
            core_dir().to_string_lossy()
        ),
    );
    write(&dir.join("kit/src/lib.rs"), KIT);
    write(
        &dir.join("deploy/Cargo.toml"),
        "[package]\nname = \"deploy\"\nversion = \"0.1.0\"\nedition = \"2024\"\n\n[dependencies]\nkit = { path = \"../kit\" }\n",
    );
    write(&dir.join("deploy/allowlist.toml"), ALLOWLIST);
    write(&dir.join("deploy/src/lib.rs"), TOOL);
    telemetry_adoption_tests::copy_lockfile(dir);

    let target = Path::new(env!("CARGO_TARGET_TMPDIR")).join("shared-crate");
    let out = telemetry_adoption_tests::cargo(dir, &target, &["test", "--quiet", "-p", "deploy"]);
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(stdout.contains("test result: ok. 1 passed"), "{stdout}");
}

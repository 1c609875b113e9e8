//! A tool whose command line is parsed with lexopt, not clap: a fresh crate in a temporary
//! directory that depends on the runtime without the `clap` feature and mounts the `telemetry`
//! subcommand with the README's "Without clap" snippet, taken from the README itself. It
//! builds, compiles no clap, and its `telemetry` subcommand parses, prints its help and runs.

use std::path::Path;
use std::process::{Command, Output};

use telemetry_adoption_tests::{workspace, write};

/// The README's "Without clap" snippet: the first ```rust block after that heading.
fn readme_snippet() -> String {
    let readme = std::fs::read_to_string(workspace().join("README.md")).unwrap();
    let section = readme
        .split("**Without clap.**")
        .nth(1)
        .expect("the README has a \"Without clap\" paragraph");
    let block = section
        .split("```rust\n")
        .nth(1)
        .and_then(|rest| rest.split("```").next())
        .expect("a rust block follows it");
    block
        .lines()
        .map(|line| line.strip_prefix("   ").unwrap_or(line))
        .collect::<Vec<_>>()
        .join("\n")
}

const ALLOWLIST: &str = r#"
[product]
name = "mytool"
contact = "privacy@mytool.example.org"
data_location = "https://eu.i.posthog.com (PostHog Cloud, EU region)"
retention = "90 days"

[[property]]
name = "lines"
kind = "unsigned"
sensitivity = "interaction"
description = "How many lines were counted."
"#;

const LIB: &str = r#"
use telemetry_core::{telemetry_event, telemetry_schema};

/// Sent when a file's lines are counted.
#[telemetry_event(name = "count.done")]
pub struct Counted {
    pub lines: u64,
}

telemetry_schema! {
    /// Every event mytool sends.
    pub static SCHEMA = [Counted];
}
"#;

/// `main.rs`: start, then the README's snippet, then the tool's own (nothing here).
fn main_rs() -> String {
    format!(
        "fn main() -> Result<std::process::ExitCode, lexopt::Error> {{\n\
         let telemetry = telemetry_core::TelemetryConfig::builder(&mytool::SCHEMA)\n\
         .version(env!(\"CARGO_PKG_VERSION\"))\n\
         .start();\n\
         {}\n\
         Ok(std::process::ExitCode::SUCCESS)\n\
         }}\n",
        readme_snippet()
    )
}

/// `cargo ARGS` in the tool's directory, in the build directory `outside_crate.rs` uses (the
/// dependencies are the same, so they are built once).
fn cargo(dir: &Path, args: &[&str]) -> Output {
    let target = Path::new(env!("CARGO_TARGET_TMPDIR")).join("outside-crate");
    telemetry_adoption_tests::cargo(dir, &target, args)
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// `mytool ARGS` with its own HOME and nothing else in its environment.
fn mytool(home: &Path, args: &[&str]) -> Output {
    let bin = Path::new(env!("CARGO_TARGET_TMPDIR")).join("outside-crate/debug/mytool");
    Command::new(bin)
        .args(args)
        .env_clear()
        .env("HOME", home)
        .output()
        .expect("mytool runs")
}

#[test]
fn a_lexopt_tool_mounts_the_subcommand_without_clap() {
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    write(
        &dir.join("Cargo.toml"),
        &format!(
            "[package]\nname = \"mytool\"\nversion = \"0.1.0\"\nedition = \"2024\"\n\n\
             [dependencies]\nlexopt = \"0.3\"\n\
             telemetry-core = {{ path = {:?}, default-features = false, features = [\"runtime\", \"diagnostics\"] }}\n",
            telemetry_adoption_tests::core_dir().to_string_lossy()
        ),
    );
    write(&dir.join("allowlist.toml"), ALLOWLIST);
    write(&dir.join("src/lib.rs"), LIB);
    write(&dir.join("src/main.rs"), &main_rs());
    // (lexopt is one of this workspace's dev-dependencies, so in its lockfile)
    telemetry_adoption_tests::copy_lockfile(dir);

    let build = cargo(dir, &["build", "--quiet"]);
    assert!(
        build.status.success(),
        "the README's snippet builds:\n{}\n{}",
        main_rs(),
        text(&build.stderr)
    );
    let tree = cargo(
        dir,
        &["tree", "--quiet", "-e", "normal", "--prefix", "none"],
    );
    let tree = text(&tree.stdout);
    assert!(tree.contains("telemetry-core "), "{tree}");
    assert!(
        !tree.lines().any(|line| line.starts_with("clap")),
        "no clap without the feature:\n{tree}"
    );

    let home = tempfile::tempdir().unwrap();
    let help = mytool(home.path(), &["telemetry", "--help"]);
    assert_eq!(help.status.code(), Some(0), "{}", text(&help.stderr));
    let help = text(&help.stdout);
    assert!(help.contains("Usage: mytool telemetry [COMMAND]"), "{help}");
    assert!(help.contains("MYTOOL_TELEMETRY=0"), "{help}");
    let inspect_help = text(&mytool(home.path(), &["telemetry", "help", "inspect"]).stdout);
    assert!(
        inspect_help.contains("-n, --number <NUMBER>"),
        "{inspect_help}"
    );

    let status = mytool(home.path(), &["telemetry"]);
    assert_eq!(status.status.code(), Some(0), "{}", text(&status.stderr));
    assert!(
        text(&status.stdout).starts_with("Telemetry: DISABLED"),
        "{}",
        text(&status.stdout)
    );
    let bad = mytool(home.path(), &["telemetry", "inspect", "-n", "x"]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(
        text(&bad.stderr).contains("invalid value 'x'"),
        "{}",
        text(&bad.stderr)
    );
    let unknown = mytool(home.path(), &["frobnicate"]);
    assert_ne!(unknown.status.code(), Some(0));
}

//! `gen-docs` as a process: writes the page, checks it, and refuses what must not pass silently.

use std::process::{Command, Output};

use telemetry_core::docs::{self, GenDocsError, Options, Outcome};
use telemetry_core::{Event, EventMeta, telemetry_event};

fn gen_docs(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_gen-docs"))
        .args(args)
        .env_clear()
        .output()
        .expect("gen-docs runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn writes_then_checks_then_reports_a_stale_page_with_its_difference() {
    let dir = tempfile::tempdir().unwrap();
    let page = dir.path().join("docs").join("telemetry.md");
    let page_arg = page.to_str().unwrap();

    let check_missing = gen_docs(&["--check", "--output", page_arg]);
    assert_eq!(check_missing.status.code(), Some(1), "a missing page fails");
    let stderr = text(&check_missing.stderr);
    assert!(
        stderr.contains(&format!(
            "{page_arg} does not exist: run `cargo run --bin gen-docs` to write it"
        )),
        "{stderr}"
    );
    assert!(
        !stderr.contains("# Telemetry in"),
        "no page-long diff: {stderr}"
    );

    let write = gen_docs(&["--output", page_arg]);
    assert!(write.status.success(), "{}", text(&write.stderr));
    let written = std::fs::read_to_string(&page).unwrap();
    assert!(written.starts_with("# Telemetry in `demo`"));

    let check = gen_docs(&["--check", "--output", page_arg]);
    assert!(check.status.success(), "{}", text(&check.stderr));
    assert!(text(&check.stdout).contains("it is up to date"));

    std::fs::write(
        &page,
        written.replace(
            "| `exit_code` | signed integer |",
            "| `exit_code` | a number |",
        ),
    )
    .unwrap();
    let stale = gen_docs(&["--check", "--output", page_arg]);
    assert_eq!(stale.status.code(), Some(1));
    let stderr = text(&stale.stderr);
    assert!(
        stderr.contains("is out of date: run `cargo run --bin gen-docs`"),
        "{stderr}"
    );
    assert!(stderr.contains("-| `exit_code` | a number |"), "{stderr}");
    assert!(
        stderr.contains("+| `exit_code` | signed integer |"),
        "{stderr}"
    );
    assert!(
        std::fs::read_to_string(&page).unwrap().contains("a number"),
        "--check never writes"
    );
}

#[test]
fn refuses_a_property_whose_kind_changed_since_the_committed_page() {
    let dir = tempfile::tempdir().unwrap();
    let page = dir.path().join("telemetry.md");
    let page_arg = page.to_str().unwrap();
    assert!(gen_docs(&["--output", page_arg]).status.success());
    let written = std::fs::read_to_string(&page).unwrap();
    std::fs::write(
        &page,
        written.replace("\nexit_code signed\n", "\nexit_code unsigned\n"),
    )
    .unwrap();

    for args in [
        vec!["--check", "--output", page_arg],
        vec!["--output", page_arg],
    ] {
        let refused = gen_docs(&args);
        assert_eq!(refused.status.code(), Some(1));
        let stderr = text(&refused.stderr);
        assert!(
            stderr
                .contains("property `exit_code` was documented as `unsigned` and is now `signed`"),
            "{stderr}"
        );
        assert!(stderr.contains("--allow-kind-change"), "{stderr}");
    }

    let allowed = gen_docs(&["--output", page_arg, "--allow-kind-change", "exit_code"]);
    assert!(allowed.status.success(), "{}", text(&allowed.stderr));
    assert!(
        gen_docs(&["--check", "--output", page_arg])
            .status
            .success()
    );
}

#[test]
fn rejects_unknown_arguments_and_explains_itself() {
    let out = gen_docs(&["--frobnicate"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("unexpected argument '--frobnicate'"),
        "{}",
        text(&out.stderr)
    );
    let help = gen_docs(&["--help"]);
    assert_eq!(help.status.code(), Some(0));
    let usage = text(&help.stdout);
    for flag in ["--check", "--output", "--allow-kind-change"] {
        assert!(usage.contains(flag), "{usage}");
    }
}

/// Sent when a command finishes.
#[telemetry_event(name = "cli.done")]
pub struct Done {
    /// Its exit code.
    pub exit_code: i32,
}

/// Sent when a command finishes, declared a second time.
#[telemetry_event(name = "cli.done")]
pub struct Finished {}

/// `telemetry_schema!` refuses to list both (`tests/ui/cases/fail/schema_event_name_twice.rs`);
/// gen-docs checks again, for a schema put together some other way.
static TWICE_LISTED: [&EventMeta; 2] = [Done::META, Finished::META];

#[test]
fn refuses_two_events_with_one_name() {
    let dir = tempfile::tempdir().unwrap();
    let options = Options {
        output: dir.path().join("t.md"),
        ..Options::default()
    };
    let schema = &telemetry_schema::SCHEMA;
    let twice =
        telemetry_core::__private::schema(*schema.product(), &TWICE_LISTED, *schema.allowlist());
    let error = docs::run(&options, &twice).unwrap_err();
    assert!(matches!(error, GenDocsError::DuplicateEvents(_)));
    assert!(
        error
            .to_string()
            .contains("event `cli.done` is declared by more than one type: Done, Finished")
    );
    assert!(!options.output.exists());
}

#[test]
fn the_page_documents_every_event_and_property_of_the_schema_and_no_other() {
    let dir = tempfile::tempdir().unwrap();
    let options = Options {
        output: dir.path().join("t.md"),
        ..Options::default()
    };
    let schema = &telemetry_schema::SCHEMA;
    let outcome = docs::run(&options, schema).unwrap();
    assert_eq!(outcome, Outcome::Written);
    let page = std::fs::read_to_string(&options.output).unwrap();
    let event_rows = page
        .lines()
        .filter(|line| line.starts_with("| `") && line.contains('.') && line.contains("` | Sent"))
        .count();
    assert_eq!(event_rows, schema.events().len());
    for event in schema.events() {
        assert!(
            page.contains(&format!("| `{}` | {} |", event.name, event.description)),
            "{}",
            event.name
        );
    }
    // `cli.done`, declared in this test crate and linked into this binary, is not this
    // product's event.
    assert!(!page.contains("cli.done"));
    let allowlist = telemetry_allowlist_properties(schema.allowlist().text);
    for name in allowlist
        .iter()
        .map(String::as_str)
        .chain(telemetry_core::COMMON_PROPERTIES.iter().map(|p| p.name))
    {
        assert!(page.contains(&format!("| `{name}` |")), "{name}");
    }
    for heading in [
        "## Privacy posture",
        "## Turning it on and off",
        "DO_NOT_TRACK",
        "`DEMO_TELEMETRY=1`",
        "`.demo-telemetry.toml`",
        "## Events",
        "## Properties",
        "## Common properties",
        "## What is never sent",
        "## Identity, retention and deletion",
        "privacy@example.com",
        "1 year",
    ] {
        assert!(page.contains(heading), "{heading}");
    }
    let again = docs::run(&options, schema).unwrap();
    assert_eq!(again, Outcome::Unchanged, "output is deterministic");
}

/// The names of the `[[property]]` entries of an allowlist text (a plain reading, so this test
/// does not depend on the parser it checks the page against).
fn telemetry_allowlist_properties(text: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut in_property = false;
    for line in text.lines().map(str::trim) {
        if line.starts_with('[') {
            in_property = line == "[[property]]";
        } else if in_property && let Some(value) = line.strip_prefix("name = ") {
            names.push(value.trim_matches('"').to_owned());
        }
    }
    names
}

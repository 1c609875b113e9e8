//! `gen-docs` as a process: writes the page, checks it, and refuses what must not pass silently.

use std::path::Path;
use std::process::{Command, Output};

use telemetry_core::{EventMeta, PropertyKind, PropertyMeta, Sensitivity};
use telemetry_schema::docs::{self, GenDocsError, Options, Outcome};

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
    assert!(!check_missing.status.success(), "a missing page is stale");

    let write = gen_docs(&["--output", page_arg]);
    assert!(write.status.success(), "{}", text(&write.stderr));
    let written = std::fs::read_to_string(&page).unwrap();
    assert!(written.starts_with("# Telemetry in `demo`"));

    let check = gen_docs(&["--check", "--output", page_arg]);
    assert!(check.status.success(), "{}", text(&check.stderr));
    assert!(text(&check.stdout).contains("is up to date"));

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
fn rejects_unknown_arguments() {
    let out = gen_docs(&["--frobnicate"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("unknown argument `--frobnicate`"));
}

fn allowlist() -> telemetry_allowlist::Allowlist {
    telemetry_allowlist::parse(
        Path::new(telemetry_schema::ALLOWLIST_PATH),
        telemetry_schema::ALLOWLIST_TOML,
    )
    .unwrap()
}

fn common_names(allowlist: &telemetry_allowlist::Allowlist) -> Vec<&str> {
    allowlist.common.iter().map(|p| p.name.as_str()).collect()
}

#[test]
fn refuses_two_events_with_one_name() {
    const PROPS: &[PropertyMeta] = &[PropertyMeta {
        name: "exit_code",
        kind: PropertyKind::Signed,
        sensitivity: Sensitivity::Technical,
        description: "",
        optional: false,
    }];
    const FIRST: EventMeta = EventMeta {
        name: "cli.done",
        description: "First.",
        properties: PROPS,
        type_name: "Done",
    };
    const SECOND: EventMeta = EventMeta {
        name: "cli.done",
        description: "Second.",
        properties: &[],
        type_name: "Finished",
    };
    let dir = tempfile::tempdir().unwrap();
    let options = Options {
        output: dir.path().join("t.md"),
        ..Options::default()
    };
    let allowlist = allowlist();
    let error = docs::run(
        &options,
        &docs::PRODUCT,
        &[&FIRST, &SECOND],
        &allowlist,
        &common_names(&allowlist),
    )
    .unwrap_err();
    assert!(matches!(error, GenDocsError::DuplicateEvents(_)));
    assert!(
        error
            .to_string()
            .contains("event `cli.done` is declared by more than one type: Done, Finished")
    );
    assert!(!options.output.exists());
}

#[test]
fn refuses_common_properties_the_runtime_and_allowlist_disagree_on() {
    let dir = tempfile::tempdir().unwrap();
    let options = Options {
        output: dir.path().join("t.md"),
        ..Options::default()
    };
    let allowlist = allowlist();
    let error = docs::run(
        &options,
        &docs::PRODUCT,
        &[],
        &allowlist,
        &["app_version", "hostname"],
    )
    .unwrap_err();
    assert!(
        matches!(error, GenDocsError::CommonProperties { .. }),
        "{error}"
    );
}

#[test]
fn the_page_documents_every_event_and_property() {
    let dir = tempfile::tempdir().unwrap();
    let options = Options {
        output: dir.path().join("t.md"),
        ..Options::default()
    };
    let allowlist = allowlist();
    let events = telemetry_core::catalog();
    let outcome = docs::run(
        &options,
        &docs::PRODUCT,
        &events,
        &allowlist,
        &common_names(&allowlist),
    )
    .unwrap();
    assert_eq!(outcome, Outcome::Written);
    let page = std::fs::read_to_string(&options.output).unwrap();
    for event in &events {
        assert!(
            page.contains(&format!("| `{}` | {} |", event.name, event.description)),
            "{}",
            event.name
        );
    }
    for property in allowlist.properties.iter().chain(&allowlist.common) {
        assert!(
            page.contains(&format!("| `{}` |", property.name)),
            "{}",
            property.name
        );
    }
    for row in &allowlist.never_sent {
        assert!(page.contains(&row.category), "{}", row.category);
    }
    for heading in [
        "## Privacy posture",
        "## Turning it on and off",
        "DO_NOT_TRACK",
        "## Events",
        "## Properties",
        "## Common properties",
        "## What is never sent",
        "## Identity, retention and deletion",
    ] {
        assert!(page.contains(heading), "{heading}");
    }
    let again = docs::run(
        &options,
        &docs::PRODUCT,
        &events,
        &allowlist,
        &common_names(&allowlist),
    )
    .unwrap();
    assert_eq!(again, Outcome::Unchanged, "output is deterministic");
}

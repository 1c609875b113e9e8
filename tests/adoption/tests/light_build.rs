//! Declaring events, writing the docs page and compiling the UI cases build no network stack
//! and no C: what `cargo run --bin gen-docs` selects, the example's event crate, and the
//! trybuild project's dependencies are checked with `cargo tree` (no build needed).

use std::process::Command;

/// This package's directory: what cargo says when it runs the test (a binary it reuses from a
/// build in another checkout of the same sources still finds this one's files), else where it
/// was compiled.
fn manifest_dir() -> std::path::PathBuf {
    std::env::var_os("CARGO_MANIFEST_DIR").map_or_else(
        || env!("CARGO_MANIFEST_DIR").into(),
        std::path::PathBuf::from,
    )
}

/// Crates of the runtime's delivery stack, and anything that compiles C.
const HEAVY: &[&str] = &[
    "posthog-rs",
    "reqwest",
    "hyper",
    "tokio",
    "rustls",
    "aws-lc-rs",
    "aws-lc-sys",
    "ring",
    "cc",
    "openssl-sys",
];

/// The crate names `cargo tree ARGS` lists.
fn tree(args: &[&str]) -> Vec<String> {
    let root = manifest_dir().join("../..");
    let output = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
        .args([
            "tree",
            "--locked",
            "--prefix",
            "none",
            "--edges",
            "normal,build",
        ])
        .args(args)
        .current_dir(root)
        .output()
        .expect("cargo tree runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let mut names: Vec<String> = String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|line| line.split_whitespace().next())
        .map(str::to_owned)
        .collect();
    names.sort();
    names.dedup();
    names
}

fn assert_light(what: &str, names: &[String]) {
    let heavy: Vec<&String> = names
        .iter()
        .filter(|n| HEAVY.contains(&n.as_str()) || n.ends_with("-sys"))
        .collect();
    assert!(heavy.is_empty(), "{what} compiles {heavy:?}");
    assert!(names.iter().any(|n| n == "telemetry-core"), "{names:?}");
}

#[test]
fn cargo_run_bin_gen_docs_compiles_no_network_stack() {
    // No `-p`: the workspace's default members, as `cargo run --bin gen-docs` selects them.
    assert_light("`cargo run --bin gen-docs`", &tree(&[]));
}

#[test]
fn the_event_crate_compiles_no_network_stack() {
    assert_light("telemetry-schema", &tree(&["-p", "telemetry-schema"]));
}

#[test]
fn the_ui_cases_compile_no_network_stack() {
    // trybuild's project depends on the UI tests' dev-dependencies.
    let names = tree(&["-p", "telemetry-ui-tests", "--edges", "dev"]);
    assert_light("the UI cases", &names);
}

//! Every test the README's "Privacy claims and the tests that hold them" table names exists, so
//! the table cannot go on citing a test that was renamed or removed.

use std::path::{Path, PathBuf};

/// This package's directory: what cargo says when it runs the test (a binary it reuses from a
/// build in another checkout of the same sources still finds this one's files), else where it
/// was compiled.
fn manifest_dir() -> std::path::PathBuf {
    std::env::var_os("CARGO_MANIFEST_DIR").map_or_else(
        || env!("CARGO_MANIFEST_DIR").into(),
        std::path::PathBuf::from,
    )
}

fn root() -> PathBuf {
    manifest_dir().join("../..")
}

/// The source a cited file stands for: `recording.rs` is an end-to-end test of the example,
/// `core:` names telemetry-core's sources, anything with a `/` is a path from the root.
fn sources(file: &str) -> Vec<PathBuf> {
    if file == "core:" {
        let mut files = Vec::new();
        collect(&root().join("telemetry-core/src"), &mut files);
        return files;
    }
    if file.contains('/') {
        return vec![root().join(file)];
    }
    vec![root().join("examples/demo-cli/tests").join(file)]
}

fn collect(dir: &Path, files: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            collect(&path, files);
        } else if path.extension().is_some_and(|e| e == "rs") {
            files.push(path);
        }
    }
}

/// `(file, test)` for every test the table cites; `test` may end in `*` (a prefix).
fn cited(readme: &str) -> Vec<(String, String)> {
    let table = readme
        .split("## Privacy claims and the tests that hold them")
        .nth(1)
        .expect("the README has the table")
        .split("\n## ")
        .next()
        .unwrap();
    let mut cited = Vec::new();
    for row in table
        .lines()
        .filter(|l| l.starts_with("| ") && !l.contains("| --- |"))
    {
        let Some(tests) = row.rsplit(" | ").next() else {
            continue;
        };
        for code in tests.split('`').skip(1).step_by(2) {
            let (core, code) = match code.strip_prefix("core: ") {
                Some(rest) => (true, rest),
                None => (false, code),
            };
            let Some((file, names)) = code.split_once("::") else {
                continue;
            };
            let file = if core { "core:" } else { file };
            let names = names.trim_start_matches('{').trim_end_matches('}');
            for name in names.split(',').map(str::trim) {
                let name = name.rsplit("::").next().unwrap();
                cited.push((file.to_owned(), name.to_owned()));
            }
        }
    }
    cited
}

#[test]
fn every_cited_test_exists() {
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    let cited = cited(&readme);
    assert!(cited.len() > 20, "{cited:?}");
    let mut missing = Vec::new();
    for (file, name) in &cited {
        let found = sources(file).iter().any(|source| {
            let text = std::fs::read_to_string(source).unwrap_or_default();
            match name.strip_suffix('*') {
                Some(prefix) => text.contains(&format!("fn {prefix}")),
                None => text.contains(&format!("fn {name}(")),
            }
        });
        if !found {
            missing.push(format!("{file}::{name}"));
        }
    }
    assert!(
        missing.is_empty(),
        "the README cites tests that do not exist: {missing:?}"
    );
}

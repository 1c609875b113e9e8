//! `telemetry-core`'s modules import only from layers below their own: the table in the crate
//! documentation, kept true. Reads the sources (test code excepted, which may use anything).

use std::collections::BTreeMap;
use std::path::Path;

/// This package's directory: what cargo says when it runs the test (a binary it reuses from a
/// build in another checkout of the same sources still finds this one's files), else where it
/// was compiled.
fn manifest_dir() -> std::path::PathBuf {
    std::env::var_os("CARGO_MANIFEST_DIR").map_or_else(
        || env!("CARGO_MANIFEST_DIR").into(),
        std::path::PathBuf::from,
    )
}

/// Bottom to top. A module may import from a lower rank only (and from itself).
const LAYERS: &[(&str, u32)] = &[
    ("event", 1),
    ("diagnostics", 1),
    ("schema", 2),
    ("limits", 2),
    ("__private", 3),
    ("docs", 3),
    ("fsutil", 3),
    ("environment", 3),
    ("config", 4),
    ("paths", 5),
    ("record", 5),
    ("queue", 6),
    ("identity", 7),
    ("consent", 8),
    ("notice", 9),
    ("debug", 9),
    ("delivery", 10),
    ("handle", 11),
    ("testing", 11),
    ("cli", 12),
    ("bench_support", 13),
];

/// Modules compiled only for the crate's own tests (`#[cfg(test)]` in `lib.rs`): outside the
/// layers. Any code may use them, since only test code can (the compiler sees to that).
const TEST_ONLY: &[&str] = &["test_events"];

/// Items of the crate root that are not modules and belong to no layer (macros).
const ROOT_MACROS: &[&str] = &[
    "code_location",
    "telemetry_event",
    "telemetry_enum",
    "telemetry_bucket",
    "telemetry_schema",
];

fn rank(module: &str) -> u32 {
    LAYERS
        .iter()
        .find(|(name, _)| *name == module)
        .map(|(_, rank)| *rank)
        .unwrap_or_else(|| panic!("module `{module}` is missing from the layer table"))
}

/// `Telemetry` → `handle`: where each item `lib.rs` re-exports comes from.
fn root_reexports(lib: &str) -> BTreeMap<String, String> {
    let mut map = BTreeMap::new();
    for statement in lib.split(';') {
        let Some(rest) = statement.trim().rsplit("pub use ").next() else {
            continue;
        };
        if !statement.contains("pub use ") {
            continue;
        }
        let module = rest.split("::").next().unwrap_or("").trim();
        let names = rest
            .rsplit("::")
            .next()
            .unwrap_or("")
            .trim_matches(|c: char| c == '{' || c == '}' || c.is_whitespace());
        for name in names.split(',').map(str::trim).filter(|n| !n.is_empty()) {
            map.insert(name.to_owned(), module.to_owned());
        }
    }
    map
}

/// The code of a file without its test module and comments.
fn code_of(text: &str) -> String {
    let code = text.split("#[cfg(test)]\nmod tests").next().unwrap_or(text);
    code.lines()
        .filter(|line| !line.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Every `crate::name` a piece of code refers to (`crate::{a, b::c}` gives `a` and `b`).
fn crate_paths(code: &str) -> Vec<String> {
    let word = |text: &str| -> String {
        text.trim_start()
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect()
    };
    let mut paths = Vec::new();
    for (at, _) in code.match_indices("crate::") {
        let rest = &code[at + "crate::".len()..];
        match rest.strip_prefix('{') {
            Some(group) => {
                let group = group.split('}').next().unwrap_or("");
                paths.extend(group.split(',').map(word).filter(|w| !w.is_empty()));
            }
            None => paths.push(word(rest)),
        }
    }
    paths
}

fn visit(dir: &Path, files: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            visit(&path, files);
        } else if path.extension().is_some_and(|e| e == "rs") {
            files.push(path);
        }
    }
}

#[test]
fn lower_layers_never_import_higher_ones() {
    let src = manifest_dir().join("src");
    let reexports = root_reexports(&std::fs::read_to_string(src.join("lib.rs")).unwrap());
    let mut files = Vec::new();
    visit(&src, &mut files);
    let mut violations = Vec::new();
    for file in files {
        let relative = file.strip_prefix(&src).unwrap();
        let name = relative.to_string_lossy();
        if name == "lib.rs" || name.ends_with("tests.rs") {
            continue;
        }
        let module = name
            .split('/')
            .next()
            .unwrap()
            .trim_end_matches(".rs")
            .to_owned();
        if TEST_ONLY.contains(&module.as_str()) {
            continue;
        }
        let own = rank(&module);
        for path in crate_paths(&code_of(&std::fs::read_to_string(&file).unwrap())) {
            if ROOT_MACROS.contains(&path.as_str()) || TEST_ONLY.contains(&path.as_str()) {
                continue;
            }
            let target = if path.starts_with(|c: char| c.is_ascii_uppercase()) {
                match reexports.get(&path) {
                    Some(module) => module.clone(),
                    None => panic!("{name}: `crate::{path}` is not re-exported by lib.rs"),
                }
            } else {
                path.clone()
            };
            if target != module && rank(&target) >= own {
                violations.push(format!(
                    "{name} (`{module}`, layer {own}) uses `crate::{path}` (`{target}`, layer {})",
                    rank(&target)
                ));
            }
        }
    }
    assert!(violations.is_empty(), "{}", violations.join("\n"));
}

#[test]
fn the_table_is_the_crate_documentation_s() {
    let lib = std::fs::read_to_string(manifest_dir().join("src/lib.rs")).unwrap();
    for (module, rank) in LAYERS {
        let row = lib
            .lines()
            .find(|line| line.starts_with(&format!("//! | {rank} |")) && line.contains(module));
        assert!(
            row.is_some(),
            "the crate documentation's layer table has no row {rank} naming `{module}`"
        );
    }
}

//! New users' crates, built outside this workspace against its crates by path: the README's
//! recipe (`tests/outside_crate.rs`, its files in `tests/recipe/`), a tool without clap
//! (`tests/without_clap.rs`), a tool reaching the library through a shared crate
//! (`tests/shared_crate.rs`), a workspace sharing one allowlist beside a dependency with its
//! own (`tests/workspace_allowlist.rs`). What they share is here.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// This package's directory: what cargo says when it runs the test (a binary it reuses from a
/// build in another checkout of the same sources still finds this one's files), else where it
/// was compiled.
pub fn manifest_dir() -> PathBuf {
    std::env::var_os("CARGO_MANIFEST_DIR")
        .map_or_else(|| env!("CARGO_MANIFEST_DIR").into(), PathBuf::from)
}

/// The workspace this package belongs to.
pub fn workspace() -> PathBuf {
    manifest_dir()
        .ancestors()
        .nth(2)
        .expect("tests/adoption is two levels below the workspace root")
        .to_path_buf()
}

/// This workspace's `telemetry-core`, as an outside crate depends on it (`path = ...`).
pub fn core_dir() -> PathBuf {
    workspace().join("telemetry-core")
}

/// Gives the outside crate (or workspace) at `dir` this workspace's `Cargo.lock`: the same
/// dependency versions, so nothing new is resolved or fetched.
pub fn copy_lockfile(dir: &Path) {
    std::fs::copy(workspace().join("Cargo.lock"), dir.join("Cargo.lock")).unwrap();
}

/// Writes `text` to `path`, creating its directory.
pub fn write(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

/// `cargo ARGS` in an outside crate at `dir`, as its author would type it, building in
/// `target` (kept between runs under this workspace's target directory, so only the first run
/// compiles the dependencies).
pub fn cargo(dir: &Path, target: &Path, args: &[&str]) -> Output {
    Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
        .args(args)
        .current_dir(dir)
        .env("CARGO_TARGET_DIR", target)
        // Debug information changes nothing these tests look at and is most of the ~1.5 GB a
        // build would write (see `.cargo/config.toml`, which does not reach a crate in /tmp).
        .env("CARGO_PROFILE_DEV_DEBUG", "false")
        // This workspace's build settings are not the outside crate's.
        .env_remove("TELEMETRY_ALLOWLIST")
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .output()
        .expect("cargo runs")
}

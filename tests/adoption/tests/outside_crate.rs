//! A new user's tool, outside this workspace: a fresh crate in a temporary directory with its
//! own allowlist, two events of its own and its own `gen-docs`, built against these crates by
//! path, following the README's recipe (its files are in `tests/recipe/`).
//!
//! It checks what a new user relies on: the page lists exactly the tool's two events under the
//! tool's own name, `--check` passes on the page just written, `telemetry catalog` lists the
//! same events as the page, switching the allowlist to `consent = "opt-out"` changes the page
//! and the program's behaviour together, and a field that is not on the allowlist fails the
//! build with the field named.

use std::path::Path;
use std::process::{Command, Output};
use std::time::Duration;

use telemetry_adoption_tests::{manifest_dir, workspace};

/// Copies the recipe into `dir`, pointing its dependency at this workspace's telemetry-core.
fn lay_out(dir: &Path) {
    let recipe = manifest_dir().join("tests/recipe");
    let manifest = std::fs::read_to_string(recipe.join("Cargo.toml.in"))
        .unwrap()
        .replace(
            "@CORE@",
            &telemetry_adoption_tests::core_dir().to_string_lossy(),
        )
        .replace(
            "@DEVSERVER@",
            &workspace().join("telemetry-devserver").to_string_lossy(),
        );
    std::fs::write(dir.join("Cargo.toml"), manifest).unwrap();
    for file in [
        "allowlist.toml",
        "src/lib.rs",
        "src/main.rs",
        "src/bin/gen-docs.rs",
        "tests/telemetry.rs",
    ] {
        let to = dir.join(file);
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        std::fs::copy(recipe.join(file), to).unwrap();
    }
    telemetry_adoption_tests::copy_lockfile(dir);
}

/// `cargo ARGS` in the outside crate (see [`telemetry_adoption_tests::cargo`]).
fn cargo(dir: &Path, args: &[&str]) -> Output {
    let target = Path::new(env!("CARGO_TARGET_TMPDIR")).join("outside-crate");
    telemetry_adoption_tests::cargo(dir, &target, args)
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn succeeded(output: &Output, what: &str) -> String {
    assert!(
        output.status.success(),
        "{what} failed:\n{}\n{}",
        text(&output.stdout),
        text(&output.stderr)
    );
    text(&output.stdout)
}

/// `weather` with its own HOME and nothing else in its environment but a development endpoint
/// and key (a debug build only honours a loopback endpoint; port 9 refuses, so nothing can
/// leave the machine).
fn weather(bin: &Path, home: &Path) -> Command {
    sandboxed(bin.as_os_str(), home)
}

/// `program` (`weather`, or `script` running it) in [`weather`]'s environment.
fn sandboxed(program: &std::ffi::OsStr, home: &Path) -> Command {
    let mut command = Command::new(program);
    command
        .env_clear()
        .env("HOME", home)
        .env("WEATHER_TELEMETRY_DEV_ENDPOINT", "http://127.0.0.1:9")
        .env("WEATHER_TELEMETRY_DEV_KEY", "phc_test");
    command
}

/// The allowlist switched to `consent = "opt-out"`: the committed page is stale, the new page
/// and `telemetry policy` describe opt-out, and the program behaves so. A run without a
/// terminal records nothing; the first run on a terminal (through `script`, which gives it a
/// pseudo-terminal) shows the notice and records nothing; the next run records.
fn opt_out(dir: &Path, bin: &Path, opt_in_page: &str) {
    let allowlist = dir.join("allowlist.toml");
    let listed = std::fs::read_to_string(&allowlist).unwrap();
    let purpose = "purpose = \"which forecasts are asked for\"\n";
    assert!(listed.contains(purpose), "{listed}");
    std::fs::write(
        &allowlist,
        listed.replace(purpose, &format!("{purpose}consent = \"opt-out\"\n")),
    )
    .unwrap();

    let stale = cargo(
        dir,
        &["run", "--quiet", "--bin", "gen-docs", "--", "--check"],
    );
    assert!(
        !stale.status.success(),
        "the opt-in page passed the check of an opt-out program"
    );
    succeeded(
        &cargo(dir, &["run", "--quiet", "--bin", "gen-docs"]),
        "gen-docs",
    );
    let page = std::fs::read_to_string(dir.join("docs/telemetry.md")).expect("the page");
    for opt_out in [
        "**It is on unless you turn it off, and it records nothing before it has told you so.**",
        "1. **On unless you turn it off, never before you have been told.**",
        "| 6 | nothing said | on, from the run after the first-run notice was shown on a terminal; off until then |",
    ] {
        assert!(page.contains(opt_out), "{opt_out} missing:\n{page}");
        assert!(
            !opt_in_page.contains(opt_out),
            "{opt_out} in the opt-in page"
        );
    }
    for opt_in in [
        "sends nothing unless you turn it on",
        "Off until you turn it on",
    ] {
        assert!(
            opt_in_page.contains(opt_in),
            "{opt_in} missing from the opt-in page"
        );
        assert!(
            !page.contains(opt_in),
            "{opt_in} in the opt-out page:\n{page}"
        );
    }

    succeeded(&cargo(dir, &["build", "--quiet"]), "cargo build");
    let home = dir.join("home-opt-out");
    std::fs::create_dir(&home).unwrap();
    let policy = weather(bin, &home)
        .args(["telemetry", "policy"])
        .output()
        .unwrap();
    let policy = succeeded(&policy, "weather telemetry policy");
    assert!(policy.contains("It is opt-out"), "{policy}");

    // No terminal: no notice, nothing recorded, nothing created.
    let piped = weather(bin, &home).arg("forecast").output().unwrap();
    assert_eq!(
        succeeded(&piped, "weather forecast"),
        "3 days of sunshine (Metric)\n"
    );
    assert_eq!(text(&piped.stderr), "");
    assert_eq!(
        std::fs::read_dir(&home).unwrap().count(),
        0,
        "created files"
    );

    // The first run on a terminal: the notice on stderr, and still nothing recorded.
    let command = format!("{} forecast", bin.display());
    let first = sandboxed("script".as_ref(), &home)
        .args(["--quiet", "--return", "--command", &command, "/dev/null"])
        .output()
        .expect("script (util-linux) runs");
    let first = succeeded(&first, "weather forecast on a terminal");
    assert!(
        first.contains("weather collects anonymous usage events")
            && first.contains("Nothing has been recorded yet; recording starts with the next run."),
        "{first}"
    );
    let inspect = |home: &Path| {
        let output = weather(bin, home)
            .args(["telemetry", "inspect", "--json"])
            .output()
            .unwrap();
        let events: serde_json::Value =
            serde_json::from_str(&succeeded(&output, "weather telemetry inspect --json")).unwrap();
        let mut names: Vec<String> = events["events"]
            .as_array()
            .expect("an events array")
            .iter()
            .map(|e| e["record"]["event"].as_str().unwrap().to_owned())
            .collect();
        names.sort();
        names
    };
    assert_eq!(inspect(&home), Vec::<String>::new());

    let marker = home.join(".weather/telemetry-notice-shown");
    let shown_at = std::fs::metadata(&marker).unwrap().modified().unwrap();

    // The next run records, terminal or not. A run that starts within the file clock's slack
    // of the notice counts as started with it and does not (`consent`'s unit tests), so the
    // marker is dated back, as if the user had taken a minute to read the notice, rather than
    // the test relying on how fast the next process starts.
    std::fs::File::options()
        .write(true)
        .open(&marker)
        .unwrap()
        .set_modified(shown_at - Duration::from_secs(60))
        .unwrap();
    let second = weather(bin, &home).arg("forecast").output().unwrap();
    assert_eq!(
        succeeded(&second, "weather forecast"),
        "3 days of sunshine (Metric)\n"
    );
    assert_eq!(text(&second.stderr), "");
    assert_eq!(inspect(&home), ["cli.command_completed", "forecast.shown"]);
    let status = weather(bin, &home)
        .args(["telemetry", "status"])
        .output()
        .unwrap();
    let status = text(&status.stdout);
    assert!(
        status.contains("Source: default (opt-out policy)"),
        "{status}"
    );
}

/// The event names of the page's "Events" table.
fn page_events(page: &str) -> Vec<String> {
    let section = page
        .split("## Events\n")
        .nth(1)
        .and_then(|rest| rest.split("\n## ").next())
        .expect("the page has an Events section");
    let mut names: Vec<String> = section
        .lines()
        .filter_map(|line| line.strip_prefix("| `"))
        .filter_map(|rest| rest.split('`').next())
        .map(str::to_owned)
        .collect();
    names.sort();
    names
}

#[test]
fn a_new_crate_gets_its_own_page_catalog_and_build_errors() {
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    lay_out(dir);

    // The page: `cargo run --bin gen-docs`, then the CI line.
    succeeded(
        &cargo(dir, &["run", "--quiet", "--bin", "gen-docs"]),
        "gen-docs",
    );
    let page = std::fs::read_to_string(dir.join("docs/telemetry.md")).expect("the page");
    assert!(page.starts_with("# Telemetry in `weather`\n"), "{page}");
    assert_eq!(
        page_events(&page),
        ["cli.command_completed", "forecast.shown"]
    );
    for own in [
        "`WEATHER_TELEMETRY=1`",
        "`.weather-telemetry.toml`",
        "`~/.weather`",
        "which forecasts are asked for",
        "privacy@weather.example.org",
        "90 days",
        "| `forecast_days` |",
        "| `app_version` |",
    ] {
        assert!(page.contains(own), "{own} missing from the page:\n{page}");
    }
    for foreign in ["demo", "workflow", "DEMO_"] {
        assert!(!page.contains(foreign), "{foreign} in the page:\n{page}");
    }
    let check = succeeded(
        &cargo(
            dir,
            &["run", "--quiet", "--bin", "gen-docs", "--", "--check"],
        ),
        "gen-docs --check",
    );
    assert!(check.contains("up to date"), "{check}");

    // The catalog the installed program prints lists the page's events.
    succeeded(&cargo(dir, &["build", "--quiet"]), "cargo build");
    let home = dir.join("home");
    std::fs::create_dir(&home).unwrap();
    let bin = Path::new(env!("CARGO_TARGET_TMPDIR")).join("outside-crate/debug/weather");
    // The subcommand's help, mounted as the recipe mounts it, says how to opt out.
    let help = Command::new(&bin)
        .args(["telemetry", "--help"])
        .env_clear()
        .env("HOME", &home)
        .output()
        .expect("weather runs");
    let help = succeeded(&help, "weather telemetry --help");
    assert!(
        help.starts_with("See and change what anonymous usage data weather records."),
        "{help}"
    );
    assert!(
        help.contains("DO_NOT_TRACK=1 or WEATHER_TELEMETRY=0"),
        "{help}"
    );
    let catalog = Command::new(&bin)
        .args(["telemetry", "catalog", "--json"])
        .env_clear()
        .env("HOME", &home)
        .output()
        .expect("weather runs");
    let catalog: serde_json::Value =
        serde_json::from_str(&succeeded(&catalog, "weather telemetry catalog")).unwrap();
    let mut listed: Vec<String> = catalog["events"]
        .as_array()
        .expect("an events array")
        .iter()
        .map(|e| e["name"].as_str().unwrap().to_owned())
        .collect();
    listed.sort();
    assert_eq!(listed, page_events(&page));
    assert_eq!(
        std::fs::read_dir(&home).unwrap().count(),
        0,
        "telemetry is off: nothing is created"
    );

    // The tool's own tests of its telemetry, as the README shows them.
    let tests = succeeded(&cargo(dir, &["test", "--quiet"]), "cargo test");
    assert!(tests.contains("test result: ok. 4 passed"), "{tests}");

    opt_out(dir, &bin, &page);

    // A field the allowlist does not list fails the build, at the field.
    let lib = dir.join("src/lib.rs");
    let source = std::fs::read_to_string(&lib).unwrap();
    std::fs::write(
        &lib,
        source.replace(
            "    pub units: Units,\n",
            "    pub units: Units,\n    /// Where the user is.\n    pub user_city: u32,\n",
        ),
    )
    .unwrap();
    let refused = cargo(dir, &["build", "--quiet"]);
    assert!(
        !refused.status.success(),
        "a field off the allowlist compiled"
    );
    let stderr = text(&refused.stderr);
    assert!(
        stderr.contains("`user_city` is not an allowlisted telemetry property"),
        "{stderr}"
    );
    assert!(stderr.contains("src/lib.rs:"), "{stderr}");
}

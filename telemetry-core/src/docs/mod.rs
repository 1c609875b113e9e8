//! `docs/telemetry.md`, generated from a program's [`Schema`] (feature `docs`).
//!
//! The page is the trust artifact of the feature: it lists every event and every property the
//! program can send, exactly as the compiler checked them, so it cannot drift from the code. A
//! program gets its `gen-docs` command with one file, `src/bin/gen-docs.rs`:
//!
//! ```ignore
//! fn main() -> std::process::ExitCode {
//!     telemetry_core::docs::main(&my_tool::SCHEMA)
//! }
//! ```
//!
//! Then `cargo run --bin gen-docs` writes the page and `cargo run --bin gen-docs -- --check`
//! (the CI line) fails with the difference when the committed page is stale.

mod command;
mod delivery;
mod guard;
mod render;
mod tables;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Parser;

pub use command::{GenDocsError, Options, Outcome, run};
pub use guard::KindChange;

use crate::schema::Schema;

/// `gen-docs`: writes the program's telemetry page from its schema, or checks it.
#[derive(Debug, Parser)]
#[command(
    name = "gen-docs",
    about = "Write the program's telemetry page from its telemetry schema, or check that the committed page is current"
)]
struct Args {
    /// Compare with the committed page instead of writing it; fail with the difference if stale
    #[arg(long)]
    check: bool,
    /// The page to write or check (default: the product's `docs_path` under the workspace root)
    #[arg(long, value_name = "PATH")]
    output: Option<PathBuf>,
    /// Accept, after privacy review, that PROPERTY changed kind since the committed page
    #[arg(long = "allow-kind-change", value_name = "PROPERTY")]
    allow_kind_change: Vec<String>,
}

/// The whole `gen-docs` command for `schema`: parses the process's arguments, writes or
/// checks the page, and says what it did. Exit code 0 when the page was written or is current,
/// 1 when it is stale or something failed, 2 for bad arguments.
pub fn main(schema: &Schema) -> ExitCode {
    let args = match Args::try_parse() {
        Ok(args) => args,
        Err(error) => {
            let _ = error.print();
            return ExitCode::from(u8::try_from(error.exit_code()).unwrap_or(2));
        }
    };
    let options = Options {
        check: args.check,
        output: args
            .output
            .unwrap_or_else(|| default_output(schema.product().docs_path())),
        allow_kind_change: args.allow_kind_change,
    };
    let count = schema.events().len();
    match run(&options, schema) {
        Ok(outcome) => {
            let what = match outcome {
                Outcome::Written => "wrote",
                Outcome::Unchanged => "checked",
            };
            let state = match outcome {
                Outcome::Written => "",
                Outcome::Unchanged => ": it is up to date",
            };
            println!(
                "gen-docs: {what} {} ({count} events){state}",
                options.output.display()
            );
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("gen-docs: {error}");
            ExitCode::FAILURE
        }
    }
}

/// `docs_path` under the root of the workspace `cargo run` was called in (cargo tells the
/// program its package's directory in `CARGO_MANIFEST_DIR`), else under the current
/// directory.
fn default_output(docs_path: &str) -> PathBuf {
    let root = std::env::var_os("CARGO_MANIFEST_DIR")
        .map(PathBuf::from)
        .map(|dir| cargo_workspace_root(&dir).unwrap_or_else(|| workspace_root(&dir)))
        .unwrap_or_default();
    root.join(docs_path)
}

/// The root of the workspace `package_dir`'s package belongs to, as cargo itself finds it
/// (`cargo locate-project --workspace`: a nested workspace, a package excluded from the one
/// around it, `package.workspace`), with the `cargo` that runs this program (`CARGO`, set by
/// `cargo run`). `None` when there is none to ask or it fails.
fn cargo_workspace_root(package_dir: &Path) -> Option<PathBuf> {
    let cargo = std::env::var_os("CARGO")?;
    let output = std::process::Command::new(cargo)
        .args(["locate-project", "--workspace", "--message-format", "plain"])
        .arg("--manifest-path")
        .arg(package_dir.join("Cargo.toml"))
        .stdin(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .output()
        .ok()?;
    if !output.status.success() {
        return None;
    }
    let manifest = String::from_utf8(output.stdout).ok()?;
    let manifest = Path::new(manifest.trim_end());
    // a path to a `Cargo.toml`, or not cargo's answer (a `CARGO` that is a wrapper)
    if !manifest.is_absolute() || manifest.file_name()? != "Cargo.toml" {
        return None;
    }
    manifest.parent().map(Path::to_path_buf)
}

/// Where cargo cannot be asked: the nearest ancestor of `package_dir` (itself included) whose
/// `Cargo.toml` declares a `[workspace]`, as cargo looks for one, or `package_dir` when none
/// does.
fn workspace_root(package_dir: &Path) -> PathBuf {
    package_dir
        .ancestors()
        .find(|dir| {
            std::fs::read_to_string(dir.join("Cargo.toml"))
                .is_ok_and(|manifest| manifest.lines().any(|l| l.trim() == "[workspace]"))
        })
        .unwrap_or(package_dir)
        .to_path_buf()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::meta::EventMeta;
    use crate::schema::{AllowlistSource, ConsentPolicy, Product};

    const WEATHER: Product = Product {
        name: "weather",
        command: "weather",
        docs_url: None,
        docs_path: "docs/telemetry.md",
        contact: "privacy@weather.example.org",
        data_location: "PostHog Cloud, EU region",
        retention: "90 days",
        purpose: None,
        policy: ConsentPolicy::OptIn,
    };

    const ALLOWLIST: &str = "[[property]]\nname = \"forecast_days\"\nkind = \"unsigned\"\nsensitivity = \"interaction\"\ndescription = \"How many days.\"\n";

    static SHOWN: EventMeta = EventMeta {
        name: "forecast.shown",
        description: "Sent when a forecast is shown.",
        properties: &[],
        type_name: "ForecastShown",
    };

    fn schema(events: &'static [&'static EventMeta]) -> Schema {
        schema_of(WEATHER, events)
    }

    fn schema_of(product: Product, events: &'static [&'static EventMeta]) -> Schema {
        Schema {
            product,
            events,
            allowlist: AllowlistSource {
                text: ALLOWLIST,
                path: "allowlist.toml",
                crate_name: "weather",
            },
        }
    }

    fn options(dir: &Path) -> Options {
        Options {
            output: dir.join("telemetry.md"),
            ..Options::default()
        }
    }

    #[test]
    fn a_schema_without_events_is_refused_with_what_to_do() {
        let dir = tempfile::tempdir().unwrap();
        let error = run(&options(dir.path()), &schema(&[])).unwrap_err();
        assert!(matches!(error, GenDocsError::NoEvents { .. }));
        assert!(
            error.to_string().contains("lists no event: list every"),
            "{error}"
        );
        assert!(!dir.path().join("telemetry.md").exists());
    }

    #[test]
    fn the_page_speaks_of_its_own_product() {
        let dir = tempfile::tempdir().unwrap();
        static EVENTS: [&EventMeta; 1] = [&SHOWN];
        let options = options(dir.path());
        assert_eq!(run(&options, &schema(&EVENTS)).unwrap(), Outcome::Written);
        let page = std::fs::read_to_string(&options.output).unwrap();
        assert!(page.starts_with("# Telemetry in `weather`\n"));
        for own in [
            "`WEATHER_TELEMETRY=1`",
            "`.weather-telemetry.toml`",
            "`~/.weather`",
            "which features are used and which fail",
            "privacy@weather.example.org",
            "90 days",
            "`allowlist.toml` of the `weather` crate",
        ] {
            assert!(page.contains(own), "{own}");
        }
        // No never-sent rows: a sentence, not a table with a header and nothing under it.
        let never = page.split("## What is never sent").nth(1).unwrap();
        let never = never.split("\n## ").next().unwrap();
        assert!(!never.contains("| Category |"), "{never}");
        assert!(never.contains("In particular: file paths"), "{never}");
        for foreign in ["demo", "DEMO_", "workflow"] {
            assert!(!page.contains(foreign), "{foreign}");
        }
    }

    /// An opt-out product's page says it is on unless turned off, and when recording starts;
    /// none of the opt-in page's promises ("sends nothing unless you turn it on") remain.
    #[test]
    fn the_page_describes_the_products_consent_policy() {
        static EVENTS: [&EventMeta; 1] = [&SHOWN];
        let page = |policy| {
            let dir = tempfile::tempdir().unwrap();
            let options = options(dir.path());
            let product = Product { policy, ..WEATHER };
            run(&options, &schema_of(product, &EVENTS)).unwrap();
            std::fs::read_to_string(&options.output).unwrap()
        };
        let opt_in_only = [
            "**It sends nothing unless you turn it on.**",
            "1. **Off until you turn it on.** A new install sends nothing and creates no identifier.",
            "| 6 | nothing said | off |",
            "created on your machine when you opt in",
            "If telemetry is never turned on, the file never exists.",
        ];
        let opt_out_only = [
            "**It is on unless you turn it off, and it records nothing before it has told you so.**",
            "1. **On unless you turn it off, never before you have been told.** The first time `weather` runs on a terminal, it prints a notice saying so and records nothing; recording starts with the next run.",
            "| 6 | nothing said | on, from the run after the first-run notice was shown on a terminal; off until then |",
            "created on your machine when the first event is recorded",
            "Nothing is recorded on the run that shows it",
            "If you turn telemetry off before the run after the first-run notice, the file never exists.",
        ];
        let (opt_in, opt_out) = (page(ConsentPolicy::OptIn), page(ConsentPolicy::OptOut));
        for (page, has, lacks) in [
            (&opt_in, &opt_in_only[..], &opt_out_only[..]),
            (&opt_out, &opt_out_only[..], &opt_in_only[..]),
        ] {
            for text in has {
                assert!(page.contains(text), "{text} missing:\n{page}");
            }
            for text in lacks {
                assert!(!page.contains(text), "{text} present:\n{page}");
            }
        }
    }

    /// The page says that PostHog sees the address requests come from, and what the
    /// allowlist's `client_ip` says becomes of it; without one, that it may be stored.
    #[test]
    fn the_page_says_what_becomes_of_the_ip_address() {
        static EVENTS: [&EventMeta; 1] = [&SHOWN];
        let page = |client_ip: &str| {
            let dir = tempfile::tempdir().unwrap();
            let options = options(dir.path());
            let text = format!(
                "[product]\nname = \"weather\"\ncontact = \"privacy@weather.example.org\"\ndata_location = \"PostHog Cloud, EU region\"\nretention = \"90 days\"\n{client_ip}\n{ALLOWLIST}"
            );
            let schema = Schema {
                allowlist: AllowlistSource {
                    text: Box::leak(text.into_boxed_str()),
                    ..schema(&EVENTS).allowlist
                },
                ..schema(&EVENTS)
            };
            run(&options, &schema).unwrap();
            let page = std::fs::read_to_string(&options.output).unwrap();
            let line = page
                .lines()
                .find(|l| l.starts_with("- **Your IP address.**"))
                .unwrap_or_else(|| panic!("no IP address line:\n{page}"))
                .to_string();
            assert!(line.contains("PostHog sees the address each request comes from"));
            assert!(line.contains("`$geoip_disable: true`"));
            let posture = page
                .lines()
                .find(|l| l.starts_with("5. **Anonymous by design.**"))
                .unwrap()
                .to_string();
            (line, posture)
        };
        let (discarded, posture) = page("client_ip = \"discarded\"");
        assert!(discarded.contains("is set to discard it"), "{discarded}");
        assert!(!posture.contains("IP address"), "{posture}");
        let (kept, posture) = page("client_ip = \"kept\"");
        assert!(kept.contains("PostHog stores it with the events"), "{kept}");
        assert!(
            posture.contains("PostHog does store the IP address"),
            "{posture}"
        );
        for (unstated, posture) in [page(""), page("# client_ip left out")] {
            assert!(
                unstated.contains("its authors do not state here: assume it is stored"),
                "{unstated}"
            );
            assert!(
                posture.contains("PostHog may store the IP address"),
                "{posture}"
            );
        }
        assert!(!kept.contains("discard it") && !discarded.contains("assume"));
    }

    /// Two programs of one workspace left at the default `docs_path`: the second neither
    /// overwrites nor compares with the first one's page, and says what to do.
    #[test]
    fn another_programs_page_is_left_alone() {
        static EVENTS: [&EventMeta; 1] = [&SHOWN];
        let dir = tempfile::tempdir().unwrap();
        let options = options(dir.path());
        run(&options, &schema(&EVENTS)).unwrap();
        let weather_page = std::fs::read_to_string(&options.output).unwrap();
        let rain = Product {
            name: "rain",
            command: "rain",
            ..WEATHER
        };
        let rain = Schema {
            allowlist: AllowlistSource {
                crate_name: "rain",
                ..schema(&EVENTS).allowlist
            },
            ..schema_of(rain, &EVENTS)
        };
        for check in [false, true] {
            let options = Options {
                check,
                ..options.clone()
            };
            let error = run(&options, &rain).unwrap_err();
            assert!(
                matches!(&error, GenDocsError::OtherProgram { documents, program, .. }
                    if documents == "weather" && program == "rain"),
                "{error:?}"
            );
            assert!(
                error.to_string().contains("is the telemetry page of `weather`, not of `rain`: give each program its own `docs_path`"),
                "{error}"
            );
        }
        assert_eq!(
            std::fs::read_to_string(&options.output).unwrap(),
            weather_page
        );

        // the same crate under a new command: its own page, rewritten
        let renamed = Product {
            command: "weather2",
            ..WEATHER
        };
        assert_eq!(
            run(&options, &schema_of(renamed, &EVENTS)).unwrap(),
            Outcome::Written
        );
    }

    #[test]
    fn the_page_goes_under_the_workspace_root() {
        let dir = tempfile::tempdir().unwrap();
        let member = dir.path().join("crates/events");
        std::fs::create_dir_all(&member).unwrap();
        std::fs::write(member.join("Cargo.toml"), "[package]\nname = \"events\"\n").unwrap();
        assert_eq!(workspace_root(&member), member);
        std::fs::write(
            dir.path().join("Cargo.toml"),
            "[workspace]\nmembers = [\"crates/*\"]\n",
        )
        .unwrap();
        assert_eq!(workspace_root(&member), dir.path());

        // a workspace of its own inside another (excluded from it): the nearest, as cargo
        let inner = dir.path().join("tools/gen");
        std::fs::create_dir_all(inner.join("src")).unwrap();
        std::fs::write(
            dir.path().join("Cargo.toml"),
            "[workspace]\nmembers = [\"crates/*\"]\nexclude = [\"tools\"]\n",
        )
        .unwrap();
        std::fs::write(
            inner.join("Cargo.toml"),
            "[package]\nname = \"gen\"\nversion = \"0.1.0\"\nedition = \"2024\"\n\n[workspace]\n",
        )
        .unwrap();
        std::fs::write(inner.join("src/main.rs"), "fn main() {}\n").unwrap();
        assert_eq!(workspace_root(&inner), inner);
        assert_eq!(workspace_root(&member), dir.path());

        // and cargo, asked where it can be (`cargo test` sets `CARGO`), agrees
        if std::env::var_os("CARGO").is_some() {
            let canonical = |p: &Path| p.canonicalize().unwrap();
            let found = cargo_workspace_root(&inner).map(|p| canonical(&p));
            assert_eq!(found, Some(canonical(&inner)));
        }
    }
}

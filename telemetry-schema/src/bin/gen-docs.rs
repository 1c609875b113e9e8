//! `cargo run --bin gen-docs [-- --check] [--output PATH] [--allow-kind-change NAME]...`
//!
//! Writes `docs/telemetry.md` from the events compiled into this binary and the allowlist; with
//! `--check`, exits non-zero and prints the difference when the committed page is stale.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use telemetry_schema::docs::{self, Options, Outcome};

const USAGE: &str = "usage: gen-docs [--check] [--output PATH] [--allow-kind-change NAME]...";

fn main() -> ExitCode {
    let options = match parse_args(std::env::args().skip(1)) {
        Ok(options) => options,
        Err(message) => {
            eprintln!("gen-docs: {message}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let allowlist = match telemetry_allowlist::parse(
        Path::new(telemetry_schema::ALLOWLIST_PATH),
        telemetry_schema::ALLOWLIST_TOML,
    ) {
        Ok(allowlist) => allowlist,
        Err(errors) => {
            eprintln!("gen-docs: {errors}");
            return ExitCode::FAILURE;
        }
    };
    let events = telemetry_core::catalog();
    let common: Vec<&str> = telemetry_core::COMMON_PROPERTIES
        .iter()
        .map(|p| p.name)
        .collect();
    match docs::run(&options, &docs::PRODUCT, &events, &allowlist, &common) {
        Ok(Outcome::Written) => {
            println!(
                "gen-docs: wrote {} ({} events)",
                options.output.display(),
                events.len()
            );
            ExitCode::SUCCESS
        }
        Ok(Outcome::Unchanged) => {
            println!(
                "gen-docs: {} is up to date ({} events)",
                options.output.display(),
                events.len()
            );
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("gen-docs: {error}");
            ExitCode::FAILURE
        }
    }
}

fn parse_args(args: impl Iterator<Item = String>) -> Result<Options, String> {
    let mut options = Options {
        output: default_output(),
        ..Options::default()
    };
    let mut args = args.peekable();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--check" => options.check = true,
            "--output" => {
                options.output = PathBuf::from(args.next().ok_or("--output needs a path")?)
            }
            "--allow-kind-change" => options.allow_kind_change.push(
                args.next()
                    .ok_or("--allow-kind-change needs a property name")?,
            ),
            "-h" | "--help" => return Err("help".into()),
            other => return Err(format!("unknown argument `{other}`")),
        }
    }
    Ok(options)
}

/// `docs/telemetry.md` at the workspace root.
fn default_output() -> PathBuf {
    let schema_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    schema_dir
        .parent()
        .unwrap_or(schema_dir)
        .join(docs::PRODUCT.docs_path)
}

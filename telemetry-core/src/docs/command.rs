//! What `gen-docs` does: render the page, refuse what must not be documented silently, and
//! write it or compare it with the committed one.

use std::fmt;
use std::path::{Path, PathBuf};

use similar::TextDiff;
use telemetry_allowlist::AllowlistErrors;

use super::guard::{KindChange, duplicate_events, kind_changes, recorded_kinds};
use super::render::render;
use crate::schema::Schema;

/// How `gen-docs` was asked to run.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Compare with the file instead of writing it.
    pub check: bool,
    /// The page to write or check.
    pub output: PathBuf,
    /// Properties whose kind change has been reviewed.
    pub allow_kind_change: Vec<String>,
}

/// What happened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The page was written (it was missing or different).
    Written,
    /// The page was already current.
    Unchanged,
}

/// Why `gen-docs` refused or failed.
#[derive(Debug)]
#[non_exhaustive]
pub enum GenDocsError {
    /// The allowlist is broken (the build would have failed too).
    Allowlist(AllowlistErrors),
    /// The schema lists no event: there would be nothing to document.
    NoEvents {
        /// The crate that declares the schema.
        crate_name: String,
    },
    /// Two types declare events with the same name.
    DuplicateEvents(Vec<(String, Vec<String>)>),
    /// Properties changed kind since the committed page.
    KindChanged(Vec<KindChange>),
    /// The page at the output is another program's (several programs in one workspace left
    /// at the default `docs_path`): it is neither overwritten nor compared.
    OtherProgram {
        /// The page.
        path: PathBuf,
        /// The program it documents.
        documents: String,
        /// The program `gen-docs` runs for.
        program: String,
    },
    /// `--check`: there is no page where it was looked for (never generated, or `gen-docs`
    /// was run outside `cargo run` from another directory).
    Missing {
        /// Where it was looked for.
        path: PathBuf,
    },
    /// `--check`: the committed page is not what would be generated.
    Stale {
        /// The page checked.
        path: PathBuf,
        /// A unified diff from the committed page to the generated one.
        diff: String,
    },
    /// Reading or writing the page failed.
    Io {
        /// The page.
        path: PathBuf,
        /// What failed.
        error: std::io::Error,
    },
}

impl fmt::Display for GenDocsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            GenDocsError::Allowlist(errors) => write!(f, "{errors}"),
            GenDocsError::NoEvents { crate_name } => write!(
                f,
                "the telemetry schema of `{crate_name}` lists no event: list every `#[telemetry_event]` struct the program records in its `telemetry_schema!`"
            ),
            GenDocsError::DuplicateEvents(duplicates) => {
                for (name, types) in duplicates {
                    writeln!(
                        f,
                        "event `{name}` is declared by more than one type: {}",
                        types.join(", ")
                    )?;
                }
                write!(
                    f,
                    "each event name must be declared once: rename or remove the others"
                )
            }
            GenDocsError::KindChanged(changes) => {
                for change in changes {
                    writeln!(
                        f,
                        "property `{}` was documented as `{}` and is now `{}`",
                        change.name, change.was, change.now
                    )?;
                }
                write!(
                    f,
                    "a property's kind is part of its meaning in PostHog (charts and filters built on it break silently): give the new kind a new property name, or after privacy review run `cargo run --bin gen-docs -- --allow-kind-change NAME`"
                )
            }
            GenDocsError::OtherProgram {
                path,
                documents,
                program,
            } => write!(
                f,
                "{} is the telemetry page of `{documents}`, not of `{program}`: give each program its own `docs_path` in its allowlist's [product] table (e.g. `docs_path = \"docs/{program}/telemetry.md\"`), or, if `{documents}` was this program's old name, delete the page and run gen-docs again",
                path.display()
            ),
            GenDocsError::Missing { path } => write!(
                f,
                "{} does not exist: run `cargo run --bin gen-docs` to write it and commit it (without `cargo run`, the page is looked for under the current directory unless `--output` says where)",
                path.display()
            ),
            GenDocsError::Stale { path, diff } => write!(
                f,
                "{} is out of date: run `cargo run --bin gen-docs` and commit the result\n{diff}",
                path.display()
            ),
            GenDocsError::Io { path, error } => write!(f, "{}: {error}", path.display()),
        }
    }
}

impl std::error::Error for GenDocsError {}

/// Renders the page for `schema` and writes or checks it as `options` say.
pub fn run(options: &Options, schema: &Schema) -> Result<Outcome, GenDocsError> {
    let source = schema.allowlist();
    let allowlist = telemetry_allowlist::parse(Path::new(source.path), source.text)
        .map_err(GenDocsError::Allowlist)?;
    if schema.events().is_empty() {
        return Err(GenDocsError::NoEvents {
            crate_name: source.crate_name.to_owned(),
        });
    }
    let duplicates = duplicate_events(schema.events());
    if !duplicates.is_empty() {
        return Err(GenDocsError::DuplicateEvents(duplicates));
    }

    let committed = read_existing(&options.output)?;
    let program = schema.product().command();
    if let Some((documents, crate_name)) = committed.as_deref().and_then(documented_program)
        && documents != program
        && crate_name != Some(schema.allowlist().crate_name)
    {
        return Err(GenDocsError::OtherProgram {
            path: options.output.clone(),
            documents: documents.to_owned(),
            program: program.to_owned(),
        });
    }
    let changes: Vec<KindChange> = kind_changes(
        &recorded_kinds(committed.as_deref().unwrap_or("")),
        &allowlist,
    )
    .into_iter()
    .filter(|c| !options.allow_kind_change.contains(&c.name))
    .collect();
    if !changes.is_empty() {
        return Err(GenDocsError::KindChanged(changes));
    }

    let page = render(schema, &allowlist);
    if committed.as_deref() == Some(page.as_str()) {
        return Ok(Outcome::Unchanged);
    }
    if options.check {
        let Some(old) = committed else {
            return Err(GenDocsError::Missing {
                path: options.output.clone(),
            });
        };
        let diff = TextDiff::from_lines(&old, &page)
            .unified_diff()
            .context_radius(2)
            .header("committed", "generated")
            .to_string();
        return Err(GenDocsError::Stale {
            path: options.output.clone(),
            diff,
        });
    }
    write(&options.output, &page)?;
    Ok(Outcome::Written)
}

/// The program a page documents, from its first line (`# Telemetry in `demo``), and the crate
/// that declares its schema, from the generated comment under it (`... of the `demo` crate`),
/// if the page has one. A page is another program's only when both differ: a program whose
/// command or crate was renamed still owns its page.
fn documented_program(page: &str) -> Option<(&str, Option<&str>)> {
    let mut lines = page.lines();
    let program = lines
        .next()?
        .strip_prefix("# Telemetry in `")?
        .strip_suffix('`')?;
    let crate_name = lines
        .find(|line| line.starts_with("<!-- Generated by"))
        .and_then(|line| line.split(" crate and ").next())
        .and_then(|head| head.rsplit(" of the `").next())
        .and_then(|name| name.strip_suffix('`'));
    Some((program, crate_name))
}

fn read_existing(path: &Path) -> Result<Option<String>, GenDocsError> {
    match std::fs::read_to_string(path) {
        Ok(text) => Ok(Some(text)),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(error) => Err(GenDocsError::Io {
            path: path.to_path_buf(),
            error,
        }),
    }
}

fn write(path: &Path, page: &str) -> Result<(), GenDocsError> {
    let io = |error| GenDocsError::Io {
        path: path.to_path_buf(),
        error,
    };
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(io)?;
    }
    std::fs::write(path, page).map_err(io)
}

//! The `telemetry` subcommand a host mounts in its own clap parser with one line, and runs
//! with one call (feature `clap`; a host with another parser reads the arguments with
//! [`TelemetryArgs::parse_from`]):
//!
#![cfg_attr(feature = "clap", doc = "```no_run")]
#![cfg_attr(not(feature = "clap"), doc = "```ignore")]
//! # mod schema {
//! # /// Sent when the program starts.
//! # #[telemetry_core::telemetry_event(name = "binary.startup")]
//! # pub struct BinaryStartup {}
//! # telemetry_core::telemetry_schema! {
//! #     /// Every event.
//! #     pub static SCHEMA = [BinaryStartup];
//! # }
//! # }
//! # use schema::SCHEMA;
//! use clap::{Parser, Subcommand};
//! use telemetry_core::cli::TelemetryArgs;
//!
//! #[derive(Parser)]
//! struct Cli {
//!     #[command(subcommand)]
//!     command: Command,
//! }
//!
//! #[derive(Subcommand)]
//! enum Command {
//!     // No doc comment: it would replace the subcommand's own help, which says how to opt out.
//!     Telemetry(TelemetryArgs),
//! }
//!
//! fn main() -> std::process::ExitCode {
//!     let telemetry = telemetry_core::TelemetryConfig::builder(&SCHEMA).start();
//!     let code = match Cli::parse().command {
//!         Command::Telemetry(args) => telemetry.run_command(&args),
//!     };
//!     std::process::ExitCode::from(u8::try_from(code).unwrap_or(1))
//! }
//! ```
//!
//! `on`, `off`, `status` (the default), `inspect [-n N] [--json]`, `catalog [--json]`, `clear`
//! and `policy`. The command's result goes to stdout, warnings and problems to stderr. The exit
//! code is 0, or 1 when the command could not do its job or found the telemetry files in a
//! state that needs fixing (it says what is wrong and how to fix it).

mod args;
mod catalog;
mod inspect;
mod json;
mod manage;
mod status;

use std::io::Write;

use crate::handle::Telemetry;

pub use args::ArgsError;
pub use json::pretty;

/// `<app> telemetry [COMMAND]`.
///
/// Its clap traits are written out rather than derived: the derive builds every argument in
/// line, once for parsing and once for updating, and that code (about 20 KB) is linked into
/// every host; a table read in a loop gives the same command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TelemetryArgs {
    /// What to do (default: status).
    pub command: Option<TelemetryCommand>,
}

/// The short help of `<app> telemetry`, naming the program once telemetry started (first
/// thing in `main`, before the host parses its arguments). A doc comment on the host's variant
/// replaces it and the long help, with it the ways to opt out: the recipe has none.
fn about() -> String {
    let program = crate::config::started_names().map_or("this program", |names| names.0);
    format!("See and change what anonymous usage data {program} records")
}

/// The long help of `<app> telemetry`, with the program's own names once telemetry started.
fn long_about() -> String {
    let ways = match crate::config::started_names() {
        Some((_, variable, project_file)) => format!(
            "Telemetry can also be turned off with DO_NOT_TRACK=1 or {variable}=0 in the \
             environment, or for a whole repository with a {project_file} file at its root."
        ),
        None => "Telemetry can also be turned off with DO_NOT_TRACK=1 in the environment; \
                 `telemetry status` names every setting that decides it."
            .to_owned(),
    };
    format!("{}.\n\n{ways}", about())
}

#[cfg(feature = "clap")]
impl clap::Args for TelemetryArgs {
    fn augment_args(cmd: clap::Command) -> clap::Command {
        <TelemetryCommand as clap::Subcommand>::augment_subcommands(cmd)
            .about(about())
            .long_about(long_about())
    }

    fn augment_args_for_update(cmd: clap::Command) -> clap::Command {
        Self::augment_args(cmd)
    }
}

#[cfg(feature = "clap")]
impl clap::FromArgMatches for TelemetryArgs {
    fn from_arg_matches(matches: &clap::ArgMatches) -> Result<Self, clap::Error> {
        Self::from_arg_matches_mut(&mut matches.clone())
    }

    fn from_arg_matches_mut(matches: &mut clap::ArgMatches) -> Result<Self, clap::Error> {
        let command = matches
            .subcommand_name()
            .is_some_and(<TelemetryCommand as clap::Subcommand>::has_subcommand)
            .then(|| <TelemetryCommand as clap::FromArgMatches>::from_arg_matches_mut(matches))
            .transpose()?;
        Ok(Self { command })
    }

    fn update_from_arg_matches(&mut self, matches: &clap::ArgMatches) -> Result<(), clap::Error> {
        self.update_from_arg_matches_mut(&mut matches.clone())
    }

    fn update_from_arg_matches_mut(
        &mut self,
        matches: &mut clap::ArgMatches,
    ) -> Result<(), clap::Error> {
        match &mut self.command {
            Some(command) => clap::FromArgMatches::update_from_arg_matches_mut(command, matches),
            None => {
                self.command = Some(
                    <TelemetryCommand as clap::FromArgMatches>::from_arg_matches_mut(matches)?,
                );
                Ok(())
            }
        }
    }
}

/// The `telemetry` subcommands.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum TelemetryCommand {
    /// Turn telemetry on (saved in your user config)
    On,
    /// Turn telemetry off (saved in your user config; the anonymous ID is kept, see `clear`)
    Off,
    /// Show whether telemetry is on, which setting decided, and what has been recorded
    Status {
        /// Print the status as JSON, for scripts
        json: bool,
    },
    /// Show the last recorded events, exactly as they are or will be sent (never sends)
    Inspect {
        /// How many events to show (`-n`, `--number`; default 10)
        number: usize,
        /// Print one JSON document, for scripts
        json: bool,
    },
    /// List every event and property this program can send, with descriptions
    Catalog {
        /// Print the catalog as JSON, for scripts
        json: bool,
    },
    /// Delete the anonymous ID and the recorded events (a new ID is made if telemetry stays on)
    Clear,
    /// Show where the telemetry policy is
    Policy,
}

/// Each subcommand: its name, its help, and the help of its `--json` flag if it has one
/// (`inspect` also takes `-n`).
const SUBCOMMANDS: [(&str, &str, Option<&str>); 7] = [
    ("on", "Turn telemetry on (saved in your user config)", None),
    (
        "off",
        "Turn telemetry off (saved in your user config; the anonymous ID is kept, see `clear`)",
        None,
    ),
    (
        "status",
        "Show whether telemetry is on, which setting decided, and what has been recorded",
        Some("Print the status as JSON, for scripts"),
    ),
    (
        "inspect",
        "Show the last recorded events, exactly as they are or will be sent (never sends)",
        Some("Print one JSON document, for scripts"),
    ),
    (
        "catalog",
        "List every event and property this program can send, with descriptions",
        Some("Print the catalog as JSON, for scripts"),
    ),
    (
        "clear",
        "Delete the anonymous ID and the recorded events (a new ID is made if telemetry stays on)",
        None,
    ),
    ("policy", "Show where the telemetry policy is", None),
];

#[cfg(feature = "clap")]
impl clap::Subcommand for TelemetryCommand {
    fn augment_subcommands(cmd: clap::Command) -> clap::Command {
        SUBCOMMANDS.iter().fold(cmd, |cmd, &(name, about, json)| {
            let mut sub = clap::Command::new(name).about(about);
            if name == "inspect" {
                sub = sub.arg(
                    clap::Arg::new("number")
                        .short('n')
                        .long("number")
                        .value_name("NUMBER")
                        .help("How many events to show")
                        .default_value("10")
                        .value_parser(clap::value_parser!(usize)),
                );
            }
            if let Some(help) = json {
                sub = sub.arg(
                    clap::Arg::new("json")
                        .long("json")
                        .help(help)
                        .action(clap::ArgAction::SetTrue),
                );
            }
            cmd.subcommand(sub)
        })
    }

    fn augment_subcommands_for_update(cmd: clap::Command) -> clap::Command {
        Self::augment_subcommands(cmd)
    }

    fn has_subcommand(name: &str) -> bool {
        SUBCOMMANDS.iter().any(|s| s.0 == name)
    }
}

#[cfg(feature = "clap")]
impl clap::FromArgMatches for TelemetryCommand {
    fn from_arg_matches(matches: &clap::ArgMatches) -> Result<Self, clap::Error> {
        Self::from_arg_matches_mut(&mut matches.clone())
    }

    fn from_arg_matches_mut(matches: &mut clap::ArgMatches) -> Result<Self, clap::Error> {
        use clap::error::ErrorKind;
        let Some((name, sub)) = matches.remove_subcommand() else {
            return Err(clap::Error::raw(
                ErrorKind::MissingSubcommand,
                "a subcommand is required but one was not provided",
            ));
        };
        // `--json` is set exactly when it was given on the command line (its default is
        // false). Reading where its value came from, unlike `get_flag`, instantiates no typed
        // lookup with a panic of its own. Only asked of the subcommands that define it.
        let json = takes_json(&name)
            && sub.value_source("json") == Some(clap::parser::ValueSource::CommandLine);
        // `try_get_one`: `get_one` adds a panic for a mistyped id, which this is not.
        let number = (name == "inspect")
            .then(|| sub.try_get_one::<usize>("number").ok().flatten().copied())
            .flatten();
        Self::named(&name, json, number).ok_or_else(|| {
            clap::Error::raw(
                ErrorKind::InvalidSubcommand,
                format!("the subcommand '{name}' wasn't recognized"),
            )
        })
    }

    fn update_from_arg_matches(&mut self, matches: &clap::ArgMatches) -> Result<(), clap::Error> {
        self.update_from_arg_matches_mut(&mut matches.clone())
    }

    fn update_from_arg_matches_mut(
        &mut self,
        matches: &mut clap::ArgMatches,
    ) -> Result<(), clap::Error> {
        // Every argument has a default, so parsing again gives what updating would.
        if matches.subcommand_name().is_some() {
            *self = Self::from_arg_matches_mut(matches)?;
        }
        Ok(())
    }
}

/// How many events `inspect` shows without `-n`.
const INSPECT_DEFAULT_NUMBER: usize = 10;

/// Whether the subcommand called `name` takes `--json`.
fn takes_json(name: &str) -> bool {
    SUBCOMMANDS.iter().any(|s| s.0 == name && s.2.is_some())
}

impl TelemetryCommand {
    /// The subcommand called `name`, with what was read for it (`json` and `number` only where
    /// it takes them): the clap impls and [`TelemetryArgs::parse_from`] build it here.
    fn named(name: &str, json: bool, number: Option<usize>) -> Option<Self> {
        Some(match name {
            "on" => Self::On,
            "off" => Self::Off,
            "status" => Self::Status { json },
            "inspect" => Self::Inspect {
                number: number.unwrap_or(INSPECT_DEFAULT_NUMBER),
                json,
            },
            "catalog" => Self::Catalog { json },
            "clear" => Self::Clear,
            "policy" => Self::Policy,
            _ => return None,
        })
    }

    /// The subcommand's name (`on`, `status`, ...), e.g. for a host's own command events.
    pub fn name(&self) -> &'static str {
        match self {
            TelemetryCommand::On => "on",
            TelemetryCommand::Off => "off",
            TelemetryCommand::Status { .. } => "status",
            TelemetryCommand::Inspect { .. } => "inspect",
            TelemetryCommand::Catalog { .. } => "catalog",
            TelemetryCommand::Clear => "clear",
            TelemetryCommand::Policy => "policy",
        }
    }
}

impl TelemetryArgs {
    /// The subcommand that will run (`status` when none was given).
    pub fn command(&self) -> TelemetryCommand {
        self.command
            .clone()
            .unwrap_or(TelemetryCommand::Status { json: false })
    }

    /// The name of the subcommand that will run.
    pub fn subcommand_name(&self) -> &'static str {
        self.command().name()
    }
}

/// Runs `args` against `telemetry`, writing the result to `out` and warnings to `err`;
/// returns the exit code.
pub fn run_with(
    telemetry: &Telemetry,
    args: &TelemetryArgs,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> i32 {
    let mut io = Io { out, err };
    let code = match args.command() {
        TelemetryCommand::On => manage::on(telemetry, &mut io),
        TelemetryCommand::Off => manage::off(telemetry, &mut io),
        TelemetryCommand::Status { json } => status::run(telemetry, json, &mut io),
        TelemetryCommand::Inspect { number, json } => {
            inspect::run(telemetry, number, json, &mut io)
        }
        TelemetryCommand::Catalog { json } => catalog::run(telemetry, json, &mut io),
        TelemetryCommand::Clear => manage::clear(telemetry, &mut io),
        TelemetryCommand::Policy => manage::policy(telemetry, &mut io),
    };
    let _ = io.out.flush();
    let _ = io.err.flush();
    code
}

impl Telemetry {
    /// Runs the `telemetry` subcommand on stdout and stderr; returns the exit code.
    pub fn run_command(&self, args: &TelemetryArgs) -> i32 {
        run_with(
            self,
            args,
            &mut std::io::stdout().lock(),
            &mut std::io::stderr().lock(),
        )
    }
}

/// Where a subcommand writes.
struct Io<'a> {
    out: &'a mut dyn Write,
    err: &'a mut dyn Write,
}

impl Io<'_> {
    fn out(&mut self, text: &str) {
        let _ = self.out.write_all(text.as_bytes());
    }

    /// Formatted text on stdout: `io.out_fmt(format_args!(..))` is one call, where
    /// `io.out(&format!(..))` also builds, copies and drops a `String`.
    fn out_fmt(&mut self, text: std::fmt::Arguments<'_>) {
        let _ = self.out.write_fmt(text);
    }

    /// A problem and how to fix it, on stderr.
    fn problem(&mut self, problem: &str, fix: &str) {
        self.problem_fmt(format_args!("{problem}"), fix);
    }

    /// [`Io::problem`] with a formatted problem, written without a `String` in between.
    fn problem_fmt(&mut self, problem: std::fmt::Arguments<'_>, fix: &str) {
        let _ = write!(self.err, "error: {problem}\n  fix: {fix}\n");
    }

    /// A failure of the queue, `lead` (`could not ...: `, or nothing) and the error, with its
    /// fix. Cold and shared by `inspect`, `off` and `clear`: inlined, each report is ~500
    /// bytes (the error's message, its fix and its drop).
    #[cold]
    fn queue_problem(&mut self, lead: &str, error: crate::queue::QueueError) {
        self.problem_fmt(format_args!("{lead}{error}"), &error.fix_hint());
    }

    /// A warning on stderr.
    fn warn(&mut self, text: &str) {
        let _ = writeln!(self.err, "warning: {text}");
    }
}

/// The program's name for messages, with a fallback for a refused configuration (borrowed:
/// every subcommand asks, and an owned copy is an allocation and a drop in each).
fn command_name(telemetry: &Telemetry) -> &str {
    telemetry
        .config()
        .map_or("<program>", crate::config::TelemetryConfig::command_name)
}

/// Under the opt-out policy, while nothing but the policy decides and the first-run notice has
/// not yet made recording start: when it starts. `status` and `clear` say it instead of "to
/// enable", since the user need not do anything for it to start.
fn opt_out_starts(telemetry: &Telemetry) -> Option<&'static str> {
    let consent = telemetry.consent()?;
    let crate::consent::ConsentSource::Default {
        policy: crate::ConsentPolicy::OptOut,
        notice_shown: false,
    } = consent.source
    else {
        return None;
    };
    // shown by this run, or by one started with it (its marker is too recent to count yet)
    let marker_written = telemetry
        .state_dir()
        .is_some_and(|dir| crate::fsutil::check_regular(&dir.notice_marker()).unwrap_or(false));
    Some(if telemetry.notice_shown() || marker_written {
        "Recording starts with the next run (the first-run notice was just shown)"
    } else {
        "Recording starts once the first-run notice has been shown on a terminal"
    })
}

/// The home directory, for writing paths with `~`.
fn home(telemetry: &Telemetry) -> Option<std::path::PathBuf> {
    telemetry.config().and_then(|c| c.environment().home_dir())
}

/// Reports a refused configuration; returns whether there was one.
///
/// Not inlined: five subcommands call it first, and a copy of the report in each is ~200
/// bytes of code every host carries.
#[inline(never)]
fn report_config_error(telemetry: &Telemetry, io: &mut Io<'_>) -> bool {
    if let Some(error) = telemetry.config_error() {
        io.problem_fmt(
            format_args!("this program's telemetry configuration is invalid: {error}"),
            "this is a bug in the program, not in your settings; telemetry stays off",
        );
        return true;
    }
    false
}

#[cfg(test)]
mod tests;

#[cfg(all(test, feature = "clap"))]
mod args_tests {
    use clap::{CommandFactory, FromArgMatches, Parser};

    use super::{TelemetryArgs, TelemetryCommand};

    #[derive(Parser, Debug)]
    struct Host {
        #[command(subcommand)]
        command: HostCommand,
    }

    #[derive(clap::Subcommand, Debug)]
    enum HostCommand {
        Telemetry(TelemetryArgs),
    }

    fn parse(argv: &[&str]) -> Result<TelemetryArgs, clap::Error> {
        let full = ["demo", "telemetry"].iter().chain(argv);
        Host::try_parse_from(full).map(|host| {
            let HostCommand::Telemetry(args) = host.command;
            args
        })
    }

    #[test]
    fn the_written_out_parser_is_a_valid_clap_command() {
        Host::command().debug_assert();
    }

    #[test]
    fn every_subcommand_and_its_defaults() {
        let cases = [
            (vec![], None),
            (vec!["on"], Some(TelemetryCommand::On)),
            (vec!["off"], Some(TelemetryCommand::Off)),
            (
                vec!["status"],
                Some(TelemetryCommand::Status { json: false }),
            ),
            (
                vec!["status", "--json"],
                Some(TelemetryCommand::Status { json: true }),
            ),
            (
                vec!["inspect"],
                Some(TelemetryCommand::Inspect {
                    number: 10,
                    json: false,
                }),
            ),
            (
                vec!["inspect", "--json", "--number", "2"],
                Some(TelemetryCommand::Inspect {
                    number: 2,
                    json: true,
                }),
            ),
            (
                vec!["catalog", "--json"],
                Some(TelemetryCommand::Catalog { json: true }),
            ),
            (vec!["clear"], Some(TelemetryCommand::Clear)),
            (vec!["policy"], Some(TelemetryCommand::Policy)),
        ];
        for (argv, command) in cases {
            let args = parse(&argv).unwrap();
            assert_eq!(args.command, command, "{argv:?}");
            if let Some(command) = command {
                assert_eq!(args.subcommand_name(), argv[0]);
                assert_eq!(command.name(), argv[0]);
            }
        }
        for wrong in [
            &["bogus"][..],
            &["on", "--json"],
            &["inspect", "-n", "x"],
            &["status", "--json", "--json"],
        ] {
            assert!(parse(wrong).is_err(), "{wrong:?}");
        }
    }

    #[test]
    fn updating_takes_the_new_subcommand() {
        let mut args = parse(&["status"]).unwrap();
        let matches = Host::command()
            .try_get_matches_from(["demo", "telemetry", "inspect", "-n", "4"])
            .unwrap();
        let (_, telemetry) = matches.subcommand().unwrap();
        args.update_from_arg_matches(telemetry).unwrap();
        assert_eq!(
            args.command,
            Some(TelemetryCommand::Inspect {
                number: 4,
                json: false
            })
        );
    }
}

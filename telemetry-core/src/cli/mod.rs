//! The `telemetry` subcommand a host mounts in its own clap parser with one line, and runs
//! with one call:
//!
//! ```no_run
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
//!     /// See and change what usage data this program records.
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

mod catalog;
mod inspect;
mod json;
mod manage;
mod status;

use std::io::Write;

use crate::handle::Telemetry;

pub use json::pretty;

/// `<app> telemetry [COMMAND]`.
#[derive(Debug, Clone, PartialEq, Eq, clap::Args)]
#[command(
    about = "See and change what anonymous usage data this program records",
    long_about = long_about()
)]
pub struct TelemetryArgs {
    /// What to do (default: status).
    #[command(subcommand)]
    pub command: Option<TelemetryCommand>,
}

/// The long help of `<app> telemetry`, with the program's own names once telemetry started
/// (first thing in `main`, before the host parses its arguments).
fn long_about() -> String {
    let ways = match crate::config::started_names() {
        Some((variable, project_file)) => format!(
            "Telemetry can also be turned off with DO_NOT_TRACK=1 or {variable}=0 in the \
             environment, or for a whole repository with a {project_file} file at its root."
        ),
        None => "Telemetry can also be turned off with DO_NOT_TRACK=1 in the environment; \
                 `telemetry status` names every setting that decides it."
            .to_owned(),
    };
    format!("See and change what anonymous usage data this program records.\n\n{ways}")
}

/// The `telemetry` subcommands.
#[derive(Debug, Clone, PartialEq, Eq, clap::Subcommand)]
pub enum TelemetryCommand {
    /// Turn telemetry on (saved in your user config)
    On,
    /// Turn telemetry off (saved in your user config; the anonymous ID is kept, see `clear`)
    Off,
    /// Show whether telemetry is on, which setting decided, and what has been recorded
    Status {
        /// Print the status as JSON, for scripts
        #[arg(long)]
        json: bool,
    },
    /// Show the last recorded events, exactly as they are or will be sent (never sends)
    Inspect {
        /// How many events to show
        #[arg(short = 'n', long = "number", default_value_t = 10)]
        number: usize,
        /// Print one JSON document, for scripts
        #[arg(long)]
        json: bool,
    },
    /// List every event and property this program can send, with descriptions
    Catalog {
        /// Print the catalog as JSON, for scripts
        #[arg(long)]
        json: bool,
    },
    /// Delete the anonymous ID and the recorded events (a new ID is made if telemetry stays on)
    Clear,
    /// Show where the telemetry policy is
    Policy,
}

impl TelemetryCommand {
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

    fn err(&mut self, text: &str) {
        let _ = self.err.write_all(text.as_bytes());
    }

    /// A problem and how to fix it, on stderr.
    fn problem(&mut self, problem: &str, fix: &str) {
        self.err(&format!("error: {problem}\n  fix: {fix}\n"));
    }

    /// A warning on stderr.
    fn warn(&mut self, text: &str) {
        self.err(&format!("warning: {text}\n"));
    }
}

/// The program's name for messages, with a fallback for a refused configuration.
fn command_name(telemetry: &Telemetry) -> String {
    telemetry
        .config()
        .map_or_else(|| "<program>".to_string(), |c| c.command_name().to_string())
}

/// The home directory, for writing paths with `~`.
fn home(telemetry: &Telemetry) -> Option<std::path::PathBuf> {
    telemetry.config().and_then(|c| c.environment().home_dir())
}

/// Reports a refused configuration; returns whether there was one.
fn report_config_error(telemetry: &Telemetry, io: &mut Io<'_>) -> bool {
    if let Some(error) = telemetry.config_error() {
        io.problem(
            &format!("this program's telemetry configuration is invalid: {error}"),
            "this is a bug in the program, not in your settings; telemetry stays off",
        );
        return true;
    }
    false
}

#[cfg(test)]
mod tests;

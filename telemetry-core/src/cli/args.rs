//! The `telemetry` subcommand's arguments read without clap, and its help as text: for a host
//! whose own parser is hand-written (lexopt, pico-args, argh, ...). The same command line as
//! the clap impls in `mod.rs` (a test holds them to it), from the same table.

use std::ffi::OsString;
use std::fmt::Write as _;

use super::{SUBCOMMANDS, TelemetryArgs, TelemetryCommand, about, long_about, takes_json};

/// What [`TelemetryArgs::parse_from`] found instead of a command to run.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ArgsError {
    /// `-h`, `--help` or `help` was given: print [`TelemetryArgs::help`] for the subcommand
    /// named (`None`: the whole command) to stdout and exit with 0.
    #[error("help was asked for")]
    HelpRequested {
        /// The subcommand whose help was asked for.
        subcommand: Option<&'static str>,
    },
    /// A word where a subcommand is expected (first, or after `help`) is none.
    #[error(
        "unrecognized subcommand '{0}' (expected on, off, status, inspect, catalog, clear or policy)"
    )]
    UnknownSubcommand(String),
    /// An argument the subcommand does not take, or one given twice.
    #[error("unexpected argument '{argument}' for 'telemetry {subcommand}'")]
    UnexpectedArgument {
        /// The subcommand.
        subcommand: &'static str,
        /// The argument, as given (lossily, if it was not UTF-8).
        argument: String,
    },
    /// `-n` / `--number` without a whole number after it.
    #[error("invalid value '{0}' for '--number <NUMBER>': a whole number is expected")]
    InvalidNumber(String),
}

impl TelemetryArgs {
    /// Reads the arguments that follow `telemetry` on the command line (not the program's
    /// name, nor `telemetry` itself), as the clap impls read them (a test holds the two to the
    /// same command lines; short flags bundled with `-h`, `-hn3`, are not read): no argument
    /// runs `status`;
    /// `inspect` takes `-n N` (`-nN`, `--number N`, `--number=N`; 10 when left out) and
    /// `--json`; `status` and `catalog` take `--json`; `-h`, `--help` and `help` ask for
    /// [help](Self::help).
    ///
    /// ```
    /// use telemetry_core::cli::{ArgsError, TelemetryArgs, TelemetryCommand};
    ///
    /// let args = TelemetryArgs::parse_from(["inspect", "-n", "3"]).unwrap();
    /// assert_eq!(args.command(), TelemetryCommand::Inspect { number: 3, json: false });
    /// assert_eq!(TelemetryArgs::parse_from(Vec::<String>::new()).unwrap().subcommand_name(), "status");
    /// assert_eq!(
    ///     TelemetryArgs::parse_from(["--help"]),
    ///     Err(ArgsError::HelpRequested { subcommand: None })
    /// );
    /// ```
    pub fn parse_from<I>(args: I) -> Result<Self, ArgsError>
    where
        I: IntoIterator,
        I::Item: Into<OsString>,
    {
        let mut args = args
            .into_iter()
            .map(|arg| arg.into().to_string_lossy().into_owned());
        let Some(first) = args.next() else {
            return Ok(Self { command: None });
        };
        let name = match first.as_str() {
            "-h" | "--help" => return Err(ArgsError::HelpRequested { subcommand: None }),
            // `--` ends the options; nothing may follow it (there are no positionals)
            "--" => {
                return match args.next() {
                    None => Ok(Self { command: None }),
                    Some(extra) => Err(ArgsError::UnknownSubcommand(extra)),
                };
            }
            "help" => {
                // `help`, `help <subcommand>` (`help help`: the whole command's): anything
                // else is refused, as clap does
                let subcommand = match args.next() {
                    None => None,
                    Some(word) if word == "help" => None,
                    Some(word) => {
                        Some(subcommand_named(&word).ok_or(ArgsError::UnknownSubcommand(word))?)
                    }
                };
                if let Some(extra) = args.next() {
                    return Err(ArgsError::UnknownSubcommand(extra));
                }
                return Err(ArgsError::HelpRequested { subcommand });
            }
            other => subcommand_named(other).ok_or(ArgsError::UnknownSubcommand(first.clone()))?,
        };
        let takes_json = takes_json(name);
        let (mut json, mut number) = (false, None);
        let unexpected = |argument: String| ArgsError::UnexpectedArgument {
            subcommand: name,
            argument,
        };
        while let Some(arg) = args.next() {
            match arg.as_str() {
                "--" => match args.next() {
                    None => break,
                    Some(extra) => return Err(unexpected(extra)),
                },
                "-h" | "--help" => {
                    return Err(ArgsError::HelpRequested {
                        subcommand: Some(name),
                    });
                }
                "--json" if takes_json && !json => json = true,
                _ if name == "inspect" && number.is_none() => {
                    let value = match arg.as_str() {
                        "-n" | "--number" => args.next().unwrap_or_default(),
                        _ => match arg.strip_prefix("--number=").or_else(|| {
                            let short = arg.strip_prefix("-n")?;
                            Some(short.strip_prefix('=').unwrap_or(short))
                        }) {
                            Some(value) => value.to_owned(),
                            None => return Err(unexpected(arg)),
                        },
                    };
                    number = Some(value.parse().map_err(|_| ArgsError::InvalidNumber(value))?);
                }
                _ => return Err(unexpected(arg)),
            }
        }
        let command = TelemetryCommand::named(name, json, number);
        // `name` is one of the table's (`subcommand_named`)
        Ok(Self { command })
    }

    /// The help of `<program> telemetry` (`subcommand`: `None`), or of one of its subcommands
    /// (`Some("inspect")`), for a host that parses its arguments without clap: what clap's
    /// help says (its layout is simpler), with the program's own names and ways to opt out
    /// once telemetry has started.
    pub fn help(subcommand: Option<&str>) -> String {
        let program = crate::config::started_names().map_or("<program>", |names| names.0);
        let mut text = String::new();
        match subcommand.and_then(|s| SUBCOMMANDS.iter().find(|entry| entry.0 == s)) {
            None => {
                let _ = write!(
                    text,
                    "{}\n\nUsage: {program} telemetry [COMMAND]\n\nCommands:\n",
                    about()
                );
                for (name, about, _) in SUBCOMMANDS {
                    let _ = writeln!(text, "  {name:<9}{about}");
                }
                // the ways to opt out: what the long help adds to the short one
                let long = long_about();
                let ways = long.split_once("\n\n").map_or("", |(_, ways)| ways);
                let _ = write!(text, "\nWith no command: status.\n\n{ways}\n");
            }
            Some(&(name, about, json)) => {
                let number = if name == "inspect" {
                    " [-n NUMBER]"
                } else {
                    ""
                };
                let flag = if json.is_some() { " [--json]" } else { "" };
                let _ = write!(
                    text,
                    "{about}\n\nUsage: {program} telemetry {name}{number}{flag}\n"
                );
                if name == "inspect" {
                    text.push_str(
                        "\n  -n, --number <NUMBER>  How many events to show [default: 10]",
                    );
                }
                if let Some(help) = json {
                    let _ = write!(text, "\n      --json             {help}");
                }
                if number.len() + flag.len() > 0 {
                    text.push('\n');
                }
            }
        }
        text
    }
}

/// The subcommand called `name`, with the table's `'static` name.
fn subcommand_named(name: &str) -> Option<&'static str> {
    SUBCOMMANDS.iter().find(|s| s.0 == name).map(|s| s.0)
}

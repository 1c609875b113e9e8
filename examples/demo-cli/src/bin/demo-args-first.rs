//! `demo-args-first`: a host wired **wrongly on purpose**, not part of the demo. It parses its
//! arguments before it starts telemetry, which the README's recipe says not to do: the detached
//! sender is this program run again with a flag only `Telemetry::start` understands, so here
//! clap refuses the flag and the sender exits before it sends anything. The end-to-end tests
//! (`tests/flush_policy.rs`) run it to show that `status` then says so, and how to fix it.
//!
//! It is the demo's product (same schema, same `~/.demo`, same variables), with one command:
//! `demo-args-first run`, which records `binary.startup`.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

use clap::{Parser, Subcommand};
use telemetry_core::TelemetryConfig;
use telemetry_schema::BinaryStartup;

#[derive(Debug, Parser)]
#[command(name = "demo-args-first")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Record one event
    Run,
}

fn main() {
    // The mistake: in the sender process, this exits (clap: unexpected argument).
    let Cli {
        command: Command::Run,
    } = Cli::parse();
    let telemetry = TelemetryConfig::builder(&telemetry_schema::SCHEMA)
        .version(env!("CARGO_PKG_VERSION"))
        .start();
    telemetry.track(&BinaryStartup {});
}

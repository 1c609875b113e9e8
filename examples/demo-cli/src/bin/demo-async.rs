//! `demo-async`: the demo's product with an async `main` (`#[tokio::main]`), as a tool built on
//! tokio writes it, starting telemetry first thing as the README says. Not part of the demo:
//! the end-to-end tests (`tests/delivery.rs`) run it to show that its events are delivered. Its
//! sender is this program run again, so `Telemetry::start` runs inside the tokio runtime there
//! too, where a blocking HTTP client cannot be built or dropped.
//!
//! One command: `demo-async run`, which records `binary.startup`.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

use clap::{Parser, Subcommand};
use telemetry_core::TelemetryConfig;
use telemetry_schema::BinaryStartup;

#[derive(Debug, Parser)]
#[command(name = "demo-async")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Record one event
    Run,
}

#[tokio::main]
async fn main() {
    let telemetry = TelemetryConfig::builder(&telemetry_schema::SCHEMA)
        .version(env!("CARGO_PKG_VERSION"))
        .start();
    let Cli {
        command: Command::Run,
    } = Cli::parse();
    // some async work of the host's own
    tokio::task::yield_now().await;
    telemetry.track(&BinaryStartup {});
}

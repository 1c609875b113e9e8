//! `demo-async`: the demo's product with an async `main` (`#[tokio::main]`), as a tool built on
//! tokio writes it, starting telemetry first thing as the README says. Not part of the demo:
//! the end-to-end tests (`tests/delivery.rs`) run it to show that its events are delivered. Its
//! sender is this program run again, so `Telemetry::start` runs inside the tokio runtime there
//! too, where a blocking HTTP client cannot be built or dropped.
//!
//! Two commands: `demo-async run`, which records `binary.startup`; `demo-async serve`, a
//! server that records `mcp.server_started`, prints `serving`, and runs until its client closes
//! stdin or SIGTERM (or Ctrl-C) comes. On stdin's end it returns from `main`. On a signal it
//! calls `Telemetry::shutdown` on the handle it shares (an `Arc`) and ends with
//! `std::process::exit`, as many servers do: exit skips destructors, so the shutdown is what
//! hands the recorded events to a sender.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

use std::sync::Arc;

use clap::{Parser, Subcommand};
use telemetry_core::{Telemetry, TelemetryConfig};
use telemetry_schema::{BinaryStartup, McpServerStarted, Transport};

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
    /// Serve until stopped with SIGTERM or Ctrl-C
    Serve,
}

#[tokio::main]
async fn main() {
    let telemetry = Arc::new(
        TelemetryConfig::builder(&telemetry_schema::SCHEMA)
            .version(env!("CARGO_PKG_VERSION"))
            .start(),
    );
    match Cli::parse().command {
        Command::Run => {
            // some async work of the host's own
            tokio::task::yield_now().await;
            telemetry.track(&BinaryStartup {});
        }
        Command::Serve => serve(telemetry).await,
    }
}

/// Serves until its client closes stdin (then `main` returns) or a stop signal comes (then the
/// signal's task ends telemetry and exits).
async fn serve(telemetry: Arc<Telemetry>) {
    telemetry.track(&McpServerStarted {
        transport: Transport::Stdio,
        tool_count: 0,
    });
    // registered before the server says it serves: a signal sent after that cannot find the
    // default action (which would end the process at once) in place
    let stop = StopSignals::register();
    // the handle is shared with the server's tasks, as a server's state is
    tokio::spawn(stopped(Arc::clone(&telemetry), stop));
    println!("serving");
    // the requests would come on stdin; returning from `main` drops the runtime, its tasks and
    // their `Arc`s, so the last one drops the handle, which starts the sender
    let _ = tokio::task::spawn_blocking(|| {
        std::io::copy(&mut std::io::stdin().lock(), &mut std::io::sink())
    })
    .await;
}

/// SIGTERM, SIGINT and SIGHUP, their handlers in place from [`register`](Self::register) on.
struct StopSignals {
    #[cfg(unix)]
    signals: Option<(
        tokio::signal::unix::Signal,
        tokio::signal::unix::Signal,
        tokio::signal::unix::Signal,
    )>,
}

impl StopSignals {
    fn register() -> Self {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            let signals = signal(SignalKind::terminate())
                .and_then(|terminate| {
                    let interrupt = signal(SignalKind::interrupt())?;
                    // a server started in a terminal that is then closed
                    Ok((terminate, interrupt, signal(SignalKind::hangup())?))
                })
                .ok();
            Self { signals }
        }
        #[cfg(not(unix))]
        {
            Self {}
        }
    }

    /// Waits for one of them.
    async fn recv(self) {
        #[cfg(unix)]
        if let Some((mut terminate, mut interrupt, mut hangup)) = self.signals {
            tokio::select! {
                _ = terminate.recv() => {}
                _ = interrupt.recv() => {}
                _ = hangup.recv() => {}
            }
            return;
        }
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// Waits for SIGTERM or Ctrl-C, then shuts telemetry down (through the shared handle) and exits.
async fn stopped(telemetry: Arc<Telemetry>, stop: StopSignals) {
    stop.recv().await;
    telemetry.shutdown();
    std::process::exit(0);
}

//! `posthog-direct`: the wall-time benchmark's anchor (`benches/wall_time.rs`), not part of
//! the demo. It is what `demo run assist` would be if the host used posthog-rs directly,
//! without this library: parse the same arguments, capture the same 5 events with the same
//! kind of properties as they happen (`Client::capture`, posthog-rs's background worker), and
//! flush at exit (`Client::shutdown`: one final attempt, bounded by the request timeout). No
//! consent, no stored identity, no durable queue: nothing of what the library adds but the
//! sending.
//!
//! Where it sends: `DEMO_TELEMETRY_DEV_ENDPOINT` with `DEMO_TELEMETRY_DEV_KEY`, the variables
//! the benchmark's sandboxes already set for demo (without them it does the work and sends
//! nothing). The client keeps posthog-rs's defaults but the request timeout, set to the
//! library's own sender's (5 s; posthog-rs's default of 30 s would make every run against a
//! hanging server take 30 s). posthog-rs decorates the first event with the OS name and
//! version from `os_info::get()`, which on Linux runs `lsb_release -a` (a child process):
//! that is part of what a host using posthog-rs directly pays, so it is kept.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

use std::process::ExitCode;
use std::time::Instant;

use clap::{Parser, Subcommand};
use posthog_rs::{ClientOptionsBuilder, Event};

/// The request timeout, the same as telemetry-core's sender (`limits::REQUEST_TIMEOUT`).
const REQUEST_TIMEOUT_SECONDS: u64 = 5;

#[derive(Debug, Parser)]
#[command(
    name = "posthog-direct",
    version,
    about = "demo run, sending with posthog-rs directly"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run a workflow
    Run {
        /// The workflow's name
        workflow: String,
        /// How many nodes the workflow has
        #[arg(long, default_value_t = 3)]
        nodes: u32,
    },
}

/// Sets a property (a value that cannot be serialised is left out, as a host would).
macro_rules! prop {
    ($event:ident, $key:expr, $value:expr) => {
        if let Err(error) = $event.insert_prop($key, $value) {
            eprintln!("posthog-direct: property {}: {error}", $key);
        }
    };
}

fn main() -> ExitCode {
    let started = Instant::now();
    let endpoint = std::env::var("DEMO_TELEMETRY_DEV_ENDPOINT").unwrap_or_default();
    let key = std::env::var("DEMO_TELEMETRY_DEV_KEY").unwrap_or_default();
    let options = ClientOptionsBuilder::default()
        .api_key(key)
        .host(endpoint)
        .request_timeout_seconds(REQUEST_TIMEOUT_SECONDS)
        .build();
    let client = match options {
        Ok(options) => posthog_rs::client(options),
        Err(error) => {
            eprintln!("posthog-direct: {error}");
            return ExitCode::from(2);
        }
    };

    // one anonymous id for the process (a host would keep one in a file)
    let mut startup = Event::new_anon("binary.startup");
    let distinct_id = startup.distinct_id().to_string();
    prop!(startup, "app_version", env!("CARGO_PKG_VERSION"));
    client.capture(startup);

    let Command::Run { workflow, nodes } = Cli::parse().command;
    let event = |name: &str| {
        let mut event = Event::new(name.to_string(), distinct_id.clone());
        prop!(event, "$process_person_profile", false);
        event
    };
    let mut invoked = event("cli.command_invoked");
    prop!(invoked, "command", "run");
    client.capture(invoked);

    let run_started = Instant::now();
    let mut run = event("workflow.run_started");
    prop!(run, "workflow_name", &workflow);
    prop!(run, "node_count", nodes);
    prop!(run, "provider", "claude");
    prop!(run, "is_cli_invoked", true);
    client.capture(run);
    println!("Running workflow {workflow} ({nodes} nodes on claude)...");

    let mut completed = event("workflow.run_completed");
    prop!(completed, "workflow_name", &workflow);
    prop!(completed, "duration_ms", millis(run_started));
    prop!(completed, "node_count", nodes);
    prop!(completed, "nodes_completed", nodes);
    client.capture(completed);
    println!("Workflow {workflow} completed: {nodes} of {nodes} nodes.");

    let mut command = event("cli.command_completed");
    prop!(command, "command", "run");
    prop!(command, "exit_code", 0);
    prop!(command, "duration_ms", millis(started));
    client.capture(command);

    // flush at exit: what was captured is sent before the process ends
    client.shutdown();
    ExitCode::SUCCESS
}

fn millis(since: Instant) -> u64 {
    u64::try_from(since.elapsed().as_millis()).unwrap_or(u64::MAX)
}

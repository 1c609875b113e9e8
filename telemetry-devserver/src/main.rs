//! `telemetry-devserver`: a local PostHog capture endpoint that prints every
//! event it accepts, for watching what a CLI sends (and trying how it copes
//! with a failing server).
#![forbid(unsafe_code)]

use std::io::{BufRead, Write};
use std::process::ExitCode;
use std::sync::Arc;

use clap::Parser;
use telemetry_devserver::{Activity, DevServer, DevServerOptions, Mode, RecordedRequest};

/// A PostHog-compatible capture server on 127.0.0.1 that prints each accepted
/// event as pretty JSON on stdout (one line per request on stderr).
///
/// Point your CLI's PostHog host at the printed URL. Type a mode and Enter
/// while it runs to change how it answers.
#[derive(Debug, Parser)]
#[command(name = "telemetry-devserver", version)]
struct Args {
    /// Port on 127.0.0.1 (0 picks a free one).
    #[arg(long, default_value_t = 8765)]
    port: u16,

    /// How to answer capture requests: ok, 503 (or any status), 429 or
    /// 429:SECS (with Retry-After), 400, 401, 413, hang, close, slow:500ms.
    #[arg(long, default_value = "ok")]
    mode: Mode,

    /// Apply --mode to this many requests only, then answer normally.
    #[arg(long)]
    times: Option<u64>,

    /// Print one line per request on stderr only, not the events.
    #[arg(long)]
    quiet: bool,
}

fn main() -> ExitCode {
    let args = Args::parse();
    let options = DevServerOptions::default().port(args.port);
    let server = match DevServer::start(options) {
        Ok(server) => Arc::new(server),
        Err(e) => {
            eprintln!("telemetry-devserver: {e}");
            return ExitCode::FAILURE;
        }
    };
    match args.times {
        Some(times) => server.set_mode_for(args.mode.clone(), times),
        None => server.set_mode(args.mode.clone()),
    }
    let activity = server.subscribe();

    eprintln!("telemetry-devserver listening on {}", server.url());
    eprintln!("  set your PostHog host to {}", server.url());
    eprintln!(
        "  mode: {} (type a new mode and Enter to change it; Ctrl-C to stop)",
        server.mode()
    );

    let control = Arc::clone(&server);
    // Detached: a thread blocked on stdin must not keep the process alive.
    let _ = std::thread::Builder::new()
        .name("stdin-modes".into())
        .spawn(move || read_modes(&control));

    for notice in activity {
        match notice {
            Activity::Request(request) => eprintln!("{}", summary(&request)),
            Activity::Event(event) if !args.quiet => {
                let mut out = std::io::stdout().lock();
                let text = serde_json::to_string_pretty(&event.raw).unwrap_or_default();
                if writeln!(out, "{text}").and_then(|()| out.flush()).is_err() {
                    break;
                }
            }
            Activity::Event(_) => {}
        }
    }
    ExitCode::SUCCESS
}

fn read_modes(server: &DevServer) {
    for line in std::io::stdin().lock().lines() {
        let Ok(line) = line else { return };
        if line.trim().is_empty() {
            continue;
        }
        match line.parse::<Mode>() {
            Ok(mode) => {
                server.set_mode(mode);
                eprintln!("mode: {}", server.mode());
            }
            Err(e) => eprintln!("{e}"),
        }
    }
}

fn summary(request: &RecordedRequest) -> String {
    let status = request
        .status
        .map_or_else(|| "no response".to_string(), |status| status.to_string());
    let mut line = format!("{} {} -> {status}", request.method, request.path);
    if request.accepted_events > 0 {
        line.push_str(&format!(" ({} events)", request.accepted_events));
    }
    if request.mode != Mode::Ok {
        line.push_str(&format!(" [mode {}]", request.mode));
    }
    if let Some(error) = &request.error {
        line.push_str(&format!(": {error}"));
    }
    line
}

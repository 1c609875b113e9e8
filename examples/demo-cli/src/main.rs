//! `demo`: a small command-line tool wired to telemetry the way a real one would be.
//!
//! It starts telemetry first thing in `main` (the detached sender is a process of this binary
//! that `start` turns into the sender before anything else runs), records `binary.startup`,
//! `cli.command_invoked` and `cli.command_completed` around every command, the workflow, setup
//! and server events inside them, aliases the anonymous id on `login` and rotates it on
//! `logout`, and mounts `demo telemetry ...`. The end-to-end tests drive it as a real process.
//!
//! `login` takes whatever the user types, as a real tool's login may take an e-mail address:
//! demo does not filter it, so the end-to-end tests show the library's own guard. Telemetry sends
//! only a keyed hash of an account id, and links nothing at all for a value shaped like an e-mail
//! address, a URL or a path (`demo login alice@example.com` logs in, and events stay anonymous).
//!
//! Build-time settings (all optional): `DEMO_POSTHOG_KEY` (empty: nothing can ever be sent),
//! `DEMO_POSTHOG_HOST` (`eu`, `us` or a URL), `DEMO_GIT_COMMIT`.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod credentials;
mod workflow;

use std::io::BufRead;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, Subcommand, ValueEnum};
use telemetry_core::cli::TelemetryArgs;
use telemetry_core::{Telemetry, TelemetryConfig};
use telemetry_schema::{
    BinaryStartup, CommandCompleted, CommandInvoked, CommandName, InstallMethod, McpServerStarted,
    Provider, SetupCompleted, SubcommandName, Transport, UncaughtError,
};

use credentials::Credentials;

/// The PostHog project key, embedded at build time; empty unless the build sets it.
const POSTHOG_KEY: &str = match option_env!("DEMO_POSTHOG_KEY") {
    Some(key) => key,
    None => "",
};

/// Where events go, set at build time (`eu` by default).
const POSTHOG_HOST: &str = match option_env!("DEMO_POSTHOG_HOST") {
    Some(host) => host,
    None => "eu",
};

/// The commit the build was made from.
const GIT_COMMIT: &str = match option_env!("DEMO_GIT_COMMIT") {
    Some(commit) => commit,
    None => "unknown",
};

#[derive(Debug, Parser)]
#[command(
    name = "demo",
    version,
    about = "A demo tool with opt-in, anonymous telemetry"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run a workflow
    Run(workflow::RunArgs),
    /// Log in as a principal (an account id)
    Login {
        /// The account id (telemetry sends only a keyed hash of it, and nothing for an e-mail
        /// address)
        principal: String,
    },
    /// Log out
    Logout,
    /// Serve tools over MCP until stdin closes
    Serve {
        /// Answer one request, then stop
        #[arg(long)]
        once: bool,
        /// Serve for this many seconds, then stop (stdin closing does not stop it)
        #[arg(long = "for", value_name = "SECONDS")]
        for_secs: Option<u64>,
        /// How to talk to clients
        #[arg(long, value_enum, default_value_t = TransportArg::Stdio)]
        transport: TransportArg,
    },
    /// Finish setting up demo
    Setup {
        /// How demo was installed
        #[arg(long, value_enum, default_value_t = InstallArg::Cargo)]
        install_method: InstallArg,
        /// The default assistant
        #[arg(long, value_enum, default_value_t = workflow::ProviderArg::Claude)]
        assistant: workflow::ProviderArg,
    },
    // No doc comment: it would replace the subcommand's own help, which says how to opt out.
    Telemetry(TelemetryArgs),
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum TransportArg {
    Stdio,
    Http,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum InstallArg {
    Homebrew,
    Curl,
    Cargo,
    Source,
}

/// Errors of demo's commands.
#[derive(Debug, thiserror::Error)]
enum DemoError {
    /// A workflow failed.
    #[error(transparent)]
    Workflow(#[from] workflow::WorkflowError),
    /// The credentials could not be saved or removed.
    #[error(transparent)]
    Credentials(#[from] credentials::CredentialsError),
}

impl DemoError {
    fn exit_code(&self) -> i32 {
        match self {
            DemoError::Workflow(_) => 1,
            DemoError::Credentials(_) => 3,
        }
    }
}

const TOOLS: &[&str] = &["run", "login", "setup"];

/// How often `serve` delivers recorded events from its own thread.
const SERVE_DELIVERY_INTERVAL: Duration = Duration::from_secs(5);

fn telemetry_start() -> Telemetry {
    TelemetryConfig::builder(&telemetry_schema::SCHEMA)
        .version(env!("CARGO_PKG_VERSION"))
        .git_commit(GIT_COMMIT)
        .project_key(POSTHOG_KEY)
        .host_str(POSTHOG_HOST)
        .start()
}

fn main() -> ExitCode {
    // First thing: in the detached sender process, this sends and exits.
    let telemetry = telemetry_start();
    // Lazy aliasing: a user already logged in (by this or another tool) is linked before
    // anything is recorded under their account.
    let credentials = Credentials::from_env();
    let principal = credentials.as_ref().and_then(Credentials::principal);
    if let Some(principal) = &principal
        && let Err(refused) = telemetry.link(principal)
    {
        not_linked(&refused);
    }
    telemetry.track(&BinaryStartup {});

    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => {
            let _ = error.print();
            return exit(error.exit_code());
        }
    };

    let (command, subcommand) = names(&cli.command);
    telemetry.track(&CommandInvoked {
        command: CommandName::sanitize(command),
        subcommand: subcommand.map(SubcommandName::sanitize),
    });
    let timer = telemetry.time_command(|outcome| CommandCompleted {
        command: CommandName::sanitize(command),
        subcommand: subcommand.map(SubcommandName::sanitize),
        exit_code: outcome.exit_code,
        duration_ms: outcome.duration,
        error_class: outcome.error_class,
    });

    let logout = matches!(cli.command, Command::Logout);
    let logged_in = principal.is_some();
    match execute(&telemetry, credentials.as_ref(), logged_in, cli.command) {
        Ok(code) => {
            timer.finish(code, None);
            if logout {
                // the logout's own event went out under the principal; now rotate
                telemetry.unlink();
            }
            exit(code)
        }
        Err(error) => {
            eprintln!("error: {error}");
            let code = error.exit_code();
            if let DemoError::Credentials(inner) = &error {
                telemetry.track(&UncaughtError {
                    error_class: telemetry_core::ErrorClass::of(inner),
                    location: telemetry_core::code_location!(),
                });
            }
            timer.fail(code, &error);
            exit(code)
        }
    }
}

/// Answers each request line on stdin with the tool list, until stdin closes (or after one
/// with `once`).
fn answer_requests(once: bool) {
    for line in std::io::stdin().lock().lines() {
        let Ok(_request) = line else { break };
        println!("{{\"tools\":[\"{}\"]}}", TOOLS.join("\",\""));
        if once {
            break;
        }
    }
}

fn exit(code: i32) -> ExitCode {
    ExitCode::from(u8::try_from(code).unwrap_or(1))
}

/// The command's and subcommand's names, as the allowlist knows them.
fn names(command: &Command) -> (&'static str, Option<&'static str>) {
    match command {
        Command::Run(_) => ("run", None),
        Command::Login { .. } => ("login", None),
        Command::Logout => ("logout", None),
        Command::Serve { .. } => ("serve", None),
        Command::Setup { .. } => ("setup", None),
        Command::Telemetry(args) => ("telemetry", Some(args.subcommand_name())),
    }
}

/// Runs `command`; `logged_in` says whether the credentials named a principal at start-up
/// (read once, in `main`).
fn execute(
    telemetry: &Telemetry,
    credentials: Option<&Credentials>,
    logged_in: bool,
    command: Command,
) -> Result<i32, DemoError> {
    match command {
        Command::Run(args) => {
            workflow::run(telemetry, &args)?;
            Ok(0)
        }
        Command::Login { principal } => {
            let Some(credentials) = credentials else {
                return Err(credentials::CredentialsError::NoHome.into());
            };
            credentials.save(&principal)?;
            println!("Logged in as {principal}.");
            if let Err(refused) = telemetry.link(&principal) {
                not_linked(&refused);
            }
            Ok(0)
        }
        Command::Logout => {
            match credentials {
                Some(credentials) if logged_in => {
                    credentials.remove()?;
                    println!("Logged out.");
                }
                _ => println!("You are not logged in."),
            }
            Ok(0)
        }
        Command::Serve {
            once,
            for_secs,
            transport,
        } => {
            let transport = match transport {
                TransportArg::Stdio => Transport::Stdio,
                TransportArg::Http => Transport::Http,
            };
            telemetry.track(&McpServerStarted {
                transport,
                tool_count: TOOLS.len() as u32,
            });
            // a server has a sender started while it runs rather than waiting for its exit
            telemetry.deliver_in_background(SERVE_DELIVERY_INTERVAL);
            eprintln!(
                "demo MCP server: {} tools on {}",
                TOOLS.len(),
                transport.as_str()
            );
            match for_secs {
                None => answer_requests(once),
                Some(secs) => {
                    let (done, finished) = std::sync::mpsc::channel::<()>();
                    std::thread::spawn(move || {
                        answer_requests(once);
                        let _ = done.send(());
                    });
                    let limit = Duration::from_secs(secs);
                    if once {
                        let _ = finished.recv_timeout(limit);
                    } else {
                        // stdin closing does not stop a timed server
                        std::thread::sleep(limit);
                    }
                }
            }
            Ok(0)
        }
        Command::Setup {
            install_method,
            assistant,
        } => {
            let install_method = match install_method {
                InstallArg::Homebrew => InstallMethod::Homebrew,
                InstallArg::Curl => InstallMethod::Curl,
                InstallArg::Cargo => InstallMethod::Cargo,
                InstallArg::Source => InstallMethod::Source,
            };
            let default_assistant: Provider = assistant.into();
            telemetry.track(&SetupCompleted {
                install_method,
                default_assistant,
            });
            println!(
                "Setup complete: default assistant {}.",
                default_assistant.as_str()
            );
            Ok(0)
        }
        Command::Telemetry(args) => Ok(telemetry.run_command(&args)),
    }
}

/// Says why telemetry is not linked to the account (never the id itself): demo accepts any
/// login name, telemetry only an opaque account id.
fn not_linked(refused: &telemetry_core::PrincipalError) {
    eprintln!("note: usage data stays anonymous, not linked to this account: {refused}");
}

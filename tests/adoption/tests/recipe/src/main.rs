use std::process::ExitCode;

use clap::{Parser, Subcommand};
use telemetry_core::TelemetryConfig;
use telemetry_core::cli::TelemetryArgs;
use weather::{CommandCompleted, ForecastShown, SCHEMA, Units};

/// Tells the weather.
#[derive(Parser)]
#[command(name = "weather")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Show the forecast
    Forecast {
        /// How many days
        #[arg(long, default_value_t = 3)]
        days: u32,
        /// Which units
        #[arg(long, value_enum, default_value_t = Units::Metric)]
        units: Units,
    },
    // No doc comment: it would replace the subcommand's own help, which says how to opt out.
    Telemetry(TelemetryArgs),
}

fn main() -> ExitCode {
    // First thing in `main`: the detached sender is a process of this binary.
    let telemetry = TelemetryConfig::builder(&SCHEMA)
        .version(env!("CARGO_PKG_VERSION"))
        .project_key(option_env!("WEATHER_POSTHOG_KEY").unwrap_or(""))
        .start();
    let code = match Cli::parse().command {
        Command::Forecast { days, units } => {
            let timer = telemetry.time_command(|outcome| CommandCompleted {
                exit_code: outcome.exit_code,
                duration_ms: outcome.duration,
            });
            println!("{days} days of sunshine ({units:?})");
            telemetry.track(&ForecastShown {
                forecast_days: days,
                units,
            });
            timer.succeed();
            0
        }
        Command::Telemetry(args) => telemetry.run_command(&args),
    };
    ExitCode::from(u8::try_from(code).unwrap_or(1))
}

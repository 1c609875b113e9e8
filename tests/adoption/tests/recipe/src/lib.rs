//! weather's telemetry events, checked against `allowlist.toml` when this crate compiles.

use std::time::Duration;

use telemetry_core::{telemetry_enum, telemetry_event, telemetry_schema};

/// The units a forecast is shown in.
#[telemetry_enum(property = "units")]
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Units {
    /// Celsius and kilometres.
    Metric,
    /// Fahrenheit and miles.
    Imperial,
}

/// Sent when a forecast is shown.
#[telemetry_event(name = "forecast.shown")]
pub struct ForecastShown {
    /// How many days it covered.
    pub forecast_days: u32,
    /// The units it was shown in.
    pub units: Units,
}

/// Sent when a command finishes.
#[telemetry_event(name = "cli.command_completed")]
pub struct CommandCompleted {
    /// Its exit code.
    pub exit_code: i32,
    /// How long it ran.
    pub duration_ms: Duration,
}

telemetry_schema! {
    /// Every event weather can send.
    pub static SCHEMA = [ForecastShown, CommandCompleted];
}

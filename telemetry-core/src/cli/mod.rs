//! The `telemetry` subcommand.

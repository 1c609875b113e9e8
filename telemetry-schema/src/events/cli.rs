//! Events about the program and its commands.

use std::time::Duration;

use telemetry_core::{ErrorClass, telemetry_event};

use crate::values::{CommandName, SubcommandName};

/// Sent when the program starts (it carries only the common properties).
#[telemetry_event(name = "binary.startup")]
#[derive(Debug, Clone, Default)]
pub struct BinaryStartup {}

/// Sent when a command starts, before it does any work.
#[telemetry_event(name = "cli.command_invoked")]
#[derive(Debug, Clone)]
pub struct CommandInvoked {
    /// The command.
    pub command: CommandName,
    /// Its subcommand, if it has one.
    pub subcommand: Option<SubcommandName>,
}

/// Sent when a command finishes, successfully or not.
#[telemetry_event(name = "cli.command_completed")]
#[derive(Debug, Clone)]
pub struct CommandCompleted {
    /// The command.
    pub command: CommandName,
    /// Its subcommand, if it has one.
    pub subcommand: Option<SubcommandName>,
    /// The exit code it finished with.
    pub exit_code: i32,
    /// How long it ran.
    pub duration_ms: Duration,
    /// The class of the error it failed with, if it failed.
    pub error_class: Option<ErrorClass>,
}

//! The product's events, by area.

mod cli;
mod errors;
mod server;
mod setup;
mod workflow;

pub use cli::{BinaryStartup, CommandCompleted, CommandInvoked};
pub use errors::UncaughtError;
pub use server::McpServerStarted;
pub use setup::SetupCompleted;
pub use workflow::{NodeFailed, RunCompleted, RunFailed, RunStarted};

//! Value types of the enum and bucketed properties, and the sanitizers for names.
//!
//! A bucketed name is sent as itself only when the allowlist lists it (the bundled workflows,
//! the program's own commands); any other name, such as a workflow the user wrote, is sent as
//! `user-defined`. Build one with `sanitize`: `WorkflowName::sanitize(name)`.

use telemetry_core::{telemetry_bucket, telemetry_enum};

/// A top-level command of the program.
#[telemetry_bucket(property = "command")]
pub struct CommandName;

/// A subcommand of the program.
#[telemetry_bucket(property = "subcommand")]
pub struct SubcommandName;

/// A workflow: bundled ones by name, the user's own as `user-defined`.
#[telemetry_bucket(property = "workflow_name")]
pub struct WorkflowName;

/// An AI provider.
#[telemetry_enum(property = "provider")]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Provider {
    /// Anthropic's Claude.
    Claude,
    /// OpenAI's Codex.
    Codex,
    /// A model running on the user's machine.
    Local,
}

/// A kind of workflow node.
#[telemetry_enum(property = "node_type")]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NodeType {
    /// Sends a prompt to a provider.
    Prompt,
    /// Runs one of the program's commands.
    Command,
    /// Runs a shell script.
    Bash,
    /// Repeats its body.
    Loop,
    /// Waits for a person's approval.
    Approval,
}

/// Whether a failure is worth retrying.
#[telemetry_enum(property = "error_classification")]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorClassification {
    /// May succeed if retried.
    Transient,
    /// Will not succeed if retried.
    Fatal,
    /// The provider's credit ran out.
    CreditExhausted,
}

/// How the program was installed.
#[telemetry_enum(property = "install_method")]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InstallMethod {
    /// `brew install`.
    Homebrew,
    /// The install script.
    Curl,
    /// `cargo install`.
    Cargo,
    /// Built from a source checkout.
    Source,
}

/// How a server talks to its clients.
#[telemetry_enum(property = "transport")]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    /// Standard input and output.
    Stdio,
    /// HTTP.
    Http,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bundled_names_are_kept_and_others_bucketed() {
        assert_eq!(WorkflowName::sanitize("assist").as_str(), "assist");
        assert_eq!(
            WorkflowName::sanitize("my-internal-deploy").as_str(),
            "user-defined"
        );
        assert_eq!(WorkflowName::sanitize("Assist").as_str(), "user-defined");
        assert_eq!(WorkflowName::sanitize("").as_str(), "user-defined");
        assert_eq!(CommandName::sanitize("run").as_str(), "run");
        assert_eq!(CommandName::sanitize("/home/me/x").as_str(), "user-defined");
        assert_eq!(SubcommandName::sanitize("inspect").as_str(), "inspect");
    }

    #[test]
    fn enum_values_are_the_snake_case_variant_names() {
        assert_eq!(
            ErrorClassification::CreditExhausted.as_str(),
            "credit_exhausted"
        );
        assert_eq!(Provider::ALL.len(), 3);
    }
}

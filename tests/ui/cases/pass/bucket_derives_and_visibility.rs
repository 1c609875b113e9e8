//! A `#[telemetry_bucket]` keeps the derives that only read its name (repeating the ones it
//! generates is fine), a `cfg`, lint levels and its visibility (`pub(crate)`, `pub(super)`,
//! `pub(in path)`, private); `sanitize`, `KNOWN`, `USER_DEFINED` and `as_str` work from
//! anywhere the type is visible, and a `#[deny(missing_docs, unreachable_pub, unused_imports)]`
//! crate is fine (the host's `use serde::Serialize;` counts as used).

#![deny(missing_docs, unreachable_pub, unused_imports)]

use std::collections::BTreeSet;

use serde::Serialize;
use telemetry_core::{properties_json, telemetry_bucket, telemetry_event};

/// A top-level command of the program.
#[telemetry_bucket(property = "command")]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[allow(clippy::all)]
pub struct CommandName;

/// Never compiled.
#[telemetry_bucket(property = "command")]
#[cfg(any())]
#[derive(Default)]
pub struct NeverCompiled;

mod values {
    pub(crate) mod inner {
        use telemetry_core::telemetry_bucket;

        /// A subcommand, seen by `values`.
        #[telemetry_bucket(property = "subcommand")]
        #[derive(PartialOrd, serde::Serialize, PartialOrd)]
        pub(super) struct SubcommandName;

        /// A workflow, seen by the crate's `values`.
        #[telemetry_bucket(property = "workflow_name")]
        pub(in crate::values) struct WorkflowName;

        /// A workflow, seen here only.
        #[telemetry_bucket(property = "workflow_name")]
        struct Private;

        pub(crate) fn private() -> &'static str {
            Private::sanitize("assist").as_str()
        }
    }

    pub(crate) fn names() -> [&'static str; 3] {
        [
            inner::SubcommandName::sanitize("status").as_str(),
            inner::WorkflowName::USER_DEFINED.as_str(),
            inner::private(),
        ]
    }

    pub(crate) fn serialized() -> String {
        serde_json::to_string(&inner::SubcommandName::sanitize("my-own")).unwrap()
    }
}

/// Sent when a command finishes.
#[telemetry_event(name = "cli.command_completed")]
pub struct CommandCompleted {
    /// The command.
    pub command: CommandName,
    /// The exit code.
    pub exit_code: i32,
}

fn main() {
    let sorted: BTreeSet<CommandName> = ["serve", "run", "login"]
        .into_iter()
        .map(CommandName::sanitize)
        .collect();
    let names: Vec<&str> = sorted.iter().map(CommandName::as_str).collect();
    assert_eq!(names, ["login", "run", "serve"]);
    assert_eq!(CommandName::KNOWN.len(), 8);
    assert_eq!(CommandName::USER_DEFINED, CommandName::sanitize("/home/me"));
    assert_eq!(
        format!("{:?}", CommandName::sanitize("run")),
        r#"CommandName("run")"#
    );
    assert_eq!(
        serde_json::to_string(&CommandName::sanitize("run")).unwrap(),
        r#""run""#
    );
    assert_eq!(values::names(), ["status", "user-defined", "assist"]);
    assert_eq!(values::serialized(), r#""user-defined""#);
    let event = CommandCompleted {
        command: CommandName::sanitize("logout"),
        exit_code: 0,
    };
    assert_eq!(
        properties_json(&event),
        r#""command":"logout","exit_code":0"#
    );
}

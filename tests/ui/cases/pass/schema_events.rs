//! The reference schema's events and value types, used from another crate, are all in the
//! catalog and write what they declare.

use std::time::Duration;

use telemetry_core::{Event, PropertyWriter, catalog};
use telemetry_schema::{CommandCompleted, CommandName, SubcommandName};

fn main() {
    let event = CommandCompleted {
        command: CommandName::sanitize("telemetry"),
        subcommand: Some(SubcommandName::sanitize("my-typo")),
        exit_code: 1,
        duration_ms: Duration::from_millis(12),
        error_class: None,
    };
    let mut out = String::new();
    event.write_properties(&mut PropertyWriter::new(&mut out, true));
    assert_eq!(
        out,
        r#""command":"telemetry","subcommand":"user-defined","exit_code":1,"duration_ms":12"#
    );

    let names: Vec<&str> = catalog().iter().map(|meta| meta.name).collect();
    for name in [
        "binary.startup",
        "cli.command_invoked",
        "cli.command_completed",
        "workflow.run_started",
        "workflow.run_completed",
        "workflow.run_failed",
        "workflow.node_failed",
        "error.uncaught",
        "setup.completed",
        "mcp.server_started",
    ] {
        assert!(
            names.contains(&name),
            "{name} is not in the catalog: {names:?}"
        );
    }
    assert_eq!(<CommandCompleted as Event>::META.properties.len(), 5);
}

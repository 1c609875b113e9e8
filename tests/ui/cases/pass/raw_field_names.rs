//! A raw identifier names the same property as the plain one: `r#exit_code` is `exit_code`.

use telemetry_core::{Event, properties_json, telemetry_event};

/// Sent when a command finishes.
#[telemetry_event(name = "cli.command_completed")]
pub struct CommandCompleted {
    pub r#exit_code: i32,
    pub r#node_count: Option<u32>,
}

fn main() {
    let event = CommandCompleted {
        exit_code: 3,
        r#node_count: Some(1),
    };
    assert_eq!(properties_json(&event), r#""exit_code":3,"node_count":1"#);
    let names: Vec<&str> = <CommandCompleted as Event>::META
        .properties
        .iter()
        .map(|p| p.name)
        .collect();
    assert_eq!(names, ["exit_code", "node_count"]);
}

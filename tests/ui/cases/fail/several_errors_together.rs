use std::path::PathBuf;

use telemetry_core::telemetry_event;

// No doc comment, a bad name, an unknown property, free text, a path, a wrong kind and a
// duplicate: every one is reported by the same compile.
#[telemetry_event(name = "CommandCompleted")]
pub struct CommandCompleted {
    pub exit_code: u8,
    pub branch: String,
    pub command: String,
    pub workflow_name: PathBuf,
    pub node_count: i64,
    pub r#exit_code: i32,
}

fn main() {}

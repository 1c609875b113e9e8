//! An event cannot be declared by implementing the sealed `Event` by hand; its writer is private.

use telemetry_core::{Event, EventMeta};

pub struct CommandCompleted {
    pub cwd: String,
}

impl Event for CommandCompleted {
    const META: &'static EventMeta = &EventMeta {
        name: "cli.command_completed",
        description: "Sent when a command finishes.",
        properties: &[],
        type_name: "CommandCompleted",
    };

    fn write_properties(&self, out: &mut telemetry_core::PropertyWriter<'_>) {
        out.bucketed("cwd", &self.cwd);
    }
}

fn main() {}

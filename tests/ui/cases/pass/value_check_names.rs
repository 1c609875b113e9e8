//! The value check of an enum or bucketed field names the property through a type parameter of
//! the same name: a field's type that uses that name too (a module `provider`) still compiles,
//! and so does an event whose types come from another macro's input.

use telemetry_core::{properties_json, telemetry_event};

mod provider {
    pub use telemetry_schema::Provider;
    pub type Count = u32;
}

mod command {
    pub use telemetry_schema::CommandName;
}

/// Sent when a workflow run starts.
#[telemetry_event(name = "workflow.run_started")]
pub struct RunStarted {
    pub provider: provider::Provider,
    pub command: Option<command::CommandName>,
    pub node_count: provider::Count,
}

macro_rules! event {
    ($assistant:ty, $command:ty) => {
        /// Sent when setup finishes.
        #[telemetry_event(name = "setup.completed")]
        pub struct SetupCompleted {
            /// `Provider` is declared for `provider`, whose values are the same.
            pub default_assistant: $assistant,
            pub command: $command,
        }
    };
}

event!(telemetry_schema::Provider, telemetry_schema::CommandName);

fn main() {
    let event = RunStarted {
        provider: provider::Provider::Codex,
        command: Some(command::CommandName::sanitize("run")),
        node_count: 3,
    };
    assert_eq!(
        properties_json(&event),
        r#""provider":"codex","command":"run","node_count":3"#
    );
    let event = SetupCompleted {
        default_assistant: telemetry_schema::Provider::Local,
        command: telemetry_schema::CommandName::sanitize("my-deploy"),
    };
    assert_eq!(
        properties_json(&event),
        r#""default_assistant":"local","command":"user-defined""#
    );
}

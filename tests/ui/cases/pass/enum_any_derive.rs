//! A `#[telemetry_enum]` takes any derive, `Default` and `Deserialize` included: its values are
//! its variants, each an allowlisted value, so a derive can only produce one of those.

use telemetry_core::{properties_json, telemetry_enum, telemetry_event};

/// How a server talks to its clients.
#[telemetry_enum(property = "transport")]
#[derive(Debug, Default, Clone, Copy, PartialEq, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Transport {
    #[default]
    Stdio,
    Http,
}

/// Sent when a server starts.
#[telemetry_event(name = "mcp.server_started")]
pub struct ServerStarted {
    pub transport: Transport,
}

fn main() {
    let transport: Transport = serde_json::from_str(r#""http""#).unwrap();
    assert_eq!(transport, Transport::Http);
    assert!(serde_json::from_str::<Transport>(r#""/home/me""#).is_err());
    assert_eq!(
        properties_json(&ServerStarted {
            transport: Transport::default()
        }),
        r#""transport":"stdio""#
    );
}

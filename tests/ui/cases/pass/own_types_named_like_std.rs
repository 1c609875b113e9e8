//! The program's own `#[telemetry_enum]` and `#[telemetry_bucket]` types may be named like
//! well-known types (`Value`, `Map`, `Path`, `Url`, `PathBuf`, `Duration`), at the crate root
//! or in a module: only a path that says which well-known type it is (`serde_json::Value`,
//! `std::path::Path`) is refused by name.

use telemetry_core::{
    Event, PropertyKind, properties_json, telemetry_bucket, telemetry_enum, telemetry_event,
};

/// A level.
#[telemetry_enum(property = "value", allowlist = "allowlists/std_like_names.toml")]
#[derive(Debug, Clone, Copy)]
pub enum Value {
    Low,
    High,
}

/// The page opened.
#[telemetry_bucket(property = "url", allowlist = "allowlists/std_like_names.toml")]
pub struct Url;

/// A buffer.
#[telemetry_bucket(property = "path_buf", allowlist = "allowlists/std_like_names.toml")]
pub struct PathBuf;

pub mod kinds {
    use telemetry_core::{telemetry_bucket, telemetry_enum};

    /// The map played.
    #[telemetry_enum(property = "map", allowlist = "allowlists/std_like_names.toml")]
    #[derive(Debug, Clone, Copy)]
    pub enum Map {
        World,
        Dungeon,
    }

    /// The path taken.
    #[telemetry_bucket(property = "path", allowlist = "allowlists/std_like_names.toml")]
    pub struct Path;

    /// A level, in a module too.
    #[telemetry_enum(property = "value", allowlist = "allowlists/std_like_names.toml")]
    #[derive(Debug, Clone, Copy)]
    pub enum Value {
        Low,
        High,
    }

    /// How long it felt.
    #[telemetry_enum(property = "duration", allowlist = "allowlists/std_like_names.toml")]
    #[derive(Debug, Clone, Copy)]
    pub enum Duration {
        Short,
        Long,
    }
}

use kinds::Duration;

/// Sent when a trip ends.
#[telemetry_event(name = "test.trip_ended", allowlist = "allowlists/std_like_names.toml")]
pub struct TripEnded {
    pub value: Value,
    pub map: kinds::Map,
    pub path: kinds::Path,
    pub url: Option<Url>,
    pub path_buf: crate::PathBuf,
    pub duration: Duration,
}

/// Sent when a trip ends, with the module's `Value`.
#[telemetry_event(
    name = "test.trip_valued",
    allowlist = "allowlists/std_like_names.toml"
)]
pub struct TripValued {
    pub value: kinds::Value,
}

fn main() {
    let event = TripEnded {
        value: Value::High,
        map: kinds::Map::Dungeon,
        path: kinds::Path::sanitize("/home/me/secret"),
        url: Some(Url::sanitize("settings")),
        path_buf: PathBuf::sanitize("scratch"),
        duration: Duration::Short,
    };
    assert_eq!(
        properties_json(&event),
        r#""value":"high","map":"dungeon","path":"user-defined","url":"settings","path_buf":"scratch","duration":"short""#
    );
    assert_eq!(
        properties_json(&TripValued {
            value: kinds::Value::Low
        }),
        r#""value":"low""#
    );
    assert_eq!(
        <TripEnded as Event>::META.properties[2].kind,
        PropertyKind::Bucketed(&["main", "side"])
    );
}

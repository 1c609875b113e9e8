//! An event checked against an allowlist of its own (`allowlist = "..."`, relative to this file),
//! with one property of every kind and every integer width, present and absent.

use std::time::Duration;

use telemetry_core::{
    CodeLocation, ErrorClass, Event, PropertyKind, Sensitivity, code_location, properties_json,
    telemetry_bucket, telemetry_enum, telemetry_event,
};

/// A colour theme.
#[telemetry_enum(property = "color", allowlist = "allowlists/every_kind.toml")]
#[derive(Debug, Clone, Copy)]
pub enum Color {
    Red,
    Green,
    LightBlue,
}

/// A tool: bundled ones by name, the user's own as `user-defined`.
#[telemetry_bucket(property = "tool", allowlist = "allowlists/every_kind.toml")]
pub struct Tool;

/// Sent when everything happens at once.
#[telemetry_event(name = "test.every_kind", allowlist = "allowlists/every_kind.toml")]
pub struct EveryKind {
    pub enabled: bool,
    pub count_u8: u8,
    pub count_u16: u16,
    pub count_u32: u32,
    pub count_u64: u64,
    pub count_usize: usize,
    pub delta_i8: i8,
    pub delta_i16: i16,
    pub delta_i32: i32,
    pub delta_i64: i64,
    pub delta_isize: isize,
    pub elapsed_ms: Duration,
    pub color: Color,
    pub tool: Tool,
    pub failure: ErrorClass,
    pub origin: CodeLocation,
}

/// Sent when anything may or may not happen.
#[telemetry_event(
    name = "test.every_kind_optional",
    allowlist = "allowlists/every_kind.toml"
)]
pub struct EveryKindOptional {
    pub enabled: Option<bool>,
    pub count_u8: Option<u8>,
    pub count_u16: Option<u16>,
    pub count_u32: Option<u32>,
    pub count_u64: Option<u64>,
    pub count_usize: Option<usize>,
    pub delta_i8: Option<i8>,
    pub delta_i16: Option<i16>,
    pub delta_i32: Option<i32>,
    pub delta_i64: Option<i64>,
    pub delta_isize: Option<isize>,
    pub elapsed_ms: Option<Duration>,
    pub color: Option<Color>,
    pub tool: Option<Tool>,
    pub failure: Option<ErrorClass>,
    pub origin: Option<CodeLocation>,
}

#[derive(Debug)]
struct ConfigError;

fn main() {
    let every = EveryKind {
        enabled: true,
        count_u8: u8::MAX,
        count_u16: u16::MAX,
        count_u32: u32::MAX,
        count_u64: u64::MAX,
        count_usize: 7,
        delta_i8: i8::MIN,
        delta_i16: i16::MIN,
        delta_i32: -3,
        delta_i64: i64::MIN,
        delta_isize: -9,
        elapsed_ms: Duration::from_micros(2_999),
        color: Color::LightBlue,
        tool: Tool::sanitize("my-secret-tool"),
        failure: ErrorClass::of(&ConfigError),
        origin: code_location!(),
    };
    let origin = format!("\"origin\":\"{}\"", module_path!());
    assert_eq!(
        properties_json(&every),
        format!(
            "\"enabled\":true,\"count_u8\":255,\"count_u16\":65535,\"count_u32\":4294967295,\
             \"count_u64\":18446744073709551615,\"count_usize\":7,\"delta_i8\":-128,\
             \"delta_i16\":-32768,\"delta_i32\":-3,\"delta_i64\":-9223372036854775808,\
             \"delta_isize\":-9,\"elapsed_ms\":2,\"color\":\"light_blue\",\
             \"tool\":\"user-defined\",\"failure\":\"ConfigError\",{origin}"
        )
    );

    let none = EveryKindOptional {
        enabled: None,
        count_u8: None,
        count_u16: None,
        count_u32: None,
        count_u64: None,
        count_usize: None,
        delta_i8: None,
        delta_i16: None,
        delta_i32: None,
        delta_i64: None,
        delta_isize: None,
        elapsed_ms: None,
        color: None,
        tool: None,
        failure: None,
        origin: None,
    };
    assert_eq!(properties_json(&none), "");

    let some = EveryKindOptional {
        enabled: Some(false),
        count_u8: Some(1),
        count_u16: None,
        count_u32: Some(3),
        count_u64: None,
        count_usize: Some(5),
        delta_i8: None,
        delta_i16: Some(-2),
        delta_i32: None,
        delta_i64: Some(4),
        delta_isize: None,
        elapsed_ms: Some(Duration::from_secs(1)),
        color: Some(Color::Red),
        tool: Some(Tool::sanitize("power/drill")),
        failure: Some(ErrorClass::of_type::<std::fmt::Error>()),
        origin: None,
    };
    assert_eq!(
        properties_json(&some),
        "\"enabled\":false,\"count_u8\":1,\"count_u32\":3,\"count_usize\":5,\"delta_i16\":-2,\
         \"delta_i64\":4,\"elapsed_ms\":1000,\"color\":\"red\",\"tool\":\"power/drill\",\
         \"failure\":\"Error\""
    );

    let meta = <EveryKind as Event>::META;
    assert_eq!(meta.name, "test.every_kind");
    assert_eq!(meta.description, "Sent when everything happens at once.");
    assert_eq!(meta.type_name, "EveryKind");
    let kinds: Vec<(&str, PropertyKind)> =
        meta.properties.iter().map(|p| (p.name, p.kind)).collect();
    assert_eq!(
        kinds,
        [
            ("enabled", PropertyKind::Bool),
            ("count_u8", PropertyKind::Unsigned),
            ("count_u16", PropertyKind::Unsigned),
            ("count_u32", PropertyKind::Unsigned),
            ("count_u64", PropertyKind::Unsigned),
            ("count_usize", PropertyKind::Unsigned),
            ("delta_i8", PropertyKind::Signed),
            ("delta_i16", PropertyKind::Signed),
            ("delta_i32", PropertyKind::Signed),
            ("delta_i64", PropertyKind::Signed),
            ("delta_isize", PropertyKind::Signed),
            ("elapsed_ms", PropertyKind::DurationMs),
            ("color", PropertyKind::Enum(&["red", "green", "light_blue"])),
            ("tool", PropertyKind::Bucketed(&["hammer", "saw", "power/drill"])),
            ("failure", PropertyKind::ErrorClass),
            ("origin", PropertyKind::CodeLocation),
        ]
    );
    assert!(meta.properties.iter().all(|p| !p.optional));
    assert_eq!(meta.properties[0].sensitivity, Sensitivity::Interaction);
    assert_eq!(
        meta.properties[0].description,
        "Whether the feature was on."
    );
    assert_eq!(meta.properties[1].sensitivity, Sensitivity::Technical);

    let optional = <EveryKindOptional as Event>::META;
    assert_eq!(optional.properties.len(), 16);
    assert!(optional.properties.iter().all(|p| p.optional));
}

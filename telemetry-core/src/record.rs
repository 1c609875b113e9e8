//! Finished records: the exact JSON that is queued and sent to PostHog's `/batch/` endpoint.
//!
//! ```json
//! {"uuid":"0190…","event":"cli.command_completed","distinct_id":"7f3b…",
//!  "properties":{"command":"run",…,"app_version":"1.2.3",…,"$process_person_profile":false},
//!  "timestamp":"2026-04-08T10:00:00.000Z"}
//! ```
//!
//! The event's own properties come first, then the
//! [common properties](crate::COMMON_PROPERTIES), then `$geoip_disable: true` (every record:
//! PostHog must not look up where the sender's IP address is), then
//! `$process_person_profile: false` when the event is anonymous (personless). These two are
//! the only `$` properties a record carries, and they are sent as recorded: see
//! [`limits::KEPT_DOLLAR_PROPERTIES`](crate::limits::KEPT_DOLLAR_PROPERTIES). The uuid is a
//! UUID v7 (time-ordered, stable across retries so PostHog can de-duplicate), the timestamp UTC
//! with milliseconds.

use chrono::{DateTime, Utc};
use uuid::Uuid;

pub(crate) mod members;
mod text;
mod time;
mod uuid7;

pub use text::RecordText;
use time::UnixTime;
use uuid7::uuid_v7;

use crate::config::TelemetryConfig;
use crate::event::Event;
use crate::event::common::{ARCH_VALUES, GEOIP_DISABLE, OS_VALUES};
use crate::event::writer::{PropertyWriter, needs_escape, write_json_str};

pub use crate::event::common::ALIAS_EVENT;

/// The values of the common properties for this process, computed once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommonProperties {
    app_version: &'static str,
    app_git_commit: &'static str,
    build_kind: &'static str,
    os: &'static str,
    arch: &'static str,
    is_ci: bool,
    /// The members every event record ends with, written once: the common properties and
    /// `$geoip_disable: true` (`"app_version":"1.2.3",…,"$geoip_disable":true`).
    members: String,
}

impl CommonProperties {
    /// The values for `config` on this machine.
    pub fn new(config: &TelemetryConfig) -> Self {
        let mut common = Self {
            app_version: config.version(),
            app_git_commit: config.git_commit(),
            build_kind: config.build_kind().as_str(),
            os: bucket(std::env::consts::OS, OS_VALUES),
            arch: bucket(std::env::consts::ARCH, ARCH_VALUES),
            is_ci: crate::environment::ci::detect(config.environment()).is_some(),
            members: String::new(),
        };
        let mut members = String::with_capacity(256);
        let mut writer = PropertyWriter::new(&mut members, true);
        common.write(&mut writer);
        writer.runtime_bool(GEOIP_DISABLE, true);
        common.members = members;
        common
    }

    /// Writes them as JSON object members.
    pub fn write(&self, out: &mut PropertyWriter<'_>) {
        out.runtime_str("app_version", self.app_version);
        out.runtime_str("app_git_commit", self.app_git_commit);
        out.runtime_str("build_kind", self.build_kind);
        out.runtime_str("os", self.os);
        out.runtime_str("arch", self.arch);
        out.runtime_bool("is_ci", self.is_ci);
    }
}

fn bucket(value: &'static str, known: &'static [&'static str]) -> &'static str {
    known
        .iter()
        .copied()
        .find(|k| *k == value)
        .unwrap_or(crate::USER_DEFINED)
}

/// The current time as sent: RFC 3339, UTC, milliseconds (`2026-04-08T10:00:00.000Z`).
pub fn now_rfc3339() -> String {
    UnixTime::now().rfc3339().as_str().to_owned()
}

/// `time` as telemetry writes every timestamp: RFC 3339, UTC, milliseconds.
pub(crate) fn rfc3339(time: DateTime<Utc>) -> String {
    time::from_chrono(time).rfc3339().as_str().to_owned()
}

/// Reads an RFC 3339 timestamp (any offset), in UTC.
pub(crate) fn parse_rfc3339(text: &str) -> Result<DateTime<Utc>, chrono::ParseError> {
    DateTime::parse_from_rfc3339(text).map(|t| t.with_timezone(&Utc))
}

/// One finished record: the JSON object sent in PostHog's `batch` array.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// Its UUID v7.
    pub uuid: Uuid,
    /// The event's name.
    pub event: RecordText,
    /// Who it is attributed to.
    pub distinct_id: RecordText,
    /// When it happened (RFC 3339, UTC).
    pub timestamp: RecordText,
    /// The whole record, as compact JSON (no newline).
    pub json: String,
}

/// `$process_person_profile: false` as the last member of an anonymous event's properties
/// (written as one piece; a test checks it against the writer).
const PERSONLESS_MEMBER: &str = ",\"$process_person_profile\":false";

/// What a record's JSON holds besides its event name, distinct id (each unescaped) and
/// properties: `{"uuid":"…","event":"","distinct_id":"","properties":{},"timestamp":"…"}`.
const ENVELOPE_LEN: usize =
    r#"{"uuid":"","event":"","distinct_id":"","properties":{},"timestamp":""}"#.len() + 36 + 24;

/// Room for an event's own properties (the benchmark's `cli.command_completed` writes ~100
/// bytes); an event that writes more grows the JSON once.
const OWN_PROPERTIES_ROOM: usize = 256;

impl Record {
    /// The record for `event`, attributed to `distinct_id`; `personless` adds
    /// `$process_person_profile: false`.
    pub fn for_event<E: Event>(
        event: &E,
        distinct_id: &str,
        personless: bool,
        common: &CommonProperties,
    ) -> Self {
        Self::for_properties(E::META.name, distinct_id, personless, common, &|out| {
            event.write_properties(out)
        })
    }

    /// [`for_event`](Self::for_event) for the event named `event` whose own properties
    /// `write_properties` writes: one copy in the binary for every event type (only the call
    /// through `dyn` differs), not one per type.
    fn for_properties(
        event: &'static str,
        distinct_id: &str,
        personless: bool,
        common: &CommonProperties,
        write_properties: &dyn Fn(&mut PropertyWriter<'_>),
    ) -> Self {
        let room = OWN_PROPERTIES_ROOM + common.members.len() + PERSONLESS_MEMBER.len();
        Self::build(event, distinct_id, room, |props| {
            let start = props.len();
            write_properties(&mut PropertyWriter::new(props, true));
            // then the common properties and `$geoip_disable`, as `common.write` and
            // `runtime_bool` wrote them when the handle started
            if props.len() != start {
                props.push(',');
            }
            props.push_str(&common.members);
            if personless {
                props.push_str(PERSONLESS_MEMBER);
            }
        })
    }

    /// The alias that merges `anonymous_id` into `principal_id`, in the shape posthog-rs
    /// sends: attributed to the anonymous id, with `distinct_id` and `alias` properties (and
    /// `$geoip_disable`, as every record), and never `$process_person_profile` (PostHog drops
    /// an alias that carries it).
    pub fn alias(anonymous_id: &str, principal_id: &str) -> Self {
        let room = 64 + anonymous_id.len() + principal_id.len();
        Self::build(ALIAS_EVENT, anonymous_id, room, |props| {
            let mut writer = PropertyWriter::new(props, true);
            writer.runtime_str("distinct_id", anonymous_id);
            writer.runtime_str("alias", principal_id);
            writer.runtime_bool(GEOIP_DISABLE, true);
        })
    }

    /// `properties` writes the members of the properties object, for which `room` bytes are
    /// reserved: with it, one allocation per record in the common case.
    fn build(
        event: &'static str,
        distinct_id: &str,
        room: usize,
        properties: impl FnOnce(&mut String),
    ) -> Self {
        let now = UnixTime::now();
        let uuid = uuid_v7(now);
        let timestamp = now.rfc3339();
        // The texts are copied where they stay, in the record returned: copied into a local
        // and moved, they were read back right after being stored, which waits on store
        // forwarding and cost more than the copies themselves.
        let mut record = Self {
            uuid,
            event: RecordText::from_static(event),
            distinct_id: RecordText::EMPTY,
            timestamp: RecordText::EMPTY,
            json: String::with_capacity(ENVELOPE_LEN + event.len() + distinct_id.len() + room),
        };
        record.distinct_id.set(distinct_id);
        record.timestamp.set_timestamp(&timestamp);
        let timestamp = timestamp.as_str();
        let json = &mut record.json;
        json.push_str("{\"uuid\":\"");
        json.push_str(uuid.hyphenated().encode_lower(&mut Uuid::encode_buffer()));
        // An event name is an identifier the allowlist checked (or `$create_alias`): plain.
        debug_assert!(!needs_escape(event.as_bytes()), "{event}");
        json.push_str("\",\"event\":\"");
        json.push_str(event);
        json.push_str("\",\"distinct_id\":");
        write_json_str(json, distinct_id);
        json.push_str(",\"properties\":{");
        properties(json);
        // RFC 3339 needs no JSON escaping.
        json.push_str("},\"timestamp\":\"");
        json.push_str(timestamp);
        json.push_str("\"}");
        record
    }

    /// Checks that `json` is a record (an object with a uuid, an event name, a distinct id,
    /// a properties object and a timestamp) and returns it; `None` otherwise.
    pub fn parse(json: &str) -> Option<Self> {
        // Read by hand from a `Value` (as serde's derive read it, which the tests keep as the
        // reference): the sender parses the record into a `Value` anyway, and a derived
        // `Deserialize` cost the host a deserializer of its own.
        let value: serde_json::Value = serde_json::from_str(json).ok()?;
        let mut found = [None; 5];
        members::struct_members(&value, &RECORD_MEMBERS, false, &mut found).ok()?;
        let [uuid, event, distinct_id, properties, timestamp] = found;
        // the texts borrowed from the `Value` (a copy of each as a `String` was dropped right
        // after being copied into the record)
        fn text(value: Option<&serde_json::Value>) -> Option<&str> {
            value?.as_str()
        }
        let uuid: Uuid = text(uuid)?.parse().ok()?;
        let (event, distinct_id, timestamp) = (text(event)?, text(distinct_id)?, text(timestamp)?);
        if !properties?.is_object()
            || event.is_empty()
            || distinct_id.is_empty()
            || json.contains('\n')
        {
            return None;
        }
        Some(Self {
            uuid,
            event: RecordText::new(event),
            distinct_id: RecordText::new(distinct_id),
            timestamp: RecordText::new(timestamp),
            json: json.to_string(),
        })
    }
}

/// The members of a record, in the order serde's derive read them from an array.
const RECORD_MEMBERS: [&str; 5] = ["uuid", "event", "distinct_id", "properties", "timestamp"];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::common::{COMMON_PROPERTIES, PROCESS_PERSON_PROFILE};

    use crate::test_events::Counted;

    fn common() -> CommonProperties {
        let config = TelemetryConfig::builder(&crate::schema::DEMO)
            .version("1.2.3")
            .git_commit("abc1234")
            .environment(crate::Environment::empty().with("CI", "true"))
            .on_terminal(false)
            .build()
            .unwrap();
        CommonProperties::new(&config)
    }

    #[test]
    fn event_record_shape() {
        let record = Record::for_event(&Counted { count: 3 }, "anon-1", true, &common());
        let value: serde_json::Value = serde_json::from_str(&record.json).unwrap();
        assert_eq!(value["uuid"], record.uuid.to_string());
        assert_eq!(record.uuid.get_version_num(), 7);
        assert_eq!(value["event"], "test.counted");
        assert_eq!(value["distinct_id"], "anon-1");
        let props = value["properties"].as_object().unwrap();
        assert_eq!(props["count"], 3);
        assert_eq!(props["app_version"], "1.2.3");
        assert_eq!(props["app_git_commit"], "abc1234");
        assert_eq!(props["is_ci"], true);
        assert_eq!(props[PROCESS_PERSON_PROFILE], false);
        assert_eq!(props[GEOIP_DISABLE], true);
        let names: Vec<&str> = COMMON_PROPERTIES.iter().map(|p| p.name).collect();
        for name in &names {
            assert!(props.contains_key(*name), "{name}");
        }
        assert_eq!(props.len(), 1 + names.len() + 2);
        assert!(
            OS_VALUES.contains(&props["os"].as_str().unwrap()) || props["os"] == "user-defined"
        );
        assert!(value["timestamp"].as_str().unwrap().ends_with('Z'));
        assert!(!record.json.contains('\n'));
        // member order is fixed
        assert!(record.json.starts_with("{\"uuid\":"));

        let linked = Record::for_event(&Counted { count: 3 }, "user-42", false, &common());
        assert!(!linked.json.contains(PROCESS_PERSON_PROFILE));
        assert!(linked.json.contains("\"$geoip_disable\":true"));
    }

    #[test]
    fn the_timestamp_is_the_record_s() {
        assert_eq!(now_rfc3339().len(), 24);
        let record = Record::alias("anon-1", "user-42");
        let value: serde_json::Value = serde_json::from_str(&record.json).unwrap();
        assert_eq!(value["timestamp"], record.timestamp.as_str());
        assert!(parse_rfc3339(&record.timestamp).is_ok());
    }

    #[test]
    fn uuids_are_v7_of_the_record_time_and_ordered() {
        let records: Vec<Record> = (0..200).map(|_| Record::alias("a", "b")).collect();
        for pair in records.windows(2) {
            assert!(pair[0].uuid < pair[1].uuid);
        }
        for record in &records {
            assert_eq!(record.uuid.get_version_num(), 7);
            assert_eq!(record.uuid.get_variant(), uuid::Variant::RFC4122);
            let (secs, nanos) = record.uuid.get_timestamp().unwrap().to_unix();
            let millis = i64::try_from(secs).unwrap() * 1000 + i64::from(nanos / 1_000_000);
            let at = parse_rfc3339(&record.timestamp).unwrap().timestamp_millis();
            // the counter may move the uuid's time ahead of the clock, never far
            assert!((0..=5).contains(&(millis - at)), "{millis} {at}");
            let json: serde_json::Value = serde_json::from_str(&record.json).unwrap();
            assert_eq!(json["uuid"], record.uuid.hyphenated().to_string());
        }
    }

    /// A built record and the same JSON read back are equal, field for field.
    #[test]
    fn a_parsed_record_equals_the_built_one() {
        for record in [
            Record::alias("anon-1", "user-42"),
            Record::for_event(
                &Counted { count: 7 },
                "p_0123456789abcdef0123456789abcdef",
                false,
                &common(),
            ),
        ] {
            assert_eq!(Record::parse(&record.json), Some(record.clone()));
        }
        // escaped text reads back unescaped
        let record = Record::alias("anon \"1\"\n", "user-42");
        let parsed = Record::parse(&record.json).unwrap();
        assert_eq!(parsed.distinct_id, "anon \"1\"\n");
        assert_eq!(parsed, record);
    }

    /// `Record::parse` as it was, with serde's derive: the reference for the reading by hand.
    fn parse_with_serde(json: &str) -> Option<Record> {
        #[derive(serde::Deserialize)]
        struct Shape {
            uuid: Uuid,
            event: String,
            distinct_id: String,
            properties: serde_json::Map<String, serde_json::Value>,
            timestamp: String,
        }
        let shape: Shape = serde_json::from_str(json).ok()?;
        let _ = shape.properties;
        if shape.event.is_empty() || shape.distinct_id.is_empty() || json.contains('\n') {
            return None;
        }
        Some(Record {
            uuid: shape.uuid,
            event: shape.event.into(),
            distinct_id: shape.distinct_id.into(),
            timestamp: shape.timestamp.into(),
            json: json.to_string(),
        })
    }

    /// Records (and what is not one) are read as serde's derive read them.
    #[test]
    fn records_are_read_as_serde_read_them() {
        let built = [
            Record::alias("anon-1", "user-42").json,
            Record::alias("anon \"1\"\n", "user-42").json,
            Record::for_event(&Counted { count: 7 }, "anon-1", true, &common()).json,
        ];
        let u = "0190a6c2-4b1d-7c3e-9f00-0123456789ab";
        let by_hand = [
            format!(r#"{{"uuid":"{u}","event":"e","distinct_id":"d","properties":{{}},"timestamp":"t"}}"#),
            format!(r#"{{"timestamp":"t","x":[1],"properties":{{"a":{{"b":[]}}}},"distinct_id":"d","event":"e","uuid":"{u}"}}"#),
            format!(r#"["{u}","e","d",{{}},"t"]"#),
            format!(r#"["{u}","e","d",{{}}]"#),
            format!(r#"["{u}","e","d",{{}},"t",1]"#),
            format!(r#"{{"uuid":"{}","event":"e","distinct_id":"d","properties":{{}},"timestamp":"t"}}"#, u.replace('-', "")),
            format!(r#"{{"uuid":"urn:uuid:{u}","event":"e","distinct_id":"d","properties":{{}},"timestamp":"t"}}"#),
            format!(r#"{{"uuid":"{{{u}}}","event":"e","distinct_id":"d","properties":{{}},"timestamp":"t"}}"#),
            format!(r#"{{"uuid":"{}","event":"e","distinct_id":"d","properties":{{}},"timestamp":"t"}}"#, u.to_uppercase()),
            r#"{"uuid":"not-a-uuid","event":"e","distinct_id":"d","properties":{},"timestamp":"t"}"#.to_string(),
            r#"{"uuid":null,"event":"e","distinct_id":"d","properties":{},"timestamp":"t"}"#.to_string(),
            r#"{"uuid":[1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16],"event":"e","distinct_id":"d","properties":{},"timestamp":"t"}"#.to_string(),
            format!(r#"{{"uuid":"{u}","event":"","distinct_id":"d","properties":{{}},"timestamp":"t"}}"#),
            format!(r#"{{"uuid":"{u}","event":"e","distinct_id":"","properties":{{}},"timestamp":"t"}}"#),
            format!(r#"{{"uuid":"{u}","event":"e","distinct_id":"d","properties":{{}},"timestamp":""}}"#),
            format!(r#"{{"uuid":"{u}","event":"e","distinct_id":"d","properties":[],"timestamp":"t"}}"#),
            format!(r#"{{"uuid":"{u}","event":"e","distinct_id":"d","properties":null,"timestamp":"t"}}"#),
            format!(r#"{{"uuid":"{u}","event":"e","distinct_id":"d","timestamp":"t"}}"#),
            format!(r#"{{"uuid":"{u}","event":"e","distinct_id":"d","properties":{{}}}}"#),
            format!(r#"{{"uuid":"{u}","event":7,"distinct_id":"d","properties":{{}},"timestamp":"t"}}"#),
            format!(r#"{{"uuid":"{u}","event":"e","distinct_id":null,"properties":{{}},"timestamp":"t"}}"#),
            format!(r#"{{"uuid":"{u}","event":"e","distinct_id":"d","properties":{{}},"timestamp":5}}"#),
            format!(r#"{{"uuid":"{u}","event":"e\u0041","distinct_id":"d\n","properties":{{}},"timestamp":"t"}}"#),
            format!("{{\"uuid\":\"{u}\",\"event\":\"e\",\n\"distinct_id\":\"d\",\"properties\":{{}},\"timestamp\":\"t\"}}"),
            format!(r#" {{"uuid":"{u}","event":"e","distinct_id":"d","properties":{{}},"timestamp":"t"}} "#),
            format!(r#"{{"uuid":"{u}","event":"e","distinct_id":"d","properties":{{}},"timestamp":"t"}}x"#),
            "{".to_string(),
            "null".to_string(),
            "[]".to_string(),
            String::new(),
        ];
        for json in built.iter().chain(&by_hand) {
            assert_eq!(Record::parse(json), parse_with_serde(json), "{json}");
        }
        assert!(Record::parse(&by_hand[2]).is_some());
    }

    #[test]
    fn the_personless_member_is_what_the_writer_writes() {
        let mut out = String::from("{\"a\":1");
        PropertyWriter::new(&mut out, false).runtime_bool(PROCESS_PERSON_PROFILE, false);
        assert_eq!(out, format!("{{\"a\":1{PERSONLESS_MEMBER}"));
    }

    /// The JSON is allocated once at a size that holds the record.
    #[test]
    fn the_json_is_reserved_at_its_size() {
        let alias = Record::alias("anon-1", "user-42");
        let props = r#""distinct_id":"anon-1","alias":"user-42","$geoip_disable":true"#;
        assert_eq!(
            alias.json.len(),
            ENVELOPE_LEN + ALIAS_EVENT.len() + "anon-1".len() + props.len()
        );
        assert!(alias.json.capacity() >= alias.json.len());
        let record = Record::for_event(&Counted { count: 7 }, "anon-1", true, &common());
        let room = OWN_PROPERTIES_ROOM + common().members.len() + PERSONLESS_MEMBER.len();
        assert_eq!(
            record.json.capacity(),
            ENVELOPE_LEN + "test.counted".len() + "anon-1".len() + room
        );
    }

    #[test]
    fn alias_shape() {
        let record = Record::alias("anon-1", "user-42");
        let value: serde_json::Value = serde_json::from_str(&record.json).unwrap();
        assert_eq!(value["event"], "$create_alias");
        assert_eq!(value["distinct_id"], "anon-1");
        assert_eq!(
            value["properties"],
            serde_json::json!({"distinct_id": "anon-1", "alias": "user-42", "$geoip_disable": true})
        );
    }
}

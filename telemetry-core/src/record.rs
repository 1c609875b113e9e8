//! Finished records: the exact JSON that is queued and sent to PostHog's `/batch/` endpoint.
//!
//! ```json
//! {"uuid":"0190…","event":"cli.command_completed","distinct_id":"7f3b…",
//!  "properties":{"command":"run",…,"app_version":"1.2.3",…,"$process_person_profile":false},
//!  "timestamp":"2026-04-08T10:00:00.000Z"}
//! ```
//!
//! The event's own properties come first, then the [common properties](COMMON_PROPERTIES),
//! then `$geoip_disable: true` (every record: PostHog must not look up where the sender's IP
//! address is), then `$process_person_profile: false` when the event is anonymous
//! (personless). These two are the only `$` properties a record carries, and they are sent as
//! recorded: see [`delivery::KEPT_DOLLAR_PROPERTIES`](crate::delivery::KEPT_DOLLAR_PROPERTIES).
//! The uuid is a UUID v7 (time-ordered, stable across retries so PostHog can de-duplicate),
//! the timestamp UTC with milliseconds.

use chrono::{DateTime, SecondsFormat, Utc};
use uuid::Uuid;

use crate::config::TelemetryConfig;
use crate::event::Event;
use crate::event::common::{ARCH_VALUES, GEOIP_DISABLE, OS_VALUES, PROCESS_PERSON_PROFILE};
use crate::event::writer::{PropertyWriter, write_json_str};

/// PostHog's alias event, which merges the anonymous id into a principal.
pub const ALIAS_EVENT: &str = "$create_alias";

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
    rfc3339(Utc::now())
}

/// `time` as telemetry writes every timestamp: RFC 3339, UTC, milliseconds.
pub(crate) fn rfc3339(time: DateTime<Utc>) -> String {
    match Rfc3339Millis::new(time) {
        Some(text) => text.as_str().to_owned(),
        None => time.to_rfc3339_opts(SecondsFormat::Millis, true),
    }
}

/// A timestamp in the shape [`rfc3339`] writes, formatted on the stack from chrono's fields
/// (chrono's own formatter goes through `fmt` and allocates: 4 times slower).
struct Rfc3339Millis([u8; 24]);

impl Rfc3339Millis {
    /// `None` for what the fixed shape cannot hold (a year outside 0–9999, a leap second):
    /// [`rfc3339`] then asks chrono.
    fn new(time: DateTime<Utc>) -> Option<Self> {
        use chrono::{Datelike, Timelike};
        let year = u32::try_from(time.year()).ok().filter(|y| *y <= 9999)?;
        let nanos = time.nanosecond();
        if nanos >= 1_000_000_000 {
            return None;
        }
        let millis = nanos / 1_000_000;
        let mut out = *b"0000-00-00T00:00:00.000Z";
        let mut put = |at: usize, digits: usize, mut value: u32| {
            for i in (at..at + digits).rev() {
                out[i] = b'0' + (value % 10) as u8;
                value /= 10;
            }
        };
        put(0, 4, year);
        put(5, 2, time.month());
        put(8, 2, time.day());
        put(11, 2, time.hour());
        put(14, 2, time.minute());
        put(17, 2, time.second());
        put(20, 3, millis);
        Some(Self(out))
    }

    fn as_str(&self) -> &str {
        // only ASCII digits were written into an ASCII template
        std::str::from_utf8(&self.0).unwrap_or_default()
    }
}

/// Reads an RFC 3339 timestamp (any offset), in UTC.
pub(crate) fn parse_rfc3339(text: &str) -> Result<DateTime<Utc>, chrono::ParseError> {
    DateTime::parse_from_rfc3339(text).map(|t| t.with_timezone(&Utc))
}

/// The UUID v7 of a record made at `time`: ordered by creation within this process (uuid's
/// counter, as [`Uuid::now_v7`] keeps it), the rest random.
fn uuid_v7(time: DateTime<Utc>) -> Uuid {
    use std::sync::Mutex;
    use uuid::{ContextV7, Timestamp};
    static CONTEXT: Mutex<ContextV7> = Mutex::new(ContextV7::new());
    match u64::try_from(time.timestamp()) {
        Ok(seconds) => Uuid::new_v7(Timestamp::from_unix(
            &CONTEXT,
            seconds,
            time.timestamp_subsec_nanos(),
        )),
        Err(_) => Uuid::now_v7(),
    }
}

/// One finished record: the JSON object sent in PostHog's `batch` array.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// Its UUID v7.
    pub uuid: Uuid,
    /// The event's name.
    pub event: String,
    /// Who it is attributed to.
    pub distinct_id: String,
    /// When it happened (RFC 3339, UTC).
    pub timestamp: String,
    /// The whole record, as compact JSON (no newline).
    pub json: String,
}

impl Record {
    /// The record for `event`, attributed to `distinct_id`; `personless` adds
    /// `$process_person_profile: false`.
    pub fn for_event<E: Event>(
        event: &E,
        distinct_id: &str,
        personless: bool,
        common: &CommonProperties,
    ) -> Self {
        Self::build(E::META.name, distinct_id, |props| {
            let start = props.len();
            event.write_properties(&mut PropertyWriter::new(props, true));
            // then the common properties and `$geoip_disable`, as `common.write` and
            // `runtime_bool` wrote them when the handle started
            if props.len() != start {
                props.push(',');
            }
            props.push_str(&common.members);
            if personless {
                PropertyWriter::new(props, false).runtime_bool(PROCESS_PERSON_PROFILE, false);
            }
        })
    }

    /// The alias that merges `anonymous_id` into `principal_id`, in the shape posthog-rs
    /// sends: attributed to the anonymous id, with `distinct_id` and `alias` properties (and
    /// `$geoip_disable`, as every record), and never `$process_person_profile` (PostHog drops
    /// an alias that carries it).
    pub fn alias(anonymous_id: &str, principal_id: &str) -> Self {
        Self::build(ALIAS_EVENT, anonymous_id, |props| {
            let mut writer = PropertyWriter::new(props, true);
            writer.runtime_str("distinct_id", anonymous_id);
            writer.runtime_str("alias", principal_id);
            writer.runtime_bool(GEOIP_DISABLE, true);
        })
    }

    fn build(event: &str, distinct_id: &str, properties: impl FnOnce(&mut String)) -> Self {
        // One clock read for the uuid and the timestamp (a `clock_gettime` costs ~60 ns on a
        // VM without a fast clock source). The uuid's random bits come from a thread-local
        // generator (uuid's `fast-rng`), no syscall per id.
        let now = Utc::now();
        let uuid = uuid_v7(now);
        // A `cli.command_completed` record with its common properties is ~450 bytes: one
        // allocation for the JSON in the common case.
        let mut json = String::with_capacity(640 + event.len() + distinct_id.len());
        json.push_str("{\"uuid\":\"");
        json.push_str(uuid.hyphenated().encode_lower(&mut Uuid::encode_buffer()));
        json.push_str("\",\"event\":");
        write_json_str(&mut json, event);
        json.push_str(",\"distinct_id\":");
        write_json_str(&mut json, distinct_id);
        json.push_str(",\"properties\":{");
        properties(&mut json);
        json.push_str("},\"timestamp\":\"");
        // RFC 3339 needs no JSON escaping: written straight into the record.
        let start = json.len();
        match Rfc3339Millis::new(now) {
            Some(text) => json.push_str(text.as_str()),
            None => json.push_str(&rfc3339(now)),
        }
        let timestamp = json[start..].to_owned();
        json.push_str("\"}");
        Self {
            uuid,
            event: event.to_owned(),
            distinct_id: distinct_id.to_owned(),
            timestamp,
            json,
        }
    }

    /// Checks that `json` is a record (an object with a uuid, an event name, a distinct id,
    /// a properties object and a timestamp) and returns it; `None` otherwise.
    pub fn parse(json: &str) -> Option<Self> {
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
        Some(Self {
            uuid: shape.uuid,
            event: shape.event,
            distinct_id: shape.distinct_id,
            timestamp: shape.timestamp,
            json: json.to_string(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::common::COMMON_PROPERTIES;
    use crate::event::meta::EventMeta;

    struct Ping {
        count: u32,
    }

    impl crate::__private::Sealed for Ping {}

    impl Event for Ping {
        const META: &'static EventMeta = &EventMeta {
            name: "test.ping",
            description: "A test event.",
            properties: &[],
            type_name: "Ping",
        };

        fn write_properties(&self, out: &mut PropertyWriter<'_>) {
            out.unsigned("count", &self.count);
        }
    }

    fn common() -> CommonProperties {
        let config = TelemetryConfig::builder(&crate::schema::DEMO)
            .version("1.2.3")
            .git_commit("abc1234")
            .environment(crate::Environment::empty().with("CI", "true"))
            .stderr_is_terminal(false)
            .build()
            .unwrap();
        CommonProperties::new(&config)
    }

    #[test]
    fn event_record_shape() {
        let record = Record::for_event(&Ping { count: 3 }, "anon-1", true, &common());
        let value: serde_json::Value = serde_json::from_str(&record.json).unwrap();
        assert_eq!(value["uuid"], record.uuid.to_string());
        assert_eq!(record.uuid.get_version_num(), 7);
        assert_eq!(value["event"], "test.ping");
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

        let linked = Record::for_event(&Ping { count: 3 }, "user-42", false, &common());
        assert!(!linked.json.contains(PROCESS_PERSON_PROFILE));
        assert!(linked.json.contains("\"$geoip_disable\":true"));
    }

    #[test]
    fn timestamps_are_written_as_chrono_writes_them() {
        use chrono::TimeZone;
        let times = [
            Utc::now(),
            Utc.with_ymd_and_hms(2026, 4, 8, 10, 0, 0).unwrap(),
            Utc.with_ymd_and_hms(1999, 12, 31, 23, 59, 59).unwrap()
                + chrono::Duration::nanoseconds(999_999_999),
            Utc.with_ymd_and_hms(2000, 2, 29, 1, 2, 3).unwrap()
                + chrono::Duration::milliseconds(45),
            Utc.with_ymd_and_hms(0, 1, 1, 0, 0, 0).unwrap(),
            Utc.with_ymd_and_hms(9999, 12, 31, 23, 59, 59).unwrap(),
            // outside the fixed shape: chrono writes them
            Utc.with_ymd_and_hms(10_000, 1, 1, 0, 0, 0).unwrap(),
            Utc.with_ymd_and_hms(-1, 1, 1, 0, 0, 0).unwrap(),
        ];
        for time in times {
            assert_eq!(
                rfc3339(time),
                time.to_rfc3339_opts(SecondsFormat::Millis, true),
                "{time:?}"
            );
        }
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
            let (secs, nanos) = record.uuid.get_timestamp().unwrap().to_unix();
            let millis = i64::try_from(secs).unwrap() * 1000 + i64::from(nanos / 1_000_000);
            let at = parse_rfc3339(&record.timestamp).unwrap().timestamp_millis();
            // the counter may move the uuid's time ahead of the clock, never far
            assert!((0..=5).contains(&(millis - at)), "{millis} {at}");
        }
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

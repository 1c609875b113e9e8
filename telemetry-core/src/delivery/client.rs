//! The posthog-rs client the sender uses, and how a queued record becomes a posthog-rs event
//! whose properties on the wire are exactly the record's.
//!
//! # What is sent is what `inspect` shows
//!
//! posthog-rs decorates every event: `$lib`, `$lib_version`, `$lib_version__major`,
//! `$lib_version__minor`, `$lib_version__patch`, `$os`, `$os_version`, `$is_server` (unless
//! `is_server(false)`) and `$geoip_disable` (with `disable_geoip(true)`). None of these is on
//! the allowlist, and `inspect` could not show them, so a `before_send` hook (which runs after
//! every decoration) removes every `$` property but the two a record carries itself:
//!
//! - `$geoip_disable: true`, on every record, so PostHog does not look up where the sender's
//!   IP address is ([`GEOIP_DISABLE`]);
//! - `$process_person_profile: false`, on every event sent under the anonymous id, so PostHog
//!   builds no person profile for it ([`PROCESS_PERSON_PROFILE`]).
//!
//! A record's own properties never start with `$` otherwise (the allowlist only holds plain
//! names), so after the hook the properties on the wire are exactly the record's. posthog-rs
//! keeps properties in a `HashMap`, so their **order** on the wire differs from the record's:
//! compare them as JSON objects, not as text. The uuid and timestamp are the record's too (set
//! with `set_uuid` / `set_timestamp`; the timestamp is the same instant, written by chrono's
//! serializer, e.g. `…00Z` for `…00.000Z`).

use std::time::Duration;

use posthog_rs::{Client, ClientOptionsBuilder, Event};

use super::endpoint::Delivery;
use crate::limits::{
    KEPT_DOLLAR_PROPERTIES, REQUEST_ATTEMPTS, REQUEST_TIMEOUT, RETRY_BACKOFF_INITIAL,
    RETRY_BACKOFF_MAX,
};
use crate::record::Record;

crate::diagnostics::error_event_fns!(debug debug_error);

/// How long dropping the client may wait for its background worker (nothing is ever queued
/// in it: every send is `capture_batch_immediate`).
const SHUTDOWN_TIMEOUT: Duration = Duration::from_millis(100);

/// The posthog-rs client for `delivery` (`None` without a key): blocking, `/batch/`,
/// `is_server(false)`, GeoIP off, short timeouts, and the hook that strips the library's
/// properties. For a loopback endpoint its HTTP client uses no proxy ([`direct_http_client`]).
pub(crate) fn build(delivery: &Delivery) -> Option<Client> {
    let key = delivery.key()?;
    let mut options = ClientOptionsBuilder::default();
    options
        .api_key(key.to_string())
        .host(delivery.base_url().to_string())
        .is_server(false)
        .disable_geoip(true)
        .request_timeout_seconds(REQUEST_TIMEOUT.as_secs())
        .max_capture_attempts(REQUEST_ATTEMPTS)
        .retry_initial_backoff_ms(RETRY_BACKOFF_INITIAL.as_millis() as u64)
        .retry_max_backoff_ms(RETRY_BACKOFF_MAX.as_millis() as u64)
        .shutdown_timeout_ms(SHUTDOWN_TIMEOUT.as_millis() as u64)
        .before_send(|event| Some(strip_library_properties(event)));
    if delivery.is_loopback() {
        options.blocking_http_client(direct_http_client()?);
    }
    match options.build() {
        Ok(options) => Some(posthog_rs::client(options)),
        Err(error) => {
            crate::diagnostics::warn_event!(%error, "telemetry client options refused");
            None
        }
    }
}

/// The HTTP client for an endpoint on this machine: the one posthog-rs would build, without
/// proxies. reqwest routes every request through `HTTP_PROXY` / `HTTPS_PROXY` / `ALL_PROXY`
/// unless `NO_PROXY` names the host, and a developer's shell often sets them: the events meant
/// for a local development server would leave the machine for the proxy (which would then
/// reach its own `127.0.0.1`). A remote PostHog host keeps the user's proxies: a network that
/// only lets traffic out through one needs them. `None` (nothing sent) if it cannot be built.
fn direct_http_client() -> Option<reqwest::blocking::Client> {
    // no timeout of its own: posthog-rs sets `request_timeout_seconds` on every request
    match reqwest::blocking::Client::builder().no_proxy().build() {
        Ok(client) => Some(client),
        Err(error) => {
            crate::diagnostics::warn_event!(%error, "telemetry HTTP client refused");
            None
        }
    }
}

/// The `before_send` hook: removes every `$` property but [`KEPT_DOLLAR_PROPERTIES`].
pub(crate) fn strip_library_properties(mut event: Event) -> Event {
    let extra: Vec<String> = event
        .properties()
        .keys()
        .filter(|key| key.starts_with('$') && !KEPT_DOLLAR_PROPERTIES.contains(&key.as_str()))
        .cloned()
        .collect();
    for key in extra {
        event.remove_prop(&key);
    }
    event
}

/// The posthog-rs event for `record`: its name, distinct id, properties, uuid and timestamp.
/// `None` when the record's JSON has no properties object (a record that passed
/// [`Record::parse`] always has one).
pub(crate) fn to_event(record: &Record) -> Option<Event> {
    use serde_json::Value;
    // taken out of the parsed record, not cloned (a clone of the map is code of its own), and
    // through `get_mut`, not `remove` (a B-tree's removal is 3 KB of code of its own)
    let Value::Object(mut value) = serde_json::from_str(&record.json).ok()? else {
        return None;
    };
    let Value::Object(properties) = std::mem::take(value.get_mut("properties")?) else {
        return None;
    };
    let mut event = Event::new(record.event.clone(), record.distinct_id.clone());
    for (key, value) in properties {
        event.insert_prop(key, value).ok()?;
    }
    event.set_uuid(record.uuid);
    match crate::record::parse_rfc3339(&record.timestamp) {
        Ok(timestamp) => {
            if let Err(error) = event.set_timestamp(timestamp) {
                // a clock that was ahead when the event was recorded: the server stamps it
                debug_error("telemetry record timestamp not sent", &error);
            }
        }
        Err(error) => debug_error("telemetry record timestamp unreadable", &error),
    }
    Some(event)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::common::{GEOIP_DISABLE, PROCESS_PERSON_PROFILE};
    use crate::limits::{BATCH_WORST_CASE, REMOVED_LIBRARY_PROPERTIES};

    #[test]
    fn the_hook_keeps_only_the_records_own_properties() {
        let mut event = Event::new("test.ping", "anon-1");
        for key in REMOVED_LIBRARY_PROPERTIES {
            event.insert_prop(*key, "x").unwrap();
        }
        event.insert_prop("$set", "x").unwrap();
        event.insert_prop("count", 3).unwrap();
        event.insert_prop(GEOIP_DISABLE, true).unwrap();
        event.insert_prop(PROCESS_PERSON_PROFILE, false).unwrap();
        let event = strip_library_properties(event);
        let mut keys: Vec<&str> = event.properties().keys().map(String::as_str).collect();
        keys.sort_unstable();
        assert_eq!(keys, ["$geoip_disable", "$process_person_profile", "count"]);
    }

    #[test]
    fn records_become_events_with_their_uuid_and_properties() {
        let record = Record::alias("anon-1", "user-42");
        let event = to_event(&record).unwrap();
        assert_eq!(event.event_name(), "$create_alias");
        assert_eq!(event.distinct_id(), "anon-1");
        let recorded: serde_json::Value = serde_json::from_str(&record.json).unwrap();
        let properties = serde_json::to_value(event.properties()).unwrap();
        assert_eq!(properties, recorded["properties"]);
        let serialized = serde_json::to_value(&event).unwrap();
        assert_eq!(serialized["uuid"], record.uuid.to_string());
        assert!(serialized["timestamp"].is_string());
    }

    #[test]
    fn worst_case_batch() {
        assert_eq!(BATCH_WORST_CASE, Duration::from_secs(5));
    }
}

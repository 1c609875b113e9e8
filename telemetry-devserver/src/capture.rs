//! PostHog's capture contract: routes, body decoding and validation.

use std::io::Read;

use flate2::read::{GzDecoder, ZlibDecoder};
use serde_json::{Map, Value, json};
use uuid::Uuid;

/// The capture endpoints, as the last path segments. Anything before them is a
/// prefix (a reverse proxy may mount PostHog under e.g. `/ingest`).
const CAPTURE_ROUTES: &[&[&str]] = &[
    &["batch"],
    &["capture"],
    &["i", "v0", "e"],
    &["e"],
    &["track"],
];

/// Whether `path` (without query) names a capture endpoint, under any prefix.
pub(crate) fn is_capture_path(path: &str) -> bool {
    let segments: Vec<&str> = path
        .trim_start_matches('/')
        .trim_end_matches('/')
        .split('/')
        .collect();
    CAPTURE_ROUTES
        .iter()
        .any(|route| segments.len() >= route.len() && segments.ends_with(route))
}

/// A refusal with PostHog's status code and a JSON error body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Refusal {
    pub(crate) status: u16,
    pub(crate) code: &'static str,
    pub(crate) detail: String,
}

impl Refusal {
    fn bad(code: &'static str, detail: impl Into<String>) -> Self {
        Self {
            status: 400,
            code,
            detail: detail.into(),
        }
    }

    fn unauthorized(detail: impl Into<String>) -> Self {
        Self {
            status: 401,
            code: "invalid_api_key",
            detail: detail.into(),
        }
    }

    pub(crate) fn too_large(detail: impl Into<String>) -> Self {
        Self {
            status: 413,
            code: "payload_too_large",
            detail: detail.into(),
        }
    }

    /// The JSON error body, in the shape PostHog's API uses for errors.
    pub(crate) fn body(&self) -> Value {
        error_body(self.status, self.code, &self.detail)
    }
}

/// A JSON error body: `{"type", "code", "detail", "attr"}`.
pub(crate) fn error_body(status: u16, code: &str, detail: &str) -> Value {
    let kind = match status {
        401 | 403 => "authentication_error",
        400..=499 => "validation_error",
        _ => "server_error",
    };
    json!({ "type": kind, "code": code, "detail": detail, "attr": null })
}

/// The body as sent, and how it was decoded.
pub(crate) struct Decoded {
    pub(crate) bytes: Vec<u8>,
    pub(crate) compressed: bool,
}

/// Undoes `Content-Encoding` (or the `compression` query parameter, or a gzip
/// magic number), bounded by `max_bytes` after decoding.
pub(crate) fn decode_body(
    body: &[u8],
    content_encoding: Option<&str>,
    compression: Option<&str>,
    max_bytes: usize,
) -> Result<Decoded, Refusal> {
    let encoding = content_encoding
        .map(|value| value.trim().to_ascii_lowercase())
        .filter(|value| !value.is_empty() && value != "identity");
    let hint = compression.map(str::to_ascii_lowercase);
    let gzip_magic = body.starts_with(&[0x1f, 0x8b]);
    let method = match (encoding.as_deref(), hint.as_deref()) {
        (Some("gzip" | "x-gzip"), _) => Some("gzip"),
        (Some("deflate"), _) => Some("deflate"),
        (Some(other), _) => {
            return Err(Refusal {
                status: 415,
                code: "unsupported_encoding",
                detail: format!("unsupported Content-Encoding {other:?}"),
            });
        }
        (None, Some("gzip" | "gzip-js")) => Some("gzip"),
        (None, _) if gzip_magic => Some("gzip"),
        (None, _) => None,
    };
    let Some(method) = method else {
        return Ok(Decoded {
            bytes: body.to_vec(),
            compressed: false,
        });
    };
    let limit = u64::try_from(max_bytes)
        .unwrap_or(u64::MAX)
        .saturating_add(1);
    let mut bytes = Vec::new();
    let result = if method == "gzip" {
        GzDecoder::new(body).take(limit).read_to_end(&mut bytes)
    } else {
        ZlibDecoder::new(body).take(limit).read_to_end(&mut bytes)
    };
    if let Err(e) = result {
        return Err(Refusal::bad(
            "invalid_payload",
            format!("failed to decode request: {method} body: {e}"),
        ));
    }
    if bytes.len() > max_bytes {
        return Err(Refusal::too_large(format!(
            "decompressed body larger than {max_bytes} bytes"
        )));
    }
    Ok(Decoded {
        bytes,
        compressed: true,
    })
}

/// A valid capture request.
pub(crate) struct Batch {
    pub(crate) api_key: String,
    pub(crate) sent_at: Option<String>,
    pub(crate) historical_migration: bool,
    pub(crate) events: Vec<ValidEvent>,
}

/// A valid event of a [`Batch`].
pub(crate) struct ValidEvent {
    pub(crate) uuid: Option<Uuid>,
    pub(crate) event: String,
    pub(crate) distinct_id: String,
    pub(crate) properties: Map<String, Value>,
    pub(crate) timestamp: Option<String>,
    pub(crate) raw: Value,
}

/// Parses the decoded body as JSON.
pub(crate) fn parse_json(bytes: &[u8]) -> Result<Value, Refusal> {
    serde_json::from_slice(bytes).map_err(|e| {
        Refusal::bad(
            "invalid_payload",
            format!("failed to parse request: invalid JSON: {e}"),
        )
    })
}

/// The uuids of the events in a body, as far as they can be found; used to
/// match refused requests to their retries.
pub(crate) fn find_uuids(body: &Value) -> Vec<Uuid> {
    event_list(body)
        .map(|events| {
            events
                .iter()
                .filter_map(|event| event.get("uuid")?.as_str()?.parse().ok())
                .collect()
        })
        .unwrap_or_default()
}

/// The events a body carries: `{"batch": [...]}`, a bare array, or one event.
fn event_list(body: &Value) -> Option<Vec<&Value>> {
    match body {
        Value::Array(events) => Some(events.iter().collect()),
        Value::Object(object) => match object.get("batch") {
            Some(Value::Array(events)) => Some(events.iter().collect()),
            Some(_) => None,
            None if object.contains_key("event") => Some(vec![body]),
            None => Some(Vec::new()),
        },
        _ => None,
    }
}

/// Validates a capture request the way PostHog's capture service does: the
/// whole request is accepted or refused.
pub(crate) fn validate(body: &Value, max_event_bytes: usize) -> Result<Batch, Refusal> {
    let Some(events) = event_list(body) else {
        return Err(Refusal::bad(
            "invalid_payload",
            "failed to parse request: expected a JSON object with a \"batch\" array, an array of events, or an event",
        ));
    };
    if events.is_empty() {
        return Err(Refusal::bad("empty_batch", "request holds no event"));
    }
    let top = body.as_object();
    let api_key = resolve_api_key(top, &events)?;
    let sent_at = top
        .and_then(|object| object.get("sent_at"))
        .and_then(Value::as_str)
        .map(str::to_string);
    let historical_migration = top
        .and_then(|object| object.get("historical_migration"))
        .and_then(Value::as_bool)
        .unwrap_or(false);

    let mut valid = Vec::with_capacity(events.len());
    for (index, raw) in events.into_iter().enumerate() {
        valid.push(validate_event(index, raw, max_event_bytes)?);
    }
    Ok(Batch {
        api_key,
        sent_at,
        historical_migration,
        events: valid,
    })
}

fn non_empty_str(value: Option<&Value>) -> Option<&str> {
    value
        .and_then(Value::as_str)
        .filter(|text| !text.trim().is_empty())
}

/// The batch's `api_key` (or `token`), else the events' own keys, which must
/// then agree.
fn resolve_api_key(top: Option<&Map<String, Value>>, events: &[&Value]) -> Result<String, Refusal> {
    let batch_key = top.and_then(|object| {
        non_empty_str(object.get("api_key")).or_else(|| non_empty_str(object.get("token")))
    });
    if let Some(key) = batch_key {
        return Ok(key.to_string());
    }
    let mut found: Option<&str> = None;
    for event in events {
        let key = non_empty_str(event.get("api_key"))
            .or_else(|| non_empty_str(event.get("token")))
            .or_else(|| non_empty_str(event.get("$token")))
            .or_else(|| non_empty_str(event.get("properties").and_then(|p| p.get("token"))));
        match (found, key) {
            (_, None) => {}
            (None, Some(key)) => found = Some(key),
            (Some(previous), Some(key)) if previous != key => {
                return Err(Refusal::unauthorized(
                    "batch submitted with inconsistent api_key values",
                ));
            }
            (Some(_), Some(_)) => {}
        }
    }
    found
        .map(str::to_string)
        .ok_or_else(|| Refusal::unauthorized("event submitted without an api_key"))
}

fn validate_event(
    index: usize,
    raw: &Value,
    max_event_bytes: usize,
) -> Result<ValidEvent, Refusal> {
    let Some(object) = raw.as_object() else {
        return Err(Refusal::bad(
            "invalid_payload",
            format!("failed to parse request: event {index} is not an object"),
        ));
    };
    let event = non_empty_str(object.get("event")).ok_or_else(|| {
        Refusal::bad(
            "invalid_event",
            format!("event {index} submitted with an empty event name"),
        )
    })?;
    let properties = match object.get("properties") {
        None | Some(Value::Null) => Map::new(),
        Some(Value::Object(properties)) => properties.clone(),
        Some(_) => {
            return Err(Refusal::bad(
                "invalid_payload",
                format!("failed to parse request: event {index} properties is not an object"),
            ));
        }
    };
    let distinct_id = match object.get("distinct_id") {
        None | Some(Value::Null) => distinct_id_text(properties.get("distinct_id")),
        present => distinct_id_text(present),
    }
    .ok_or_else(|| {
        Refusal::bad(
            "invalid_event",
            format!("event {index} submitted without a distinct_id"),
        )
    })?;
    let uuid = match object.get("uuid") {
        None | Some(Value::Null) => None,
        Some(Value::String(text)) => Some(text.parse::<Uuid>().map_err(|_| {
            Refusal::bad(
                "invalid_payload",
                format!("failed to parse request: event {index} has an invalid uuid {text:?}"),
            )
        })?),
        Some(_) => {
            return Err(Refusal::bad(
                "invalid_payload",
                format!("failed to parse request: event {index} uuid is not a string"),
            ));
        }
    };
    let timestamp = match object.get("timestamp") {
        None | Some(Value::Null) => None,
        Some(Value::String(text)) if !text.trim().is_empty() => Some(text.clone()),
        Some(_) => {
            return Err(Refusal::bad(
                "invalid_event",
                format!("event {index} submitted with invalid timestamp"),
            ));
        }
    };
    let size = raw.to_string().len();
    if size > max_event_bytes {
        return Err(Refusal::too_large(format!(
            "maximum event size exceeded: event {index} is {size} bytes, the limit is {max_event_bytes}"
        )));
    }
    Ok(ValidEvent {
        uuid,
        event: event.to_string(),
        distinct_id,
        properties,
        timestamp,
        raw: raw.clone(),
    })
}

/// A distinct id is a non-empty string or a number.
fn distinct_id_text(value: Option<&Value>) -> Option<String> {
    match value? {
        Value::String(text) if !text.trim().is_empty() => Some(text.clone()),
        Value::Number(number) => Some(number.to_string()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn capture_paths_with_and_without_prefix() {
        for path in [
            "/batch/",
            "/batch",
            "/ingest/batch/",
            "/a/b/batch",
            "/capture/",
            "/i/v0/e/",
            "/e/",
            "/e",
            "/track",
            "/ingest/i/v0/e",
        ] {
            assert!(is_capture_path(path), "{path}");
        }
        for path in [
            "/",
            "/batches/",
            "/flags/",
            "/decide/",
            "/i/v0/x/",
            "/batch/x",
        ] {
            assert!(!is_capture_path(path), "{path}");
        }
    }

    fn batch(events: Value) -> Value {
        json!({ "api_key": "phc_test", "batch": events })
    }

    fn event() -> Value {
        json!({
            "uuid": "0190b4c2-8c6f-7cc0-b3b5-3f2a4f6f2f7a",
            "event": "e",
            "distinct_id": "d",
            "properties": {"a": 1},
            "timestamp": null,
        })
    }

    #[test]
    fn accepts_a_posthog_rs_batch() {
        let batch = validate(&batch(json!([event(), event()])), 1 << 20).unwrap();
        assert_eq!(batch.api_key, "phc_test");
        assert_eq!(batch.events.len(), 2);
        assert_eq!(batch.events[0].distinct_id, "d");
        assert!(batch.events[0].timestamp.is_none());
    }

    #[test]
    fn refusals() {
        let cases: Vec<(Value, u16)> = vec![
            (json!({"batch": [event()]}), 401),
            (json!({"api_key": "", "batch": [event()]}), 401),
            (batch(json!([])), 400),
            (json!({"api_key": "k"}), 400),
            (json!("text"), 400),
            (batch(json!([{"event": "e"}])), 400),
            (batch(json!([{"event": "", "distinct_id": "d"}])), 400),
            (batch(json!([{"event": "e", "distinct_id": ""}])), 400),
            (batch(json!([{"event": "e", "distinct_id": true}])), 400),
            (
                batch(json!([{"event": "e", "distinct_id": "d", "uuid": "nope"}])),
                400,
            ),
            (
                batch(json!([{"event": "e", "distinct_id": "d", "properties": []}])),
                400,
            ),
            (
                batch(json!([{"event": "e", "distinct_id": "d", "timestamp": 5}])),
                400,
            ),
            (batch(json!([event(), 3])), 400),
            (
                json!([{"event": "e", "distinct_id": "d", "api_key": "a"},
                       {"event": "e", "distinct_id": "d", "api_key": "b"}]),
                401,
            ),
        ];
        for (body, status) in cases {
            let refusal = validate(&body, 1 << 20).err();
            assert_eq!(refusal.map(|r| r.status), Some(status), "{body}");
        }
    }

    #[test]
    fn accepts_posthog_variants() {
        let single = json!({"token": "k", "event": "e", "properties": {"distinct_id": 42}});
        let batch = validate(&single, 1 << 20).unwrap();
        assert_eq!(batch.events[0].distinct_id, "42");
        let array = json!([{"event": "e", "distinct_id": "d", "properties": {"token": "k"}}]);
        assert_eq!(validate(&array, 1 << 20).unwrap().api_key, "k");
    }

    #[test]
    fn oversized_event_is_refused_with_413() {
        let body = batch(
            json!([{"event": "e", "distinct_id": "d", "properties": {"x": "y".repeat(200)}}]),
        );
        assert_eq!(validate(&body, 100).err().map(|r| r.status), Some(413));
    }

    #[test]
    fn decodes_gzip_by_header_query_or_magic() {
        use std::io::Write;
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        encoder.write_all(b"{\"a\":1}").unwrap();
        let gz = encoder.finish().unwrap();
        for (encoding, query) in [(Some("gzip"), None), (None, Some("gzip-js")), (None, None)] {
            let decoded = decode_body(&gz, encoding, query, 1000).unwrap();
            assert_eq!(decoded.bytes, b"{\"a\":1}");
            assert!(decoded.compressed);
        }
        assert_eq!(
            decode_body(&gz, None, None, 3).err().map(|r| r.status),
            Some(413)
        );
        assert_eq!(
            decode_body(b"{}", Some("gzip"), None, 1000)
                .err()
                .map(|r| r.status),
            Some(400)
        );
        assert_eq!(
            decode_body(b"{}", Some("br"), None, 1000)
                .err()
                .map(|r| r.status),
            Some(415)
        );
    }
}

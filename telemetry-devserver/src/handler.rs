//! One request, as hyper hands it over: read the body, apply the mode,
//! validate, record, answer (or not).
//!
//! Every request is recorded before the handler returns, that is before hyper
//! writes the answer or closes the connection, so once a client has its
//! answer, the record shows it. (Not recorded: a request whose client left
//! before its body arrived.)

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use http_body_util::BodyExt;
use hyper::body::{Body as _, Bytes, Incoming};
use hyper::header::{self, HeaderValue};
use hyper::http::request::Parts;
use hyper::{Method, Request};
use serde_json::{Value, json};

use crate::answer::{self, Answer};
use crate::capture::{self, Refusal};
use crate::state::Shared;
use crate::{Mode, RecordedEvent, RecordedRequest};

/// A request's body must arrive within this long once its head has.
const BODY_TIMEOUT: Duration = Duration::from_secs(60);
/// After answering 413, at most this much of the refused body is read...
const DISCARD_MAX_BYTES: usize = 256 * 1024 * 1024;
/// ...for at most this long.
const DISCARD_TIME: Duration = Duration::from_secs(10);

/// A request that gets no answer at all. When a handler fails, hyper closes
/// the connection without writing anything, which is exactly what
/// [`Mode::Hang`] (once released) and [`Mode::CloseConnection`] need.
#[derive(Debug, thiserror::Error)]
#[error("closed without an answer: {0}")]
pub(crate) struct Unanswered(&'static str);

/// Answers one request.
pub(crate) async fn handle(
    shared: Arc<Shared>,
    request: Request<Incoming>,
) -> Result<Answer, Unanswered> {
    let (parts, body) = request.into_parts();
    let mut record = new_record(&shared, &parts);
    let body = match read_body(body, shared.max_body_bytes).await {
        ReadBody::Complete(body) => body,
        ReadBody::TooLarge(rest) => {
            // Answer, then swallow the rest of the body, so that a client still
            // sending is not reset before it can read the answer (hyper keeps
            // the connection open while the body is being read).
            tokio::spawn(discard(rest));
            let detail = format!("request body larger than {} bytes", shared.max_body_bytes);
            return Ok(refuse_and_close(
                &shared,
                record,
                413,
                "payload_too_large",
                detail,
            ));
        }
        ReadBody::Malformed(detail) => {
            return Ok(refuse_and_close(
                &shared,
                record,
                400,
                "malformed_request",
                detail,
            ));
        }
        // The client is gone or stalled: nobody to answer.
        ReadBody::Failed(why) => return Err(Unanswered(why)),
    };
    record.body_len = body.len();

    if !record.capture {
        let answer = if parts.method == Method::GET && record.path == "/" {
            answer::text(
                200,
                "telemetry-devserver: POST PostHog capture requests to /batch/\n",
            )
        } else {
            let detail = format!("no endpoint at {}", record.path);
            answer::json(404, &capture::error_body(404, "not_found", &detail))
        };
        return Ok(answered(&shared, record, answer, Vec::new()));
    }
    if parts.method != Method::POST {
        let detail = format!("method {} not allowed, use POST", parts.method);
        let mut answer = answer::json(
            405,
            &capture::error_body(405, "method_not_allowed", &detail),
        );
        answer
            .headers_mut()
            .insert(header::ALLOW, HeaderValue::from_static("POST"));
        record.error = Some(detail);
        return Ok(answered(&shared, record, answer, Vec::new()));
    }
    capture(shared, record, &body).await
}

/// Answers a capture request: decodes it, then answers as the mode says.
async fn capture(
    shared: Arc<Shared>,
    mut record: RecordedRequest,
    body: &[u8],
) -> Result<Answer, Unanswered> {
    // Decode what can be decoded, even for a request about to be refused, so
    // that the record says which events it carried.
    let compression = query_param(record.query.as_deref(), "compression");
    let decoded = capture::decode_body(
        body,
        record.header("content-encoding"),
        compression.as_deref(),
        shared.max_body_bytes,
    );
    let json = decoded
        .as_ref()
        .map_err(Clone::clone)
        .and_then(|decoded| capture::parse_json(&decoded.bytes));
    if let Ok(json) = &json {
        record.event_uuids = capture::find_uuids(json);
    }
    let compressed = decoded.is_ok_and(|decoded| decoded.compressed);

    // Subscribed before the mode is taken, so that a hang sees every change
    // made after it started.
    let mut mode_changes = shared.mode_changes();
    let mode = shared.take_mode();
    record.mode = mode.clone();
    match mode {
        Mode::Ok | Mode::RejectEvent(_) => Ok(accept(&shared, record, json, compressed)),
        Mode::Slow(delay) => {
            // On a task of its own: hyper drops this handler when the client
            // gives up, but the events are recorded after the delay all the
            // same, as a real server would have stored them. Dropping the
            // server drops the task.
            let late = tokio::spawn(async move {
                tokio::time::sleep(delay).await;
                accept(&shared, record, json, compressed)
            });
            late.await.map_err(|_| Unanswered("slow answer failed"))
        }
        Mode::Hang => {
            record.error = Some("failure mode: hang".into());
            shared.record(record, Vec::new());
            // Until the mode changes. hyper drops this handler when the client
            // closes its side, and the runtime when the server is dropped;
            // either way the connection closes unanswered.
            let _ = mode_changes.changed().await;
            Err(Unanswered("failure mode: hang"))
        }
        Mode::CloseConnection => {
            record.error = Some("failure mode: close connection".into());
            shared.record(record, Vec::new());
            Err(Unanswered("failure mode: close connection"))
        }
        Mode::Status(_)
        | Mode::TooManyRequests { .. }
        | Mode::BadRequest
        | Mode::PayloadTooLarge
        | Mode::Unauthorized => {
            record.error = Some(format!("failure mode: {mode}"));
            Ok(answered(
                &shared,
                record,
                answer::for_mode(&mode),
                Vec::new(),
            ))
        }
    }
}

/// Records a request that hyper refused before it reached [`handle`] (a
/// malformed request or too large a head, which hyper answers itself): no
/// method, path or headers.
pub(crate) fn record_unparsed(shared: &Shared, status: u16, detail: String) {
    let mut record = blank_record(shared);
    record.status = Some(status);
    record.error = Some(detail);
    shared.record(record, Vec::new());
}

/// What became of a request body.
enum ReadBody {
    Complete(Vec<u8>),
    /// Larger than the limit, declared or as read; the rest of the body.
    TooLarge(Incoming),
    /// Not valid HTTP framing (e.g. a bad chunk size), as hyper found.
    Malformed(String),
    /// The client went away or stalled.
    Failed(&'static str),
}

/// Reads the whole body (hyper undoes chunked encoding), up to `max` bytes.
async fn read_body(mut body: Incoming, max: usize) -> ReadBody {
    let max_declared = u64::try_from(max).unwrap_or(u64::MAX);
    // A declared Content-Length is the lower bound of the size hint.
    if body.size_hint().lower() > max_declared {
        return ReadBody::TooLarge(body);
    }
    let read = async move {
        let mut bytes = Vec::new();
        while let Some(frame) = body.frame().await {
            let frame = match frame {
                Ok(frame) => frame,
                Err(error) => {
                    return match malformed(&error) {
                        Some(why) => ReadBody::Malformed(format!("invalid request body: {why}")),
                        None => ReadBody::Failed("request body not received"),
                    };
                }
            };
            if let Some(data) = frame.data_ref() {
                if bytes.len().saturating_add(data.len()) > max {
                    return ReadBody::TooLarge(body);
                }
                bytes.extend_from_slice(data);
            }
        }
        ReadBody::Complete(bytes)
    };
    tokio::time::timeout(BODY_TIMEOUT, read)
        .await
        .unwrap_or(ReadBody::Failed("request body timed out"))
}

/// Why hyper's decoder refused a body's framing (e.g. a bad chunk size), or
/// `None` when the body failed otherwise: the connection ended early
/// (`UnexpectedEof`) or broke.
fn malformed(error: &hyper::Error) -> Option<&std::io::Error> {
    let io = std::error::Error::source(error)?.downcast_ref::<std::io::Error>()?;
    matches!(
        io.kind(),
        std::io::ErrorKind::InvalidInput | std::io::ErrorKind::InvalidData
    )
    .then_some(io)
}

/// Reads and drops what is left of a refused body, within bounds.
async fn discard(mut body: Incoming) {
    let drain = async move {
        let mut left = DISCARD_MAX_BYTES;
        while left > 0 {
            match body.frame().await {
                Some(Ok(frame)) => {
                    left = left.saturating_sub(frame.data_ref().map_or(0, Bytes::len));
                }
                Some(Err(_)) | None => return,
            }
        }
    };
    let _ = tokio::time::timeout(DISCARD_TIME, drain).await;
}

/// Validates a capture request, records it with its events (or its refusal),
/// and returns the answer.
fn accept(
    shared: &Shared,
    mut record: RecordedRequest,
    json: Result<Value, Refusal>,
    compressed: bool,
) -> Answer {
    let batch = match json.and_then(|json| capture::validate(&json, shared.max_event_bytes)) {
        Ok(batch) => batch,
        Err(refusal) => {
            record.error = Some(refusal.detail.clone());
            let answer = answer::json(refusal.status, &refusal.body());
            return answered(shared, record, answer, Vec::new());
        }
    };
    if let Mode::RejectEvent(name) = &record.mode
        && let Some(index) = batch.events.iter().position(|event| event.event == *name)
    {
        let detail = format!("failure mode: event {index} is named {name}");
        let answer = answer::json(400, &capture::error_body(400, "invalid_payload", &detail));
        record.error = Some(detail);
        return answered(shared, record, answer, Vec::new());
    }
    let header = |name: &str| record.header(name).map(str::to_string);
    let events: Vec<RecordedEvent> = batch
        .events
        .into_iter()
        .map(|event| RecordedEvent {
            uuid: event.uuid,
            event: event.event,
            distinct_id: event.distinct_id,
            properties: event.properties,
            timestamp: event.timestamp,
            raw: event.raw,
            api_key: batch.api_key.clone(),
            sent_at: batch.sent_at.clone(),
            historical_migration: batch.historical_migration,
            request_id: record.id,
            path: record.path.clone(),
            user_agent: header("user-agent"),
            content_type: header("content-type"),
            content_encoding: header("content-encoding"),
            compression: query_param(record.query.as_deref(), "compression"),
            compressed,
            received_at: record.received_at,
        })
        .collect();
    record.accepted_events = events.len();
    answered(
        shared,
        record,
        answer::json(200, &json!({ "status": 1 })),
        events,
    )
}

/// Records the request with the status of its answer; returns the answer.
fn answered(
    shared: &Shared,
    mut record: RecordedRequest,
    answer: Answer,
    events: Vec<RecordedEvent>,
) -> Answer {
    record.status = Some(answer.status().as_u16());
    shared.record(record, events);
    answer
}

/// Refuses a request whose body was not read to its end, and closes the
/// connection after the answer, as the rest of the body cannot be told from a
/// next request.
fn refuse_and_close(
    shared: &Shared,
    mut record: RecordedRequest,
    status: u16,
    code: &str,
    detail: String,
) -> Answer {
    let mut answer = answer::json(status, &capture::error_body(status, code, &detail));
    answer
        .headers_mut()
        .insert(header::CONNECTION, HeaderValue::from_static("close"));
    record.error = Some(detail);
    answered(shared, record, answer, Vec::new())
}

fn new_record(shared: &Shared, parts: &Parts) -> RecordedRequest {
    let mut record = blank_record(shared);
    record.method = parts.method.to_string();
    record.path = parts.uri.path().to_string();
    record.query = parts.uri.query().map(str::to_string);
    record.capture = capture::is_capture_path(&record.path);
    record.headers = parts
        .headers
        .iter()
        .map(|(name, value)| {
            let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
            (name.as_str().to_string(), value)
        })
        .collect();
    record
}

fn blank_record(shared: &Shared) -> RecordedRequest {
    RecordedRequest {
        id: shared.next_request_id(),
        received_at: SystemTime::now(),
        method: String::new(),
        path: String::new(),
        query: None,
        headers: Vec::new(),
        body_len: 0,
        capture: false,
        mode: Mode::Ok,
        status: None,
        accepted_events: 0,
        event_uuids: Vec::new(),
        error: None,
    }
}

fn query_param(query: Option<&str>, name: &str) -> Option<String> {
    query?.split('&').find_map(|pair| {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        (key == name).then(|| value.to_string())
    })
}

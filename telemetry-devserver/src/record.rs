//! What the server keeps about the requests and events it received.

use std::time::SystemTime;

use serde::Serialize;
use serde_json::{Map, Value};
use uuid::Uuid;

use crate::Mode;

/// One event the server accepted (answered with a 2xx and stored), with the
/// batch and request it came in.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RecordedEvent {
    /// The event's `uuid`, when it carried one (posthog-rs always sends one).
    pub uuid: Option<Uuid>,
    /// The event name (`event`).
    pub event: String,
    /// The distinct id, as sent (a number is kept in its decimal form). Taken
    /// from the event's `distinct_id`, or from `properties.distinct_id` as
    /// PostHog does when the former is absent.
    pub distinct_id: String,
    /// The event's `properties` (empty when absent).
    pub properties: Map<String, Value>,
    /// The event's `timestamp` string, `None` when absent or `null`.
    pub timestamp: Option<String>,
    /// The event object exactly as received.
    pub raw: Value,
    /// The project key the batch was sent with (`api_key` or `token`).
    pub api_key: String,
    /// The batch's `sent_at`, when present.
    pub sent_at: Option<String>,
    /// The batch's `historical_migration` flag (`false` when absent).
    pub historical_migration: bool,
    /// The id of the [`RecordedRequest`] that carried the event.
    pub request_id: u64,
    /// The request path, e.g. `/batch/` or `/ingest/batch/`.
    pub path: String,
    /// The request's `User-Agent` header.
    pub user_agent: Option<String>,
    /// The request's `Content-Type` header.
    pub content_type: Option<String>,
    /// The request's `Content-Encoding` header.
    pub content_encoding: Option<String>,
    /// The request's `compression` query parameter (posthog-rs sends
    /// `compression=gzip` with a gzip body).
    pub compression: Option<String>,
    /// Whether the body arrived compressed.
    pub compressed: bool,
    /// When the request that carried the event was received.
    pub received_at: SystemTime,
}

/// One HTTP request the server received, whatever it answered.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RecordedRequest {
    /// Sequence number, unique for the life of the server (not reset by
    /// [`DevServer::clear`](crate::DevServer::clear)).
    pub id: u64,
    /// When the request's head was fully read.
    pub received_at: SystemTime,
    /// The HTTP method.
    pub method: String,
    /// The path, without the query string.
    pub path: String,
    /// The query string, without the `?`.
    pub query: Option<String>,
    /// Every header, names in lower case, values of a repeated name in the
    /// order received (the order across names is that of hyper's header map,
    /// which does not promise arrival order).
    pub headers: Vec<(String, String)>,
    /// Length of the body as received on the wire (before decompression).
    pub body_len: usize,
    /// Whether the path is a capture endpoint (`/batch/`, `/capture/`,
    /// `/i/v0/e/`, `/e/`, `/track/`, with any prefix).
    pub capture: bool,
    /// The failure mode applied to this request ([`Mode::Ok`] for a normal
    /// answer, and for requests that are not capture requests).
    pub mode: Mode,
    /// The status code answered, or `None` when no response was written
    /// ([`Mode::Hang`], [`Mode::CloseConnection`], or the server shutting down).
    pub status: Option<u16>,
    /// How many events were accepted and recorded from this request.
    pub accepted_events: usize,
    /// The uuids found in the body, even when the request was refused: a retry
    /// can be matched to the attempt it repeats.
    pub event_uuids: Vec<Uuid>,
    /// Why the request was refused (validation message, or the failure mode).
    pub error: Option<String>,
}

impl RecordedRequest {
    /// The value of the first header with this name (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }
}

/// What [`DevServer::subscribe`](crate::DevServer::subscribe) delivers, as it
/// happens.
#[derive(Debug, Clone, PartialEq)]
pub enum Activity {
    /// A request was answered (or refused without an answer).
    Request(RecordedRequest),
    /// An event was accepted; sent after the [`Activity::Request`] that carried it.
    Event(RecordedEvent),
}

//! The answers the server writes, as hyper responses.

use http_body_util::Full;
use hyper::body::Bytes;
use hyper::header::{self, HeaderValue};
use hyper::{Response, StatusCode};
use serde_json::{Value, json};

use crate::Mode;
use crate::capture;

/// An answer to write.
pub(crate) type Answer = Response<Full<Bytes>>;

/// The answer of a mode with a [fixed status](Mode::fixed_status): 500 for
/// the others, which never answer this way, and for a status that cannot end
/// an HTTP exchange (outside 200..=999: a 1xx is only ever interim, and hyper
/// would turn it into a 500 anyway).
pub(crate) fn for_mode(mode: &Mode) -> Answer {
    let status = mode
        .fixed_status()
        .filter(|status| (200..=999).contains(status))
        .unwrap_or(500);
    let (code, detail): (&str, String) = match mode {
        Mode::TooManyRequests { .. } => ("rate_limited", "rate limited".into()),
        Mode::BadRequest => ("invalid_payload", "failure mode: bad request".into()),
        Mode::PayloadTooLarge => (
            "payload_too_large",
            "failure mode: payload too large".into(),
        ),
        Mode::Unauthorized => ("invalid_api_key", "API key is not valid".into()),
        Mode::Status(_) => ("failure_mode", format!("failure mode: status {status}")),
        Mode::Ok | Mode::Slow(_) | Mode::RejectEvent(_) | Mode::Hang | Mode::CloseConnection => {
            ("failure_mode", "no response expected".into())
        }
    };
    let body: Value = if (200..300).contains(&status) {
        json!({ "status": 1 })
    } else {
        capture::error_body(status, code, &detail)
    };
    let mut answer = json(status, &body);
    if let Mode::TooManyRequests {
        retry_after_secs: Some(secs),
    } = mode
    {
        answer
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(*secs));
    }
    answer
}

/// A JSON answer.
pub(crate) fn json(status: u16, body: &Value) -> Answer {
    new(status, "application/json", body.to_string())
}

/// A plain text answer.
pub(crate) fn text(status: u16, body: &str) -> Answer {
    new(status, "text/plain; charset=utf-8", body.to_string())
}

/// hyper adds Content-Length and Date, and `Connection: close` when the client
/// asked for it.
fn new(status: u16, content_type: &'static str, body: String) -> Answer {
    let mut answer = Response::new(Full::from(body));
    *answer.status_mut() =
        StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    answer
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    answer
}

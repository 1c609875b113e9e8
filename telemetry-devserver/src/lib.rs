//! A PostHog-compatible capture server on 127.0.0.1, for tests and for watching
//! what a CLI sends.
//!
//! [`DevServer`] accepts PostHog's capture contract the way PostHog's capture
//! service does: `POST {prefix}/batch/` (also `/batch`, `/capture/`,
//! `/i/v0/e/`, `/e/` and `/track/`, under any path prefix a reverse proxy may
//! add), JSON bodies, gzip or deflate compressed or not (`Content-Encoding`, the
//! `compression=gzip|gzip-js` query parameter, or the gzip magic number), a
//! 20 MB body limit and a 1 MB event limit (413 beyond). A request is accepted
//! or refused as a whole:
//!
//! - 401 when no project key is given (batch `api_key` or `token`, else the
//!   events' own keys, which must agree), as PostHog answers;
//! - 400 when the body is not JSON, holds no event, or an event lacks a
//!   non-empty `event` name or a `distinct_id` (non-empty string or number, in
//!   the event or in its `properties`), or has a `uuid` that is not a UUID,
//!   `properties` that are not an object, or a `timestamp` that is not a string;
//! - otherwise `200 {"status":1}`, and every event is recorded with its batch's
//!   `api_key`, `sent_at` and `historical_migration`, the request's
//!   `User-Agent`, `Content-Type` and `Content-Encoding`, and the arrival time.
//!
//! Error bodies are JSON: `{"type", "code", "detail", "attr"}`. Every request is
//! recorded too ([`RecordedRequest`]), refused or not, with the status answered.
//!
//! A [`Mode`] makes the server misbehave, until changed or for the next N
//! capture requests: answer a status code (503, 429 with or without
//! `Retry-After`, 400, 413, 401), hang without answering, close the connection
//! without answering, or answer slowly. Requests refused by a mode never record
//! events.
//!
//! HTTP/1.1 itself (parsing, chunked bodies, keep-alive, `Expect:
//! 100-continue`) is [hyper](https://hyper.rs)'s, served on a small tokio
//! runtime on one background thread. A request too malformed for hyper to
//! parse gets hyper's own answer (400, or 431 for a head over 64 KiB, with no
//! body) and is recorded without method or path. Dropping the [`DevServer`]
//! closes every connection, even a hanging one, and joins that thread.
//!
//! ```
//! use std::time::Duration;
//! use std::io::{Read, Write};
//! use telemetry_devserver::{DevServer, DevServerOptions};
//!
//! let server = DevServer::start(DevServerOptions::default())?;
//! let body = r#"{"api_key":"phc_test","batch":[{"event":"hello","distinct_id":"user-1"}]}"#;
//! let mut stream = std::net::TcpStream::connect(server.addr())?;
//! write!(
//!     stream,
//!     "POST /batch/ HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n\
//!      Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
//!     body.len()
//! )?;
//! let mut response = String::new();
//! stream.read_to_string(&mut response)?;
//! assert!(response.starts_with("HTTP/1.1 200"));
//! assert!(server.wait_for_events(1, Duration::from_secs(10)));
//! assert_eq!(server.events()[0].event, "hello");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod answer;
mod capture;
mod devserver;
mod handler;
mod mode;
mod record;
mod server;
mod state;

pub use devserver::{DEFAULT_MAX_BODY_BYTES, DEFAULT_MAX_EVENT_BYTES, DevServer, DevServerOptions};
pub use mode::{Mode, ParseModeError};
pub use record::{Activity, RecordedEvent, RecordedRequest};

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The port could not be bound on 127.0.0.1 (typically: it is in use).
    #[error("cannot listen on 127.0.0.1:{port}: {source}")]
    Bind {
        /// The port asked for (0 for any).
        port: u16,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// The listener or its thread could not be set up.
    #[error("cannot start the server: {0}")]
    Io(#[source] std::io::Error),
}

/// This crate's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

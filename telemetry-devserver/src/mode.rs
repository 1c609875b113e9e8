//! Failure modes: how the server answers capture requests.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use serde::Serialize;

/// How the server answers the capture requests it receives.
///
/// Set with [`DevServer::set_mode`](crate::DevServer::set_mode) (until changed)
/// or [`DevServer::set_mode_for`](crate::DevServer::set_mode_for) (for the next
/// N capture requests). Only [`Mode::Ok`], [`Mode::Slow`] and
/// [`Mode::RejectEvent`] ever record events as accepted; every other mode
/// refuses the request, whatever it contains.
///
/// The textual form (see [`FromStr`] and [`Display`](fmt::Display)) is what the
/// `telemetry-devserver --mode` flag takes: `ok`, `hang`, `close`,
/// `slow:500ms` / `slow:2s`, `429` / `429:5` (Retry-After seconds),
/// `reject:EVENT_NAME`, or any HTTP status code (`400`, `401` and `413` map to
/// their named variants).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
#[non_exhaustive]
pub enum Mode {
    /// Validate like PostHog's capture service, record what is valid, and answer
    /// `200 {"status":1}` (or 400/401/413 for an invalid request).
    #[default]
    Ok,
    /// Answer with this HTTP status code and a JSON error body, without recording
    /// any event. With a 2xx code this simulates a server that acknowledges and
    /// then loses the events. A 1xx code, which cannot end an HTTP exchange, is
    /// answered as 500.
    Status(u16),
    /// Answer `429 Too Many Requests`, with a `Retry-After` header when
    /// `retry_after_secs` is set.
    TooManyRequests {
        /// Value of the `Retry-After` header in seconds; `None` sends no header.
        retry_after_secs: Option<u64>,
    },
    /// Answer `400 Bad Request`.
    BadRequest,
    /// Answer `413 Payload Too Large`.
    PayloadTooLarge,
    /// Answer `401 Unauthorized`, as PostHog does for an unknown project key.
    Unauthorized,
    /// Read the request, then never answer: the connection stays open until the
    /// client gives up, the mode is changed, or the server is dropped; then it is
    /// closed without a response.
    Hang,
    /// Read the request, then close the connection without writing a response,
    /// so the client sees the connection closed before the response.
    CloseConnection,
    /// Wait this long, then behave like [`Mode::Ok`]. The events are recorded
    /// even if the client stopped waiting meanwhile (a real server would have
    /// stored them too), which is how a client timeout can produce duplicates.
    Slow(Duration),
    /// Behave like [`Mode::Ok`], except that a request carrying any event with
    /// this name is refused as a whole with `400 Bad Request` (as PostHog
    /// refuses a batch holding one invalid event), recording none of its events.
    /// A client that isolates the bad event gets the others accepted.
    RejectEvent(String),
}

impl Mode {
    /// The HTTP status this mode answers with, or `None` for the modes whose
    /// answer depends on the request ([`Mode::Ok`], [`Mode::Slow`]) or that never
    /// answer ([`Mode::Hang`], [`Mode::CloseConnection`]).
    pub fn fixed_status(&self) -> Option<u16> {
        match self {
            Mode::Ok
            | Mode::Slow(_)
            | Mode::RejectEvent(_)
            | Mode::Hang
            | Mode::CloseConnection => None,
            Mode::Status(code) => Some(*code),
            Mode::TooManyRequests { .. } => Some(429),
            Mode::BadRequest => Some(400),
            Mode::PayloadTooLarge => Some(413),
            Mode::Unauthorized => Some(401),
        }
    }
}

impl fmt::Display for Mode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Mode::Ok => f.write_str("ok"),
            Mode::Status(code) => write!(f, "{code}"),
            Mode::TooManyRequests {
                retry_after_secs: Some(secs),
            } => write!(f, "429:{secs}"),
            Mode::TooManyRequests {
                retry_after_secs: None,
            } => f.write_str("429"),
            Mode::BadRequest => f.write_str("400"),
            Mode::PayloadTooLarge => f.write_str("413"),
            Mode::Unauthorized => f.write_str("401"),
            Mode::Hang => f.write_str("hang"),
            Mode::CloseConnection => f.write_str("close"),
            Mode::Slow(delay) => write!(f, "slow:{}ms", delay.as_millis()),
            Mode::RejectEvent(name) => write!(f, "reject:{name}"),
        }
    }
}

/// A string that names no [`Mode`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown mode {0:?}: expected ok, hang, close, slow:DURATION (e.g. slow:500ms, slow:2s), \
     429[:RETRY_AFTER_SECS], reject:EVENT_NAME or an HTTP status code between 100 and 599"
)]
pub struct ParseModeError(pub String);

impl FromStr for Mode {
    type Err = ParseModeError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        // the event name keeps its case
        let trimmed = s.trim();
        if let Some((prefix, name)) = trimmed.split_once(':')
            && prefix.eq_ignore_ascii_case("reject")
        {
            if name.is_empty() {
                return Err(ParseModeError(s.to_string()));
            }
            return Ok(Mode::RejectEvent(name.to_string()));
        }
        let text = s.trim().to_ascii_lowercase();
        let err = || ParseModeError(s.to_string());
        match text.as_str() {
            "ok" | "200" => return Ok(Mode::Ok),
            "hang" => return Ok(Mode::Hang),
            "close" | "close-connection" | "closeconnection" => return Ok(Mode::CloseConnection),
            "400" | "bad-request" => return Ok(Mode::BadRequest),
            "401" | "unauthorized" => return Ok(Mode::Unauthorized),
            "413" | "too-large" => return Ok(Mode::PayloadTooLarge),
            "429" => {
                return Ok(Mode::TooManyRequests {
                    retry_after_secs: None,
                });
            }
            _ => {}
        }
        if let Some(secs) = text.strip_prefix("429:") {
            let secs = secs.parse::<u64>().map_err(|_| err())?;
            return Ok(Mode::TooManyRequests {
                retry_after_secs: Some(secs),
            });
        }
        if let Some(delay) = text.strip_prefix("slow:") {
            return parse_duration(delay).map(Mode::Slow).ok_or_else(err);
        }
        match text.parse::<u16>() {
            Ok(code) if (100..=599).contains(&code) => Ok(Mode::Status(code)),
            _ => Err(err()),
        }
    }
}

/// Parses `500ms`, `2s` or a bare number of milliseconds.
fn parse_duration(text: &str) -> Option<Duration> {
    if let Some(ms) = text.strip_suffix("ms") {
        return ms.trim().parse::<u64>().ok().map(Duration::from_millis);
    }
    if let Some(secs) = text.strip_suffix('s') {
        return secs.trim().parse::<u64>().ok().map(Duration::from_secs);
    }
    text.parse::<u64>().ok().map(Duration::from_millis)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_displays_round_trip() {
        let modes = [
            Mode::Ok,
            Mode::Status(503),
            Mode::Status(500),
            Mode::TooManyRequests {
                retry_after_secs: Some(3),
            },
            Mode::TooManyRequests {
                retry_after_secs: None,
            },
            Mode::BadRequest,
            Mode::PayloadTooLarge,
            Mode::Unauthorized,
            Mode::Hang,
            Mode::CloseConnection,
            Mode::Slow(Duration::from_millis(1500)),
            Mode::RejectEvent("test.Bad".into()),
        ];
        for mode in modes {
            assert_eq!(mode.to_string().parse::<Mode>(), Ok(mode.clone()), "{mode}");
        }
        assert_eq!("slow:2s".parse(), Ok(Mode::Slow(Duration::from_secs(2))));
        assert_eq!(" HANG ".parse(), Ok(Mode::Hang));
        assert_eq!(
            "REJECT:cli.x".parse(),
            Ok(Mode::RejectEvent("cli.x".into()))
        );
    }

    #[test]
    fn rejects_unknown_text() {
        for text in [
            "",
            "nope",
            "99",
            "600",
            "429:x",
            "slow:",
            "slow:fast",
            "reject:",
        ] {
            assert!(text.parse::<Mode>().is_err(), "{text:?}");
        }
    }
}

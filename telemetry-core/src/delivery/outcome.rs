//! What the answer to one batch means for its records: accepted, kept for a later attempt, or
//! dropped for good.
//!
//! | answer | outcome |
//! | --- | --- |
//! | 2xx | accepted: the records move to the recently-sent log |
//! | transport error, timeout, connection closed | retry later ([`FailureClass::Network`]) |
//! | 408 | retry later ([`FailureClass::RequestTimeout`]) |
//! | 404 | retry later ([`FailureClass::NotFound`]), see below |
//! | 5xx | retry later ([`FailureClass::ServerError`]) |
//! | 429 | retry later, after a longer wait ([`FailureClass::RateLimited`]); see below on `Retry-After` |
//! | any other status | retry later ([`FailureClass::UnexpectedStatus`]) |
//! | 400, 413, batch of one record | dropped and counted ([`RejectionClass::BadRequest`], [`RejectionClass::TooLarge`]) |
//! | 400, 413, batch of several | split in halves, each sent again (see [`sender`](super::sender)) |
//! | 401 | dropped and counted ([`RejectionClass::Unauthorized`]) |
//! | 402 | dropped and counted ([`RejectionClass::BillingLimit`]) |
//! | 403 | dropped and counted ([`RejectionClass::Forbidden`]) |
//!
//! **404 is retried.** PostHog's capture service never answers 404 for a valid `/batch/`
//! request; a 404 means the URL is wrong, which in practice is a reverse proxy whose path
//! prefix is misconfigured or being redeployed. That is fixable on the operator's side, so
//! dropping every user's events until the fix would lose data for nothing. Retrying is cheap: the
//! queue is bounded (the oldest records go first) and the cross-run back-off keeps a broken
//! endpoint from being asked more than a few times an hour.
//!
//! The same rule covers any other unexpected status: only the statuses PostHog uses to say
//! "never" (400, 401, 402, 403, 413) drop records.
//!
//! posthog-rs reports 400 and 413 with the same error (`BadRequest(body)`), without the status.
//! Both are handled alike (the sender bisects the batch down to the refused records); which
//! of the two a dropped record is counted as is read from the answer's body
//! ([`RejectionClass::TooLarge`] when it says "too large", "too big" or "payload_too_large",
//! [`RejectionClass::BadRequest`] otherwise).
//!
//! **`Retry-After` cannot be honoured.** posthog-rs 0.30's blocking client reads a 429's
//! `Retry-After` only for its own retry within the call (`retry::v0_after_response`, clamped to
//! `retry_max_backoff_ms`, and only while attempts are left: with one attempt per run, never);
//! what reaches the caller is `Error::RateLimit`, a unit variant with neither the header nor
//! the body. So a 429 waits [`RATE_LIMITED_BACKOFF`](crate::limits::RATE_LIMITED_BACKOFF)
//! at least, whatever the server asked.

/// Why a batch was not delivered this time; its records are kept and retried later.
///
/// Stored in `telemetry-sender.json` by [`as_str`](Self::as_str) (the names serde's
/// `rename_all = "snake_case"` gave it; the tests keep the derive as the reference).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(
    test,
    derive(serde::Serialize, serde::Deserialize),
    serde(rename_all = "snake_case")
)]
pub enum FailureClass {
    /// No answer: DNS, connection refused or reset, timeout, connection closed before the
    /// response.
    Network,
    /// 408 Request Timeout.
    RequestTimeout,
    /// 404 Not Found (a misconfigured proxy; see the module documentation).
    NotFound,
    /// A 5xx answer.
    ServerError,
    /// 429 Too Many Requests: the next attempt waits at least
    /// [`RATE_LIMITED_BACKOFF`](super::RATE_LIMITED_BACKOFF).
    RateLimited,
    /// Any other status that is neither success nor a refusal for good.
    UnexpectedStatus,
    /// The sender panicked before it finished (not an answer from the server): reported by
    /// `status` as a problem.
    Crashed,
    /// The sender ended while it held its lock, without returning: killed, aborted (a panic
    /// under `panic = "abort"`) or stopped at its deadline, as the next sender finds (see
    /// [the lock](super::lock)). One alone waits for no back-off (a shutdown or a `kill` is no
    /// fault); after another failure it does, and `status` reports it as a problem.
    Interrupted,
}

impl FailureClass {
    /// Every class.
    pub(crate) const ALL: [Self; 8] = [
        FailureClass::Network,
        FailureClass::RequestTimeout,
        FailureClass::NotFound,
        FailureClass::ServerError,
        FailureClass::RateLimited,
        FailureClass::UnexpectedStatus,
        FailureClass::Crashed,
        FailureClass::Interrupted,
    ];

    /// The class's name, as stored in `telemetry-sender.json`.
    pub fn as_str(self) -> &'static str {
        match self {
            FailureClass::Network => "network",
            FailureClass::RequestTimeout => "request_timeout",
            FailureClass::NotFound => "not_found",
            FailureClass::ServerError => "server_error",
            FailureClass::RateLimited => "rate_limited",
            FailureClass::UnexpectedStatus => "unexpected_status",
            FailureClass::Crashed => "crashed",
            FailureClass::Interrupted => "interrupted",
        }
    }

    /// The class stored under `name`, if any.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|class| class.as_str() == name)
    }

    /// A few words for `status`.
    pub fn describe(self) -> &'static str {
        match self {
            FailureClass::Network => "no answer from the server (network error or timeout)",
            FailureClass::RequestTimeout => "the server timed out reading the request (408)",
            FailureClass::NotFound => "the endpoint was not found (404; is the host right?)",
            FailureClass::ServerError => "server error (5xx)",
            FailureClass::RateLimited => "rate limited by the server (429)",
            FailureClass::UnexpectedStatus => "an unexpected answer from the server",
            FailureClass::Crashed => "the sender crashed before it finished",
            FailureClass::Interrupted => {
                "the sender was stopped before it finished (killed, aborted or past its deadline)"
            }
        }
    }
}

/// Why a batch was refused for good; its records are dropped and counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
#[cfg_attr(
    test,
    derive(serde::Serialize, serde::Deserialize),
    serde(rename_all = "snake_case")
)]
pub enum RejectionClass {
    /// 400 Bad Request (a record the server found invalid, isolated by bisection).
    BadRequest,
    /// 413 Payload Too Large for a record sent alone.
    TooLarge,
    /// 401 Unauthorized: the project key is not valid.
    Unauthorized,
    /// 402: the project's billing limit is reached.
    BillingLimit,
    /// 403 Forbidden.
    Forbidden,
    /// The records could not be turned into a request at all.
    Unsendable,
}

impl RejectionClass {
    /// The class's name, as counted in `telemetry-stats.json`.
    pub fn as_str(self) -> &'static str {
        match self {
            RejectionClass::BadRequest => "bad_request",
            RejectionClass::TooLarge => "too_large",
            RejectionClass::Unauthorized => "unauthorized",
            RejectionClass::BillingLimit => "billing_limit",
            RejectionClass::Forbidden => "forbidden",
            RejectionClass::Unsendable => "unsendable",
        }
    }

    /// The class counted in `telemetry-stats.json` under `name`, if any.
    pub fn from_name(name: &str) -> Option<Self> {
        [
            RejectionClass::BadRequest,
            RejectionClass::TooLarge,
            RejectionClass::Unauthorized,
            RejectionClass::BillingLimit,
            RejectionClass::Forbidden,
            RejectionClass::Unsendable,
        ]
        .into_iter()
        .find(|class| class.as_str() == name)
    }

    /// A few words for `status`.
    pub fn describe(self) -> &'static str {
        match self {
            RejectionClass::BadRequest => "refused as invalid (400)",
            RejectionClass::TooLarge => "refused as too large (413)",
            RejectionClass::Unauthorized => "refused: project key not valid (401)",
            RejectionClass::BillingLimit => "refused: billing limit reached (402)",
            RejectionClass::Forbidden => "refused: forbidden (403)",
            RejectionClass::Unsendable => "could not be sent at all",
        }
    }
}

/// A failed attempt, with the detail tracing and `status` show.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// The class.
    pub class: FailureClass,
    /// The HTTP status, when there was one.
    pub status: Option<u16>,
}

/// What one batch's answer means.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// 2xx: every record in the batch was accepted.
    Accepted,
    /// Keep the records and try again later.
    Retry(Failure),
    /// Drop the records and count them. For [`RejectionClass::BadRequest`] and
    /// [`RejectionClass::TooLarge`] this is about some record(s) of the batch, not all: the
    /// sender splits a batch of several and sends the halves again.
    Rejected(RejectionClass),
}

impl Outcome {
    /// Classifies the result of `capture_batch_immediate`.
    pub fn of(result: &Result<posthog_rs::CaptureSummary, posthog_rs::Error>) -> Self {
        use posthog_rs::Error;
        let retry = |class, status| Outcome::Retry(Failure { class, status });
        match result {
            Ok(_) => Outcome::Accepted,
            Err(Error::BadRequest(body)) => Outcome::Rejected(bad_request_class(body)),
            Err(Error::Unauthorized) => Outcome::Rejected(RejectionClass::Unauthorized),
            Err(Error::BillingLimitExceeded(_)) => Outcome::Rejected(RejectionClass::BillingLimit),
            Err(Error::Serialization(_)) => Outcome::Rejected(RejectionClass::Unsendable),
            // posthog-rs gives no `Retry-After` with it (see the module documentation)
            Err(Error::RateLimit) => retry(FailureClass::RateLimited, Some(429)),
            Err(Error::ServerError { status, .. }) => {
                retry(FailureClass::ServerError, Some(*status))
            }
            Err(Error::Connection(message)) => match unexpected_status(message) {
                Some(403) => Outcome::Rejected(RejectionClass::Forbidden),
                Some(408) => retry(FailureClass::RequestTimeout, Some(408)),
                Some(404) => retry(FailureClass::NotFound, Some(404)),
                Some(status) => retry(FailureClass::UnexpectedStatus, Some(status)),
                None => retry(FailureClass::Network, None),
            },
            Err(_) => retry(FailureClass::UnexpectedStatus, None),
        }
    }
}

impl Outcome {
    /// Whether the refusal may concern only some records of the batch (400 or 413), so that
    /// a batch of several is split and its halves sent again.
    pub fn splits(&self) -> bool {
        matches!(
            self,
            Outcome::Rejected(RejectionClass::BadRequest | RejectionClass::TooLarge)
        )
    }
}

/// 413 or 400, from the body of posthog-rs's `BadRequest(body)` (it has no status): 413 when
/// it says "too large" or "too big" (`_` for the space too), in any ASCII case.
fn bad_request_class(body: &str) -> RejectionClass {
    // compared in place, without a lowercased copy of the body
    let body = body.as_bytes();
    let too_large = (0..body.len()).any(|i| {
        let rest = &body[i..];
        starts_with_ignoring_case(rest, b"too")
            && matches!(rest.get(3), Some(b' ' | b'_'))
            && (starts_with_ignoring_case(&rest[4..], b"large")
                || starts_with_ignoring_case(&rest[4..], b"big"))
    });
    if too_large {
        RejectionClass::TooLarge
    } else {
        RejectionClass::BadRequest
    }
}

/// Whether `text` starts with `prefix` (lowercase), in any ASCII case.
fn starts_with_ignoring_case(text: &[u8], prefix: &[u8]) -> bool {
    text.get(..prefix.len())
        .is_some_and(|start| start.eq_ignore_ascii_case(prefix))
}

/// The status in posthog-rs's `Connection("Unexpected HTTP status N: ...")`, the error it
/// gives for a status it has no variant for; `None` for a transport error.
fn unexpected_status(message: &str) -> Option<u16> {
    let rest = message.strip_prefix("Unexpected HTTP status ")?;
    let digits = rest
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(rest.len());
    rest[..digits].parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use posthog_rs::Error;

    fn of(error: Error) -> Outcome {
        Outcome::of(&Err(error))
    }

    #[test]
    fn failure_classes_are_stored_under_serde_s_names() {
        for class in FailureClass::ALL {
            let json = serde_json::to_string(&class).unwrap();
            assert_eq!(json, format!("\"{}\"", class.as_str()));
            assert_eq!(FailureClass::from_name(class.as_str()), Some(class));
        }
        assert_eq!(FailureClass::from_name("Network"), None);
    }

    #[test]
    fn every_class_is_counted_under_a_name_of_its_own() {
        for class in [
            RejectionClass::BadRequest,
            RejectionClass::TooLarge,
            RejectionClass::Unauthorized,
            RejectionClass::BillingLimit,
            RejectionClass::Forbidden,
            RejectionClass::Unsendable,
        ] {
            assert_eq!(RejectionClass::from_name(class.as_str()), Some(class));
        }
    }

    /// The body is read as it was with a lowercased copy and `contains`.
    #[test]
    fn too_large_is_read_from_the_body_in_any_case() {
        let old = |body: &str| {
            let body = body.to_ascii_lowercase();
            if ["too large", "too_large", "too big", "too_big"]
                .iter()
                .any(|needle| body.contains(needle))
            {
                RejectionClass::TooLarge
            } else {
                RejectionClass::BadRequest
            }
        };
        for body in [
            "",
            "too",
            "too ",
            "too b",
            "too big",
            "TOO BIG",
            "x too_Big",
            "too_larg",
            "toO LaRgE!",
            "ttoo  big",
            "tooo big",
            "too-big",
            "é too big é",
            "TÖO BIG",
            "to big",
            "toobig",
            "payload_too_large",
            "too lar",
            "…too_large…",
        ] {
            assert_eq!(bad_request_class(body), old(body), "{body}");
        }
        assert_eq!(unexpected_status("Unexpected HTTP status 404"), Some(404));
        assert_eq!(unexpected_status("Unexpected HTTP status 99999: x"), None);
        assert_eq!(unexpected_status("Unexpected HTTP status : x"), None);
    }

    #[test]
    fn classes() {
        assert_eq!(
            Outcome::of(&Ok(posthog_rs::CaptureSummary::default())),
            Outcome::Accepted
        );
        assert_eq!(
            of(Error::BadRequest("x".into())),
            Outcome::Rejected(RejectionClass::BadRequest)
        );
        assert_eq!(
            of(Error::BadRequest(
                r#"{"type":"validation_error","code":"payload_too_large","detail":"x"}"#.into()
            )),
            Outcome::Rejected(RejectionClass::TooLarge)
        );
        assert_eq!(
            of(Error::BadRequest("Payload Too Large".into())),
            Outcome::Rejected(RejectionClass::TooLarge)
        );
        assert!(of(Error::BadRequest(String::new())).splits());
        assert!(of(Error::BadRequest("too large".into())).splits());
        assert!(!of(Error::Unauthorized).splits());
        assert_eq!(
            of(Error::Unauthorized),
            Outcome::Rejected(RejectionClass::Unauthorized)
        );
        assert_eq!(
            of(Error::BillingLimitExceeded(String::new())),
            Outcome::Rejected(RejectionClass::BillingLimit)
        );
        assert_eq!(
            of(Error::Connection("Unexpected HTTP status 403: no".into())),
            Outcome::Rejected(RejectionClass::Forbidden)
        );
        let retry = |class, status| Outcome::Retry(Failure { class, status });
        assert_eq!(
            of(Error::Connection("Unexpected HTTP status 404: {}".into())),
            retry(FailureClass::NotFound, Some(404))
        );
        assert_eq!(
            of(Error::Connection("Unexpected HTTP status 408: {}".into())),
            retry(FailureClass::RequestTimeout, Some(408))
        );
        assert_eq!(
            of(Error::Connection("Unexpected HTTP status 418: {}".into())),
            retry(FailureClass::UnexpectedStatus, Some(418))
        );
        assert_eq!(
            of(Error::Connection("error sending request for url".into())),
            retry(FailureClass::Network, None)
        );
        assert_eq!(
            of(Error::ServerError {
                status: 503,
                message: String::new()
            }),
            retry(FailureClass::ServerError, Some(503))
        );
        assert_eq!(
            of(Error::RateLimit),
            retry(FailureClass::RateLimited, Some(429))
        );
    }
}

//! Delivery: how recorded events reach PostHog without the host ever waiting for the network.
//!
//! `track` only appends to the [queue](crate::queue). Sending is done by a **sender**, of which
//! at most one runs per state directory (it holds `telemetry-sender.lock`, with its pid):
//!
//! - in a command-line tool, a **detached process** of the same binary, started when the
//!   handle is dropped ([`spawn`]). [`Telemetry::start`](crate::Telemetry::start) recognises
//!   that process and runs the sender in it instead of returning, **so a host must start
//!   telemetry first thing in `main`**, before parsing arguments or doing anything else;
//! - in a long-running host, a **thread** of its own
//!   ([`Telemetry::deliver_in_background`](crate::Telemetry::deliver_in_background)).
//!
//! Both run the same [send loop](sender) over the same queue with the same rules: batches of
//! at most [`BATCH_MAX_RECORDS`], aliases acknowledged before later records, exactly the
//! accepted records moved to the recently-sent log, [outcomes](outcome) by status, and a
//! [back-off across runs](backoff) after a failure. The detached process exits within
//! [`SENDER_DEADLINE`] whatever the network does. What goes on the wire is exactly what
//! `inspect` shows ([`client`]).
//!
//! | constant | value |
//! | --- | --- |
//! | [`SENDER_DEADLINE`] | 9 s (the watchdog exits the process) |
//! | [`LAST_BATCH_START`] | 4 s (no batch starts later) |
//! | [`SENDER_LOCK_WAIT`] | 2 s (a new sender waits this long for the lock) |
//! | [`BATCH_MAX_RECORDS`] / [`BATCH_MAX_BYTES`] | 50 records / 1 MiB |
//! | [`REQUEST_TIMEOUT`] / [`REQUEST_ATTEMPTS`] | 2 s / 2 |
//! | [`BACKOFF_BASE`] / [`BACKOFF_CAP`] / [`RATE_LIMITED_BACKOFF`] | 30 s / 1 h / 5 min |
//! | [`MAX_QUEUE_RECORDS`](crate::queue::MAX_QUEUE_RECORDS) / [`MAX_QUEUE_BYTES`](crate::queue::MAX_QUEUE_BYTES) | 1000 records / 2 MiB |
//!
//! The key and endpoint are resolved by [`Delivery`] (with the debug-build development
//! endpoint); [`docs_section`] writes the generated documentation's section from these
//! constants.

pub(crate) mod background;
pub mod backoff;
pub mod client;
mod docs;
mod endpoint;
mod lock;
pub mod outcome;
pub mod sender;
pub mod spawn;

#[cfg(test)]
mod send_tests;

pub use background::{BACKGROUND_STOP_WAIT, MIN_BACKGROUND_INTERVAL};
pub use backoff::{BACKOFF_BASE, BACKOFF_CAP, LastFailure, RATE_LIMITED_BACKOFF, SenderState};
pub use client::{
    BATCH_WORST_CASE, KEPT_DOLLAR_PROPERTIES, REMOVED_LIBRARY_PROPERTIES, REQUEST_ATTEMPTS,
    REQUEST_TIMEOUT, RETRY_BACKOFF_INITIAL, RETRY_BACKOFF_MAX,
};
pub use docs::docs_section;
pub use endpoint::{Delivery, DeliverySource};
pub use lock::running_sender;
pub use outcome::{FailureClass, RejectionClass};
pub use sender::{
    BATCH_MAX_BYTES, BATCH_MAX_RECORDS, LAST_BATCH_START, SENDER_DEADLINE, SENDER_LOCK_WAIT,
};
pub use spawn::SENDER_ARG;

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    /// The table in the module documentation states these values.
    #[test]
    fn documented_values() {
        assert_eq!(SENDER_DEADLINE, Duration::from_secs(9));
        assert_eq!(LAST_BATCH_START, Duration::from_secs(4));
        assert_eq!((BATCH_MAX_RECORDS, BATCH_MAX_BYTES), (50, 1024 * 1024));
        assert_eq!(
            (REQUEST_TIMEOUT, REQUEST_ATTEMPTS),
            (Duration::from_secs(2), 2)
        );
        assert_eq!(
            (BACKOFF_BASE, BACKOFF_CAP, RATE_LIMITED_BACKOFF),
            (
                Duration::from_secs(30),
                Duration::from_secs(3600),
                Duration::from_secs(300)
            )
        );
        assert_eq!(
            (
                crate::queue::MAX_QUEUE_RECORDS,
                crate::queue::MAX_QUEUE_BYTES
            ),
            (1000, 2 * 1024 * 1024)
        );
    }
}

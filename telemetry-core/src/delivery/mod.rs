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
//! at most [`BATCH_MAX_RECORDS`](crate::limits::BATCH_MAX_RECORDS), aliases acknowledged before later records, exactly the
//! accepted records moved to the recently-sent log, [outcomes](outcome) by status, and a
//! [back-off across runs](backoff) after a failure. The detached process exits within
//! [`SENDER_DEADLINE`](crate::limits::SENDER_DEADLINE) whatever the network does. What goes on the wire is exactly what
//! `inspect` shows ([`client`]).
//!
//! The key and endpoint are resolved by [`Delivery`] (with the debug-build development
//! endpoint). The numbers are [`limits`](crate::limits), which the generated documentation
//! states too.

pub(crate) mod background;
pub mod backoff;
pub mod client;
mod endpoint;
mod lock;
pub mod outcome;
pub mod sender;
pub mod spawn;

#[cfg(test)]
mod send_tests;

pub(crate) use backoff::SenderState;
pub use endpoint::{Delivery, DeliverySource};
pub use lock::running_sender;
pub(crate) use outcome::RejectionClass;

//! Delivery: how recorded events reach PostHog without the host ever waiting for the network.
//!
//! `track` only appends to the [queue](crate::queue). Sending is done by the **detached
//! sender**, a process of the same binary of which at most one runs per state directory (it
//! holds `telemetry-sender.lock`, with its pid). It is started ([`spawn`]):
//!
//! - when a handle that recorded something is dropped, if the
//!   [flush policy](spawn#the-flush-policy) says one is due (a burst of commands starts one
//!   sender, not one each). [`Telemetry::start`](crate::Telemetry::start) recognises that process and runs the
//!   sender in it instead of returning, **so a host must start telemetry first thing in
//!   `main`**, before parsing arguments or doing anything else;
//! - in a long-running host, also every interval while it runs
//!   ([`Telemetry::deliver_in_background`](crate::Telemetry::deliver_in_background),
//!   [`background`]): the host's own process never sends.
//!
//! The [send loop](sender) sends batches of at most
//! [`BATCH_MAX_RECORDS`](crate::limits::BATCH_MAX_RECORDS), aliases acknowledged before later
//! records, moves exactly the accepted records to the recently-sent log, settles
//! [outcomes](outcome) by status, and [backs off across runs](backoff) after a failure. The
//! process exits within [`SENDER_DEADLINE`](crate::limits::SENDER_DEADLINE) whatever the
//! network does, runs no other program (its `PATH` finds none; see [`spawn`]), and sends
//! nothing it could not acknowledge. What goes on the wire is exactly what `inspect` shows
//! ([`client`]).
//!
//! [`problems`] says why the state directory cannot be used by this process (files left by a
//! run as root, a read-only directory) for `status`, and [`remove_unusable`] clears such files
//! for `clear`.
//!
//! The key and endpoint are resolved by [`Delivery`] (with the debug-build development
//! endpoint). The numbers are [`limits`](crate::limits), which the generated documentation
//! states too.

mod access;
pub(crate) mod background;
pub mod backoff;
pub mod client;
mod endpoint;
mod host_exit;
#[cfg(unix)]
mod inherited;
pub(crate) mod lock;
pub mod outcome;
#[cfg(unix)]
mod priority;
pub mod sender;
pub mod spawn;

#[cfg(test)]
mod send_tests;

pub use access::{problems, remove_unusable};
pub(crate) use backoff::SenderState;
pub use endpoint::{Delivery, DeliverySource};
pub use lock::running_sender;
pub(crate) use outcome::RejectionClass;

/// Starts `work` on a thread of its own named `name`. Every thread the runtime starts (the
/// background delivery's, the sender's watchdog, the reaper of a started sender) is started
/// here, boxed, so that `std::thread::Builder::spawn` is compiled once rather than once per
/// closure.
pub(crate) fn start_thread(
    name: &str,
    work: Box<dyn FnOnce() + Send>,
) -> std::io::Result<std::thread::JoinHandle<()>> {
    std::thread::Builder::new()
        .name(name.to_owned())
        .spawn(work)
}

//! The numbers delivery works within: the queue's bounds, the sender's deadline and batches,
//! request timeouts, the back-off after failures, and the `$` properties on the wire.
//!
//! Plain constants, with no runtime behind them, so the generated documentation states them
//! without compiling the runtime (`gen-docs` builds without it).
//!
//! | constant | value |
//! | --- | --- |
//! | [`SENDER_DEADLINE`] | 9 s (the watchdog exits the process) |
//! | [`LAST_BATCH_START`] | 4 s (no request starts later) |
//! | [`SENDER_LOCK_WAIT`] | 2 s (a new sender waits this long for the lock) |
//! | [`HOST_EXIT_WAIT`] | 1 s (a sender waits this long for its command to exit) |
//! | [`SENDER_NICENESS`] | 10 (the sender's scheduling priority, Unix) |
//! | [`BATCH_MAX_RECORDS`] / [`BATCH_MAX_BYTES`] | 2000 records / 1 MiB |
//! | [`REQUEST_TIMEOUT`] / [`REQUEST_ATTEMPTS`] | 5 s / 1 (per run) |
//! | [`BACKOFF_BASE`] / [`BACKOFF_CAP`] / [`RATE_LIMITED_BACKOFF`] | 30 s / 1 h / 5 min |
//! | [`MAX_QUEUE_BYTES`] / [`QUEUE_SEGMENT_BYTES`] | 8 MiB (about 16,000 records of 500 bytes) / 512 KiB |
//! | [`FLUSH_INTERVAL`] / [`FLUSH_QUEUE_BYTES`] | 5 s / 256 KiB (when a command's exit starts a sender) |
//! | [`BACKGROUND_STOP_WAIT`] | 50 ms (a long-running host's stop) |
//! | [`HOST_LOCK_WAIT`] | 250 ms (the host's wait for a held `telemetry.lock`, except to append) |
//! | [`APPEND_LOCK_WAIT`] | 0.1 ms (then a record is written beside the queue's head) |
//! | [`MAX_SEGMENTS_BESIDE`] / [`BESIDE_SEGMENT_BYTES`] | 1024 / 8 KiB |
//!

use std::time::Duration;

use crate::event::common::{GEOIP_DISABLE, PROCESS_PERSON_PROFILE};

// The sender.

/// The longest a detached sender process lives: its watchdog exits the process then.
pub const SENDER_DEADLINE: Duration = Duration::from_secs(9);
/// The longest a sender started by a command's exit waits, before it does anything, for that
/// command's process to exit (the sender's stdin is a pipe whose other end only the command
/// holds): its work then never competes with the command for a core. A host that goes on
/// after dropping its handle has its records sent this much later. Counted within
/// [`SENDER_DEADLINE`].
pub const HOST_EXIT_WAIT: Duration = Duration::from_secs(1);
/// The `nice` value the sender runs at (Unix), in the session of the command that started it:
/// it yields the CPU to the user's commands, and still gets a tenth of a core's share against
/// a busy one (at 19 it would be starved).
pub const SENDER_NICENESS: i32 = 10;
/// The most records in one request: as many as fit in [`BATCH_MAX_BYTES`] (records are
/// rarely under 500 bytes), so a queue drains in few requests.
pub const BATCH_MAX_RECORDS: usize = 2000;
/// The most bytes of record JSON in one request (a single larger record still goes alone).
/// PostHog accepts 20 MB; 1 MiB keeps a request within [`REQUEST_TIMEOUT`] on an uplink of
/// 2 Mbit/s (a bigger batch on a slow link would time out, and be sent again, every run), and
/// a `413` from a stricter server splits it.
pub const BATCH_MAX_BYTES: usize = 1024 * 1024;
/// No request (a batch, or a half of a refused one) starts later than this after the sender
/// started, so that even a request that times out ends before [`SENDER_DEADLINE`].
pub const LAST_BATCH_START: Duration = SENDER_DEADLINE.saturating_sub(BATCH_WORST_CASE);
/// How long a new sender waits for the sender lock before leaving the work to its holder.
pub const SENDER_LOCK_WAIT: Duration = Duration::from_secs(2);

// Requests and what is on the wire.

/// The `$` properties a record carries and the wire keeps: `$geoip_disable` (every record)
/// and `$process_person_profile` (anonymous events only).
pub const KEPT_DOLLAR_PROPERTIES: &[&str] = &[GEOIP_DISABLE, PROCESS_PERSON_PROFILE];
/// The properties posthog-rs adds that are removed before sending (with any other `$`
/// property not in [`KEPT_DOLLAR_PROPERTIES`]).
pub const REMOVED_LIBRARY_PROPERTIES: &[&str] = &[
    "$lib",
    "$lib_version",
    "$lib_version__major",
    "$lib_version__minor",
    "$lib_version__patch",
    "$os",
    "$os_version",
    "$is_server",
];
/// The longest one HTTP request may take (connection, upload and answer).
///
/// The trade-off: a server that stores a batch but answers after the client stopped waiting
/// gets that batch again from the next attempt. So the sender makes **one attempt per
/// request and run** ([`REQUEST_ATTEMPTS`]) with a **long timeout**: a slow but working
/// server (answering within 5 s; PostHog answers in well under a second) gets each batch
/// once, and a server slower than that gets it again only from a later run, after the
/// [back-off](BACKOFF_BASE), which PostHog de-duplicates on the uuid. The cost: a transient
/// failure (a reset connection, one 503) is not retried at once but waits for a later run,
/// and a hanging server holds the detached sender (never the host) for the whole timeout.
/// The timeout is whole seconds (posthog-rs takes seconds) and, with [`LAST_BATCH_START`],
/// fits within [`SENDER_DEADLINE`].
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(5);
/// Attempts per request within one sender run (the first included): one, so that nothing is
/// sent twice within a run (see [`REQUEST_TIMEOUT`]); later attempts are made by later runs,
/// after the back-off.
pub const REQUEST_ATTEMPTS: u32 = 1;
/// The wait before a second attempt within a run (none is made while [`REQUEST_ATTEMPTS`]
/// is 1; posthog-rs takes the setting all the same).
pub const RETRY_BACKOFF_INITIAL: Duration = Duration::from_millis(250);
/// The longest wait between attempts within a run (a `Retry-After` is clamped to it).
pub const RETRY_BACKOFF_MAX: Duration = Duration::from_secs(1);
/// The longest one request can take, all attempts included.
pub const BATCH_WORST_CASE: Duration = Duration::from_millis(
    REQUEST_TIMEOUT.as_millis() as u64 * REQUEST_ATTEMPTS as u64
        + RETRY_BACKOFF_MAX.as_millis() as u64 * (REQUEST_ATTEMPTS as u64 - 1),
);

// Back-off across runs after a failure.

/// The wait after a first failure.
pub const BACKOFF_BASE: Duration = Duration::from_secs(30);
/// The longest wait between two attempts, however many failed.
pub const BACKOFF_CAP: Duration = Duration::from_secs(60 * 60);
/// The shortest wait after the server answered 429 Too Many Requests.
pub const RATE_LIMITED_BACKOFF: Duration = Duration::from_secs(5 * 60);

// Background delivery in a long-running host.

/// The longest dropping the handle waits for the background delivery thread to stop. A round
/// only reads files and may start the detached sender (it never sends itself), and the
/// thread checks for the stop between rounds, so it normally stops in well under a
/// millisecond; this bounds a round stuck on a file lock or a slow process start. A thread
/// still busy then is left to finish its round and end by itself: what it did not start stays
/// queued for the next sender.
pub const BACKGROUND_STOP_WAIT: Duration = Duration::from_millis(50);
/// The shortest interval between two background rounds (each may start a sender).
pub const MIN_BACKGROUND_INTERVAL: Duration = Duration::from_secs(1);

// The flush policy: when a command's exit (or a background round) starts a sender.

/// A sender is started at most once per this interval while the last one delivered: the
/// records of commands that end within it (after that sender's last read) wait for the first
/// command that ends after it. The trade-off: a longer interval starts fewer processes during
/// a burst of commands and delays the end of the burst longer (see "the flush policy" in the
/// `delivery::spawn` module).
pub const FLUSH_INTERVAL: Duration = Duration::from_secs(5);
/// A queue file at least this large starts a sender whatever the interval (a burst big enough
/// to be worth a process at once, far under [`MAX_QUEUE_BYTES`]).
pub const FLUSH_QUEUE_BYTES: u64 = 256 * 1024;

// A long-lived handle and what other processes change under it.

/// A handle that has lived this long looks again, at most this often and only when it records
/// an event, at the files other processes change: the user's consent (`telemetry on|off`) and
/// the identity (`telemetry clear`, a login or logout). Opted out meanwhile, it stops recording
/// and removes what it recorded since it last looked; a new identity is used from its next
/// event. A command shorter than this never looks (two `stat`s it does not need).
pub const SHARED_STATE_RECHECK: Duration = Duration::from_secs(1);
/// The longest the host's process waits for the state directory's lock (`telemetry.lock`) for
/// what needs it (a damaged identity's repair, a login, the `telemetry` commands' changes; an
/// append waits only [`APPEND_LOCK_WAIT`] while there is room beside the head); the detached
/// sender waits 5 s. Holders keep it for
/// microseconds, so this wait is reached only when the holder is stuck: a command stopped with
/// Ctrl-Z or paused in a debugger while it appended. The host then waits only a moment (2 ms)
/// for it, in everything it does, until it takes the lock again, so it pays this wait at most
/// once; `status` names the lock.
pub const HOST_LOCK_WAIT: Duration = Duration::from_millis(250);

/// The longest an append waits for the state directory's lock before it writes its record
/// beside the queue's head instead (without the lock): an append holds the lock for a few
/// microseconds, so a wait this long means a holder that is stuck, or one that writes files
/// under it (a sender's acknowledgement, a login): either way the record is kept, in a small
/// file of the process's own, and a longer wait would only cost the user time.
pub const APPEND_LOCK_WAIT: Duration = Duration::from_micros(100);

// The on-disk queue.

/// The most bytes the queue's files hold (framed records and segment headers), plus at most
/// one record: the disk budget. A week offline at a heavy user's pace, 2000 commands of 5
/// events (10,000 records of 400–500 bytes), takes about 5 MiB of it.
pub const MAX_QUEUE_BYTES: u64 = 8 * 1024 * 1024;
/// The size at which the queue's head segment is sealed and a new one started: the unit in
/// which the oldest records are dropped when the queue is full.
pub const QUEUE_SEGMENT_BYTES: u64 = 512 * 1024;
/// The largest single record accepted (PostHog itself discards events over 1 MB).
pub const MAX_RECORD_BYTES: usize = 32 * 1024;
/// The most segments written beside the queue's head while the lock is held elsewhere (one
/// per process that met the lock held, and one more every [`BESIDE_SEGMENT_BYTES`] of its
/// records): about a thousand commands while a stopped one holds the lock. Past that, an
/// append waits for the lock as other users of it do ([`HOST_LOCK_WAIT`] once), and records
/// what it cannot append to the head no more. Processes that meet the lock held at the same
/// moment may each start one at the count's last step, so a few more can exist. On disk: a
/// segment is started with a record of any size up to [`MAX_RECORD_BYTES`] and grows up to
/// [`BESIDE_SEGMENT_BYTES`], so with records of the usual few hundred bytes about as much
/// again as [`MAX_QUEUE_BYTES`], and at worst (every one started with a 32 KiB record) four
/// times that.
pub const MAX_SEGMENTS_BESIDE: usize = 1024;
/// The size past which a process starts another segment beside the head rather than append to
/// its own (a long-running host's while the lock stays held); a command's few records fit in
/// one.
pub const BESIDE_SEGMENT_BYTES: u64 = 8 * 1024;
/// The most records kept in the recently-sent log.
pub const MAX_SENT_RECORDS: usize = 100;
/// The most bytes kept in the recently-sent log.
pub const MAX_SENT_BYTES: u64 = 256 * 1024;

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    /// The table in the module documentation states these values.
    #[test]
    fn documented_values() {
        assert_eq!(
            (FLUSH_INTERVAL, FLUSH_QUEUE_BYTES),
            (Duration::from_secs(5), 256 * 1024)
        );
        const { assert!(FLUSH_QUEUE_BYTES < MAX_QUEUE_BYTES) };
        assert_eq!(SENDER_DEADLINE, Duration::from_secs(9));
        assert_eq!(HOST_LOCK_WAIT, Duration::from_millis(250));
        // the sender, whose latency is nobody's, waits longer than the host
        #[cfg(feature = "runtime")]
        assert!(HOST_LOCK_WAIT < crate::fsutil::LOCK_WAIT);
        assert_eq!(LAST_BATCH_START, Duration::from_secs(4));
        assert_eq!(
            (HOST_EXIT_WAIT, SENDER_NICENESS),
            (Duration::from_secs(1), 10)
        );
        // the wait for the host leaves the sender most of its time before the last start
        assert!(HOST_EXIT_WAIT < LAST_BATCH_START);
        assert_eq!((BATCH_MAX_RECORDS, BATCH_MAX_BYTES), (2000, 1024 * 1024));
        assert_eq!(
            (REQUEST_TIMEOUT, REQUEST_ATTEMPTS),
            (Duration::from_secs(5), 1)
        );
        // a request started at the last start ends (or times out) by the deadline
        assert_eq!(BATCH_WORST_CASE, REQUEST_TIMEOUT);
        assert!(LAST_BATCH_START + BATCH_WORST_CASE <= SENDER_DEADLINE);
        // posthog-rs takes the timeout in whole seconds
        assert_eq!(REQUEST_TIMEOUT.subsec_nanos(), 0);
        assert_eq!(
            (BACKOFF_BASE, BACKOFF_CAP, RATE_LIMITED_BACKOFF),
            (
                Duration::from_secs(30),
                Duration::from_secs(3600),
                Duration::from_secs(300)
            )
        );
        assert_eq!(
            (MAX_QUEUE_BYTES, QUEUE_SEGMENT_BYTES),
            (8 * 1024 * 1024, 512 * 1024)
        );
        const { assert!(MAX_QUEUE_BYTES >= 4 * QUEUE_SEGMENT_BYTES) };
        const { assert!(FLUSH_QUEUE_BYTES < QUEUE_SEGMENT_BYTES) };
        // the bound for a long-running host's stop
        assert_eq!(BACKGROUND_STOP_WAIT, Duration::from_millis(50));
    }
}

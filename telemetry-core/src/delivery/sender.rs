//! The sender: reads the queue oldest first, sends it in batches, and settles each batch's
//! records by the answer. It runs only in the detached sender process (which
//! [background delivery](super::background) starts too), holding `telemetry-sender.lock`.
//!
//! - **Nothing is sent that could not be acknowledged.** Before building the client, the
//!   sender checks, by writing, that it can record what the server accepts
//!   ([`Queue::check_acknowledgeable`]); in a read-only directory or on a full disk it sends
//!   nothing, since it would send the same records again on every run.
//! - A batch holds at most [`BATCH_MAX_RECORDS`] records and (past the first)
//!   [`BATCH_MAX_BYTES`] of JSON, far under PostHog's 20 MB body limit (a record is at most
//!   [`MAX_RECORD_BYTES`](crate::limits::MAX_RECORD_BYTES), far under its 1 MB event limit).
//! - **Aliases before events.** Records go in queue order, and a batch ends right after an
//!   alias (`$create_alias`), so the alias request is answered (2xx) before any later record is
//!   sent. If the alias batch is not accepted, nothing after it is sent in this run.
//! - Accepted (2xx): exactly that batch's records move to the recently-sent log. Records are
//!   settled in queue order ([`Queue::settle`]: the segment's acknowledged offset moves past
//!   them), after every request, so a sender stopped half-way sends again only what was not
//!   answered.
//! - Retryable failure: the records stay, the failure and the next attempt's time are written
//!   to `telemetry-sender.json` ([back-off](super::backoff)), and the run ends. Refused for
//!   good: the records are dropped and counted by class, and the run goes on.
//! - **400 and 413 refuse records, not batches.** A batch of several refused with 400 (some
//!   record is invalid) or 413 (too large) is split in halves and each half sent again, first
//!   half first, recursively: only a record refused when sent alone is dropped, counted as
//!   `bad_request` or `too_large`; the others are delivered. One bad record among 2000 costs
//!   about 2·log₂(2000) ≈ 22 requests. The alias stays last: it goes after every record before
//!   it, and if the alias itself is refused, nothing after it is sent in this run.
//! - **One attempt per request and run.** A request that times out or fails is not repeated
//!   by this run (see [`REQUEST_ATTEMPTS`](crate::limits::REQUEST_ATTEMPTS)): the run ends and
//!   a later run sends the batch again, so a slow server that stores a batch after the client
//!   stopped waiting is not sent it twice within a run.
//! - The detached process exits within [`SENDER_DEADLINE`] whatever the network does: a
//!   watchdog thread exits the process at the deadline, and no request (a batch or a half of
//!   one) starts after [`LAST_BATCH_START`], so a request finishes or times out before the
//!   watchdog fires. A process
//!   killed mid-batch loses nothing: its records are still queued and are sent again, with the
//!   same uuids (PostHog de-duplicates on them), by the next run. That run also records the
//!   interruption ([the lock](super::lock) tells it), so that a sender that never finishes (a
//!   program built with `panic = "abort"` whose sender panics) backs off and `status` says so.

use std::time::Instant;

use posthog_rs::Client;

use super::backoff::SenderState;
use super::client;
use super::endpoint::Delivery;
use super::lock::SenderLock;
use super::outcome::{Failure, FailureClass, Outcome, RejectionClass};
use crate::config::TelemetryConfig;
use crate::consent;
use crate::identity::IdentityStore;
use crate::limits::{
    BATCH_MAX_BYTES, BATCH_MAX_RECORDS, HOST_EXIT_WAIT, LAST_BATCH_START, SENDER_DEADLINE,
    SENDER_LOCK_WAIT,
};
use crate::paths::StateDir;
use crate::queue::{Batch, Queue, Settled};
use crate::record::{ALIAS_EVENT, Record};

crate::diagnostics::error_event_fns!(warn warn_error, debug debug_error);

/// How a round of sending ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum RoundEnd {
    /// The queue is empty.
    Empty,
    /// A retryable failure; the records are kept and the back-off is set.
    Failed(Failure),
    /// The batch ending with an alias was refused for good; the rest waits for the next run.
    AliasRefused,
    /// Past [`LAST_BATCH_START`] (or the round's own limit).
    OutOfTime,
    /// The queue could not be read or updated.
    QueueError,
}

/// What a round did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RoundReport {
    /// Records the server accepted.
    pub sent: usize,
    /// Records dropped as refused.
    pub rejected: usize,
    /// Why the round ended.
    pub end: RoundEnd,
}

/// Sends the queue in batches until it is empty, a batch fails, or it is `last_start`. The
/// caller holds the sender lock and has checked that acknowledgements can be recorded.
pub(crate) fn send_round(queue: &Queue, client: &Client, last_start: Instant) -> RoundReport {
    let mut report = RoundReport {
        sent: 0,
        rejected: 0,
        end: RoundEnd::Empty,
    };
    let identity = IdentityStore::new(queue.dir().clone());
    let mut identity_synced = None;
    report.end = loop {
        if Instant::now() >= last_start {
            break RoundEnd::OutOfTime;
        }
        let mut batch = match queue.read_batch(BATCH_MAX_RECORDS, BATCH_MAX_BYTES) {
            Ok(batch) => batch,
            Err(error) => {
                warn_error("telemetry queue unreadable; nothing sent", &error);
                break RoundEnd::QueueError;
            }
        };
        if batch.records.is_empty() {
            // only damaged or withdrawn lines: pass them
            if !batch.is_empty()
                && let Err(error) = queue.settle(&mut batch, &[])
            {
                debug_error("telemetry damaged records not dropped", &error);
            }
            break RoundEnd::Empty;
        }
        // A first run creates its identity without syncing it: on disk before the records
        // read, which were all written after their identity, carry its id away (once per
        // identity file: a `stat` a batch after that).
        identity.sync_if_new(&mut identity_synced);
        let count = through_first_alias(&batch.records);
        let mut settling = Settling {
            results: vec![None; count],
            written: 0,
        };
        let records: Vec<Record> = batch.records[..count].to_vec();
        let sent = send_batch(
            queue.dir(),
            client,
            &records,
            0,
            last_start,
            &mut settling,
            &mut |s| s.flush(queue, &mut batch, &mut report),
        );
        if let Err(end) = sent {
            break end;
        }
    };
    report
}

/// What the server said about each record of the batch being sent, and how many of them (from
/// the first) are written to the queue.
struct Settling {
    results: Vec<Option<Settled>>,
    written: usize,
}

impl Settling {
    /// Settles in the queue the records answered since the last flush, as far as they are
    /// answered in order (an unanswered record stops it: it stays queued, with what follows).
    fn flush(
        &mut self,
        queue: &Queue,
        batch: &mut Batch,
        report: &mut RoundReport,
    ) -> Result<(), RoundEnd> {
        let answered = self
            .results
            .iter()
            .position(Option::is_none)
            .unwrap_or(self.results.len());
        if answered <= self.written {
            return Ok(());
        }
        let results: Vec<Settled> = self.results[self.written..answered]
            .iter()
            .flatten()
            .copied()
            .collect();
        match queue.settle(batch, &results) {
            Ok(settled) => {
                self.written = answered;
                report.sent += settled.sent;
                report.rejected += settled.rejected;
                Ok(())
            }
            Err(error) => {
                warn_error(
                    "telemetry sent records not marked; they may be sent again",
                    &error,
                );
                Err(RoundEnd::QueueError)
            }
        }
    }
}

/// Sends `records` (queue order, at most one alias, last; the batch's records from `first`)
/// as one request and settles them by the answer. A 400 or 413 for several records splits them
/// in halves, each sent the same way in order (first half first), so only the record(s)
/// refused alone are dropped, and an alias still goes after every record before it. `Err`
/// ends the round.
fn send_batch(
    dir: &StateDir,
    client: &Client,
    records: &[Record],
    first: usize,
    last_start: Instant,
    settling: &mut Settling,
    flush: &mut dyn FnMut(&mut Settling) -> Result<(), RoundEnd>,
) -> Result<(), RoundEnd> {
    if Instant::now() >= last_start {
        return Err(RoundEnd::OutOfTime);
    }
    let ends_with_alias = records.last().is_some_and(|r| r.event == ALIAS_EVENT);
    let mut events = Vec::with_capacity(records.len());
    let mut indices = Vec::with_capacity(records.len());
    for (i, record) in records.iter().enumerate() {
        match client::to_event(record) {
            Some(event) => {
                events.push(event);
                indices.push(first + i);
            }
            None => {
                settling.results[first + i] =
                    Some(Settled::Rejected(RejectionClass::Unsendable.as_str()));
            }
        }
    }
    if events.is_empty() {
        return flush(settling);
    }
    let result = client.capture_batch_immediate(events, false);
    let outcome = Outcome::of(&result);
    match outcome {
        Outcome::Accepted => {
            for &i in &indices {
                settling.results[i] = Some(Settled::Sent);
            }
            flush(settling)?;
            if let Err(error) = SenderState::record_success(dir, chrono::Utc::now()) {
                debug_error("telemetry sender state not written", &error);
            }
            Ok(())
        }
        Outcome::Retry(failure) => {
            crate::diagnostics::debug_event!(?failure, error = ?result.as_ref().err(), "telemetry batch not delivered; kept");
            flush(settling)?;
            if let Err(error) = SenderState::record_failure(dir, &failure, chrono::Utc::now()) {
                debug_error("telemetry sender state not written", &error);
            }
            Err(RoundEnd::Failed(failure))
        }
        _ if outcome.splits() && records.len() > 1 => {
            // 400: some record is invalid; 413: too much at once. Either way the halves go
            // again, down to the record(s) refused alone.
            crate::diagnostics::debug_event!(records = records.len(), error = ?result.as_ref().err(), "telemetry batch refused; splitting it");
            let half = records.len() / 2;
            let (front, back) = records.split_at(half);
            send_batch(dir, client, front, first, last_start, settling, flush)?;
            send_batch(dir, client, back, first + half, last_start, settling, flush)
        }
        Outcome::Rejected(class) => {
            crate::diagnostics::debug_event!(?class, error = ?result.as_ref().err(), "telemetry batch refused; dropped");
            for &i in &indices {
                settling.results[i] = Some(Settled::Rejected(class.as_str()));
            }
            flush(settling)?;
            if ends_with_alias {
                return Err(RoundEnd::AliasRefused);
            }
            Ok(())
        }
    }
}

/// How many records of the batch to send now: up to and including its first alias.
fn through_first_alias(records: &[Record]) -> usize {
    records
        .iter()
        .position(|r| r.event == ALIAS_EVENT)
        .map_or(records.len(), |i| i + 1)
}

/// Runs the detached sender process for `config` and exits the process: it never returns.
/// Only ever called from [`Telemetry::start`](crate::Telemetry::start) in a process the
/// handle spawned (see [`spawn`](super::spawn)).
pub(crate) fn run_detached_process(mut config: TelemetryConfig) -> ! {
    let started = Instant::now();
    // a pipe the host inherited (an MCP client's) must see its end when the host exits, not
    // when this process does
    #[cfg(unix)]
    super::inherited::close_inherited_descriptors();
    // It runs in `/`, not where the host ran: the host's working directory (for a project's
    // opt-out file) comes in a variable of its own (see `spawn`).
    config.working_dir = super::spawn::host_working_dir(&config);
    // background work: the user's commands get the CPU first. (No signal meant for the
    // command's terminal reaches it: it was started in a process group of its own.)
    #[cfg(unix)]
    super::priority::lower();
    // a hanging server, a slow DNS or a stuck file lock cannot keep this process alive
    match arm_watchdog(started + SENDER_DEADLINE, || std::process::exit(0)) {
        Ok(()) => {
            // the command that started it exits first (within the deadline)
            super::host_exit::wait_for_host(started + HOST_EXIT_WAIT);
            let dir = StateDir::resolve(&config);
            send_on_own_thread(
                dir.as_ref(),
                Box::new(move || send_detached(&config, started)),
            );
        }
        // without a watchdog the deadline could not be kept: send nothing
        Err(error) => debug_error("telemetry watchdog not started", &error),
    }
    std::process::exit(0)
}

/// Runs `send` on a thread of its own and waits for it; a panic in it is recorded in `dir` as
/// a failed attempt of class [`Crashed`](FailureClass::Crashed) (`status` reports it, and the
/// back-off keeps the next senders from crashing once per command).
///
/// A thread of its own: a host whose `main` is async (`#[tokio::main]`) calls
/// `Telemetry::start` inside its runtime, in the sender process as in the command, and
/// posthog-rs's blocking client panics when it is built or dropped in a runtime's context. A new
/// thread is outside any.
fn send_on_own_thread(dir: Option<&StateDir>, send: Box<dyn FnOnce() + Send>) {
    let thread = match super::start_thread("telemetry-sender", send) {
        Ok(thread) => thread,
        Err(error) => return debug_error("telemetry sender thread not started", &error),
    };
    if thread.join().is_ok() {
        return;
    }
    crate::diagnostics::warn_event!("telemetry sender panicked; recorded as a failed attempt");
    let crashed = Failure {
        class: FailureClass::Crashed,
        status: None,
    };
    // in a directory that is still there (a sender creates none)
    if let Some(dir) = dir.filter(|dir| dir.path().is_dir())
        && let Err(error) = SenderState::record_failure(dir, &crashed, chrono::Utc::now())
    {
        debug_error("telemetry sender: crash not recorded", &error);
    }
}

/// Records that the sender before this one ended while holding the lock (killed, aborted or
/// stopped at its deadline): a failed attempt of class
/// [`Interrupted`](FailureClass::Interrupted), whose back-off starts only after another
/// failure.
#[cold]
fn record_interrupted(dir: &StateDir) {
    crate::diagnostics::debug_event!("telemetry: the last sender was stopped before it finished");
    let interrupted = Failure {
        class: FailureClass::Interrupted,
        status: None,
    };
    if let Err(error) = SenderState::record_failure(dir, &interrupted, chrono::Utc::now()) {
        debug_error("telemetry sender: interruption not recorded", &error);
    }
}

/// Runs `fire` on a thread of its own at `deadline`, whatever the rest of the process is
/// doing (the detached sender's `fire` exits the process).
fn arm_watchdog(deadline: Instant, fire: impl FnOnce() + Send + 'static) -> std::io::Result<()> {
    let watchdog = move || {
        std::thread::sleep(deadline.saturating_duration_since(Instant::now()));
        fire();
    };
    super::start_thread("telemetry-watchdog", Box::new(watchdog)).map(drop)
}

/// What the detached process does under its watchdog.
fn send_detached(config: &TelemetryConfig, started: Instant) {
    let Some(dir) = StateDir::resolve(config) else {
        return;
    };
    if !may_send(config, &dir) {
        return;
    }
    let delivery = Delivery::resolve(config);
    let queue = Queue::new(dir);
    let dir = queue.dir();
    let Some(mut lock) = SenderLock::acquire_within(dir, SENDER_LOCK_WAIT) else {
        return;
    };
    if lock.last_holder_interrupted() {
        record_interrupted(dir);
    }
    if !SenderState::read(dir).allows_attempt_now() {
        return;
    }
    if let Err(error) = queue.check_acknowledgeable() {
        // records sent now could not be marked as sent, and would go out again next time
        warn_error(
            "telemetry sender: cannot record acknowledgements; nothing sent",
            &error,
        );
        return;
    }
    let Some(client) = client::build(&delivery) else {
        return;
    };
    let last_start = started + LAST_BATCH_START;
    loop {
        let report = send_round(&queue, &client, last_start);
        crate::diagnostics::debug_event!(?report, "telemetry sender round");
        if report.end != RoundEnd::Empty {
            return;
        }
        // A process that appended after the last read and found the lock held relies on this
        // sender: release the lock, look again, and take it back if there is more to send
        // (if someone else took it, they send it).
        drop(lock);
        let more = queue.has_waiting();
        if !more || Instant::now() >= last_start {
            return;
        }
        match SenderLock::try_acquire(dir) {
            Some(again) => lock = again,
            None => return,
        }
    }
}

/// Whether telemetry may send now, decided again from the current consent (the user may have
/// turned it off since the events were recorded) and debug mode.
pub(crate) fn may_send(config: &TelemetryConfig, dir: &StateDir) -> bool {
    let decision = consent::resolve(config, Some(dir));
    let debug_mode = crate::debug::is_on(config);
    if !decision.enabled || debug_mode {
        crate::diagnostics::debug_event!(source = ?decision.source, debug_mode, "telemetry sender: not sending");
        return false;
    }
    true
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn batches_end_after_the_first_alias() {
        let event = |n: u32| {
            Record::parse(&format!(
                r#"{{"uuid":"{}","event":"test.ping","distinct_id":"a","properties":{{"n":{n}}},"timestamp":"t"}}"#,
                uuid::Uuid::now_v7()
            ))
            .unwrap()
        };
        let alias = Record::alias("a", "user");
        assert_eq!(
            through_first_alias(&[event(1), event(2), alias.clone(), event(3)]),
            3
        );
        assert_eq!(through_first_alias(&[alias.clone(), event(1)]), 1);
        assert_eq!(through_first_alias(&[event(1), event(2)]), 2);
        assert_eq!(through_first_alias(&[]), 0);
    }

    #[test]
    fn a_sender_that_panics_is_recorded_as_crashed() {
        use crate::paths::StateDirSource;

        let home = tempfile::tempdir().unwrap();
        let dir = StateDir::new(home.path().join(".demo"), StateDirSource::Home);
        std::fs::create_dir(dir.path()).unwrap();

        // one that ends: nothing recorded; it ran on a thread of its own
        let main = std::thread::current().id();
        let (ran_on, seen) = std::sync::mpsc::channel();
        send_on_own_thread(
            Some(&dir),
            Box::new(move || ran_on.send(std::thread::current().id()).unwrap()),
        );
        assert_ne!(seen.recv().unwrap(), main);
        assert_eq!(SenderState::read(&dir), SenderState::default());

        send_on_own_thread(Some(&dir), Box::new(|| panic!("a bug in the sender")));
        let state = SenderState::read(&dir);
        assert_eq!(state.consecutive_failures, 1);
        assert!(!state.allows_attempt_now(), "a back-off follows");
        let failure = state.last_failure.expect("the crash is recorded");
        assert_eq!(failure.class, FailureClass::Crashed);
        assert_eq!(failure.status, None);

        // a directory removed meanwhile is not made again
        let gone = StateDir::new(home.path().join("gone"), StateDirSource::Home);
        send_on_own_thread(Some(&gone), Box::new(|| panic!("a bug in the sender")));
        assert!(!gone.path().exists());
        send_on_own_thread(None, Box::new(|| panic!("a bug in the sender")));
    }

    #[test]
    fn the_watchdog_fires_at_its_deadline_while_the_sender_is_stuck() {
        let (fired, watch) = std::sync::mpsc::channel();
        let started = Instant::now();
        arm_watchdog(started + Duration::from_millis(100), move || {
            let _ = fired.send(started.elapsed());
        })
        .unwrap();
        // the "sender" is stuck: nothing here returns; the watchdog fires regardless
        let at = watch.recv_timeout(Duration::from_secs(30)).unwrap();
        assert!(at >= Duration::from_millis(100), "{at:?}");
    }

    #[test]
    fn the_last_batch_starts_early_enough() {
        assert_eq!(LAST_BATCH_START, Duration::from_secs(4));
        assert!(SENDER_DEADLINE < Duration::from_secs(10));
    }
}

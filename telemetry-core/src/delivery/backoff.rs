//! Back-off across runs: after a failed attempt, no sender starts again until the wait is
//! over, so a CLI used offline does not spawn a process (or open a connection) per command.
//!
//! The state lives in `telemetry-sender.json` (written atomically under the state directory's
//! lock):
//!
//! ```json
//! {"consecutive_failures":2,"next_attempt_at":"2026-04-08T10:01:00.000Z",
//!  "last_failure":{"at":"2026-04-08T10:00:00.000Z","class":"server_error","status":503},
//!  "last_success_at":"2026-04-07T18:00:00.000Z",
//!  "last_started_at":"2026-04-08T10:00:00.000Z","senders_started":12}
//! ```
//!
//! The wait after the n-th failure in a row is [`BACKOFF_BASE`] × 2^(n-1), at most
//! [`BACKOFF_CAP`]; after a 429 it is at least [`RATE_LIMITED_BACKOFF`] (posthog-rs honours a
//! `Retry-After` within its own short retries but does not report its value). A success resets
//! it. A missing or damaged file means "no failure": the next sender tries at once.
//!
//! The same file holds what the [flush policy](super::spawn#the-flush-policy) needs: when the
//! last sender was started (`last_started_at`, written by the process that starts it, before
//! it does) and how many have been started (`senders_started`). The policy itself is
//! [`SenderState::start_due_at`].

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::outcome::{Failure, FailureClass};
use crate::fsutil::{self, StateError};
use crate::limits::{
    BACKOFF_BASE, BACKOFF_CAP, FLUSH_INTERVAL, FLUSH_QUEUE_BYTES, RATE_LIMITED_BACKOFF,
};
use crate::paths::StateDir;
use crate::record::{parse_rfc3339, rfc3339};

/// The last failed attempt.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LastFailure {
    /// When it happened (RFC 3339, UTC).
    pub at: String,
    /// Why it failed.
    pub class: FailureClass,
    /// The HTTP status, when there was an answer.
    pub status: Option<u16>,
}

/// The sender's state: `telemetry-sender.json`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct SenderState {
    /// Failed attempts since the last success.
    pub consecutive_failures: u32,
    /// No sender starts before this time (RFC 3339, UTC).
    pub next_attempt_at: Option<String>,
    /// The last failed attempt.
    pub last_failure: Option<LastFailure>,
    /// When the server last accepted a batch (RFC 3339, UTC).
    pub last_success_at: Option<String>,
    /// When a sender was last started (RFC 3339, UTC), by the process that started it.
    pub last_started_at: Option<String>,
    /// How many senders have been started for this state directory (by this version on).
    pub senders_started: u64,
}

/// Why a sender is due now under the [flush policy](super::spawn#the-flush-policy).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StartReason {
    /// No sender has been started yet, or the last one at least [`FLUSH_INTERVAL`] ago (or
    /// further in the future than that: the clock was set back).
    IntervalOver,
    /// The last sender failed after it started: the back-off (over, or no sender would be
    /// considered) decides instead of the interval.
    AfterFailure,
    /// The last sender took the lock and let it go without an answer from the server (it was
    /// killed, its batch was refused, or it found the queue empty): it earned no rest.
    LastSentNothing,
    /// The queue file holds at least [`FLUSH_QUEUE_BYTES`].
    QueueLarge,
}

/// What the flush policy looks at besides the state: two `stat`s, never the queue's content.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StartFacts {
    /// When the sender lock file was last written (a sender writes its pid into it when it
    /// takes the lock); `None` when it does not exist.
    pub lock_written_at: Option<DateTime<Utc>>,
    /// The queue file's size in bytes (0 when it does not exist).
    pub queue_bytes: u64,
}

impl SenderState {
    /// Reads the state in `dir`; a missing, unreadable or damaged file reads as the default (no
    /// failure, no back-off).
    pub fn read(dir: &StateDir) -> Self {
        match fsutil::read_small_text(&dir.sender_state_file()) {
            Ok(Some(text)) => serde_json::from_str(&text).unwrap_or_else(|error| {
                tracing::debug!(%error, "telemetry sender state damaged; ignoring it");
                Self::default()
            }),
            _ => Self::default(),
        }
    }

    /// When the next attempt is allowed (`None`: now).
    pub fn next_attempt(&self) -> Option<DateTime<Utc>> {
        self.next_attempt_at
            .as_deref()
            .and_then(|text| parse_rfc3339(text).ok())
    }

    /// Whether an attempt may start at `now`. A next-attempt time further away than
    /// [`BACKOFF_CAP`] (the clock was set back) does not hold.
    pub fn allows_attempt_at(&self, now: DateTime<Utc>) -> bool {
        match self.next_attempt() {
            None => true,
            Some(next) => next <= now || next - now > chrono_duration(BACKOFF_CAP),
        }
    }

    /// Whether an attempt may start now.
    pub fn allows_attempt_now(&self) -> bool {
        self.allows_attempt_at(Utc::now())
    }

    /// When the last sender was started, if the time is readable.
    pub fn last_started(&self) -> Option<DateTime<Utc>> {
        self.last_started_at
            .as_deref()
            .and_then(|text| parse_rfc3339(text).ok())
    }

    /// Whether a sender is due at `now` under the flush policy (the back-off, the lock and the
    /// rest are checked by the caller): the reason, or `None` when the records wait for a later
    /// command. O(1): `facts` are two `stat`s.
    pub fn start_due_at(&self, now: DateTime<Utc>, facts: StartFacts) -> Option<StartReason> {
        let Some(started) = self.last_started() else {
            return Some(StartReason::IntervalOver);
        };
        let interval = chrono_duration(FLUSH_INTERVAL);
        if now - started >= interval || started - now > interval {
            return Some(StartReason::IntervalOver);
        }
        let at_or_after_start = |text: Option<&str>| {
            text.and_then(|t| parse_rfc3339(t).ok())
                .is_some_and(|at| at >= started)
        };
        if at_or_after_start(self.last_failure.as_ref().map(|f| f.at.as_str())) {
            return Some(StartReason::AfterFailure);
        }
        let sent_since = at_or_after_start(self.last_success_at.as_deref());
        // the lock file's mtime comes from the kernel's coarse clock (a tick, up to 10 ms,
        // behind), `started` from the precise one: a sender that took the lock within a tick
        // of its start can look as if it had taken it before. Erring this way only ever
        // starts one sender more.
        let took_lock = facts
            .lock_written_at
            .is_some_and(|at| at + chrono_duration(MTIME_SLACK) >= started);
        if took_lock && !sent_since {
            return Some(StartReason::LastSentNothing);
        }
        if facts.queue_bytes >= FLUSH_QUEUE_BYTES {
            return Some(StartReason::QueueLarge);
        }
        None
    }

    /// Records that a sender is being started at `now` (before it is: the next command sees it
    /// at once). Written without `fsync` (it is on the host's path, and losing it to a crash
    /// only lets one more sender start); the state directory's lock is held while it is, as
    /// for every change to this file.
    pub(crate) fn record_start(dir: &StateDir, now: DateTime<Utc>) -> Result<Self, StateError> {
        let _lock = dir.lock_exclusive()?;
        let mut state = Self::read(dir);
        state.last_started_at = Some(rfc3339(now));
        state.senders_started = state.senders_started.saturating_add(1);
        let json = serde_json::to_string(&state).unwrap_or_default();
        fsutil::write_atomic_unsynced(&dir.sender_state_file(), json.as_bytes())?;
        Ok(state)
    }

    /// Records a failed attempt at `now` and sets the next attempt's time; returns the new
    /// state.
    pub(crate) fn record_failure(
        dir: &StateDir,
        failure: &Failure,
        now: DateTime<Utc>,
    ) -> Result<Self, StateError> {
        Self::update(dir, |state| {
            state.consecutive_failures = state.consecutive_failures.saturating_add(1);
            let wait = backoff_delay(state.consecutive_failures, failure.class);
            state.next_attempt_at = Some(rfc3339(now + chrono_duration(wait)));
            state.last_failure = Some(LastFailure {
                at: rfc3339(now),
                class: failure.class,
                status: failure.status,
            });
        })
    }

    /// Records that the server accepted a batch at `now`: the back-off is over.
    pub(crate) fn record_success(dir: &StateDir, now: DateTime<Utc>) -> Result<Self, StateError> {
        Self::update(dir, |state| {
            state.consecutive_failures = 0;
            state.next_attempt_at = None;
            state.last_success_at = Some(rfc3339(now));
        })
    }

    fn update(dir: &StateDir, change: impl FnOnce(&mut Self)) -> Result<Self, StateError> {
        let _lock = dir.lock_exclusive()?;
        let mut state = Self::read(dir);
        change(&mut state);
        let json = serde_json::to_string(&state).unwrap_or_default();
        // without `fsync`: hosts may be waiting for the lock, and a crash that loses this
        // costs at most one attempt more or less, never an event
        fsutil::write_atomic_unsynced(&dir.sender_state_file(), json.as_bytes())?;
        Ok(state)
    }
}

/// How far behind the precise clock a file's modification time can be (the kernel stamps it
/// from a coarse clock that advances once per tick, 1 to 10 ms).
const MTIME_SLACK: Duration = Duration::from_millis(20);

/// The wait after the `failures`-th failure in a row (counting from 1) of class `class`.
pub fn backoff_delay(failures: u32, class: FailureClass) -> Duration {
    let doublings = failures.saturating_sub(1).min(31);
    let wait = BACKOFF_BASE
        .checked_mul(1u32 << doublings)
        .unwrap_or(BACKOFF_CAP)
        .min(BACKOFF_CAP);
    if class == FailureClass::RateLimited {
        wait.max(RATE_LIMITED_BACKOFF)
    } else {
        wait
    }
}

fn chrono_duration(duration: Duration) -> chrono::Duration {
    chrono::Duration::from_std(duration).unwrap_or(chrono::Duration::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::paths::StateDirSource;

    #[test]
    fn delays_double_up_to_the_cap() {
        assert_eq!(backoff_delay(1, FailureClass::Network), BACKOFF_BASE);
        assert_eq!(backoff_delay(2, FailureClass::Network), BACKOFF_BASE * 2);
        assert_eq!(
            backoff_delay(3, FailureClass::ServerError),
            BACKOFF_BASE * 4
        );
        assert_eq!(backoff_delay(40, FailureClass::Network), BACKOFF_CAP);
        assert_eq!(backoff_delay(u32::MAX, FailureClass::Network), BACKOFF_CAP);
        assert_eq!(
            backoff_delay(1, FailureClass::RateLimited),
            RATE_LIMITED_BACKOFF
        );
        assert_eq!(backoff_delay(20, FailureClass::RateLimited), BACKOFF_CAP);
    }

    #[test]
    fn failure_then_success() {
        let home = tempfile::tempdir().unwrap();
        let dir = StateDir::new(home.path().join(".demo"), StateDirSource::Explicit);
        assert_eq!(SenderState::read(&dir), SenderState::default());
        assert!(SenderState::read(&dir).allows_attempt_now());
        let now = Utc::now();
        let failure = Failure {
            class: FailureClass::ServerError,
            status: Some(503),
        };
        let state = SenderState::record_failure(&dir, &failure, now).unwrap();
        assert_eq!(state.consecutive_failures, 1);
        assert_eq!(SenderState::read(&dir), state);
        assert!(!state.allows_attempt_at(now));
        assert!(!state.allows_attempt_at(now + chrono::Duration::seconds(29)));
        assert!(state.allows_attempt_at(now + chrono::Duration::seconds(30)));
        // a clock set back by more than the cap does not hold the sender forever
        assert!(state.allows_attempt_at(now - chrono::Duration::hours(2)));
        let state = SenderState::record_failure(&dir, &failure, now).unwrap();
        assert_eq!(state.consecutive_failures, 2);
        assert!(!state.allows_attempt_at(now + chrono::Duration::seconds(59)));
        let state = SenderState::record_success(&dir, now).unwrap();
        assert_eq!(state.consecutive_failures, 0);
        assert!(state.allows_attempt_at(now));
        assert!(state.last_failure.is_some());
        assert!(state.last_success_at.is_some());
        std::fs::write(dir.sender_state_file(), "{not json").unwrap();
        assert_eq!(SenderState::read(&dir), SenderState::default());
    }
}

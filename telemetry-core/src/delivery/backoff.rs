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
//!  "last_started_at":"2026-04-08T10:00:00.000Z","senders_started":12,"senders_not_run":0}
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
//! [`SenderState::start_due_at`]. `senders_not_run` counts the senders in a row that never
//! took the sender lock: a host whose `main` ends the process before
//! [`Telemetry::start`](crate::Telemetry::start) (most often by parsing its arguments first,
//! which refuses the sender's) starts senders that never send; `status` reports it.

use std::path::Path;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::outcome::{Failure, FailureClass};
use crate::event::writer::write_json_str;
use crate::fsutil::{self, StateError};
use crate::limits::{
    BACKOFF_BASE, BACKOFF_CAP, FLUSH_INTERVAL, FLUSH_QUEUE_BYTES, RATE_LIMITED_BACKOFF,
};
use crate::paths::StateDir;
use crate::record::members::{self, struct_members};
use crate::record::{parse_rfc3339, rfc3339};

/// The last failed attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(test, derive(serde::Serialize, serde::Deserialize))]
pub struct LastFailure {
    /// When it happened (RFC 3339, UTC).
    pub at: String,
    /// Why it failed.
    pub class: FailureClass,
    /// The HTTP status, when there was an answer.
    pub status: Option<u16>,
}

/// The sender's state: `telemetry-sender.json`.
///
/// Read and written by hand ([`from_json`](Self::from_json), [`to_json`](Self::to_json)), as
/// serde's derives read and wrote it (the tests keep them as the reference): the derived
/// deserializers cost the host over 10 KB.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[cfg_attr(test, derive(serde::Serialize, serde::Deserialize), serde(default))]
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
    /// How many senders in a row were started and never took the sender lock (judged when the
    /// next one is started, at least [`FLUSH_INTERVAL`] after): 0 once one does, and at once
    /// when a sender reports an answer (or none) from the server.
    pub senders_not_run: u32,
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
    /// The queue file holds at least [`FLUSH_QUEUE_BYTES`] (and the last senders ran: when they
    /// do not, more of them would not send it either, so the interval holds).
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
            Ok(Some(text)) => Self::from_json(&text).unwrap_or_else(|error| {
                crate::diagnostics::debug_event!(%error, "telemetry sender state damaged; ignoring it");
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
        let since_start = |text: Option<&str>| {
            text.and_then(|t| parse_rfc3339(t).ok())
                .filter(|at| *at >= started)
        };
        let failed = since_start(self.last_failure.as_ref().map(|f| f.at.as_str()));
        let sent = since_start(self.last_success_at.as_deref());
        // (a sender records an interrupted predecessor first thing, then may send; a tie
        // goes to the failure: the back-off decides)
        if failed.is_some_and(|failed| sent.is_none_or(|sent| sent <= failed)) {
            return Some(StartReason::AfterFailure);
        }
        let sent_since = sent.is_some();
        // the lock file's mtime comes from the kernel's coarse clock (a tick, up to 10 ms,
        // behind), and some file systems cut it to the second: a sender that took the lock
        // soon after its start can look as if it had taken it before. Erring this way only
        // ever starts one sender more.
        let took_lock = lock_taken_since(facts.lock_written_at, started);
        if took_lock && !sent_since {
            return Some(StartReason::LastSentNothing);
        }
        if facts.queue_bytes >= FLUSH_QUEUE_BYTES && self.senders_not_run < SENDERS_NOT_RUN_REPORTED
        {
            return Some(StartReason::QueueLarge);
        }
        None
    }

    /// Records that a sender is being started at `now` (before it is: the next command sees it
    /// at once). Written without `fsync` and in place rather than by `rename` (it is on the
    /// host's path, where a rename cost 0.2–0.7 ms on ext4; see
    /// [`fsutil::overwrite_unsynced`]): losing it to a crash, or a torn read of it, only lets
    /// one more sender start or one attempt more through. The state directory's lock is held
    /// while it is written, as for every change to this file.
    ///
    /// `lock_written_at` (from the policy's [`StartFacts`]) tells whether the sender started
    /// before ran: see [`senders_not_run`](Self::senders_not_run).
    pub(crate) fn record_start(
        dir: &StateDir,
        now: DateTime<Utc>,
        lock_written_at: Option<DateTime<Utc>>,
    ) -> Result<Self, StateError> {
        let change = &mut |state: &mut Self| {
            state.senders_not_run = match state.previous_sender_ran(now, lock_written_at) {
                Some(true) => 0,
                Some(false) => state.senders_not_run.saturating_add(1),
                None => state.senders_not_run,
            };
            state.last_started_at = Some(rfc3339(now));
            state.senders_started = state.senders_started.saturating_add(1);
        };
        Self::update_with(dir, change, fsutil::overwrite_unsynced)
    }

    /// Whether the sender last started took the sender lock after its start (a sender does,
    /// first thing, unless the user turned telemetry off meanwhile or another sender had it):
    /// `None` when there was none, or it was started less than [`FLUSH_INTERVAL`] before
    /// `now` (it may still be on its way, on a loaded machine).
    fn previous_sender_ran(
        &self,
        now: DateTime<Utc>,
        lock_written_at: Option<DateTime<Utc>>,
    ) -> Option<bool> {
        let started = self.last_started()?;
        if now - started < chrono_duration(FLUSH_INTERVAL) {
            return None;
        }
        Some(lock_taken_since(lock_written_at, started))
    }

    /// How many senders in a row never ran, when that is enough to report (`status`): the
    /// host most likely ends the process before `Telemetry::start` in the sender.
    pub fn senders_not_run_reported(&self) -> Option<u32> {
        (self.senders_not_run >= SENDERS_NOT_RUN_REPORTED).then_some(self.senders_not_run)
    }

    /// Records a failed attempt at `now` and sets the next attempt's time; returns the new
    /// state.
    pub(crate) fn record_failure(
        dir: &StateDir,
        failure: &Failure,
        now: DateTime<Utc>,
    ) -> Result<Self, StateError> {
        Self::update(dir, &mut |state| {
            // a sender that reports ran
            state.senders_not_run = 0;
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
        Self::update(dir, &mut |state| {
            // a sender that reports ran
            state.senders_not_run = 0;
            state.consecutive_failures = 0;
            state.next_attempt_at = None;
            state.last_success_at = Some(rfc3339(now));
        })
    }

    /// Reads the state, applies `change` and writes it, under the state directory's lock,
    /// replaced atomically without `fsync`: hosts may be waiting for the lock, and a crash that
    /// loses this costs at most one attempt more or less, never an event.
    fn update(dir: &StateDir, change: &mut dyn FnMut(&mut Self)) -> Result<Self, StateError> {
        Self::update_with(dir, change, fsutil::write_atomic_unsynced)
    }

    /// [`update`](Self::update) with the file written by `write`. One body for every change
    /// (`dyn`: the changes differ only in what they set).
    fn update_with(
        dir: &StateDir,
        change: &mut dyn FnMut(&mut Self),
        write: fn(&Path, &[u8]) -> Result<(), StateError>,
    ) -> Result<Self, StateError> {
        let _lock = dir.lock_exclusive()?;
        let mut state = Self::read(dir);
        change(&mut state);
        write(&dir.sender_state_file(), state.to_json().as_bytes())?;
        Ok(state)
    }

    /// The state in `text`, read as serde's derive (`#[serde(default)]`) reads it: unknown
    /// members ignored, missing ones at their default. The error says what is damaged.
    fn from_json(text: &str) -> Result<Self, String> {
        let value: Value = serde_json::from_str(text).map_err(|e| e.to_string())?;
        let mut found = [None; 7];
        struct_members(&value, &SENDER_STATE_MEMBERS, true, &mut found)?;
        let [
            failures,
            next,
            last_failure,
            success,
            started,
            senders,
            not_run,
        ] = found;
        let text = |value, name| members::string(value, name, true);
        Ok(Self {
            consecutive_failures: members::unsigned(
                failures,
                "consecutive_failures",
                u32::MAX.into(),
            )?
            .map_or(0, |n| n as u32),
            next_attempt_at: text(next, "next_attempt_at")?,
            last_failure: match last_failure {
                None | Some(Value::Null) => None,
                Some(value) => Some(LastFailure::from_value(value)?),
            },
            last_success_at: text(success, "last_success_at")?,
            last_started_at: text(started, "last_started_at")?,
            senders_started: members::unsigned(senders, "senders_started", u64::MAX)?.unwrap_or(0),
            senders_not_run: members::unsigned(not_run, "senders_not_run", u32::MAX.into())?
                .map_or(0, |n| n as u32),
        })
    }

    /// The file's JSON: what `serde_json::to_string` wrote for the derived `Serialize`.
    fn to_json(&self) -> String {
        use std::fmt::Write as _;
        // One `write!`: each string is written by one `Display` (called, not inlined per
        // member as pushes and escapes were).
        let mut out = String::with_capacity(320);
        let _ = write!(
            out,
            "{{\"consecutive_failures\":{},\"next_attempt_at\":{},\"last_failure\":{},\
             \"last_success_at\":{},\"last_started_at\":{},\"senders_started\":{},\
             \"senders_not_run\":{}}}",
            self.consecutive_failures,
            JsonText(self.next_attempt_at.as_deref()),
            FailureJson(self.last_failure.as_ref()),
            JsonText(self.last_success_at.as_deref()),
            JsonText(self.last_started_at.as_deref()),
            self.senders_started,
            self.senders_not_run,
        );
        out
    }
}

/// A JSON string, or `null`, as `Display`.
struct JsonText<'a>(Option<&'a str>);

impl std::fmt::Display for JsonText<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0 {
            Some(text) => {
                let mut json = String::new();
                write_json_str(&mut json, text);
                f.write_str(&json)
            }
            None => f.write_str("null"),
        }
    }
}

/// The last failure's JSON object, or `null`, as `Display`.
struct FailureJson<'a>(Option<&'a LastFailure>);

impl std::fmt::Display for FailureJson<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let Some(failure) = self.0 else {
            return f.write_str("null");
        };
        write!(
            f,
            "{{\"at\":{},\"class\":\"{}\",\"status\":",
            JsonText(Some(&failure.at)),
            failure.class.as_str()
        )?;
        match failure.status {
            Some(status) => write!(f, "{status}}}"),
            None => f.write_str("null}"),
        }
    }
}

/// The members of [`SenderState`], in the order of its fields.
const SENDER_STATE_MEMBERS: [&str; 7] = [
    "consecutive_failures",
    "next_attempt_at",
    "last_failure",
    "last_success_at",
    "last_started_at",
    "senders_started",
    "senders_not_run",
];

/// How many senders in a row that never ran `status` reports, and that hold a large queue to
/// the flush interval: one alone may have been killed (a shutdown, the user's `kill`).
const SENDERS_NOT_RUN_REPORTED: u32 = 2;

impl LastFailure {
    /// The last failure in `value`, read as serde's derive reads it (`at` and `class`
    /// required, `status` may be missing).
    fn from_value(value: &Value) -> Result<Self, String> {
        let mut found = [None; 3];
        struct_members(value, &["at", "class", "status"], false, &mut found)?;
        let [at, class, status] = found;
        Ok(Self {
            at: members::string(at, "at", false)?.ok_or_else(|| members::invalid("at"))?,
            class: class
                .and_then(members::variant_name)
                .and_then(FailureClass::from_name)
                .ok_or_else(|| members::invalid("class"))?,
            status: match status {
                None | Some(Value::Null) => None,
                Some(_) => members::unsigned(status, "status", u16::MAX.into())?.map(|n| n as u16),
            },
        })
    }
}

/// Whether the sender lock, last written at `lock_written_at` (its file's time; `None`: never),
/// was taken at or after `started` ([`fsutil::modified_since`]).
fn lock_taken_since(lock_written_at: Option<DateTime<Utc>>, started: DateTime<Utc>) -> bool {
    lock_written_at.is_some_and(|at| fsutil::modified_since(at.into(), started.into()))
}

/// The wait after the `failures`-th failure in a row (counting from 1) of class `class`.
///
/// A sender [interrupted](FailureClass::Interrupted) after a success is no fault (a shutdown,
/// a `kill`): none. After another failure it counts one step less than the others, so that
/// a sender that aborts every time is held back like one that fails every time.
pub fn backoff_delay(failures: u32, class: FailureClass) -> Duration {
    let failures = if class == FailureClass::Interrupted {
        if failures <= 1 {
            return Duration::ZERO;
        }
        failures - 1
    } else {
        failures
    };
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
        assert_eq!(backoff_delay(1, FailureClass::Interrupted), Duration::ZERO);
        assert_eq!(backoff_delay(2, FailureClass::Interrupted), BACKOFF_BASE);
        assert_eq!(
            backoff_delay(3, FailureClass::Interrupted),
            BACKOFF_BASE * 2
        );
        assert_eq!(backoff_delay(40, FailureClass::Interrupted), BACKOFF_CAP);
    }

    /// Files read by hand as serde's derive read them: the same state, or both refused.
    #[test]
    fn the_file_reads_as_serde_read_it() {
        let full = r#"{"consecutive_failures":2,"next_attempt_at":"2026-04-08T10:01:00.000Z","last_failure":{"at":"2026-04-08T10:00:00.000Z","class":"server_error","status":503},"last_success_at":"2026-04-07T18:00:00.000Z","last_started_at":"2026-04-08T10:00:00.000Z","senders_started":12}"#;
        let cases = [
            full,
            "{}",
            "[]",
            "[3]",
            r#"[1,null,null,null,null,7]"#,
            r#"[1,null,null,null,null,7,8]"#,
            r#"{"consecutive_failures":1,"unknown":[1,{"a":2}]}"#,
            r#"{"consecutive_failures":null}"#,
            r#"{"consecutive_failures":-1}"#,
            r#"{"consecutive_failures":1.0}"#,
            r#"{"consecutive_failures":4294967295}"#,
            r#"{"consecutive_failures":4294967296}"#,
            r#"{"senders_started":18446744073709551615}"#,
            r#"{"senders_started":18446744073709551616}"#,
            r#"{"senders_started":"3"}"#,
            r#"{"next_attempt_at":null,"last_success_at":"x \"q\" \\ \n"}"#,
            r#"{"next_attempt_at":5}"#,
            r#"{"last_started_at":true}"#,
            r#"{"last_failure":null}"#,
            r#"{"last_failure":{"at":"t","class":"network"}}"#,
            r#"{"last_failure":{"at":"t","class":"network","status":null,"x":1}}"#,
            r#"{"last_failure":{"at":"t","class":{"rate_limited":null},"status":429}}"#,
            r#"{"last_failure":{"at":"t","class":{"rate_limited":1}}}"#,
            r#"{"last_failure":{"at":"t","class":{"rate_limited":null,"network":null}}}"#,
            r#"{"last_failure":{"at":"t","class":"Network"}}"#,
            r#"{"last_failure":{"at":"t","class":3}}"#,
            r#"{"last_failure":{"class":"network"}}"#,
            r#"{"last_failure":{"at":"t"}}"#,
            r#"{"last_failure":{"at":null,"class":"network"}}"#,
            r#"{"last_failure":{"at":"t","class":"network","status":65535}}"#,
            r#"{"last_failure":{"at":"t","class":"network","status":65536}}"#,
            r#"{"last_failure":{"at":"t","class":"network","status":-4}}"#,
            r#"{"last_failure":["t","not_found",404]}"#,
            r#"{"last_failure":["t","not_found"]}"#,
            r#"{"last_failure":["t","not_found",null,1]}"#,
            r#"{"last_failure":"t"}"#,
            r#"{"last_failure":[]}"#,
            "null",
            "5",
            r#""x""#,
            "{not json",
            "",
            r#"{"consecutive_failures":1} x"#,
        ];
        for text in cases {
            let ours = SenderState::from_json(text).ok();
            let serde = serde_json::from_str::<SenderState>(text).ok();
            assert_eq!(ours, serde, "{text}");
        }
        assert!(SenderState::from_json(full).is_ok());
        // a syntax error is described as serde_json describes it (the debug log shows it)
        assert_eq!(
            SenderState::from_json("{not json").unwrap_err(),
            serde_json::from_str::<SenderState>("{not json")
                .unwrap_err()
                .to_string()
        );
    }

    /// The file is written as `serde_json::to_string` wrote it.
    #[test]
    fn the_file_is_written_as_serde_wrote_it() {
        let mut state = SenderState::default();
        assert_eq!(state.to_json(), serde_json::to_string(&state).unwrap());
        state.consecutive_failures = u32::MAX;
        state.senders_started = u64::MAX;
        state.next_attempt_at = Some("2026-04-08T10:01:00.000Z".into());
        state.last_success_at = Some("a \"quoted\" \\ text\n\t\u{1}é".into());
        state.last_started_at = Some(String::new());
        for (class, status) in [
            (FailureClass::Network, None),
            (FailureClass::RateLimited, Some(429)),
            (FailureClass::UnexpectedStatus, Some(u16::MAX)),
        ] {
            state.last_failure = Some(LastFailure {
                at: "2026-04-08T10:00:00.000Z".into(),
                class,
                status,
            });
            let json = state.to_json();
            assert_eq!(json, serde_json::to_string(&state).unwrap());
            assert_eq!(SenderState::from_json(&json), Ok(state.clone()));
        }
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

    /// A host that ends the process before `Telemetry::start` (it parses its arguments
    /// first) starts senders that never take the lock: counted, reported from two on, and a
    /// large queue no longer starts one per command.
    #[test]
    fn senders_that_never_take_the_lock_are_counted_until_one_does() {
        let home = tempfile::tempdir().unwrap();
        let dir = StateDir::new(home.path().join(".demo"), StateDirSource::Explicit);
        crate::fsutil::ensure_dir(dir.path()).unwrap();
        let t0 = parse_rfc3339("2026-04-08T10:00:00.500Z").unwrap();
        let secs = chrono::Duration::seconds;
        let not_run = |at, lock| {
            SenderState::record_start(&dir, at, lock)
                .unwrap()
                .senders_not_run
        };
        assert_eq!(not_run(t0, None), 0, "the first start has nothing to judge");
        assert_eq!(not_run(t0 + secs(10), None), 1, "no lock file at all");
        assert_eq!(
            SenderState::read(&dir).senders_not_run_reported(),
            None,
            "one alone may have been killed"
        );
        assert_eq!(
            not_run(t0 + secs(12), None),
            1,
            "started 2 s before: it may still be on its way"
        );
        assert_eq!(
            not_run(t0 + secs(30), Some(t0 + secs(5))),
            2,
            "the lock was written before that start"
        );
        let state = SenderState::read(&dir);
        assert_eq!(state.senders_not_run_reported(), Some(2));
        assert_eq!(state.senders_started, 4);

        // a large queue waits for the interval while senders do not run
        let large = StartFacts {
            lock_written_at: None,
            queue_bytes: FLUSH_QUEUE_BYTES,
        };
        assert_eq!(state.start_due_at(t0 + secs(31), large), None);
        assert_eq!(
            state.start_due_at(t0 + secs(36), large),
            Some(StartReason::IntervalOver)
        );
        let ran = SenderState {
            senders_not_run: 1,
            ..state.clone()
        };
        assert_eq!(
            ran.start_due_at(t0 + secs(31), large),
            Some(StartReason::QueueLarge)
        );

        // one that took the lock after its start ends the count; a whole-second time cut
        // down to before the start counts as after it
        assert_eq!(not_run(t0 + secs(60), Some(t0 + secs(31))), 0);
        assert_eq!(not_run(t0 + secs(90), None), 1);
        let cut_down = parse_rfc3339("2026-04-08T10:01:30.000Z").unwrap();
        assert_eq!(not_run(t0 + secs(120), Some(cut_down)), 0);
        assert_eq!(
            SenderState::read(&dir).senders_not_run,
            0,
            "read back as written"
        );

        // a sender that reaches the server ends the count at once, whatever it was told: the
        // report does not outlive the sender that proves it wrong
        for report in [&mut |at| SenderState::record_success(&dir, at), &mut |at| {
            let failure = Failure {
                class: FailureClass::Network,
                status: None,
            };
            SenderState::record_failure(&dir, &failure, at)
        }]
            as [&mut dyn FnMut(DateTime<Utc>) -> Result<SenderState, StateError>; 2]
        {
            let t = SenderState::read(&dir).last_started().unwrap();
            assert_eq!(not_run(t + secs(30), None), 1);
            assert_eq!(not_run(t + secs(60), None), 2);
            assert_eq!(SenderState::read(&dir).senders_not_run_reported(), Some(2));
            assert_eq!(report(t + secs(61)).unwrap().senders_not_run, 0);
            assert_eq!(SenderState::read(&dir).senders_not_run_reported(), None);
        }
    }
}

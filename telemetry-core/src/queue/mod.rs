//! The durable on-disk queue of records waiting to be sent, and the bounded log of records
//! sent recently.
//!
//! The queue is a list of [segment](segment) files, in the order they are read: sealed
//! segments `telemetry-queue.<n>.jsonl` (oldest first), the head `telemetry-queue.jsonl`, the
//! one appended to, and any segments written beside it while the lock was held elsewhere
//! (`telemetry-queue.<n>-<id>.jsonl`, in the order they were made). Each holds one
//! [framed](frame) record per line after a header that carries the segment's id and how far
//! the server has acknowledged it.
//!
//! - **Appending is O(1)** whatever the queue holds ([`append`]): a process keeps the lock
//!   file and the head open, and an append is a `flock`, a `statx` of the head's size and
//!   link count (not its timestamps, on Linux: see `fsutil::size_and_link`) and one `write`.
//!   A record is written whole in one `write`, and a torn line left by a crash is closed off
//!   before the next append so it never swallows its neighbour.
//! - **Hosts do not wait for the lock's holder.** An append waits at most
//!   [`APPEND_LOCK_WAIT`](crate::limits::APPEND_LOCK_WAIT) for the lock; a holder that keeps
//!   it longer (a command stopped while it appended) has the record written beside the head, a
//!   segment of its own created without the lock ([`append`]), while there are fewer than
//!   [`MAX_SEGMENTS_BESIDE`](crate::limits::MAX_SEGMENTS_BESIDE) of those (past that, an
//!   append waits for the lock once, as a login does).
//! - **Hosts never wait for a sender.** The sender reads without the lock and acknowledges by
//!   moving a segment's offset (a 20-byte positioned write) or removing a segment, never by
//!   rewriting the queue ([`settle`]); the lock is held for that and the counters, a few small
//!   writes without `fsync`.
//! - **Bounded**: at most [`MAX_QUEUE_BYTES`] on disk (plus one record), enforced when the
//!   head is sealed, every [`QUEUE_SEGMENT_BYTES`]: the oldest segments are removed and the
//!   records they held are counted in `telemetry-stats.json` (`status` shows them). A single
//!   record larger than [`MAX_RECORD_BYTES`] is refused. Segments beside the head count
//!   towards it once there (their own number is bounded by
//!   [`MAX_SEGMENTS_BESIDE`](crate::limits::MAX_SEGMENTS_BESIDE)), and one whose writer still
//!   holds it is never removed.
//!
//! The sender reads the oldest records with [`Queue::read_batch`], sends them, and settles
//! them in order with [`Queue::settle`]: accepted ones move to `telemetry-sent.jsonl` (which
//! keeps the newest [`MAX_SENT_RECORDS`] for `inspect`), refused ones are dropped and counted
//! by reason, the rest stay for a later attempt. Before its first request it calls
//! [`Queue::check_acknowledgeable`]: a sender that could not record what the server accepted
//! (a read-only directory, a full disk) would send the same records again on every run, so it
//! sends nothing.
//!
//! Readers skip (and count) damaged lines; the sender drops them, counted, as it settles past
//! them.

mod append;
pub mod frame;
mod read;
pub mod segment;
mod sent_log;
mod settle;
mod stats;

use std::fs::OpenOptions;
use std::io::Write;
use std::path::Path;

use uuid::Uuid;

pub(crate) use append::{Appender, Position};
pub use read::{Batch, QueueSummary};
pub use settle::{SettleReport, Settled};
pub use stats::QueueStats;

use crate::fsutil::{self, StateError};
#[cfg(doc)]
use crate::limits::{MAX_QUEUE_BYTES, MAX_RECORD_BYTES, MAX_SENT_RECORDS, QUEUE_SEGMENT_BYTES};
use crate::paths::StateDir;
use crate::record::Record;

/// What [`Queue::check_acknowledgeable`] writes: a disk too full for it is too full for the
/// writes that acknowledge a batch.
const PROBE_BYTES: usize = 4096;

/// Something the queue could not do.
#[derive(Debug, thiserror::Error)]
pub enum QueueError {
    /// A file problem.
    #[error(transparent)]
    State(#[from] StateError),
    /// The queue's handle in this process is unusable (a thread panicked holding it).
    #[error("the telemetry queue is unavailable in this process")]
    Unavailable,
    /// A record over [`MAX_RECORD_BYTES`].
    #[error("a record of {size} bytes is larger than the {limit} bytes allowed")]
    RecordTooLarge {
        /// Its size.
        size: usize,
        /// The limit.
        limit: usize,
    },
}

impl QueueError {
    /// One sentence telling a user how to fix it.
    pub fn fix_hint(&self) -> String {
        match self {
            QueueError::State(state) => state.fix_hint(),
            QueueError::Unavailable => "nothing to do: the next run records again".to_string(),
            QueueError::RecordTooLarge { limit, .. } => {
                format!("record events of at most {limit} bytes; this one was not recorded")
            }
        }
    }
}

/// What a read of the queue found.
#[cfg(test)]
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct QueueContents {
    /// The valid records, oldest first.
    pub records: Vec<Record>,
    /// Damaged lines skipped.
    pub damaged: usize,
}

/// A record the server accepted, as kept in the recently-sent log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SentRecord {
    /// When it was acknowledged (RFC 3339, UTC).
    pub sent_at: String,
    /// The record, exactly as it was sent.
    pub record: Record,
}

/// The queue in a state directory.
#[derive(Debug, Clone)]
pub struct Queue {
    dir: StateDir,
}

impl Queue {
    /// The queue in `dir`.
    pub fn new(dir: StateDir) -> Self {
        Self { dir }
    }

    /// The state directory.
    pub fn dir(&self) -> &StateDir {
        &self.dir
    }

    /// Appends `records`, in order, through an [`Appender`] of its own; returns how many old
    /// records were dropped to make room. (A recording handle keeps one appender for the
    /// process instead.)
    #[cfg(test)]
    pub fn append(&self, records: &[Record]) -> Result<usize, QueueError> {
        let mut appender = Appender::new(self.dir.clone());
        let mut dropped = 0;
        for record in records {
            let line = frame::encode(&record.json);
            dropped += appender.append(line.as_bytes(), record.uuid)?.1;
        }
        Ok(dropped)
    }

    /// [`append`](Self::append) for a caller that already holds the exclusive lock.
    pub(crate) fn append_locked(
        &self,
        _lock: &fsutil::StateLock,
        records: &[Record],
    ) -> Result<usize, QueueError> {
        let lines: Vec<(Vec<u8>, Uuid)> = records
            .iter()
            .map(|r| (frame::encode(&r.json).into_bytes(), r.uuid))
            .collect();
        append::append_with_lock_held(&self.dir, &lines)
    }

    /// Every waiting record, oldest first, read without the lock.
    #[cfg(test)]
    pub fn read_all(&self) -> Result<QueueContents, QueueError> {
        read::all(&self.dir)
    }

    /// How many records wait, and the `newest` last appended, read without the lock (see
    /// [`QueueSummary`]).
    pub fn summary(&self, newest: usize) -> Result<QueueSummary, QueueError> {
        read::summary(&self.dir, newest)
    }

    /// Whether any record is waiting (read-only).
    pub fn has_waiting(&self) -> bool {
        read::batch(&self.dir, 1, 1, read::Access::ReadOnly)
            .is_ok_and(|batch| !batch.records.is_empty())
    }

    /// The oldest waiting records, at most `max_records` of them and (past the first) at most
    /// `max_bytes` of JSON in all: the next batch to send, opened so it can be settled.
    pub fn read_batch(&self, max_records: usize, max_bytes: usize) -> Result<Batch, QueueError> {
        read::batch(&self.dir, max_records, max_bytes, read::Access::Settle)
    }

    /// Settles the next `results.len()` records of `batch`, in order (see [`Settled`]).
    pub fn settle(
        &self,
        batch: &mut Batch,
        results: &[Settled],
    ) -> Result<SettleReport, QueueError> {
        settle::settle(&self.dir, batch, results)
    }

    /// Withdraws the records this process appended at `positions`, and those with the uuids
    /// `elsewhere` (found by reading the queue), that are still waiting (what `telemetry off`
    /// takes back), without counting them anywhere; returns how many.
    pub(crate) fn discard(
        &self,
        positions: &[Position],
        elsewhere: &[Uuid],
    ) -> Result<usize, QueueError> {
        settle::discard(&self.dir, positions, elsewhere)
    }

    /// Checks that a sender could record what the server accepts: acknowledging writes the
    /// segments' offsets, the recently-sent log and the counters (through temporary files in
    /// the directory), so one is created, written ([`PROBE_BYTES`]), synced and removed. An
    /// error (a read-only directory or file system, a full disk, a lock file this process
    /// cannot open) means: send nothing now, or the same records would go out again on every
    /// run. Takes no lock.
    pub fn check_acknowledgeable(&self) -> Result<(), QueueError> {
        Ok(probe_write(self.dir.path())?)
    }

    /// The recently-sent log, oldest first.
    pub fn recently_sent(&self) -> Result<Vec<SentRecord>, QueueError> {
        sent_log::read(&self.dir)
    }

    /// The counters (zero when there is no file; a damaged file reads as zero).
    pub fn stats(&self) -> Result<QueueStats, QueueError> {
        Ok(stats::read(&self.dir.stats_file())?)
    }

    /// Deletes the queue (every segment), the recently-sent log and the counters; returns how
    /// many records (queued and sent) were deleted.
    pub fn clear(&self) -> Result<usize, QueueError> {
        if !self.dir.path().is_dir() {
            return Ok(0);
        }
        let _lock = self.dir.lock_exclusive()?;
        let queued = self.summary(0).map_or(0, |s| s.waiting);
        let sent = self.recently_sent().map(|s| s.len()).unwrap_or(0);
        for file in segment::files(self.dir.path()) {
            fsutil::remove_file(&file)?;
        }
        fsutil::remove_file(&self.dir.sent_file())?;
        fsutil::remove_file(&self.dir.stats_file())?;
        Ok(queued + sent)
    }
}

/// Creates, writes, syncs and removes a temporary file in `dir` (named like the rewrites'
/// temporary files, so a crash leaves nothing `remove_stale_temps` would not remove).
fn probe_write(dir: &Path) -> Result<(), StateError> {
    let probe = dir.join(format!(
        ".telemetry-probe.tmp-{}-{}",
        std::process::id(),
        Uuid::new_v4().simple()
    ));
    let mut options = OpenOptions::new();
    // create_new never follows a link, nor opens what is already there
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let result = options
        .open(&probe)
        .map_err(|e| StateError::io("create", &probe, e))
        .and_then(|mut file| {
            file.write_all(&[b'\n'; PROBE_BYTES])
                .and_then(|()| file.sync_all())
                .map_err(|e| StateError::io("write", &probe, e))
        });
    if result.is_ok() || probe.exists() {
        let _ = std::fs::remove_file(&probe);
    }
    result
}

#[cfg(test)]
mod tests;

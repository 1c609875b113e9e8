//! The durable on-disk queue of records waiting to be sent, and the bounded log of records
//! sent recently.
//!
//! `telemetry-queue.jsonl` holds one [framed](frame) record per line, oldest first. Appends
//! take the state directory's exclusive lock, so any number of processes can append at once;
//! a record is written whole in one `write`, and a torn line left by a crash is closed off
//! before the next append so it never swallows its neighbour. Readers take the shared lock and
//! skip (and count) damaged lines.
//!
//! Bounds: at most [`MAX_QUEUE_RECORDS`] records and [`MAX_QUEUE_BYTES`] bytes. When an append
//! would pass either, the oldest records are dropped until the queue is back under 90% of both
//! (so a full queue is not rewritten on every append), and the number dropped is added to the
//! counters in `telemetry-stats.json` that `status` shows. A single record larger than
//! [`MAX_RECORD_BYTES`] is refused.
//!
//! The sender (delivery) reads the oldest records with [`Queue::read_batch`], and then calls
//! [`Queue::mark_sent`] for what the server accepted (the records move to
//! `telemetry-sent.jsonl`, which keeps the newest [`MAX_SENT_RECORDS`] for `inspect`),
//! [`Queue::drop_rejected`] for what it refused for good (counted by reason), or leaves them
//! for a later attempt. Before its first request it calls [`Queue::check_acknowledgeable`]:
//! a sender that could not record what the server accepted (a read-only directory, a full
//! disk) would send the same records again on every run, so it sends nothing.

pub mod frame;

use std::collections::BTreeMap;
use std::fs::OpenOptions;
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::Path;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::fsutil::{self, StateError, StateLock};
use crate::limits::{
    MAX_QUEUE_BYTES, MAX_QUEUE_RECORDS, MAX_RECORD_BYTES, MAX_SENT_BYTES, MAX_SENT_RECORDS,
};
use crate::paths::StateDir;
use crate::record::Record;

/// The most of a queue file ever read: a larger file was not written by telemetry, and only
/// its newest part is read.
const MAX_READ_BYTES: u64 = 2 * MAX_QUEUE_BYTES;

/// What [`Queue::check_acknowledgeable`] writes: a disk too full for it is too full for the
/// rewrite that acknowledges a batch.
const PROBE_BYTES: usize = 4096;

/// Something the queue could not do.
#[derive(Debug, thiserror::Error)]
pub enum QueueError {
    /// A file problem.
    #[error(transparent)]
    State(#[from] StateError),
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
            QueueError::RecordTooLarge { limit, .. } => {
                format!("record events of at most {limit} bytes; this one was not recorded")
            }
        }
    }
}

/// Counters kept in `telemetry-stats.json`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct QueueStats {
    /// Records dropped, oldest first, because the queue was full.
    pub dropped_overflow: u64,
    /// Damaged records removed from the queue.
    pub dropped_damaged: u64,
    /// Records the server refused for good (400, 401, 402, 403, 413), dropped.
    pub rejected: u64,
    /// The same, by reason (`bad_request`, `unauthorized`, ...: see
    /// [`RejectionClass`](crate::delivery::RejectionClass)).
    pub rejected_by: BTreeMap<String, u64>,
    /// Records the server accepted.
    pub sent: u64,
}

impl QueueStats {
    /// All records dropped for any reason.
    pub fn dropped(&self) -> u64 {
        self.dropped_overflow + self.dropped_damaged + self.rejected
    }
}

/// What a read of the queue found.
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

    /// Appends `records`, in order, under the exclusive lock; returns how many old records were
    /// dropped to make room.
    pub fn append(&self, records: &[Record]) -> Result<usize, QueueError> {
        let lock = self.dir.lock_exclusive()?;
        self.append_locked(&lock, records)
    }

    /// [`append`](Self::append) for a caller that already holds the exclusive lock.
    pub(crate) fn append_locked(
        &self,
        _lock: &StateLock,
        records: &[Record],
    ) -> Result<usize, QueueError> {
        let mut lines = String::new();
        for record in records {
            let line = frame::encode(&record.json);
            if line.len() > MAX_RECORD_BYTES {
                return Err(QueueError::RecordTooLarge {
                    size: line.len(),
                    limit: MAX_RECORD_BYTES,
                });
            }
            lines.push_str(&line);
        }
        if lines.is_empty() {
            return Ok(0);
        }
        let path = self.dir.queue_file();
        let mut file = fsutil::open_append(&path)?;
        let len = file
            .metadata()
            .map_err(|e| StateError::io("inspect", &path, e))?
            .len();
        let mut dropped = 0;
        if len > 0 {
            let (count, torn) = count_lines(&mut file, &path, len)?;
            let over_count = count + records.len() > MAX_QUEUE_RECORDS;
            let over_bytes = len + lines.len() as u64 > MAX_QUEUE_BYTES;
            if over_count || over_bytes {
                dropped = self.make_room(records.len(), lines.len() as u64)?;
                file = fsutil::open_append(&path)?;
            } else if torn {
                // close off a record a crash left half written
                lines.insert(0, '\n');
            }
        }
        file.write_all(lines.as_bytes())
            .map_err(|e| StateError::io("append to", &path, e))?;
        Ok(dropped)
    }

    /// Drops the oldest records (and any damaged ones) so that `incoming` records of
    /// `incoming_bytes` fit under 90% of the bounds.
    fn make_room(&self, incoming: usize, incoming_bytes: u64) -> Result<usize, QueueError> {
        let contents = self.read_locked()?;
        let max_count = (MAX_QUEUE_RECORDS * 9 / 10).saturating_sub(incoming);
        let max_bytes = (MAX_QUEUE_BYTES * 9 / 10).saturating_sub(incoming_bytes);
        let mut kept = Vec::new();
        let mut bytes = 0u64;
        for record in contents.records.iter().rev() {
            let size = frame::encode(&record.json).len() as u64;
            if kept.len() >= max_count || bytes + size > max_bytes {
                break;
            }
            bytes += size;
            kept.push(record.clone());
        }
        kept.reverse();
        let dropped = contents.records.len() - kept.len();
        self.write_queue(&kept)?;
        self.update_stats(|stats| {
            stats.dropped_overflow += dropped as u64;
            stats.dropped_damaged += contents.damaged as u64;
        })?;
        tracing::debug!(dropped, "telemetry queue full: dropped the oldest records");
        Ok(dropped)
    }

    /// Every valid record, oldest first, under the shared lock.
    pub fn read_all(&self) -> Result<QueueContents, QueueError> {
        let _lock = self.dir.lock_shared()?;
        self.read_locked()
    }

    /// The oldest valid records, at most `max_records` of them and (past the first) at most
    /// `max_bytes` of JSON in all: the next batch to send. Reading stops at the batch's end, so
    /// `damaged` counts only the damaged lines before it.
    pub fn read_batch(
        &self,
        max_records: usize,
        max_bytes: usize,
    ) -> Result<QueueContents, QueueError> {
        let _lock = self.dir.lock_shared()?;
        self.read_oldest_locked(max_records, max_bytes)
    }

    /// Removes the records with these uuids (acknowledged by the server) and keeps them in the
    /// recently-sent log; returns how many were found.
    pub fn mark_sent(&self, uuids: &[Uuid]) -> Result<usize, QueueError> {
        let _lock = self.dir.lock_exclusive()?;
        let removed = self.remove_locked(uuids)?;
        let sent_at = crate::record::now_rfc3339();
        let mut log = self.read_sent_locked()?;
        log.extend(removed.iter().map(|record| SentRecord {
            sent_at: sent_at.clone(),
            record: record.clone(),
        }));
        self.write_sent(&log)?;
        let n = removed.len();
        self.update_stats(|stats| stats.sent += n as u64)?;
        Ok(n)
    }

    /// Removes records the server refused for good and counts them as rejected for `reason`;
    /// returns how many were found.
    pub fn drop_rejected(&self, uuids: &[Uuid], reason: &str) -> Result<usize, QueueError> {
        let _lock = self.dir.lock_exclusive()?;
        let n = self.remove_locked(uuids)?.len();
        if n > 0 {
            self.update_stats(|stats| {
                stats.rejected += n as u64;
                *stats.rejected_by.entry(reason.to_string()).or_default() += n as u64;
            })?;
        }
        Ok(n)
    }

    /// Removes the records with these uuids without counting them anywhere (what a process
    /// recorded before `telemetry off` withdrew it); returns how many were found.
    pub fn discard(&self, uuids: &[Uuid]) -> Result<usize, QueueError> {
        if uuids.is_empty() {
            return Ok(0);
        }
        let _lock = self.dir.lock_exclusive()?;
        Ok(self.remove_locked(uuids)?.len())
    }

    fn remove_locked(&self, uuids: &[Uuid]) -> Result<Vec<Record>, QueueError> {
        let contents = self.read_locked()?;
        let (removed, kept): (Vec<Record>, Vec<Record>) = contents
            .records
            .into_iter()
            .partition(|r| uuids.contains(&r.uuid));
        if !removed.is_empty() || contents.damaged > 0 {
            self.write_queue(&kept)?;
            if contents.damaged > 0 {
                self.update_stats(|stats| stats.dropped_damaged += contents.damaged as u64)?;
            }
        }
        Ok(removed)
    }

    /// Checks, under the exclusive lock, that a sender could record what the server accepts:
    /// acknowledging a batch rewrites the queue, the recently-sent log and the counters through
    /// temporary files in the directory, so one is created, written ([`PROBE_BYTES`]), synced
    /// and removed. An error (a read-only directory or file system, a full disk, a lock file
    /// this process cannot open) means: send nothing now, or the same records would go out
    /// again on every run.
    pub fn check_acknowledgeable(&self) -> Result<(), QueueError> {
        let _lock = self.dir.lock_exclusive()?;
        Ok(probe_write(self.dir.path())?)
    }

    /// The recently-sent log, oldest first.
    pub fn recently_sent(&self) -> Result<Vec<SentRecord>, QueueError> {
        let _lock = self.dir.lock_shared()?;
        self.read_sent_locked()
    }

    /// The counters (zero when there is no file; a damaged file reads as zero).
    pub fn stats(&self) -> Result<QueueStats, QueueError> {
        Ok(read_stats(&self.dir.stats_file())?)
    }

    /// Deletes the queue, the recently-sent log and the counters; returns how many records
    /// (queued and sent) were deleted.
    pub fn clear(&self) -> Result<usize, QueueError> {
        if !self.dir.path().is_dir() {
            return Ok(0);
        }
        let _lock = self.dir.lock_exclusive()?;
        let queued = self.read_locked().map(|c| c.records.len()).unwrap_or(0);
        let sent = self.read_sent_locked().map(|s| s.len()).unwrap_or(0);
        fsutil::remove_file(&self.dir.queue_file())?;
        fsutil::remove_file(&self.dir.sent_file())?;
        fsutil::remove_file(&self.dir.stats_file())?;
        Ok(queued + sent)
    }

    fn read_locked(&self) -> Result<QueueContents, QueueError> {
        self.read_oldest_locked(usize::MAX, usize::MAX)
    }

    /// The oldest valid records, at most `max_records` of them and (past the first) at most
    /// `max_bytes` of JSON; nothing past them is parsed.
    fn read_oldest_locked(
        &self,
        max_records: usize,
        max_bytes: usize,
    ) -> Result<QueueContents, QueueError> {
        let path = self.dir.queue_file();
        let (content, mut damaged) = read_tail(&path)?;
        let mut records: Vec<Record> = Vec::new();
        let mut bytes = 0usize;
        for line in frame::lines(&content) {
            if records.len() >= max_records {
                break;
            }
            match line {
                frame::Line::Complete(line) => match frame::decode(line).and_then(Record::parse) {
                    Some(record) => {
                        let size = bytes.saturating_add(record.json.len());
                        if !records.is_empty() && size > max_bytes {
                            break;
                        }
                        bytes = size;
                        records.push(record);
                    }
                    None => damaged += 1,
                },
                frame::Line::Torn(_) => damaged += 1,
            }
        }
        Ok(QueueContents { records, damaged })
    }

    fn write_queue(&self, records: &[Record]) -> Result<(), QueueError> {
        let path = self.dir.queue_file();
        if records.is_empty() {
            fsutil::remove_file(&path)?;
            return Ok(());
        }
        let content: String = records.iter().map(|r| frame::encode(&r.json)).collect();
        Ok(fsutil::write_atomic(&path, content.as_bytes())?)
    }

    fn read_sent_locked(&self) -> Result<Vec<SentRecord>, QueueError> {
        let (content, _) = read_tail(&self.dir.sent_file())?;
        Ok(frame::lines(&content)
            .filter_map(|line| match line {
                frame::Line::Complete(bytes) => frame::decode(bytes),
                frame::Line::Torn(_) => None,
            })
            .filter_map(|json| {
                let rest = json.strip_prefix("{\"sent_at\":\"")?;
                let (sent_at, rest) = rest.split_once("\",\"record\":")?;
                let record = rest.strip_suffix('}')?;
                Some(SentRecord {
                    sent_at: sent_at.to_string(),
                    record: Record::parse(record)?,
                })
            })
            .collect())
    }

    fn write_sent(&self, log: &[SentRecord]) -> Result<(), QueueError> {
        let encode = |entry: &SentRecord| {
            let mut json = String::from("{\"sent_at\":");
            crate::event::writer::write_json_str(&mut json, &entry.sent_at);
            json.push_str(",\"record\":");
            json.push_str(&entry.record.json);
            json.push('}');
            frame::encode(&json)
        };
        let lines: Vec<String> = log.iter().map(encode).collect();
        // the oldest lines that do not fit
        let mut bytes: u64 = lines.iter().map(|l| l.len() as u64).sum();
        let mut skip = 0;
        while skip < lines.len()
            && (lines.len() - skip > MAX_SENT_RECORDS || bytes > MAX_SENT_BYTES)
        {
            bytes -= lines[skip].len() as u64;
            skip += 1;
        }
        Ok(fsutil::write_atomic(
            &self.dir.sent_file(),
            lines[skip..].concat().as_bytes(),
        )?)
    }

    fn update_stats(&self, change: impl FnOnce(&mut QueueStats)) -> Result<(), QueueError> {
        let path = self.dir.stats_file();
        let mut stats = read_stats(&path).unwrap_or_default();
        change(&mut stats);
        let json = serde_json::to_string(&stats).unwrap_or_default();
        Ok(fsutil::write_atomic(&path, json.as_bytes())?)
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

/// The shortest line a valid record can take (tag, checksum, length and the smallest record
/// object): a file shorter than `MAX_QUEUE_RECORDS` of these cannot hold too many records, so
/// appends to it never read it.
const MIN_RECORD_LINE: u64 = 120;

/// Counts complete lines (only when the file is long enough to hold too many) and says
/// whether the file ends with a torn line.
fn count_lines(
    file: &mut std::fs::File,
    path: &Path,
    len: u64,
) -> Result<(usize, bool), StateError> {
    let io = |e| StateError::io("read", path, e);
    if len < MAX_QUEUE_RECORDS as u64 * MIN_RECORD_LINE {
        let mut last = [0u8; 1];
        file.seek(SeekFrom::Start(len - 1)).map_err(io)?;
        file.read_exact(&mut last).map_err(io)?;
        return Ok((0, last[0] != b'\n'));
    }
    let (content, _) = read_last(file, path, len)?;
    let count = content.iter().filter(|&&b| b == b'\n').count();
    let torn = content.last().is_some_and(|&b| b != b'\n');
    Ok((count, torn))
}

/// Reads at most [`MAX_READ_BYTES`] from the end of a queue file; a cut first line counts as
/// one damaged record.
fn read_tail(path: &Path) -> Result<(Vec<u8>, usize), StateError> {
    let Some(mut file) = fsutil::open_regular(path)? else {
        return Ok((Vec::new(), 0));
    };
    let len = file
        .metadata()
        .map_err(|e| StateError::io("read", path, e))?
        .len();
    let (mut content, skip) = read_last(&mut file, path, len)?;
    if skip > 0 {
        let cut = content
            .iter()
            .position(|&b| b == b'\n')
            .map_or(content.len(), |i| i + 1);
        content.drain(..cut);
        return Ok((content, 1));
    }
    Ok((content, 0))
}

/// Reads at most [`MAX_READ_BYTES`] from the end of `file`, `len` bytes long; returns them and
/// how many bytes before them were skipped.
fn read_last(
    file: &mut std::fs::File,
    path: &Path,
    len: u64,
) -> Result<(Vec<u8>, u64), StateError> {
    let io = |e| StateError::io("read", path, e);
    let skip = len.saturating_sub(MAX_READ_BYTES);
    file.seek(SeekFrom::Start(skip)).map_err(io)?;
    let mut content = Vec::with_capacity(len.min(MAX_READ_BYTES) as usize);
    file.take(MAX_READ_BYTES)
        .read_to_end(&mut content)
        .map_err(io)?;
    Ok((content, skip))
}

fn read_stats(path: &Path) -> Result<QueueStats, StateError> {
    match fsutil::read_small_text(path) {
        Ok(Some(text)) => Ok(serde_json::from_str(&text).unwrap_or_else(|e| {
            tracing::debug!(%e, "telemetry counters damaged; starting again from zero");
            QueueStats::default()
        })),
        Ok(None) => Ok(QueueStats::default()),
        Err(e @ (StateError::Symlink { .. } | StateError::NotAFile { .. })) => Err(e),
        Err(_) => Ok(QueueStats::default()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::paths::StateDirSource;

    fn queue() -> (tempfile::TempDir, Queue) {
        let home = tempfile::tempdir().unwrap();
        let dir = StateDir::new(home.path().join(".demo"), StateDirSource::Explicit);
        (home, Queue::new(dir))
    }

    fn record(n: usize) -> Record {
        Record::alias(&format!("anon-{n}"), "user")
    }

    #[test]
    fn the_smallest_record_line_is_not_below_the_bound() {
        let record = Record::alias("a", "b");
        let smallest = frame::encode(&record.json).len() as u64;
        assert!(smallest >= MIN_RECORD_LINE, "{smallest}");
    }

    #[test]
    fn append_read_and_private_mode() {
        let (_home, q) = queue();
        assert_eq!(q.read_all().unwrap(), QueueContents::default());
        let a = record(1);
        let b = record(2);
        q.append(std::slice::from_ref(&a)).unwrap();
        q.append(std::slice::from_ref(&b)).unwrap();
        let contents = q.read_all().unwrap();
        assert_eq!(contents.records, vec![a, b]);
        assert_eq!(contents.damaged, 0);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(q.dir().queue_file())
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }

    #[test]
    fn damaged_lines_are_skipped_and_torn_tails_closed_off() {
        let (_home, q) = queue();
        let a = record(1);
        q.append(std::slice::from_ref(&a)).unwrap();
        let path = q.dir().queue_file();
        let mut content = std::fs::read(&path).unwrap();
        content.extend_from_slice(b"garbage line\n");
        let b_line = frame::encode(&record(2).json);
        content.extend_from_slice(&b_line.as_bytes()[..b_line.len() / 2]);
        std::fs::write(&path, &content).unwrap();
        let contents = q.read_all().unwrap();
        assert_eq!(contents.records, vec![a.clone()]);
        assert_eq!(contents.damaged, 2);
        // the next append is not glued onto the torn line
        let c = record(3);
        q.append(std::slice::from_ref(&c)).unwrap();
        let contents = q.read_all().unwrap();
        assert_eq!(contents.records, vec![a, c]);
        assert_eq!(contents.damaged, 2);
    }

    #[test]
    fn bounded_by_count_oldest_dropped_and_counted() {
        let (_home, q) = queue();
        let batch: Vec<Record> = (0..MAX_QUEUE_RECORDS).map(record).collect();
        q.append(&batch).unwrap();
        assert_eq!(q.read_all().unwrap().records.len(), MAX_QUEUE_RECORDS);
        let newest = record(99_999);
        let dropped = q.append(std::slice::from_ref(&newest)).unwrap();
        assert!(dropped > 0);
        let contents = q.read_all().unwrap();
        assert!(contents.records.len() <= MAX_QUEUE_RECORDS * 9 / 10);
        assert_eq!(contents.records.last(), Some(&newest));
        assert_eq!(
            contents.records.first().map(|r| r.uuid),
            Some(batch[dropped].uuid)
        );
        assert_eq!(q.stats().unwrap().dropped_overflow, dropped as u64);
    }

    #[test]
    fn sender_api() {
        let (_home, q) = queue();
        let records: Vec<Record> = (0..5).map(record).collect();
        q.append(&records).unwrap();
        let batch = q.read_batch(3, 1 << 20).unwrap();
        assert_eq!(batch.records, records[..3].to_vec());
        let one = q.read_batch(10, 1).unwrap();
        assert_eq!(one.records.len(), 1);
        assert_eq!(q.mark_sent(&[records[0].uuid, records[1].uuid]).unwrap(), 2);
        assert_eq!(
            q.drop_rejected(&[records[2].uuid], "bad_request").unwrap(),
            1
        );
        assert_eq!(
            q.drop_rejected(&[records[3].uuid, Uuid::nil()], "bad_request")
                .unwrap(),
            1
        );
        assert_eq!(q.read_all().unwrap().records, vec![records[4].clone()]);
        let sent = q.recently_sent().unwrap();
        assert_eq!(sent.len(), 2);
        assert_eq!(sent[0].record, records[0]);
        let stats = q.stats().unwrap();
        assert_eq!((stats.sent, stats.rejected), (2, 2));
        assert_eq!(stats.rejected_by["bad_request"], 2);
        assert_eq!(q.clear().unwrap(), 3);
        assert!(q.recently_sent().unwrap().is_empty());
        assert_eq!(q.stats().unwrap(), QueueStats::default());
    }

    #[test]
    fn sent_log_is_bounded() {
        let (_home, q) = queue();
        let records: Vec<Record> = (0..MAX_SENT_RECORDS + 10).map(record).collect();
        q.append(&records).unwrap();
        let uuids: Vec<Uuid> = records.iter().map(|r| r.uuid).collect();
        q.mark_sent(&uuids).unwrap();
        let sent = q.recently_sent().unwrap();
        assert_eq!(sent.len(), MAX_SENT_RECORDS);
        assert_eq!(sent.last().unwrap().record, *records.last().unwrap());
    }

    #[cfg(unix)]
    #[test]
    fn acknowledgements_need_a_writable_directory() {
        use std::os::unix::fs::PermissionsExt;
        let (_home, q) = queue();
        q.append(&[record(1)]).unwrap();
        q.check_acknowledgeable().unwrap();
        assert_eq!(
            std::fs::read_dir(q.dir().path()).unwrap().count(),
            2,
            "the probe leaves nothing behind (queue and lock remain)"
        );
        if rustix::process::geteuid().is_root() {
            eprintln!("skipped the rest: root writes in a read-only directory");
            return;
        }
        let dir = q.dir().path();
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o500)).unwrap();
        let refused = q.check_acknowledgeable();
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700)).unwrap();
        assert!(refused.is_err());
    }

    #[test]
    fn refuses_a_symlinked_queue() {
        #[cfg(unix)]
        {
            let (home, q) = queue();
            crate::fsutil::ensure_dir(q.dir().path()).unwrap();
            let target = home.path().join("elsewhere");
            std::fs::write(&target, "").unwrap();
            std::os::unix::fs::symlink(&target, q.dir().queue_file()).unwrap();
            assert!(q.append(&[record(1)]).is_err());
            assert_eq!(std::fs::read(&target).unwrap(), b"");
        }
    }
}

//! Appending: O(1) whatever the queue holds.
//!
//! A process keeps its lock file and the head open for its whole life ([`Appender`]). An
//! append is then: take the lock (`flock`), `statx` the head for its size and link count only
//! (an `fstat` off Linux), write the line (`O_APPEND`, one `write`), release the lock — the
//! queue is never read on this path. The `statx` says whether the head is still the head:
//! removed (the sender sent all of it, `clear`) or grown past [`QUEUE_SEGMENT_BYTES`] (sealed
//! by this process or another), in which case the head is opened again, or sealed first. A
//! size other than the one this process left means another process wrote since; only then is
//! the last byte read, to close off a line a crash left half written.
//!
//! The bound is enforced when the head is sealed, which happens once per
//! [`QUEUE_SEGMENT_BYTES`] appended: the oldest sealed segments are removed until the sealed
//! ones and a new head fit in [`MAX_QUEUE_BYTES`], and the records they still held are counted
//! as dropped. Only that removal reads anything (the removed segments, to count them).

use std::fs::File;
use std::io::Write;

use super::segment::{self, HEAD_NAME, HEADER_LEN, Header};
use super::{QueueError, stats};
use crate::fsutil::{self, LockFile, StateError};
use crate::limits::{MAX_QUEUE_BYTES, MAX_RECORD_BYTES, QUEUE_SEGMENT_BYTES};
use crate::paths::StateDir;

/// Where an appended record is: what `telemetry off` needs to withdraw it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Position {
    /// The id of the segment it was appended to.
    pub segment: u128,
    /// Its first byte.
    pub offset: u64,
    /// Its length, newline included.
    pub len: u32,
    /// Its uuid (checked before it is withdrawn).
    pub uuid: uuid::Uuid,
}

/// The open head.
#[derive(Debug)]
struct Head {
    file: File,
    id: u128,
    /// Its size after this process's last write.
    end: u64,
}

/// A process's handle on the queue for appending: the lock file and the head, opened once.
#[derive(Debug)]
pub(crate) struct Appender {
    dir: StateDir,
    lock: Option<LockFile>,
    head: Option<Head>,
}

impl Appender {
    /// An appender for the queue in `dir`; nothing is opened until the first append.
    pub fn new(dir: StateDir) -> Self {
        Self {
            dir,
            lock: None,
            head: None,
        }
    }

    /// Appends one framed record (`line` ends with its newline); returns where it went and how
    /// many old records were dropped to make room. The wait for the lock is the directory's
    /// ([`StateDir::current_lock_wait`]): after one that ran out, only a moment, until the
    /// lock is taken again.
    pub fn append(
        &mut self,
        line: &[u8],
        uuid: uuid::Uuid,
    ) -> Result<(Position, usize), QueueError> {
        // a second round only when the directory itself was replaced since the first open
        for _ in 0..2 {
            let lock = match &self.lock {
                Some(lock) => lock,
                None => {
                    fsutil::ensure_dir(self.dir.path())?;
                    self.head = None;
                    self.lock.insert(LockFile::open(&self.dir.lock_file())?)
                }
            };
            let held = lock.lock(self.dir.current_lock_wait());
            self.dir.note_lock_attempt(&held);
            let held = held?;
            let appended =
                append_locked(&self.dir, &mut self.head, &|| lock.is_linked(), line, uuid)?;
            if let Some(appended) = appended {
                return Ok(appended);
            }
            drop(held);
            self.lock = None;
        }
        Err(head_error(
            &self.dir,
            "append to",
            std::io::Error::other("the state directory keeps being replaced"),
        ))
    }
}

/// Appends `lines` (framed records) for a caller that holds the exclusive lock (linking
/// queues its alias under the lock it takes for the identity); returns how many old records
/// were dropped to make room.
pub(crate) fn append_with_lock_held(
    dir: &StateDir,
    lines: &[(Vec<u8>, uuid::Uuid)],
) -> Result<usize, QueueError> {
    let mut head = None;
    let mut dropped = 0;
    for (line, uuid) in lines {
        match append_locked(dir, &mut head, &|| true, line, *uuid)? {
            Some((_, n)) => dropped += n,
            None => return Err(directory_removed(dir)),
        }
    }
    Ok(dropped)
}

fn directory_removed(dir: &StateDir) -> QueueError {
    head_error(
        dir,
        "append to",
        std::io::Error::other("the state directory was removed"),
    )
}

/// The error of `action` on the head, named by its path: one function for the several places
/// that report one, rather than the path built inline at each.
#[cold]
fn head_error(dir: &StateDir, action: &'static str, error: std::io::Error) -> QueueError {
    StateError::io(action, &dir.queue_file(), error).into()
}

/// The append, under the lock. `None` when the lock file itself was removed (the directory was
/// deleted): the caller opens everything again.
fn append_locked(
    dir: &StateDir,
    head: &mut Option<Head>,
    lock_is_linked: &dyn Fn() -> bool,
    line: &[u8],
    uuid: uuid::Uuid,
) -> Result<Option<(Position, usize)>, QueueError> {
    if line.len() > MAX_RECORD_BYTES {
        return Err(QueueError::RecordTooLarge {
            size: line.len(),
            limit: MAX_RECORD_BYTES,
        });
    }
    let io = |action: &'static str| move |e| head_error(dir, action, e);
    let mut dropped = 0;
    let mut size = None;
    for _ in 0..3 {
        let current = match head {
            Some(current) => current,
            None => head.insert(open_head(dir)?),
        };
        // not `metadata()`: see `fsutil::size_and_link` (a third of the append's cost)
        let found = fsutil::size_and_link(&current.file).map_err(io("inspect"))?;
        let still_there = if segment::identity_by_header() {
            segment::id_at(&dir.queue_file()) == Some(current.id)
        } else {
            found.linked
        };
        if !still_there {
            // removed since: by a sender that sent all of it, `clear`, or with the directory
            if !lock_is_linked() {
                return Ok(None);
            }
            *head = None;
            continue;
        }
        if found.len >= QUEUE_SEGMENT_BYTES {
            let meta = current.file.metadata().map_err(io("inspect"))?;
            if segment::is_at(&dir.queue_file(), Some(current.id), &meta) {
                dropped += seal_head(dir)?;
            }
            *head = None;
            continue;
        }
        size = Some(found.len);
        break;
    }
    let (Some(size), Some(current)) = (size, head.as_mut()) else {
        return Err(head_error(
            dir,
            "append to",
            std::io::Error::other("the queue's head keeps changing"),
        ));
    };
    // another process wrote since this one: close off a line a crash left half written
    let torn = size != current.end && size > 0 && {
        let mut last = [0u8; 1];
        segment::read_exact_at(&current.file, &mut last, size - 1).map_err(io("read"))?;
        last[0] != b'\n'
    };
    // one `write_all` for both cases (each is a copy of its loop)
    let closed_off;
    let bytes = if torn {
        let mut bytes = Vec::with_capacity(line.len() + 1);
        bytes.push(b'\n');
        bytes.extend_from_slice(line);
        closed_off = bytes;
        &closed_off[..]
    } else {
        line
    };
    match current.file.write_all(bytes) {
        Ok(()) => current.end = size + bytes.len() as u64,
        Err(error) => {
            // a short write (a full disk) left a torn line: the next append closes it off
            current.end = u64::MAX;
            return Err(head_error(dir, "append to", error));
        }
    }
    let position = Position {
        segment: current.id,
        offset: size + u64::from(torn),
        len: line.len() as u32,
        uuid,
    };
    Ok(Some((position, dropped)))
}

/// Opens the head (creating it with a fresh header), under the lock. A head without a header,
/// written before segments, is converted first.
fn open_head(dir: &StateDir) -> Result<Head, QueueError> {
    let path = dir.queue_file();
    let io = |action: &'static str| move |e| head_error(dir, action, e);
    for _ in 0..2 {
        let mut file = fsutil::open_append(&path)?;
        let size = file.metadata().map_err(io("inspect"))?.len();
        if size == 0 {
            let header = Header::fresh();
            file.write_all(&header.encode()).map_err(io("write"))?;
            return Ok(Head {
                file,
                id: header.id,
                end: HEADER_LEN,
            });
        }
        if let Some(header) = segment::read_header(&file) {
            return Ok(Head {
                file,
                id: header.id,
                // unknown: the first append checks the last byte
                end: u64::MAX,
            });
        }
        convert_legacy(dir)?;
    }
    Err(StateError::Corrupt {
        path,
        detail: "the queue's header could not be written".into(),
    }
    .into())
}

/// Gives a head without a header one, under the lock: its records are kept (a head that is
/// only the start of a header, left by a crash, is removed). Once per queue written before
/// segments; O(its size).
pub(crate) fn convert_legacy(dir: &StateDir) -> Result<(), QueueError> {
    let path = dir.queue_file();
    let Some(content) = super::read::read_from(&path, 0)? else {
        return Ok(());
    };
    if content.iter().all(|&b| b != b'\n') && segment::is_blank(&content) {
        fsutil::remove_file(&path)?;
        return Ok(());
    }
    let mut bytes = Vec::with_capacity(HEADER_LEN as usize + content.len() + 1);
    bytes.extend_from_slice(&Header::fresh().encode());
    bytes.extend_from_slice(&content);
    if content.last().is_some_and(|&b| b != b'\n') {
        bytes.push(b'\n');
    }
    fsutil::write_atomic(&path, &bytes)?;
    crate::diagnostics::debug_event!("telemetry queue converted to segments");
    Ok(())
}

/// Seals the head (renames it to the next sealed segment), then removes the oldest sealed
/// segments until the rest and a new head fit in [`MAX_QUEUE_BYTES`]; returns how many
/// records the removed ones still held (counted as dropped). Under the lock.
fn seal_head(dir: &StateDir) -> Result<usize, QueueError> {
    let root = dir.path();
    // the sealed segments, oldest first (the head is listed last); the head, once renamed, is
    // the newest of them
    let mut sealed = segment::list(root);
    if sealed.last().is_some_and(|s| s.sealed.is_none()) {
        sealed.pop();
    }
    let next = sealed.last().and_then(|s| s.sealed).unwrap_or(0) + 1;
    let newest = segment::sealed_path(root, next);
    let head = root.join(HEAD_NAME);
    std::fs::rename(&head, &newest).map_err(|e| StateError::io("seal", &head, e))?;
    sealed.push(segment::SegmentPath {
        path: newest,
        sealed: Some(next),
    });
    let mut sizes: Vec<u64> = Vec::with_capacity(sealed.len());
    let mut total = 0;
    for seg in &sealed {
        let size = std::fs::symlink_metadata(&seg.path).map_or(0, |m| m.len());
        sizes.push(size);
        total += size;
    }
    let mut dropped = 0;
    let room = MAX_QUEUE_BYTES - QUEUE_SEGMENT_BYTES;
    for (seg, size) in sealed.iter().zip(&sizes) {
        if total <= room {
            break;
        }
        dropped += super::read::count_waiting(&seg.path);
        fsutil::remove_file(&seg.path)?;
        total -= size;
    }
    if dropped > 0 {
        stats::update(dir, &mut |stats| stats.dropped_overflow += dropped as u64)?;
        crate::diagnostics::debug_event!(
            dropped,
            "telemetry queue full: dropped the oldest records"
        );
    }
    Ok(dropped)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fsutil::{LockMode, StateLock};
    use crate::paths::StateDirSource;
    use std::time::Duration;

    /// After a wait for the lock that ran out, appends wait only a moment (each fails soon
    /// with the same timeout) until the lock is taken again; then they append again.
    #[test]
    fn after_a_lock_timeout_appends_stop_waiting_until_the_lock_is_free() {
        let home = tempfile::tempdir().unwrap();
        let dir = StateDir::new(home.path().join(".demo"), StateDirSource::Explicit)
            .with_lock_wait(Duration::from_millis(20));
        fsutil::ensure_dir(dir.path()).unwrap();
        let line = |n: u8| {
            let record = crate::record::Record::alias(&format!("anon-{n}"), "user");
            (crate::queue::frame::encode(&record.json), record.uuid)
        };
        let mut appender = Appender::new(dir.clone());
        let (first, uuid) = line(1);
        appender.append(first.as_bytes(), uuid).unwrap();

        // another open file description holds it: another process, as `flock` sees it
        let stuck =
            StateLock::acquire(&dir.lock_file(), LockMode::Exclusive, Duration::ZERO).unwrap();
        let (second, uuid) = line(2);
        let timeout = appender.append(second.as_bytes(), uuid).unwrap_err();
        assert!(
            matches!(timeout, QueueError::State(StateError::LockTimeout { .. })),
            "{timeout:?}"
        );
        assert!(
            dir.lock_held_elsewhere(),
            "every clone of the directory knows"
        );
        // a budget longer than any test run: waiting it would hang this test, so failing at
        // once shows that the appender waits only a moment now
        appender.dir = appender
            .dir
            .clone()
            .with_lock_wait(Duration::from_secs(3600));
        let again = appender.append(second.as_bytes(), uuid).unwrap_err();
        assert!(
            matches!(again, QueueError::State(StateError::LockTimeout { .. })),
            "{again:?}"
        );

        drop(stuck);
        appender.append(second.as_bytes(), uuid).unwrap();
        assert!(!dir.lock_held_elsewhere());
        let records = crate::queue::Queue::new(dir).read_all().unwrap().records;
        assert_eq!(records.len(), 2);
    }
}

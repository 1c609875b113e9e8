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
//! **A host never waits long for the lock.** Holders keep it for microseconds, so an append
//! waits at most [`APPEND_LOCK_WAIT`] for it. When that runs out (the holder is stuck: a
//! command stopped with Ctrl-Z while it appended, or paused in a debugger; or a sender's
//! acknowledgement on a slow disk), the record goes to a segment of the process's own beside
//! the head, without the lock ([`append_beside`]): the first one creates it, whole, and the
//! process's later appends try the lock once, then add to it (one `statx` and one `write`),
//! until the process takes the lock again. Nothing is lost and nobody waits while there is
//! room: about [`MAX_SEGMENTS_BESIDE`] such segments at most (processes counting at the same
//! moment may each add one at the last step). Past that an append waits for the lock as every
//! other user of it does (the directory's budget, once) and, if that runs out too, records
//! nothing more until the holder lets go.
//!
//! The bound is enforced when the head is sealed, which happens once per
//! [`QUEUE_SEGMENT_BYTES`] appended: segments are removed in the order they are read (the
//! oldest sealed ones first, those beside the head last) until the rest and a new head fit in
//! [`MAX_QUEUE_BYTES`], and the records they still held are counted as dropped. A segment
//! beside the head whose writer still holds it is neither removed nor counted. Only that
//! removal reads anything (the removed segments, to count them).

use std::fs::File;
use std::io::Write;
use std::time::Duration;

use super::segment::{self, HEAD_NAME, HEADER_LEN, Header};
use super::{QueueError, stats};
use crate::fsutil::{self, LockFile, StateError};
use crate::limits::{
    APPEND_LOCK_WAIT, BESIDE_SEGMENT_BYTES, MAX_QUEUE_BYTES, MAX_RECORD_BYTES, MAX_SEGMENTS_BESIDE,
    QUEUE_SEGMENT_BYTES,
};
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
    /// Since a wait for the lock ran out, until the lock is taken again.
    beside: Option<Beside>,
}

/// The segment beside the head this process appends to while the lock is held elsewhere: its
/// own, locked by it (see [`fsutil::create_held`]), so it is never removed from under it.
#[derive(Debug)]
struct Beside {
    file: File,
    id: u128,
}

impl Appender {
    /// An appender for the queue in `dir`; nothing is opened until the first append.
    pub fn new(dir: StateDir) -> Self {
        Self {
            dir,
            lock: None,
            head: None,
            beside: None,
        }
    }

    /// Lets go of this process's segment beside the head, if it has one: its next record that
    /// meets the lock held starts a new one, numbered (and so read) after everything there now.
    /// For a login, whose alias went into the head: an event under the account added to an
    /// older segment beside the head could be read, by a sender that listed that segment
    /// before the alias was written, without the alias.
    pub fn let_go_beside(&mut self) {
        self.beside = None;
    }

    /// Appends one framed record (`line` ends with its newline); returns where it went and how
    /// many old records were dropped to make room. The lock is waited for at most
    /// [`APPEND_LOCK_WAIT`] (less when the directory's own budget is shorter), and not at all
    /// while this process writes beside the head or one of the directory's own waits ran out
    /// (until the lock is taken again); then the record goes beside the head
    /// ([`append_beside`]), or, when there is no room there, the directory's wait applies.
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
            // not at all while this process writes beside the head, or found the holder stuck
            let wait = if self.beside.is_some() || self.dir.lock_held_elsewhere() {
                Duration::ZERO
            } else {
                self.dir.current_lock_wait().min(APPEND_LOCK_WAIT)
            };
            let held = {
                let mut attempt = lock.lock(wait);
                if let Err(StateError::LockTimeout { .. }) = attempt {
                    match append_beside(&self.dir, &mut self.beside, line, uuid) {
                        Some(appended) => return appended,
                        // no room beside the head: the directory's own wait, as any lock user
                        None => attempt = lock.lock(self.dir.current_lock_wait()),
                    }
                }
                // (the short wait's timeout says nothing of the holder: a moment's contention)
                self.dir.note_lock_attempt(&attempt);
                attempt?
            };
            self.beside = None;
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

/// Appends one framed record to this process's segment beside the head, without the lock: for
/// a host that found the lock held longer than an append takes (see the module
/// documentation). `own` is the segment it writes, if any: it is used while it is still in the
/// directory (`clear` may have removed it) and under [`BESIDE_SEGMENT_BYTES`]; otherwise a new
/// one is created with the record, whole. `None` when a new one is needed and
/// [`MAX_SEGMENTS_BESIDE`] are there already: the caller waits for the lock as before.
fn append_beside(
    dir: &StateDir,
    own: &mut Option<Beside>,
    line: &[u8],
    uuid: uuid::Uuid,
) -> Option<Result<(Position, usize), QueueError>> {
    let (segment, offset) = match write_beside(dir, own, line) {
        Ok(Some(at)) => at,
        Ok(None) => return None,
        Err(e) => return Some(Err(e)),
    };
    let position = Position {
        segment,
        offset,
        len: line.len() as u32,
        uuid,
    };
    Some(Ok((position, 0)))
}

/// [`append_beside`]'s writing: the id of the segment `line` went to and its offset there, or
/// `None` when there is no room for a new segment.
fn write_beside(
    dir: &StateDir,
    own: &mut Option<Beside>,
    line: &[u8],
) -> Result<Option<(u128, u64)>, QueueError> {
    check_record_size(line)?;
    let io = |action: &'static str| move |e| head_error(dir, action, e);
    if let Some(current) = own {
        let found = fsutil::size_and_link(&current.file).map_err(io("inspect"))?;
        if found.linked && found.len + line.len() as u64 <= BESIDE_SEGMENT_BYTES {
            // only this process writes past the header: after a failed (maybe short) write,
            // a new segment
            if let Err(e) = current.file.write_all(line) {
                *own = None;
                return Err(io("append to")(e));
            }
            return Ok(Some((current.id, found.len)));
        }
        *own = None;
    }
    let (largest, count) = segment::scan_beside(dir.path());
    // after every segment there now: read after those made before it (see `segment`); only a
    // name made by hand reaches the end of the numbers, and then there is no room either
    let Some(seq) = largest
        .checked_add(1)
        .filter(|_| count < MAX_SEGMENTS_BESIDE)
    else {
        return Ok(None);
    };
    let header = Header::fresh();
    let mut bytes = Vec::with_capacity(HEADER_LEN as usize + line.len());
    bytes.extend_from_slice(&header.encode());
    bytes.extend_from_slice(line);
    let file = fsutil::create_held(&segment::beside_path(dir.path(), seq, header.id), &bytes)?;
    *own = Some(Beside {
        file,
        id: header.id,
    });
    crate::diagnostics::debug_event!(
        "telemetry lock held elsewhere: recording beside the queue's head"
    );
    Ok(Some((header.id, HEADER_LEN)))
}

/// Refuses a record over [`MAX_RECORD_BYTES`], wherever it would go.
fn check_record_size(line: &[u8]) -> Result<(), QueueError> {
    if line.len() > MAX_RECORD_BYTES {
        return Err(QueueError::RecordTooLarge {
            size: line.len(),
            limit: MAX_RECORD_BYTES,
        });
    }
    Ok(())
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
    check_record_size(line)?;
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

/// Seals the head (renames it to the next sealed segment), then removes segments in reading
/// order (the oldest sealed ones first, those beside the head last, never one whose writer
/// holds it) until the rest and a new head fit in [`MAX_QUEUE_BYTES`]; returns how many
/// records the removed ones still held (counted as dropped). Under the lock.
fn seal_head(dir: &StateDir) -> Result<usize, QueueError> {
    let root = dir.path();
    // every segment in reading order; the head, once renamed, is the newest sealed one, read
    // before those beside it
    let mut segments = segment::list(root);
    let head_at = segments.partition_point(|s| !s.beside);
    let Some(next) = segments[..head_at]
        .iter()
        .filter_map(|s| s.sealed)
        .max()
        .unwrap_or(0)
        .checked_add(1)
    else {
        // only a name made by hand gets there: the head grows on rather than replace it
        let full = std::io::Error::other("no sequence number left for a sealed segment");
        return Err(head_error(dir, "seal", full));
    };
    let newest = segment::sealed_path(root, next);
    let head = root.join(HEAD_NAME);
    std::fs::rename(&head, &newest).map_err(|e| StateError::io("seal", &head, e))?;
    let sealed = segment::SegmentPath {
        path: newest,
        sealed: Some(next),
        beside: false,
    };
    // in the head's place (listed unless it appeared after the listing)
    match head_at.checked_sub(1) {
        Some(at) if segments[at].sealed.is_none() => segments[at] = sealed,
        _ => segments.insert(head_at, sealed),
    }
    // (size, whether it may be removed) of each: a segment beside the head whose writer still
    // holds it is never removed from under it, and counts on top of the bound (one process's
    // records, bounded by `MAX_SEGMENTS_BESIDE`)
    let mut sizes: Vec<(u64, bool)> = Vec::with_capacity(segments.len());
    let mut total = 0;
    for seg in &segments {
        let size = std::fs::symlink_metadata(&seg.path).map_or(0, |m| m.len());
        // one that cannot be opened (a link, a directory, another user's file) is left alone
        // too, rather than fail every seal
        let held = seg.beside
            && fsutil::open_regular(&seg.path).map_or(true, |file| {
                file.is_some_and(|f| fsutil::is_held_by_another(&f))
            });
        if !held {
            total += size;
        }
        sizes.push((size, !held));
    }
    let mut dropped = 0;
    let room = MAX_QUEUE_BYTES - QUEUE_SEGMENT_BYTES;
    for (seg, &(size, removable)) in segments.iter().zip(&sizes) {
        if total <= room {
            break;
        }
        if !removable {
            continue;
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

    fn dir_with_budget(home: &std::path::Path, wait: Duration) -> StateDir {
        let dir = StateDir::new(home.join(".demo"), StateDirSource::Explicit).with_lock_wait(wait);
        fsutil::ensure_dir(dir.path()).unwrap();
        dir
    }

    fn line(n: u8) -> (String, uuid::Uuid) {
        let record = crate::record::Record::alias(&format!("anon-{n}"), "user");
        (crate::queue::frame::encode(&record.json), record.uuid)
    }

    /// Held by another open file description: another process, as `flock` sees it.
    fn hold(dir: &StateDir) -> StateLock {
        StateLock::acquire(&dir.lock_file(), LockMode::Exclusive, Duration::ZERO).unwrap()
    }

    /// An appender that wrote `line(1)` beside the head while the lock was held elsewhere (let
    /// go since), the record's uuid and that segment's path.
    fn one_record_beside(dir: &StateDir) -> (Appender, uuid::Uuid, std::path::PathBuf) {
        let mut appender = Appender::new(dir.clone());
        let stuck = hold(dir);
        let (first, uuid) = line(1);
        appender.append(first.as_bytes(), uuid).unwrap();
        drop(stuck);
        let path = beside(dir)[0].path.clone();
        (appender, uuid, path)
    }

    fn beside(dir: &StateDir) -> Vec<segment::SegmentPath> {
        segment::list(dir.path())
            .into_iter()
            .filter(|s| s.beside)
            .collect()
    }

    fn uuids(queue: &crate::queue::Queue) -> Vec<uuid::Uuid> {
        let mut uuids: Vec<uuid::Uuid> = queue
            .read_all()
            .unwrap()
            .records
            .iter()
            .map(|r| r.uuid)
            .collect();
        uuids.sort();
        uuids
    }

    /// With the lock held elsewhere (a command stopped while it appended), records go to a
    /// segment of the process's own beside the head, and nothing is lost; while it has one the
    /// process tries the lock once per append (no timing is asserted) until it takes it again,
    /// and then appends to the head as before and lets its segment go.
    #[test]
    fn with_the_lock_held_elsewhere_records_go_beside_the_head() {
        let home = tempfile::tempdir().unwrap();
        // a budget longer than any test run: waiting it would hang this test, so returning
        // shows that the append's own short wait applies
        let dir = dir_with_budget(home.path(), Duration::from_secs(3600));
        let mut appender = Appender::new(dir.clone());
        let (first, uuid1) = line(1);
        appender.append(first.as_bytes(), uuid1).unwrap();

        let stuck = hold(&dir);
        let (second, uuid2) = line(2);
        let (at2, dropped) = appender.append(second.as_bytes(), uuid2).unwrap();
        assert_eq!(dropped, 0);
        // a short wait that ran out says nothing of the holder (a moment's contention): the
        // directory's other users keep their budget
        assert!(!dir.lock_held_elsewhere());
        let (third, uuid3) = line(3);
        let (at3, _) = appender.append(third.as_bytes(), uuid3).unwrap();
        let written = beside(&dir);
        assert_eq!(written.len(), 1, "one segment per process: {written:?}");
        let path = &written[0].path;
        assert_eq!(segment::id_at(path), Some(at2.segment));
        assert_eq!((at3.segment, at2.offset), (at2.segment, HEADER_LEN));
        assert_eq!(at3.offset, HEADER_LEN + second.len() as u64);
        let bytes = std::fs::read(path).unwrap();
        assert_eq!(Header::parse(&bytes).unwrap().acked, HEADER_LEN);
        assert_eq!(
            &bytes[HEADER_LEN as usize..],
            [second.as_bytes(), third.as_bytes()].concat()
        );
        let held = || fsutil::is_held_by_another(&std::fs::File::open(path).unwrap());
        assert!(held(), "its writer holds it");
        // nothing half written is left under a temporary name
        let names: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert!(names.iter().all(|n| !n.contains(".tmp-")), "{names:?}");

        let queue = crate::queue::Queue::new(dir.clone());
        let mut expected = vec![uuid1, uuid2, uuid3];
        expected.sort();
        assert_eq!(uuids(&queue), expected, "every record is kept");

        drop(stuck);
        let (fourth, uuid4) = line(4);
        let (position, _) = appender.append(fourth.as_bytes(), uuid4).unwrap();
        assert!(!dir.lock_held_elsewhere());
        assert_eq!(segment::id_at(&dir.queue_file()), Some(position.segment));
        assert!(!held(), "let go once the lock is taken again");

        // a sender sends them all, and the segment beside the head goes once acknowledged
        let mut batch = queue.read_batch(100, usize::MAX).unwrap();
        assert_eq!(batch.records.len(), 4);
        let sent = vec![crate::queue::Settled::Sent; 4];
        assert_eq!(queue.settle(&mut batch, &sent).unwrap().sent, 4);
        assert!(beside(&dir).is_empty());
        assert!(queue.read_all().unwrap().records.is_empty());
    }

    /// A sender that meets a segment beside the head while its writer still holds it (the lock
    /// was let go, the writer has not appended since) acknowledges what it read and leaves the
    /// file, whose writer may add to it; a line being written is not damaged. Once the writer
    /// lets it go, the next sender removes it, and a torn line is then damaged.
    #[test]
    fn a_segment_beside_the_head_is_not_removed_from_under_its_writer() {
        let home = tempfile::tempdir().unwrap();
        let dir = dir_with_budget(home.path(), Duration::from_secs(3600));
        let (mut appender, _, path) = one_record_beside(&dir);

        let queue = crate::queue::Queue::new(dir.clone());
        let mut batch = queue.read_batch(100, usize::MAX).unwrap();
        assert_eq!(batch.records.len(), 1);
        queue
            .settle(&mut batch, &[crate::queue::Settled::Sent])
            .unwrap();
        assert!(path.exists(), "removed from under its writer");
        assert!(queue.read_all().unwrap().records.is_empty(), "acknowledged");

        // half a line, as a write in progress leaves it
        let (second, _) = line(2);
        let half = &second.as_bytes()[..second.len() / 2];
        std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .unwrap()
            .write_all(half)
            .unwrap();
        let batch = queue.read_batch(100, usize::MAX).unwrap();
        assert_eq!((batch.records.len(), batch.damaged()), (0, 0));
        assert_eq!(queue.summary(0).unwrap().damaged, 0);

        // the writer lets it go (it took the lock for its next record)
        let (third, uuid3) = line(3);
        appender.append(third.as_bytes(), uuid3).unwrap();
        assert_eq!(queue.summary(0).unwrap().damaged, 1);
        let mut batch = queue.read_batch(100, usize::MAX).unwrap();
        assert_eq!(batch.records.len(), 1);
        assert_eq!(batch.damaged(), 1);
        queue
            .settle(&mut batch, &[crate::queue::Settled::Sent])
            .unwrap();
        assert!(!path.exists());
        assert_eq!(queue.stats().unwrap().dropped_damaged, 1);
    }

    /// A writer beside the head that adds a record and lets go after the sender took the
    /// segment's size under the lock, but before it decides to remove it (which the lock does
    /// not exclude: the writer appends without it): the segment stays, with the new record,
    /// and the next sender sends it. Removing by the size taken first lost that record.
    #[test]
    fn a_record_added_as_the_sender_settles_its_segment_is_kept() {
        let home = tempfile::tempdir().unwrap();
        let dir = dir_with_budget(home.path(), Duration::from_secs(3600));
        let (mut appender, _, path) = one_record_beside(&dir);

        let queue = crate::queue::Queue::new(dir.clone());
        let mut batch = queue.read_batch(100, usize::MAX).unwrap();
        assert_eq!(batch.records.len(), 1);
        let (second, uuid2) = line(2);
        crate::queue::settle::BEFORE_REMOVAL.set(Some(Box::new(move || {
            // the sender holds the lock: the record goes beside the head, into the same file
            appender.append(second.as_bytes(), uuid2).unwrap();
            drop(appender);
        })));
        queue
            .settle(&mut batch, &[crate::queue::Settled::Sent])
            .unwrap();
        assert!(crate::queue::settle::BEFORE_REMOVAL.take().is_none(), "ran");
        assert!(path.exists(), "removed with a record it had not read");
        let waiting = queue.read_all().unwrap().records;
        assert_eq!(waiting.len(), 1);
        assert_eq!(waiting[0].uuid, uuid2);

        let mut batch = queue.read_batch(100, usize::MAX).unwrap();
        assert_eq!(batch.records.len(), 1);
        queue
            .settle(&mut batch, &[crate::queue::Settled::Sent])
            .unwrap();
        assert!(!path.exists(), "let go and all sent: removed");
        assert!(queue.read_all().unwrap().records.is_empty());
        assert_eq!(queue.stats().unwrap().sent, 2);
    }

    /// `telemetry off` in the process withdraws a record it wrote beside the head, found by its
    /// position as one in the head is; sealing the head numbers the new sealed segment after
    /// the sealed ones only, keeps those beside it, and they are still read after it.
    #[test]
    fn records_beside_the_head_are_withdrawn_and_sealed_past() {
        let home = tempfile::tempdir().unwrap();
        let dir = dir_with_budget(home.path(), Duration::from_secs(3600));
        let mut appender = Appender::new(dir.clone());
        let stuck = hold(&dir);
        let (kept, kept_uuid) = line(1);
        appender.append(kept.as_bytes(), kept_uuid).unwrap();
        let (gone, gone_uuid) = line(2);
        let (position, _) = appender.append(gone.as_bytes(), gone_uuid).unwrap();
        drop(stuck);

        let queue = crate::queue::Queue::new(dir.clone());
        assert_eq!(queue.discard(&[position], &[]).unwrap(), 1);
        assert_eq!(uuids(&queue), [kept_uuid]);

        let before = beside(&dir);
        let (head, head_uuid) = line(9);
        appender.append(head.as_bytes(), head_uuid).unwrap();
        {
            let _lock = dir.lock_exclusive().unwrap();
            seal_head(&dir).unwrap();
        }
        let sealed: Vec<u64> = segment::list(dir.path())
            .iter()
            .filter(|s| !s.beside)
            .filter_map(|s| s.sealed)
            .collect();
        assert_eq!(sealed, [1]);
        assert_eq!(beside(&dir), before, "none removed: far under the bound");
        assert_eq!(reading_order(&dir), [head_uuid, kept_uuid]);
    }

    /// A segment beside the head that cannot be opened (here a directory with its name) is
    /// neither removed nor counted by the bound, and sealing goes on.
    #[test]
    fn a_segment_name_that_cannot_be_opened_does_not_stop_sealing() {
        let home = tempfile::tempdir().unwrap();
        let dir = dir_with_budget(home.path(), Duration::from_secs(3600));
        let odd = segment::beside_path(dir.path(), 5, 1);
        std::fs::create_dir(&odd).unwrap();
        let (record, uuid) = line(1);
        Appender::new(dir.clone())
            .append(record.as_bytes(), uuid)
            .unwrap();
        {
            let _lock = dir.lock_exclusive().unwrap();
            seal_head(&dir).unwrap();
        }
        assert!(odd.is_dir());
        assert!(segment::sealed_path(dir.path(), 1).exists());
    }

    /// After a login, whose alias went into the head, the process's next record that meets
    /// the lock held goes to a new segment beside the head, not to the one it had: a sender
    /// that listed that one before the alias was written would read the record without it.
    #[test]
    fn a_login_lets_go_of_the_segment_beside_the_head() {
        let home = tempfile::tempdir().unwrap();
        let dir = dir_with_budget(home.path(), Duration::from_secs(3600));
        let mut appender = Appender::new(dir.clone());
        let stuck = hold(&dir);
        let (first, uuid1) = line(1);
        appender.append(first.as_bytes(), uuid1).unwrap();
        assert_eq!(beside(&dir).len(), 1);
        appender.let_go_beside();
        let (second, uuid2) = line(2);
        appender.append(second.as_bytes(), uuid2).unwrap();
        drop(stuck);
        assert_eq!(beside(&dir).len(), 2, "a new one");
        assert_eq!(reading_order(&dir), [uuid1, uuid2]);
    }

    /// The queue's bound removes segments in the order they are read (the sealed ones first,
    /// those beside the head last), never one whose writer still holds it (it may add to it),
    /// and does not count that one: one process's records, on top of the bound.
    #[test]
    fn the_bound_never_removes_a_segment_beside_the_head_from_under_its_writer() {
        let home = tempfile::tempdir().unwrap();
        let dir = dir_with_budget(home.path(), Duration::from_secs(3600));
        // beside the head: one its writer holds, grown to 1 MiB, and one let go
        let (_writer, held_uuid, held) = one_record_beside(&dir);
        let mut padding = vec![0u8; 1 << 20];
        segment::blank(&mut padding);
        std::fs::OpenOptions::new()
            .append(true)
            .open(&held)
            .unwrap()
            .write_all(&padding)
            .unwrap();
        let let_go = segment::beside_path(dir.path(), 0, u128::MAX);
        let (record, let_go_uuid) = line(2);
        std::fs::write(
            &let_go,
            [&Header::fresh().encode()[..], record.as_bytes()].concat(),
        )
        .unwrap();
        // a full queue of sealed segments, 1 to 16, each a header and one blank line
        let full = MAX_QUEUE_BYTES / QUEUE_SEGMENT_BYTES;
        for seq in 1..=full {
            let mut bytes = Header::fresh().encode().to_vec();
            let mut blank = vec![0u8; (QUEUE_SEGMENT_BYTES - HEADER_LEN) as usize];
            segment::blank(&mut blank);
            bytes.extend_from_slice(&blank);
            std::fs::write(segment::sealed_path(dir.path(), seq), bytes).unwrap();
        }
        let (record, head_uuid) = line(3);
        Appender::new(dir.clone())
            .append(record.as_bytes(), head_uuid)
            .unwrap();

        let dropped = {
            let _lock = dir.lock_exclusive().unwrap();
            seal_head(&dir).unwrap()
        };
        assert!(held.exists(), "removed from under its writer");
        // 16 full segments, the sealed head and the let-go one are over the room for 15: the
        // two oldest go; counting the held 1 MiB would have taken two more
        assert!(!segment::sealed_path(dir.path(), 1).exists());
        assert!(!segment::sealed_path(dir.path(), 2).exists());
        assert!(
            segment::sealed_path(dir.path(), 3).exists(),
            "removed for the held one"
        );
        assert!(let_go.exists(), "read last, removed last");
        assert_eq!(dropped, 0, "only blank lines were removed");
        // the sealed head, then those beside it in the order of their names' sequences
        assert_eq!(reading_order(&dir), [head_uuid, let_go_uuid, held_uuid]);
    }

    /// At most [`MAX_SEGMENTS_BESIDE`] are written: past that an append waits for the lock as
    /// every other user of it does (the directory's budget), then records no more; the process
    /// that writes the last one goes on adding to it.
    #[test]
    fn segments_beside_the_head_are_bounded() {
        let home = tempfile::tempdir().unwrap();
        let dir = dir_with_budget(home.path(), Duration::from_millis(30));
        for n in 1..MAX_SEGMENTS_BESIDE as u128 {
            std::fs::write(segment::beside_path(dir.path(), 0, n), "").unwrap();
        }
        let stuck = hold(&dir);
        let mut appender = Appender::new(dir.clone());
        for n in 1..=2 {
            let (record, uuid) = line(n);
            appender.append(record.as_bytes(), uuid).unwrap();
        }
        assert!(!dir.lock_held_elsewhere(), "the short wait sets nothing");
        let mut other = Appender::new(dir.clone());
        let (record, uuid) = line(3);
        let error = other.append(record.as_bytes(), uuid).unwrap_err();
        assert!(
            matches!(error, QueueError::State(StateError::LockTimeout { .. })),
            "{error:?}"
        );
        assert!(
            dir.lock_held_elsewhere(),
            "the directory's own wait ran out"
        );
        assert_eq!(beside(&dir).len(), MAX_SEGMENTS_BESIDE);
        // with the lock free, the same process appends to the head
        drop(stuck);
        other.append(record.as_bytes(), uuid).unwrap();
        assert!(segment::id_at(&dir.queue_file()).is_some());
        assert_eq!(beside(&dir).len(), MAX_SEGMENTS_BESIDE);
    }

    /// A record whose JSON is `distinct_id`'s event number `n`, padded with `pad` bytes.
    fn event_as(distinct_id: &str, n: usize, pad: usize) -> (String, uuid::Uuid) {
        event_at("2026-11-30T00:00:00.000Z", distinct_id, n, pad)
    }

    /// [`event_as`], recorded at `timestamp`.
    fn event_at(timestamp: &str, distinct_id: &str, n: usize, pad: usize) -> (String, uuid::Uuid) {
        let record = crate::record::Record::parse(&format!(
            r#"{{"uuid":"{}","event":"test.ping","distinct_id":"{distinct_id}","properties":{{"n":{n},"pad":"{}"}},"timestamp":"{timestamp}"}}"#,
            uuid::Uuid::now_v7(),
            "x".repeat(pad)
        ))
        .unwrap();
        (crate::queue::frame::encode(&record.json), record.uuid)
    }

    /// The newest records `status` and `inspect` show are chosen by time across the head and
    /// the segments beside it, which are read after the head but may hold older records.
    #[test]
    fn the_newest_records_are_the_newest_beside_the_head_too() {
        let home = tempfile::tempdir().unwrap();
        let dir = dir_with_budget(home.path(), Duration::from_secs(3600));
        let mut appender = Appender::new(dir.clone());
        let at = |second: u32| format!("2026-11-30T00:00:{second:02}.000Z");
        let append = |appender: &mut Appender, second| {
            let (line, uuid) = event_at(&at(second), "a", 0, 0);
            appender.append(line.as_bytes(), uuid).unwrap();
            uuid
        };
        let head_old = append(&mut appender, 1);
        let stuck = hold(&dir);
        let beside_2 = append(&mut appender, 2);
        let beside_4 = append(&mut appender, 4);
        drop(stuck);
        let head_3 = append(&mut appender, 3);
        let head_5 = append(&mut appender, 5);
        let newest = |n| -> Vec<uuid::Uuid> {
            let summary = crate::queue::Queue::new(dir.clone()).summary(n).unwrap();
            assert_eq!(summary.waiting, 5);
            summary.newest.iter().map(|r| r.uuid).collect()
        };
        assert_eq!(newest(1), [head_5]);
        assert_eq!(newest(3), [head_3, beside_4, head_5]);
        assert_eq!(newest(10), [head_old, beside_2, head_3, beside_4, head_5]);
        assert!(newest(0).is_empty());
    }

    /// The uuids of every waiting record, in the order a sender reads them.
    fn reading_order(dir: &StateDir) -> Vec<uuid::Uuid> {
        crate::queue::Queue::new(dir.clone())
            .read_batch(10_000, usize::MAX)
            .unwrap()
            .records
            .iter()
            .map(|r| r.uuid)
            .collect()
    }

    /// A record written beside the head is read after the older records of the head, and
    /// after those of the head sealed since.
    #[test]
    fn records_beside_the_head_are_read_after_the_older_ones_of_the_head() {
        let home = tempfile::tempdir().unwrap();
        let dir = dir_with_budget(home.path(), Duration::from_secs(3600));
        let mut appender = Appender::new(dir.clone());
        let (first, uuid1) = line(1);
        appender.append(first.as_bytes(), uuid1).unwrap();
        let stuck = hold(&dir);
        let (second, uuid2) = line(2);
        appender.append(second.as_bytes(), uuid2).unwrap();
        drop(stuck);
        assert_eq!(reading_order(&dir), [uuid1, uuid2]);
        let _lock = dir.lock_exclusive().unwrap();
        seal_head(&dir).unwrap();
        assert_eq!(reading_order(&dir), [uuid1, uuid2]);
    }

    /// `link` writes the alias into the head under the lock; the process's next event, which
    /// meets the lock held (a sender's acknowledgement) and goes beside the head, is read
    /// after it, so the server gets the alias before any event under the account.
    #[test]
    fn an_event_under_the_account_written_beside_the_head_is_read_after_its_alias() {
        let home = tempfile::tempdir().unwrap();
        let dir = dir_with_budget(home.path(), Duration::from_secs(3600));
        let queue = crate::queue::Queue::new(dir.clone());
        let store = crate::identity::IdentityStore::new(dir.clone());
        let mut appender = Appender::new(dir.clone());
        let anon = store.load_or_create().unwrap();
        let (before, _) = event_as(&anon.anon_id.to_string(), 1, 0);
        appender
            .append(before.as_bytes(), uuid::Uuid::now_v7())
            .unwrap();
        let principal = crate::identity::PrincipalId::derive("phc_test", "user-42").unwrap();
        let crate::identity::LinkOutcome::Aliased { alias, .. } =
            store.link(&queue, &principal).unwrap()
        else {
            panic!("not aliased")
        };
        let stuck = hold(&dir);
        let (after, after_uuid) = event_as(principal.as_str(), 2, 0);
        appender.append(after.as_bytes(), after_uuid).unwrap();
        drop(stuck);
        assert_eq!(beside(&dir).len(), 1, "written beside the head");
        let order = reading_order(&dir);
        let at = |uuid| order.iter().position(|x| *x == uuid).unwrap();
        assert!(at(alias) < at(after_uuid), "{order:?}");
    }

    /// A process whose records fill more than one segment beside the head while the lock stays
    /// held gets a second one, read after its first (their ids are random: named by id alone,
    /// they came out in either order).
    #[test]
    fn a_process_segments_beside_the_head_are_read_in_the_order_it_wrote_them() {
        for round in 0..12 {
            let home = tempfile::tempdir().unwrap();
            let dir = dir_with_budget(home.path(), Duration::from_secs(3600));
            let mut appender = Appender::new(dir.clone());
            let stuck = hold(&dir);
            let mut appended = Vec::new();
            for n in 0..12 {
                let (line, uuid) = event_as("a", n, 1000);
                appender.append(line.as_bytes(), uuid).unwrap();
                appended.push(uuid);
            }
            drop(stuck);
            assert!(beside(&dir).len() >= 2);
            assert_eq!(reading_order(&dir), appended, "round {round}");
        }
    }
}

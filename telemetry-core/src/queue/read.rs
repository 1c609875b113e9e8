//! Reading the queue, without its lock: in the order of `segment::list` (the sealed segments,
//! the head, then those beside it), each from its acknowledged offset. Lines are checksummed
//! and written whole by one `write` (into the head under the lock, into a segment beside it by
//! the process that holds that segment's own lock), so a reader needs no lock; the one thing
//! it can meet is a last line being written at that instant, in the head or in a segment
//! beside it whose writer holds it, which a batch never includes or passes (it may be whole
//! by the next read).

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

#[cfg(test)]
use super::QueueContents;
use super::segment::{self, Header};
use super::{QueueError, frame};
use crate::fsutil::{self, StateError};
use crate::paths::StateDir;
use crate::record::Record;

/// The most read from one segment at once: a segment holds at most
/// [`QUEUE_SEGMENT_BYTES`](crate::limits::QUEUE_SEGMENT_BYTES) and one record, a queue
/// written before segments at most 2 MiB; what lies past this in a larger file is read once
/// what comes before it is acknowledged.
const MAX_SEGMENT_READ: u64 = 4 * 1024 * 1024;

/// Reads at most [`MAX_SEGMENT_READ`] bytes of `path` from `offset`; `Ok(None)` when there is
/// no file.
pub(crate) fn read_from(path: &Path, offset: u64) -> Result<Option<Vec<u8>>, StateError> {
    let Some(file) = fsutil::open_regular(path)? else {
        return Ok(None);
    };
    read_file_from(&file, offset)
        .map(Some)
        .map_err(|e| StateError::io("read", path, e))
}

pub(crate) fn read_file_from(file: &File, offset: u64) -> std::io::Result<Vec<u8>> {
    let mut content = Vec::new();
    read_file_into(file, offset, &mut content)?;
    Ok(content)
}

/// [`read_file_from`] into `content` (emptied first), so one buffer serves several segments.
fn read_file_into(mut file: &File, offset: u64, content: &mut Vec<u8>) -> std::io::Result<()> {
    content.clear();
    file.seek(SeekFrom::Start(offset))?;
    // room for the whole file: `take` hides its length from `read_to_end`, which would grow
    // the buffer by doubling, copying a segment's megabyte several times
    let expected = file.metadata()?.len().saturating_sub(offset);
    content.reserve(expected.min(MAX_SEGMENT_READ) as usize);
    file.take(MAX_SEGMENT_READ).read_to_end(content)?;
    Ok(())
}

/// How many records (damaged ones included) a segment still holds past its acknowledged
/// offset: what removing it drops.
pub(crate) fn count_waiting(path: &Path) -> usize {
    let Ok(Some(file)) = fsutil::open_regular(path) else {
        return 0;
    };
    let base = segment::read_header(&file).map_or(0, |h| h.acked);
    let Ok(content) = read_file_from(&file, base) else {
        return 0;
    };
    frame::lines(&content)
        .filter(|line| match line {
            frame::Line::Complete(bytes) | frame::Line::Torn(bytes) => !segment::is_blank(bytes),
        })
        .count()
}

/// Where a record of a [`Batch`] ends, and how many damaged lines come just before it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Mark {
    /// Index into [`Batch::segments`].
    pub segment: usize,
    /// The offset just past its line.
    pub end: u64,
    /// Damaged lines between the previous record (or the acknowledged offset) and this one.
    pub damaged_before: usize,
}

/// A segment a [`Batch`] read from.
#[derive(Debug)]
pub(crate) struct BatchSegment {
    /// Its path when it was read (a head may be sealed, renamed, since).
    pub path: PathBuf,
    /// Open to read and write in place (the acknowledged offset).
    pub file: File,
    /// Its header; `None` for a file without one (not written by telemetry, or damaged).
    pub header: Option<Header>,
    /// How far the batch read it: acknowledging everything the batch holds moves the
    /// acknowledged offset here.
    pub read_end: u64,
    /// Damaged lines after its last record, up to `read_end`.
    pub trailing_damaged: usize,
    /// Whether it is a segment written beside the head (see `segment`).
    pub beside: bool,
}

/// The oldest records waiting, as the sender reads them: with where each ends, so that what
/// the server answers can be acknowledged by moving offsets (see `settle`).
#[derive(Debug, Default)]
pub struct Batch {
    /// The records, oldest first.
    pub records: Vec<Record>,
    pub(crate) marks: Vec<Mark>,
    pub(crate) segments: Vec<BatchSegment>,
    /// How many of the records are settled (see `settle`).
    pub(crate) settled: usize,
    /// How many of the segments are settled to their `read_end`.
    pub(crate) segments_settled: usize,
    /// A last line of the head without its newline: being written now, or left by a crash (the
    /// next append closes it off). Not passed, so not counted by [`damaged`](Self::damaged).
    pub(crate) unfinished: usize,
}

impl Batch {
    /// Damaged lines the batch passes over (skipped, dropped when the batch is settled).
    pub fn damaged(&self) -> usize {
        self.marks.iter().map(|m| m.damaged_before).sum::<usize>()
            + self
                .segments
                .iter()
                .map(|s| s.trailing_damaged)
                .sum::<usize>()
    }

    /// Whether there is nothing to send and nothing to drop.
    pub fn is_empty(&self) -> bool {
        self.records.is_empty() && self.damaged() == 0 && !self.passes_anything()
    }

    /// Whether settling it would move an offset (past withdrawn records, say).
    fn passes_anything(&self) -> bool {
        self.segments
            .iter()
            .any(|s| s.read_end > s.header.map_or(0, |h| h.acked))
    }
}

/// How a read opens segments.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Access {
    /// To read only (`status`, `inspect`): works in a read-only directory.
    ReadOnly,
    /// To read and acknowledge (the sender).
    Settle,
}

/// The oldest waiting records: at most `max_records`, and (past the first) at most `max_bytes`
/// of JSON. With [`Access::Settle`], a head written before segments is converted first.
pub(crate) fn batch(
    dir: &StateDir,
    max_records: usize,
    max_bytes: usize,
    access: Access,
) -> Result<Batch, QueueError> {
    let mut batch = Batch::default();
    let mut bytes = 0usize;
    for seg in segment::list(dir.path()) {
        if batch.records.len() >= max_records {
            break;
        }
        let opened = match access {
            Access::ReadOnly => fsutil::open_regular(&seg.path)?,
            Access::Settle => fsutil::open_in_place(&seg.path)?,
        };
        let Some(mut file) = opened else {
            continue;
        };
        let mut header = segment::read_header(&file);
        if header.is_none() && seg.sealed.is_none() && access == Access::Settle {
            let _lock = dir.lock_exclusive()?;
            super::append::convert_legacy(dir)?;
            let Some(converted) = fsutil::open_in_place(&seg.path)? else {
                continue;
            };
            file = converted;
            header = segment::read_header(&file);
        }
        let base = header.map_or(0, |h| h.acked);
        // before the read: a writer that lets go after it wrote no more
        let writing = being_written(&seg, &file);
        let content =
            read_file_from(&file, base).map_err(|e| StateError::io("read", &seg.path, e))?;
        let index = batch.segments.len();
        let mut pos = 0usize;
        let mut damaged = 0usize;
        let mut full = false;
        for line in frame::lines(&content) {
            match line {
                frame::Line::Complete(line) => {
                    let next = pos + line.len() + 1;
                    if !segment::is_blank(line) {
                        match frame::decode(line).and_then(Record::parse) {
                            Some(record) => {
                                let size = bytes.saturating_add(record.json.len());
                                if batch.records.len() >= max_records
                                    || (!batch.records.is_empty() && size > max_bytes)
                                {
                                    full = true;
                                    break;
                                }
                                bytes = size;
                                batch.records.push(record);
                                batch.marks.push(Mark {
                                    segment: index,
                                    end: base + next as u64,
                                    damaged_before: damaged,
                                });
                                damaged = 0;
                            }
                            None => damaged += 1,
                        }
                    }
                    pos = next;
                }
                // the head's last line may be being written, as may that of a segment beside
                // it whose writer holds it; a sealed segment's is damaged
                frame::Line::Torn(line) => {
                    let counted = usize::from(!segment::is_blank(line));
                    if seg.sealed.is_some() && !writing {
                        damaged += counted;
                        pos = content.len();
                    } else {
                        batch.unfinished += counted;
                    }
                }
            }
        }
        batch.segments.push(BatchSegment {
            path: seg.path,
            file,
            header,
            read_end: base + pos as u64,
            trailing_damaged: damaged,
            beside: seg.beside,
        });
        if full {
            break;
        }
    }
    Ok(batch)
}

/// Whether `seg`, open as `file`, is a segment beside the head that its writer still holds: its
/// last line may be being written.
pub(crate) fn being_written(seg: &segment::SegmentPath, file: &File) -> bool {
    seg.beside && fsutil::is_held_by_another(file)
}

/// How many records wait and the newest of them, as `status`, `inspect` and `off` show them.
#[derive(Debug, Default)]
pub struct QueueSummary {
    /// Records waiting: every line whose frame holds (its length and checksum match).
    pub waiting: usize,
    /// Damaged lines (a torn last line of the head counted among them).
    pub damaged: usize,
    /// The newest records, oldest first: the last ones appended.
    pub newest: Vec<Record>,
}

/// Counts what waits, read-only, and parses only the newest `newest` records: a full queue
/// holds some 20,000, and parsing each into a JSON value took `status` about 55 ms. A line
/// whose frame holds is counted as waiting unparsed: its checksum covers its JSON, which only
/// telemetry writes, so it parses (the sender drops one that does not, counted, as it
/// passes). The head and the sealed segments are read newest first into one buffer, so their
/// newest records are parsed as their segment is read and the older segments are only
/// counted. A segment beside the head holds records from some moment among them (written
/// while the lock was held elsewhere): its own newest `newest` are parsed too, and the newest
/// of all are chosen by their timestamps.
pub(crate) fn summary(dir: &StateDir, newest: usize) -> Result<QueueSummary, QueueError> {
    let mut summary = QueueSummary::default();
    let mut content = Vec::new();
    // where the valid lines of the segment being read start and end
    let mut valid: Vec<(usize, usize)> = Vec::new();
    // the newest records of the segments beside the head, newest of each first
    let mut beside: Vec<Record> = Vec::new();
    for seg in segment::list(dir.path()).into_iter().rev() {
        let Some(file) = fsutil::open_regular(&seg.path)? else {
            continue;
        };
        let base = segment::read_header(&file).map_or(0, |h| h.acked);
        // a segment beside the head whose writer holds it may end in a line being written
        // (looked at before the read: a writer that lets go wrote no more); the head's torn
        // last line is counted, as it always was
        let writing = being_written(&seg, &file);
        read_file_into(&file, base, &mut content)
            .map_err(|e| StateError::io("read", &seg.path, e))?;
        valid.clear();
        let mut pos = 0;
        for line in frame::lines(&content) {
            match line {
                frame::Line::Complete(bytes) => {
                    if !segment::is_blank(bytes) {
                        if frame::holds(bytes) {
                            valid.push((pos, pos + bytes.len()));
                        } else {
                            summary.damaged += 1;
                        }
                    }
                    pos += bytes.len() + 1;
                }
                frame::Line::Torn(bytes) => {
                    if !segment::is_blank(bytes) && !writing {
                        summary.damaged += 1;
                    }
                }
            }
        }
        summary.waiting += valid.len();
        let (parsed, limit) = if seg.beside {
            let limit = beside.len() + newest;
            (&mut beside, limit)
        } else {
            (&mut summary.newest, newest)
        };
        for &(start, end) in valid.iter().rev() {
            if parsed.len() >= limit {
                break;
            }
            match frame::decode(&content[start..end]).and_then(Record::parse) {
                Some(record) => parsed.push(record),
                None => {
                    summary.waiting -= 1;
                    summary.damaged += 1;
                }
            }
        }
    }
    summary.newest.reverse();
    // each in its place by timestamp (RFC 3339 in UTC with milliseconds: in the order of time
    // as text), in reading order, after those of the same millisecond: a few insertions
    // rather than a sort, whose code would be the host's too
    for record in beside.into_iter().rev() {
        let at = summary
            .newest
            .partition_point(|r| r.timestamp.as_str() <= record.timestamp.as_str());
        summary.newest.insert(at, record);
    }
    let extra = summary.newest.len().saturating_sub(newest);
    summary.newest.drain(..extra);
    Ok(summary)
}

/// Every waiting record, oldest first, and the damaged lines skipped (a torn last line of the
/// head counted among them), read-only.
#[cfg(test)]
pub(crate) fn all(dir: &StateDir) -> Result<QueueContents, QueueError> {
    let batch = batch(dir, usize::MAX, usize::MAX, Access::ReadOnly)?;
    let damaged = batch.damaged() + batch.unfinished;
    Ok(QueueContents {
        records: batch.records,
        damaged,
    })
}

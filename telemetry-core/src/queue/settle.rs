//! Settling what the sender read: records the server accepted or refused for good leave the
//! queue by moving the acknowledged offset of their segment past them (one positioned write of
//! 20 bytes), or by removing a segment they were the last of; withdrawing a record
//! overwrites it in place with a blank line of the same length. Nothing is rewritten, so the
//! exclusive lock is held for a few small writes while hosts may be waiting for it: the
//! offsets, the counters and the recently-sent log (both replaced without `fsync`).

use std::fs::File;

use super::read::Batch;
use super::segment::{self, ACKED_AT};
use super::{Position, QueueError, frame, sent_log, stats};
use crate::fsutil::{self, StateError};
use crate::paths::StateDir;
use crate::record::Record;

/// What happened to a record the sender read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Settled {
    /// The server accepted it: it moves to the recently-sent log.
    Sent,
    /// Refused for good, for this reason (`bad_request`, `unauthorized`, ...): dropped and
    /// counted.
    Rejected(&'static str),
}

/// What [`settle`] recorded.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SettleReport {
    /// Records counted as sent.
    pub sent: usize,
    /// Records counted as refused.
    pub rejected: usize,
}

/// Settles the next `results.len()` records of `batch` (in order, after those settled
/// before): moves the acknowledged offsets past them (and past the damaged or withdrawn lines
/// before them, or, once every record of the batch is settled, up to where the batch's reading
/// stopped), removes the segments left with nothing, and records them in the recently-sent
/// log and the counters. Settling no record of a batch that holds none passes the damaged and
/// withdrawn lines it read.
///
/// Records of a segment removed since the batch was read (`clear`, or dropped as the oldest
/// when the queue was full) are neither logged nor counted: `clear` means forgetting them.
pub(crate) fn settle(
    dir: &StateDir,
    batch: &mut Batch,
    results: &[Settled],
) -> Result<SettleReport, QueueError> {
    let from = batch.settled.min(batch.records.len());
    let to = (from + results.len()).min(batch.records.len());
    let results = &results[..to - from];
    let everything = to == batch.records.len();
    // how far each segment is settled now, and the damaged lines passed in it
    let mut ack: Vec<Option<(u64, usize)>> = vec![None; batch.segments.len()];
    let whole_segments = if everything {
        batch.segments.len()
    } else {
        match to.checked_sub(1).map(|i| batch.marks[i]) {
            Some(last) if to > from => {
                ack[last.segment] = Some((last.end, 0));
                last.segment
            }
            _ => return Ok(SettleReport::default()),
        }
    };
    let whole = batch.segments_settled.min(whole_segments)..whole_segments;
    for (seg, ack) in batch.segments[whole.clone()].iter().zip(&mut ack[whole]) {
        *ack = Some((seg.read_end, seg.trailing_damaged));
    }
    for mark in &batch.marks[from..to] {
        if let Some((_, damaged)) = &mut ack[mark.segment] {
            *damaged += mark.damaged_before;
        }
    }
    batch.settled = to;
    batch.segments_settled = batch.segments_settled.max(whole_segments);
    let batch = &*batch;

    // the recently-sent log is prepared before the lock is taken, and renamed into place
    // under it unless a segment went away meanwhile (`clear`)
    let log = sent_log::prepare(dir, &batch.records[from..to], results)?;

    let _lock = dir.lock_exclusive()?;
    // which segments are still there (`clear` may have removed them since the read)
    let mut metas: Vec<Option<std::fs::Metadata>> = Vec::with_capacity(batch.segments.len());
    for (seg, ack) in batch.segments.iter().zip(&ack) {
        metas.push(match ack {
            Some(_) => Some(
                seg.file
                    .metadata()
                    .map_err(|e| StateError::io("inspect", &seg.path, e))?,
            ),
            None => None,
        });
    }
    let gone = |segment: usize| {
        metas[segment]
            .as_ref()
            .is_some_and(|m| !fsutil::is_linked(m))
    };

    // the log and the counters first: a reader that sees a record leave the queue finds it
    // in the log (a crash in between sends it again, with its uuid)
    let mut report = SettleReport::default();
    // by reason; a `Vec`, not a map: there are a handful of reasons, and a map of this type
    // would be code of its own in every host
    let mut rejected: Vec<(&'static str, u64)> = Vec::new();
    for (mark, result) in batch.marks[from..to].iter().zip(results) {
        if gone(mark.segment) {
            continue;
        }
        match result {
            Settled::Sent => report.sent += 1,
            Settled::Rejected(reason) => {
                report.rejected += 1;
                match rejected.iter_mut().find(|(r, _)| r == reason) {
                    Some((_, count)) => *count += 1,
                    None => rejected.push((reason, 1)),
                }
            }
        }
    }
    if let Some(log) = log
        && !(0..metas.len()).any(gone)
    {
        log.commit()?;
    }
    let mut damaged = 0;
    for (i, ack) in ack.iter().enumerate() {
        if let Some((_, passed)) = ack
            && !gone(i)
        {
            damaged += passed;
        }
    }
    if report.sent > 0 || report.rejected > 0 || damaged > 0 {
        stats::update(dir, &mut |stats| {
            stats.sent += report.sent as u64;
            stats.rejected += report.rejected as u64;
            for (reason, count) in &rejected {
                stats.rejected_by.add(reason, *count);
            }
            stats.dropped_damaged += damaged as u64;
        })?;
    }

    #[cfg(test)]
    if let Some(hook) = BEFORE_REMOVAL.take() {
        hook();
    }
    for ((seg, ack), meta) in batch.segments.iter().zip(&ack).zip(&metas) {
        let (Some((offset, _)), Some(meta)) = (ack, meta) else {
            continue;
        };
        if !fsutil::is_linked(meta) {
            continue;
        }
        if settled_whole(seg, *offset, meta) {
            remove_settled(dir, seg, meta)?;
        } else if seg.header.is_some() {
            segment::write_all_at(&seg.file, &segment::encode_acked(*offset), ACKED_AT)
                .map_err(|e| StateError::io("acknowledge in", &seg.path, e))?;
        }
        // a file without a header cannot keep an offset: it is removed once read whole
    }
    Ok(report)
}

#[cfg(test)]
thread_local! {
    /// Run once by [`settle`] on this thread, after it took the segments' metadata under the
    /// lock and before it decides which to remove: where a test's writer beside the head adds
    /// a record and lets go, which the lock does not exclude.
    pub(super) static BEFORE_REMOVAL: std::cell::Cell<Option<Box<dyn FnOnce()>>> =
        const { std::cell::Cell::new(None) };
}

/// Whether every line of `seg` (whose metadata under the lock was `meta`) is settled once it is
/// acknowledged up to `offset`. A segment beside the head is written without the lock, so
/// `meta` may be old: it is settled only once its writer has let it go (after which it never
/// grows) and what it holds then is all acknowledged.
fn settled_whole(seg: &super::read::BatchSegment, offset: u64, meta: &std::fs::Metadata) -> bool {
    if !seg.beside {
        return offset >= meta.len();
    }
    !fsutil::is_held_by_another(&seg.file)
        && seg.file.metadata().is_ok_and(|now| offset >= now.len())
}

/// Removes a segment whose every line is settled, under the lock. The head may have been
/// sealed (renamed) since it was read: then it is found by its id.
fn remove_settled(
    dir: &StateDir,
    seg: &super::read::BatchSegment,
    meta: &std::fs::Metadata,
) -> Result<(), QueueError> {
    if segment::is_at(&seg.path, seg.header.map(|h| h.id), meta) {
        fsutil::remove_file(&seg.path)?;
        return Ok(());
    }
    let Some(id) = seg.header.map(|h| h.id) else {
        return Ok(());
    };
    for other in segment::list(dir.path()) {
        // the head is the one segment that is not sealed
        if other.sealed.is_none() {
            continue;
        }
        let same = fsutil::open_regular(&other.path)?
            .and_then(|file| segment::read_header(&file))
            .is_some_and(|h| h.id == id);
        if same {
            fsutil::remove_file(&other.path)?;
            break;
        }
    }
    Ok(())
}

/// Withdraws the records at `positions`, and those with the uuids `elsewhere`, that are
/// still waiting (not yet acknowledged), each checked to be the record appended there;
/// returns how many.
pub(crate) fn discard(
    dir: &StateDir,
    positions: &[Position],
    elsewhere: &[uuid::Uuid],
) -> Result<usize, QueueError> {
    if (positions.is_empty() && elsewhere.is_empty()) || !dir.path().is_dir() {
        return Ok(0);
    }
    let _lock = dir.lock_exclusive()?;
    // (id, file, acknowledged offset) of each segment: a queue has a few, and a map of this
    // type would be code of its own in every host
    let mut segments: Vec<(u128, File, u64)> = Vec::new();
    let mut wanted: Vec<Position> = positions.to_vec();
    for seg in segment::list(dir.path()) {
        let Some(file) = fsutil::open_in_place(&seg.path)? else {
            continue;
        };
        let Some(header) = segment::read_header(&file) else {
            continue;
        };
        if !elsewhere.is_empty() {
            find(&file, header, elsewhere, &mut wanted);
        }
        segments.push((header.id, file, header.acked));
    }
    let mut withdrawn = 0;
    for position in &wanted {
        let Some((_, file, acked)) = segments
            .iter()
            .rev()
            .find(|(id, ..)| *id == position.segment)
        else {
            continue;
        };
        if position.offset < *acked {
            continue;
        }
        let mut line = vec![0u8; position.len as usize];
        if segment::read_exact_at(file, &mut line, position.offset).is_err() {
            continue;
        }
        if line.strip_suffix(b"\n").and_then(uuid_of) == Some(position.uuid) {
            segment::blank(&mut line);
            segment::write_all_at(file, &line, position.offset)
                .map_err(|e| StateError::io("withdraw from", &dir.queue_file(), e))?;
            withdrawn += 1;
        }
    }
    Ok(withdrawn)
}

/// Adds to `found` where the waiting records of a segment with these uuids are.
fn find(file: &File, header: segment::Header, uuids: &[uuid::Uuid], found: &mut Vec<Position>) {
    let Ok(content) = super::read::read_file_from(file, header.acked) else {
        return;
    };
    let mut offset = header.acked;
    for line in frame::lines(&content) {
        let frame::Line::Complete(bytes) = line else {
            break;
        };
        if let Some(uuid) = uuid_of(bytes)
            && uuids.contains(&uuid)
        {
            found.push(Position {
                segment: header.id,
                offset,
                len: bytes.len() as u32 + 1,
                uuid,
            });
        }
        offset += bytes.len() as u64 + 1;
    }
}

/// The uuid of the record on a line (without its newline), if the line holds a valid one.
fn uuid_of(line: &[u8]) -> Option<uuid::Uuid> {
    frame::decode(line)
        .and_then(Record::parse)
        .map(|record| record.uuid)
}

//! `telemetry-sent.jsonl`: the records the server accepted recently, newest last, at most
//! [`MAX_SENT_RECORDS`] and [`MAX_SENT_BYTES`], for `inspect`.

use super::{QueueError, SentRecord, Settled, frame};
use crate::fsutil;
use crate::limits::{MAX_SENT_BYTES, MAX_SENT_RECORDS};
use crate::paths::StateDir;
use crate::record::Record;

/// The log, oldest first.
pub(crate) fn read(dir: &StateDir) -> Result<Vec<SentRecord>, QueueError> {
    let content = super::read::read_from(&dir.sent_file(), 0)?.unwrap_or_default();
    let mut log = Vec::new();
    for line in frame::lines(&content) {
        if let frame::Line::Complete(bytes) = line
            && let Some(entry) = frame::decode(bytes).and_then(parse_entry)
        {
            log.push(entry);
        }
    }
    Ok(log)
}

/// One entry of the log, as [`prepare`] writes it.
fn parse_entry(json: &str) -> Option<SentRecord> {
    let rest = json.strip_prefix("{\"sent_at\":\"")?;
    let (sent_at, rest) = rest.split_once("\",\"record\":")?;
    let record = rest.strip_suffix('}')?;
    Some(SentRecord {
        sent_at: sent_at.to_string(),
        record: Record::parse(record)?,
    })
}

/// The log with the records of `records` settled as [`Settled::Sent`] in `results` added
/// (accepted now), keeping the newest within the bounds, written to a temporary file to be
/// renamed over the log, by the caller, under the exclusive lock (see `settle`): the reading,
/// checking and writing happen before the lock is taken. `None` when none was sent. Entries
/// that are not whole, valid records are left out. Not `fsync`ed: a crash can lose the last
/// entries of the log, never an event.
pub(crate) fn prepare(
    dir: &StateDir,
    records: &[Record],
    results: &[Settled],
) -> Result<Option<fsutil::TempFile>, QueueError> {
    if !results.contains(&Settled::Sent) {
        return Ok(None);
    }
    let sent_at = crate::record::now_rfc3339();
    let log = read(dir)?;
    // the lines one after the other, and where each ends
    let mut text = String::new();
    let mut ends: Vec<usize> = Vec::with_capacity(log.len() + results.len());
    let mut push = |sent_at: &str, record: &Record| {
        let mut json = String::with_capacity(record.json.len() + 64);
        json.push_str("{\"sent_at\":");
        crate::event::writer::write_json_str(&mut json, sent_at);
        json.push_str(",\"record\":");
        json.push_str(&record.json);
        json.push('}');
        frame::push_line(&mut text, &json);
        ends.push(text.len());
    };
    for entry in &log {
        push(&entry.sent_at, &entry.record);
    }
    for (record, result) in records.iter().zip(results) {
        if *result == Settled::Sent {
            push(&sent_at, record);
        }
    }
    // the oldest lines that do not fit
    let count = ends.len();
    let mut start = 0;
    let mut skip = 0;
    while skip < count
        && (count - skip > MAX_SENT_RECORDS || (text.len() - start) as u64 > MAX_SENT_BYTES)
    {
        start = ends[skip];
        skip += 1;
    }
    Ok(Some(fsutil::write_temp(
        &dir.sent_file(),
        &text.as_bytes()[start..],
        false,
    )?))
}

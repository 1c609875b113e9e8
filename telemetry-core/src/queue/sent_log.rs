//! `telemetry-sent.jsonl`: the records the server accepted recently, newest last, at most
//! [`MAX_SENT_RECORDS`] and [`MAX_SENT_BYTES`], for `inspect`.

use super::{QueueError, SentRecord, frame};
use crate::fsutil;
use crate::limits::{MAX_SENT_BYTES, MAX_SENT_RECORDS};
use crate::paths::StateDir;
use crate::record::Record;

/// The log, oldest first.
pub(crate) fn read(dir: &StateDir) -> Result<Vec<SentRecord>, QueueError> {
    let content = super::read::read_from(&dir.sent_file(), 0)?.unwrap_or_default();
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

/// The log with `records` (accepted at `sent_at`) added, keeping the newest within the
/// bounds, written to a temporary file to be renamed over the log, by the caller, under the
/// exclusive lock (see `settle`): the reading, checking and writing happen before the lock is
/// taken. Entries that are not whole, valid records are left out. Not `fsync`ed: a crash can
/// lose the last entries of the log, never an event.
pub(crate) fn prepare<'a>(
    dir: &StateDir,
    sent_at: &str,
    records: impl IntoIterator<Item = &'a Record>,
) -> Result<fsutil::TempFile, QueueError> {
    let mut log = read(dir)?;
    log.extend(records.into_iter().map(|record| SentRecord {
        sent_at: sent_at.to_string(),
        record: record.clone(),
    }));
    let encode = |entry: &SentRecord| {
        let mut json = String::with_capacity(entry.record.json.len() + 64);
        json.push_str("{\"sent_at\":");
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
    while skip < lines.len() && (lines.len() - skip > MAX_SENT_RECORDS || bytes > MAX_SENT_BYTES) {
        bytes -= lines[skip].len() as u64;
        skip += 1;
    }
    Ok(fsutil::write_temp(
        &dir.sent_file(),
        lines[skip..].concat().as_bytes(),
        false,
    )?)
}

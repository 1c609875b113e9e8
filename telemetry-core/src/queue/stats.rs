//! The counters in `telemetry-stats.json` that `status` shows.

use std::path::Path;

use serde_json::Value;

use super::QueueError;
use crate::event::writer::write_json_str;
use crate::fsutil::{self, StateError};
use crate::paths::StateDir;
use crate::record::members::{self, struct_members};

/// Counters kept in `telemetry-stats.json`.
///
/// Read and written by hand ([`from_json`](Self::from_json), [`to_json`](Self::to_json)), as
/// serde's derives read and wrote it (the tests keep them as the reference): the derived
/// deserializer costs the host several KB.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[cfg_attr(test, derive(serde::Serialize, serde::Deserialize), serde(default))]
pub struct QueueStats {
    /// Records dropped, oldest first, because the queue was full.
    pub dropped_overflow: u64,
    /// Damaged records removed from the queue.
    pub dropped_damaged: u64,
    /// Records the server refused for good (400, 401, 402, 403, 413), dropped.
    pub rejected: u64,
    /// The same, by reason (`bad_request`, `unauthorized`, ...: see
    /// [`RejectionClass`](crate::delivery::RejectionClass)).
    pub rejected_by: Counts,
    /// Records the server accepted.
    pub sent: u64,
}

impl QueueStats {
    /// All records dropped for any reason.
    pub fn dropped(&self) -> u64 {
        self.dropped_overflow + self.dropped_damaged + self.rejected
    }

    /// The counters in `text`, read as serde's derive (`#[serde(default)]`) reads them:
    /// unknown members ignored, missing ones zero. The error says what is damaged.
    fn from_json(text: &str) -> Result<Self, String> {
        let value: Value = serde_json::from_str(text).map_err(|e| e.to_string())?;
        let mut found = [None; 5];
        struct_members(&value, &MEMBERS, true, &mut found)?;
        let [overflow, damaged, rejected, rejected_by, sent] = found;
        let count =
            |value, name| Ok::<_, String>(members::unsigned(value, name, u64::MAX)?.unwrap_or(0));
        Ok(Self {
            dropped_overflow: count(overflow, "dropped_overflow")?,
            dropped_damaged: count(damaged, "dropped_damaged")?,
            rejected: count(rejected, "rejected")?,
            rejected_by: match rejected_by {
                None => Counts::default(),
                Some(Value::Object(by)) => {
                    let mut counts = Counts::default();
                    for (reason, n) in by {
                        counts.add(reason, count(Some(n), "rejected_by")?);
                    }
                    counts
                }
                Some(_) => return Err(members::invalid("rejected_by")),
            },
            sent: count(sent, "sent")?,
        })
    }

    /// The file's JSON: what `serde_json::to_string` wrote for the derived `Serialize`.
    fn to_json(&self) -> String {
        use std::fmt::Write;
        let mut out = String::with_capacity(160);
        // `write!`: one call per piece rather than an inlined push per member
        let _ = write!(
            out,
            "{{\"dropped_overflow\":{},\"dropped_damaged\":{},\"rejected\":{},\"rejected_by\":{{",
            self.dropped_overflow, self.dropped_damaged, self.rejected
        );
        for (i, (reason, count)) in self.rejected_by.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            write_json_str(&mut out, reason);
            let _ = write!(out, ":{count}");
        }
        let _ = write!(out, "}},\"sent\":{}}}", self.sent);
        out
    }
}

/// Counts by name, each name once, in the order of the names: a sorted `Vec`, not a
/// `BTreeMap` (a B-tree's insertion and its node code, ~5 KB in a host, for a handful of
/// names).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Counts(Vec<(String, u64)>);

impl Counts {
    /// Adds `n` to the count of `name` (0 if it has none yet).
    pub fn add(&mut self, name: &str, n: u64) {
        match self.find(name) {
            Ok(at) => self.0[at].1 = self.0[at].1.saturating_add(n),
            Err(at) => self.0.insert(at, (name.to_string(), n)),
        }
    }

    /// Where `name` is, or would go.
    fn find(&self, name: &str) -> Result<usize, usize> {
        self.0.binary_search_by(|(have, _)| have.as_str().cmp(name))
    }

    /// Every name and its count, in the order of the names.
    pub fn iter(&self) -> impl Iterator<Item = (&str, u64)> {
        self.0.iter().map(|(name, count)| (name.as_str(), *count))
    }
}

/// As the map it replaced was: `{"name": count, ...}`.
#[cfg(test)]
impl serde::Serialize for Counts {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_map(self.iter())
    }
}

#[cfg(test)]
impl<'de> serde::Deserialize<'de> for Counts {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let map = std::collections::BTreeMap::<String, u64>::deserialize(deserializer)?;
        let mut counts = Self::default();
        for (name, count) in map {
            counts.add(&name, count);
        }
        Ok(counts)
    }
}

/// `counts["name"]` in tests, as the map had it (a missing name panics).
#[cfg(test)]
impl std::ops::Index<&str> for Counts {
    type Output = u64;
    fn index(&self, name: &str) -> &u64 {
        let at = self.find(name).expect("a name counted");
        &self.0[at].1
    }
}

/// The members of [`QueueStats`], in the order of its fields.
const MEMBERS: [&str; 5] = [
    "dropped_overflow",
    "dropped_damaged",
    "rejected",
    "rejected_by",
    "sent",
];

/// Changes the counters; the caller holds the exclusive lock. Written without `fsync` (hosts
/// may be waiting for the lock): a crash can lose the last change of a counter, never an event.
/// The change is `dyn`: one copy of this for its callers (`settle`, `seal_head`).
pub(crate) fn update(
    dir: &StateDir,
    change: &mut dyn FnMut(&mut QueueStats),
) -> Result<(), QueueError> {
    let path = dir.stats_file();
    let mut stats = read(&path).unwrap_or_default();
    change(&mut stats);
    write(&path, &stats)
}

/// Writes the counters.
fn write(path: &Path, stats: &QueueStats) -> Result<(), QueueError> {
    Ok(fsutil::write_atomic_unsynced(
        path,
        stats.to_json().as_bytes(),
    )?)
}

/// The counters (zero when there is no file; a damaged file reads as zero).
pub(crate) fn read(path: &Path) -> Result<QueueStats, StateError> {
    match fsutil::read_small_text(path) {
        Ok(Some(text)) => Ok(QueueStats::from_json(&text).unwrap_or_else(|e| {
            crate::diagnostics::debug_event!(%e, "telemetry counters damaged; starting again from zero");
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

    /// Files read by hand as serde's derive read them: the same counters, or both refused.
    #[test]
    fn the_file_reads_as_serde_read_it() {
        let cases = [
            r#"{"dropped_overflow":1,"dropped_damaged":2,"rejected":3,"rejected_by":{"bad_request":2,"too_large":1},"sent":40}"#,
            "{}",
            "[]",
            "[1,2]",
            r#"[1,2,3,{"x":1},5]"#,
            r#"[1,2,3,{},5,6]"#,
            r#"{"sent":7,"other":{"a":[1]}}"#,
            r#"{"sent":null}"#,
            r#"{"sent":-1}"#,
            r#"{"sent":1.5}"#,
            r#"{"sent":18446744073709551615}"#,
            r#"{"sent":18446744073709551616}"#,
            r#"{"rejected_by":null}"#,
            r#"{"rejected_by":{}}"#,
            r#"{"rejected_by":[]}"#,
            r#"{"rejected_by":[["bad_request",1]]}"#,
            r#"{"rejected_by":{"a":1,"a":2}}"#,
            r#"{"rejected_by":{"a":"1"}}"#,
            r#"{"rejected_by":{"a":null}}"#,
            r#"{"rejected_by":{"\u0041\n":5,"z":0}}"#,
            "null",
            "3",
            "{\"sent\":",
            "",
        ];
        for text in cases {
            let ours = QueueStats::from_json(text).ok();
            let serde = serde_json::from_str::<QueueStats>(text).ok();
            assert_eq!(ours, serde, "{text}");
        }
    }

    /// The file is written as `serde_json::to_string` wrote it.
    #[test]
    fn the_file_is_written_as_serde_wrote_it() {
        let mut stats = QueueStats::default();
        assert_eq!(stats.to_json(), serde_json::to_string(&stats).unwrap());
        stats.dropped_overflow = 1;
        stats.dropped_damaged = u64::MAX;
        stats.rejected = 3;
        stats.sent = 12;
        stats.rejected_by.add("too_large", 1);
        stats.rejected_by.add("bad_request", 2);
        stats.rejected_by.add("odd \"name\"\n", 0);
        let json = stats.to_json();
        assert_eq!(json, serde_json::to_string(&stats).unwrap());
        assert_eq!(QueueStats::from_json(&json), Ok(stats));
    }
}

//! The counters in `telemetry-stats.json` that `status` shows.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::QueueError;
use crate::fsutil::{self, StateError};
use crate::paths::StateDir;

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

/// Changes the counters; the caller holds the exclusive lock. Written without `fsync` (hosts
/// may be waiting for the lock): a crash can lose the last change of a counter, never an event.
pub(crate) fn update(
    dir: &StateDir,
    change: impl FnOnce(&mut QueueStats),
) -> Result<(), QueueError> {
    let path = dir.stats_file();
    let mut stats = read(&path).unwrap_or_default();
    change(&mut stats);
    let json = serde_json::to_string(&stats).unwrap_or_default();
    Ok(fsutil::write_atomic_unsynced(&path, json.as_bytes())?)
}

/// The counters (zero when there is no file; a damaged file reads as zero).
pub(crate) fn read(path: &Path) -> Result<QueueStats, StateError> {
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

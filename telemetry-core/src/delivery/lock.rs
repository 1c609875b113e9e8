//! `telemetry-sender.lock`: at most one sender (detached process or background thread) runs
//! per state directory. The holder writes its pid into the file, so `status` (and a test) can
//! name it; the pid is only meaningful while the lock is held.

use crate::fsutil::{LockMode, StateLock};
use crate::paths::StateDir;

/// The held sender lock; released when dropped (or when the process dies, however it dies).
#[derive(Debug)]
pub(crate) struct SenderLock {
    _lock: StateLock,
}

impl SenderLock {
    /// Takes the sender lock without waiting and writes this process's pid into it; `None`
    /// when another sender holds it or the file cannot be used.
    pub(crate) fn try_acquire(dir: &StateDir) -> Option<Self> {
        if let Err(error) = crate::fsutil::ensure_dir(dir.path()) {
            tracing::debug!(%error, "telemetry sender lock unavailable");
            return None;
        }
        match StateLock::try_acquire(&dir.sender_lock_file(), LockMode::Exclusive) {
            Ok(Some(lock)) => {
                lock.set_contents(&format!("{}\n", std::process::id()));
                Some(Self { _lock: lock })
            }
            Ok(None) => None,
            Err(error) => {
                tracing::debug!(%error, "telemetry sender lock unavailable");
                None
            }
        }
    }
}

/// The sender running now for `dir`: `Some(pid)` (0 when the file names none) while the lock
/// is held, `None` otherwise. Never creates the file.
pub fn running_sender(dir: &StateDir) -> Option<u32> {
    let path = dir.sender_lock_file();
    if !StateLock::is_held(&path).unwrap_or(false) {
        return None;
    }
    let pid = crate::fsutil::read_small_text(&path)
        .ok()
        .flatten()
        .and_then(|text| text.trim().parse().ok());
    Some(pid.unwrap_or(0))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::paths::StateDirSource;

    #[test]
    fn one_sender_at_a_time_and_its_pid() {
        let home = tempfile::tempdir().unwrap();
        let dir = StateDir::new(home.path().join(".demo"), StateDirSource::Explicit);
        assert_eq!(running_sender(&dir), None);
        let lock = SenderLock::try_acquire(&dir).unwrap();
        assert!(SenderLock::try_acquire(&dir).is_none());
        assert_eq!(running_sender(&dir), Some(std::process::id()));
        drop(lock);
        assert_eq!(running_sender(&dir), None);
        assert!(SenderLock::try_acquire(&dir).is_some());
    }
}

//! `telemetry-sender.lock`: at most one sender (a detached process, whether started at exit or
//! by background delivery) runs per state directory. The holder writes its pid into the file,
//! so `status` (and a test) can name it; the pid is only meaningful while the lock is held.

use std::time::{Duration, Instant};

use crate::fsutil::{LockMode, StateLock};
use crate::paths::StateDir;

crate::diagnostics::error_event_fns!(debug debug_error);

/// The held sender lock; released when dropped (or when the process dies, however it dies).
#[derive(Debug)]
pub(crate) struct SenderLock {
    _lock: StateLock,
}

impl SenderLock {
    /// Takes the sender lock without waiting and writes this process's pid into it; `None`
    /// when another sender holds it, the file cannot be used or the state directory does not
    /// exist.
    ///
    /// A sender never creates the directory: one that is missing holds nothing to send, and
    /// the user (or a test) may have just deleted it, after the command that started this
    /// sender ended; it must not come back.
    pub(crate) fn try_acquire(dir: &StateDir) -> Option<Self> {
        // as root in another user's directory, nothing is touched (see fsutil::lock)
        if !dir.path().is_dir() || StateLock::foreign_owner(dir.path()).is_some() {
            return None;
        }
        match StateLock::try_acquire(&dir.sender_lock_file(), LockMode::Exclusive) {
            Ok(Some(lock)) => {
                // (itoa rather than `format!`: no formatting machinery for one number)
                let mut line = itoa::Buffer::new().format(std::process::id()).to_owned();
                line.push('\n');
                lock.set_contents(&line);
                Some(Self { _lock: lock })
            }
            Ok(None) => None,
            Err(error) => {
                debug_error("telemetry sender lock unavailable", &error);
                None
            }
        }
    }
}

impl SenderLock {
    /// Takes the sender lock, waiting at most `wait` for its holder to let go: a sender
    /// finishing its last batch. `None` when it stays held or cannot be used.
    pub(crate) fn acquire_within(dir: &StateDir, wait: Duration) -> Option<Self> {
        let until = Instant::now() + wait;
        loop {
            if let Some(lock) = Self::try_acquire(dir) {
                return Some(lock);
            }
            if Instant::now() >= until {
                return None;
            }
            std::thread::sleep(LOCK_POLL);
        }
    }
}

/// How often a waiting sender looks at the lock again.
const LOCK_POLL: Duration = Duration::from_millis(25);

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

    /// A state directory made by a host that recorded something.
    fn recorded_in(home: &tempfile::TempDir) -> StateDir {
        let dir = StateDir::new(home.path().join(".demo"), StateDirSource::Explicit);
        crate::fsutil::ensure_dir(dir.path()).unwrap();
        dir
    }

    #[test]
    fn one_sender_at_a_time_and_its_pid() {
        let home = tempfile::tempdir().unwrap();
        let dir = recorded_in(&home);
        assert_eq!(running_sender(&dir), None);
        let lock = SenderLock::try_acquire(&dir).unwrap();
        assert!(SenderLock::try_acquire(&dir).is_none());
        assert_eq!(running_sender(&dir), Some(std::process::id()));
        drop(lock);
        assert_eq!(running_sender(&dir), None);
        assert!(SenderLock::try_acquire(&dir).is_some());
    }

    /// The directory was deleted after the command that started the sender (`rm -rf
    /// ~/.demo`, a test's temporary home): the sender does not bring it back.
    #[test]
    fn a_missing_state_directory_is_not_made_again() {
        let home = tempfile::tempdir().unwrap();
        let dir = StateDir::new(home.path().join(".demo"), StateDirSource::Explicit);
        assert!(SenderLock::try_acquire(&dir).is_none());
        assert!(SenderLock::acquire_within(&dir, Duration::from_millis(30)).is_none());
        assert!(!dir.path().exists());
    }

    #[test]
    fn a_waiting_sender_gets_the_lock_once_its_holder_lets_go() {
        let home = tempfile::tempdir().unwrap();
        let dir = recorded_in(&home);
        let held = SenderLock::try_acquire(&dir).unwrap();
        assert!(SenderLock::acquire_within(&dir, Duration::from_millis(50)).is_none());
        let releaser = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(100));
            drop(held);
        });
        assert!(SenderLock::acquire_within(&dir, Duration::from_secs(10)).is_some());
        releaser.join().unwrap();
    }
}

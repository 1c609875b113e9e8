//! The state directory's lock file (fs4 advisory locks).
//!
//! Files that are replaced by rename cannot carry the lock themselves (a rename gives the path
//! a new inode), so one lock file, `telemetry.lock`, guards every file in the directory: shared
//! to read, exclusive to write. Waiting is bounded by [`LOCK_WAIT`] so a stuck process can never
//! hang the host.

use std::fs::{File, OpenOptions};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use super::StateError;

/// The longest a process waits for the lock before giving up on the operation.
pub const LOCK_WAIT: Duration = Duration::from_secs(5);

/// How the lock is held.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LockMode {
    /// Many readers at once.
    Shared,
    /// One writer, no reader.
    Exclusive,
}

/// A held lock; released when dropped (closing the file releases it).
#[derive(Debug)]
pub struct StateLock {
    file: File,
    path: PathBuf,
}

impl StateLock {
    /// Takes the lock on `path` (created with mode 0600 if missing), waiting at most
    /// [`LOCK_WAIT`].
    pub fn acquire(path: &Path, mode: LockMode) -> Result<Self, StateError> {
        super::check_regular(path)?;
        let mut options = OpenOptions::new();
        options.read(true).write(true).create(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options
                .mode(0o600)
                .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK);
        }
        let file = options.open(path).map_err(|e| super::open_error(path, e))?;
        super::verify_regular(path, &file)?;
        let started = Instant::now();
        let mut pause = Duration::from_micros(200);
        loop {
            let attempt = match mode {
                LockMode::Shared => fs4::FileExt::try_lock_shared(&file),
                LockMode::Exclusive => fs4::FileExt::try_lock(&file),
            };
            match attempt {
                Ok(()) => {
                    return Ok(StateLock {
                        file,
                        path: path.to_path_buf(),
                    });
                }
                Err(fs4::TryLockError::WouldBlock) => {}
                Err(fs4::TryLockError::Error(e)) => {
                    return Err(StateError::io("lock", path, e));
                }
            }
            if started.elapsed() >= LOCK_WAIT {
                return Err(StateError::LockTimeout {
                    path: path.to_path_buf(),
                });
            }
            std::thread::sleep(pause);
            pause = (pause * 2).min(Duration::from_millis(10));
        }
    }

    /// The lock file.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for StateLock {
    fn drop(&mut self) {
        let _ = fs4::FileExt::unlock(&self.file);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shared_locks_coexist_and_exclusive_waits() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("telemetry.lock");
        let a = StateLock::acquire(&path, LockMode::Shared).unwrap();
        let b = StateLock::acquire(&path, LockMode::Shared).unwrap();
        drop((a, b));
        let c = StateLock::acquire(&path, LockMode::Exclusive).unwrap();
        assert_eq!(c.path(), path);
        drop(c);
        StateLock::acquire(&path, LockMode::Exclusive).unwrap();
    }
}

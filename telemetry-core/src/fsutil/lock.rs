//! The state directory's lock file (fs4 advisory locks).
//!
//! Files that are replaced by rename cannot carry the lock themselves (a rename gives the path
//! a new inode), so one lock file, `telemetry.lock`, guards the changes to the files in the
//! directory (exclusive; files replaced whole by `rename` are read without it). Waiting is
//! bounded, so a stuck holder (a process stopped with `SIGSTOP` or in a debugger while it
//! holds the lock) can never hang anyone: by [`LOCK_WAIT`] in the sender and by
//! [`HOST_LOCK_WAIT`](crate::limits::HOST_LOCK_WAIT) in the host, whose latency is the user's
//! (each [`StateDir`](crate::paths::StateDir) carries its budget). The host's events and its
//! first identity do not wait for it at all (see the queue's appending and the identity).
//!
//! **Nobody writes in another user's directory.** A process running as root (a command
//! run with `sudo`, which keeps the user's `HOME`) would leave root-owned files in the user's
//! state directory: a queue, a lock, an identity the user can no longer open, which stops
//! telemetry for them until someone runs `chown`. So when this process runs as root and the
//! directory (or, while it does not exist, its nearest existing parent) belongs to another
//! user, an exclusive lock (every write takes one) and a lock that would create its file are
//! refused: nothing is recorded, and nothing sent, in that run. Any other user refuses the
//! same in an existing directory that belongs to someone else (a shared folder it may write):
//! its owner controls what is there. [`StateLock::foreign_owner`] says whether that is the
//! case.

use std::fs::{File, OpenOptions};
use std::io;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use super::StateError;

/// The longest the detached sender (and a [`StateDir`](crate::paths::StateDir) made without
/// a budget of its own) waits for the lock before giving up on the operation.
pub const LOCK_WAIT: Duration = Duration::from_secs(5);

/// How often [`StateLock::held_throughout`] looks again.
const HELD_LOOK_AGAIN: Duration = Duration::from_millis(2);

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
}

impl StateLock {
    /// Takes the lock on `path` (created with mode 0600 if missing), waiting at most `wait`.
    pub fn acquire(path: &Path, mode: LockMode, wait: Duration) -> Result<Self, StateError> {
        refuse_in_another_users_directory(path, mode)?;
        let file = open_lock_file(path, true)?;
        wait_for_lock(&file, path, mode, wait)?;
        Ok(StateLock { file })
    }

    /// Takes the lock on `path` (created with mode 0600 if missing) if nobody holds it, without
    /// waiting: `Ok(None)` when it is held.
    pub fn try_acquire(path: &Path, mode: LockMode) -> Result<Option<Self>, StateError> {
        refuse_in_another_users_directory(path, mode)?;
        let file = open_lock_file(path, true)?;
        Ok(try_lock(&file, path, mode)?.then_some(StateLock { file }))
    }

    /// Whether another process holds the lock on `path` now (a file that does not exist is
    /// not held). Never creates the file; the probe holds the lock for an instant.
    pub fn is_held(path: &Path) -> Result<bool, StateError> {
        Self::held_throughout(path, Duration::ZERO)
    }

    /// Whether another process holds the lock on `path` at every look for `span`: looked at
    /// every 2 ms, so a holder that lets go for a moment (live holders keep it for
    /// microseconds to milliseconds, one after another) is seen free. `false` as soon as it is
    /// free, so it costs `span` only when the lock really stays held. A file that does not
    /// exist is not held; never creates it.
    pub fn held_throughout(path: &Path, span: Duration) -> Result<bool, StateError> {
        if !super::check_regular(path)? {
            return Ok(false);
        }
        let file = open_lock_file(path, false)?;
        let started = Instant::now();
        loop {
            if try_lock(&file, path, LockMode::Shared)? {
                let _ = fs4::FileExt::unlock(&file);
                return Ok(false);
            }
            let looked = started.elapsed();
            if looked >= span {
                return Ok(true);
            }
            std::thread::sleep(HELD_LOOK_AGAIN.min(span - looked));
        }
    }

    /// The lock file's content (at most `limit` bytes of it), best effort: empty when it
    /// cannot be read. Read through the held file, so it is what the last holder left.
    pub fn contents(&self, limit: u64) -> String {
        use std::io::{Read, Seek, SeekFrom};
        let mut file = &self.file;
        let mut text = String::new();
        if file.seek(SeekFrom::Start(0)).is_err()
            || file.take(limit).read_to_string(&mut text).is_err()
        {
            text.clear();
        }
        text
    }

    /// Replaces the lock file's content with `text` (the holder's pid, say), best effort: the
    /// lock itself does not depend on it.
    pub fn set_contents(&self, text: &str) {
        use std::io::{Seek, SeekFrom, Write};
        let mut file = &self.file;
        let _ = file
            .set_len(0)
            .and_then(|()| file.seek(SeekFrom::Start(0)))
            .and_then(|_| file.write_all(text.as_bytes()));
    }
}

impl StateLock {
    /// The owner (uid) of the state directory `dir` when it is another user's, so that this
    /// process writes nothing there; `None` otherwise (and always off Unix).
    ///
    /// - **As root,** a directory of any other user: files root created there would be
    ///   unusable by its owner. While `dir` does not exist, its nearest existing parent decides:
    ///   the directory root would create there is the user's too.
    /// - **As anyone else,** an existing directory that belongs to another user, even one this
    ///   process could write (group- or world-writable, an ACL, a `<APP>_TELEMETRY_DIR` in a
    ///   shared folder): its owner could read, replace or plant what telemetry keeps there (an
    ///   identifier, records the sender would send as they stand). One not made yet is made by
    ///   this process, 0700, and is its own.
    pub fn foreign_owner(dir: &Path) -> Option<u32> {
        #[cfg(unix)]
        {
            use std::os::unix::fs::MetadataExt;
            let me = rustix::process::geteuid();
            if !me.is_root() {
                let owner = std::fs::metadata(dir).ok()?.uid();
                return (owner != me.as_raw()).then_some(owner);
            }
            let owner = dir
                .ancestors()
                .find_map(|d| std::fs::metadata(d).ok())?
                .uid();
            (owner != 0).then_some(owner)
        }
        #[cfg(not(unix))]
        {
            let _ = dir;
            None
        }
    }
}

/// Refuses a lock that would write in another user's directory ([`StateLock::foreign_owner`]):
/// an exclusive one (every write takes it), or one whose file does not exist yet (taking it
/// would create it).
fn refuse_in_another_users_directory(path: &Path, mode: LockMode) -> Result<(), StateError> {
    let would_write = mode == LockMode::Exclusive || !path.exists();
    let Some(owner) = path
        .parent()
        .filter(|_| would_write)
        .and_then(StateLock::foreign_owner)
    else {
        return Ok(());
    };
    let why = if super::running_as_root() {
        format!(
            "running as root in a directory of uid {owner}: telemetry writes nothing there, so it leaves no file its owner cannot use"
        )
    } else {
        format!(
            "the directory belongs to uid {owner}, not to this user: telemetry writes nothing in a directory another user controls"
        )
    };
    Err(StateError::io(
        "lock",
        path,
        io::Error::new(io::ErrorKind::PermissionDenied, why),
    ))
}

/// Refuses a write without the lock in the state directory of the lock file `lock` when an
/// exclusive lock there would be refused ([`StateLock::foreign_owner`]): for the writes that
/// need no lock (a first identity linked into place).
pub(crate) fn refuse_unlocked_write(lock: &Path) -> Result<(), StateError> {
    refuse_in_another_users_directory(lock, LockMode::Exclusive)
}

/// Opens a lock file without following a link or blocking on a FIFO, optionally creating it.
fn open_lock_file(path: &Path, create: bool) -> Result<File, StateError> {
    super::check_regular(path)?;
    let file = super::private_mode(super::no_follow(
        OpenOptions::new().read(true).write(true).create(create),
    ))
    .open(path)
    .map_err(|e| super::open_error(path, e))?;
    super::verify_regular(path, &file)?;
    Ok(file)
}

/// Locks `file`, waiting at most `wait`. Holders keep the lock for microseconds (an append, a
/// sender's acknowledgement), so the first pauses are short; they double up to 10 ms.
fn wait_for_lock(
    file: &File,
    path: &Path,
    mode: LockMode,
    wait: Duration,
) -> Result<(), StateError> {
    let started = Instant::now();
    let mut pause = Duration::from_micros(20);
    loop {
        if try_lock(file, path, mode)? {
            return Ok(());
        }
        let waited = started.elapsed();
        if waited >= wait {
            return Err(StateError::LockTimeout {
                path: path.to_path_buf(),
                waited: wait,
            });
        }
        std::thread::sleep(pause.min(wait - waited));
        pause = (pause * 2).min(Duration::from_millis(10));
    }
}

/// A lock file a process opens once and locks many times (the queue's appender): the checks
/// and the `open` happen once, each lock is then two `flock` calls.
#[derive(Debug)]
pub struct LockFile {
    file: File,
    path: PathBuf,
}

impl LockFile {
    /// Opens (creating, mode 0600) the lock file at `path` for exclusive locks; refused in
    /// another user's directory, as [`StateLock::acquire`] refuses.
    pub fn open(path: &Path) -> Result<Self, StateError> {
        refuse_in_another_users_directory(path, LockMode::Exclusive)?;
        Ok(Self {
            file: open_lock_file(path, true)?,
            path: path.to_path_buf(),
        })
    }

    /// Takes the exclusive lock, waiting at most `wait`; released when the guard drops.
    pub fn lock(&self, wait: Duration) -> Result<HeldLock<'_>, StateError> {
        wait_for_lock(&self.file, &self.path, LockMode::Exclusive, wait)?;
        Ok(HeldLock { file: &self.file })
    }
}

impl LockFile {
    /// Whether the lock file is still in its directory: a lock on a removed one (the directory
    /// was deleted) excludes nobody.
    pub fn is_linked(&self) -> bool {
        self.file
            .metadata()
            .is_ok_and(|meta| super::is_linked(&meta))
    }
}

/// The exclusive lock of a [`LockFile`], held until dropped.
#[derive(Debug)]
pub struct HeldLock<'a> {
    file: &'a File,
}

impl Drop for HeldLock<'_> {
    fn drop(&mut self) {
        let _ = fs4::FileExt::unlock(self.file);
    }
}

/// Whether another open file holds a lock on `file` (a segment its writer keeps locked while
/// it appends to it): one attempt at a shared lock, let go at once. An error reads as held,
/// so that nothing is removed from under a writer on a file system without locks.
pub(crate) fn is_held_by_another(file: &File) -> bool {
    match fs4::FileExt::try_lock_shared(file) {
        Ok(()) => {
            let _ = fs4::FileExt::unlock(file);
            false
        }
        Err(_) => true,
    }
}

/// One attempt to lock `file`: whether it was taken.
pub(super) fn try_lock(file: &File, path: &Path, mode: LockMode) -> Result<bool, StateError> {
    let attempt = match mode {
        LockMode::Shared => fs4::FileExt::try_lock_shared(file),
        LockMode::Exclusive => fs4::FileExt::try_lock(file),
    };
    match attempt {
        Ok(()) => Ok(true),
        Err(fs4::TryLockError::WouldBlock) => Ok(false),
        Err(fs4::TryLockError::Error(e)) => Err(StateError::io("lock", path, e)),
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
        let a = StateLock::acquire(&path, LockMode::Shared, LOCK_WAIT).unwrap();
        let b = StateLock::acquire(&path, LockMode::Shared, LOCK_WAIT).unwrap();
        drop((a, b));
        let c = StateLock::acquire(&path, LockMode::Exclusive, LOCK_WAIT).unwrap();
        drop(c);
        StateLock::acquire(&path, LockMode::Exclusive, LOCK_WAIT).unwrap();
    }

    #[cfg(unix)]
    #[test]
    fn root_takes_no_lock_that_writes_in_another_users_directory() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("telemetry.lock");
        assert_eq!(StateLock::foreign_owner(dir.path()), None, "our own");
        if !rustix::process::geteuid().is_root() {
            eprintln!("skipped the rest: needs root, to give the directory to another user");
            return;
        }
        std::os::unix::fs::chown(dir.path(), Some(65534), None).unwrap();
        assert_eq!(StateLock::foreign_owner(dir.path()), Some(65534));
        assert_eq!(
            StateLock::foreign_owner(&dir.path().join("missing/.demo")),
            Some(65534),
            "a directory not made yet is judged by its parent"
        );
        let refused = StateLock::acquire(&path, LockMode::Exclusive, LOCK_WAIT).unwrap_err();
        assert!(refused.to_string().contains("running as root"), "{refused}");
        assert!(StateLock::try_acquire(&path, LockMode::Exclusive).is_err());
        assert!(
            StateLock::acquire(&path, LockMode::Shared, LOCK_WAIT).is_err(),
            "would create it"
        );
        assert!(!path.exists(), "nothing created");
        // reading an existing lock file creates nothing: allowed
        std::fs::write(&path, "").unwrap();
        drop(StateLock::acquire(&path, LockMode::Shared, LOCK_WAIT).unwrap());
        assert!(StateLock::acquire(&path, LockMode::Exclusive, LOCK_WAIT).is_err());
    }

    #[test]
    fn try_acquire_never_waits_and_is_held_probes() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("telemetry-sender.lock");
        assert!(!StateLock::is_held(&path).unwrap());
        assert!(!path.exists(), "a probe never creates the file");
        let held = StateLock::try_acquire(&path, LockMode::Exclusive)
            .unwrap()
            .unwrap();
        held.set_contents("123\n");
        // another open file description: the lock is seen as held
        assert!(
            StateLock::try_acquire(&path, LockMode::Exclusive)
                .unwrap()
                .is_none()
        );
        assert!(StateLock::is_held(&path).unwrap());
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "123\n");
        drop(held);
        assert!(!StateLock::is_held(&path).unwrap());
        assert!(
            StateLock::try_acquire(&path, LockMode::Exclusive)
                .unwrap()
                .is_some()
        );
    }

    #[test]
    fn held_throughout_sees_a_holder_that_lets_go_and_one_that_does_not() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("telemetry.lock");
        let span = Duration::from_secs(2);
        assert!(!StateLock::held_throughout(&path, span).unwrap());
        assert!(!path.exists(), "a probe never creates the file");

        // a live holder: held when the look starts, let go 100 ms later (five times the 20 ms
        // that two looks used to be apart)
        let held = StateLock::acquire(&path, LockMode::Exclusive, LOCK_WAIT).unwrap();
        let (started_tx, started_rx) = std::sync::mpsc::channel();
        let holder = std::thread::spawn(move || {
            started_rx.recv().unwrap();
            std::thread::sleep(Duration::from_millis(100));
            drop(held);
        });
        started_tx.send(()).unwrap();
        assert!(!StateLock::held_throughout(&path, span).unwrap());
        holder.join().unwrap();

        // a holder that keeps it
        let _held = StateLock::acquire(&path, LockMode::Exclusive, LOCK_WAIT).unwrap();
        assert!(StateLock::held_throughout(&path, Duration::from_millis(50)).unwrap());
    }
}

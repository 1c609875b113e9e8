//! `telemetry-sender.lock`: at most one sender (a detached process, whether started at exit or
//! by background delivery) runs per state directory. The holder writes its pid into the file,
//! so `status` (and a test) can name it; the pid is only meaningful while the lock is held.
//!
//! **A sender that dies holding the lock is noticed by the next one.** While it holds the lock
//! the file reads `<pid> sending`; a sender that lets go of it by returning writes `<pid>`
//! back first. The lock is the kernel's and goes with the process however it ends, so a file
//! that still reads `sending` when the next sender takes the lock tells that the last one
//! ended without returning: killed (a shutdown, the user, the out-of-memory killer), aborted
//! (a panic in a program built with `panic = "abort"`, a crash in native code) or stopped by
//! its own watchdog at [`SENDER_DEADLINE`](crate::limits::SENDER_DEADLINE). The sender records
//! it as an attempt of class [`Interrupted`](super::outcome::FailureClass::Interrupted). (Files
//! of earlier versions hold a bare pid, which reads as an ending that returned.)

use std::time::{Duration, Instant};

use crate::fsutil::{LockMode, StateLock};
use crate::paths::StateDir;

crate::diagnostics::error_event_fns!(debug debug_error);

/// The held sender lock; released when dropped (or when the process dies, however it dies).
#[derive(Debug)]
pub(crate) struct SenderLock {
    lock: StateLock,
    /// The last holder ended without letting go (see the module documentation).
    last_holder_interrupted: bool,
}

/// What the file says after the holder's pid while the lock is held.
const SENDING: &str = "sending";

/// The most of the file read when the lock is taken: a pid and the word.
const CONTENTS_LIMIT: u64 = 64;

impl SenderLock {
    /// Takes the sender lock without waiting and writes this process's pid into it; `None`
    /// when another sender holds it, the file cannot be used or the state directory does not
    /// exist.
    ///
    /// A sender never creates the directory: one that is missing holds nothing to send, and
    /// the user (or a test) may have just deleted it, after the command that started this
    /// sender ended; it must not come back.
    pub(crate) fn try_acquire(dir: &StateDir) -> Option<Self> {
        // nothing is touched in another user's directory (see fsutil::lock)
        if !dir.path().is_dir() || StateLock::foreign_owner(dir.path()).is_some() {
            return None;
        }
        match StateLock::try_acquire(&dir.sender_lock_file(), LockMode::Exclusive) {
            Ok(Some(lock)) => {
                let last_holder_interrupted = holder_was_sending(&lock.contents(CONTENTS_LIMIT));
                lock.set_contents(&pid_line(true));
                Some(Self {
                    lock,
                    last_holder_interrupted,
                })
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
    /// Whether the sender that held the lock before this one ended while holding it (killed,
    /// aborted or stopped at its deadline): see the module documentation.
    pub(crate) fn last_holder_interrupted(&self) -> bool {
        self.last_holder_interrupted
    }

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

/// A sender that lets go by returning says so: only its pid stays.
impl Drop for SenderLock {
    fn drop(&mut self) {
        self.lock.set_contents(&pid_line(false));
    }
}

/// The file's line for this process: its pid, and [`SENDING`] while it holds the lock.
fn pid_line(sending: bool) -> String {
    // (itoa rather than `format!`: no formatting machinery for one number)
    let mut line = itoa::Buffer::new().format(std::process::id()).to_owned();
    if sending {
        line.push(' ');
        line.push_str(SENDING);
    }
    line.push('\n');
    line
}

/// Whether the lock file's `contents` are those of a holder that was still sending.
fn holder_was_sending(contents: &str) -> bool {
    let mut words = contents.split_ascii_whitespace();
    words.next().is_some_and(|pid| pid.parse::<u32>().is_ok()) && words.next() == Some(SENDING)
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
        .and_then(|text| text.split_ascii_whitespace().next()?.parse().ok());
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

    #[test]
    fn a_holder_that_ended_without_letting_go_is_noticed_by_the_next() {
        let home = tempfile::tempdir().unwrap();
        let dir = recorded_in(&home);
        let path = dir.sender_lock_file();
        let pid = std::process::id();

        let first = SenderLock::try_acquire(&dir).unwrap();
        assert!(!first.last_holder_interrupted(), "nobody held it before");
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            format!("{pid} sending\n")
        );
        drop(first);
        assert_eq!(std::fs::read_to_string(&path).unwrap(), format!("{pid}\n"));
        let after_a_return = SenderLock::try_acquire(&dir).unwrap();
        assert!(!after_a_return.last_holder_interrupted());
        drop(after_a_return);

        // what a sender killed (or aborted) while holding the lock leaves: the kernel let the
        // lock go, the file still says it was sending
        let dying = StateLock::try_acquire(&path, LockMode::Exclusive)
            .unwrap()
            .unwrap();
        dying.set_contents("4242 sending\n");
        drop(dying);
        let next = SenderLock::try_acquire(&dir).unwrap();
        assert!(next.last_holder_interrupted());
        drop(next);
        let then = SenderLock::try_acquire(&dir).unwrap();
        assert!(!then.last_holder_interrupted(), "told once");
        drop(then);

        // a bare pid (what earlier versions leave), nothing, or anything else: no interruption
        for left in ["4242\n", "", "sending\n", "x sending\n", "4242 sent\n"] {
            std::fs::write(&path, left).unwrap();
            let lock = SenderLock::try_acquire(&dir).unwrap();
            assert!(!lock.last_holder_interrupted(), "{left:?}");
        }
    }

    #[test]
    fn the_running_sender_is_named_while_it_sends() {
        let home = tempfile::tempdir().unwrap();
        let dir = recorded_in(&home);
        std::fs::write(dir.sender_lock_file(), "4242 sending\n").unwrap();
        assert_eq!(running_sender(&dir), None, "not held: nobody runs");
        let held = StateLock::try_acquire(&dir.sender_lock_file(), LockMode::Exclusive)
            .unwrap()
            .unwrap();
        assert_eq!(running_sender(&dir), Some(4242));
        held.set_contents("4242\n");
        assert_eq!(
            running_sender(&dir),
            Some(4242),
            "the earlier versions' line"
        );
        held.set_contents("");
        assert_eq!(running_sender(&dir), Some(0), "held, naming nobody");
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

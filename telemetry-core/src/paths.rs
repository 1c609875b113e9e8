//! Where telemetry keeps its files, and what each is called.
//!
//! The state directory is, first match wins: the one set with
//! [`TelemetryConfigBuilder::state_dir`](crate::TelemetryConfigBuilder::state_dir), then
//! `<APP>_TELEMETRY_DIR`, then `~/.<app>`. It may be shared with the host's own files, so every
//! file telemetry owns starts with `telemetry`:
//!
//! | file | what |
//! | --- | --- |
//! | `telemetry.toml` | the user's consent, written by `telemetry on` / `off` |
//! | `telemetry-id.json` | the anonymous id, its creation date and the keyed hash of the linked account id (never the id) |
//! | `telemetry-queue.jsonl` | events waiting to be sent |
//! | `telemetry-sent.jsonl` | the events sent most recently (for `inspect`) |
//! | `telemetry-stats.json` | counters: events dropped, damaged, rejected, sent |
//! | `telemetry-notice-shown` | marker: the first-run notice has been shown |
//! | `telemetry.lock` | the lock every update takes |
//! | `telemetry-sender.lock` | held by the one sender running (the detached sender process); holds its pid, and `sending` while it holds the lock (left there by a sender that was killed) |
//! | `telemetry-sender.json` | the sender's state: last success, last failure, back-off until |

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use crate::fsutil::{self, LOCK_WAIT, LockMode, StateError, StateLock};

/// Where the state directory's location came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StateDirSource {
    /// Set by the host's configuration.
    Explicit,
    /// From the `<APP>_TELEMETRY_DIR` variable (its name).
    Variable(String),
    /// `~/.<app>`.
    Home,
}

/// The state directory, the names of the files in it, and how long this process waits for
/// its lock.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StateDir {
    root: PathBuf,
    source: StateDirSource,
    lock_wait: Duration,
    held_elsewhere: HeldElsewhere,
}

/// How long a process waits for the lock once a wait ran out, until it takes it again: what
/// an ordinary holder (an append, a sender's acknowledgement) needs, so a process that found
/// the holder stuck neither waits its whole budget again nor fails a login over a moment's
/// contention. (Its appends then do not wait at all: their records go beside the queue's
/// head.)
const LOCK_WAIT_WHILE_HELD: Duration = Duration::from_millis(2);

/// Whether a wait for the lock ran out and none has taken it since; shared by the clones of a
/// [`StateDir`] (everything in a process that uses the directory), so a stuck holder costs
/// the process one full wait, not one per operation. Not part of the directory's identity.
#[derive(Debug, Clone, Default)]
struct HeldElsewhere(Arc<AtomicBool>);

impl PartialEq for HeldElsewhere {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl Eq for HeldElsewhere {}

impl StateDir {
    /// A state directory at `root`, whose lock is waited for at most [`LOCK_WAIT`].
    pub fn new(root: impl Into<PathBuf>, source: StateDirSource) -> Self {
        Self {
            root: root.into(),
            source,
            lock_wait: LOCK_WAIT,
            held_elsewhere: HeldElsewhere::default(),
        }
    }

    /// The same directory, its lock waited for at most `wait` (the host's
    /// [`HOST_LOCK_WAIT`](crate::limits::HOST_LOCK_WAIT)).
    pub fn with_lock_wait(mut self, wait: Duration) -> Self {
        self.lock_wait = wait;
        self
    }

    /// How long to wait for the lock now: [`lock_wait`](Self::lock_wait), or a moment once a
    /// wait ran out, until the lock is taken again.
    pub(crate) fn current_lock_wait(&self) -> Duration {
        if self.lock_held_elsewhere() {
            LOCK_WAIT_WHILE_HELD
        } else {
            self.lock_wait
        }
    }

    /// Whether a wait for the lock ran out and nothing in this process took it since.
    pub(crate) fn lock_held_elsewhere(&self) -> bool {
        self.held_elsewhere.0.load(Ordering::Relaxed)
    }

    /// Notes how an attempt to take the lock went (see [`current_lock_wait`](Self::current_lock_wait)).
    pub(crate) fn note_lock_attempt<T>(&self, attempt: &Result<T, StateError>) {
        match attempt {
            Ok(_) => self.held_elsewhere.0.store(false, Ordering::Relaxed),
            Err(StateError::LockTimeout { .. }) => {
                self.held_elsewhere.0.store(true, Ordering::Relaxed);
            }
            Err(_) => {}
        }
    }

    /// Resolves the directory for `config`; `None` when there is no home directory and no
    /// override (then nothing can be recorded).
    pub fn resolve(config: &crate::TelemetryConfig) -> Option<Self> {
        if let Some(dir) = config.explicit_state_dir() {
            return Some(Self::new(dir, StateDirSource::Explicit));
        }
        let var = &config.env_names().dir;
        if let Some(value) = config.environment().get_non_empty(var) {
            // set, but not to a usable path (not valid Unicode): no directory, rather than HOME's
            let path = PathBuf::from(crate::Environment::faithful(value)?.trim());
            let path = if path.is_absolute() {
                path
            } else {
                config.working_dir()?.join(path)
            };
            return Some(Self::new(path, StateDirSource::Variable(var.clone())));
        }
        let home = config.environment().home_dir()?;
        Some(Self::new(
            home.join(format!(".{}", config.app_name())),
            StateDirSource::Home,
        ))
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        &self.root
    }

    /// Where its location came from.
    #[cfg(test)]
    pub fn source(&self) -> &StateDirSource {
        &self.source
    }

    /// `telemetry.toml`: the user's consent.
    pub fn config_file(&self) -> PathBuf {
        self.root.join("telemetry.toml")
    }

    /// `telemetry-id.json`: the identity.
    pub fn identity_file(&self) -> PathBuf {
        self.root.join("telemetry-id.json")
    }

    /// `telemetry-queue.jsonl`: events waiting to be sent.
    pub fn queue_file(&self) -> PathBuf {
        self.root.join("telemetry-queue.jsonl")
    }

    /// `telemetry-sent.jsonl`: events sent recently.
    pub fn sent_file(&self) -> PathBuf {
        self.root.join("telemetry-sent.jsonl")
    }

    /// `telemetry-stats.json`: counters.
    pub fn stats_file(&self) -> PathBuf {
        self.root.join("telemetry-stats.json")
    }

    /// `telemetry-notice-shown`: the first-run notice's marker.
    pub fn notice_marker(&self) -> PathBuf {
        self.root.join("telemetry-notice-shown")
    }

    /// `telemetry.lock`: the lock file.
    pub fn lock_file(&self) -> PathBuf {
        self.root.join("telemetry.lock")
    }

    /// `telemetry-sender.lock`: held by the sender that is running, and holding its pid (and
    /// `sending` while held: see [the sender lock](crate::delivery::lock)).
    pub fn sender_lock_file(&self) -> PathBuf {
        self.root.join("telemetry-sender.lock")
    }

    /// `telemetry-sender.json`: the sender's state (last success, last failure, back-off).
    pub fn sender_state_file(&self) -> PathBuf {
        self.root.join("telemetry-sender.json")
    }

    /// The files the queue and delivery keep beside the queue's segments: the sent log, the
    /// counters, the two lock files and the sender's state. What `status` checks, and what
    /// `clear`'s repair of files this user cannot use may remove, are these plus a few files
    /// each caller names.
    pub fn bookkeeping_files(&self) -> [PathBuf; 5] {
        [
            self.sent_file(),
            self.stats_file(),
            self.lock_file(),
            self.sender_lock_file(),
            self.sender_state_file(),
        ]
    }

    /// Takes the exclusive lock, creating the directory (0700) if needed.
    pub fn lock_exclusive(&self) -> Result<StateLock, StateError> {
        fsutil::ensure_dir(&self.root)?;
        let attempt = StateLock::acquire(
            &self.lock_file(),
            LockMode::Exclusive,
            self.current_lock_wait(),
        );
        self.note_lock_attempt(&attempt);
        attempt
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Environment, TelemetryConfig};

    fn config(env: Environment) -> TelemetryConfig {
        TelemetryConfig::builder(&crate::schema::DEMO)
            .environment(env)
            .working_dir("/work")
            .on_terminal(false)
            .build()
            .unwrap()
    }

    #[test]
    fn resolution_order() {
        let env = Environment::empty().with("HOME", "/home/u");
        let dir = StateDir::resolve(&config(env.clone())).unwrap();
        assert_eq!(dir.path(), Path::new("/home/u/.demo"));
        assert_eq!(dir.source(), &StateDirSource::Home);
        let dir = StateDir::resolve(&config(env.with("DEMO_TELEMETRY_DIR", "rel"))).unwrap();
        assert_eq!(dir.path(), Path::new("/work/rel"));
        assert!(StateDir::resolve(&config(Environment::empty())).is_none());
    }

    /// A path that was not valid Unicode in the process environment reaches the snapshot in a
    /// lossy form, which could name another directory: no state directory at all, not HOME's
    /// in place of the one the user set.
    #[test]
    fn a_path_that_was_not_unicode_gives_no_directory() {
        let lossy = "/home/u\u{FFFD}";
        let env = Environment::empty().with("HOME", lossy);
        assert!(StateDir::resolve(&config(env)).is_none());
        let env = Environment::empty()
            .with("HOME", "/home/u")
            .with("DEMO_TELEMETRY_DIR", lossy);
        assert!(StateDir::resolve(&config(env)).is_none());
    }
}

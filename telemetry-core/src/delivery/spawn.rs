//! Starting the detached sender: a fresh process of the same binary, which the handle's start
//! recognises and turns into the sender before the host's `main` does anything else.
//!
//! When a handle that recorded something in this process is dropped (or
//! [`finish`](crate::Telemetry::finish)ed) and telemetry is still on, and at every round of
//! [background delivery](super::background), it starts `current_exe()
//! --telemetry-sender-process` with null stdin, stdout and stderr — unless a sender is already
//! running (`telemetry-sender.lock` is held), the back-off after a failure is not over, or what
//! the server accepts could not be recorded in the state directory (see [`access`]). It never
//! waits for it: a detached thread reaps it if this process lives longer than the sender (a
//! server), so neither a zombie nor an orphan is left; if this process exits first, the sender
//! is reparented and reaped by the system. The sender puts itself in its own session at once.
//!
//! # The sender runs no other program
//!
//! posthog-rs asks `os_info` about the system the first time it prepares an event, and on
//! Linux `os_info` runs `lsb_release -a` (a script that runs `getopt`, `cut`, `tr`, ...) and
//! `getconf LONG_BIT`, looked up on `PATH` — with `PATH=.:$PATH`, from the working directory,
//! which was the user's repository. Nothing of the answer is sent (the `before_send` hook
//! strips `$os`), and there is no option to turn it off, so the sender is given an environment
//! in which no program can be found:
//!
//! - `PATH` is [`NO_PROGRAM_PATH`] (`/dev/null`): every lookup (`/dev/null/lsb_release`) fails
//!   with "not a directory". (An empty or unset `PATH` would not do: an empty one means the
//!   working directory, an unset one a default list.) `os_info` then reads `/etc/os-release`
//!   and runs nothing.
//! - Its working directory is `/` (the state directory off Unix), not the user's: the
//!   host's working directory, which the sender needs only to find a project's opt-out file
//!   when it decides consent again, is passed in `<APP>_TELEMETRY_SENDER_CWD` (an environment
//!   variable, not an argument, so other users do not see the path in `ps`).
//! - The state directory is passed, absolute, in `<APP>_TELEMETRY_DIR`, with
//!   `<APP>_TELEMETRY_SENDER=1`; the rest of the environment is the host's (consent variables,
//!   `HOME`, the debug build's development endpoint).
//!
//! The host itself never loads the network stack: background delivery starts this same
//! process rather than sending from a thread.
//!
//! Both the variable and the argument are needed: a user who exports the variable by mistake
//! does not turn their tool into a sender, and a host that (against the documentation) does
//! not start telemetry first sees an unknown argument rather than running its default action.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use super::access;
use super::backoff::SenderState;
use crate::config::TelemetryConfig;
use crate::fsutil::StateLock;
use crate::paths::StateDir;

/// The argument the detached sender is started with.
pub const SENDER_ARG: &str = "--telemetry-sender-process";

/// The sender's `PATH`: a file, so that looking a program up in it always fails.
pub const NO_PROGRAM_PATH: &str = "/dev/null";

/// `<APP>_TELEMETRY_SENDER_CWD`: the host's working directory, given to the sender (which runs
/// elsewhere) to look for a project's opt-out file.
pub(crate) fn working_dir_variable(config: &TelemetryConfig) -> String {
    format!("{}_CWD", config.env_names().sender)
}

/// The host's working directory, as the sender process was given it (read from the real
/// process environment); `None` when none was given.
pub(crate) fn host_working_dir(config: &TelemetryConfig) -> Option<PathBuf> {
    std::env::var_os(working_dir_variable(config))
        .filter(|dir| !dir.is_empty())
        .map(PathBuf::from)
}

/// Whether this process is a detached sender the handle started: the first argument is
/// [`SENDER_ARG`] and `<APP>_TELEMETRY_SENDER` is `1` (read from the real process
/// environment, whatever environment the configuration was given).
pub(crate) fn is_sender_process(config: &TelemetryConfig) -> bool {
    std::env::args_os()
        .nth(1)
        .is_some_and(|arg| arg == SENDER_ARG)
        && std::env::var_os(&config.env_names().sender).is_some_and(|value| value == "1")
}

/// Why no sender was started (or that one was).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum SpawnDecision {
    /// Started, with this pid.
    Started(u32),
    /// A sender is running already; it sends what was just recorded too.
    AlreadyRunning,
    /// The back-off after a failure is not over.
    BackingOff,
    /// What the server accepts could not be recorded in the state directory (it is not
    /// writable, or this process runs as root and it is another user's): a sender would send
    /// the same records again every time. `status` says why.
    CannotRecord,
    /// It could not be started (the error is traced).
    Failed,
}

/// Why no sender should be started for `dir` now, or `None` when one should.
fn reason_not_to_spawn(dir: &StateDir) -> Option<SpawnDecision> {
    if !access::can_record_acknowledgements(dir) {
        return Some(SpawnDecision::CannotRecord);
    }
    if !SenderState::read(dir).allows_attempt_now() {
        return Some(SpawnDecision::BackingOff);
    }
    match StateLock::is_held(&dir.sender_lock_file()) {
        Ok(false) => None,
        Ok(true) => Some(SpawnDecision::AlreadyRunning),
        Err(error) => {
            tracing::debug!(%error, "telemetry sender lock unusable; no sender started");
            Some(SpawnDecision::Failed)
        }
    }
}

/// Starts the detached sender for `dir` if none is running and the back-off allows it.
pub(crate) fn spawn_if_due(config: &TelemetryConfig, dir: &StateDir) -> SpawnDecision {
    if let Some(decision) = reason_not_to_spawn(dir) {
        return decision;
    }
    let exe = match std::env::current_exe() {
        Ok(exe) => exe,
        Err(error) => {
            tracing::debug!(%error, "telemetry sender not started: no path to this program");
            return SpawnDecision::Failed;
        }
    };
    let names = config.env_names();
    let mut command = Command::new(exe);
    command
        .arg(SENDER_ARG)
        .env(&names.sender, "1")
        .env(&names.dir, absolute(dir.path()))
        .env_remove(working_dir_variable(config))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    if let Some(cwd) = config.working_dir() {
        command.env(working_dir_variable(config), absolute(cwd));
    }
    #[cfg(unix)]
    command.env("PATH", NO_PROGRAM_PATH).current_dir("/");
    #[cfg(not(unix))]
    if dir.path().is_dir() {
        command.current_dir(absolute(dir.path()));
    }
    match command.spawn() {
        Ok(child) => {
            let pid = child.id();
            reap_later(child);
            tracing::debug!(pid, "telemetry sender started");
            SpawnDecision::Started(pid)
        }
        Err(error) => {
            tracing::debug!(%error, "telemetry sender not started");
            SpawnDecision::Failed
        }
    }
}

/// `path` made absolute against this process's working directory (the sender runs in another
/// one); as it is when that cannot be done.
fn absolute(path: &Path) -> PathBuf {
    std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf())
}

/// Waits for `child` on a detached thread, so a long-lived host never keeps a zombie; a
/// short-lived one exits first and the thread with it.
fn reap_later(mut child: Child) {
    let spawned = std::thread::Builder::new()
        .name("telemetry-reaper".into())
        .spawn(move || {
            let _ = child.wait();
        });
    if let Err(error) = spawned {
        tracing::debug!(%error, "telemetry sender will be reaped when this process exits");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fsutil::LockMode;
    use crate::paths::StateDirSource;

    #[test]
    fn a_lock_held_by_another_process_means_a_sender_is_running() {
        let home = tempfile::tempdir().unwrap();
        let dir = StateDir::new(home.path().join(".demo"), StateDirSource::Explicit);
        crate::fsutil::ensure_dir(dir.path()).unwrap();
        assert!(reason_not_to_spawn(&dir).is_none(), "free lock: start one");

        let lock = StateLock::try_acquire(&dir.sender_lock_file(), LockMode::Exclusive)
            .unwrap()
            .unwrap();
        lock.set_contents("1\n");
        assert!(matches!(
            reason_not_to_spawn(&dir),
            Some(SpawnDecision::AlreadyRunning)
        ));
        // (nothing in this process holds it any more: background delivery starts senders too)
        lock.set_contents(&format!("{}\n", std::process::id()));
        assert!(matches!(
            reason_not_to_spawn(&dir),
            Some(SpawnDecision::AlreadyRunning)
        ));
    }

    #[cfg(unix)]
    #[test]
    fn a_directory_where_acknowledgements_cannot_be_recorded_gets_no_sender() {
        let home = tempfile::tempdir().unwrap();
        let dir = StateDir::new(home.path().join(".demo"), StateDirSource::Explicit);
        crate::fsutil::ensure_dir(dir.path()).unwrap();
        assert!(reason_not_to_spawn(&dir).is_none());
        if !rustix::process::geteuid().is_root() {
            eprintln!("skipped: needs root, to give the directory to another user");
            return;
        }
        // root in another user's directory (a read-only one is covered end to end)
        std::os::unix::fs::chown(dir.path(), Some(65534), None).unwrap();
        assert_eq!(reason_not_to_spawn(&dir), Some(SpawnDecision::CannotRecord));
    }
}

//! Starting the detached sender: a fresh process of the same binary, which the handle's start
//! recognises and turns into the sender before the host's `main` does anything else.
//!
//! When a handle that recorded something in this process is dropped (or
//! [`finish`](crate::Telemetry::finish)ed), and telemetry is still on, it starts
//! `current_exe() --telemetry-sender-process` with `<APP>_TELEMETRY_SENDER=1`,
//! `<APP>_TELEMETRY_DIR` set to the state directory, the same working directory, and null
//! stdin, stdout and stderr — unless a sender is already running (`telemetry-sender.lock` is
//! held) or the back-off after a failure is not over. It never waits for it: a detached
//! thread reaps it if this process lives longer than the sender (a server), so neither a
//! zombie nor an orphan is left; if this process exits first, the sender is reparented and
//! reaped by the system. The sender puts itself in its own session at once.
//!
//! Both the variable and the argument are needed: a user who exports the variable by mistake
//! does not turn their tool into a sender, and a host that (against the documentation) does
//! not start telemetry first sees an unknown argument rather than running its default action.

use std::process::{Child, Command, Stdio};

use super::backoff::SenderState;
use super::lock::running_sender;
use crate::config::TelemetryConfig;
use crate::fsutil::StateLock;
use crate::paths::StateDir;

/// The argument the detached sender is started with.
pub const SENDER_ARG: &str = "--telemetry-sender-process";

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
    /// It could not be started (the error is traced).
    Failed,
}

/// Why no sender should be started for `dir` now, or `None` when one should.
fn reason_not_to_spawn(dir: &StateDir) -> Option<SpawnDecision> {
    if !SenderState::read(dir).allows_attempt_now() {
        return Some(SpawnDecision::BackingOff);
    }
    match StateLock::is_held(&dir.sender_lock_file()) {
        Ok(false) => None,
        // This process's own background thread may still hold it as the host exits; it will
        // not look at the queue again, so start a sender that waits for the lock to be let go.
        Ok(true) if running_sender(dir) == Some(std::process::id()) => None,
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
        .env(&names.dir, dir.path())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    if let Some(cwd) = config.working_dir().filter(|cwd| cwd.is_dir()) {
        command.current_dir(cwd);
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
        lock.set_contents(&format!("{}\n", std::process::id()));
        assert!(
            reason_not_to_spawn(&dir).is_none(),
            "held by this process's own background thread: start one that waits for it"
        );
        lock.set_contents("1\n");
        assert!(matches!(
            reason_not_to_spawn(&dir),
            Some(SpawnDecision::AlreadyRunning)
        ));
    }
}

//! Starting the detached sender: a fresh process of the same binary, which the handle's start
//! recognises and turns into the sender before the host's `main` does anything else.
//!
//! When a handle that recorded something in this process is dropped (or
//! [`finish`](crate::Telemetry::finish)ed) and telemetry is still on, and at every round of
//! [background delivery](super::background), it starts `current_exe()
//! --telemetry-sender-process` (on Linux the running program itself, even once an upgrade
//! replaced its file; elsewhere whatever is at its path) with null stdout and stderr (its stdin: see below) — unless a
//! sender is already running (`telemetry-sender.lock` is held), the back-off after a failure
//! is not over, what the server accepts could not be recorded in the state directory (see
//! [`access`]), or the [flush policy](#the-flush-policy) says the records can wait for a later
//! command. It never waits for it: a detached thread reaps it if this process lives longer
//! than the sender (a server), so neither a zombie nor an orphan is left; if this process
//! exits first, the sender is reparented and reaped by the system. The sender is started in a
//! process group of its own (Unix), in the command's session. Since it runs the host's `main`
//! up to `Telemetry::start`, nothing before that may touch the terminal: a background process
//! group that sets terminal modes or reads `/dev/tty` is stopped by the kernel (SIGTTOU,
//! SIGTTIN), and killed once its command has exited.
//!
//! # The flush policy
//!
//! A sender is a process: on a 2-core machine one costs ~17 ms of CPU that competes with the
//! user's next commands, and starting it costs the host a fraction of a millisecond. Started
//! whenever none runs, a burst of 50 back-to-back commands started one every few commands.
//! So a sender is started only when one of these holds ([`SenderState::start_due_at`]):
//!
//! 1. no sender has been started for [`FLUSH_INTERVAL`] (or ever): a single command, or the
//!    first of a burst, is sent by the sender its own exit starts, as before;
//! 2. the last sender failed after it started: the back-off, over by now, decides alone;
//! 3. the last sender took the lock and let it go without an answer from the server (it was
//!    killed, its batch was refused, or it found nothing to send): it earned no rest;
//! 4. the queue file holds at least [`FLUSH_QUEUE_BYTES`].
//!
//! While a sender runs, a command's records are sent by it (it reads the queue until it is
//! empty), as before. The **trade-off** is the delivery delay of the end of a burst: records
//! of commands that end within [`FLUSH_INTERVAL`] of the last start, after that sender's
//! last read, stay queued until the first command (any command that records, `telemetry
//! status` included) that ends after the interval — in the meantime nothing is lost, and a
//! queue that grows large (4.) is sent at once. A burst of commands within the interval
//! starts one sender, or two when the first one finished before the burst did; a longer burst
//! about one per interval. The host learns this from two `stat`s and the state file it
//! already reads (O(1), never the queue's content); the process that starts a sender writes
//! `last_started_at` into `telemetry-sender.json` first (without `fsync`), so the next
//! command sees it even before the sender has taken its lock.
//!
//! Background delivery in a long-running host is not affected: its rounds are already at
//! least [`MIN_BACKGROUND_INTERVAL`](crate::limits::MIN_BACKGROUND_INTERVAL) apart, start a
//! sender whenever records wait (lock and back-off permitting) and do not count as a start,
//! so the host's exit hands what it recorded last to a sender as a command's exit does.
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
//!   variable, not an argument, so other users do not see the path in `ps`; empty when the
//!   host's is unknown).
//! - Its stdin is a pipe from the command that started it, which the command's process holds
//!   until it exits: the sender waits for that before it does anything
//!   ([`host_exit`](super::host_exit)), and runs at a lower priority
//!   ([`SENDER_NICENESS`](crate::limits::SENDER_NICENESS): see [`priority`](super::priority)),
//!   so it never competes with the command, and yields to the user's next ones.
//! - It is started in a process group of its own (Unix): the signals a terminal sends its
//!   foreground group, Ctrl-C's and the hangup of a terminal closed right after the command,
//!   do not reach it.
//! - It closes, first thing, the descriptors it inherited beyond stdin, stdout and stderr
//!   ([`inherited`](super::inherited)): std gives a child every descriptor of its parent that
//!   is not close-on-exec, and a pipe the host was handed would stay open until the sender
//!   exits.
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
use super::backoff::{SenderState, StartFacts, StartReason};
use crate::config::TelemetryConfig;
use crate::fsutil::StateLock;
#[cfg(doc)]
use crate::limits::{FLUSH_INTERVAL, FLUSH_QUEUE_BYTES};
use crate::paths::StateDir;

crate::diagnostics::error_event_fns!(debug debug_error);

/// The argument the detached sender is started with.
pub const SENDER_ARG: &str = "--telemetry-sender-process";

/// The sender's `PATH`: a file, so that looking a program up in it always fails.
#[cfg(unix)]
pub const NO_PROGRAM_PATH: &str = "/dev/null";

/// `<APP>_TELEMETRY_SENDER_CWD`: the host's working directory, given to the sender (which runs
/// elsewhere) to look for a project's opt-out file.
pub(crate) fn working_dir_variable(config: &TelemetryConfig) -> String {
    format!("{}_CWD", config.env_names().sender)
}

/// The host's working directory, as the sender process was given it (read from the real
/// process environment); `None` when none was given, or an empty one (the host's was unknown).
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
    /// The [flush policy](self#the-flush-policy) lets the records wait: a sender started less
    /// than [`FLUSH_INTERVAL`] ago delivered, and the queue is small.
    NotDue,
    /// Another process holds the state directory's lock as this one ends (a command stopped
    /// while it held it, or a moment's contention): a sender could acknowledge nothing while
    /// it stays held, and taking the lock to record its start would make this process wait.
    /// The next run starts one.
    LockHeldElsewhere,
    /// It could not be started (the error is traced).
    Failed,
}

/// Why no sender should be started for `dir` now, or the flush policy's reason to start one.
/// With the reason come the facts it was decided on (the default for background delivery).
fn reason_not_to_spawn(
    dir: &StateDir,
    trigger: Trigger,
) -> Result<(StartReason, StartFacts), SpawnDecision> {
    // one probe, not the flag a wait that ran out leaves: a process whose appends went beside
    // the head after the short append wait has not set it, and one whose flag is left from a
    // moment's contention should start its sender
    if StateLock::is_held(&dir.lock_file()).unwrap_or(true) {
        return Err(SpawnDecision::LockHeldElsewhere);
    }
    if !access::can_record_acknowledgements(dir) {
        return Err(SpawnDecision::CannotRecord);
    }
    let state = SenderState::read(dir);
    let now = chrono::Utc::now();
    if !state.allows_attempt_at(now) {
        return Err(SpawnDecision::BackingOff);
    }
    match StateLock::is_held(&dir.sender_lock_file()) {
        Ok(false) => {}
        Ok(true) => return Err(SpawnDecision::AlreadyRunning),
        Err(error) => {
            debug_error("telemetry sender lock unusable; no sender started", &error);
            return Err(SpawnDecision::Failed);
        }
    }
    if trigger == Trigger::BackgroundRound {
        return Ok((StartReason::IntervalOver, StartFacts::default()));
    }
    let facts = start_facts(dir);
    let reason = state
        .start_due_at(now, facts)
        .ok_or(SpawnDecision::NotDue)?;
    Ok((reason, facts))
}

/// What asks for a sender.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Trigger {
    /// A command ends (its handle is dropped or finished): the flush policy decides.
    CommandExit,
    /// A round of [background delivery](super::background), on its own interval: the flush
    /// policy leaves it alone, and it is not counted as a start, so a server's exit still
    /// hands its last events to a sender.
    BackgroundRound,
}

/// What the flush policy needs besides the state: one `stat` of the sender lock and one of
/// the queue file.
fn start_facts(dir: &StateDir) -> StartFacts {
    let lock_written_at = std::fs::metadata(dir.sender_lock_file())
        .and_then(|meta| meta.modified())
        .ok()
        .map(chrono::DateTime::<chrono::Utc>::from);
    let queue_bytes = std::fs::metadata(dir.queue_file()).map_or(0, |meta| meta.len());
    StartFacts {
        lock_written_at,
        queue_bytes,
    }
}

/// Starts the detached sender for `dir` if none is running, the back-off allows it and the
/// [flush policy](self#the-flush-policy) says one is due.
pub(crate) fn spawn_if_due(
    config: &TelemetryConfig,
    dir: &StateDir,
    trigger: Trigger,
) -> SpawnDecision {
    let (reason, facts) = match reason_not_to_spawn(dir, trigger) {
        Ok(found) => found,
        Err(decision) => return decision,
    };
    let exe = match this_program() {
        Ok(exe) => exe,
        Err(error) => {
            debug_error(
                "telemetry sender not started: no path to this program",
                &error,
            );
            return SpawnDecision::Failed;
        }
    };
    let names = config.env_names();
    let mut command = Command::new(exe);
    command
        .arg(SENDER_ARG)
        .env(&names.sender, "1")
        .env(&names.dir, absolute(dir.path()))
        .stdin(sender_stdin(trigger))
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    // Empty when it is unknown (the sender reads an empty value as none): set either way, so
    // that a value the host inherited never reaches the sender, without `env_remove`'s code.
    let cwd = config.working_dir().map(absolute).unwrap_or_default();
    command.env(working_dir_variable(config), cwd);
    #[cfg(unix)]
    {
        use std::os::unix::process::CommandExt;
        command.env("PATH", NO_PROGRAM_PATH).current_dir("/");
        // A process group of its own from its first instruction: the terminal's signals go to
        // its foreground group (Ctrl-C's SIGINT, and the SIGHUP of a terminal closed as the
        // command ends: `ssh -t host tool`, `xterm -e tool`), which the sender is then not in.
        // A `setsid` in the sender came too late for a hangup right after the command exited
        // (an adoption review lost 2 senders in 10 runs under `script`).
        command.process_group(0);
    }
    #[cfg(not(unix))]
    if dir.path().is_dir() {
        command.current_dir(absolute(dir.path()));
    }
    // recorded first, so that the next command sees it before the sender takes its lock
    if trigger == Trigger::CommandExit
        && let Err(error) =
            SenderState::record_start(dir, chrono::Utc::now(), facts.lock_written_at)
    {
        debug_error("telemetry sender start not recorded", &error);
    }
    match command.spawn() {
        Ok(child) => {
            let pid = child.id();
            reap_later(child);
            crate::diagnostics::debug_event!(pid, ?reason, "telemetry sender started");
            SpawnDecision::Started(pid)
        }
        Err(error) => {
            debug_error("telemetry sender not started", &error);
            SpawnDecision::Failed
        }
    }
}

/// The program to start as the sender: this one.
///
/// On Linux, a program replaced on disk since it started (an upgrade of a server that runs
/// on) is named `<path> (deleted)`, which cannot be started, and whatever is at `<path>` now is
/// another version; the kernel still starts the running one as `/proc/self/exe`.
fn this_program() -> std::io::Result<PathBuf> {
    let exe = std::env::current_exe()?;
    #[cfg(any(target_os = "linux", target_os = "android"))]
    {
        use std::os::unix::ffi::OsStrExt;
        if exe.as_os_str().as_bytes().ends_with(b" (deleted)") {
            return Ok(PathBuf::from("/proc/self/exe"));
        }
    }
    Ok(exe)
}

/// The sender's stdin: a pipe whose other end this process keeps until it exits when a
/// command's exit starts it (the sender waits for this process to be gone before it works,
/// see [`host_exit`](super::host_exit)); `/dev/null` for background delivery, whose host
/// lives on.
fn sender_stdin(trigger: Trigger) -> Stdio {
    if cfg!(unix) && trigger == Trigger::CommandExit {
        Stdio::piped()
    } else {
        Stdio::null()
    }
}

/// `path` made absolute against this process's working directory (the sender runs in another
/// one); as it is when that cannot be done.
fn absolute(path: &Path) -> PathBuf {
    std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf())
}

/// Waits for `child` on a detached thread, so a long-lived host never keeps a zombie; a
/// short-lived one exits first and the thread with it. The thread holds this process's end
/// of the child's stdin (a pipe, when a command's exit started it) until the child has
/// exited: it is closed when this process exits, which is what the sender waits for
/// (`Child::wait` would close it first).
fn reap_later(mut child: Child) {
    let host_end = child.stdin.take();
    let spawned = super::start_thread(
        "telemetry-reaper",
        Box::new(move || {
            let _ = child.wait();
            drop(host_end);
        }),
    );
    if let Err(error) = spawned {
        debug_error(
            "telemetry sender will be reaped when this process exits",
            &error,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fsutil::LockMode;
    use crate::paths::StateDirSource;

    /// The policy's decision, without the facts it was made on.
    fn reason(dir: &StateDir, trigger: Trigger) -> Result<StartReason, SpawnDecision> {
        reason_not_to_spawn(dir, trigger).map(|(reason, _)| reason)
    }

    #[test]
    fn a_lock_held_by_another_process_means_a_sender_is_running() {
        let home = tempfile::tempdir().unwrap();
        let dir = StateDir::new(home.path().join(".demo"), StateDirSource::Explicit);
        crate::fsutil::ensure_dir(dir.path()).unwrap();
        assert!(
            reason(&dir, Trigger::CommandExit).is_ok(),
            "free lock: start one"
        );

        let lock = StateLock::try_acquire(&dir.sender_lock_file(), LockMode::Exclusive)
            .unwrap()
            .unwrap();
        lock.set_contents("1\n");
        assert_eq!(
            reason(&dir, Trigger::CommandExit),
            Err(SpawnDecision::AlreadyRunning)
        );
        // (nothing in this process holds it any more: background delivery starts senders too)
        lock.set_contents(&format!("{}\n", std::process::id()));
        assert_eq!(
            reason(&dir, Trigger::CommandExit),
            Err(SpawnDecision::AlreadyRunning)
        );
    }

    /// While another process holds the state directory's lock as a command ends (a command
    /// stopped while it held it), no sender is started, in any trigger, whatever this process
    /// found before: it could acknowledge nothing, and recording its start would wait for the
    /// lock. Once the lock is free, one is, even with the flag of an earlier timeout left set.
    #[test]
    fn no_sender_while_the_state_lock_is_held() {
        let home = tempfile::tempdir().unwrap();
        let dir = StateDir::new(home.path().join(".demo"), StateDirSource::Explicit);
        crate::fsutil::ensure_dir(dir.path()).unwrap();
        assert!(reason(&dir, Trigger::CommandExit).is_ok());
        let held = StateLock::try_acquire(&dir.lock_file(), LockMode::Exclusive)
            .unwrap()
            .unwrap();
        assert!(
            !dir.lock_held_elsewhere(),
            "no wait ran out in this process"
        );
        for trigger in [Trigger::CommandExit, Trigger::BackgroundRound] {
            assert_eq!(reason(&dir, trigger), Err(SpawnDecision::LockHeldElsewhere));
        }
        drop(held);
        let timeout = crate::fsutil::StateError::LockTimeout {
            path: dir.lock_file(),
            waited: std::time::Duration::ZERO,
        };
        dir.note_lock_attempt::<()>(&Err(timeout));
        assert!(reason(&dir, Trigger::CommandExit).is_ok());
    }

    use crate::delivery::outcome::{Failure, FailureClass};
    use crate::limits::{FLUSH_INTERVAL, FLUSH_QUEUE_BYTES};
    use chrono::{DateTime, Utc};

    fn secs(n: i64) -> chrono::Duration {
        chrono::Duration::seconds(n)
    }

    fn interval() -> chrono::Duration {
        chrono::Duration::from_std(FLUSH_INTERVAL).unwrap()
    }

    /// The policy as a burst of commands meets it: `ends` are the commands' exit times; a
    /// sender started at `t` takes its lock at once, delivers at `t + 0.1 s` and is gone
    /// before the next exit. Returns the start times.
    fn simulate(ends: &[DateTime<Utc>]) -> Vec<DateTime<Utc>> {
        let mut state = SenderState::default();
        let mut starts = Vec::new();
        for &now in ends {
            let facts = StartFacts {
                lock_written_at: starts.last().copied(),
                queue_bytes: 1000,
            };
            if state.start_due_at(now, facts).is_some() {
                state.last_started_at = Some(crate::record::rfc3339(now));
                state.last_success_at = Some(crate::record::rfc3339(
                    now + chrono::Duration::milliseconds(100),
                ));
                starts.push(now);
            }
        }
        starts
    }

    #[test]
    fn a_burst_within_the_interval_starts_one_sender_and_the_next_interval_another() {
        let t0 = Utc::now();
        // 50 commands 20 ms apart: one sender
        let burst: Vec<_> = (0..50)
            .map(|i| t0 + chrono::Duration::milliseconds(20 * i))
            .collect();
        assert_eq!(simulate(&burst), vec![t0]);
        // commands spread over three intervals: one sender per interval
        let long: Vec<_> = (0..150).map(|i| t0 + (interval() * 3) * i / 150).collect();
        let starts = simulate(&long);
        assert_eq!(starts.len(), 3, "{starts:?}");
        assert!(starts.windows(2).all(|w| w[1] - w[0] >= interval()));
    }

    #[test]
    fn what_a_burst_leaves_is_sent_by_the_first_command_after_the_interval() {
        let t0 = Utc::now();
        let mut state = SenderState {
            last_started_at: Some(crate::record::rfc3339(t0)),
            last_success_at: Some(crate::record::rfc3339(t0 + secs(1))),
            ..SenderState::default()
        };
        let small = StartFacts {
            lock_written_at: Some(t0),
            queue_bytes: 500,
        };
        // records queued within the interval wait...
        assert_eq!(state.start_due_at(t0 + secs(1), small), None);
        assert_eq!(state.start_due_at(t0 + interval() - secs(1), small), None);
        // ...for the first command after it, whenever that is
        assert_eq!(
            state.start_due_at(t0 + interval(), small),
            Some(StartReason::IntervalOver)
        );
        assert_eq!(
            state.start_due_at(t0 + secs(86_400), small),
            Some(StartReason::IntervalOver)
        );
        // a clock set back by more than the interval does not hold them
        assert_eq!(
            state.start_due_at(t0 - interval() - secs(1), small),
            Some(StartReason::IntervalOver)
        );
        // nor does a large queue
        let large = StartFacts {
            queue_bytes: FLUSH_QUEUE_BYTES,
            ..small
        };
        assert_eq!(
            state.start_due_at(t0 + secs(1), large),
            Some(StartReason::QueueLarge)
        );
        // a sender that took the lock and was gone before any answer (killed, refused, nothing
        // to send) earned no rest
        state.last_success_at = None;
        assert_eq!(
            state.start_due_at(t0 + secs(1), small),
            Some(StartReason::LastSentNothing)
        );
        // (the lock file's time is from a coarse clock: a few ms "before" the start is after it)
        let coarse = StartFacts {
            lock_written_at: Some(t0 - chrono::Duration::milliseconds(4)),
            ..small
        };
        assert_eq!(
            state.start_due_at(t0 + secs(1), coarse),
            Some(StartReason::LastSentNothing)
        );
        // (and a file system that keeps whole seconds, or even ones, cuts the time down: up to
        // two seconds "before" the start can be after it)
        let stamped = |taken: DateTime<Utc>, granularity: i64| StartFacts {
            lock_written_at: DateTime::from_timestamp(
                taken.timestamp().div_euclid(granularity) * granularity,
                0,
            ),
            ..small
        };
        for granularity in [1, 2] {
            for after_ms in [0, 10, 999, 1999] {
                let taken = t0 + chrono::Duration::milliseconds(after_ms);
                assert_eq!(
                    state.start_due_at(t0 + secs(3), stamped(taken, granularity)),
                    Some(StartReason::LastSentNothing),
                    "taken {after_ms} ms after the start, stamped in steps of {granularity} s"
                );
            }
        }
        assert_eq!(
            state.start_due_at(t0 + secs(1), stamped(t0 - secs(3), 1)),
            None
        );
        // ...but one that has not taken its lock yet (it is being started) is waited for
        let starting = StartFacts {
            lock_written_at: Some(t0 - secs(60)),
            ..small
        };
        assert_eq!(state.start_due_at(t0 + secs(1), starting), None);
        // a failure after the start: the back-off decides (the caller checks it)
        state.last_failure = Some(super::super::backoff::LastFailure {
            at: crate::record::rfc3339(t0 + secs(1)),
            class: FailureClass::ServerError,
            status: Some(503),
        });
        assert_eq!(
            state.start_due_at(t0 + secs(2), starting),
            Some(StartReason::AfterFailure)
        );
        // ...unless the sender sent after it: an interrupted predecessor is recorded first
        // thing, and the sender that recorded it may then deliver; it earned its rest
        state.last_success_at = Some(crate::record::rfc3339(t0 + secs(2)));
        let ran = StartFacts {
            lock_written_at: Some(t0 + secs(1)),
            ..small
        };
        assert_eq!(state.start_due_at(t0 + secs(3), ran), None);
        state.last_failure.as_mut().unwrap().at = crate::record::rfc3339(t0 + secs(2));
        assert_eq!(
            state.start_due_at(t0 + secs(3), ran),
            Some(StartReason::AfterFailure),
            "a failure at the same time as the success is the later one"
        );
    }

    #[test]
    fn a_recorded_start_holds_the_next_command_until_the_interval_is_over() {
        let home = tempfile::tempdir().unwrap();
        let dir = StateDir::new(home.path().join(".demo"), StateDirSource::Explicit);
        crate::fsutil::ensure_dir(dir.path()).unwrap();
        assert_eq!(
            reason(&dir, Trigger::CommandExit),
            Ok(StartReason::IntervalOver)
        );
        let now = Utc::now();
        let state = SenderState::record_start(&dir, now, None).unwrap();
        assert_eq!(state.senders_started, 1);
        assert_eq!(SenderState::read(&dir), state);
        // the sender has not taken its lock yet: the next command starts none
        assert_eq!(
            reason(&dir, Trigger::CommandExit),
            Err(SpawnDecision::NotDue)
        );
        // a background round is not held back by the flush policy
        assert_eq!(
            reason(&dir, Trigger::BackgroundRound),
            Ok(StartReason::IntervalOver)
        );
        // it took the lock and delivered: still none within the interval
        let lock = StateLock::try_acquire(&dir.sender_lock_file(), LockMode::Exclusive)
            .unwrap()
            .unwrap();
        lock.set_contents("1\n");
        assert_eq!(
            reason(&dir, Trigger::CommandExit),
            Err(SpawnDecision::AlreadyRunning)
        );
        SenderState::record_success(&dir, Utc::now()).unwrap();
        drop(lock);
        assert_eq!(
            reason(&dir, Trigger::CommandExit),
            Err(SpawnDecision::NotDue)
        );
        // a failure, then the back-off over: the next command tries again
        let failure = Failure {
            class: FailureClass::Network,
            status: None,
        };
        SenderState::record_failure(&dir, &failure, Utc::now()).unwrap();
        assert_eq!(
            reason(&dir, Trigger::CommandExit),
            Err(SpawnDecision::BackingOff)
        );
        let mut state = SenderState::read(&dir);
        state.next_attempt_at = Some("2000-01-01T00:00:00.000Z".into());
        std::fs::write(
            dir.sender_state_file(),
            serde_json::to_string(&state).unwrap(),
        )
        .unwrap();
        assert_eq!(
            reason(&dir, Trigger::CommandExit),
            Ok(StartReason::AfterFailure)
        );
        // the interval over (as if its time had passed): due whatever happened
        let state = SenderState::record_start(&dir, now - interval(), None).unwrap();
        assert_eq!(state.senders_started, 2);
        SenderState::record_success(&dir, Utc::now()).unwrap();
        assert_eq!(
            reason(&dir, Trigger::CommandExit),
            Ok(StartReason::IntervalOver)
        );
        // no temporary file is left behind
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert!(names.iter().all(|n| !n.contains(".tmp-")), "{names:?}");
    }

    #[cfg(unix)]
    #[test]
    fn a_directory_where_acknowledgements_cannot_be_recorded_gets_no_sender() {
        let home = tempfile::tempdir().unwrap();
        let dir = StateDir::new(home.path().join(".demo"), StateDirSource::Explicit);
        crate::fsutil::ensure_dir(dir.path()).unwrap();
        assert!(reason(&dir, Trigger::CommandExit).is_ok());
        if !rustix::process::geteuid().is_root() {
            eprintln!("skipped: needs root, to give the directory to another user");
            return;
        }
        // root in another user's directory (a read-only one is covered end to end)
        std::os::unix::fs::chown(dir.path(), Some(65534), None).unwrap();
        assert_eq!(
            reason(&dir, Trigger::CommandExit),
            Err(SpawnDecision::CannotRecord)
        );
    }
}

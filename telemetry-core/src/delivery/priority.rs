//! The sender's scheduling priority: background work, below the user's commands.
//!
//! `nice` alone is not enough on Linux. With the scheduler's autogroups
//! (`CONFIG_SCHED_AUTOGROUP`, on in most distributions' kernels), every session is a group of
//! its own, groups share the CPU equally, and a process's `nice` only counts against the
//! processes of its own group (`sched(7)`). The sender starts a session of its own (`setsid`),
//! so at `nice` 10 it still took half of a core from a busy command of the user's terminal.
//! Measured on a 2-core Linux 6.18 machine with autogroups on, two shell busy loops pinned to
//! one core, one of them in a session of its own at `nice` 10: 353,005 and 351,674 iterations
//! in 3 s; 96,015 against 905,779 once that session's group had `nice` 10 too. So the sender
//! sets both: its own `nice` and, where the kernel has them, its group's
//! (`/proc/self/autogroup`).

#[cfg(target_os = "linux")]
use std::io::Write;
#[cfg(target_os = "linux")]
use std::time::Duration;

use crate::limits::SENDER_NICENESS;

crate::diagnostics::error_event_fns!(debug debug_error);

/// How often the autogroup's value is tried: the kernel lets an unprivileged process set one
/// at most every 100 ms on the whole machine, and says `EAGAIN` in between.
#[cfg(target_os = "linux")]
const AUTOGROUP_ATTEMPTS: u32 = 3;
/// The wait before another attempt, a little over the kernel's 100 ms.
#[cfg(target_os = "linux")]
const AUTOGROUP_RETRY_AFTER: Duration = Duration::from_millis(110);

/// Lowers this process's priority to [`SENDER_NICENESS`], and its autogroup's where there is
/// one. Call it after `setsid`, which starts a new autogroup. Failures are traced, never
/// returned: the sender works at any priority.
pub(crate) fn lower() {
    if let Err(error) = rustix::process::setpriority_process(None, SENDER_NICENESS) {
        debug_error("telemetry sender priority not lowered", &error);
    }
    #[cfg(target_os = "linux")]
    lower_autogroup(std::path::Path::new("/proc/self/autogroup"));
}

/// Writes [`SENDER_NICENESS`] to `path`, an autogroup file; nothing when there is none (a
/// kernel without autogroups).
#[cfg(target_os = "linux")]
fn lower_autogroup(path: &std::path::Path) {
    let mut buffer = itoa::Buffer::new();
    let value = buffer.format(SENDER_NICENESS);
    let written = with_retries(|| {
        std::fs::OpenOptions::new()
            .write(true)
            .open(path)
            .and_then(|mut file| file.write_all(value.as_bytes()))
    });
    if let Err(error) = written
        && error.kind() != std::io::ErrorKind::NotFound
    {
        debug_error("telemetry sender's scheduling group not lowered", &error);
    }
}

/// `write`, tried again after [`AUTOGROUP_RETRY_AFTER`] while the kernel's rate limit refuses
/// it (`EAGAIN`), at most [`AUTOGROUP_ATTEMPTS`] times in all.
#[cfg(target_os = "linux")]
fn with_retries(mut write: impl FnMut() -> std::io::Result<()>) -> std::io::Result<()> {
    let mut attempt = 1;
    loop {
        match write() {
            Err(error)
                if error.kind() == std::io::ErrorKind::WouldBlock
                    && attempt < AUTOGROUP_ATTEMPTS =>
            {
                attempt += 1;
                std::thread::sleep(AUTOGROUP_RETRY_AFTER);
            }
            result => return result,
        }
    }
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;

    #[test]
    fn a_kernel_without_autogroups_is_left_alone() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("autogroup");
        lower_autogroup(&missing);
        assert!(!missing.exists(), "nothing is created");
    }

    #[test]
    fn the_value_written_is_the_senders_niceness() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("autogroup");
        std::fs::write(&file, "").unwrap();
        lower_autogroup(&file);
        assert_eq!(
            std::fs::read_to_string(&file).unwrap(),
            SENDER_NICENESS.to_string()
        );
    }

    #[test]
    fn a_refusal_by_the_rate_limit_is_tried_again_and_others_are_not() {
        let refused = || {
            Err(std::io::Error::from_raw_os_error(
                rustix::io::Errno::AGAIN.raw_os_error(),
            ))
        };
        let mut calls = 0;
        let result = with_retries(|| {
            calls += 1;
            if calls == 1 { refused() } else { Ok(()) }
        });
        assert!(result.is_ok());
        assert_eq!(calls, 2, "tried again once the limit had passed");

        let mut calls = 0;
        let result = with_retries(|| {
            calls += 1;
            refused()
        });
        assert_eq!(result.unwrap_err().kind(), std::io::ErrorKind::WouldBlock);
        assert_eq!(calls, AUTOGROUP_ATTEMPTS, "then given up");

        let mut calls = 0;
        let result = with_retries(|| {
            calls += 1;
            Err(std::io::Error::from(std::io::ErrorKind::PermissionDenied))
        });
        assert!(result.is_err());
        assert_eq!(calls, 1, "any other failure is final");
    }
}

//! The sender's scheduling priority: background work, below the user's commands.
//!
//! The sender runs at `nice` [`SENDER_NICENESS`] in the session of the command that started
//! it (in a process group of its own, see [`spawn`](super::spawn)). On Linux with the
//! scheduler's autogroups (`CONFIG_SCHED_AUTOGROUP`), every session is a group of its own,
//! groups share the CPU equally, and a process's `nice` counts against the processes of its
//! own group (`sched(7)`): in the terminal's session, that is the user's commands in that
//! terminal, which it yields to.
//!
//! It used to start a session of its own (`setsid`) and lower that session's autogroup to
//! `nice` 10 too (a session of its own at `nice` 10 otherwise took half a core from a busy
//! command of the user's terminal: 353,005 against 351,674 iterations of two busy loops in
//! 3 s, 96,015 against 905,779 with the group lowered). A `setsid` in the sender came too late
//! for a terminal closed as the command ended, whose hangup killed the sender first; a process
//! group set at the spawn closes that window, and a group leader cannot start a session. What
//! that costs: against another session's work (a build in another terminal) the sender's
//! session shares the CPU as any command of that terminal would, for the ~20 ms of CPU a
//! sender uses.

use crate::limits::SENDER_NICENESS;

crate::diagnostics::error_event_fns!(debug debug_error);

/// Lowers this process's priority to [`SENDER_NICENESS`]. A failure is traced, never
/// returned: the sender works at any priority.
pub(crate) fn lower() {
    if let Err(error) = rustix::process::setpriority_process(None, SENDER_NICENESS) {
        debug_error("telemetry sender priority not lowered", &error);
    }
}

//! The detached sender lets go of the descriptors it inherited beyond stdin, stdout and stderr.
//!
//! A descriptor the host itself inherited without close-on-exec is passed on to every program
//! it starts, the sender included: the pipe an MCP client reads the server's protocol from,
//! kept under another number while stdout is pointed elsewhere; a pipe a client hands over
//! (`pass_fds`, Node's `ipc`); `3>&1` in a shell. The sender would hold such a pipe open for
//! up to [`SENDER_DEADLINE`](crate::limits::SENDER_DEADLINE) after the host exits, and the
//! reader at its other end would wait that long for its end of file. So the sender closes them
//! first thing.
//!
//! Which ones: every descriptor above 2 **without** close-on-exec. std and rustix open every
//! descriptor with close-on-exec, so one without it in this fresh process crossed the `exec`
//! that started it: none of this process's own files is touched (its lock files, sockets,
//! the tokio runtime of an async `main`).
//!
//! This is the crate's only `unsafe` code: closing a descriptor by number is, and no safe API
//! (std's or rustix's) does it.

#![allow(unsafe_code)]

use std::os::fd::{BorrowedFd, RawFd};

use rustix::io::FdFlags;

/// The most descriptors looked at where the open ones cannot be listed.
const SCAN_LIMIT: u64 = 4096;

/// Closes every descriptor above 2 that is not close-on-exec (see the module documentation).
/// Returns how many were closed.
pub(crate) fn close_inherited_descriptors() -> usize {
    let mut closed = 0;
    for fd in open_descriptors() {
        // SAFETY: `fd` is open (listed by the kernel just now, and nothing in this process
        // closes descriptors it does not own); the borrow ends before it is closed.
        let borrowed = unsafe { BorrowedFd::borrow_raw(fd) };
        let inherited =
            rustix::io::fcntl_getfd(borrowed).is_ok_and(|flags| !flags.contains(FdFlags::CLOEXEC));
        if inherited {
            // SAFETY: a descriptor without close-on-exec was inherited across the `exec` that
            // started this process (std and rustix open every descriptor close-on-exec), so
            // no object of this process owns it and nothing will use or close it again.
            unsafe { rustix::io::close(fd) };
            closed += 1;
        }
    }
    closed
}

/// The open descriptors above 2: listed from `/proc/self/fd` (or `/dev/fd`), else every
/// number up to the process's limit (at most [`SCAN_LIMIT`]).
fn open_descriptors() -> Vec<RawFd> {
    for listing in ["/proc/self/fd", "/dev/fd"] {
        // (the listing's own descriptor is close-on-exec, and closed by the time they are used)
        if let Ok(entries) = std::fs::read_dir(listing) {
            // in no particular order: sorting them cost 4 KB of binary and changes nothing
            return entries
                .filter_map(|entry| entry.ok()?.file_name().to_str()?.parse().ok())
                .filter(|fd| *fd > 2)
                .collect();
        }
    }
    let limit = rustix::process::getrlimit(rustix::process::Resource::Nofile)
        .current
        .unwrap_or(SCAN_LIMIT)
        .min(SCAN_LIMIT);
    (3..limit as RawFd)
        .filter(|&fd| {
            // SAFETY: only asked about, never used; an unopened number fails with EBADF.
            rustix::io::fcntl_getfd(unsafe { BorrowedFd::borrow_raw(fd) }).is_ok()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The listing names this process's own files (which are close-on-exec, so kept).
    #[test]
    fn own_descriptors_are_listed_and_kept() {
        use std::os::fd::AsRawFd;

        let file = tempfile::tempfile().unwrap();
        let fd = file.as_raw_fd();
        assert!(open_descriptors().contains(&fd));
        let flags = rustix::io::fcntl_getfd(&file).unwrap();
        assert!(flags.contains(FdFlags::CLOEXEC), "std opens close-on-exec");
        // (closing the inherited ones is left to the end-to-end test, in a process of its
        // own: this test process's inherited descriptors belong to the harness)
    }
}

//! A sender started by a command's exit does its work only once that command's process has
//! exited, so that its TLS and HTTP work never competes with the command for a core. (Measured
//! on a quiet 2-core machine, the command paid for starting the sender, not for its work:
//! spawning `/bin/true` cost as much. The wait matters when the cores are busy.)
//!
//! The command gives the sender a pipe as its stdin and keeps the other end until its process
//! exits, however it ends (the end is close-on-exec and never written to); the sender waits
//! for end-of-file on its stdin, at most [`HOST_EXIT_WAIT`], before it does anything else. A
//! sender started by [background delivery](super::background) gets `/dev/null` (end-of-file
//! at once): a long-running host wants its records sent while it runs.

use std::time::Instant;

#[cfg(doc)]
use crate::limits::HOST_EXIT_WAIT;

/// Waits until every holder of the other end of this process's stdin has closed it (the host
/// has exited), or until `until`. Returns at once when stdin is at end-of-file (`/dev/null`)
/// or cannot be polled.
#[cfg(unix)]
pub(crate) fn wait_for_host(until: Instant) {
    wait_for_close(std::io::stdin(), until);
}

/// Off Unix the sender does not wait (its stdin is `/dev/null`).
#[cfg(not(unix))]
pub(crate) fn wait_for_host(_until: Instant) {}

/// Waits for end-of-file on `input` (bytes read are ignored), at most until `until`.
#[cfg(unix)]
fn wait_for_close(input: impl std::os::fd::AsFd, until: Instant) {
    use rustix::event::{PollFd, PollFlags, Timespec, poll};
    use rustix::io::Errno;

    let mut ignored = [0u8; 64];
    loop {
        let left = until.saturating_duration_since(Instant::now());
        let Ok(timeout) = Timespec::try_from(left) else {
            return;
        };
        let mut fds = [PollFd::new(&input, PollFlags::IN)];
        match poll(&mut fds, Some(&timeout)) {
            // the time is up: the host lives on after dropping its handle
            Ok(0) => return,
            Ok(_) => {}
            Err(Errno::INTR) => continue,
            Err(_) => return,
        }
        match rustix::io::read(&input, &mut ignored) {
            Ok(0) => return,
            Ok(_) | Err(Errno::INTR) => continue,
            Err(_) => return,
        }
    }
}

#[cfg(all(test, unix))]
mod tests {
    use std::io::Write;
    use std::time::Duration;

    use super::*;

    const LONG: Duration = Duration::from_secs(60);

    #[test]
    fn returns_once_the_other_end_is_closed() {
        let (reader, writer) = std::io::pipe().unwrap();
        let closer = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(50));
            drop(writer);
        });
        let started = Instant::now();
        wait_for_close(&reader, started + LONG);
        assert!(started.elapsed() >= Duration::from_millis(50), "not before");
        assert!(started.elapsed() < LONG, "not at the limit");
        closer.join().unwrap();
    }

    #[test]
    fn bytes_written_do_not_end_the_wait() {
        let (reader, mut writer) = std::io::pipe().unwrap();
        writer.write_all(&[7; 200]).unwrap();
        let started = Instant::now();
        wait_for_close(&reader, started + Duration::from_millis(100));
        assert!(
            started.elapsed() >= Duration::from_millis(100),
            "waited for the end, not for bytes"
        );
        drop(writer);
        // now at end-of-file: returns at once whatever the limit
        wait_for_close(&reader, Instant::now() + LONG);
    }

    #[test]
    fn gives_up_at_the_limit_while_the_host_lives_on() {
        let (reader, writer) = std::io::pipe().unwrap();
        let started = Instant::now();
        wait_for_close(&reader, started + Duration::from_millis(100));
        assert!(started.elapsed() >= Duration::from_millis(100));
        // a limit already past does not wait at all
        wait_for_close(&reader, started);
        drop(writer);
    }

    #[test]
    fn dev_null_is_at_end_of_file_at_once() {
        let null = std::fs::File::open("/dev/null").unwrap();
        wait_for_close(&null, Instant::now() + LONG);
    }
}

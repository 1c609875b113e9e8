//! An open file's size and whether it is still in a directory, asked for without its
//! timestamps: the check before every append to the queue.
//!
//! Why not `File::metadata`: since Linux 6.13 (multigrain timestamps), a `stat` that reads a
//! file's modification or change time marks the file, and its next write then takes a
//! fine-grained timestamp, an inode update that the coarse clock would have skipped. On ext4
//! that doubled the cost of the append's `write` of a queue line (0.79 → 1.53 µs, a third of
//! `track()`). A `statx` asking only for the size and the link count leaves writes on the
//! coarse clock. Elsewhere it is the full `metadata`: on another Unix, on Linux without `statx`
//! (before 4.11, or a sandbox that refuses it), and on Android, whose app sandbox on Android 10
//! and older kills a process that calls `statx` (SIGSYS) rather than refusing it; the standard
//! library does not call it there either.

use std::fs::File;
use std::io;

/// What [`size_and_link`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SizeAndLink {
    /// The file's size in bytes.
    pub len: u64,
    /// Whether it is still in a directory (not removed while open).
    pub linked: bool,
}

/// The size of the open `file` and whether it is still in a directory, without asking for
/// its timestamps where the platform allows.
pub fn size_and_link(file: &File) -> io::Result<SizeAndLink> {
    #[cfg(target_os = "linux")]
    if let Some(found) = narrow::statx(file) {
        return found;
    }
    let meta = file.metadata()?;
    Ok(SizeAndLink {
        len: meta.len(),
        linked: super::is_linked(&meta),
    })
}

/// The `statx` that asks for the size and the link count only.
#[cfg(target_os = "linux")]
mod narrow {
    use super::SizeAndLink;
    use rustix::fs::{AtFlags, StatxFlags};
    use rustix::io::Errno;
    use std::fs::File;
    use std::io;

    /// What is asked for.
    const WANTED: StatxFlags = StatxFlags::SIZE.union(StatxFlags::NLINK);

    /// `None`: ask the full `stat` instead.
    pub(super) fn statx(file: &File) -> Option<io::Result<SizeAndLink>> {
        let found = rustix::fs::statx(file, c"", AtFlags::EMPTY_PATH, WANTED)
            .map(|found| (found.stx_mask, found.stx_size, found.stx_nlink));
        let answer = read(found);
        #[cfg(test)]
        if matches!(answer, Some(Ok(_))) {
            tests::ANSWERED.with(|n| n.set(n.get() + 1));
        }
        answer
    }

    /// The `statx` result (its mask, size and link count) as an answer: `None` when it left out
    /// a field asked for, or `statx` is missing (ENOSYS; rustix reports a seccomp filter's EPERM
    /// of old Docker as that too, and remembers it: one failed call per process).
    pub(super) fn read(found: Result<(u32, u64, u32), Errno>) -> Option<io::Result<SizeAndLink>> {
        match found {
            Ok((mask, len, links)) if mask & WANTED.bits() == WANTED.bits() => {
                Some(Ok(SizeAndLink {
                    len,
                    linked: links > 0,
                }))
            }
            Ok(_) | Err(Errno::NOSYS | Errno::PERM) => None,
            Err(error) => Some(Err(error.into())),
        }
    }

    #[cfg(test)]
    pub(super) mod tests {
        use super::*;

        thread_local! {
            /// How many times this thread's `statx` answered (so a test can tell it was used).
            pub(in super::super) static ANSWERED: std::cell::Cell<u32> = const { std::cell::Cell::new(0) };
        }

        #[test]
        fn a_statx_without_a_field_asked_for_or_without_statx_falls_back() {
            let all = WANTED.bits();
            assert_eq!(
                read(Ok((all, 12, 1))).map(Result::unwrap),
                Some(SizeAndLink {
                    len: 12,
                    linked: true
                })
            );
            assert_eq!(
                read(Ok((all | StatxFlags::INO.bits(), 3, 0))).map(Result::unwrap),
                Some(SizeAndLink {
                    len: 3,
                    linked: false
                })
            );
            assert!(read(Ok((StatxFlags::SIZE.bits(), 12, 1))).is_none());
            assert!(read(Ok((StatxFlags::NLINK.bits(), 12, 1))).is_none());
            assert!(read(Err(Errno::NOSYS)).is_none());
            assert!(read(Err(Errno::PERM)).is_none());
            let error = read(Err(Errno::BADF)).unwrap().unwrap_err();
            assert_eq!(error.raw_os_error(), Some(Errno::BADF.raw_os_error()));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn the_size_and_link_agree_with_the_full_metadata() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("head");
        let mut file = File::create(&path).unwrap();
        file.write_all(b"twelve bytes").unwrap();
        let found = size_and_link(&file).unwrap();
        assert_eq!(
            found,
            SizeAndLink {
                len: 12,
                linked: true
            }
        );
        assert_eq!(found.len, file.metadata().unwrap().len());

        std::fs::remove_file(&path).unwrap();
        let removed = size_and_link(&file).unwrap();
        assert_eq!(removed.len, 12);
        assert_eq!(
            removed.linked,
            !cfg!(unix),
            "off Unix a removal is not seen"
        );

        // on Linux both answers came from the narrow `statx`, not the full `stat`
        #[cfg(target_os = "linux")]
        assert_eq!(narrow::tests::ANSWERED.with(std::cell::Cell::get), 2);
    }
}

//! An open file's size and whether it is still in a directory, asked for without its
//! timestamps: the check before every append to the queue.
//!
//! Why not `File::metadata`: since Linux 6.13 (multigrain timestamps), a `stat` that reads a
//! file's modification or change time marks the file, and its next write then takes a
//! fine-grained timestamp, an inode update that the coarse clock would have skipped. On ext4
//! that doubled the cost of the append's `write` of a queue line (0.79 → 1.53 µs, a third of
//! `track()`). A `statx` asking only for the size and the link count leaves writes on the
//! coarse clock. Elsewhere (another Unix, an old kernel or a sandbox without `statx`) it is the
//! full `metadata`.

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
    #[cfg(any(target_os = "linux", target_os = "android"))]
    {
        use rustix::fs::{AtFlags, StatxFlags, statx};
        let wanted = StatxFlags::SIZE | StatxFlags::NLINK;
        match statx(file, c"", AtFlags::EMPTY_PATH, wanted) {
            Ok(found) if found.stx_mask & wanted.bits() == wanted.bits() => {
                return Ok(SizeAndLink {
                    len: found.stx_size,
                    linked: found.stx_nlink > 0,
                });
            }
            // refused by a seccomp filter (old Docker: EPERM) or an old kernel (ENOSYS), or it
            // left out a field asked for: the full `stat` below
            Ok(_) | Err(rustix::io::Errno::NOSYS | rustix::io::Errno::PERM) => {}
            Err(error) => return Err(error.into()),
        }
    }
    let meta = file.metadata()?;
    Ok(SizeAndLink {
        len: meta.len(),
        linked: super::is_linked(&meta),
    })
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
    }
}

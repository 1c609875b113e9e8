//! What a file looks like from outside, to notice that another process changed it: its
//! modification time, length and inode, from one `stat`.

use std::path::Path;
use std::time::{Duration, SystemTime};

/// How far behind the precise clock a file's modification time can be (the kernel stamps it
/// from a coarse clock that advances once per tick, 1 to 10 ms).
const MTIME_SLACK: Duration = Duration::from_millis(20);

/// The same on a file system that keeps whole seconds (ext4 with 128-byte inodes, HFS+) or
/// even ones (FAT): the time is cut down to the second, up to two behind.
const WHOLE_SECOND_MTIME_SLACK: Duration = Duration::from_millis(2_000 + 20);

/// How far behind the precise clock the modification time `modified` can be: a time on a
/// whole second was cut to it (on a file system that keeps nanoseconds, one in a billion lands
/// there by chance; callers err on the side of "changed").
fn mtime_slack(modified: SystemTime) -> Duration {
    let on_a_second = modified
        .duration_since(SystemTime::UNIX_EPOCH)
        .is_ok_and(|since| since.subsec_nanos() == 0);
    if on_a_second {
        WHOLE_SECOND_MTIME_SLACK
    } else {
        MTIME_SLACK
    }
}

/// Whether a file whose modification time reads `modified` may have been written at or after
/// `at` (the precise clock's time), allowing for how far behind `modified` can be.
pub fn modified_since(modified: SystemTime, at: SystemTime) -> bool {
    modified + mtime_slack(modified) >= at
}

/// A file's stamp; `None` in [`Stamp::of`] when it does not exist (or cannot be `stat`ed).
/// Files telemetry rewrites are replaced by a rename, so the inode changes even where the
/// modification time keeps whole seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stamp {
    modified: Option<SystemTime>,
    len: u64,
    inode: u64,
}

impl Stamp {
    /// The stamp of the file at `path`, following no link.
    pub fn of(path: &Path) -> Option<Self> {
        let meta = std::fs::symlink_metadata(path).ok()?;
        #[cfg(unix)]
        let inode = std::os::unix::fs::MetadataExt::ino(&meta);
        #[cfg(not(unix))]
        let inode = 0;
        Some(Self {
            modified: meta.modified().ok(),
            len: meta.len(),
            inode,
        })
    }

    /// Whether the file may have been written at or after `at` (allowing for how far behind
    /// its modification time can be); an unknown time counts as after.
    pub fn written_since(&self, at: SystemTime) -> bool {
        self.modified
            .is_none_or(|modified| modified_since(modified, at))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rewrite_changes_the_stamp_and_a_read_does_not() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("telemetry.toml");
        assert_eq!(Stamp::of(&path), None);
        std::fs::write(&path, "enabled = true\n").unwrap();
        let first = Stamp::of(&path).unwrap();
        let _ = std::fs::read(&path).unwrap();
        assert_eq!(Stamp::of(&path), Some(first));
        // replaced by a rename, as telemetry writes, with the same length and time
        let temp = dir.path().join("t.tmp");
        std::fs::write(&temp, "enabled = fals\n").unwrap();
        std::fs::File::options()
            .write(true)
            .open(&temp)
            .unwrap()
            .set_modified(first.modified.unwrap())
            .unwrap();
        std::fs::rename(&temp, &path).unwrap();
        assert_ne!(Stamp::of(&path), Some(first), "a new inode");
    }

    #[test]
    fn written_since_allows_for_coarse_and_whole_second_times() {
        let at = SystemTime::UNIX_EPOCH + Duration::from_millis(1_700_000_000_500);
        let stamp = |modified| Stamp {
            modified: Some(modified),
            len: 0,
            inode: 0,
        };
        assert!(stamp(at).written_since(at));
        assert!(
            stamp(at - Duration::from_millis(10)).written_since(at),
            "a tick behind"
        );
        assert!(!stamp(at - Duration::from_millis(100)).written_since(at));
        // cut down to the second before
        let cut = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        assert!(stamp(cut).written_since(at));
        assert!(!stamp(cut - Duration::from_secs(3)).written_since(at));
        let unknown = Stamp {
            modified: None,
            len: 0,
            inode: 0,
        };
        assert!(unknown.written_since(at));
    }
}

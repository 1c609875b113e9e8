//! The only code that touches files in the state directory.
//!
//! Every file is opened without following symbolic links and refused unless it is a regular
//! file, small files are read with a size cap, every rewrite goes through a temporary file that
//! is fsynced and renamed over the old one, and every update holds the directory's lock file
//! (shared to read, exclusive to write). Files are created with mode 0600, the directory with
//! mode 0700. Nothing outside the state directory is ever created, changed or removed.

mod lock;

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

pub use lock::{LOCK_WAIT, LockMode, StateLock};

/// The largest small state file (identity, consent, counters) that is read; anything larger is
/// not one of ours.
pub const MAX_SMALL_FILE_BYTES: u64 = 64 * 1024;

/// What went wrong with a file in the state directory, in words a user can act on.
#[derive(Debug, thiserror::Error)]
pub enum StateError {
    /// A symbolic link where a file should be.
    #[error("{} is a symbolic link; telemetry never follows links in its directory", path.display())]
    Symlink {
        /// The link.
        path: PathBuf,
    },
    /// Something other than a regular file (a directory, a FIFO, a device).
    #[error("{} is not a regular file (it is {kind})", path.display())]
    NotAFile {
        /// The path.
        path: PathBuf,
        /// What it is instead.
        kind: &'static str,
    },
    /// The state directory's path exists and is not a directory.
    #[error("{} is not a directory", path.display())]
    NotADirectory {
        /// The path.
        path: PathBuf,
    },
    /// A file larger than any file telemetry writes.
    #[error("{} is {size} bytes, more than the {limit} bytes telemetry ever writes there", path.display())]
    TooLarge {
        /// The file.
        path: PathBuf,
        /// Its size.
        size: u64,
        /// The cap.
        limit: u64,
    },
    /// A file whose content cannot be understood.
    #[error("{} is damaged: {detail}", path.display())]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        detail: String,
    },
    /// An operating-system error.
    #[error("could not {action} {}: {source}", path.display())]
    Io {
        /// What was being done (`read`, `create`, ...).
        action: &'static str,
        /// The path.
        path: PathBuf,
        /// The error.
        #[source]
        source: io::Error,
    },
    /// Another process held the lock for longer than [`LOCK_WAIT`].
    #[error("{} stayed locked by another process for more than {} seconds", path.display(), LOCK_WAIT.as_secs())]
    LockTimeout {
        /// The lock file.
        path: PathBuf,
    },
}

impl StateError {
    /// One sentence telling a user how to fix it.
    pub fn fix_hint(&self) -> String {
        match self {
            StateError::Symlink { path } => format!(
                "remove the link (`rm '{}'`); it will be recreated as a regular file when needed",
                path.display()
            ),
            StateError::NotAFile { path, .. } => format!(
                "move or remove `{}`; it will be recreated as a regular file when needed",
                path.display()
            ),
            StateError::NotADirectory { path } => format!(
                "move or remove `{}`, or point the telemetry directory elsewhere",
                path.display()
            ),
            StateError::TooLarge { path, .. } | StateError::Corrupt { path, .. } => format!(
                "remove `{}` (or run the `telemetry clear` command); it will be recreated when needed",
                path.display()
            ),
            StateError::Io { path, source, .. } => match source.kind() {
                io::ErrorKind::PermissionDenied | io::ErrorKind::ReadOnlyFilesystem => format!(
                    "make `{}` writable by your user, or point the telemetry directory elsewhere",
                    path.display()
                ),
                _ => format!("check `{}` and its directory", path.display()),
            },
            StateError::LockTimeout { path } => format!(
                "another process is holding `{}`; try again when it has finished",
                path.display()
            ),
        }
    }

    pub(crate) fn io(action: &'static str, path: &Path, source: io::Error) -> Self {
        StateError::Io {
            action,
            path: path.to_path_buf(),
            source,
        }
    }
}

fn kind_of(file_type: &fs::FileType) -> &'static str {
    if file_type.is_dir() {
        return "a directory";
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if file_type.is_fifo() {
            return "a FIFO";
        }
        if file_type.is_socket() {
            return "a socket";
        }
        if file_type.is_block_device() || file_type.is_char_device() {
            return "a device";
        }
    }
    "not a regular file"
}

/// Checks what is at `path` without following a link: `Ok(false)` when nothing is there,
/// `Ok(true)` for a regular file, an error for anything else.
pub fn check_regular(path: &Path) -> Result<bool, StateError> {
    match fs::symlink_metadata(path) {
        Ok(meta) if meta.file_type().is_symlink() => Err(StateError::Symlink {
            path: path.to_path_buf(),
        }),
        Ok(meta) if meta.is_file() => Ok(true),
        Ok(meta) => Err(StateError::NotAFile {
            path: path.to_path_buf(),
            kind: kind_of(&meta.file_type()),
        }),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
        Err(e) if e.kind() == io::ErrorKind::NotADirectory => Ok(false),
        Err(e) => Err(StateError::io("inspect", path, e)),
    }
}

/// Options that never follow a final symbolic link and never block on a FIFO.
fn no_follow(options: &mut OpenOptions) -> &mut OpenOptions {
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK);
    }
    options
}

fn private_mode(options: &mut OpenOptions) -> &mut OpenOptions {
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options
}

/// Opens `path` for reading if it is a regular file; `Ok(None)` when nothing is there.
pub fn open_regular(path: &Path) -> Result<Option<File>, StateError> {
    if !check_regular(path)? {
        return Ok(None);
    }
    let file = match no_follow(OpenOptions::new().read(true)).open(path) {
        Ok(file) => file,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(open_error(path, e)),
    };
    verify_regular(path, &file)?;
    Ok(Some(file))
}

/// The error of a no-follow open: `ELOOP` means the path became a link.
fn open_error(path: &Path, e: io::Error) -> StateError {
    #[cfg(unix)]
    if e.raw_os_error() == Some(libc::ELOOP) {
        return StateError::Symlink {
            path: path.to_path_buf(),
        };
    }
    StateError::io("open", path, e)
}

fn verify_regular(path: &Path, file: &File) -> Result<(), StateError> {
    let meta = file
        .metadata()
        .map_err(|e| StateError::io("inspect", path, e))?;
    if !meta.is_file() {
        return Err(StateError::NotAFile {
            path: path.to_path_buf(),
            kind: kind_of(&meta.file_type()),
        });
    }
    Ok(())
}

/// Reads a whole file of at most `limit` bytes; `Ok(None)` when nothing is there.
pub fn read_capped(path: &Path, limit: u64) -> Result<Option<Vec<u8>>, StateError> {
    let Some(file) = open_regular(path)? else {
        return Ok(None);
    };
    let size = file
        .metadata()
        .map_err(|e| StateError::io("inspect", path, e))?
        .len();
    if size > limit {
        return Err(StateError::TooLarge {
            path: path.to_path_buf(),
            size,
            limit,
        });
    }
    let mut bytes = Vec::with_capacity(usize::try_from(size).unwrap_or(0));
    file.take(limit + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| StateError::io("read", path, e))?;
    if bytes.len() as u64 > limit {
        return Err(StateError::TooLarge {
            path: path.to_path_buf(),
            size: bytes.len() as u64,
            limit,
        });
    }
    Ok(Some(bytes))
}

/// Reads a small text file (at most [`MAX_SMALL_FILE_BYTES`]); `Ok(None)` when nothing is there.
pub fn read_small_text(path: &Path) -> Result<Option<String>, StateError> {
    let Some(bytes) = read_capped(path, MAX_SMALL_FILE_BYTES)? else {
        return Ok(None);
    };
    String::from_utf8(bytes)
        .map(Some)
        .map_err(|_| StateError::Corrupt {
            path: path.to_path_buf(),
            detail: "it is not UTF-8 text".to_string(),
        })
}

/// Makes sure the state directory exists, creating it (mode 0700) if needed. Only the last
/// component is ever created: a missing parent (a missing home) is an error, not something to
/// build.
pub fn ensure_dir(dir: &Path) -> Result<(), StateError> {
    match fs::metadata(dir) {
        Ok(meta) if meta.is_dir() => return Ok(()),
        Ok(_) => {
            return Err(StateError::NotADirectory {
                path: dir.to_path_buf(),
            });
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(e) => return Err(StateError::io("inspect", dir, e)),
    }
    let mut builder = fs::DirBuilder::new();
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    match builder.create(dir) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => match fs::metadata(dir) {
            Ok(meta) if meta.is_dir() => Ok(()),
            _ => Err(StateError::NotADirectory {
                path: dir.to_path_buf(),
            }),
        },
        Err(e) => Err(StateError::io("create", dir, e)),
    }
}

/// Replaces `path` with `bytes` atomically: a temporary file in the same directory (mode 0600)
/// is written, fsynced and renamed over it, then the directory is fsynced. Readers see the old
/// content or the new, never a mix. A symbolic link at `path` is replaced, never written
/// through. The caller holds the exclusive lock.
///
/// Written here rather than with `tempfile::NamedTempFile::persist`, which would do the same
/// create-exclusive-0600-then-rename: that crate is not otherwise in a host's build, and the
/// parts that matter (no-follow, fsync of file and directory, cleanup of a crashed writer's
/// temporary files by name) would stay ours.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), StateError> {
    if let Ok(meta) = fs::symlink_metadata(path)
        && meta.is_dir()
    {
        return Err(StateError::NotAFile {
            path: path.to_path_buf(),
            kind: "a directory",
        });
    }
    let dir = path.parent().unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let temp = dir.join(format!(
        ".{name}.tmp-{}-{}",
        std::process::id(),
        uuid::Uuid::new_v4().simple()
    ));
    let result = (|| {
        let mut file = private_mode(no_follow(OpenOptions::new().write(true).create_new(true)))
            .open(&temp)
            .map_err(|e| StateError::io("create", &temp, e))?;
        file.write_all(bytes)
            .map_err(|e| StateError::io("write", &temp, e))?;
        file.sync_all()
            .map_err(|e| StateError::io("sync", &temp, e))?;
        fs::rename(&temp, path).map_err(|e| StateError::io("replace", path, e))
    })();
    if result.is_err() {
        let _ = fs::remove_file(&temp);
    }
    result?;
    sync_dir(dir);
    Ok(())
}

/// Fsyncs a directory so a rename in it survives a crash (best effort).
pub fn sync_dir(dir: &Path) {
    #[cfg(unix)]
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
    #[cfg(not(unix))]
    let _ = dir;
}

/// Opens `path` for appending (created with mode 0600 if missing), refusing links and anything
/// but a regular file.
pub fn open_append(path: &Path) -> Result<File, StateError> {
    check_regular(path)?;
    let file = private_mode(no_follow(
        OpenOptions::new().read(true).append(true).create(true),
    ))
    .open(path)
    .map_err(|e| open_error(path, e))?;
    verify_regular(path, &file)?;
    Ok(file)
}

/// Creates an empty file (mode 0600) if nothing is at `path`; returns whether it created it.
pub fn create_marker(path: &Path) -> Result<bool, StateError> {
    if check_regular(path)? {
        return Ok(false);
    }
    match private_mode(no_follow(OpenOptions::new().write(true).create_new(true))).open(path) {
        Ok(_) => Ok(true),
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Ok(false),
        Err(e) => Err(StateError::io("create", path, e)),
    }
}

/// Removes the file (or symbolic link) at `path`; returns whether something was removed. A
/// directory is refused, never removed recursively.
pub fn remove_file(path: &Path) -> Result<bool, StateError> {
    match fs::symlink_metadata(path) {
        Ok(meta) if meta.is_dir() => Err(StateError::NotAFile {
            path: path.to_path_buf(),
            kind: "a directory",
        }),
        Ok(_) => match fs::remove_file(path) {
            Ok(()) => Ok(true),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
            Err(e) => Err(StateError::io("remove", path, e)),
        },
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(StateError::io("inspect", path, e)),
    }
}

/// Removes temporary files a crashed writer left behind (`.<name>.tmp-*`), best effort.
pub fn remove_stale_temps(dir: &Path) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name.starts_with(".telemetry") && name.contains(".tmp-") {
            let _ = fs::remove_file(entry.path());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atomic_write_creates_private_file_and_replaces_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("telemetry-x.json");
        write_atomic(&path, b"one").unwrap();
        write_atomic(&path, b"two").unwrap();
        assert_eq!(read_small_text(&path).unwrap().unwrap(), "two");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(&path).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600);
        }
        // no temporary file left behind
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn reads_refuse_links_dirs_and_big_files() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("target");
        fs::write(&target, "secret").unwrap();
        #[cfg(unix)]
        {
            let link = dir.path().join("link");
            std::os::unix::fs::symlink(&target, &link).unwrap();
            assert!(matches!(
                read_small_text(&link),
                Err(StateError::Symlink { .. })
            ));
            assert!(matches!(
                open_append(&link),
                Err(StateError::Symlink { .. })
            ));
            // replacing a link replaces the link, not its target
            write_atomic(&link, b"new").unwrap();
            assert_eq!(fs::read_to_string(&target).unwrap(), "secret");
            assert_eq!(fs::read_to_string(&link).unwrap(), "new");
        }
        let sub = dir.path().join("sub");
        fs::create_dir(&sub).unwrap();
        assert!(matches!(
            read_small_text(&sub),
            Err(StateError::NotAFile { .. })
        ));
        assert!(matches!(
            remove_file(&sub),
            Err(StateError::NotAFile { .. })
        ));
        let big = dir.path().join("big");
        fs::write(&big, vec![b'x'; 100]).unwrap();
        assert!(matches!(
            read_capped(&big, 10),
            Err(StateError::TooLarge { .. })
        ));
        assert_eq!(read_small_text(&dir.path().join("none")).unwrap(), None);
    }

    #[test]
    fn ensure_dir_creates_only_the_last_component() {
        let dir = tempfile::tempdir().unwrap();
        let app = dir.path().join(".demo");
        ensure_dir(&app).unwrap();
        ensure_dir(&app).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(&app).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o700);
        }
        assert!(ensure_dir(&dir.path().join("missing/.demo")).is_err());
        let file = dir.path().join("file");
        fs::write(&file, "").unwrap();
        assert!(matches!(
            ensure_dir(&file),
            Err(StateError::NotADirectory { .. })
        ));
    }
}

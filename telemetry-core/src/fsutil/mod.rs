//! The only code that touches files in the state directory.
//!
//! Every file is opened without following symbolic links and refused unless it is a regular
//! file, small files are read with a size cap, every rewrite goes through a temporary file that
//! is fsynced and renamed over the old one, and every update holds the directory's lock file
//! (exclusive), except the two a host makes without it when another process holds it: a
//! segment beside the queue's head ([`create_held`]) and a first identity
//! ([`TempFile::commit_new`]). Files are created with mode 0600, the directory with
//! mode 0700, set explicitly rather than left to the umask; a directory or file that already
//! exists (the host may have created `~/.<app>` for its own files first, with its umask) loses
//! its group and other bits when telemetry writes there, if it belongs to the current user. Nothing outside
//! the state directory is ever created, changed or removed.

mod lock;
mod size_and_link;
mod stamp;

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

pub use lock::{LOCK_WAIT, LockFile, LockMode, StateLock};
pub(crate) use lock::{is_held_by_another, refuse_unlocked_write};
pub use size_and_link::size_and_link;
pub use stamp::{Stamp, modified_since};
// `TempFile` is named by `write_temp`'s callers only through inference.

/// The largest small state file (identity, consent, counters) that is read; anything larger is
/// not one of ours.
pub const MAX_SMALL_FILE_BYTES: u64 = 64 * 1024;

/// What went wrong with a file in the state directory, in words a user can act on.
// `repr(C)`: a tag of its own rather than one hidden in a niche of a field, so the code that
// matches and drops one (compiled into every module that handles one) is simpler: measured
// 1.6 KB less in a host.
#[derive(Debug, thiserror::Error)]
#[repr(C)]
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
    /// Another process held the lock for longer than this one would wait.
    // as u64: formatting a u128 links 1.6 KB of code for a wait of at most seconds
    #[error("{} stayed locked by another process for more than {} ms", path.display(), waited.as_millis() as u64)]
    LockTimeout {
        /// The lock file.
        path: PathBuf,
        /// How long this process waited for it.
        waited: std::time::Duration,
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
            StateError::Io { path, source, .. } => io_fix(path, source.kind()),
            StateError::LockTimeout { path, .. } => format!(
                "another process is holding `{}` (a command stopped with Ctrl-Z, or paused in a debugger, holds it until it goes on or ends); try again when it has finished",
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

/// How to fix an operating-system error on `path`.
fn io_fix(path: &Path, kind: io::ErrorKind) -> String {
    let shown = path.display();
    match kind {
        io::ErrorKind::PermissionDenied => permission_fix(path),
        io::ErrorKind::ReadOnlyFilesystem => format!(
            "`{shown}` is on a read-only file system: point the telemetry directory elsewhere"
        ),
        io::ErrorKind::StorageFull | io::ErrorKind::QuotaExceeded => format!(
            "free some space on the disk that holds `{shown}` (or point the telemetry directory elsewhere)"
        ),
        io::ErrorKind::NotADirectory => format!(
            "a part of `{shown}` is a file, not a directory: check HOME, or point the telemetry directory elsewhere"
        ),
        io::ErrorKind::NotFound => format!(
            "`{shown}` cannot be made there: check HOME, or point the telemetry directory elsewhere"
        ),
        _ => format!("check `{shown}` and its directory"),
    }
}

/// How to fix a permission error on `path`: `chown` when another user owns it (a run with
/// `sudo`), `chmod` when it is the user's own, the parent when nothing is there yet.
fn permission_fix(path: &Path) -> String {
    let shown = path.display();
    let Ok(meta) = fs::symlink_metadata(path) else {
        let parent = path.parent().unwrap_or(path).display();
        return format!(
            "make `{parent}` writable by your user, or point the telemetry directory elsewhere"
        );
    };
    if let Some(owner) = foreign_owner(&meta) {
        // As root, `chown $(id -u)` would hand the file to root: the very problem.
        if running_as_root() {
            return format!(
                "`{shown}` belongs to uid {owner}: run the command as that user, without sudo"
            );
        }
        return format!(
            "`{shown}` belongs to uid {owner} (perhaps left by a command run with sudo): run `sudo chown $(id -u):$(id -g) '{shown}'`, or remove it"
        );
    }
    let mode = if meta.is_dir() { "u+rwx" } else { "u+rw" };
    format!("run `chmod {mode} '{shown}'`, or point the telemetry directory elsewhere")
}

/// Whether this process runs as root (Unix only).
pub(crate) fn running_as_root() -> bool {
    #[cfg(unix)]
    {
        rustix::process::geteuid().is_root()
    }
    #[cfg(not(unix))]
    {
        false
    }
}

/// The owner of `meta` when it is not the current user (Unix only).
fn foreign_owner(meta: &fs::Metadata) -> Option<u32> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        let me = rustix::process::geteuid().as_raw();
        (meta.uid() != me).then_some(meta.uid())
    }
    #[cfg(not(unix))]
    {
        let _ = meta;
        None
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

/// Sets the modification time of the file at `path` to `ago` before now: in tests, a file
/// written on an earlier run rather than a moment ago.
#[cfg(test)]
pub fn written_ago(path: &Path, ago: std::time::Duration) {
    let file = fs::File::options().write(true).open(path).unwrap();
    file.set_modified(std::time::SystemTime::now() - ago)
        .unwrap();
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
    open_existing(path, false)
}

/// [`open_regular`] (`write` false) or [`open_in_place`] (`write` true): one body for both.
fn open_existing(path: &Path, write: bool) -> Result<Option<File>, StateError> {
    if !check_regular(path)? {
        return Ok(None);
    }
    let file = match no_follow(OpenOptions::new().read(true).write(write)).open(path) {
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

/// A directory builder that creates directories readable only by their owner, where the
/// platform has modes (elsewhere the home directory's inherited permissions apply).
fn private_dir_builder() -> fs::DirBuilder {
    #[cfg_attr(not(unix), allow(unused_mut))]
    let mut builder = fs::DirBuilder::new();
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder
}

/// Makes sure the state directory exists, creating it (mode 0700) if needed, and takes the
/// group and other bits off an existing one that is the current user's (the host may have made
/// it first, with its own umask: 0755 becomes 0700). Only the last component is ever created: a missing parent (a missing home) is
/// an error, not something to build.
pub fn ensure_dir(dir: &Path) -> Result<(), StateError> {
    match fs::metadata(dir) {
        Ok(meta) if meta.is_dir() => return tighten_dir(dir, &meta, false),
        Ok(_) => {
            return Err(StateError::NotADirectory {
                path: dir.to_path_buf(),
            });
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(e) => return Err(StateError::io("inspect", dir, e)),
    }
    let builder = private_dir_builder();
    match builder.create(dir) {
        Ok(()) => match fs::metadata(dir) {
            // the umask may have taken bits away: set the mode itself
            Ok(meta) => tighten_dir(dir, &meta, true),
            Err(e) => Err(StateError::io("inspect", dir, e)),
        },
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => match fs::metadata(dir) {
            Ok(meta) if meta.is_dir() => tighten_dir(dir, &meta, false),
            _ => Err(StateError::NotADirectory {
                path: dir.to_path_buf(),
            }),
        },
        Err(e) => Err(StateError::io("create", dir, e)),
    }
}

/// The mode to give what is at a path with metadata `meta`, when it must change: `exact` when
/// telemetry just created it (the umask may have taken bits away), otherwise the mode without
/// its group and other bits (never adding one: a directory the user made read-only stays so).
/// `None` when it is already right or belongs to another user (root running with a user's
/// HOME leaves the user's modes alone).
#[cfg(unix)]
fn private_mode_for(meta: &fs::Metadata, created: bool, exact: u32) -> Option<u32> {
    use std::os::unix::fs::PermissionsExt;
    let mode = meta.permissions().mode() & 0o7777;
    let wanted = if created { exact } else { mode & !0o077 };
    (mode != wanted && foreign_owner(meta).is_none()).then_some(wanted)
}

/// Makes the state directory private: exactly 0700 when just `created`, else without group
/// and other bits.
fn tighten_dir(dir: &Path, meta: &fs::Metadata, created: bool) -> Result<(), StateError> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let Some(mode) = private_mode_for(meta, created, 0o700) else {
            return Ok(());
        };
        fs::set_permissions(dir, fs::Permissions::from_mode(mode))
            .map_err(|e| StateError::io("set the mode of", dir, e))
    }
    #[cfg(not(unix))]
    {
        let _ = (dir, meta, created);
        Ok(())
    }
}

/// Makes a file telemetry opened to write private: exactly 0600 when it just `created` it,
/// else without group and other bits. Through the open file, so never through a link.
fn make_private(path: &Path, file: &File, created: bool) -> Result<(), StateError> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let meta = file
            .metadata()
            .map_err(|e| StateError::io("inspect", path, e))?;
        let Some(mode) = private_mode_for(&meta, created, 0o600) else {
            return Ok(());
        };
        file.set_permissions(fs::Permissions::from_mode(mode))
            .map_err(|e| StateError::io("set the mode of", path, e))
    }
    #[cfg(not(unix))]
    {
        let _ = (path, file, created);
        Ok(())
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
    replace(path, bytes, true)
}

/// [`write_atomic`] without the `fsync`s: readers still see the old content or the new, but a
/// crash may lose the change. For what a lock is held for while hosts wait (the queue's
/// counters and recently-sent log), where losing the last change costs a counter or an
/// `inspect` line, never an event.
pub fn write_atomic_unsynced(path: &Path, bytes: &[u8]) -> Result<(), StateError> {
    replace(path, bytes, false)
}

/// The largest file [`overwrite_unsynced`] writes over in place: one page, so the write is
/// one copy into one page of the cache.
pub const IN_PLACE_MAX_BYTES: u64 = 4096;

/// Overwrites the regular file at `path` in place with `bytes`, padded with spaces to the old
/// length (so nothing of the old content is left after it, and no truncation is needed); for
/// JSON, which reads the padding as whitespace. Creates it (mode 0600) and writes it there
/// when nothing is at `path`; replaces it with [`write_atomic_unsynced`] instead when it
/// cannot be opened for writing, or is bigger than [`IN_PLACE_MAX_BYTES`] (a damaged or
/// hand-grown file is not padded to its size), or is something else than a file (a link is
/// replaced, never written through).
///
/// For a small file rewritten on a host's path: on ext4, a `rename` over a file that holds
/// data costs ~0.2 ms (the filesystem allocates and starts writing the new file's blocks at
/// once), a write in place ~10 µs. The price: a crash during the write, or a reader without
/// the lock in the microsecond the write takes, may see a mix of old and new, which reads as
/// damaged, so only for files whose loss costs nothing but a decision made once more. The
/// same holds for its creation, which is written in place too: a temporary file renamed into
/// place cost a program's first run 40–130 µs more on ext4.
pub fn overwrite_unsynced(path: &Path, bytes: &[u8]) -> Result<(), StateError> {
    let mut file = match no_follow(OpenOptions::new().write(true)).open(path) {
        Ok(file) => file,
        Err(error) if error.kind() == io::ErrorKind::NotFound => {
            return create_unsynced(path, bytes);
        }
        Err(_) => return write_atomic_unsynced(path, bytes),
    };
    let old_len = match file.metadata() {
        Ok(meta) if meta.is_file() && meta.len() <= IN_PLACE_MAX_BYTES => meta.len(),
        _ => return write_atomic_unsynced(path, bytes),
    };
    // as the rename would leave it: without group and other bits
    make_private(path, &file, false)?;
    let mut padded = bytes.to_vec();
    let len = usize::try_from(old_len)
        .unwrap_or(usize::MAX)
        .max(bytes.len());
    padded.resize(len, b' ');
    file.write_all(&padded)
        .map_err(|e| StateError::io("write", path, e))
}

/// [`overwrite_unsynced`] where nothing is at `path`: created (mode 0600) and written. Replaced
/// as [`write_atomic_unsynced`] does if something appeared there meanwhile.
fn create_unsynced(path: &Path, bytes: &[u8]) -> Result<(), StateError> {
    match private_mode(no_follow(OpenOptions::new().write(true).create_new(true))).open(path) {
        Ok(mut file) => {
            make_private(path, &file, true)?;
            file.write_all(bytes)
                .map_err(|e| StateError::io("write", path, e))
        }
        Err(error) if error.kind() == io::ErrorKind::AlreadyExists => {
            write_atomic_unsynced(path, bytes)
        }
        Err(error) => Err(StateError::io("create", path, error)),
    }
}

fn replace(path: &Path, bytes: &[u8], sync: bool) -> Result<(), StateError> {
    let temp = write_temp(path, bytes, sync)?;
    temp.commit()?;
    if sync {
        sync_dir(path.parent().unwrap_or(Path::new(".")));
    }
    Ok(())
}

/// A temporary file written next to the file it will replace, so that replacing is one
/// `rename`; removed when dropped uncommitted.
#[derive(Debug)]
pub struct TempFile {
    temp: PathBuf,
    target: PathBuf,
    committed: bool,
}

impl TempFile {
    /// A new temporary file (mode 0600) next to `path`, opened with `options` (which say how
    /// it is written): its name starts with a dot and holds `.tmp-`, so a crash leaves nothing
    /// [`remove_stale_temps`] would not remove.
    fn create(path: &Path, options: &mut OpenOptions) -> Result<(Self, File), StateError> {
        let dir = path.parent().unwrap_or(Path::new("."));
        let name = path.file_name().unwrap_or_default().to_string_lossy();
        let temp = TempFile {
            temp: dir.join(format!(
                ".{name}.tmp-{}-{}",
                std::process::id(),
                uuid::Uuid::new_v4().simple()
            )),
            target: path.to_path_buf(),
            committed: false,
        };
        let file = private_mode(no_follow(options.create_new(true)))
            .open(&temp.temp)
            .map_err(|e| StateError::io("create", &temp.temp, e))?;
        make_private(&temp.temp, &file, true)?;
        Ok((temp, file))
    }

    /// Renames it over its target (never through a link at the target).
    pub fn commit(mut self) -> Result<(), StateError> {
        self.committed = true;
        fs::rename(&self.temp, &self.target).map_err(|e| {
            let _ = fs::remove_file(&self.temp);
            StateError::io("replace", &self.target, e)
        })
    }

    /// Puts it at its target only if nothing is there (a hard link, then the temporary name
    /// removed): `Ok(false)`, and nothing changed, when something is. Whoever links first wins,
    /// without a lock; what they linked is whole, since it was written before.
    pub fn commit_new(self) -> Result<bool, StateError> {
        // dropping `self` removes the temporary name whatever the outcome
        match fs::hard_link(&self.temp, &self.target) {
            Ok(()) => Ok(true),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Ok(false),
            Err(e) => Err(StateError::io("create", &self.target, e)),
        }
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        if !self.committed {
            let _ = fs::remove_file(&self.temp);
        }
    }
}

/// Writes `bytes` to a new temporary file (mode 0600) next to `path`, fsynced if `sync`, to
/// replace `path` later with [`TempFile::commit`].
pub fn write_temp(path: &Path, bytes: &[u8], sync: bool) -> Result<TempFile, StateError> {
    if let Ok(meta) = fs::symlink_metadata(path)
        && meta.is_dir()
    {
        return Err(StateError::NotAFile {
            path: path.to_path_buf(),
            kind: "a directory",
        });
    }
    let (temp, mut file) = TempFile::create(path, OpenOptions::new().write(true))?;
    file.write_all(bytes)
        .map_err(|e| StateError::io("write", &temp.temp, e))?;
    if sync {
        file.sync_all()
            .map_err(|e| StateError::io("sync", &temp.temp, e))?;
    }
    Ok(temp)
}

/// Creates the file `path` holding `bytes` and returns it open to append to, with an
/// exclusive lock on it taken before it appeared: it is written whole under a temporary name
/// (mode 0600) and renamed into place, so a reader never sees less than `bytes`, and whoever
/// would remove it can tell ([`is_held_by_another`]) that its writer is still at it. Not
/// synced. For a segment a host writes beside the queue's head while another holds the
/// directory's lock.
pub fn create_held(path: &Path, bytes: &[u8]) -> Result<File, StateError> {
    let (temp, mut file) = TempFile::create(path, OpenOptions::new().read(true).append(true))?;
    // a file nobody else has opened yet: the lock is there to be taken
    if !lock::try_lock(&file, &temp.temp, LockMode::Exclusive)? {
        let busy = io::Error::from(io::ErrorKind::WouldBlock);
        return Err(StateError::io("lock", &temp.temp, busy));
    }
    file.write_all(bytes)
        .map_err(|e| StateError::io("write", &temp.temp, e))?;
    temp.commit()?;
    Ok(file)
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
    let existed = check_regular(path)?;
    let file = private_mode(no_follow(
        OpenOptions::new().read(true).append(true).create(true),
    ))
    .open(path)
    .map_err(|e| open_error(path, e))?;
    verify_regular(path, &file)?;
    make_private(path, &file, !existed)?;
    Ok(file)
}

/// Whether `path` is the file `meta` describes (it was not replaced or renamed away).
pub fn is_at(path: &Path, meta: &std::fs::Metadata) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        std::fs::symlink_metadata(path)
            .is_ok_and(|m| m.ino() == meta.ino() && m.dev() == meta.dev())
    }
    #[cfg(not(unix))]
    {
        let _ = meta;
        path.exists()
    }
}

/// Whether an open file is still in a directory (not removed while open).
pub fn is_linked(meta: &std::fs::Metadata) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        meta.nlink() > 0
    }
    #[cfg(not(unix))]
    {
        let _ = meta;
        true
    }
}

/// Opens an existing regular file to read and to write in place (not appending: positioned
/// writes go where they are told); `Ok(None)` when nothing is there. Never follows a link.
pub fn open_in_place(path: &Path) -> Result<Option<File>, StateError> {
    open_existing(path, true)
}

/// Creates an empty file (mode 0600) if nothing is at `path`; returns whether it created it.
pub fn create_marker(path: &Path) -> Result<bool, StateError> {
    if check_regular(path)? {
        return Ok(false);
    }
    match private_mode(no_follow(OpenOptions::new().write(true).create_new(true))).open(path) {
        Ok(file) => make_private(path, &file, true).map(|()| true),
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

/// How old a temporary file must be before [`remove_stale_temps`] takes it for a crashed
/// writer's: a live one keeps it for milliseconds.
const STALE_TEMP_AGE: std::time::Duration = std::time::Duration::from_secs(60);

/// Removes temporary files a crashed writer left behind (`.<name>.tmp-*` last written over
/// [`STALE_TEMP_AGE`] ago), best effort. Without the lock, and other processes write theirs
/// without it (a sender's log and counters, a segment beside the queue's head): a younger one
/// may be being written, and is left.
pub fn remove_stale_temps(dir: &Path) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    let now = std::time::SystemTime::now();
    for entry in entries.flatten() {
        // as bytes: the patterns are ASCII, and a `str` search would bring its own searcher
        let name = entry.file_name();
        let name = name.as_encoded_bytes();
        let stale = || {
            entry
                .metadata()
                .and_then(|meta| meta.modified())
                .is_ok_and(|at| now.duration_since(at).is_ok_and(|age| age > STALE_TEMP_AGE))
        };
        if name.starts_with(b".telemetry") && name.windows(5).any(|w| w == b".tmp-") && stale() {
            let _ = fs::remove_file(entry.path());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Only a temporary file last written over a minute ago is a crashed writer's: a younger
    /// one may be another process's, being written.
    #[test]
    fn only_old_temporary_files_are_removed() {
        let dir = tempfile::tempdir().unwrap();
        let names = [
            ".telemetry-stats.json.tmp-1-old",
            ".telemetry-stats.json.tmp-2-young",
            "telemetry-stats.json",
        ];
        for name in names {
            std::fs::write(dir.path().join(name), "").unwrap();
        }
        let two_minutes_ago = std::time::SystemTime::now() - std::time::Duration::from_secs(120);
        File::options()
            .write(true)
            .open(dir.path().join(names[0]))
            .unwrap()
            .set_modified(two_minutes_ago)
            .unwrap();
        remove_stale_temps(dir.path());
        assert!(!dir.path().join(names[0]).exists());
        assert!(dir.path().join(names[1]).exists(), "may be being written");
        assert!(dir.path().join(names[2]).exists());
    }

    /// As root, the fix for a file of another user's is never a `chown` to root.
    #[cfg(unix)]
    #[test]
    fn the_fix_for_a_foreign_file_fits_who_runs() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("telemetry-sender.lock");
        std::fs::write(&file, "").unwrap();
        let theirs = if running_as_root() { 65534 } else { 0 };
        if std::os::unix::fs::chown(&file, Some(theirs), None).is_err() {
            eprintln!("skipped: cannot give a file to uid {theirs} here");
            return;
        }
        let fix = permission_fix(&file);
        if running_as_root() {
            assert!(
                fix.contains("run the command as that user, without sudo"),
                "{fix}"
            );
            assert!(!fix.contains("chown"), "{fix}");
        } else {
            assert!(fix.contains("sudo chown $(id -u):$(id -g)"), "{fix}");
        }
    }

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
    fn overwriting_in_place_pads_to_the_old_length_and_creates_a_missing_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("telemetry-x.json");
        // missing: created, private, in place (no temporary file)
        overwrite_unsynced(&path, br#"{"n":12345}"#).unwrap();
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
        assert_eq!(read_small_text(&path).unwrap().unwrap(), r#"{"n":12345}"#);
        #[cfg(unix)]
        {
            use std::os::unix::fs::{MetadataExt, PermissionsExt};
            let before = fs::metadata(&path).unwrap();
            assert_eq!(before.permissions().mode() & 0o777, 0o600);
            // shorter: written over the same file, the rest blanked, made private again
            fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).unwrap();
            overwrite_unsynced(&path, br#"{"n":1}"#).unwrap();
            let after = fs::metadata(&path).unwrap();
            assert_eq!(after.ino(), before.ino(), "in place");
            assert_eq!(after.permissions().mode() & 0o777, 0o600);
        }
        #[cfg(not(unix))]
        overwrite_unsynced(&path, br#"{"n":1}"#).unwrap();
        let text = read_small_text(&path).unwrap().unwrap();
        assert_eq!(text, r#"{"n":1}    "#);
        let value: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(value, serde_json::json!({ "n": 1 }));
        // longer: grows
        overwrite_unsynced(&path, br#"{"n":123456789}"#).unwrap();
        assert_eq!(
            read_small_text(&path).unwrap().unwrap(),
            r#"{"n":123456789}"#
        );
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
        // a file grown past a page (damaged, edited) is replaced, not padded to its size
        fs::write(&path, vec![b'x'; 1024 * 1024]).unwrap();
        overwrite_unsynced(&path, br#"{"n":2}"#).unwrap();
        assert_eq!(fs::read(&path).unwrap(), br#"{"n":2}"#);
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[cfg(unix)]
    #[test]
    fn overwriting_in_place_never_writes_through_a_link() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("target");
        fs::write(&target, "secret").unwrap();
        let link = dir.path().join("telemetry-x.json");
        std::os::unix::fs::symlink(&target, &link).unwrap();
        overwrite_unsynced(&link, b"{}").unwrap();
        assert_eq!(fs::read_to_string(&target).unwrap(), "secret");
        assert!(
            !fs::symlink_metadata(&link).unwrap().is_symlink(),
            "replaced"
        );
        assert_eq!(read_small_text(&link).unwrap().unwrap(), "{}");
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

    #[cfg(unix)]
    fn mode(path: &Path) -> u32 {
        use std::os::unix::fs::PermissionsExt;
        fs::metadata(path).unwrap().permissions().mode() & 0o7777
    }

    #[cfg(unix)]
    #[test]
    fn a_directory_the_host_made_first_is_tightened() {
        use std::os::unix::fs::PermissionsExt;
        let home = tempfile::tempdir().unwrap();
        let app = home.path().join(".demo");
        for loose in [0o755, 0o777, 0o750] {
            // what the host's own `create_dir` leaves under its umask (022, 000, 027)
            fs::create_dir_all(&app).unwrap();
            fs::set_permissions(&app, fs::Permissions::from_mode(loose)).unwrap();
            ensure_dir(&app).unwrap();
            assert_eq!(mode(&app), 0o700, "{loose:o}");
        }
        // tightening never adds a bit: a directory the user made read-only stays so
        fs::set_permissions(&app, fs::Permissions::from_mode(0o555)).unwrap();
        ensure_dir(&app).unwrap();
        assert_eq!(mode(&app), 0o500);
        fs::set_permissions(&app, fs::Permissions::from_mode(0o700)).unwrap();
    }

    #[cfg(unix)]
    #[test]
    fn another_users_directory_is_left_as_it_is() {
        use std::os::unix::fs::PermissionsExt;
        if !rustix::process::geteuid().is_root() {
            eprintln!("skipped: needs root, to give a directory to another user");
            return;
        }
        let home = tempfile::tempdir().unwrap();
        let app = home.path().join(".demo");
        fs::create_dir(&app).unwrap();
        fs::set_permissions(&app, fs::Permissions::from_mode(0o755)).unwrap();
        std::os::unix::fs::chown(&app, Some(65534), Some(65534)).unwrap();
        ensure_dir(&app).unwrap();
        assert_eq!(mode(&app), 0o755);
    }

    #[cfg(unix)]
    #[test]
    fn files_are_0600_whatever_was_there() {
        use std::os::unix::fs::PermissionsExt;
        let home = tempfile::tempdir().unwrap();
        let queue = home.path().join("telemetry-queue.jsonl");
        fs::write(&queue, "").unwrap();
        fs::set_permissions(&queue, fs::Permissions::from_mode(0o644)).unwrap();
        drop(open_append(&queue).unwrap());
        assert_eq!(mode(&queue), 0o600);
        let marker = home.path().join("telemetry-notice-shown");
        assert!(create_marker(&marker).unwrap());
        assert_eq!(mode(&marker), 0o600);
    }

    #[test]
    fn fixes_name_the_cause() {
        let path = Path::new("/nonexistent-parent/.demo");
        let fix = |kind| StateError::io("create", path, io::Error::from(kind)).fix_hint();
        assert!(fix(io::ErrorKind::StorageFull).contains("free some space"));
        assert!(fix(io::ErrorKind::ReadOnlyFilesystem).contains("read-only file system"));
        assert!(fix(io::ErrorKind::NotADirectory).contains("is a file, not a directory"));
        assert!(
            fix(io::ErrorKind::PermissionDenied).contains("make `/nonexistent-parent` writable")
        );
        #[cfg(unix)]
        {
            let home = tempfile::tempdir().unwrap();
            let file = home.path().join("telemetry-queue.jsonl");
            fs::write(&file, "").unwrap();
            let hint = StateError::io(
                "open",
                &file,
                io::Error::from(io::ErrorKind::PermissionDenied),
            )
            .fix_hint();
            assert!(hint.contains("chmod u+rw"), "{hint}");
            // Another user's file: `the_fix_for_a_foreign_file_fits_who_runs`.
        }
    }
}

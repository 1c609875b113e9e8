//! Whether this process can use the state directory, what `status` says when it cannot, and
//! what `clear` removes so that it can again.
//!
//! Three ways a directory stops working without anything failing loudly:
//!
//! - **Files left by a run as root.** `sudo <tool> ...` keeps the user's `HOME`; before
//!   [the lock refused it](crate::fsutil::StateLock::foreign_owner), such a run left a
//!   root-owned `telemetry-sender.lock` (and queue, counters, ...) that the user can no longer
//!   open, so no sender ever started again. [`problems`] names such files with the `chown`
//!   that fixes them, and [`remove_unusable`] (run by `clear`) deletes them: the user may
//!   unlink any file in a directory they own and can write.
//! - **A directory the user cannot write** (mode 0500, a read-only file system). Records may
//!   still be appended to an existing queue, but what the server accepted cannot be recorded,
//!   so every sender would send the whole queue again. No sender is started for it (see
//!   [`can_record_acknowledgements`]), the sender itself checks by writing before its first
//!   request, and [`problems`] says why nothing is sent.
//! - **Running as root in another user's directory.** Nothing is written there (the lock
//!   refuses it), nothing is recorded or sent; [`problems`] says so.
//! - **Another user's directory, for anyone else** (one a run with `sudo` made, a shared
//!   folder named by `<APP>_TELEMETRY_DIR`): its owner could read, replace or plant what
//!   telemetry keeps there, so the lock refuses to write there too, no sender starts, and
//!   [`problems`] says whose it is and how to fix it.

use std::path::{Path, PathBuf};

use crate::config::TelemetryConfig;
use crate::fsutil::{self, StateLock};
use crate::paths::StateDir;

/// A reason the state directory cannot be used by this process, and the command that fixes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessProblem {
    /// What is wrong.
    pub what: String,
    /// What to run or do.
    pub fix: String,
}

/// The files telemetry writes (all but the first-run notice's marker, which only needs to
/// exist), the user's consent (`telemetry.toml`) first.
#[cfg_attr(not(unix), allow(dead_code))]
fn state_files(dir: &StateDir) -> Vec<PathBuf> {
    let mut files = vec![dir.config_file(), dir.identity_file()];
    files.extend(crate::queue::segment::files(dir.path()));
    files.extend(dir.bookkeeping_files());
    files
}

/// The files [`remove_unusable`] may delete: everything `clear` deletes anyway, and the two
/// lock files. Never the user's consent (`telemetry.toml`).
fn removable_files(dir: &StateDir) -> Vec<PathBuf> {
    let mut files = state_files(dir);
    files.remove(0); // the consent file
    files
}

/// Whether a sender could record what the server accepts in `dir`, asked of the file system
/// without writing: the directory is this process's to write (not another user's while running
/// as root) and writable. A directory that does not exist yet holds nothing to send.
pub(crate) fn can_record_acknowledgements(dir: &StateDir) -> bool {
    StateLock::foreign_owner(dir.path()).is_none() && writable(dir.path()).is_ok()
}

/// Why this process cannot use the state directory `dir`, each with a `fix`; empty when it can
/// (or when the directory does not exist, or is not a directory: `status` reports that
/// itself). Reads only.
pub fn problems(config: &TelemetryConfig, dir: &StateDir) -> Vec<AccessProblem> {
    platform::problems(config, dir)
}

/// Deletes the files in `dir` this process cannot use (another user's, or not writable by it),
/// among those `clear` deletes and the lock files, so that telemetry works again; the user's
/// consent file is kept. Possible whenever the directory itself is this user's and writable,
/// whoever owns the files. Returns how many were removed; failures are traced.
pub fn remove_unusable(dir: &StateDir) -> usize {
    if StateLock::foreign_owner(dir.path()).is_some() || writable(dir.path()).is_err() {
        return 0;
    }
    let mut removed = 0;
    for path in removable_files(dir) {
        if !platform::usable(&path) {
            match fsutil::remove_file(&path) {
                Ok(true) => removed += 1,
                Ok(false) => {}
                Err(error) => crate::diagnostics::warn_event!(%error, "telemetry file not removed"),
            }
        }
    }
    if removed > 0 {
        crate::diagnostics::debug_event!(
            removed,
            "telemetry files this user could not use removed"
        );
    }
    removed
}

/// Whether this process may create, rename and remove files in `dir` (`Ok` when it does not
/// exist: nothing to judge yet).
fn writable(dir: &Path) -> std::io::Result<()> {
    platform::writable(dir)
}

/// `path` as one shell word (quoted when it needs to be).
#[cfg_attr(not(unix), allow(dead_code))]
fn shell_word(path: &Path) -> String {
    // what `path.display()` shows
    let text = path.to_string_lossy();
    let plain = text
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"/._-~+,:@%".contains(&b));
    if plain && !text.is_empty() {
        return text.into_owned();
    }
    let mut word = String::with_capacity(text.len() + 2);
    word.push('\'');
    for part in text.split_inclusive('\'') {
        word.push_str(part);
        if part.ends_with('\'') {
            word.push_str(r"\''");
        }
    }
    word.push('\'');
    word
}

#[cfg(unix)]
mod platform {
    use std::fmt::{self, Write as _};
    use std::io;
    use std::os::unix::fs::MetadataExt;
    use std::path::Path;

    use rustix::fs::{Access, AtFlags, CWD};

    use super::{AccessProblem, shell_word, state_files};
    use crate::config::TelemetryConfig;
    use crate::paths::StateDir;

    pub(super) fn writable(dir: &Path) -> io::Result<()> {
        match rustix::fs::accessat(
            CWD,
            dir,
            Access::WRITE_OK | Access::EXEC_OK,
            AtFlags::EACCESS,
        ) {
            Err(rustix::io::Errno::NOENT) => Ok(()),
            other => other.map_err(io::Error::from),
        }
    }

    /// Whether this process can use `path`: it can write it and, in a directory of its own,
    /// owns it (a file of another user there is a leftover of a run as that user, typically
    /// root). A missing file, or a link (which `status` reports elsewhere), counts as usable.
    pub(super) fn usable(path: &Path) -> bool {
        let Ok(meta) = std::fs::symlink_metadata(path) else {
            return true;
        };
        if meta.file_type().is_symlink() {
            return true;
        }
        let me = rustix::process::geteuid().as_raw();
        let in_own_dir = path
            .parent()
            .and_then(|dir| std::fs::metadata(dir).ok())
            .is_some_and(|dir| dir.uid() == me);
        (meta.uid() == me || !in_own_dir)
            && rustix::fs::accessat(CWD, path, Access::WRITE_OK, AtFlags::EACCESS).is_ok()
    }

    pub(super) fn problems(config: &TelemetryConfig, dir: &StateDir) -> Vec<AccessProblem> {
        let mut problems = Vec::new();
        let path = dir.path();
        let Ok(meta) = std::fs::metadata(path) else {
            return problems;
        };
        if !meta.is_dir() {
            return problems;
        }
        let shown = path.display();
        let cmd = config.command_name();
        let me = User::of(rustix::process::geteuid().as_raw());
        let chown = format!("sudo chown -R {} {}", me.login(), shell_word(path));
        if let Some(owner) = crate::fsutil::StateLock::foreign_owner(path) {
            let owner = User::of(owner);
            problems.push(if crate::fsutil::running_as_root() {
                AccessProblem {
                    what: format!(
                        "running as root, telemetry leaves {shown} alone: it belongs to {owner}, and files root created there would be unusable by them; nothing is recorded or sent in this run"
                    ),
                    fix: format!("run `{cmd}` as {} (without sudo)", owner.login()),
                }
            } else {
                // made by a run with sudo, or a shared folder: either way not this user's
                let can_write = match writable(path) {
                    Ok(()) => "you can write it, but so can they: they could read, replace or plant what telemetry keeps there".to_string(),
                    Err(error) => format!("you cannot write it ({error})"),
                };
                AccessProblem {
                    what: format!(
                        "{shown} belongs to {owner}, not to you, {me}, and {can_write}; telemetry records and sends nothing from a directory another user controls"
                    ),
                    fix: format!(
                        "if it is yours (a command run with sudo made it), run `{chown}`; otherwise set {} to a directory of your own (on a local disk, if this one is on a network or FUSE mount that shows every file as another user's)",
                        config.env_names().dir
                    ),
                }
            });
            return problems;
        }
        if let Err(error) = writable(path) {
            let read_only_fs = error.raw_os_error() == Some(rustix::io::Errno::ROFS.raw_os_error());
            problems.push(AccessProblem {
                what: format!(
                    "{shown} is not writable ({error}): events the server accepted could not be marked as sent, so nothing is sent from it (events wait in the queue)"
                ),
                fix: if read_only_fs {
                    format!(
                        "set {} to a directory on a writable file system",
                        config.env_names().dir
                    )
                } else {
                    format!("run `chmod u+rwx {}`", shell_word(path))
                },
            });
        }
        // the files this user cannot use, as lists for the messages: another user's (with
        // their owners), and this user's that it cannot write (with their paths, for `chmod`)
        let (mut foreign, mut foreign_count, mut owners) = (String::new(), 0, Vec::new());
        let (mut read_only, mut read_only_count, mut read_only_paths) =
            (String::new(), 0, String::new());
        for file in state_files(dir) {
            let Ok(meta) = std::fs::symlink_metadata(&file) else {
                continue;
            };
            if meta.file_type().is_symlink() || usable(&file) {
                continue;
            }
            let name = file.file_name().unwrap_or_default().to_string_lossy();
            if meta.uid() != me.uid {
                list(&mut foreign, &mut foreign_count, ", ", &name);
                if !owners.contains(&meta.uid()) {
                    owners.push(meta.uid());
                }
            } else {
                list(&mut read_only, &mut read_only_count, ", ", &name);
                read_only_paths.push(' ');
                read_only_paths.push_str(&shell_word(&file));
            }
        }
        if foreign_count > 0 {
            let mut owned_by = String::new();
            for (i, &owner) in owners.iter().enumerate() {
                let sep = if i == 0 { "" } else { " and " };
                let _ = write!(owned_by, "{sep}{}", User::of(owner));
            }
            let (verb, them) = if foreign_count == 1 {
                ("belongs", "it")
            } else {
                ("belong", "them")
            };
            problems.push(AccessProblem {
                what: format!(
                    "{foreign} in {shown} {verb} to {owned_by}, not to you, {me}, perhaps left by a command run with sudo: telemetry cannot update {them}, so events are not sent (and may not be recorded)"
                ),
                fix: format!(
                    "run `{chown}`, or `{cmd} telemetry clear` (which deletes {them}, and the recorded events)"
                ),
            });
        }
        if read_only_count > 0 {
            let (verb, them) = if read_only_count == 1 {
                ("is", "it")
            } else {
                ("are", "them")
            };
            problems.push(AccessProblem {
                what: format!(
                    "{read_only} in {shown} {verb} not writable: telemetry cannot update {them}, so events are not sent (and may not be recorded)"
                ),
                fix: format!("run `chmod u+rw{read_only_paths}`"),
            });
        }
        problems
    }

    /// Appends `item` to the `sep`-separated `list` of `count` items.
    fn list(list: &mut String, count: &mut usize, sep: &str, item: &str) {
        if *count > 0 {
            list.push_str(sep);
        }
        list.push_str(item);
        *count += 1;
    }

    /// A user as messages name them, by the name `/etc/passwd` gives them if any.
    struct User {
        uid: u32,
        name: Option<String>,
    }

    impl User {
        fn of(uid: u32) -> Self {
            User {
                uid,
                name: user_name(uid),
            }
        }

        /// The user's name for `chown`, or the uid itself, which `chown` takes as well.
        fn login(&self) -> &dyn fmt::Display {
            match &self.name {
                Some(name) => name,
                None => &self.uid,
            }
        }
    }

    /// `alice (uid 1000)`, or `uid 1000` when the system names no such user.
    impl fmt::Display for User {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            match &self.name {
                Some(name) => write!(f, "{name} (uid {})", self.uid),
                None => write!(f, "uid {}", self.uid),
            }
        }
    }

    /// The name `/etc/passwd` gives `uid` (users from a directory service are shown by uid).
    fn user_name(uid: u32) -> Option<String> {
        let passwd = crate::fsutil::read_capped(Path::new("/etc/passwd"), 4 * 1024 * 1024)
            .ok()
            .flatten()?;
        String::from_utf8_lossy(&passwd).lines().find_map(|line| {
            let mut fields = line.split(':');
            let name = fields.next()?;
            let id = fields.nth(1)?.parse::<u32>().ok()?;
            (id == uid && !name.is_empty()).then(|| name.to_string())
        })
    }
}

#[cfg(not(unix))]
mod platform {
    use std::io;
    use std::path::Path;

    use super::AccessProblem;
    use crate::config::TelemetryConfig;
    use crate::paths::StateDir;

    pub(super) fn writable(dir: &Path) -> io::Result<()> {
        match std::fs::metadata(dir) {
            Ok(meta) if meta.permissions().readonly() => Err(io::Error::new(
                io::ErrorKind::PermissionDenied,
                "read-only directory",
            )),
            _ => Ok(()),
        }
    }

    pub(super) fn usable(path: &Path) -> bool {
        std::fs::metadata(path).map_or(true, |meta| !meta.permissions().readonly())
    }

    pub(super) fn problems(_: &TelemetryConfig, _: &StateDir) -> Vec<AccessProblem> {
        Vec::new()
    }
}

#[cfg(all(test, unix))]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;
    use crate::paths::StateDirSource;
    use crate::{Environment, TelemetryConfig};

    fn config() -> TelemetryConfig {
        TelemetryConfig::builder(&crate::schema::DEMO)
            .environment(Environment::empty())
            .on_terminal(false)
            .build()
            .unwrap()
    }

    fn state_dir() -> (tempfile::TempDir, StateDir) {
        let home = tempfile::tempdir().unwrap();
        let dir = StateDir::new(home.path().join(".demo"), StateDirSource::Explicit);
        crate::fsutil::ensure_dir(dir.path()).unwrap();
        (home, dir)
    }

    fn is_root() -> bool {
        rustix::process::geteuid().is_root()
    }

    #[test]
    fn a_usable_directory_has_no_problem() {
        let (_home, dir) = state_dir();
        std::fs::write(dir.queue_file(), "").unwrap();
        std::fs::write(dir.sender_lock_file(), "").unwrap();
        assert_eq!(problems(&config(), &dir), Vec::new());
        assert!(can_record_acknowledgements(&dir));
        assert_eq!(remove_unusable(&dir), 0);
        assert!(dir.queue_file().exists());
        // a directory not made yet: nothing to say, and nothing in the way
        let missing = StateDir::new(dir.path().join("later"), StateDirSource::Explicit);
        assert_eq!(problems(&config(), &missing), Vec::new());
        assert!(can_record_acknowledgements(&missing));
    }

    #[test]
    fn another_users_files_are_named_with_the_chown_and_cleared() {
        if !is_root() {
            eprintln!("skipped: needs root, to give files to another user");
            return;
        }
        // what `sudo` leaves in the directory of a user (here nobody, 65534; the test runs as
        // root, so the roles are swapped: the directory is root's, the files nobody's)
        let (_home, dir) = state_dir();
        for file in [dir.sender_lock_file(), dir.queue_file(), dir.config_file()] {
            std::fs::write(&file, "").unwrap();
            std::os::unix::fs::chown(&file, Some(65534), Some(65534)).unwrap();
        }
        std::fs::write(dir.sender_state_file(), "{}").unwrap();
        let found = problems(&config(), &dir);
        assert_eq!(found.len(), 1, "{found:?}");
        let what = &found[0].what;
        for name in [
            "telemetry.toml",
            "telemetry-queue.jsonl",
            "telemetry-sender.lock",
        ] {
            assert!(what.contains(name), "{what}");
        }
        assert!(!what.contains("telemetry-sender.json"), "{what}");
        assert!(what.contains("uid 65534"), "{what}");
        let fix = &found[0].fix;
        assert!(
            fix.contains(&format!("sudo chown -R root {}", dir.path().display())),
            "{fix}"
        );
        assert!(fix.contains("demo telemetry clear"), "{fix}");

        assert_eq!(remove_unusable(&dir), 2, "the queue and the sender lock");
        assert!(!dir.sender_lock_file().exists());
        assert!(dir.config_file().exists(), "the user's choice is kept");
        assert!(dir.sender_state_file().exists(), "usable: kept");
        let left = problems(&config(), &dir);
        assert_eq!(left.len(), 1, "only the consent file: {left:?}");
        assert!(!left[0].what.contains("telemetry-queue.jsonl"));
    }

    #[test]
    fn running_as_root_in_another_users_directory_is_reported() {
        if !is_root() {
            eprintln!("skipped: needs root");
            return;
        }
        let (_home, dir) = state_dir();
        std::os::unix::fs::chown(dir.path(), Some(65534), Some(65534)).unwrap();
        assert!(!can_record_acknowledgements(&dir));
        let found = problems(&config(), &dir);
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(found[0].what.starts_with("running as root"), "{found:?}");
        assert!(
            found[0].fix.contains("as nobody (without sudo)"),
            "{found:?}"
        );
        assert_eq!(
            remove_unusable(&dir),
            0,
            "root removes nothing there either"
        );
    }

    #[test]
    fn a_read_only_directory_is_reported_and_gets_no_sender() {
        if is_root() {
            // root writes in a read-only directory; the end-to-end test runs this as nobody
            eprintln!("skipped: root may write in any directory");
            return;
        }
        let (_home, dir) = state_dir();
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o500)).unwrap();
        let found = problems(&config(), &dir);
        let usable = can_record_acknowledgements(&dir);
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o700)).unwrap();
        assert!(!usable);
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(found[0].fix.starts_with("run `chmod u+rwx "), "{found:?}");
    }

    #[test]
    fn paths_are_quoted_for_the_shell_when_needed() {
        assert_eq!(shell_word(Path::new("/home/al/.demo")), "/home/al/.demo");
        assert_eq!(
            shell_word(Path::new("/home/a l/it's")),
            r"'/home/a l/it'\''s'"
        );
    }
}

//! The anonymous identity: `telemetry-id.json` in the state directory.
//!
//! ```json
//! {"anon_id":"7f3b2a8c-…","created_at":"2026-04-08T10:00:00.000Z","linked_principal_id":null}
//! ```
//!
//! The anonymous id is a random UUID v4, created only when telemetry is on and something is
//! recorded. Every write goes through a temporary file (mode 0600, in a 0700 directory)
//! renamed or linked into place, so reads take no lock: they see an identity whole or none.
//! Replacements are fsynced; the first identity is not, on the command's path, and the
//! detached sender syncs it before it sends anything ([`IdentityStore::sync_if_new`]). The
//! first identity is put in place by a hard link, which fails when one is there, with or without the lock:
//! concurrent first runs agree on one id, and a command whose lock a stopped one holds
//! records from its first run. Repairing, linking and rotating take the exclusive lock,
//! re-read, and rename the new file over the old.
//!
//! The state machine follows Arcade's:
//! - anonymous: events go out under `anon_id`, personless (`$process_person_profile: false`);
//! - [`link`](IdentityStore::link) (after a login, or at start-up when the host finds
//!   credentials): an alias from `anon_id` to the account's [`PrincipalId`] is queued, then
//!   that id is stored, in one critical section, so the alias precedes every event under it.
//!   A link is stored even if PostHog later refuses to merge it, so the alias is never
//!   retried. Linking to a different account than the stored one rotates the anonymous id
//!   first (two accounts must never be merged through one machine id);
//! - [`unlink`](IdentityStore::unlink) (after a logout, once the logout's own event is
//!   recorded): a fresh anonymous id replaces the old one and the link is removed.
//!
//! Only the keyed hash of the account id ([`principal`]) is stored and sent, never the account
//! id. A file written by an older version, whose `linked_principal_id` holds the account id
//! itself, reads as damaged: the next write replaces it with a fresh anonymous identity (as a
//! logout would), so the old value is erased and never sent; `status` names it until then, and
//! the host's next `link` aliases the new anonymous id as after a first login.

use serde_json::Value;
use uuid::Uuid;

pub mod principal;

use crate::event::writer::write_json_str;
use crate::fsutil::{self, StateError, StateLock};
use crate::paths::StateDir;
use crate::queue::{Queue, QueueError};
use crate::record::Record;

pub use principal::{MAX_PRINCIPAL_LEN, PrincipalError, PrincipalId, check_principal};

/// The content of the identity file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdentityState {
    /// The anonymous id (UUID v4).
    pub anon_id: Uuid,
    /// When it was created (RFC 3339, UTC).
    pub created_at: String,
    /// The hashed id of the account it has been aliased to, once linked.
    pub linked_principal_id: Option<PrincipalId>,
}

impl IdentityState {
    /// A fresh anonymous identity.
    pub fn fresh() -> Self {
        Self {
            anon_id: Uuid::new_v4(),
            created_at: crate::record::now_rfc3339(),
            linked_principal_id: None,
        }
    }

    /// The id events are attributed to: the principal once linked, else the anonymous id.
    pub fn distinct_id(&self) -> String {
        match &self.linked_principal_id {
            Some(principal) => principal.as_str().to_string(),
            None => self.anon_id.to_string(),
        }
    }

    /// The identity file's text. Its JSON is read and written through `serde_json::Value`
    /// rather than derived serde impls: the derives add a deserializer of their own to every
    /// host (several KB) for three members.
    fn from_json(text: &str) -> Result<Self, String> {
        let value: Value = serde_json::from_str(text).map_err(|e| e.to_string())?;
        if !value.is_object() {
            return Err("it is not a JSON object".to_string());
        }
        let (Some(anon_id), Some(created_at)) = (
            string_member(&value, "anon_id")?,
            string_member(&value, "created_at")?,
        ) else {
            return Err("`anon_id` or `created_at` is missing".to_string());
        };
        let anon_id = Uuid::try_parse(anon_id).map_err(|e| format!("`anon_id`: {e}"))?;
        let linked_principal_id = match string_member(&value, "linked_principal_id")? {
            Some(id) => Some(PrincipalId::try_from(id.to_owned()).map_err(|e| e.to_string())?),
            None => None,
        };
        Ok(Self {
            anon_id,
            created_at: created_at.to_owned(),
            linked_principal_id,
        })
    }

    /// The JSON written to the identity file.
    fn to_json(&self) -> String {
        let mut out = format!(r#"{{"anon_id":"{}","created_at":"#, self.anon_id);
        write_json_str(&mut out, &self.created_at);
        out.push_str(r#","linked_principal_id":"#);
        match &self.linked_principal_id {
            Some(id) => write_json_str(&mut out, id.as_str()),
            None => out.push_str("null"),
        }
        out.push('}');
        out
    }

    /// Whether events are anonymous (and so personless).
    pub fn is_anonymous(&self) -> bool {
        self.linked_principal_id.is_none()
    }

    /// Linking to `principal`: `None` when already linked to it; otherwise the identity after
    /// linking and, when it was anonymous, the alias from its anonymous id to record first.
    /// Linked to another principal before, the anonymous id is rotated and no alias is made.
    pub(crate) fn link(&self, principal: &PrincipalId) -> Option<(IdentityState, Option<Record>)> {
        match &self.linked_principal_id {
            Some(linked) if linked == principal => None,
            Some(_) => {
                let mut state = IdentityState::fresh();
                state.linked_principal_id = Some(principal.clone());
                Some((state, None))
            }
            None => {
                let alias = Record::alias(&self.anon_id.to_string(), principal.as_str());
                let mut state = self.clone();
                state.linked_principal_id = Some(principal.clone());
                Some((state, Some(alias)))
            }
        }
    }

    /// Whether this identity is linked to `principal`.
    pub fn is_linked_to(&self, principal: &PrincipalId) -> bool {
        self.linked_principal_id.as_ref() == Some(principal)
    }

    /// The identity after unlinking: a fresh anonymous one, or `None` when it is not linked
    /// (nothing changes).
    pub(crate) fn unlinked(&self) -> Option<IdentityState> {
        self.linked_principal_id
            .is_some()
            .then(IdentityState::fresh)
    }
}

/// The string member `name` of the identity file's object; `None` when it is missing or
/// `null`. A function, not a closure: called three times, it is compiled once.
fn string_member<'v>(value: &'v Value, name: &str) -> Result<Option<&'v str>, String> {
    match value.get(name) {
        Some(Value::String(text)) => Ok(Some(text)),
        Some(Value::Null) | None => Ok(None),
        Some(_) => Err(format!("`{name}` is not a string")),
    }
}

/// Something linking could not do.
#[derive(Debug, thiserror::Error)]
pub enum IdentityError {
    /// A file problem.
    #[error(transparent)]
    State(#[from] StateError),
    /// The alias could not be queued.
    #[error(transparent)]
    Queue(#[from] QueueError),
}

/// What [`IdentityStore::link`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LinkOutcome {
    /// Already linked to this principal: nothing to do.
    AlreadyLinked {
        /// The identity stored.
        state: IdentityState,
    },
    /// An alias was queued and the principal stored.
    Aliased {
        /// The identity now stored.
        state: IdentityState,
        /// The alias record's uuid.
        alias: Uuid,
    },
    /// Linked to another principal before: the anonymous id was rotated and the new principal
    /// stored, without an alias.
    Relinked {
        /// The identity now stored.
        state: IdentityState,
    },
}

/// The identity file in a state directory.
#[derive(Debug, Clone)]
pub struct IdentityStore {
    dir: StateDir,
}

impl IdentityStore {
    /// The identity in `dir`.
    pub fn new(dir: StateDir) -> Self {
        Self { dir }
    }

    /// The state directory it is in.
    pub(crate) fn dir(&self) -> &StateDir {
        &self.dir
    }

    /// Reads the identity; `Ok(None)` when there is none. Never creates anything. Without the
    /// lock: the file is only ever replaced whole, by `rename` ([`fsutil::write_atomic`]), so a
    /// reader sees the old identity or the new, and a command whose lock is held by a stopped
    /// one does not wait to read it.
    pub fn read(&self) -> Result<Option<IdentityState>, StateError> {
        let path = self.dir.identity_file();
        let Some(text) = fsutil::read_small_text(&path)? else {
            return Ok(None);
        };
        IdentityState::from_json(&text)
            .map(Some)
            .map_err(|e| StateError::Corrupt {
                path,
                detail: if text.trim().is_empty() {
                    "it is empty".to_string()
                } else {
                    format!("it is not a valid identity file ({e})")
                },
            })
    }

    /// The identity, created (or repaired, when the file is damaged) if needed.
    ///
    /// A first identity is created without the lock ([`create_first`](Self::create_first)),
    /// so a command whose lock is held by a stopped one records from its first run; a damaged
    /// one is replaced under the lock.
    pub fn load_or_create(&self) -> Result<IdentityState, StateError> {
        match self.read() {
            Ok(Some(state)) => return Ok(state),
            Ok(None) => {
                if let Some(state) = self.first() {
                    return Ok(state);
                }
            }
            Err(StateError::Corrupt { .. } | StateError::TooLarge { .. }) => {}
            Err(e) => return Err(e),
        }
        let lock = self.dir.lock_exclusive()?;
        self.load_or_create_locked(&lock)
    }

    /// The first identity: the one [`create_first`](Self::create_first) makes, or the one
    /// another process made first. `None` when neither can be had (links refused here: then no
    /// process can create one without the lock, and the caller writes it under the lock).
    fn first(&self) -> Option<IdentityState> {
        match self.create_first() {
            Ok(Some(state)) => Some(state),
            Ok(None) => self.read().ok().flatten(),
            Err(_) => None,
        }
    }

    /// Creates the first identity without the lock: written whole under a temporary name,
    /// then hard-linked to its name, which fails when a file is there. Of many first runs at
    /// once, one links its identity and the others read it. `Ok(None)` when one was there.
    ///
    /// Not synced: the two `fsync`s (the file, then the directory) cost a first run 0.6 to
    /// 0.9 ms on a disk, more than the rest of its telemetry. The records that carry the new
    /// id are not synced either, and the detached sender [syncs](Self::sync_if_new) the identity
    /// after it reads each batch and before it sends it, so an id does not leave the machine
    /// before it is on disk. A crash before the kernel wrote it leaves no file (the next run
    /// creates another) or an empty one (replaced as damaged); on a file system that may
    /// write the later queue before the earlier identity, records of that run can then
    /// survive under an id the machine no longer has (one user counted as two).
    fn create_first(&self) -> Result<Option<IdentityState>, StateError> {
        fsutil::refuse_unlocked_write(&self.dir.lock_file())?;
        fsutil::ensure_dir(self.dir.path())?;
        let state = IdentityState::fresh();
        let path = self.dir.identity_file();
        let temp = fsutil::write_temp(&path, state.to_json().as_bytes(), false)?;
        if !temp.commit_new()? {
            return Ok(None);
        }
        Ok(Some(state))
    }

    /// Makes the identity file, and its name in the directory, durable (`fsync` of both; best
    /// effort, nothing when there is no file), unless it is still the file synced last
    /// (`synced`: its modification time and length then, updated here). What the sender does
    /// before it sends a batch, whose records may carry an id a first run created without
    /// syncing; once per identity, since a flush of a clean file still flushes the disk's
    /// cache (`F_FULLFSYNC` on macOS).
    pub(crate) fn sync_if_new(&self, synced: &mut Option<(std::time::SystemTime, u64)>) {
        let path = self.dir.identity_file();
        let Ok(meta) = std::fs::symlink_metadata(&path) else {
            return;
        };
        let now = meta.modified().ok().map(|at| (at, meta.len()));
        if now.is_some() && now == *synced {
            return;
        }
        *synced = now;
        // opened for writing: Windows flushes only a handle that may write
        if let Ok(Some(file)) = fsutil::open_in_place(&path) {
            let _ = file.sync_all();
            fsutil::sync_dir(self.dir.path());
        }
    }

    fn load_or_create_locked(&self, _lock: &StateLock) -> Result<IdentityState, StateError> {
        match self.read() {
            Ok(Some(state)) => return Ok(state),
            // as without the lock: a first run that does not take it may be creating one too,
            // and a rename would replace the identity it recorded with
            Ok(None) => {
                if let Some(state) = self.first() {
                    return Ok(state);
                }
            }
            Err(e @ (StateError::Corrupt { .. } | StateError::TooLarge { .. })) => {
                crate::diagnostics::warn_event!(problem = %e, "telemetry identity damaged; replacing it with a new anonymous id");
            }
            Err(e) => return Err(e),
        }
        self.write_fresh()
    }

    /// Writes a fresh anonymous identity and returns it.
    fn write_fresh(&self) -> Result<IdentityState, StateError> {
        let state = IdentityState::fresh();
        self.write(&state)?;
        Ok(state)
    }

    fn write(&self, state: &IdentityState) -> Result<(), StateError> {
        fsutil::write_atomic(&self.dir.identity_file(), state.to_json().as_bytes())
    }

    /// Links the identity to `principal`, queueing the alias in `queue` first (see the module
    /// documentation).
    pub fn link(
        &self,
        queue: &Queue,
        principal: &PrincipalId,
    ) -> Result<LinkOutcome, IdentityError> {
        let lock = self.dir.lock_exclusive()?;
        let state = self.load_or_create_locked(&lock)?;
        let Some((linked, alias)) = state.link(principal) else {
            return Ok(LinkOutcome::AlreadyLinked { state });
        };
        match alias {
            Some(alias) => {
                let uuid = alias.uuid;
                queue.append_locked(&lock, &[alias])?;
                self.write(&linked)?;
                Ok(LinkOutcome::Aliased {
                    state: linked,
                    alias: uuid,
                })
            }
            None => {
                self.write(&linked)?;
                Ok(LinkOutcome::Relinked { state: linked })
            }
        }
    }

    /// Removes the link and rotates the anonymous id; returns the new identity, or `None` when
    /// it was not linked (or there is no identity, or something other than a regular file is
    /// in its place), in which case nothing changes.
    pub fn unlink(&self) -> Result<Option<IdentityState>, StateError> {
        if !fsutil::check_regular(&self.dir.identity_file()).unwrap_or(false) {
            return Ok(None);
        }
        let _lock = self.dir.lock_exclusive()?;
        match self.read() {
            Ok(Some(state)) if state.is_anonymous() => Ok(None),
            Ok(None) => Ok(None),
            Err(e @ (StateError::Symlink { .. } | StateError::NotAFile { .. })) => Err(e),
            // linked, or damaged (it may have held a link): replace it
            Ok(Some(_)) | Err(_) => self.write_fresh().map(Some),
        }
    }

    /// Undoes a link whose alias was withdrawn before it was sent (`telemetry off` in the
    /// process that linked): if the stored identity is still `linked`, it becomes anonymous
    /// again with the same anonymous id, so the next link queues the alias anew. Returns
    /// whether it changed anything.
    pub fn revert_link(&self, linked: &IdentityState) -> Result<bool, StateError> {
        if !fsutil::check_regular(&self.dir.identity_file())? {
            return Ok(false);
        }
        let _lock = self.dir.lock_exclusive()?;
        let Some(mut anonymous) = self.read().ok().flatten() else {
            return Ok(false);
        };
        if anonymous != *linked {
            return Ok(false);
        }
        anonymous.linked_principal_id = None;
        self.write(&anonymous)?;
        Ok(true)
    }

    /// Deletes the identity file; returns the identity that was there, if it could be read,
    /// and whether a file was removed.
    pub fn delete(&self) -> Result<(Option<IdentityState>, bool), StateError> {
        if !self.dir.path().is_dir() {
            return Ok((None, false));
        }
        let _lock = self.dir.lock_exclusive()?;
        let old = self.read().ok().flatten();
        let removed = fsutil::remove_file(&self.dir.identity_file())?;
        Ok((old, removed))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::paths::StateDirSource;

    fn store() -> (tempfile::TempDir, IdentityStore, Queue) {
        let home = tempfile::tempdir().unwrap();
        let dir = StateDir::new(home.path().join(".demo"), StateDirSource::Explicit);
        (home, IdentityStore::new(dir.clone()), Queue::new(dir))
    }

    #[test]
    fn created_once_and_private() {
        let (_home, store, _) = store();
        assert_eq!(store.read().unwrap(), None);
        let a = store.load_or_create().unwrap();
        assert_eq!(a.anon_id.get_version_num(), 4);
        let b = store.load_or_create().unwrap();
        assert_eq!(a, b);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let path = store.dir.identity_file();
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
            let dir_mode = std::fs::metadata(store.dir.path())
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(dir_mode & 0o777, 0o700);
        }
    }

    #[test]
    fn concurrent_threads_agree_on_one_id() {
        let (_home, store, _) = store();
        let ids: Vec<Uuid> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..16)
                .map(|_| s.spawn(|| store.load_or_create().unwrap().anon_id))
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        assert!(ids.iter().all(|id| *id == ids[0]));
    }

    /// The first identity needs no lock: created while another process holds it (a command
    /// stopped while it appended), by many threads at once, one id, and no temporary file left.
    #[test]
    fn a_first_identity_is_created_while_the_lock_is_held_elsewhere() {
        let (_home, store, _) = store();
        let dir = store.dir.clone().with_lock_wait(std::time::Duration::ZERO);
        let store = IdentityStore::new(dir.clone());
        crate::fsutil::ensure_dir(dir.path()).unwrap();
        let _stuck = crate::fsutil::StateLock::acquire(
            &dir.lock_file(),
            crate::fsutil::LockMode::Exclusive,
            std::time::Duration::ZERO,
        )
        .unwrap();
        let ids: Vec<Uuid> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..16)
                .map(|_| s.spawn(|| store.load_or_create().unwrap().anon_id))
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        assert!(ids.iter().all(|id| *id == ids[0]), "{ids:?}");
        assert_eq!(store.read().unwrap().unwrap().anon_id, ids[0]);
        let names: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert!(names.iter().all(|n| !n.contains(".tmp-")), "{names:?}");
        // a damaged one is still replaced only under the lock
        std::fs::write(dir.identity_file(), "{").unwrap();
        let error = store.load_or_create().unwrap_err();
        assert!(matches!(error, StateError::LockTimeout { .. }), "{error:?}");
    }

    #[test]
    fn the_file_format_is_kept() {
        let anon_id = "7f3b2a8c-1d2e-4f5a-8b6c-7d8e9f0a1b2c";
        let linked = id("user-42");
        let text = format!(
            r#"{{"anon_id":"{anon_id}","created_at":"2026-04-08T10:00:00.000Z","linked_principal_id":"{}"}}"#,
            linked.as_str()
        );
        let state = IdentityState::from_json(&text).unwrap();
        assert_eq!(state.anon_id.to_string(), anon_id);
        assert_eq!(state.linked_principal_id.as_ref(), Some(&linked));
        assert_eq!(state.to_json(), text);
        let anonymous = format!(
            r#"{{"anon_id":"{anon_id}","created_at":"2026-04-08T10:00:00.000Z","linked_principal_id":null}}"#
        );
        assert_eq!(
            IdentityState::from_json(&anonymous).unwrap().to_json(),
            anonymous
        );
        // members in any order, unknown ones ignored, a missing link is none
        let state = IdentityState::from_json(&format!(
            r#"{{"x":1,"created_at":"t","anon_id":"{anon_id}"}}"#
        ))
        .unwrap();
        assert!(state.is_anonymous());
        for bad in [
            r#"{"created_at":"t"}"#.to_string(),
            format!(r#"{{"anon_id":"{anon_id}","created_at":5}}"#),
            format!(r#"{{"anon_id":"{anon_id}","created_at":"t","linked_principal_id":7}}"#),
        ] {
            assert!(IdentityState::from_json(&bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn damaged_files_are_repaired_links_refused() {
        // (`home` is used by the Unix-only link case below)
        #[cfg_attr(not(unix), allow(unused_variables))]
        let (home, store, _) = store();
        let first = store.load_or_create().unwrap();
        let path = store.dir.identity_file();
        for bad in ["", "{\"anon_id\":", "[1,2]", "{\"anon_id\":\"not-a-uuid\"}"] {
            std::fs::write(&path, bad).unwrap();
            assert!(
                matches!(store.read(), Err(StateError::Corrupt { .. })),
                "{bad}"
            );
            let repaired = store.load_or_create().unwrap();
            assert_ne!(repaired.anon_id, first.anon_id);
        }
        std::fs::write(&path, vec![b' '; 100_000]).unwrap();
        store.load_or_create().unwrap();
        #[cfg(unix)]
        {
            let target = home.path().join("target");
            std::fs::write(&target, "keep").unwrap();
            std::fs::remove_file(&path).unwrap();
            std::os::unix::fs::symlink(&target, &path).unwrap();
            assert!(matches!(
                store.load_or_create(),
                Err(StateError::Symlink { .. })
            ));
            assert_eq!(std::fs::read_to_string(&target).unwrap(), "keep");
        }
    }

    fn id(principal: &str) -> PrincipalId {
        PrincipalId::derive("phc_test", principal).unwrap()
    }

    #[test]
    fn link_then_unlink_follows_the_state_machine() {
        let (_home, store, queue) = store();
        let anon = store.load_or_create().unwrap();
        let LinkOutcome::Aliased { state, alias } = store.link(&queue, &id("user-42")).unwrap()
        else {
            panic!("expected an alias");
        };
        assert_eq!(state.anon_id, anon.anon_id);
        assert_eq!(state.distinct_id(), id("user-42").as_str());
        let queued = queue.read_all().unwrap().records;
        assert_eq!(queued.len(), 1);
        assert_eq!(queued[0].event, "$create_alias");
        assert_eq!(queued[0].uuid, alias);
        assert_eq!(queued[0].distinct_id, anon.anon_id.to_string());
        assert_eq!(
            store.link(&queue, &id("user-42")).unwrap(),
            LinkOutcome::AlreadyLinked {
                state: state.clone()
            }
        );
        assert_eq!(queue.read_all().unwrap().records.len(), 1);

        let LinkOutcome::Relinked { state } = store.link(&queue, &id("user-7")).unwrap() else {
            panic!("expected a relink");
        };
        assert_ne!(state.anon_id, anon.anon_id);
        assert_eq!(queue.read_all().unwrap().records.len(), 1);

        let fresh = store.unlink().unwrap().unwrap();
        assert!(fresh.is_anonymous());
        assert_ne!(fresh.anon_id, state.anon_id);
        assert_eq!(store.unlink().unwrap(), None);
    }

    #[test]
    fn only_the_hashed_id_is_stored_and_sent() {
        let (_home, store, queue) = store();
        store.link(&queue, &id("user-42")).unwrap();
        let file = std::fs::read_to_string(store.dir.identity_file()).unwrap();
        let queued = std::fs::read_to_string(store.dir.queue_file()).unwrap();
        for text in [&file, &queued] {
            assert!(!text.contains("user-42"), "{text}");
            assert!(text.contains(id("user-42").as_str()), "{text}");
        }
    }

    #[test]
    fn a_link_stored_by_an_older_version_is_replaced_never_used() {
        let (_home, store, queue) = store();
        let old = store.load_or_create().unwrap();
        let legacy = format!(
            r#"{{"anon_id":"{}","created_at":"{}","linked_principal_id":"alice@example.com"}}"#,
            old.anon_id, old.created_at
        );
        std::fs::write(store.dir.identity_file(), &legacy).unwrap();
        // reading it is an error status can name; the raw value is never returned
        let Err(StateError::Corrupt { detail, .. }) = store.read() else {
            panic!("a legacy link must not read as an identity");
        };
        assert!(detail.contains("older version"), "{detail}");
        // the next write replaces it: fresh anonymous id, no link, the raw value erased
        let fresh = store.load_or_create().unwrap();
        assert!(fresh.is_anonymous());
        assert_ne!(fresh.anon_id, old.anon_id);
        let file = std::fs::read_to_string(store.dir.identity_file()).unwrap();
        assert!(!file.contains("alice"), "{file}");
        // and the next link aliases the new anonymous id, as after a first login
        assert!(matches!(
            store.link(&queue, &id("user-42")).unwrap(),
            LinkOutcome::Aliased { .. }
        ));
        // a logout of a legacy file rotates it too
        std::fs::write(store.dir.identity_file(), &legacy).unwrap();
        assert!(store.unlink().unwrap().unwrap().is_anonymous());
        let file = std::fs::read_to_string(store.dir.identity_file()).unwrap();
        assert!(!file.contains("alice"), "{file}");
    }

    #[test]
    fn a_withdrawn_alias_reverts_the_link() {
        let (_home, store, queue) = store();
        let anon = store.load_or_create().unwrap();
        let LinkOutcome::Aliased { state, .. } = store.link(&queue, &id("user-42")).unwrap() else {
            panic!("expected an alias");
        };
        assert!(store.revert_link(&state).unwrap());
        assert_eq!(store.read().unwrap(), Some(anon.clone()));
        // already reverted, or changed since: nothing to do
        assert!(!store.revert_link(&state).unwrap());
        assert!(matches!(
            store.link(&queue, &id("user-42")).unwrap(),
            LinkOutcome::Aliased { .. }
        ));
    }

    #[test]
    fn delete_removes_the_file() {
        let (_home, store, _) = store();
        assert_eq!(store.delete().unwrap(), (None, false));
        let state = store.load_or_create().unwrap();
        assert_eq!(store.delete().unwrap(), (Some(state), true));
        assert_eq!(store.read().unwrap(), None);
    }
}

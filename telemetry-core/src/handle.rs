//! The [`Telemetry`] handle and the [`CommandTimer`]; its documentation is on the type.

use std::collections::VecDeque;
use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant, SystemTime};

use crate::config::{ConfigError, TelemetryConfig, TelemetryConfigBuilder};
use crate::consent::{self, ConsentDecision};
use crate::delivery::Delivery;
use crate::delivery::background::Background;
use crate::event::Listed;
use crate::event::meta::EventMeta;
use crate::event::values::ErrorClass;
use crate::fsutil::Stamp;
use crate::identity::{IdentityState, IdentityStore, LinkOutcome, PrincipalError, PrincipalId};
use crate::paths::StateDir;
use crate::queue::frame;
use crate::queue::{Appender, Position, Queue, QueueError};
use crate::record::{CommonProperties, Record};
use crate::{debug, notice};

crate::diagnostics::error_event_fns!(warn warn_error);

/// How many of its own records a process remembers, to withdraw them if the user turns
/// telemetry off in it (the newest ones: a command's own start-up events are what `telemetry
/// off` takes back).
const WITHDRAWABLE_RECORDS: usize = 10_000;

/// What the handle does with events.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Mode {
    /// Nothing: telemetry is off, the build has no key, or there is no state directory.
    Off,
    /// Records events in the queue.
    Recording,
    /// Prints events to stderr and records nothing (`<APP>_TELEMETRY_DEBUG=1`).
    Debug,
}

impl TelemetryConfigBuilder {
    /// Builds the configuration and starts telemetry: the one call at the top of `main`. A
    /// configuration error gives a handle that records nothing (and says why in `status`).
    pub fn start(self) -> Telemetry {
        Telemetry::start_from(self)
    }
}

/// The telemetry handle a host keeps for the life of the process: one call at the top of
/// `main`, then [`track`](Self::track).
///
/// ```
/// # mod schema {
/// # use telemetry_core::{telemetry_event, telemetry_schema};
/// # /// Sent when the program starts.
/// # #[telemetry_event(name = "binary.startup")]
/// # pub struct BinaryStartup {}
/// # telemetry_schema! {
/// #     /// Every event.
/// #     pub static SCHEMA = [BinaryStartup];
/// # }
/// # }
/// # use schema::{BinaryStartup, SCHEMA};
/// use telemetry_core::{Environment, TelemetryConfig};
///
/// let state = tempfile::tempdir()?;
/// let telemetry = TelemetryConfig::builder(&SCHEMA)
///     .version(env!("CARGO_PKG_VERSION"))
///     .project_key("phc_example")
///     // What a user who ran `demo telemetry on` would have; a real host reads the process
///     // environment (the default) and its home directory.
///     .environment(Environment::empty().with("DEMO_TELEMETRY", "1"))
///     .state_dir(state.path())
///     .detached_sender(false)
///     .start();
/// assert!(telemetry.is_recording());
/// telemetry.track(&BinaryStartup {});
/// # Ok::<(), std::io::Error>(())
/// ```
///
/// Starting resolves consent and, when telemetry is off, starts no thread and spawns no
/// process. The one file it may create then is the first-run notice's marker,
/// `telemetry-notice-shown` (with the state directory, if missing): only when the notice is due,
/// that is stdout and stderr are a terminal, nothing but the policy default decided consent (as under
/// opt-in, where the default is off) and the build has a key. Once the user or the environment
/// has decided (`DO_NOT_TRACK`, `telemetry off`, a project file, CI), nothing is created.
/// Nothing here panics, prints (but the first-run notice and debug mode, both on stderr) or
/// exits on behalf of the host; failures are swallowed and reported through `tracing`, and a
/// failure of the state directory turns recording off for the rest of the process.
///
/// # Start telemetry first thing in `main`
///
/// Dropping a handle that recorded something starts the detached sender: a fresh process of the
/// same program. [`Telemetry::start`] recognises that process and runs the sender in it, then
/// **exits the process** without returning to `main`. Start telemetry before anything else in
/// `main` (before parsing arguments, opening files or printing), or that process would do
/// whatever your program does first. If your program ends with [`std::process::exit`], which
/// skips destructors, call [`Telemetry::finish`] first. A long-running host also sends while it
/// runs: [`deliver_in_background`](Self::deliver_in_background). An async `main`
/// (`#[tokio::main]`) starts it the same way, first thing: the sender then runs inside the
/// host's runtime, and sends from a thread of its own, outside it.
///
/// # Threads, signals and long runs
///
/// The handle is `Send` and `Sync`: lend it to threads by reference, or share it in an
/// [`Arc`](std::sync::Arc) whose last clone is dropped before `main` returns (join the threads
/// first), or the handle is never dropped and no sender starts at the exit. A process killed by
/// a signal it has no handler for skips destructors too. Either way nothing is lost: the
/// records wait in the queue for the next command that records something.
///
/// A handle that has lived [`SHARED_STATE_RECHECK`](crate::limits::SHARED_STATE_RECHECK) looks
/// again, when it records, at what other processes change: turned off meanwhile
/// (`telemetry off`), it stops recording and takes back what it recorded since it last looked;
/// after a `telemetry clear`, a login or a logout elsewhere, its next event uses the identity as
/// it is now.
#[derive(Debug)]
pub struct Telemetry {
    state: State,
}

#[derive(Debug)]
enum State {
    Misconfigured(ConfigError),
    Ready(Box<Ready>),
}

#[derive(Debug)]
struct Ready {
    config: TelemetryConfig,
    /// The identity store, which holds the state directory (`None` without one): borrowed by
    /// each event, rather than a store made from a clone of the directory each time.
    store: Option<IdentityStore>,
    consent: ConsentDecision,
    delivery: Delivery,
    mode: Mode,
    active: AtomicBool,
    common: CommonProperties,
    notice_shown: bool,
    /// Whether this process appended something to the queue (then dropping the handle starts
    /// a sender).
    recorded: AtomicBool,
    /// What this process did and knows, behind one lock: an event takes it once (rather than a
    /// lock per field, each with its own poisoning and unlocking code).
    session: Mutex<Session>,
    background: Mutex<Option<Background>>,
    /// When the handle started, to look again at the files other processes change once it has
    /// lived [`SHARED_STATE_RECHECK`](crate::limits::SHARED_STATE_RECHECK).
    started: Instant,
    started_wall: SystemTime,
}

impl Ready {
    /// The state directory (`None` without a home directory or override).
    fn dir(&self) -> Option<&StateDir> {
        self.store.as_ref().map(IdentityStore::dir)
    }

    /// The session. A panic while it was held (none of the runtime's code panics) leaves it
    /// as consistent as before the call, so it is used on, rather than telemetry stopping
    /// silently for the rest of the process.
    fn session(&self) -> MutexGuard<'_, Session> {
        self.session.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The mutable part of [`Ready`].
#[derive(Debug, Default)]
struct Session {
    /// The identity events are recorded under, loaded (or made up, in debug mode) once.
    identity: Option<IdentityState>,
    /// This process's handle on the queue: the lock file and the head, opened by the first
    /// event and kept, so an append is a lock, a `statx` (an `fstat` off Linux) and a `write`.
    appender: Option<Appender>,
    /// Where the records this process appended are, newest last, at most
    /// [`WITHDRAWABLE_RECORDS`]: what `telemetry off` withdraws.
    appended: VecDeque<Position>,
    /// The uuids of the aliases this process queued (under the identity's lock, so without
    /// a position): withdrawn by reading the queue.
    aliases: Vec<uuid::Uuid>,
    /// The identity as linked by this process when the link queued an alias, so withdrawing
    /// the alias can undo the link.
    aliased: Option<IdentityState>,
    /// The first failure to record in this process, for `status`.
    failure: Option<RecordingFailure>,
    /// How many records this process appended in all (the ring above keeps the last ones).
    appended_total: u64,
    /// When it last looked at the files other processes change, and what it saw.
    last_look: Option<SharedStateLook>,
}

/// One look at the files other processes change under a long-lived handle.
#[derive(Debug)]
struct SharedStateLook {
    at: Instant,
    /// The user's consent file and the identity file.
    stamps: [Option<Stamp>; 2],
    /// [`Session::appended_total`] then.
    appended_total: u64,
}

/// Why this process could not record, in a user's words, and how to fix it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RecordingFailure {
    /// What went wrong.
    pub(crate) what: String,
    /// How to fix it.
    pub(crate) fix: String,
}

impl RecordingFailure {
    fn of_queue(error: &QueueError) -> Self {
        Self {
            what: error.to_string(),
            fix: error.fix_hint(),
        }
    }

    fn of_state(error: &crate::fsutil::StateError) -> Self {
        Self {
            what: error.to_string(),
            fix: error.fix_hint(),
        }
    }
}

impl Telemetry {
    /// Starts telemetry with `config`: resolves consent, shows the first-run notice when it is
    /// due, and returns the handle.
    ///
    /// In the detached sender process a handle starts (see [`Telemetry`]), this sends the queue
    /// and exits the process instead: it never returns there. Call it first thing in `main`.
    pub fn start(config: TelemetryConfig) -> Self {
        Self::start_with(config, &mut std::io::stderr())
    }

    /// [`start`](Self::start) from a builder; a configuration error gives a handle that records
    /// nothing and reports the error in `status`.
    pub fn start_from(builder: TelemetryConfigBuilder) -> Self {
        match builder.build() {
            Ok(config) => Self::start(config),
            Err(error) => {
                crate::diagnostics::error_event!(%error, "telemetry configuration refused; telemetry is off");
                Self {
                    state: State::Misconfigured(error),
                }
            }
        }
    }

    /// [`start`](Self::start), writing the first-run notice (if due) to `notice_out` instead of
    /// stderr.
    pub fn start_with(config: TelemetryConfig, notice_out: &mut dyn Write) -> Self {
        if crate::delivery::spawn::is_sender_process(&config) {
            crate::delivery::sender::run_detached_process(config);
        }
        crate::config::remember_started(&config);
        // the host's latency is the user's: a stuck holder of the lock costs it little, once
        let dir =
            StateDir::resolve(&config).map(|dir| dir.with_lock_wait(crate::limits::HOST_LOCK_WAIT));
        let consent = consent::resolve(&config, dir.as_ref());
        let delivery = Delivery::resolve(&config);
        let debug = debug::is_on(&config);
        let notice_shown = notice::show_if_due(
            &config,
            &consent,
            delivery.has_key(),
            dir.as_ref(),
            notice_out,
        );
        let mode = if debug {
            Mode::Debug
        } else if consent.enabled && delivery.has_key() && dir.is_some() {
            Mode::Recording
        } else {
            Mode::Off
        };
        crate::diagnostics::debug_event!(?mode, source = ?consent.source, "telemetry started");
        let started_wall = config.run_started;
        Self {
            state: State::Ready(Box::new(Ready {
                common: CommonProperties::new(&config),
                config,
                store: dir.map(IdentityStore::new),
                consent,
                delivery,
                mode,
                active: AtomicBool::new(mode != Mode::Off),
                notice_shown,
                recorded: AtomicBool::new(false),
                session: Mutex::default(),
                background: Mutex::new(None),
                started: Instant::now(),
                started_wall,
            })),
        }
    }

    /// A handle that never does anything.
    pub fn disabled() -> Self {
        Self::start_with(TelemetryConfig::disabled(), &mut std::io::sink())
    }

    fn ready(&self) -> Option<&Ready> {
        match &self.state {
            State::Ready(ready) => Some(ready),
            State::Misconfigured(_) => None,
        }
    }

    /// The configuration (`None` when it was refused).
    pub(crate) fn config(&self) -> Option<&TelemetryConfig> {
        self.ready().map(|r| &r.config)
    }

    /// Why the configuration was refused, if it was.
    pub(crate) fn config_error(&self) -> Option<&ConfigError> {
        match &self.state {
            State::Misconfigured(error) => Some(error),
            State::Ready(_) => None,
        }
    }

    /// The consent decision made at start-up.
    pub(crate) fn consent(&self) -> Option<&ConsentDecision> {
        self.ready().map(|r| &r.consent)
    }

    /// The key and endpoint.
    pub(crate) fn delivery(&self) -> Option<&Delivery> {
        self.ready().map(|r| &r.delivery)
    }

    /// The state directory (`None` without a home directory or override).
    pub(crate) fn state_dir(&self) -> Option<&StateDir> {
        self.ready().and_then(Ready::dir)
    }

    /// What the handle does with events (as decided at start-up).
    pub fn mode(&self) -> Mode {
        self.ready().map_or(Mode::Off, |r| r.mode)
    }

    /// Whether events are being recorded now (off after `telemetry off` or `clear` in this
    /// process, or after the state directory failed).
    pub fn is_recording(&self) -> bool {
        self.ready()
            .is_some_and(|r| r.mode == Mode::Recording && r.active.load(Ordering::Relaxed))
    }

    /// Whether the first-run notice was shown by this process.
    pub fn notice_shown(&self) -> bool {
        self.ready().is_some_and(|r| r.notice_shown)
    }

    /// The queue, when there is a state directory.
    pub(crate) fn queue(&self) -> Option<Queue> {
        self.state_dir().cloned().map(Queue::new)
    }

    /// The identity store, when there is a state directory.
    pub(crate) fn identity_store(&self) -> Option<IdentityStore> {
        self.ready().and_then(|r| r.store.clone())
    }

    /// Stops recording for the rest of this process (after `telemetry off` or `clear`).
    pub(crate) fn deactivate(&self) {
        if let Some(ready) = self.ready() {
            ready.active.store(false, Ordering::Relaxed);
            ready.session().identity = None;
        }
    }

    /// An opt-out in this process (`telemetry off`, `clear`): stops recording and removes from
    /// the queue what this process appended before it (its own start-up and invocation events,
    /// an alias and the link it made), so an opt-out leaves nothing of its own to send. Returns
    /// how many records were removed.
    pub(crate) fn withdraw(&self) -> Result<usize, QueueError> {
        self.deactivate();
        let Some(ready) = self.ready() else {
            return Ok(0);
        };
        let (positions, aliases) = {
            let mut session = ready.session();
            // copied out of the ring's two halves (a `Vec::from` would rotate them in place)
            let (older, newer) = session.appended.as_slices();
            let positions = [older, newer].concat();
            session.appended.clear();
            (positions, std::mem::take(&mut session.aliases))
        };
        let removed = match self.queue() {
            Some(queue) => queue.discard(&positions, &aliases)?,
            None => 0,
        };
        let aliased = ready.session().aliased.take();
        if let (Some(linked), Some(store)) = (aliased, ready.store.as_ref()) {
            store.revert_link(&linked)?;
        }
        Ok(removed)
    }

    /// Appends `record` through this process's appender (opened on first use) and remembers
    /// where it went, or the first failure.
    fn append(ready: &Ready, session: &mut Session, record: &Record) {
        let line = frame::encode(&record.json);
        let appender = match (&mut session.appender, ready.dir()) {
            (Some(appender), _) => Some(appender),
            (none, Some(dir)) => Some(none.insert(Appender::new(dir.clone()))),
            (None, None) => None,
        };
        let appended = match appender {
            Some(appender) => appender.append(line.as_bytes(), record.uuid),
            None => Err(QueueError::Unavailable),
        };
        match appended {
            Ok((position, _)) => {
                ready.recorded.store(true, Ordering::Relaxed);
                session.appended_total += 1;
                if session.appended.len() >= WITHDRAWABLE_RECORDS {
                    session.appended.pop_front();
                }
                session.appended.push_back(position);
            }
            Err(error) => {
                warn_error("telemetry event not recorded", &error);
                // (after a lock timeout the appender stops waiting until the lock is free)
                session
                    .failure
                    .get_or_insert_with(|| RecordingFailure::of_queue(&error));
            }
        }
    }

    /// Why this process could not record, if it tried and failed.
    pub(crate) fn recording_failure(&self) -> Option<RecordingFailure> {
        self.ready().and_then(|r| r.session().failure.clone())
    }

    /// Records `event`: adds the common properties, a UUID v7 and a timestamp, attributes it
    /// to the current identity and appends it to the queue. Does nothing when telemetry is
    /// off; never fails (problems are reported through `tracing`).
    ///
    /// ```
    /// # mod schema {
    /// # use telemetry_core::{telemetry_event, telemetry_schema};
    /// #     /// Sent when the program starts.
    /// # #[telemetry_event(name = "binary.startup")]
    /// # pub struct BinaryStartup {}
    /// # telemetry_schema! {
    /// #         /// Every event.
    /// #     pub static SCHEMA = [BinaryStartup];
    /// # }
    /// # }
    /// # use schema::{BinaryStartup, SCHEMA};
    /// # let telemetry = telemetry_core::Telemetry::disabled();
    /// telemetry.track(&BinaryStartup {});
    /// ```
    ///
    /// Only events listed in the program's [`telemetry_schema!`](crate::telemetry_schema)
    /// are recorded, so every event recorded is in its docs and catalog: an event no schema
    /// lists does not compile, and one listed only by another schema (a library's) is not
    /// recorded (in debug mode, a line on stderr says so).
    pub fn track<E: Listed>(&self, event: &E) {
        self.track_record(E::META, &|identity, common| {
            Record::for_event(
                event,
                &identity.distinct_id(),
                identity.is_anonymous(),
                common,
            )
        });
    }

    /// [`track`](Self::track) but for making the record, which alone depends on the event's
    /// type: this part is compiled once, not once per event type.
    ///
    /// An event its program's schema does not list is not recorded. `Listed` proves only that
    /// *a* schema lists it: one of a library with a `telemetry_schema!` of its own is `Listed`
    /// in every program that links it, but is in neither this program's allowlist, nor its
    /// catalog, nor its page.
    fn track_record(
        &self,
        event: &'static EventMeta,
        make: &dyn Fn(&IdentityState, &CommonProperties) -> Record,
    ) {
        let Some(ready) = self.ready() else {
            return;
        };
        if ready.mode == Mode::Off
            || (ready.mode == Mode::Recording && !ready.active.load(Ordering::Relaxed))
        {
            return;
        }
        if !ready.config.schema().lists(event) {
            not_in_schema(ready, event);
            return;
        }
        let mut session = ready.session();
        if ready.mode == Mode::Debug {
            let record = make(self.debug_identity(ready, &mut session), &ready.common);
            debug::print(&mut std::io::stderr(), ready.config.app_name(), &record);
            return;
        }
        if !self.look_again_if_due(ready, &mut session, Instant::now(), false) {
            return;
        }
        let Some(identity) = self.recording_identity(ready, &mut session) else {
            return;
        };
        let record = make(identity, &ready.common);
        Self::append(ready, &mut session, &record);
    }

    /// In a handle that has lived [`SHARED_STATE_RECHECK`](crate::limits::SHARED_STATE_RECHECK),
    /// at most that often: whether another process changed the user's consent or the identity
    /// since the last look (or since the start). Consent withdrawn: this process stops
    /// recording and removes what it appended since the last look, when consent was still on
    /// (the opt-out may come before any of it), and `false` is returned. An identity changed
    /// (cleared, a login or logout): the next event reloads it. Two `stat`s a second at most.
    /// `at_exit`: the handle ends, so it looks whenever it has lived the interval (what it
    /// recorded since the last look would otherwise go with the sender its end starts).
    fn look_again_if_due(
        &self,
        ready: &Ready,
        session: &mut Session,
        now: Instant,
        at_exit: bool,
    ) -> bool {
        let every = crate::limits::SHARED_STATE_RECHECK;
        let since = match (&session.last_look, at_exit) {
            (Some(look), false) => look.at,
            _ => ready.started,
        };
        let Some(dir) = ready.dir() else {
            return true;
        };
        if now.saturating_duration_since(since) < every {
            return true;
        }
        let stamps = [
            Stamp::of(&dir.config_file()),
            Stamp::of(&dir.identity_file()),
        ];
        let changed = match &session.last_look {
            Some(look) => look.stamps != stamps,
            None => stamps
                .iter()
                .flatten()
                .any(|stamp| stamp.written_since(ready.started_wall)),
        };
        let looked_before = session.last_look.replace(SharedStateLook {
            at: now,
            stamps,
            appended_total: session.appended_total,
        });
        if !changed {
            return true;
        }
        session.identity = None;
        if consent::resolve(&ready.config, Some(dir)).enabled {
            crate::diagnostics::debug_event!(
                "telemetry identity or consent changed by another process; identity reloaded"
            );
            return true;
        }
        ready.active.store(false, Ordering::Relaxed);
        let since = looked_before.map_or(0, |look| look.appended_total);
        let count = usize::try_from(session.appended_total - since).unwrap_or(usize::MAX);
        let recent: Vec<Position> = session.appended.iter().rev().take(count).copied().collect();
        let removed = self.queue().map(|queue| queue.discard(&recent, &[]));
        crate::diagnostics::debug_event!(
            ?removed,
            "telemetry turned off by another process; recording stopped"
        );
        false
    }

    /// The identity to record under, loaded (or created) once per process.
    fn recording_identity<'s>(
        &self,
        ready: &Ready,
        session: &'s mut Session,
    ) -> Option<&'s IdentityState> {
        if session.identity.is_none() {
            match ready.store.as_ref()?.load_or_create() {
                Ok(identity) => session.identity = Some(identity),
                Err(error) => {
                    // a stuck holder of the lock leaves recording on: the next event looks
                    // again, waiting only a moment now (the directory remembers)
                    let stuck = matches!(error, crate::fsutil::StateError::LockTimeout { .. });
                    warn_error(
                        if stuck {
                            "telemetry event not recorded"
                        } else {
                            "telemetry identity unusable; telemetry is off for this run"
                        },
                        &error,
                    );
                    session
                        .failure
                        .get_or_insert_with(|| RecordingFailure::of_state(&error));
                    if !stuck {
                        ready.active.store(false, Ordering::Relaxed);
                    }
                    return None;
                }
            }
        }
        session.identity.as_ref()
    }

    /// Debug mode's identity: the stored one when telemetry is on and one exists (read, never
    /// created), else one made up for this process.
    fn debug_identity<'s>(&self, ready: &Ready, session: &'s mut Session) -> &'s IdentityState {
        session.identity.get_or_insert_with(|| {
            let stored = if ready.consent.enabled {
                ready
                    .store
                    .as_ref()
                    .and_then(|store| store.read().ok().flatten())
            } else {
                None
            };
            stored.unwrap_or_else(IdentityState::fresh)
        })
    }

    /// Links the identity to the account `principal_id` after a login (or at start-up, when
    /// the host finds the user logged in: lazy aliasing). If not already linked to it, an alias
    /// from the anonymous id is recorded before any event under the account (PostHog merges
    /// only that way). Does nothing when telemetry is off.
    ///
    /// Pass the account's opaque id, never an e-mail address or user name. The id is never
    /// sent or stored as given: events carry its keyed hash, a [`PrincipalId`] (`p_` and 32 hex
    /// digits, keyed by the project key, so the same account gets the same id on every
    /// machine of this product and a different one in any other). A value shaped like an
    /// e-mail address, a URL or a path, one with whitespace, or one longer than
    /// [`MAX_PRINCIPAL_LEN`](crate::MAX_PRINCIPAL_LEN) bytes is refused, whether telemetry is
    /// on or off (so a mistake shows in a developer's run too): nothing is linked, and the
    /// error says why (without the value). It is the only error: telemetry's own failures (a
    /// read-only home) are not the host's, and are traced instead.
    ///
    /// ```
    /// # let telemetry = telemetry_core::Telemetry::disabled();
    /// // after a successful login, with the account's opaque id (never an e-mail address);
    /// // a refusal is the developer's to see, never a reason to fail the login:
    /// if let Err(refused) = telemetry.link("acct_7f3b2a8c") {
    ///     eprintln!("note: usage data stays anonymous: {refused}");
    /// }
    /// assert!(telemetry.link("alice@example.com").is_err());
    /// // ... and on logout, after recording the logout's own event:
    /// telemetry.unlink();
    /// ```
    pub fn link(&self, principal_id: &str) -> Result<(), PrincipalError> {
        crate::identity::check_principal(principal_id)?;
        // checked whatever the mode; hashed only where it is linked
        let Some(ready) = self.ready().filter(|ready| ready.mode != Mode::Off) else {
            return Ok(());
        };
        // keyed by the key events are sent with (none in a keyless debug run: nothing is sent)
        let key = ready.delivery.key().unwrap_or_default();
        let principal = PrincipalId::derive(key, principal_id)?;
        match ready.mode {
            Mode::Off => {}
            Mode::Debug => self.link_in_debug_mode(ready, &principal),
            Mode::Recording => self.link_recording(ready, &principal),
        }
        Ok(())
    }

    /// Debug mode's link: prints the alias, changes only this process's identity.
    fn link_in_debug_mode(&self, ready: &Ready, principal: &PrincipalId) {
        let mut session = ready.session();
        let Some((identity, alias)) = self.debug_identity(ready, &mut session).link(principal)
        else {
            return;
        };
        if let Some(alias) = alias {
            debug::print(&mut std::io::stderr(), ready.config.app_name(), &alias);
        }
        session.identity = Some(identity);
    }

    /// The recording link: the alias is queued and the link stored, under the lock.
    fn link_recording(&self, ready: &Ready, principal: &PrincipalId) {
        if !ready.active.load(Ordering::Relaxed) {
            return;
        }
        let mut session = ready.session();
        if session
            .identity
            .as_ref()
            .is_some_and(|i| i.is_linked_to(principal))
        {
            return;
        }
        let (Some(store), Some(queue)) = (ready.store.as_ref(), self.queue()) else {
            return;
        };
        let state = match store.link(&queue, principal) {
            Ok(LinkOutcome::Aliased { state, alias }) => {
                ready.recorded.store(true, Ordering::Relaxed);
                // the alias went into the head: later events that meet the lock held go to a
                // new segment beside it, read after the alias (see `Appender::let_go_beside`)
                if let Some(appender) = session.appender.as_mut() {
                    appender.let_go_beside();
                }
                session.aliases.push(alias);
                session.aliased = Some(state.clone());
                state
            }
            Ok(LinkOutcome::Relinked { state } | LinkOutcome::AlreadyLinked { state }) => state,
            Err(error) => {
                warn_error("telemetry link failed", &error);
                return;
            }
        };
        session.identity = Some(state);
    }

    /// Unlinks the identity after a logout: record the logout's own event first (it goes out
    /// under the principal), then call this; a fresh anonymous id replaces the old one. When
    /// telemetry is off but an identity file exists, it is still rotated, so a link never
    /// outlives a logout.
    pub fn unlink(&self) {
        let Some(ready) = self.ready() else {
            return;
        };
        if ready.mode == Mode::Debug {
            let mut session = ready.session();
            if let Some(fresh) = session.identity.as_ref().and_then(IdentityState::unlinked) {
                session.identity = Some(fresh);
            }
            return;
        }
        let Some(store) = ready.store.as_ref() else {
            return;
        };
        match store.unlink() {
            Ok(Some(fresh)) => {
                let mut session = ready.session();
                if session.identity.is_some() {
                    session.identity = Some(fresh);
                }
            }
            Ok(None) => {}
            Err(error) => warn_error("telemetry unlink failed", &error),
        }
    }

    /// Starts timing a command; `build` makes its completion event from the outcome (so this
    /// crate needs no product-specific event). See [`CommandTimer`] for an example.
    pub fn time_command<E, F>(&self, build: F) -> CommandTimer<'_, E, F>
    where
        E: Listed,
        F: FnOnce(CommandOutcome) -> E,
    {
        CommandTimer {
            telemetry: self,
            started: Instant::now(),
            build: Some(build),
        }
    }
}

/// Says that `event` was not recorded because the program's schema does not list it: on
/// stderr in debug mode (which prints on the host's behalf by design), else as a diagnostic.
#[cold]
fn not_in_schema(ready: &Ready, event: &EventMeta) {
    if ready.mode == Mode::Debug {
        let _ = writeln!(
            std::io::stderr(),
            "[{} telemetry debug: not recorded] event `{}` ({}) is not listed in this program's telemetry_schema!",
            ready.config.app_name(),
            event.name,
            event.type_name
        );
    } else {
        // through the handle's out-of-line warning: no `tracing` call site of its own
        warn_error(
            "telemetry event not recorded: it is not listed in this program's telemetry schema",
            &event.name,
        );
    }
}

impl Telemetry {
    /// Ends telemetry for this process: stops [background delivery](Self::deliver_in_background)
    /// and, if this process recorded something and telemetry is still on, starts the detached
    /// sender (unless one is running or the back-off after a failure is not over). Dropping the
    /// handle does the same; call this before [`std::process::exit`], which skips destructors.
    /// Never waits for the network.
    pub fn finish(self) {
        drop(self);
    }

    /// Ends telemetry for this process as [`finish`](Self::finish) does, through a shared
    /// reference: for a handle behind an `Arc` that a server's shutdown path or a signal
    /// handler's thread (`tokio::signal`, the `ctrlc` crate; not a raw `sigaction` handler)
    /// reaches before it calls [`std::process::exit`]. It stops background delivery and, if
    /// this process recorded something and telemetry is still on, starts the detached sender
    /// (unless one is running, or one started less than
    /// [`FLUSH_INTERVAL`](crate::limits::FLUSH_INTERVAL) ago, or the back-off is not over:
    /// then the events wait, queued, for the next run). Never waits for the network.
    ///
    /// Afterwards the handle records nothing ([`is_recording`](Self::is_recording) is false),
    /// and calling it again, or dropping the handle, does nothing more.
    pub fn shutdown(&self) {
        self.end();
        if let Some(ready) = self.ready() {
            ready.active.store(false, Ordering::Relaxed);
        }
    }

    /// Delivers the queue while the host runs, every `every` (at least
    /// [`MIN_BACKGROUND_INTERVAL`](crate::limits::MIN_BACKGROUND_INTERVAL)), starting at
    /// once: for a long-running host (a server) that should not wait for its exit to send. A
    /// thread of this process checks consent again and, when records wait, starts the detached
    /// sender (same lock, back-off and checks as at exit; the host's process never sends
    /// itself); it stops when the handle is dropped (waiting at most
    /// [`BACKGROUND_STOP_WAIT`](crate::limits::BACKGROUND_STOP_WAIT)). Returns whether
    /// background delivery is running (never when telemetry is off, in debug mode, or without
    /// a key). Calling it again does nothing (the first interval stays).
    pub fn deliver_in_background(&self, every: std::time::Duration) -> bool {
        let Some(ready) = self.ready() else {
            return false;
        };
        if !self.is_recording() {
            return false;
        }
        let Some(dir) = ready.dir().cloned() else {
            return false;
        };
        let Ok(mut background) = ready.background.lock() else {
            return false;
        };
        if background.is_none() {
            *background =
                Background::start(ready.config.clone(), ready.delivery.clone(), dir, every);
        }
        background.is_some()
    }

    /// What dropping the handle (and [`shutdown`](Self::shutdown)) does.
    fn end(&self) {
        let State::Ready(ready) = &self.state else {
            return;
        };
        // taken out of the lock before it is stopped: its thread never takes this lock
        let background = ready
            .background
            .lock()
            .ok()
            .and_then(|mut background| background.take());
        if let Some(background) = background {
            background.stop(crate::limits::BACKGROUND_STOP_WAIT);
        }
        if ready.mode != Mode::Recording
            || !ready.active.load(Ordering::Relaxed)
            || !ready.recorded.load(Ordering::Relaxed)
        {
            return;
        }
        if !self.look_again_if_due(ready, &mut ready.session(), Instant::now(), true)
            || !ready.config.detached_sender()
        {
            return;
        }
        if let Some(dir) = ready.dir() {
            let decision = crate::delivery::spawn::spawn_if_due(
                &ready.config,
                dir,
                crate::delivery::spawn::Trigger::CommandExit,
            );
            crate::diagnostics::debug_event!(?decision, "telemetry finished");
        }
    }
}

impl Drop for Telemetry {
    fn drop(&mut self) {
        self.end();
    }
}

/// How a command ended: what a completion event is built from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommandOutcome {
    /// The exit code.
    pub exit_code: i32,
    /// How long it ran.
    pub duration: Duration,
    /// The class of the error it failed with (never its message).
    pub error_class: Option<ErrorClass>,
}

/// Times a command and records its completion event once, like Arcade's command tracker.
///
/// ```
/// # use std::time::Duration;
/// # use telemetry_core::{ErrorClass, Telemetry, telemetry_schema};
/// # /// Sent when a command finishes.
/// # #[telemetry_core::telemetry_event(name = "cli.command_completed")]
/// # struct CommandCompleted {
/// #     /// Exit code.
/// #     exit_code: i32,
/// #     /// Duration.
/// #     duration_ms: Duration,
/// #     /// Error class.
/// #     error_class: Option<ErrorClass>,
/// # }
/// # telemetry_schema! {
/// #     /// Every event.
/// #     static SCHEMA = [CommandCompleted];
/// # }
/// # fn run() -> Result<(), std::io::Error> { Ok(()) }
/// # let telemetry = Telemetry::disabled();
/// let timer = telemetry.time_command(|o| CommandCompleted {
///     exit_code: o.exit_code,
///     duration_ms: o.duration,
///     error_class: o.error_class,
/// });
/// match run() {
///     Ok(()) => timer.succeed(),
///     Err(error) => timer.fail(1, &error),
/// }
/// ```
///
/// Dropped without being finished, it records a failure: exit code 101 and error class
/// `Panic` while panicking, else exit code 1 and error class `CommandNotFinished`.
///
/// That is how a panic is recorded: as a failed command. The library installs no panic hook
/// (a hook is process-wide and the host's) and records no event of its own for a panic; with
/// `panic = "abort"` nothing unwinds and nothing is recorded. A host that wants a separate
/// event for panics (such as the demo's `error.uncaught`) records it itself, for example
/// around its command with [`std::panic::catch_unwind`], with fixed values (never the panic's
/// message or file location).
pub struct CommandTimer<'t, E, F>
where
    E: Listed,
    F: FnOnce(CommandOutcome) -> E,
{
    telemetry: &'t Telemetry,
    started: Instant,
    build: Option<F>,
}

impl<E, F> std::fmt::Debug for CommandTimer<'_, E, F>
where
    E: Listed,
    F: FnOnce(CommandOutcome) -> E,
{
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CommandTimer")
            .field("event", &E::META.name)
            .field("elapsed", &self.started.elapsed())
            .finish()
    }
}

/// The error class recorded for a command whose timer was dropped while panicking.
struct Panic;

/// The error class recorded for a command whose timer was dropped without being finished.
struct CommandNotFinished;

impl<E, F> CommandTimer<'_, E, F>
where
    E: Listed,
    F: FnOnce(CommandOutcome) -> E,
{
    /// How long the command has run.
    pub fn elapsed(&self) -> Duration {
        self.started.elapsed()
    }

    /// Records completion with `exit_code` and, on failure, the error's class.
    pub fn finish(mut self, exit_code: i32, error_class: Option<ErrorClass>) {
        self.record(exit_code, error_class);
    }

    /// Records a successful completion (exit code 0).
    pub fn succeed(self) {
        self.finish(0, None);
    }

    /// Records a failure with `exit_code` and the class of `error` (never its message).
    pub fn fail<Err: 'static>(self, exit_code: i32, error: &Err) {
        self.finish(exit_code, Some(ErrorClass::of(error)));
    }

    /// Records the outcome of `result`: exit code 0, or `failure_exit_code` and the error's
    /// class.
    pub fn finish_result<T, Err: 'static>(self, result: &Result<T, Err>, failure_exit_code: i32) {
        match result {
            Ok(_) => self.succeed(),
            Err(error) => self.fail(failure_exit_code, error),
        }
    }

    fn record(&mut self, exit_code: i32, error_class: Option<ErrorClass>) {
        if let Some(build) = self.build.take() {
            let event = build(CommandOutcome {
                exit_code,
                duration: self.started.elapsed(),
                error_class,
            });
            self.telemetry.track(&event);
        }
    }
}

impl<E, F> Drop for CommandTimer<'_, E, F>
where
    E: Listed,
    F: FnOnce(CommandOutcome) -> E,
{
    fn drop(&mut self) {
        if self.build.is_some() {
            if std::thread::panicking() {
                self.record(101, Some(ErrorClass::of_type::<Panic>()));
            } else {
                self.record(1, Some(ErrorClass::of_type::<CommandNotFinished>()));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Environment;

    use crate::test_events::done;

    fn start(home: &std::path::Path, env: &[(&str, &str)], key: &str) -> Telemetry {
        start_under(&crate::schema::DEMO, home, env, key)
    }

    /// [`start`] for the program whose schema is `schema`.
    fn start_under(
        schema: &'static crate::Schema,
        home: &std::path::Path,
        env: &[(&str, &str)],
        key: &str,
    ) -> Telemetry {
        let mut environment: Environment = env.iter().copied().collect();
        environment.set("HOME", home.to_string_lossy());
        Telemetry::start_with(
            TelemetryConfig::builder(schema)
                .project_key(key)
                .environment(environment)
                .working_dir(home)
                .on_terminal(false)
                .build()
                .unwrap(),
            &mut std::io::sink(),
        )
    }

    fn entries(dir: &std::path::Path) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort_unstable();
        names
    }

    #[test]
    fn off_creates_nothing() {
        let home = tempfile::tempdir().unwrap();
        for env in [
            &[][..],
            &[("DO_NOT_TRACK", "1"), ("DEMO_TELEMETRY", "1")][..],
            &[("CI", "true")][..],
        ] {
            let telemetry = start(home.path(), env, "phc_test");
            assert_eq!(telemetry.mode(), Mode::Off);
            telemetry.time_command(done).succeed();
            telemetry.link("user-1").unwrap();
            telemetry.unlink();
            assert!(entries(home.path()).is_empty(), "{env:?}");
        }
        // on, but the build has no key: still nothing
        let telemetry = start(home.path(), &[("DEMO_TELEMETRY", "1")], "");
        assert_eq!(telemetry.mode(), Mode::Off);
        telemetry.time_command(done).succeed();
        assert!(entries(home.path()).is_empty());
    }

    #[test]
    fn recording_writes_the_queue_with_one_identity() {
        let home = tempfile::tempdir().unwrap();
        let telemetry = start(home.path(), &[("DEMO_TELEMETRY", "1")], "phc_test");
        assert!(telemetry.is_recording());
        telemetry.time_command(done).fail(2, &std::fmt::Error);
        drop(telemetry.time_command(done));
        let records = telemetry.queue().unwrap().read_all().unwrap().records;
        assert_eq!(records.len(), 2);
        assert_eq!(records[0].distinct_id, records[1].distinct_id);
        let first: serde_json::Value = serde_json::from_str(&records[0].json).unwrap();
        assert_eq!(first["properties"]["exit_code"], 2);
        assert_eq!(first["properties"]["error_class"], "Error");
        assert_eq!(first["properties"]["$process_person_profile"], false);
        let second: serde_json::Value = serde_json::from_str(&records[1].json).unwrap();
        assert_eq!(second["properties"]["error_class"], "CommandNotFinished");
        let stored = telemetry.identity_store().unwrap().read().unwrap().unwrap();
        assert_eq!(stored.anon_id.to_string(), records[0].distinct_id);
    }

    /// `Listed` proves only that some schema lists an event: one a library's own
    /// `telemetry_schema!` lists is `Listed` in every program that links it. A program records
    /// only what its own schema lists (what its catalog and page show).
    #[test]
    fn an_event_the_programs_schema_does_not_list_is_not_recorded() {
        use crate::test_events::Ping;
        static PINGS_ONLY: crate::Schema = crate::Schema {
            events: &[<Ping as crate::Event>::META],
            ..crate::schema::DEMO
        };
        let home = tempfile::tempdir().unwrap();
        let telemetry = start_under(
            &PINGS_ONLY,
            home.path(),
            &[("DEMO_TELEMETRY", "1")],
            "phc_test",
        );
        assert!(telemetry.is_recording());
        telemetry.time_command(done).succeed();
        assert!(
            !home.path().join(".demo").exists(),
            "nothing recorded, not even an identity"
        );
        telemetry.track(&Ping);
        let records = telemetry.queue().unwrap().read_all().unwrap().records;
        let events: Vec<String> = records
            .iter()
            .map(|r| {
                serde_json::from_str::<serde_json::Value>(&r.json).unwrap()["event"].to_string()
            })
            .collect();
        assert_eq!(events, ["\"test.ping\""]);
    }

    fn hashed(principal: &str) -> String {
        PrincipalId::derive("phc_test", principal)
            .unwrap()
            .as_str()
            .to_string()
    }

    #[test]
    fn link_and_unlink_order() {
        let home = tempfile::tempdir().unwrap();
        let telemetry = start(home.path(), &[("DEMO_TELEMETRY", "1")], "phc_test");
        telemetry.time_command(done).succeed();
        telemetry.link("user-42").unwrap();
        telemetry.link("user-42").unwrap();
        telemetry.time_command(done).succeed();
        telemetry.unlink();
        telemetry.time_command(done).succeed();
        let records = telemetry.queue().unwrap().read_all().unwrap().records;
        let events: Vec<&str> = records.iter().map(|r| r.event.as_str()).collect();
        assert_eq!(
            events,
            ["test.done", "$create_alias", "test.done", "test.done"]
        );
        let anon = &records[0].distinct_id;
        let linked = hashed("user-42");
        assert_eq!(&records[1].distinct_id, anon);
        assert!(records[1].json.contains(&format!("\"alias\":\"{linked}\"")));
        assert!(!records[1].json.contains("$process_person_profile"));
        assert_eq!(records[2].distinct_id, linked);
        assert!(!records[2].json.contains("$process_person_profile"));
        assert_ne!(&records[3].distinct_id, anon);
        assert_ne!(records[3].distinct_id, linked);
        assert!(
            records[3]
                .json
                .contains("\"$process_person_profile\":false")
        );
        // the account id itself is in no record and no file
        for record in &records {
            assert!(!record.json.contains("user-42"), "{}", record.json);
        }
        for entry in std::fs::read_dir(home.path().join(".demo")).unwrap() {
            let text = std::fs::read(entry.unwrap().path()).unwrap();
            assert!(!String::from_utf8_lossy(&text).contains("user-42"));
        }
    }

    #[test]
    fn personal_looking_principals_link_nothing() {
        let home = tempfile::tempdir().unwrap();
        let telemetry = start(home.path(), &[("DEMO_TELEMETRY", "1")], "phc_test");
        telemetry.time_command(done).succeed();
        for principal in [
            "alice@example.com",
            "/home/alice",
            "https://example.com/alice",
            "alice smith",
            &"x".repeat(65),
        ] {
            assert!(telemetry.link(principal).is_err(), "{principal}");
        }
        telemetry.time_command(done).succeed();
        let records = telemetry.queue().unwrap().read_all().unwrap().records;
        assert_eq!(records.len(), 2);
        assert!(records.iter().all(|r| r.event == "test.done"));
        assert_eq!(records[0].distinct_id, records[1].distinct_id);
        let stored = telemetry.identity_store().unwrap().read().unwrap().unwrap();
        assert!(stored.is_anonymous());
        for record in &records {
            assert!(!record.json.contains("alice"), "{}", record.json);
        }
    }

    #[test]
    fn withdraw_removes_what_this_process_recorded_and_only_that() {
        let home = tempfile::tempdir().unwrap();
        let earlier = start(home.path(), &[("DEMO_TELEMETRY", "1")], "phc_test");
        earlier.time_command(done).succeed();
        let kept = earlier.queue().unwrap().read_all().unwrap().records;
        drop(earlier);
        let before = telemetry_identity(home.path());

        let telemetry = start(home.path(), &[("DEMO_TELEMETRY", "1")], "phc_test");
        telemetry.time_command(done).succeed();
        telemetry.link("user-42").unwrap();
        telemetry.time_command(done).succeed();
        assert_eq!(
            telemetry.queue().unwrap().read_all().unwrap().records.len(),
            4
        );
        assert_eq!(telemetry.withdraw().unwrap(), 3);
        assert!(!telemetry.is_recording());
        telemetry.time_command(done).succeed();
        assert_eq!(telemetry.queue().unwrap().read_all().unwrap().records, kept);
        // the alias was withdrawn, so the link is undone: the next link aliases again
        assert_eq!(telemetry_identity(home.path()), before);
        assert_eq!(telemetry.withdraw().unwrap(), 0);
    }

    /// What `track` does first when the handle has lived long enough, at `now`.
    fn look_again_at(telemetry: &Telemetry, now: Instant) -> bool {
        let ready = telemetry.ready().unwrap();
        let mut session = ready.session();
        telemetry.look_again_if_due(ready, &mut session, now, false)
    }

    /// A home whose user turned telemetry on (`telemetry on`, in the user's setting: what
    /// another process can turn off), and its state directory.
    fn turned_on_by_the_user() -> (tempfile::TempDir, StateDir) {
        let home = tempfile::tempdir().unwrap();
        let dir = StateDir::new(
            home.path().join(".demo"),
            crate::paths::StateDirSource::Home,
        );
        crate::fsutil::ensure_dir(dir.path()).unwrap();
        crate::consent::user_config::write(&dir, "demo", true).unwrap();
        (home, dir)
    }

    /// A long-lived handle follows what other processes change: a new identity is used from
    /// its next event, and an opt-out stops it and takes back what it recorded since it last
    /// looked (the opt-out may come before any of it).
    #[test]
    fn a_long_lived_handle_follows_what_other_processes_change() {
        let (home, dir) = turned_on_by_the_user();
        let server = start(home.path(), &[], "phc_test");
        assert_eq!(server.mode(), Mode::Recording);
        let second = Duration::from_secs(1);
        let records = || server.queue().unwrap().read_all().unwrap().records;

        server.time_command(done).succeed();
        let t0 = Instant::now();
        // younger than the recheck interval: it does not look (no `stat`)
        assert!(look_again_at(&server, t0));
        assert!(server.ready().unwrap().session().last_look.is_none());
        assert!(look_again_at(&server, t0 + 2 * second));
        server.time_command(done).succeed();
        let first_id = records()[0].distinct_id.clone();
        assert_eq!(records()[1].distinct_id, first_id);

        // another process clears the identity (consent stays on): a new one from the next event
        std::fs::remove_file(dir.identity_file()).unwrap();
        assert!(look_again_at(&server, t0 + 4 * second));
        server.time_command(done).succeed();
        let third = &records()[2];
        assert_ne!(
            third.distinct_id, first_id,
            "the cleared identity is not used"
        );

        // another process turns telemetry off; this one recorded once more before it looked
        crate::consent::user_config::write(&dir, "demo", false).unwrap();
        server.time_command(done).succeed();
        assert_eq!(records().len(), 4);
        assert!(!look_again_at(&server, t0 + 6 * second));
        assert!(!server.is_recording());
        server.time_command(done).succeed();
        let kept = records();
        assert_eq!(
            kept.len(),
            2,
            "the two recorded after the last look are taken back"
        );
        assert!(kept.iter().all(|r| r.distinct_id == first_id));
    }

    /// What a long-lived handle recorded after an opt-out elsewhere, too soon after its last
    /// look to be noticed, is taken back when it ends instead of going with its sender.
    #[test]
    fn a_long_lived_handle_looks_once_more_when_it_ends() {
        let (home, dir) = turned_on_by_the_user();
        let mut server = start(home.path(), &[], "phc_test");
        // as if it had been running for two seconds
        if let State::Ready(ready) = &mut server.state {
            ready.started -= Duration::from_secs(2);
            ready.started_wall -= Duration::from_secs(2);
        }
        let queue = server.queue().unwrap();
        server.time_command(done).succeed();
        // a look after the first event (the identity it created is the only change)
        assert!(look_again_at(
            &server,
            Instant::now() + Duration::from_millis(1500)
        ));
        crate::consent::user_config::write(&dir, "demo", false).unwrap();
        server.time_command(done).succeed();
        let recorded = queue.read_all().unwrap().records;
        assert_eq!(
            recorded.len(),
            2,
            "the second came before the next look was due"
        );
        drop(server);
        let left = Queue::new(dir.clone()).read_all().unwrap().records;
        assert_eq!(left, recorded[..1]);
    }

    /// The state directory's lock, held through another open file description: another
    /// process, as far as `flock` is concerned (a command stopped while it appended).
    fn held_elsewhere(dir: &StateDir) -> crate::fsutil::StateLock {
        crate::fsutil::StateLock::acquire(
            &dir.lock_file(),
            crate::fsutil::LockMode::Exclusive,
            crate::fsutil::LOCK_WAIT,
        )
        .unwrap()
    }

    /// A process that holds the state directory's lock and does not let go (stopped with
    /// Ctrl-Z while it appended) costs a host no more than the append's own short wait
    /// ([`APPEND_LOCK_WAIT`](crate::limits::APPEND_LOCK_WAIT)), once, and loses nothing: its
    /// records go beside the queue's head while the lock stays held, then to the head again.
    /// No timing is asserted: the appender's own tests show that it stops waiting.
    #[test]
    fn a_lock_held_by_a_stuck_process_costs_no_wait_and_loses_nothing() {
        let (home, dir) = turned_on_by_the_user();
        let telemetry = start(home.path(), &[], "phc_test");
        assert_eq!(
            telemetry.state_dir().unwrap().current_lock_wait(),
            crate::limits::HOST_LOCK_WAIT
        );
        telemetry.time_command(done).succeed();
        let records = || Queue::new(dir.clone()).read_all().unwrap().records;
        assert_eq!(records().len(), 1);

        let stuck = held_elsewhere(&dir);
        telemetry.time_command(done).succeed();
        telemetry.time_command(done).succeed();
        assert_eq!(records().len(), 3, "recorded beside the head");
        assert_eq!(telemetry.recording_failure(), None);
        // the append's short wait leaves the directory's budget to its other users
        assert_eq!(
            telemetry.state_dir().unwrap().current_lock_wait(),
            crate::limits::HOST_LOCK_WAIT
        );

        drop(stuck);
        telemetry.time_command(done).succeed();
        assert_eq!(records().len(), 4, "the event after the lock was let go");
    }

    /// A lock held before the first event of a run whose identity exists: the identity is read
    /// without the lock (it is only ever replaced whole), so the run records as above.
    #[test]
    fn a_lock_held_before_the_first_event_does_not_keep_an_identity_from_loading() {
        let (home, dir) = turned_on_by_the_user();
        start(home.path(), &[], "phc_test")
            .time_command(done)
            .succeed();
        let stuck = held_elsewhere(&dir);
        let telemetry = start(home.path(), &[], "phc_test");
        telemetry.time_command(done).succeed();
        telemetry.time_command(done).succeed();
        assert_eq!(telemetry.recording_failure(), None);
        drop(stuck);
        let records = Queue::new(dir.clone()).read_all().unwrap().records;
        assert_eq!(records.len(), 3);
        let ids: Vec<&str> = records.iter().map(|r| r.distinct_id.as_str()).collect();
        assert!(ids.iter().all(|id| *id == ids[0]), "{ids:?}");
    }

    /// A lock held before the first event of the first run, when there is no identity yet:
    /// the first identity is created without the lock, so the run records as above. A login
    /// meanwhile (it writes the identity under the lock) waits once
    /// ([`HOST_LOCK_WAIT`](crate::limits::HOST_LOCK_WAIT)) and links nothing, later users of
    /// the lock wait only a moment; the next start-up's login links (the README says to link
    /// at every start-up). Once the lock is let go, the directory's full wait is back.
    #[test]
    fn a_lock_held_through_a_first_run_keeps_its_events() {
        let (home, dir) = turned_on_by_the_user();
        let stuck = held_elsewhere(&dir);
        let telemetry = start(home.path(), &[], "phc_test");
        telemetry.time_command(done).succeed();
        let dir_now = || telemetry.state_dir().unwrap();
        // the login writes the identity under the lock: it waits once, then later users wait
        // only a moment while the lock stays held
        telemetry.link("user-42").unwrap();
        assert!(dir_now().lock_held_elsewhere());
        assert!(dir_now().current_lock_wait() < crate::limits::HOST_LOCK_WAIT);
        telemetry.time_command(done).succeed();
        assert!(telemetry.is_recording());
        assert_eq!(telemetry.recording_failure(), None);

        drop(stuck);
        telemetry.time_command(done).succeed();
        assert!(!dir_now().lock_held_elsewhere());
        assert_eq!(dir_now().current_lock_wait(), crate::limits::HOST_LOCK_WAIT);
        let records = Queue::new(dir.clone()).read_all().unwrap().records;
        assert_eq!(records.len(), 3, "{records:?}");
        assert!(records.iter().all(|r| r.event.as_str() != "$create_alias"));
        let identity = telemetry_identity(home.path()).unwrap();
        assert!(identity.is_anonymous(), "linked while the lock was held");
        let ids = records.iter().map(|r| r.distinct_id.as_str());
        assert!(ids.into_iter().all(|id| id == identity.anon_id.to_string()));

        // once it is free the login links, and the next event, under the account, is read
        // after the alias (the events kept beside the head while it was held are read last)
        telemetry.link("user-42").unwrap();
        telemetry.time_command(done).succeed();
        let records = Queue::new(dir.clone()).read_all().unwrap().records;
        let alias = records
            .iter()
            .position(|r| r.event.as_str() == "$create_alias")
            .unwrap();
        let linked = telemetry_identity(home.path()).unwrap().distinct_id();
        let under_account = records
            .iter()
            .position(|r| r.distinct_id.as_str() == linked)
            .unwrap();
        assert!(alias < under_account, "{records:?}");
    }

    fn telemetry_identity(home: &std::path::Path) -> Option<IdentityState> {
        IdentityStore::new(StateDir::new(
            home.join(".demo"),
            crate::paths::StateDirSource::Home,
        ))
        .read()
        .unwrap()
    }

    #[test]
    fn a_failure_to_record_is_remembered_for_status() {
        let home = tempfile::tempdir().unwrap();
        // HOME is a regular file: the state directory cannot be created
        let file = home.path().join("not-a-dir");
        std::fs::write(&file, "").unwrap();
        let telemetry = start(&file, &[("DEMO_TELEMETRY", "1")], "phc_test");
        assert_eq!(telemetry.mode(), Mode::Recording);
        assert_eq!(telemetry.recording_failure(), None);
        telemetry.time_command(done).succeed();
        assert!(!telemetry.is_recording());
        let failure = telemetry.recording_failure().unwrap();
        assert!(failure.what.contains("not-a-dir"), "{failure:?}");
        assert!(!failure.fix.is_empty());
    }

    #[test]
    fn opt_out_waits_for_the_notice() {
        let home = tempfile::tempdir().unwrap();
        let config = |terminal| {
            TelemetryConfig::builder(&crate::schema::DEMO_OPT_OUT)
                .project_key("phc_test")
                .environment(Environment::empty().with("HOME", home.path().to_string_lossy()))
                .working_dir(home.path())
                .on_terminal(terminal)
                .build()
                .unwrap()
        };
        // a run started at the same moment as the first (its sibling), on another terminal
        let sibling = config(false);
        let mut notice = Vec::new();
        let first = Telemetry::start_with(config(true), &mut notice);
        assert!(first.notice_shown());
        assert!(!notice.is_empty());
        assert_eq!(first.mode(), Mode::Off);
        first.time_command(done).succeed();
        assert!(!home.path().join(".demo/telemetry-queue.jsonl").exists());
        // the sibling, started before the notice was shown, does not record either
        let sibling = Telemetry::start_with(sibling, &mut std::io::sink());
        assert!(!sibling.is_recording());
        // the user has had the time to read the notice
        let marker = home.path().join(".demo/telemetry-notice-shown");
        crate::fsutil::written_ago(&marker, Duration::from_secs(10));
        let second = Telemetry::start_with(config(false), &mut std::io::sink());
        assert!(second.is_recording());
    }

    #[test]
    fn debug_mode_records_nothing() {
        let home = tempfile::tempdir().unwrap();
        let telemetry = start(home.path(), &[("DEMO_TELEMETRY_DEBUG", "1")], "");
        assert_eq!(telemetry.mode(), Mode::Debug);
        telemetry.link("user-1").unwrap();
        telemetry.unlink();
        assert!(entries(home.path()).is_empty());
    }

    #[test]
    fn background_delivery_starts_once_and_stops_with_the_handle() {
        // a round starts the detached sender (delivery's tests and the demo's `serve` tests
        // cover what it sends); here: the handle's side of it
        let home = tempfile::tempdir().unwrap();
        let telemetry = start(home.path(), &[("DEMO_TELEMETRY", "1")], "phc_test");
        telemetry.time_command(done).succeed();
        assert!(telemetry.deliver_in_background(Duration::from_secs(1)));
        assert!(telemetry.deliver_in_background(Duration::from_secs(1)));
        let started = Instant::now();
        drop(telemetry);
        assert!(started.elapsed() < Duration::from_secs(3));
        assert!(!Telemetry::disabled().deliver_in_background(Duration::from_secs(1)));
        let keyless = start(home.path(), &[("DEMO_TELEMETRY", "1")], "");
        assert!(!keyless.deliver_in_background(Duration::from_secs(1)));
    }

    /// A handle shared behind an `Arc` ends from another thread (a signal handler's), as
    /// dropping it would: background delivery stops, recording stops, and neither a later
    /// event, a second call nor the last drop does anything more. (That the sender starts is
    /// the demo's `delivery.rs::a_server_stopped_by_sigterm_hands_its_events_to_a_sender`.)
    #[test]
    fn shutdown_through_a_shared_handle_ends_it_once() {
        let home = tempfile::tempdir().unwrap();
        let telemetry =
            std::sync::Arc::new(start(home.path(), &[("DEMO_TELEMETRY", "1")], "phc_test"));
        telemetry.time_command(done).succeed();
        assert!(telemetry.deliver_in_background(Duration::from_secs(1)));
        let records = || telemetry.queue().unwrap().read_all().unwrap().records.len();
        assert_eq!(records(), 1);

        let shared = std::sync::Arc::clone(&telemetry);
        let started = Instant::now();
        std::thread::spawn(move || shared.shutdown())
            .join()
            .unwrap();
        assert!(
            started.elapsed() < Duration::from_secs(3),
            "waits for no network"
        );
        assert!(!telemetry.is_recording());
        let ready = telemetry.ready().unwrap();
        assert!(
            ready.background.lock().unwrap().is_none(),
            "background stopped"
        );

        telemetry.time_command(done).succeed();
        assert_eq!(records(), 1, "nothing recorded after the shutdown");
        telemetry.shutdown();
        assert!(!telemetry.deliver_in_background(Duration::from_secs(1)));
        drop(telemetry);
        Telemetry::disabled().shutdown();
    }

    #[test]
    fn a_panic_is_recorded_as_a_failed_command_and_nothing_else() {
        let home = tempfile::tempdir().unwrap();
        let telemetry = start(home.path(), &[("DEMO_TELEMETRY", "1")], "phc_test");
        let panicked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            let _timer = telemetry.time_command(done);
            panic!("the host's bug, at /home/alice/secret-repo");
        }));
        assert!(panicked.is_err());
        let records = telemetry.queue().unwrap().read_all().unwrap().records;
        assert_eq!(records.len(), 1);
        let value: serde_json::Value = serde_json::from_str(&records[0].json).unwrap();
        assert_eq!(value["properties"]["exit_code"], 101);
        assert_eq!(value["properties"]["error_class"], "Panic");
        assert!(!records[0].json.contains("secret-repo"));
    }

    #[test]
    fn the_handle_can_be_shared_across_threads() {
        fn shared<T: Send + Sync>() {}
        shared::<Telemetry>();
    }

    #[test]
    fn misconfigured_is_silent() {
        static NOT_VALID: crate::Schema = crate::Schema {
            product: crate::Product {
                name: "Not Valid",
                ..crate::schema::DEMO.product
            },
            ..crate::schema::DEMO
        };
        let telemetry = TelemetryConfig::builder(&NOT_VALID).start();
        assert!(telemetry.config_error().is_some());
        telemetry.time_command(done).succeed();
        assert_eq!(telemetry.mode(), Mode::Off);
        assert_eq!(Telemetry::disabled().mode(), Mode::Off);
    }
}

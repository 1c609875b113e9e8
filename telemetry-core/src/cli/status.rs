//! `telemetry status`.
//!
//! Written with `write!` into one `String` and with one non-generic path per kind of thing
//! (a problem, a JSON member): this is the largest subcommand, and every `format!` temporary,
//! clone or generic instantiation here is code every host binary carries.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use super::{Io, command_name, home, report_config_error};
use crate::config::{EnvNames, TelemetryConfig};
use crate::consent::{ConsentDecision, ConsentSource, tilde};
use crate::delivery::{DeliverySource, RejectionClass, SenderState};
use crate::event::writer::write_json_str;
use crate::fsutil::{self, StateError};
use crate::handle::{Mode, Telemetry};
use crate::identity::IdentityState;
use crate::paths::StateDir;
use crate::queue::QueueStats;

/// A problem found in the telemetry files, and how to fix it.
pub(super) struct Problem {
    pub(super) what: String,
    pub(super) fix: String,
}

/// The problems `status` reports, in the order found, each once; a check that finds a file
/// already named by an earlier problem adds nothing.
#[derive(Default)]
struct Problems(Vec<Problem>);

impl Problems {
    fn push(&mut self, problem: Problem) {
        if !self.0.iter().any(|p| p.what == problem.what) {
            self.0.push(problem);
        }
    }

    /// Adds the problem `error` describes, with its own fix. Takes the error, so that no
    /// caller keeps one alive (with a drop and a landing pad of its own) across the call.
    fn push_state(&mut self, error: StateError) {
        self.push(Problem::new(error.to_string(), error.fix_hint()));
    }

    /// Whether an earlier problem names the file at `path`.
    fn names(&self, path: &Path) -> bool {
        let name = path.file_name().unwrap_or_default().to_string_lossy();
        let name = name.as_bytes();
        // `str::contains` by hand: the std one inlines a two-way searcher here (3.5 KB in a
        // host) to look for a file name in a few short messages. An empty name is in every
        // message, as for `contains`.
        self.0
            .iter()
            .any(|p| name.is_empty() || p.what.as_bytes().windows(name.len()).any(|w| w == name))
    }

    fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl Problem {
    /// A problem and its fix (owned `String`s, not `impl Into<String>`: one constructor for
    /// every caller instead of one per argument type).
    pub(super) fn new(what: String, fix: String) -> Self {
        Problem { what, fix }
    }

    /// The user's config cannot be read (`what` says why).
    fn unreadable_user_config(config: &TelemetryConfig, what: String) -> Self {
        let cmd = config.command_name();
        Problem::new(
            what,
            format!(
                "run `{cmd} telemetry on` or `{cmd} telemetry off` to rewrite it, or remove it"
            ),
        )
    }
}

/// Everything `status` reports, borrowing what the handle already holds.
struct Report<'a> {
    recording: bool,
    mode: Mode,
    consent_enabled: bool,
    source: &'a ConsentSource,
    source_text: String,
    has_key: bool,
    /// The key and host are a development endpoint's (debug builds only).
    dev_endpoint: bool,
    host: &'a str,
    /// Absolute, for scripts (`status --json`); shown with `~` in the text.
    state_dir: Option<&'a Path>,
    /// The state directory as the text shows it.
    state_dir_shown: Option<String>,
    identity: Option<IdentityState>,
    /// The identity file is there but could not be read (damaged, or this user cannot open
    /// it): "none" would be wrong.
    identity_unread: bool,
    queued: usize,
    damaged: usize,
    sent_recently: usize,
    stats: QueueStats,
    last_event: Option<(String, String)>,
    sender: SenderState,
    sender_running: Option<u32>,
    problems: Vec<Problem>,
    notes: Vec<String>,
}

pub(super) fn run(telemetry: &Telemetry, as_json: bool, io: &mut Io<'_>) -> i32 {
    if report_config_error(telemetry, io) {
        return 1;
    }
    let Some(report) = gather(telemetry) else {
        return 1;
    };
    io.out(&if as_json {
        to_json(&report)
    } else {
        to_text(telemetry, &report)
    });
    for note in &report.notes {
        io.warn(note);
    }
    for problem in &report.problems {
        io.problem(&problem.what, &problem.fix);
    }
    i32::from(!report.problems.is_empty())
}

/// The files in the state directory `status` checks besides the consent and identity files:
/// the queue, the sent log, the counters, the locks, the notice marker and the sender's state.
fn data_files(dir: &StateDir) -> Vec<PathBuf> {
    let mut files = crate::queue::segment::files(dir.path());
    files.extend(dir.bookkeeping_files());
    files.push(dir.notice_marker());
    files
}

/// Checks the files in the state directory, reading only. `identity_error` is why reading the
/// identity file failed, if it did; the user's config is read here only when an earlier source
/// decided consent, since otherwise consent read it already.
fn check_files(
    telemetry: &Telemetry,
    consent: &ConsentDecision,
    identity_error: Option<StateError>,
    files: &[PathBuf],
    problems: &mut Problems,
) {
    let Some(config) = telemetry.config() else {
        return;
    };
    let Some(dir) = telemetry.state_dir() else {
        problems.push(Problem::new(
            "there is no home directory, so telemetry has nowhere to keep its state (HOME is unset, not an absolute path, or not valid Unicode, as a state directory variable may be too)".into(),
            format!(
                "set HOME, or {} to a directory telemetry may use",
                config.env_names().dir
            ),
        ));
        return;
    };
    match std::fs::metadata(dir.path()) {
        Ok(meta) if !meta.is_dir() => {
            problems.push_state(StateError::NotADirectory {
                path: dir.path().to_path_buf(),
            });
            return;
        }
        Ok(_) => {}
        Err(_) => {
            if let Some(problem) = missing_parent(config, dir) {
                problems.push(problem);
            }
            if let ConsentSource::UserConfigUnreadable { problem, .. } = &consent.source {
                problems.push(Problem::unreadable_user_config(config, problem.clone()));
            }
            return;
        }
    }
    let config_file = dir.config_file();
    let config_file_regular = match fsutil::check_regular(&config_file) {
        Ok(_) => true,
        Err(e) => {
            problems.push_state(e);
            false
        }
    };
    for path in files {
        if let Err(e) = fsutil::check_regular(path) {
            problems.push_state(e);
        }
    }
    // files this user cannot use (a `sudo` run's), a read-only directory, running as root
    for p in crate::delivery::problems(config, dir) {
        problems.push(Problem::new(p.what, p.fix));
    }
    let unreadable_config = match &consent.source {
        // a file that is not a regular file was reported above
        ConsentSource::UserConfigUnreadable { problem, .. } => {
            config_file_regular.then(|| problem.clone())
        }
        // consent read the file and it was fine
        ConsentSource::UserConfig { .. }
        | ConsentSource::Ci { .. }
        | ConsentSource::Default { .. } => None,
        // an earlier source decided, so consent did not read it
        _ => match crate::consent::user_config::read(&config_file) {
            Err(e @ (StateError::Corrupt { .. } | StateError::TooLarge { .. })) => {
                Some(e.to_string())
            }
            _ => None,
        },
    };
    if let Some(what) = unreadable_config {
        problems.push(Problem::unreadable_user_config(config, what));
    }
    match fsutil::check_regular(&dir.identity_file()) {
        Err(e) => problems.push_state(e),
        Ok(true) => match identity_error {
            Some(e @ (StateError::Corrupt { .. } | StateError::TooLarge { .. })) => {
                problems.push(Problem::new(
                    e.to_string(),
                    format!(
                        "run `{} telemetry clear` (or remove it); a new anonymous ID is made when needed",
                        config.command_name()
                    ),
                ));
            }
            Some(other) => problems.push_state(other),
            None => {}
        },
        Ok(false) => {}
    }
}

/// How long `telemetry.lock` must stay held, looked at every 2 ms, before `status` reports it
/// as stuck: far longer than a live holder keeps it (an append, a sender's acknowledgement,
/// each let go within milliseconds even on a slow disk). Two looks a moment apart were not
/// enough: a sender holding it across both made a healthy directory's `status` fail. `status`
/// waits this long only when the lock really stays held.
const STUCK_LOCK_AFTER: std::time::Duration = std::time::Duration::from_secs(1);

/// A `telemetry.lock` held by another process for longer than any holder keeps it: a command
/// stopped with Ctrl-Z, or paused in a debugger, while it held it. Commands keep their events
/// beside the queue meanwhile, but no sender acknowledges anything, and `on`/`off` cannot save
/// a choice, until it is let go.
fn check_lock(dir: &StateDir, problems: &mut Problems) {
    let lock = dir.lock_file();
    if fsutil::StateLock::held_throughout(&lock, STUCK_LOCK_AFTER).unwrap_or(false) {
        let error = StateError::LockTimeout {
            path: lock,
            waited: STUCK_LOCK_AFTER,
        };
        problems.push(Problem::new(
            format!(
                "{error}: events are kept beside the queue meanwhile, but none is sent until it is let go"
            ),
            error.fix_hint(),
        ));
    }
}

/// Why the state directory `dir`, which does not exist, could not be created because of its
/// parent: missing, or not a directory (HOME pointing at a file).
fn missing_parent(config: &TelemetryConfig, dir: &StateDir) -> Option<Problem> {
    let parent = dir.path().parent()?;
    let var = &config.env_names().dir;
    let (parent_shown, dir_shown) = (parent.display(), dir.path().display());
    let (what, fix) = match std::fs::metadata(parent) {
        Ok(meta) if meta.is_dir() => return None,
        Ok(_) => (
            "is not a directory (it is a file), so",
            "point HOME at your home directory, or",
        ),
        Err(_) => ("does not exist, so", "create it, or"),
    };
    Some(Problem::new(
        format!("{parent_shown} {what} {dir_shown} cannot be created"),
        format!("{fix} set {var} to a directory telemetry may use"),
    ))
}

/// The files `status` reads (or a sender would) that may exist but cannot be opened: a file
/// at mode 000, or under a directory this user cannot search. `files` are [`data_files`]; the
/// notice marker only needs to exist, and the consent and identity files are checked where
/// they are read.
fn check_readable(dir: &StateDir, files: &[PathBuf], problems: &mut Problems) {
    let notice_marker = dir.notice_marker();
    for path in files {
        if *path == notice_marker || problems.names(path) {
            continue;
        }
        if let Err(e) = fsutil::open_regular(path) {
            problems.push_state(e);
        }
    }
}

/// Whether this process is meant to record (on, with a key and a state directory), so the
/// directory must be writable.
fn meant_to_record(telemetry: &Telemetry) -> bool {
    telemetry.mode() == Mode::Recording
}

/// When telemetry is on: whether it can write its directory, so a run that records nothing
/// says why. Creates the directory if missing (recording would), and writes, syncs and
/// removes a probe file, which is how a full disk or a read-only file system shows. Only the
/// first cause is reported: they all stop recording. `source` is what decided consent, as
/// shown. Returns whether nothing can be recorded.
fn check_writable(telemetry: &Telemetry, source: &str, problems: &mut Problems) -> bool {
    let (Some(config), Some(dir)) = (telemetry.config(), telemetry.state_dir()) else {
        return false;
    };
    if !meant_to_record(telemetry) || !problems.is_empty() {
        return false;
    }
    let unrecordable = "nothing can be recorded";
    let (effect, what, fix, stops) = if let Err(e) = fsutil::ensure_dir(dir.path()) {
        (unrecordable, e.to_string(), e.fix_hint(), true)
    } else if let Some(failure) = telemetry.recording_failure() {
        (unrecordable, failure.what, failure.fix, true)
    } else if let Some(queue) = telemetry.queue()
        && let Err(e) = queue.check_acknowledgeable()
    {
        let effect = "its directory cannot be written, so nothing is sent";
        (effect, e.to_string(), e.fix_hint(), false)
    } else {
        return false;
    };
    let var = &config.env_names().dir;
    let fix = if fix.ends_with("elsewhere") {
        format!("{fix} with {var}")
    } else {
        format!("{fix}; or set {var} to a directory you can write")
    };
    problems.push(Problem::new(
        format!("telemetry is on ({source}), but {effect}: {what}"),
        fix,
    ));
    stops
}

fn gather(telemetry: &Telemetry) -> Option<Report<'_>> {
    let consent = telemetry.consent()?;
    let delivery = telemetry.delivery()?;
    let home = home(telemetry);
    let state_dir = telemetry.state_dir();
    let (identity, identity_error) = match telemetry.identity_store().map(|store| store.read()) {
        Some(Ok(identity)) => (identity, None),
        Some(Err(e)) => (None, Some(e)),
        None => (None, None),
    };
    let identity_unread = identity_error.is_some();
    let mut problems = Problems::default();
    let files = state_dir.map(data_files).unwrap_or_default();
    check_files(telemetry, consent, identity_error, &files, &mut problems);
    if let Some(dir) = state_dir {
        check_readable(dir, &files, &mut problems);
        check_lock(dir, &mut problems);
    }
    let source_text = consent.source.describe(home.as_deref());
    let unrecordable = check_writable(telemetry, &source_text, &mut problems);
    let mut notes = Vec::new();
    if let Some(note) = telemetry.config().and_then(crate::debug::not_understood) {
        notes.push(note);
    }
    let (mut queued, mut damaged, mut sent_recently, mut stats, mut last_event) =
        (0, 0, 0, QueueStats::default(), None);
    if let Some(queue) = telemetry.queue() {
        let mut latest: Option<(String, String)> = None;
        let mut consider = |event: &str, timestamp: &str| {
            if latest.as_ref().is_none_or(|(_, t)| timestamp > t.as_str()) {
                latest = Some((event.to_string(), timestamp.to_string()));
            }
        };
        if let Ok(summary) = queue.summary(1) {
            queued = summary.waiting;
            damaged = summary.damaged;
            for r in &summary.newest {
                consider(&r.event, &r.timestamp);
            }
        }
        if let Ok(sent) = queue.recently_sent() {
            sent_recently = sent.len();
            for s in &sent {
                consider(&s.record.event, &s.record.timestamp);
            }
        }
        stats = queue.stats().unwrap_or_default();
        last_event = latest;
    }
    if damaged > 0 {
        notes.push(format!(
            "{damaged} damaged record(s) in the queue are skipped (the sender drops them, counted, as it passes them)"
        ));
    }
    if let Some(path) = &consent.ignored_project_opt_in {
        notes.push(format!(
            "{} asks to turn telemetry on, which a project cannot do; it is ignored",
            tilde(path, home.as_deref())
        ));
    }
    if let Some(ignored) = delivery.ignored_override() {
        notes.push(ignored.to_string());
    }

    let sender = state_dir.map(SenderState::read).unwrap_or_default();
    if let (Some(config), Some(count)) = (telemetry.config(), sender.senders_not_run_reported()) {
        problems.push(senders_not_run(config, count));
    }
    if let Some(failure) = &sender.last_failure {
        use crate::delivery::outcome::FailureClass;
        // a sender interrupted once (a shutdown, a `kill`) is no fault; after another failure
        // it is, as a crash is at once
        let failures = sender.consecutive_failures;
        match failure.class {
            FailureClass::Crashed if failures > 0 => problems.push(sender_crashed(failures)),
            FailureClass::Interrupted if failures > 1 => {
                problems.push(sender_interrupted(failures));
            }
            _ => {}
        }
    }
    let has_key = delivery.has_key();
    Some(Report {
        recording: telemetry.is_recording() && !unrecordable,
        mode: telemetry.mode(),
        consent_enabled: consent.enabled,
        source: &consent.source,
        source_text,
        has_key,
        dev_endpoint: has_key && matches!(delivery.source(), DeliverySource::DevEndpoint { .. }),
        host: delivery.base_url(),
        state_dir: state_dir.map(StateDir::path),
        state_dir_shown: state_dir.map(|d| tilde(d.path(), home.as_deref())),
        identity,
        identity_unread,
        queued,
        damaged,
        sent_recently,
        stats,
        last_event,
        sender,
        sender_running: state_dir.and_then(crate::delivery::running_sender),
        problems: problems.0,
        notes,
    })
}

/// The last `count` senders this program started exited before they sent anything. A sender
/// is this program run again with a flag only `Telemetry::start` understands, so what runs
/// before `start` in `main` runs in it too: an argument parser refuses the flag and exits. Or
/// something stopped it with the command: a systemd unit's control group, a container.
fn senders_not_run(config: &TelemetryConfig, count: u32) -> Problem {
    Problem::new(
        format!(
            "the last {count} telemetry senders this program started exited before sending anything, so recorded events are not being sent"
        ),
        format!(
            "if you build {}: start telemetry (`TelemetryConfig::builder(..).start()`) first thing in `main`, before parsing arguments, since the sender is this program run again; if it runs where everything it started is stopped when it ends (a systemd unit's control group, a container's exit, a sandbox), senders cannot outlive it there; otherwise, report it to its authors",
            config.command_name()
        ),
    )
}

/// The last sender panicked (after `failures` failed attempts in a row, the last its crash).
#[cold]
fn sender_crashed(failures: u32) -> Problem {
    Problem::new(
        format!(
            "the last telemetry sender crashed before it finished ({failures} failed attempt(s) in a row); recorded events wait in the queue"
        ),
        "a later sender tries again after a back-off; if it keeps crashing, report it to the program's authors".to_owned(),
    )
}

/// The last sender ended holding its lock, after `failures - 1` other failed attempts.
#[cold]
fn sender_interrupted(failures: u32) -> Problem {
    Problem::new(
        format!(
            "the last telemetry sender was stopped before it finished, and the attempt before it failed too ({failures} failed attempt(s) in a row); recorded events wait in the queue"
        ),
        "a later sender tries again after a back-off; if senders keep being stopped (the program aborts on a panic, or something kills them), report it to the program's authors".to_owned(),
    )
}

// `write!` into a `String` cannot fail: the results below are ignored with `let _`.

fn to_text(telemetry: &Telemetry, r: &Report<'_>) -> String {
    let cmd = command_name(telemetry);
    let config = telemetry.config();
    let names = config.map(TelemetryConfig::env_names);
    let mut out = String::with_capacity(1024);
    let o = &mut out;
    // on, with a key, but no directory to record in (no home): a problem to fix, like one
    // that is there but unusable, not something to turn on
    let blocked = r.mode == Mode::Recording
        || (r.consent_enabled && r.has_key && r.state_dir.is_none() && r.mode != Mode::Debug);
    let headline = match r.mode {
        Mode::Debug => "DEBUG (events are printed to stderr, never recorded or sent)",
        _ if r.recording => "ENABLED",
        _ if r.consent_enabled && !r.has_key => {
            "DISABLED (this build has no PostHog key: nothing can be recorded or sent, whatever the settings)"
        }
        _ if blocked => {
            "DISABLED (telemetry is on, but nothing can be recorded: see the problem below)"
        }
        _ => "DISABLED",
    };
    let _ = write!(o, "Telemetry: {headline}\n  Source: {}\n", r.source_text);
    match &r.identity {
        Some(identity) => {
            let date = identity.created_at.get(..10).unwrap_or(&identity.created_at);
            let _ = writeln!(o, "  Anonymous ID: {} (created {date})", identity.anon_id);
            if let Some(linked) = &identity.linked_principal_id {
                let _ = writeln!(
                    o,
                    "  Linked account: {linked} (a keyed hash of the account you are logged in with; events are attributed to it)"
                );
            }
        }
        None if r.identity_unread => {
            o.push_str("  Anonymous ID: unknown (its file could not be read: see below)\n");
        }
        None => o.push_str(
            "  Anonymous ID: none (one is created only when telemetry is on and an event is recorded)\n",
        ),
    }
    let dev = if r.dev_endpoint {
        " (development endpoint, debug build)"
    } else {
        ""
    };
    let _ = write!(o, "  PostHog host: {}{dev}\n  PostHog key: ", r.host);
    match names {
        _ if !r.has_key => o.push_str("none embedded in this build (nothing can ever be sent)\n"),
        Some(n) if r.dev_endpoint => {
            let _ = writeln!(
                o,
                "from {} or the build (debug build; never shown)",
                n.dev_key
            );
        }
        _ => o.push_str("embedded at build time (never shown)\n"),
    }
    let _ = write!(
        o,
        "  Queue: {} waiting to be sent, {} sent recently",
        r.queued, r.sent_recently
    );
    let dropped = r.stats.dropped();
    if dropped > 0 {
        let _ = write!(
            o,
            ", {dropped} dropped ({} because the queue was full, {} damaged, {} refused by the server)",
            r.stats.dropped_overflow, r.stats.dropped_damaged, r.stats.rejected
        );
    }
    if r.damaged > 0 {
        let _ = write!(o, ", {} damaged record(s) skipped", r.damaged);
    }
    o.push('\n');
    each_rejection(&r.stats, &mut |_, reason, count| {
        let _ = writeln!(
            o,
            "    {count} {}",
            RejectionClass::from_name(reason).map_or("refused", RejectionClass::describe)
        );
    });
    delivery_text(o, r);
    if r.queued > 0 && !r.recording {
        let _ = writeln!(
            o,
            "    (waiting events are not sent while telemetry is off; `{cmd} telemetry clear` deletes them)"
        );
    }
    if let Some((event, timestamp)) = &r.last_event {
        let _ = write!(o, "  Last event: {event} (");
        write_ago(o, timestamp);
        o.push_str(")\n");
    }
    if let Some(dir) = &r.state_dir_shown {
        let _ = writeln!(o, "  Directory: {dir}");
    }
    o.push('\n');
    if r.recording {
        let _ = writeln!(o, "To disable: {cmd} telemetry off (or set DO_NOT_TRACK=1)");
    } else if blocked {
        let _ = writeln!(
            o,
            "To record: fix the problem below (telemetry is on); to turn it off: {cmd} telemetry off, or set DO_NOT_TRACK=1 where the problem keeps that from being saved"
        );
    } else if let Some(starts) = super::opt_out_starts(telemetry) {
        // on by default, not yet recording: say when it starts, and how to keep it off
        let _ = writeln!(
            o,
            "{starts}. To keep it off: {cmd} telemetry off (or set DO_NOT_TRACK=1)"
        );
    } else if r.mode != Mode::Debug {
        o.push_str("To enable: ");
        how_to_enable(o, cmd, r, names);
        o.push('\n');
    }
    let _ = write!(
        o,
        "To inspect what is being sent: {cmd} telemetry inspect\nTo see every event this program can send: {cmd} telemetry catalog\n"
    );
    if let Some(url) = config.and_then(|c| c.docs_url()) {
        let _ = writeln!(o, "Full policy: {url}");
    }
    out
}

/// The sender's lines: last success, last failure, back-off, and whether one is running.
fn delivery_text(o: &mut String, r: &Report<'_>) {
    if let Some(at) = &r.sender.last_success_at {
        o.push_str("  Last sent: ");
        write_ago(o, at);
        o.push('\n');
    }
    if let Some(failure) = &r.sender.last_failure {
        let _ = write!(o, "  Last failure: {}", failure.class.describe());
        if let Some(status) = failure.status {
            let _ = write!(o, ", HTTP {status}");
        }
        o.push_str(" (");
        write_ago(o, &failure.at);
        o.push_str(")\n");
    }
    if !r.sender.allows_attempt_now()
        && let Some(next) = r.sender.next_attempt()
    {
        o.push_str("  Next attempt: in ");
        write_duration(o, (next - chrono::Utc::now()).num_seconds().max(1));
        let _ = writeln!(
            o,
            " (after {} failure(s) in a row; events wait in the queue)",
            r.sender.consecutive_failures
        );
    }
    match r.sender_running {
        Some(0) => o.push_str("  Sender: running\n"),
        Some(pid) => {
            let _ = writeln!(o, "  Sender: running (pid {pid})");
        }
        None => {}
    }
}

/// Calls `each` with the position, reason and count of every rejection counted, in order.
///
/// Not inlined: it is the one walk of the map for the text and the JSON, where each inlined
/// its own (~600 bytes).
#[inline(never)]
fn each_rejection(stats: &QueueStats, each: &mut dyn FnMut(usize, &str, u64)) {
    for (i, (reason, count)) in stats.rejected_by.iter().enumerate() {
        each(i, reason, count);
    }
}

/// Appends `45 seconds`, `3 minutes`, `1 hour`, `2 days`.
fn write_duration(o: &mut String, seconds: i64) {
    let (n, unit) = match seconds {
        s if s < 60 => (s, "second"),
        s if s < 3600 => (s / 60, "minute"),
        s if s < 86_400 => (s / 3600, "hour"),
        s => (s / 86_400, "day"),
    };
    let _ = write!(o, "{n} {unit}{}", if n == 1 { "" } else { "s" });
}

/// Appends how to turn telemetry on, given what turned it off.
fn how_to_enable(o: &mut String, cmd: &str, r: &Report<'_>, names: Option<&EnvNames>) {
    let telemetry_var = names.map_or("<APP>_TELEMETRY", |n| n.telemetry.as_str());
    if r.consent_enabled && !r.has_key {
        o.push_str("not possible with this build; official release builds embed the key");
        return;
    }
    let _ = match r.source {
        ConsentSource::DoNotTrack { .. } => {
            o.write_str("unset DO_NOT_TRACK (it turns telemetry off for every program that honours it, and wins over every other setting)")
        }
        ConsentSource::NoTelemetryVariable { variable, .. } => write!(o, "unset {variable}"),
        ConsentSource::TelemetryVariable { variable, .. } => {
            write!(o, "set {variable}=1, or unset it and run `{cmd} telemetry on`")
        }
        ConsentSource::ProjectFile { .. } => write!(
            o,
            "this project has opted out, so telemetry stays off inside it (set {telemetry_var}=1 to override it for one command)"
        ),
        ConsentSource::UserConfigUnreadable { .. } => {
            write!(o, "run `{cmd} telemetry on`, which rewrites the damaged file")
        }
        ConsentSource::Ci { .. } => write!(
            o,
            "telemetry is off in CI; set {telemetry_var}=1 in the CI environment to record there"
        ),
        _ => write!(o, "{cmd} telemetry on"),
    };
}

/// Appends `3 minutes ago`, `just now`, or the timestamp when it cannot be read.
fn write_ago(o: &mut String, timestamp: &str) {
    let seconds = crate::record::parse_rfc3339(timestamp)
        .map_or(-1, |then| (chrono::Utc::now() - then).num_seconds());
    match seconds {
        s if s < 0 => o.push_str(timestamp),
        s if s < 10 => o.push_str("just now"),
        s => {
            write_duration(o, s);
            o.push_str(" ago");
        }
    }
}

/// A JSON value `status --json` writes.
enum Json<'a> {
    Null,
    Bool(bool),
    Num(u64),
    Str(&'a str),
}

impl<'a> From<Option<&'a str>> for Json<'a> {
    fn from(value: Option<&'a str>) -> Self {
        value.map_or(Json::Null, Json::Str)
    }
}

/// Appends `lead` (punctuation and a member's name) and then `value`: one call per member,
/// instead of the inlined pushes of each.
fn member(o: &mut String, lead: &str, value: Json<'_>) {
    o.push_str(lead);
    match value {
        Json::Null => o.push_str("null"),
        Json::Bool(b) => o.push_str(if b { "true" } else { "false" }),
        Json::Num(n) => o.push_str(itoa::Buffer::new().format(n)),
        Json::Str(s) => write_json_str(o, s),
    }
}

/// `status --json`: members in the order `serde_json` sorts them, indented as
/// `serde_json::to_string_pretty` does.
///
/// Written out rather than built with `serde_json::json!` (as `catalog --json` is): every
/// `json!` member instantiates serde code of its own, which the binary carries.
fn to_json(r: &Report<'_>) -> String {
    use Json::{Bool, Null, Num, Str};
    let mut out = String::with_capacity(1024);
    let o = &mut out;
    let identity = r.identity.as_ref();
    match identity {
        // a UUID needs no escaping
        Some(i) => {
            let _ = write!(o, "{{\"anonymous_id\":\"{}\"", i.anon_id);
        }
        None => o.push_str("{\"anonymous_id\":null"),
    }
    let created_at = identity.map(|i| i.created_at.as_str());
    member(o, ",\"anonymous_id_created_at\":", created_at.into());
    member(o, ",\"consent\":{\"enabled\":", Bool(r.consent_enabled));
    member(o, ",\"source\":", Str(&r.source_text));
    let backing_off = !r.sender.allows_attempt_now();
    member(o, "},\"delivery\":{\"backing_off\":", Bool(backing_off));
    let failures = r.sender.consecutive_failures.into();
    member(o, ",\"consecutive_failures\":", Num(failures));
    match &r.sender.last_failure {
        Some(f) => {
            member(o, ",\"last_failure\":{\"at\":", Str(&f.at));
            member(o, ",\"class\":", Str(f.class.as_str()));
            let status = f.status.map_or(Null, |s| Num(s.into()));
            member(o, ",\"status\":", status);
            o.push('}');
        }
        None => member(o, ",\"last_failure\":", Null),
    }
    let last_success = r.sender.last_success_at.as_deref();
    member(o, ",\"last_success_at\":", last_success.into());
    let next_attempt = r.sender.next_attempt_at.as_deref();
    member(o, ",\"next_attempt_at\":", next_attempt.into());
    let pid = match r.sender_running {
        Some(pid) if pid != 0 => Num(pid.into()),
        _ => Null,
    };
    member(o, ",\"sender_pid\":", pid);
    member(o, ",\"sender_running\":", Bool(r.sender_running.is_some()));
    let not_run = r.sender.senders_not_run.into();
    member(o, ",\"senders_not_run\":", Num(not_run));
    member(o, "},\"enabled\":", Bool(r.recording));
    member(o, ",\"host\":", Str(r.host));
    member(o, ",\"key_embedded\":", Bool(r.has_key));
    match &r.last_event {
        Some((event, timestamp)) => {
            member(o, ",\"last_event\":{\"event\":", Str(event));
            member(o, ",\"timestamp\":", Str(timestamp));
            o.push('}');
        }
        None => member(o, ",\"last_event\":", Null),
    }
    let linked = identity.and_then(|i| i.linked_principal_id.as_ref());
    member(o, ",\"linked\":", Bool(linked.is_some()));
    member(o, ",\"linked_id\":", linked.map(|id| id.as_str()).into());
    let mode = match r.mode {
        Mode::Off => "off",
        Mode::Recording => "recording",
        Mode::Debug => "debug",
    };
    member(o, ",\"mode\":", Str(mode));
    o.push_str(",\"notes\":[");
    for (i, note) in r.notes.iter().enumerate() {
        member(o, if i == 0 { "" } else { "," }, Str(note));
    }
    o.push_str("],\"problems\":[");
    for (i, p) in r.problems.iter().enumerate() {
        member(
            o,
            if i == 0 { "{\"fix\":" } else { ",{\"fix\":" },
            Str(&p.fix),
        );
        member(o, ",\"problem\":", Str(&p.what));
        o.push('}');
    }
    member(o, "],\"queue\":{\"damaged\":", Num(r.damaged as u64));
    let stats = &r.stats;
    member(o, ",\"dropped_damaged\":", Num(stats.dropped_damaged));
    member(o, ",\"dropped_overflow\":", Num(stats.dropped_overflow));
    member(o, ",\"rejected\":", Num(stats.rejected));
    o.push_str(",\"rejected_by\":{");
    each_rejection(stats, &mut |i, reason, count| {
        member(o, if i == 0 { "" } else { "," }, Str(reason));
        member(o, ":", Num(count));
    });
    member(o, "},\"sent\":", Num(stats.sent));
    member(o, ",\"sent_recently\":", Num(r.sent_recently as u64));
    member(o, ",\"waiting\":", Num(r.queued as u64));
    let state_dir = r.state_dir.map(Path::to_string_lossy);
    member(o, "},\"state_dir\":", state_dir.as_deref().into());
    o.push('}');
    let mut text = super::json::pretty(&out);
    text.push('\n');
    text
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::super::{TelemetryArgs, TelemetryCommand, run_with};
    use crate::{Environment, Telemetry, TelemetryConfig};

    fn start(home: &Path, env: &[(&str, &str)]) -> Telemetry {
        let mut environment: Environment = env.iter().copied().collect();
        environment.set("HOME", home.to_string_lossy());
        Telemetry::start_with(
            TelemetryConfig::builder(&crate::schema::DEMO)
                .project_key("phc_test")
                .environment(environment)
                .working_dir("/")
                .on_terminal(false)
                .build()
                .unwrap(),
            &mut std::io::sink(),
        )
    }

    /// `status`: exit code, stdout, stderr.
    fn status(telemetry: &Telemetry) -> (i32, String, String) {
        let args = TelemetryArgs {
            command: Some(TelemetryCommand::Status { json: false }),
        };
        let (mut out, mut err) = (Vec::new(), Vec::new());
        let code = run_with(telemetry, &args, &mut out, &mut err);
        (
            code,
            String::from_utf8(out).unwrap(),
            String::from_utf8(err).unwrap(),
        )
    }

    /// What `serde_json` makes of the same report (the implementation before it was written
    /// out).
    fn by_serde_json(r: &super::Report<'_>) -> String {
        use serde_json::json;

        use crate::handle::Mode;
        let value = json!({
            "enabled": r.recording,
            "mode": match r.mode { Mode::Off => "off", Mode::Recording => "recording", Mode::Debug => "debug" },
            "consent": { "enabled": r.consent_enabled, "source": r.source_text },
            "key_embedded": r.has_key,
            "host": r.host,
            "state_dir": r.state_dir.as_ref().map(|d| d.to_string_lossy()),
            "anonymous_id": r.identity.as_ref().map(|i| i.anon_id.to_string()),
            "anonymous_id_created_at": r.identity.as_ref().map(|i| i.created_at.clone()),
            "linked": r.identity.as_ref().is_some_and(|i| i.linked_principal_id.is_some()),
            "linked_id": r.identity.as_ref().and_then(|i| i.linked_principal_id.as_ref()).map(|id| id.as_str()),
            "queue": {
                "waiting": r.queued,
                "damaged": r.damaged,
                "sent_recently": r.sent_recently,
                "dropped_overflow": r.stats.dropped_overflow,
                "dropped_damaged": r.stats.dropped_damaged,
                "rejected": r.stats.rejected,
                "rejected_by": r.stats.rejected_by,
                "sent": r.stats.sent,
            },
            "delivery": {
                "last_success_at": r.sender.last_success_at,
                "last_failure": r.sender.last_failure.as_ref().map(|f| json!({
                    "at": f.at,
                    "class": f.class,
                    "status": f.status,
                })),
                "consecutive_failures": r.sender.consecutive_failures,
                "next_attempt_at": r.sender.next_attempt_at,
                "backing_off": !r.sender.allows_attempt_now(),
                "sender_running": r.sender_running.is_some(),
                "sender_pid": r.sender_running.filter(|pid| *pid != 0),
                "senders_not_run": r.sender.senders_not_run,
            },
            "last_event": r.last_event.as_ref().map(|(event, timestamp)| json!({"event": event, "timestamp": timestamp})),
            "problems": r.problems.iter().map(|p| json!({"problem": p.what, "fix": p.fix})).collect::<Vec<_>>(),
            "notes": r.notes,
        });
        let mut text = serde_json::to_string_pretty(&value).unwrap();
        text.push('\n');
        text
    }

    /// The written-out JSON against `serde_json`'s: the same bytes, and (as a check of the
    /// check) the same value.
    fn assert_as_serde_json(report: &super::Report<'_>) {
        let ours = super::to_json(report);
        let theirs = by_serde_json(report);
        let parse = |s: &str| serde_json::from_str::<serde_json::Value>(s).unwrap();
        assert_eq!(parse(&ours), parse(&theirs), "{ours}");
        assert_eq!(ours, theirs);
    }

    /// What turned telemetry off in [`empty_report`].
    fn do_not_track() -> crate::consent::ConsentSource {
        crate::consent::ConsentSource::DoNotTrack {
            value: "1".into(),
            understood: true,
        }
    }

    /// A report as `gather` makes it when telemetry is off (by `source`, [`do_not_track`])
    /// and nothing was ever recorded.
    fn empty_report(source: &crate::consent::ConsentSource) -> super::Report<'_> {
        super::Report {
            recording: false,
            mode: crate::Mode::Off,
            consent_enabled: false,
            source,
            source_text: "DO_NOT_TRACK=1".into(),
            has_key: false,
            dev_endpoint: false,
            host: "https://us.i.posthog.com",
            state_dir: None,
            state_dir_shown: None,
            identity: None,
            identity_unread: false,
            queued: 0,
            damaged: 0,
            sent_recently: 0,
            stats: crate::queue::QueueStats::default(),
            last_event: None,
            sender: crate::delivery::SenderState::default(),
            sender_running: None,
            problems: Vec::new(),
            notes: Vec::new(),
        }
    }

    #[test]
    fn the_json_is_what_serde_json_writes() {
        use crate::delivery::backoff::LastFailure;
        use crate::delivery::outcome::FailureClass;
        use crate::identity::IdentityState;

        let source = do_not_track();
        let empty = empty_report(&source);
        assert_as_serde_json(&empty);

        // on, with an identity, a linked account, counters, a failure, back-off, a sender
        let mut full = empty_report(&source);
        full.recording = true;
        full.mode = crate::Mode::Recording;
        full.consent_enabled = true;
        full.source_text = "user config ~/.demo/telemetry.toml".into();
        full.has_key = true;
        full.state_dir = Some(Path::new("/home/ünï \"q\"\\x/.demo"));
        full.identity = Some(IdentityState {
            linked_principal_id: Some(crate::PrincipalId::derive("phc_test", "acct_1").unwrap()),
            ..IdentityState::fresh()
        });
        full.queued = 12;
        full.damaged = 2;
        full.sent_recently = 40;
        full.stats.dropped_overflow = 3;
        full.stats.dropped_damaged = 1;
        full.stats.rejected = 7;
        full.stats.rejected_by.add("unauthorized", 4);
        full.stats.rejected_by.add("bad_request", 3);
        full.stats.sent = u64::MAX;
        full.last_event = Some(("forecast.shown".into(), "2026-01-02T03:04:05.678Z".into()));
        full.sender.consecutive_failures = 3;
        full.sender.last_success_at = Some("2026-01-01T00:00:00Z".into());
        full.sender.next_attempt_at = Some("2999-01-01T00:00:00Z".into());
        full.sender.last_failure = Some(LastFailure {
            at: "2026-01-02T00:00:00Z".into(),
            class: FailureClass::ServerError,
            status: Some(503),
        });
        full.sender_running = Some(4242);
        full.sender.senders_not_run = 3;
        full.problems = vec![
            super::Problem::new("a \"quoted\"\n\tthing\u{1}".into(), "fix it\\now".into()),
            super::Problem::new("another".into(), "{not: json}, [x]".into()),
        ];
        full.notes = vec!["a note".into(), "ünïcode, \"and\" {braces}".into()];
        assert_as_serde_json(&full);

        // every failure class, with and without a status; a sender with no pid; back-off over
        let mut failing = empty_report(&source);
        failing.mode = crate::Mode::Debug;
        failing.identity = Some(IdentityState::fresh());
        failing.state_dir = Some(Path::new("/tmp/.demo"));
        failing.sender_running = Some(0);
        failing.sender.next_attempt_at = Some("2000-01-01T00:00:00Z".into());
        failing.notes = vec!["only a note".into()];
        for class in FailureClass::ALL {
            for status in [None, Some(0), Some(429)] {
                failing.sender.last_failure = Some(LastFailure {
                    at: "2026-01-02T00:00:00Z".into(),
                    class,
                    status,
                });
                assert_as_serde_json(&failing);
            }
        }
    }

    #[test]
    fn the_json_of_gathered_states_is_what_serde_json_writes() {
        let root = tempfile::tempdir().unwrap();
        // off, nothing on disk
        let off = start(root.path(), &[]);
        assert_as_serde_json(&super::gather(&off).unwrap());
        // on, with an event recorded and an account linked
        let on = start(root.path(), &[("DEMO_TELEMETRY", "1")]);
        on.link("acct_1").unwrap();
        assert_as_serde_json(&super::gather(&on).unwrap());
        // on, with problems and a note
        let root = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(root.path().join(".demo/telemetry-id.json")).unwrap();
        let broken = start(
            root.path(),
            &[("DEMO_TELEMETRY", "1"), ("DEMO_TELEMETRY_DEBUG", "maybe")],
        );
        let report = super::gather(&broken).unwrap();
        assert!(!report.problems.is_empty() && !report.notes.is_empty());
        assert_as_serde_json(&report);
    }

    #[test]
    fn a_home_that_is_a_file_is_called_a_file() {
        let root = tempfile::tempdir().unwrap();
        let home = root.path().join("home");
        std::fs::write(&home, "").unwrap();
        let (code, _, err) = status(&start(&home, &[]));
        assert_eq!(code, 1, "{err}");
        assert!(
            err.contains("home is not a directory (it is a file), so"),
            "{err}"
        );
        assert!(!err.contains("does not exist"), "{err}");
        assert!(
            err.contains("fix: point HOME at your home directory"),
            "{err}"
        );
    }

    #[test]
    fn on_but_unable_to_record_says_why_with_a_fix() {
        if !Path::new("/proc/self").exists() {
            eprintln!("skipped: needs /proc, where no directory can be made");
            return;
        }
        // nothing recorded yet: status itself finds the directory cannot be made
        let telemetry = start(Path::new("/proc"), &[("DEMO_TELEMETRY", "1")]);
        let (code, out, err) = status(&telemetry);
        assert_eq!(code, 1, "{out}{err}");
        assert!(
            out.starts_with(
                "Telemetry: DISABLED (telemetry is on, but nothing can be recorded: see the problem below)\n"
            ),
            "{out}"
        );
        assert!(out.contains("Source: DEMO_TELEMETRY=1"), "{out}");
        assert!(
            err.contains("error: telemetry is on (DEMO_TELEMETRY=1), but nothing can be recorded: could not create /proc/.demo"),
            "{err}"
        );
        assert!(err.contains("fix: "), "{err}");
        assert!(err.contains("DEMO_TELEMETRY_DIR"), "{err}");
    }

    #[test]
    fn a_directory_where_the_identity_should_be_is_reported_while_on() {
        let root = tempfile::tempdir().unwrap();
        let telemetry = start(root.path(), &[("DEMO_TELEMETRY", "1")]);
        // the identity cannot be read (a directory where the file should be): recording stops
        std::fs::create_dir_all(root.path().join(".demo/telemetry-id.json")).unwrap();
        telemetry.link("acct_1").unwrap();
        assert!(
            telemetry.is_recording(),
            "a link failure does not stop recording"
        );
        let (code, out, err) = status(&telemetry);
        assert_eq!(code, 1, "{out}{err}");
        assert!(err.contains("telemetry-id.json"), "{err}");
    }

    #[test]
    fn a_debug_value_not_understood_is_named_and_off() {
        let root = tempfile::tempdir().unwrap();
        let telemetry = start(root.path(), &[("DEMO_TELEMETRY_DEBUG", "maybe")]);
        assert_eq!(telemetry.mode(), crate::Mode::Off);
        let (code, out, err) = status(&telemetry);
        assert_eq!(code, 0, "{err}");
        assert!(out.starts_with("Telemetry: DISABLED\n"), "{out}");
        assert!(
            err.contains(
                "warning: DEMO_TELEMETRY_DEBUG=maybe is not understood, so debug mode is off; use 1 or 0"
            ),
            "{err}"
        );
    }

    #[test]
    fn off_status_writes_nothing_and_on_status_finds_a_healthy_directory() {
        let root = tempfile::tempdir().unwrap();
        let (code, _, err) = status(&start(root.path(), &[]));
        assert_eq!(code, 0, "{err}");
        assert_eq!(std::fs::read_dir(root.path()).unwrap().count(), 0);
        let (code, out, err) = status(&start(root.path(), &[("DEMO_TELEMETRY", "1")]));
        assert_eq!((code, err.as_str()), (0, ""), "{out}");
        assert!(out.starts_with("Telemetry: ENABLED\n"), "{out}");
        // the probe (which takes no lock) leaves nothing but the directory
        let left: Vec<String> = std::fs::read_dir(root.path().join(".demo"))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert!(left.is_empty(), "{left:?}");
    }

    #[test]
    fn the_linked_id_is_shown_never_the_account() {
        let root = tempfile::tempdir().unwrap();
        let telemetry = start(root.path(), &[("DEMO_TELEMETRY", "1")]);
        telemetry.link("acct_7f3b2a8c").unwrap();
        let (_, out, _) = status(&telemetry);
        let id = crate::PrincipalId::derive("phc_test", "acct_7f3b2a8c").unwrap();
        assert!(
            out.contains(&format!("Linked account: {id} (a keyed hash")),
            "{out}"
        );
        assert!(!out.contains("acct_7f3b2a8c"), "{out}");
    }

    #[test]
    fn a_lock_a_live_holder_keeps_for_a_while_is_not_reported_stuck() {
        use crate::fsutil::{LOCK_WAIT, LockMode, StateLock};
        let root = tempfile::tempdir().unwrap();
        let telemetry = start(root.path(), &[("DEMO_TELEMETRY", "1")]);
        telemetry.track(&crate::test_events::Ping);
        let lock = telemetry.state_dir().unwrap().lock_file();
        // held from before `status` looks until 100 ms later: a sender's acknowledgement on a
        // slow disk, say (two looks 20 ms apart reported it as stuck)
        let held = StateLock::acquire(&lock, LockMode::Exclusive, LOCK_WAIT).unwrap();
        let holder = std::thread::spawn(move || {
            std::thread::sleep(std::time::Duration::from_millis(100));
            drop(held);
        });
        let (code, out, err) = status(&telemetry);
        holder.join().unwrap();
        assert_eq!((code, err.as_str()), (0, ""), "{out}");
        assert!(!out.contains("telemetry.lock"), "{out}");

        // one that stays held is reported, with the identity still shown
        let _held = StateLock::acquire(&lock, LockMode::Exclusive, LOCK_WAIT).unwrap();
        let (code, out, err) = status(&telemetry);
        assert_eq!(code, 1, "{out}");
        assert!(err.contains("telemetry.lock"), "{err}");
        assert!(!out.contains("Anonymous ID: unknown"), "{out}");
    }
}

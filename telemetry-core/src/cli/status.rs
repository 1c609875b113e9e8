//! `telemetry status`.

use super::{Io, command_name, home, report_config_error};
use crate::config::TelemetryConfig;
use crate::consent::{ConsentDecision, ConsentSource, tilde};
use crate::delivery::outcome::FailureClass;
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

    fn extend(&mut self, problems: impl IntoIterator<Item = Problem>) {
        for problem in problems {
            self.push(problem);
        }
    }

    /// Whether an earlier problem names the file at `path`.
    fn names(&self, path: &std::path::Path) -> bool {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        self.0.iter().any(|p| p.what.contains(&name))
    }

    fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl Problem {
    /// A problem and its fix.
    pub(super) fn new(what: impl Into<String>, fix: impl Into<String>) -> Self {
        Problem {
            what: what.into(),
            fix: fix.into(),
        }
    }

    /// The user's config cannot be read (`what` says why).
    fn unreadable_user_config(config: &TelemetryConfig, what: String) -> Self {
        Problem {
            what,
            fix: format!(
                "run `{cmd} telemetry on` or `{cmd} telemetry off` to rewrite it, or remove it",
                cmd = config.command_name()
            ),
        }
    }

    fn from_state(error: &StateError) -> Self {
        Problem {
            what: error.to_string(),
            fix: error.fix_hint(),
        }
    }
}

/// Everything `status` reports.
struct Report {
    recording: bool,
    mode: Mode,
    consent_enabled: bool,
    source: ConsentSource,
    source_text: String,
    has_key: bool,
    key_source: Option<DeliverySource>,
    host: String,
    /// Absolute, for scripts (`status --json`); shown with `~` in the text.
    state_dir: Option<std::path::PathBuf>,
    /// The state directory as the text shows it.
    state_dir_shown: Option<String>,
    identity: Option<IdentityState>,
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
    if as_json {
        io.out(&to_json(&report));
    } else {
        io.out(&to_text(telemetry, &report));
    }
    for note in &report.notes {
        io.warn(note);
    }
    for problem in &report.problems {
        io.problem(&problem.what, &problem.fix);
    }
    i32::from(!report.problems.is_empty())
}

/// Checks the files in the state directory, reading only. `identity` is what reading the
/// identity file gave (`None` without a state directory); the user's config is read here only
/// when an earlier source decided consent, since otherwise consent read it already.
fn check_files(
    telemetry: &Telemetry,
    consent: &ConsentDecision,
    identity: Option<&Result<Option<IdentityState>, StateError>>,
) -> Vec<Problem> {
    let mut problems = Vec::new();
    let Some(config) = telemetry.config() else {
        return problems;
    };
    let Some(dir) = telemetry.state_dir() else {
        problems.push(Problem {
            what: "there is no home directory, so telemetry has nowhere to keep its state".into(),
            fix: format!(
                "set HOME, or {} to a directory telemetry may use",
                config.env_names().dir
            ),
        });
        return problems;
    };
    match std::fs::metadata(dir.path()) {
        Ok(meta) if !meta.is_dir() => {
            problems.push(Problem::from_state(&StateError::NotADirectory {
                path: dir.path().to_path_buf(),
            }));
            return problems;
        }
        Ok(_) => {}
        Err(_) => {
            if let Some(problem) = missing_parent(config, dir) {
                problems.push(problem);
            }
            if let ConsentSource::UserConfigUnreadable { problem, .. } = &consent.source {
                problems.push(Problem::unreadable_user_config(config, problem.clone()));
            }
            return problems;
        }
    }
    let config_file = dir.config_file();
    let config_file_regular = match fsutil::check_regular(&config_file) {
        Ok(_) => true,
        Err(e) => {
            problems.push(Problem::from_state(&e));
            false
        }
    };
    let files = crate::queue::segment::files(dir.path()).into_iter().chain([
        dir.sent_file(),
        dir.stats_file(),
        dir.lock_file(),
        dir.notice_marker(),
        dir.sender_lock_file(),
        dir.sender_state_file(),
    ]);
    for path in files {
        if let Err(e) = fsutil::check_regular(&path) {
            problems.push(Problem::from_state(&e));
        }
    }
    // files this user cannot use (a `sudo` run's), a read-only directory, running as root
    problems.extend(
        crate::delivery::problems(config, dir)
            .into_iter()
            .map(|p| Problem {
                what: p.what,
                fix: p.fix,
            }),
    );
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
        Err(e) => problems.push(Problem::from_state(&e)),
        Ok(true) => match identity {
            Some(Err(e @ (StateError::Corrupt { .. } | StateError::TooLarge { .. }))) => {
                problems.push(Problem {
                    what: e.to_string(),
                    fix: format!(
                        "run `{} telemetry clear` (or remove it); a new anonymous ID is made when needed",
                        config.command_name()
                    ),
                });
            }
            Some(Err(other)) => problems.push(Problem::from_state(other)),
            Some(Ok(_)) | None => {}
        },
        Ok(false) => {}
    }
    problems
}

/// Why the state directory `dir`, which does not exist, could not be created because of its
/// parent: missing, or not a directory (HOME pointing at a file).
fn missing_parent(config: &TelemetryConfig, dir: &StateDir) -> Option<Problem> {
    let parent = dir.path().parent()?;
    let var = &config.env_names().dir;
    let (parent_shown, dir_shown) = (parent.display(), dir.path().display());
    match std::fs::metadata(parent) {
        Ok(meta) if meta.is_dir() => None,
        Ok(_) => Some(Problem::new(
            format!(
                "{parent_shown} is not a directory (it is a file), so {dir_shown} cannot be created"
            ),
            format!(
                "point HOME at your home directory, or set {var} to a directory telemetry may use"
            ),
        )),
        Err(_) => Some(Problem::new(
            format!("{parent_shown} does not exist, so {dir_shown} cannot be created"),
            format!("create it, or set {var} to a directory telemetry may use"),
        )),
    }
}

/// The files `status` reads (or a sender would) that may exist but cannot be opened: a file
/// at mode 000, or under a directory this user cannot search. The consent and identity files
/// are checked where they are read.
fn check_readable(dir: &StateDir, problems: &mut Problems) {
    let files = crate::queue::segment::files(dir.path()).into_iter().chain([
        dir.sent_file(),
        dir.stats_file(),
        dir.lock_file(),
        dir.sender_lock_file(),
        dir.sender_state_file(),
    ]);
    for path in files {
        if problems.names(&path) {
            continue;
        }
        if let Err(e) = fsutil::open_regular(&path) {
            problems.push(Problem::from_state(&e));
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
/// first cause is reported: they all stop recording. Returns whether nothing can be recorded.
fn check_writable(
    telemetry: &Telemetry,
    consent: &ConsentDecision,
    problems: &mut Problems,
) -> bool {
    let (Some(config), Some(dir)) = (telemetry.config(), telemetry.state_dir()) else {
        return false;
    };
    if !meant_to_record(telemetry) || !problems.is_empty() {
        return false;
    }
    let home = home(telemetry);
    let source = consent.source.describe(home.as_deref());
    let var = &config.env_names().dir;
    let problem = |effect: &str, what: String, fix: String| {
        let fix = if fix.ends_with("elsewhere") {
            format!("{fix} with {var}")
        } else {
            format!("{fix}; or set {var} to a directory you can write")
        };
        Problem::new(
            format!("telemetry is on ({source}), but {effect}: {what}"),
            fix,
        )
    };
    let unrecordable = "nothing can be recorded";
    if let Err(e) = fsutil::ensure_dir(dir.path()) {
        problems.push(problem(unrecordable, e.to_string(), e.fix_hint()));
        return true;
    }
    if let Some(failure) = telemetry.recording_failure() {
        problems.push(problem(unrecordable, failure.what, failure.fix));
        return true;
    }
    if let Some(queue) = telemetry.queue()
        && let Err(e) = queue.check_acknowledgeable()
    {
        let effect = "its directory cannot be written, so nothing is sent";
        problems.push(problem(effect, e.to_string(), e.fix_hint()));
    }
    false
}

fn gather(telemetry: &Telemetry) -> Option<Report> {
    let consent = telemetry.consent()?;
    let delivery = telemetry.delivery()?;
    let home = home(telemetry);
    let identity_read = telemetry.identity_store().map(|store| store.read());
    let mut problems = Problems::default();
    problems.extend(check_files(telemetry, consent, identity_read.as_ref()));
    if let Some(dir) = telemetry.state_dir() {
        check_readable(dir, &mut problems);
    }
    let unrecordable = check_writable(telemetry, consent, &mut problems);
    let identity = identity_read.and_then(|read| read.ok().flatten());
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
        if let Ok(contents) = queue.read_all() {
            queued = contents.records.len();
            damaged = contents.damaged;
            for r in &contents.records {
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

    Some(Report {
        recording: telemetry.is_recording() && !unrecordable,
        mode: telemetry.mode(),
        consent_enabled: consent.enabled,
        source: consent.source.clone(),
        source_text: consent.source.describe(home.as_deref()),
        has_key: delivery.has_key(),
        key_source: delivery.has_key().then(|| delivery.source().clone()),
        host: delivery.base_url().to_string(),
        state_dir: telemetry.state_dir().map(|d| d.path().to_path_buf()),
        state_dir_shown: telemetry
            .state_dir()
            .map(|d| tilde(d.path(), home.as_deref())),
        identity,
        queued,
        damaged,
        sent_recently,
        stats,
        last_event,
        sender: telemetry
            .state_dir()
            .map(SenderState::read)
            .unwrap_or_default(),
        sender_running: telemetry
            .state_dir()
            .and_then(crate::delivery::running_sender),
        problems: problems.0,
        notes,
    })
}

fn to_text(telemetry: &Telemetry, r: &Report) -> String {
    let cmd = command_name(telemetry);
    let config = telemetry.config();
    let names = config.map(|c| c.env_names().clone());
    let mut out = String::new();
    let headline = match r.mode {
        Mode::Debug => "DEBUG (events are printed to stderr, never recorded or sent)".to_string(),
        _ if r.recording => "ENABLED".to_string(),
        _ if r.consent_enabled && !r.has_key => {
            "DISABLED (this build has no PostHog key: nothing can be recorded or sent, whatever the settings)".to_string()
        }
        Mode::Recording => {
            "DISABLED (telemetry is on, but nothing can be recorded: see the problem below)"
                .to_string()
        }
        _ => "DISABLED".to_string(),
    };
    out.push_str(&format!("Telemetry: {headline}\n"));
    out.push_str(&format!("  Source: {}\n", r.source_text));
    match &r.identity {
        Some(identity) => {
            let date = identity.created_at.get(..10).unwrap_or(&identity.created_at);
            out.push_str(&format!(
                "  Anonymous ID: {} (created {date})\n",
                identity.anon_id
            ));
            if let Some(linked) = &identity.linked_principal_id {
                out.push_str(&format!(
                    "  Linked account: {linked} (a keyed hash of the account you are logged in with; events are attributed to it)\n"
                ));
            }
        }
        None => out.push_str(
            "  Anonymous ID: none (one is created only when telemetry is on and an event is recorded)\n",
        ),
    }
    let dev = matches!(r.key_source, Some(DeliverySource::DevEndpoint { .. }));
    out.push_str(&format!(
        "  PostHog host: {}{}\n",
        r.host,
        if dev {
            " (development endpoint, debug build)"
        } else {
            ""
        }
    ));
    out.push_str(&format!(
        "  PostHog key: {}\n",
        match (&r.key_source, &names) {
            (None, _) => "none embedded in this build (nothing can ever be sent)".to_string(),
            (Some(DeliverySource::DevEndpoint { .. }), Some(n)) =>
                format!("from {} or the build (debug build; never shown)", n.dev_key),
            _ => "embedded at build time (never shown)".to_string(),
        }
    ));
    let mut queue = format!(
        "  Queue: {} waiting to be sent, {} sent recently",
        r.queued, r.sent_recently
    );
    let dropped = r.stats.dropped();
    if dropped > 0 {
        queue.push_str(&format!(
            ", {dropped} dropped ({} because the queue was full, {} damaged, {} refused by the server)",
            r.stats.dropped_overflow, r.stats.dropped_damaged, r.stats.rejected
        ));
    }
    if r.damaged > 0 {
        queue.push_str(&format!(", {} damaged record(s) skipped", r.damaged));
    }
    out.push_str(&queue);
    out.push('\n');
    for (reason, count) in &r.stats.rejected_by {
        out.push_str(&format!(
            "    {count} {}\n",
            RejectionClass::from_name(reason).map_or("refused", RejectionClass::describe)
        ));
    }
    out.push_str(&delivery_text(r));
    if r.queued > 0 && !r.recording {
        out.push_str(&format!(
            "    (waiting events are not sent while telemetry is off; `{cmd} telemetry clear` deletes them)\n"
        ));
    }
    if let Some((event, timestamp)) = &r.last_event {
        out.push_str(&format!("  Last event: {event} ({})\n", ago(timestamp)));
    }
    if let Some(dir) = &r.state_dir_shown {
        out.push_str(&format!("  Directory: {dir}\n"));
    }
    out.push('\n');
    if r.recording {
        out.push_str(&format!(
            "To disable: {cmd} telemetry off (or set DO_NOT_TRACK=1)\n"
        ));
    } else if r.mode == Mode::Recording {
        out.push_str(&format!(
            "To record: fix the problem below (telemetry is on); to turn it off: {cmd} telemetry off\n"
        ));
    } else if r.mode != Mode::Debug {
        out.push_str(&format!(
            "To enable: {}\n",
            how_to_enable(&cmd, r, names.as_ref())
        ));
    }
    out.push_str(&format!(
        "To inspect what is being sent: {cmd} telemetry inspect\n"
    ));
    out.push_str(&format!(
        "To see every event this program can send: {cmd} telemetry catalog\n"
    ));
    if let Some(url) = config.and_then(|c| c.docs_url()) {
        out.push_str(&format!("Full policy: {url}\n"));
    }
    out
}

/// The sender's lines: last success, last failure, back-off, and whether one is running.
fn delivery_text(r: &Report) -> String {
    let mut out = String::new();
    if let Some(at) = &r.sender.last_success_at {
        out.push_str(&format!("  Last sent: {}\n", ago(at)));
    }
    if let Some(failure) = &r.sender.last_failure {
        let status = failure
            .status
            .map(|s| format!(", HTTP {s}"))
            .unwrap_or_default();
        out.push_str(&format!(
            "  Last failure: {}{status} ({})\n",
            failure.class.describe(),
            ago(&failure.at)
        ));
    }
    if !r.sender.allows_attempt_now()
        && let Some(next) = r.sender.next_attempt()
    {
        let wait = (next - chrono::Utc::now()).num_seconds().max(1);
        out.push_str(&format!(
            "  Next attempt: in {} (after {} failure(s) in a row; events wait in the queue)\n",
            duration_words(wait),
            r.sender.consecutive_failures
        ));
    }
    match r.sender_running {
        Some(0) => out.push_str("  Sender: running\n"),
        Some(pid) => out.push_str(&format!("  Sender: running (pid {pid})\n")),
        None => {}
    }
    out
}

/// `45 seconds`, `3 minutes`, `1 hour`, `2 days`.
fn duration_words(seconds: i64) -> String {
    let plural = |n: i64, unit: &str| format!("{n} {unit}{}", if n == 1 { "" } else { "s" });
    match seconds {
        s if s < 60 => plural(s, "second"),
        s if s < 3600 => plural(s / 60, "minute"),
        s if s < 86_400 => plural(s / 3600, "hour"),
        s => plural(s / 86_400, "day"),
    }
}

fn how_to_enable(cmd: &str, r: &Report, names: Option<&crate::config::EnvNames>) -> String {
    let telemetry_var = names.map_or("<APP>_TELEMETRY".to_string(), |n| n.telemetry.clone());
    if r.consent_enabled && !r.has_key {
        return "not possible with this build; official release builds embed the key".to_string();
    }
    match &r.source {
        ConsentSource::DoNotTrack { .. } => {
            "unset DO_NOT_TRACK (it turns telemetry off for every program that honours it, and wins over every other setting)".to_string()
        }
        ConsentSource::NoTelemetryVariable { variable, .. } => format!("unset {variable}"),
        ConsentSource::TelemetryVariable { variable, .. } => {
            format!("set {variable}=1, or unset it and run `{cmd} telemetry on`")
        }
        ConsentSource::ProjectFile { .. } => format!(
            "this project has opted out, so telemetry stays off inside it (set {telemetry_var}=1 to override it for one command)"
        ),
        ConsentSource::UserConfigUnreadable { .. } => {
            format!("run `{cmd} telemetry on`, which rewrites the damaged file")
        }
        ConsentSource::Ci { .. } => format!(
            "telemetry is off in CI; set {telemetry_var}=1 in the CI environment to record there"
        ),
        _ => format!("{cmd} telemetry on"),
    }
}

/// `3 minutes ago`, `just now`, or the timestamp when it cannot be read.
pub(super) fn ago(timestamp: &str) -> String {
    let Ok(then) = crate::record::parse_rfc3339(timestamp) else {
        return timestamp.to_string();
    };
    let seconds = (chrono::Utc::now() - then).num_seconds();
    match seconds {
        s if s < 0 => timestamp.to_string(),
        s if s < 10 => "just now".to_string(),
        s => format!("{} ago", duration_words(s)),
    }
}

/// Appends `value` as a JSON string, or `null`.
fn opt_str(out: &mut String, value: Option<&str>) {
    match value {
        Some(value) => write_json_str(out, value),
        None => out.push_str("null"),
    }
}

/// Appends `n` as a JSON number.
fn num(out: &mut String, n: u64) {
    out.push_str(itoa::Buffer::new().format(n));
}

/// Appends `b` as a JSON boolean.
fn boolean(out: &mut String, b: bool) {
    out.push_str(if b { "true" } else { "false" });
}

/// How `serde` names a failure class (`rename_all = "snake_case"`).
fn failure_class_name(class: FailureClass) -> &'static str {
    match class {
        FailureClass::Network => "network",
        FailureClass::RequestTimeout => "request_timeout",
        FailureClass::NotFound => "not_found",
        FailureClass::ServerError => "server_error",
        FailureClass::RateLimited => "rate_limited",
        FailureClass::UnexpectedStatus => "unexpected_status",
    }
}

/// `status --json`: members in the order `serde_json` sorts them, indented as
/// `serde_json::to_string_pretty` does.
///
/// Written out rather than built with `serde_json::json!` (as `catalog --json` is): every
/// `json!` member instantiates serde code of its own, which the binary carries.
fn to_json(r: &Report) -> String {
    let mut out = String::with_capacity(1024);
    let o = &mut out;
    let identity = r.identity.as_ref();
    o.push_str("{\"anonymous_id\":");
    match identity {
        Some(i) => write_json_str(
            o,
            i.anon_id
                .hyphenated()
                .encode_lower(&mut uuid::Uuid::encode_buffer()),
        ),
        None => o.push_str("null"),
    }
    o.push_str(",\"anonymous_id_created_at\":");
    opt_str(o, identity.map(|i| i.created_at.as_str()));
    o.push_str(",\"consent\":{\"enabled\":");
    boolean(o, r.consent_enabled);
    o.push_str(",\"source\":");
    write_json_str(o, &r.source_text);
    o.push_str("},\"delivery\":{\"backing_off\":");
    boolean(o, !r.sender.allows_attempt_now());
    o.push_str(",\"consecutive_failures\":");
    num(o, r.sender.consecutive_failures.into());
    o.push_str(",\"last_failure\":");
    match &r.sender.last_failure {
        Some(f) => {
            o.push_str("{\"at\":");
            write_json_str(o, &f.at);
            o.push_str(",\"class\":");
            write_json_str(o, failure_class_name(f.class));
            o.push_str(",\"status\":");
            match f.status {
                Some(status) => num(o, status.into()),
                None => o.push_str("null"),
            }
            o.push('}');
        }
        None => o.push_str("null"),
    }
    o.push_str(",\"last_success_at\":");
    opt_str(o, r.sender.last_success_at.as_deref());
    o.push_str(",\"next_attempt_at\":");
    opt_str(o, r.sender.next_attempt_at.as_deref());
    o.push_str(",\"sender_pid\":");
    match r.sender_running.filter(|pid| *pid != 0) {
        Some(pid) => num(o, pid.into()),
        None => o.push_str("null"),
    }
    o.push_str(",\"sender_running\":");
    boolean(o, r.sender_running.is_some());
    o.push_str("},\"enabled\":");
    boolean(o, r.recording);
    o.push_str(",\"host\":");
    write_json_str(o, &r.host);
    o.push_str(",\"key_embedded\":");
    boolean(o, r.has_key);
    o.push_str(",\"last_event\":");
    match &r.last_event {
        Some((event, timestamp)) => {
            o.push_str("{\"event\":");
            write_json_str(o, event);
            o.push_str(",\"timestamp\":");
            write_json_str(o, timestamp);
            o.push('}');
        }
        None => o.push_str("null"),
    }
    o.push_str(",\"linked\":");
    let linked = identity.and_then(|i| i.linked_principal_id.as_ref());
    boolean(o, linked.is_some());
    o.push_str(",\"linked_id\":");
    opt_str(o, linked.map(|id| id.as_str()));
    o.push_str(",\"mode\":");
    write_json_str(
        o,
        match r.mode {
            Mode::Off => "off",
            Mode::Recording => "recording",
            Mode::Debug => "debug",
        },
    );
    o.push_str(",\"notes\":[");
    for (i, note) in r.notes.iter().enumerate() {
        if i > 0 {
            o.push(',');
        }
        write_json_str(o, note);
    }
    o.push_str("],\"problems\":[");
    for (i, p) in r.problems.iter().enumerate() {
        o.push_str(if i == 0 { "{\"fix\":" } else { ",{\"fix\":" });
        write_json_str(o, &p.fix);
        o.push_str(",\"problem\":");
        write_json_str(o, &p.what);
        o.push('}');
    }
    o.push_str("],\"queue\":{\"damaged\":");
    num(o, r.damaged as u64);
    o.push_str(",\"dropped_damaged\":");
    num(o, r.stats.dropped_damaged);
    o.push_str(",\"dropped_overflow\":");
    num(o, r.stats.dropped_overflow);
    o.push_str(",\"rejected\":");
    num(o, r.stats.rejected);
    o.push_str(",\"rejected_by\":{");
    for (i, (reason, count)) in r.stats.rejected_by.iter().enumerate() {
        if i > 0 {
            o.push(',');
        }
        write_json_str(o, reason);
        o.push(':');
        num(o, *count);
    }
    o.push_str("},\"sent\":");
    num(o, r.stats.sent);
    o.push_str(",\"sent_recently\":");
    num(o, r.sent_recently as u64);
    o.push_str(",\"waiting\":");
    num(o, r.queued as u64);
    o.push_str("},\"state_dir\":");
    match &r.state_dir {
        Some(dir) => write_json_str(o, &dir.to_string_lossy()),
        None => o.push_str("null"),
    }
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
                .stderr_is_terminal(false)
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
    fn by_serde_json(r: &super::Report) -> String {
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
    fn assert_as_serde_json(report: &super::Report) {
        let ours = super::to_json(report);
        let theirs = by_serde_json(report);
        let parse = |s: &str| serde_json::from_str::<serde_json::Value>(s).unwrap();
        assert_eq!(parse(&ours), parse(&theirs), "{ours}");
        assert_eq!(ours, theirs);
    }

    /// A report as `gather` makes it when telemetry is off and nothing was ever recorded.
    fn empty_report() -> super::Report {
        super::Report {
            recording: false,
            mode: crate::Mode::Off,
            consent_enabled: false,
            source: crate::consent::ConsentSource::DoNotTrack {
                value: "1".into(),
                understood: true,
            },
            source_text: "DO_NOT_TRACK=1".into(),
            has_key: false,
            key_source: None,
            host: "https://us.i.posthog.com".into(),
            state_dir: None,
            state_dir_shown: None,
            identity: None,
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

        let empty = empty_report();
        assert_as_serde_json(&empty);

        // on, with an identity, a linked account, counters, a failure, back-off, a sender
        let mut full = empty_report();
        full.recording = true;
        full.mode = crate::Mode::Recording;
        full.consent_enabled = true;
        full.source_text = "user config ~/.demo/telemetry.toml".into();
        full.has_key = true;
        full.state_dir = Some("/home/ünï \"q\"\\x/.demo".into());
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
        full.stats.rejected_by.insert("unauthorized".into(), 4);
        full.stats.rejected_by.insert("bad_request".into(), 3);
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
        full.problems = vec![
            super::Problem::new("a \"quoted\"\n\tthing\u{1}", "fix it\\now"),
            super::Problem::new("another", "{not: json}, [x]"),
        ];
        full.notes = vec!["a note".into(), "ünïcode, \"and\" {braces}".into()];
        assert_as_serde_json(&full);

        // every failure class, with and without a status; a sender with no pid; back-off over
        let mut failing = empty_report();
        failing.mode = crate::Mode::Debug;
        failing.identity = Some(IdentityState::fresh());
        failing.state_dir = Some("/tmp/.demo".into());
        failing.sender_running = Some(0);
        failing.sender.next_attempt_at = Some("2000-01-01T00:00:00Z".into());
        failing.notes = vec!["only a note".into()];
        for class in [
            FailureClass::Network,
            FailureClass::RequestTimeout,
            FailureClass::NotFound,
            FailureClass::ServerError,
            FailureClass::RateLimited,
            FailureClass::UnexpectedStatus,
        ] {
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
        on.link("acct_1");
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
        telemetry.link("acct_1");
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
        telemetry.link("acct_7f3b2a8c");
        let (_, out, _) = status(&telemetry);
        let id = crate::PrincipalId::derive("phc_test", "acct_7f3b2a8c").unwrap();
        assert!(
            out.contains(&format!("Linked account: {id} (a keyed hash")),
            "{out}"
        );
        assert!(!out.contains("acct_7f3b2a8c"), "{out}");
    }
}

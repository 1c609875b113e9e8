//! `telemetry status`.

use serde_json::json;

use super::{Io, command_name, home, report_config_error};
use crate::config::TelemetryConfig;
use crate::consent::{ConsentDecision, ConsentSource, tilde};
use crate::delivery::{DeliverySource, RejectionClass, SenderState};
use crate::fsutil::{self, StateError};
use crate::handle::{Mode, Telemetry};
use crate::identity::IdentityState;
use crate::queue::QueueStats;

/// A problem found in the telemetry files, and how to fix it.
pub(super) struct Problem {
    pub(super) what: String,
    pub(super) fix: String,
}

impl Problem {
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
            if let Some(parent) = dir.path().parent()
                && !parent.is_dir()
            {
                problems.push(Problem {
                    what: format!(
                        "{} does not exist, so {} cannot be created",
                        parent.display(),
                        dir.path().display()
                    ),
                    fix: format!(
                        "create it, or set {} to a directory telemetry may use",
                        config.env_names().dir
                    ),
                });
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
    for path in [
        dir.queue_file(),
        dir.sent_file(),
        dir.stats_file(),
        dir.lock_file(),
        dir.notice_marker(),
        dir.sender_lock_file(),
        dir.sender_state_file(),
    ] {
        if let Err(e) = fsutil::check_regular(&path) {
            problems.push(Problem::from_state(&e));
        }
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

fn gather(telemetry: &Telemetry) -> Option<Report> {
    let consent = telemetry.consent()?;
    let delivery = telemetry.delivery()?;
    let home = home(telemetry);
    let identity_read = telemetry.identity_store().map(|store| store.read());
    let problems = check_files(telemetry, consent, identity_read.as_ref());
    let identity = identity_read.and_then(|read| read.ok().flatten());
    let mut notes = Vec::new();
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
            "{damaged} damaged record(s) in the queue are skipped (they are removed the next time the queue is rewritten)"
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
        recording: telemetry.is_recording(),
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
        problems,
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
            if identity.linked_principal_id.is_some() {
                out.push_str(
                    "  Linked account: yes (events are attributed to the account you are logged in with)\n",
                );
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

fn to_json(r: &Report) -> String {
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
    let mut text = serde_json::to_string_pretty(&value).unwrap_or_default();
    text.push('\n');
    text
}

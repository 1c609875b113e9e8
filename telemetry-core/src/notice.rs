//! The first-run notice.
//!
//! Printed once, on stderr, and only when: stdout and stderr are both a terminal (a command
//! whose output goes into a pipe or a file is run by a script, or for one: `source <(tool
//! completions bash)` in a shell's start-up file must not spend it); the user has not decided
//! (the policy default decides: no `DO_NOT_TRACK`, no app variable, no project file, no user
//! config, no CI); the build has a key (a build that can never send has nothing to announce);
//! and the marker file `telemetry-notice-shown` does not exist yet. The marker is created first
//! and the notice printed only if that worked, so the notice can never repeat on every run
//! (a read-only home gets no notice). It never prompts.
//!
//! Under the opt-out policy nothing is recorded on the run that shows it: recording starts on
//! the next run (consent checks the marker, and that it was written before the run started,
//! so a run started at the same moment does not record either).

use std::io::Write;

use crate::config::TelemetryConfig;
use crate::consent::ConsentDecision;
use crate::fsutil;
use crate::paths::StateDir;
use crate::schema::ConsentPolicy;

/// The notice's first and last line: a rule and its newline.
const RULE_LINE: &str = "─────────────────────────────────────────────────────────────────\n";

/// The notice's text for `config` (ending with a newline).
pub fn text(config: &TelemetryConfig) -> String {
    use std::fmt::Write as _;
    let app = config.app_name();
    let cmd = config.command_name();
    let names = config.env_names();
    let mut out = String::from(RULE_LINE);
    // `write!` into `out` (infallible for a `String`) rather than `push_str(&format!(..))`:
    // one call per piece, with no temporary `String` to drop.
    let _ = match config.policy() {
        ConsentPolicy::OptIn => write!(
            out,
            "{app} collects no usage data by default.\n\n\
             If you'd like to share anonymous usage events to help improve {app}:\n  {cmd} telemetry on\n\n"
        ),
        ConsentPolicy::OptOut => write!(
            out,
            "{app} collects anonymous usage events to help improve it.\n\
             Nothing has been recorded yet; recording starts with the next run.\n\n\
             To turn it off:\n  {cmd} telemetry off\n  (or set DO_NOT_TRACK=1 or {}=0 in your environment)\n\n",
            names.telemetry
        ),
    };
    let _ = write!(
        out,
        "Review what would be sent at any time:\n  {cmd} telemetry catalog\n  {cmd} telemetry inspect\n"
    );
    if let Some(url) = config.docs_url() {
        let _ = write!(out, "\nFull telemetry policy:\n  {url}\n");
    }
    out.push_str(RULE_LINE);
    out
}

/// Whether the notice is due (every condition but the marker's creation).
pub(crate) fn is_due(
    config: &TelemetryConfig,
    consent: &ConsentDecision,
    has_key: bool,
    dir: Option<&StateDir>,
) -> bool {
    config.on_terminal()
        && consent.source.is_default()
        && has_key
        && dir.is_some_and(|d| !fsutil::check_regular(&d.notice_marker()).unwrap_or(true))
}

/// Shows the notice on `out` if it is due and the marker could be created; returns whether it
/// was shown.
pub(crate) fn show_if_due(
    config: &TelemetryConfig,
    consent: &ConsentDecision,
    has_key: bool,
    dir: Option<&StateDir>,
    out: &mut dyn Write,
) -> bool {
    if !is_due(config, consent, has_key, dir) {
        return false;
    }
    let Some(dir) = dir else {
        return false;
    };
    // Nothing is left in another user's directory, by a `sudo` run or anyone else (see
    // `StateLock::foreign_owner`): the notice waits for a run in a directory of one's own.
    if fsutil::StateLock::foreign_owner(dir.path()).is_some() {
        return false;
    }
    let created =
        fsutil::ensure_dir(dir.path()).and_then(|()| fsutil::create_marker(&dir.notice_marker()));
    match created {
        Ok(true) => {
            let _ = out.write_all(text(config).as_bytes());
            let _ = out.flush();
            true
        }
        Ok(false) => false,
        Err(e) => {
            crate::diagnostics::debug_event!(problem = %e, "first-run notice skipped: its marker cannot be written");
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Environment;
    use crate::paths::StateDirSource;

    fn config(terminal: bool, policy: ConsentPolicy) -> TelemetryConfig {
        TelemetryConfig::builder(crate::schema::demo_under(policy))
            .environment(Environment::empty())
            .on_terminal(terminal)
            .build()
            .unwrap()
    }

    #[test]
    fn shown_once_on_a_terminal() {
        let home = tempfile::tempdir().unwrap();
        let dir = StateDir::new(home.path().join(".demo"), StateDirSource::Home);
        let config = config(true, ConsentPolicy::OptIn);
        let consent = crate::consent::resolve(&config, Some(&dir));
        let mut out = Vec::new();
        assert!(show_if_due(&config, &consent, true, Some(&dir), &mut out));
        let text = String::from_utf8(out).unwrap();
        assert!(text.contains("demo collects no usage data by default."));
        assert!(text.contains("demo telemetry on"));
        assert!(text.contains("https://example.com/policy"));
        let mut again = Vec::new();
        assert!(!show_if_due(
            &config,
            &consent,
            true,
            Some(&dir),
            &mut again
        ));
        assert!(again.is_empty());
    }

    #[test]
    fn not_shown_off_a_terminal_without_a_key_or_when_decided() {
        let home = tempfile::tempdir().unwrap();
        let dir = StateDir::new(home.path().join(".demo"), StateDirSource::Home);
        let off_tty = config(false, ConsentPolicy::OptIn);
        let consent = crate::consent::resolve(&off_tty, Some(&dir));
        assert!(!show_if_due(
            &off_tty,
            &consent,
            true,
            Some(&dir),
            &mut Vec::new()
        ));
        let tty = config(true, ConsentPolicy::OptIn);
        assert!(!show_if_due(
            &tty,
            &consent,
            false,
            Some(&dir),
            &mut Vec::new()
        ));
        let decided = ConsentDecision {
            enabled: false,
            source: crate::consent::ConsentSource::DoNotTrack {
                value: "1".into(),
                understood: true,
            },
            ignored_project_opt_in: None,
        };
        assert!(!show_if_due(
            &tty,
            &decided,
            true,
            Some(&dir),
            &mut Vec::new()
        ));
        // nothing was created
        assert_eq!(std::fs::read_dir(home.path()).unwrap().count(), 0);
    }

    /// The rule the oracle draws (before [`RULE_LINE`], which holds its newline).
    const RULE: &str = "─────────────────────────────────────────────────────────────────";

    /// The text as it was built before it was written with `write!`: the oracle.
    fn text_by_push_format(config: &TelemetryConfig) -> String {
        let app = config.app_name();
        let cmd = config.command_name();
        let names = config.env_names();
        let mut out = String::new();
        out.push_str(RULE);
        out.push('\n');
        match config.policy() {
            ConsentPolicy::OptIn => {
                out.push_str(&format!("{app} collects no usage data by default.\n\n"));
                out.push_str(&format!(
                    "If you'd like to share anonymous usage events to help improve {app}:\n  {cmd} telemetry on\n\n"
                ));
            }
            ConsentPolicy::OptOut => {
                out.push_str(&format!(
                    "{app} collects anonymous usage events to help improve it.\n\
                     Nothing has been recorded yet; recording starts with the next run.\n\n"
                ));
                out.push_str(&format!(
                    "To turn it off:\n  {cmd} telemetry off\n  (or set DO_NOT_TRACK=1 or {}=0 in your environment)\n\n",
                    names.telemetry
                ));
            }
        }
        out.push_str(&format!(
            "Review what would be sent at any time:\n  {cmd} telemetry catalog\n  {cmd} telemetry inspect\n"
        ));
        if let Some(url) = config.docs_url() {
            out.push_str(&format!("\nFull telemetry policy:\n  {url}\n"));
        }
        out.push_str(RULE);
        out.push('\n');
        out
    }

    #[test]
    fn the_text_is_unchanged() {
        for policy in [ConsentPolicy::OptIn, ConsentPolicy::OptOut] {
            let config = config(true, policy);
            assert_eq!(text(&config), text_by_push_format(&config));
        }
    }

    #[test]
    fn opt_out_text_says_nothing_was_recorded() {
        let text = text(&config(true, ConsentPolicy::OptOut));
        assert!(text.contains("Nothing has been recorded yet"));
        assert!(text.contains("DEMO_TELEMETRY=0"));
    }
}

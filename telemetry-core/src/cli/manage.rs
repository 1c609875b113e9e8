//! `telemetry on`, `off`, `clear` and `policy`.

use super::{Io, command_name, home, report_config_error};
use crate::consent::{self, ConsentSource, tilde, user_config};
use crate::handle::Telemetry;
use crate::identity::IdentityStore;

/// Writes the user's choice; reports a failure and returns `false`.
fn save(telemetry: &Telemetry, enabled: bool, io: &mut Io<'_>) -> bool {
    let Some(config) = telemetry.config() else {
        return false;
    };
    let names = config.env_names();
    let instead = if enabled {
        format!("set {}=1 in your environment instead", names.telemetry)
    } else {
        format!(
            "set DO_NOT_TRACK=1 or {}=0 in your environment instead",
            names.telemetry
        )
    };
    let Some(dir) = telemetry.state_dir() else {
        // without a directory nothing can be recorded either: a variable cannot turn it on
        let fix = if enabled {
            format!(
                "set HOME, or {} to a directory telemetry may use",
                names.dir
            )
        } else {
            format!("set HOME or {}, or {instead}", names.dir)
        };
        io.problem(
            "there is no home directory to save your choice in (HOME is unset, not an absolute path, or not valid Unicode, as a state directory variable may be too)",
            &fix,
        );
        return false;
    };
    match user_config::write(dir, config.app_name(), enabled) {
        Ok(()) => true,
        Err(e) => {
            io.problem_fmt(
                format_args!("could not save your choice: {e}"),
                &format!("{}; or {instead}", e.fix_hint()),
            );
            false
        }
    }
}

/// What outranks the user's saved choice of `wanted`, when something does: in the words the
/// warning and `on`'s own message use.
fn overridden_by(telemetry: &Telemetry, wanted: bool) -> Option<String> {
    let (config, dir) = (telemetry.config()?, telemetry.state_dir()?);
    let now = consent::resolve(config, Some(dir));
    if now.enabled == wanted {
        return None;
    }
    let home = home(telemetry);
    let state = if wanted { "off" } else { "on" };
    Some(match &now.source {
        ConsentSource::ProjectFile { path } => format!(
            "the project file {} turns telemetry off in this directory and below; it stays {state} here",
            tilde(path, home.as_deref())
        ),
        source => format!(
            "{} takes precedence over your saved choice: telemetry stays {state} while it is set",
            source.describe(home.as_deref())
        ),
    })
}

/// Where the user's choice is saved, as messages show it (`~/.demo/telemetry.toml`).
fn saved_in(telemetry: &Telemetry) -> String {
    telemetry
        .state_dir()
        .map(|d| tilde(&d.config_file(), home(telemetry).as_deref()))
        .unwrap_or_default()
}

pub(super) fn on(telemetry: &Telemetry, io: &mut Io<'_>) -> i32 {
    if report_config_error(telemetry, io) || !save(telemetry, true, io) {
        return 1;
    }
    let cmd = command_name(telemetry);
    let host = telemetry
        .delivery()
        .map(|d| d.base_url())
        .unwrap_or_default();
    let path = saved_in(telemetry);
    let keyless = telemetry.delivery().is_some_and(|d| !d.has_key());
    let overridden = overridden_by(telemetry, true);
    if keyless || overridden.is_some() {
        // Saved, but not in effect: stdout must not promise what stderr takes back.
        io.out_fmt(format_args!(
            "Your choice is saved in {path}: telemetry on.\n\
             Nothing is recorded or sent for now (see below).\n\
             \n\
             See what decides it: {cmd} telemetry status\n"
        ));
    } else {
        io.out_fmt(format_args!(
            "Telemetry is on. Thank you!\n\
             From the next command, anonymous usage events are recorded and sent to {host}.\n\
             Saved in {path}.\n\
             \n\
             See what is recorded: {cmd} telemetry inspect\n\
             Turn it off again:    {cmd} telemetry off\n"
        ));
    }
    if keyless {
        io.warn(&format!(
            "this build of {cmd} has no PostHog key embedded, so nothing will be recorded or sent"
        ));
    }
    if let Some(reason) = overridden {
        io.warn(&reason);
    }
    0
}

/// Stops this process from recording and removes what it recorded before the opt-out (its
/// own start-up and invocation events), reporting a failure; returns whether it worked.
fn withdraw(telemetry: &Telemetry, io: &mut Io<'_>) -> bool {
    match telemetry.withdraw() {
        Ok(_) => true,
        Err(e) => {
            io.queue_problem("could not remove the events this command recorded: ", e);
            false
        }
    }
}

pub(super) fn off(telemetry: &Telemetry, io: &mut Io<'_>) -> i32 {
    if report_config_error(telemetry, io) {
        return 1;
    }
    // first, so that even a choice that cannot be saved leaves nothing of this run to send
    let withdrawn = withdraw(telemetry, io);
    if !save(telemetry, false, io) || !withdrawn {
        return 1;
    }
    let cmd = command_name(telemetry);
    let path = saved_in(telemetry);
    io.out_fmt(format_args!(
        "Telemetry is off. Nothing more will be recorded or sent.\nSaved in {path}.\n"
    ));
    let identity = telemetry
        .identity_store()
        .and_then(|s| s.read().ok().flatten());
    let waiting = telemetry
        .queue()
        .and_then(|q| q.summary(0).ok())
        .map_or(0, |s| s.waiting);
    if identity.is_some() || waiting > 0 {
        io.out_fmt(format_args!(
            "Your anonymous ID and the {waiting} event(s) waiting to be sent were kept, not sent \
             (turning telemetry off deletes nothing).\nTo delete them: {cmd} telemetry clear\n"
        ));
    }
    if let Some(reason) = overridden_by(telemetry, false) {
        io.warn(&reason);
    }
    0
}

pub(super) fn clear(telemetry: &Telemetry, io: &mut Io<'_>) -> i32 {
    if report_config_error(telemetry, io) {
        return 1;
    }
    let cmd = command_name(telemetry);
    let Some(dir) = telemetry.state_dir() else {
        io.out("Nothing to clear: telemetry has no directory (no home directory).\n");
        return 0;
    };
    // stop this process from recording (and re-creating an id) after clearing; what it
    // recorded before goes with the whole queue below
    telemetry.deactivate();
    // first, what this user cannot use (left by a run as root): the rest can then take the lock
    crate::delivery::remove_unusable(dir);
    let mut failed = false;
    let identity = match IdentityStore::new(dir.clone()).delete() {
        Ok((old, removed)) => {
            if removed {
                Some(old)
            } else {
                None
            }
        }
        Err(e) => {
            failed = true;
            io.problem_fmt(
                format_args!("could not delete the anonymous ID: {e}"),
                &e.fix_hint(),
            );
            None
        }
    };
    let events = match crate::queue::Queue::new(dir.clone()).clear() {
        Ok(n) => n,
        Err(e) => {
            failed = true;
            io.queue_problem("could not delete the recorded events: ", e);
            0
        }
    };
    // the sender's back-off and history belong to the events just deleted
    let sender_state = dir.sender_state_file();
    if crate::fsutil::check_regular(&sender_state).unwrap_or(false)
        && let Ok(_lock) = dir.lock_exclusive()
    {
        let _ = crate::fsutil::remove_file(&sender_state);
    }
    crate::fsutil::remove_stale_temps(dir.path());
    match identity {
        Some(Some(old)) => io.out_fmt(format_args!("Deleted the anonymous ID {}.\n", old.anon_id)),
        Some(None) => io.out("Deleted the (damaged) anonymous ID file.\n"),
        None => io.out("There was no anonymous ID.\n"),
    }
    io.out_fmt(format_args!("Deleted {events} recorded event(s).\n"));
    let on = telemetry.consent().is_some_and(|c| c.enabled);
    if on {
        io.out(
            "Telemetry is still on: a new anonymous ID will be created the next time an event is recorded.\n",
        );
    } else if let Some(starts) = super::opt_out_starts(telemetry) {
        io.out_fmt(format_args!(
            "Telemetry is off for now. {starts}; a new anonymous ID is created then. To keep it off: {cmd} telemetry off\n"
        ));
    } else {
        io.out_fmt(format_args!(
            "Telemetry is off: no new ID is created unless you turn it on ({cmd} telemetry on).\n"
        ));
    }
    i32::from(failed)
}

pub(super) fn policy(telemetry: &Telemetry, io: &mut Io<'_>) -> i32 {
    let cmd = command_name(telemetry);
    let config = telemetry.config();
    match config.and_then(|c| c.docs_url()) {
        Some(url) => io.out_fmt(format_args!("Telemetry policy of {cmd}: {url}\n")),
        None => io.out_fmt(format_args!(
            "This build of {cmd} names no telemetry policy page.\n"
        )),
    }
    match config.map(crate::TelemetryConfig::policy) {
        Some(crate::ConsentPolicy::OptIn) => io.out_fmt(format_args!(
            "It is opt-in: nothing is recorded until you turn it on ({cmd} telemetry on).\n"
        )),
        Some(crate::ConsentPolicy::OptOut) => io.out_fmt(format_args!(
            "It is opt-out: recording starts on the run after the first-run notice, unless you turn it off ({cmd} telemetry off).\n"
        )),
        None => {}
    }
    io.out_fmt(format_args!(
        "For this build: `{cmd} telemetry catalog` lists every event it can send, and\n\
         `{cmd} telemetry inspect` shows the events recorded on this machine.\n"
    ));
    0
}

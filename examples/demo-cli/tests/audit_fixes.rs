//! End to end: what the privacy audit of issue 9 found, as the host and the user see it: the
//! account id is never sent, an opt-out leaves nothing of its own, every switch is read one way,
//! the state directory is private whatever the umask, and `status` says why nothing is
//! recorded. Runs as a user other than root (nobody, 65534) need root to switch; without it
//! those parts are skipped, saying so.

#![cfg(unix)]

mod common;

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::{
    DEMO, Demo, Mount, NOBODY, RUN_OUT, can_record, cannot_switch_user, chown_tree, effective_uid,
    fill_file_system, on, run_as, text,
};

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

/// The telemetry files in `~/.demo` and their contents.
fn telemetry_files(demo: &Demo) -> Vec<(PathBuf, String)> {
    let Ok(entries) = std::fs::read_dir(demo.app_dir()) else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with("telemetry"))
        .map(|e| {
            let bytes = std::fs::read(e.path()).unwrap_or_default();
            (e.path(), String::from_utf8_lossy(&bytes).into_owned())
        })
        .collect()
}

#[test]
fn logging_in_with_an_email_address_sends_no_trace_of_it() {
    let Some(demo) = on() else { return };
    demo.ok(&["run", "assist"]);
    let anon = demo.anon_id().unwrap();
    // demo accepts the login (its own business); telemetry refuses to link it
    assert_eq!(
        demo.ok(&["login", "alice@example.com"]),
        "Logged in as alice@example.com.\n"
    );
    demo.ok(&["run", "assist"]);
    let records = demo.queue();
    assert_eq!(records.len(), 13, "run, login, run");
    for record in &records {
        assert_ne!(record["event"], "$create_alias", "{record}");
        assert_eq!(record["distinct_id"], anon.as_str(), "{record}");
        let json = record.to_string();
        assert!(
            !json.contains("alice") && !json.contains("example.com"),
            "{json}"
        );
    }
    for (path, content) in telemetry_files(&demo) {
        assert!(!content.contains("alice"), "{}: {content}", path.display());
    }

    // nor in debug mode's output
    let debug = Demo::without_key().with("DEMO_TELEMETRY_DEBUG", "1");
    let out = debug.run(&["login", "alice@example.com"]);
    assert!(out.status.success());
    let stderr = text(&out.stderr);
    assert!(!stderr.is_empty());
    assert!(
        !stderr.contains("alice") && !stderr.contains("$create_alias"),
        "{stderr}"
    );
}

#[test]
fn an_opt_out_withdraws_the_alias_its_run_made_and_the_link_with_it() {
    let Some(demo) = on() else { return };
    demo.ok(&["run", "assist"]);
    let before = demo.queue();
    // another tool logged the user in: `off`'s own run links lazily at start-up ...
    std::fs::write(demo.app_dir().join("credentials"), "user-7\n").unwrap();
    demo.ok(&["telemetry", "off"]);
    // ... and withdraws the alias with its other records
    assert_eq!(demo.queue(), before);
    let id = std::fs::read_to_string(demo.app_dir().join("telemetry-id.json")).unwrap();
    assert!(id.contains("\"linked_principal_id\":null"), "{id}");
    // once on again, the link is made anew, alias first
    demo.ok(&["telemetry", "on"]);
    demo.ok(&["run", "assist"]);
    let records = demo.queue();
    assert_eq!(records.len(), before.len() + 6);
    assert_eq!(records[before.len()]["event"], "$create_alias");
}

#[test]
fn a_switch_not_understood_sides_with_privacy() {
    for value in ["no", "off", " ", "maybe", "NO"] {
        let demo = Demo::new()
            .with("DO_NOT_TRACK", value)
            .with("DEMO_TELEMETRY", "1");
        assert_eq!(demo.ok(&["run", "assist"]), RUN_OUT);
        assert_eq!(
            demo.files(),
            ["work", "work/project"],
            "DO_NOT_TRACK={value:?} opts out"
        );
        let status = demo.ok(&["telemetry", "status"]);
        assert!(
            status.contains(&format!(
                "Source: DO_NOT_TRACK={value} (not understood, so read as set: telemetry is off)"
            )),
            "{status}"
        );
    }
    // an opt-in switch in doubt is off, and says so
    let demo = Demo::without_key().with("DEMO_TELEMETRY_DEBUG", "maybe");
    let out = demo.run(&["run", "assist"]);
    assert_eq!(
        (text(&out.stdout).as_str(), text(&out.stderr).as_str()),
        (RUN_OUT, "")
    );
    let out = demo.run(&["telemetry", "status"]);
    assert!(
        text(&out.stderr).contains(
            "warning: DEMO_TELEMETRY_DEBUG=maybe is not understood, so debug mode is off"
        ),
        "{}",
        text(&out.stderr)
    );
    // `false` in any case, trimmed, is "not set"
    if can_record() {
        let demo = Demo::new()
            .with("DO_NOT_TRACK", " FALSE ")
            .with("DEMO_TELEMETRY", "1");
        demo.ok(&["run", "assist"]);
        assert_eq!(demo.queue().len(), 5);
    }
}

/// `demo args...` under `umask`, through the shell (a host's umask is inherited).
fn under_umask(demo: &Demo, umask: &str, args: &[&str]) -> Output {
    let mut cmd = Command::new("/bin/sh");
    demo.prepare(&mut cmd);
    cmd.arg("-c")
        .arg(format!("umask {umask} && exec \"$0\" \"$@\""))
        .arg(DEMO)
        .args(args);
    cmd.output().expect("sh runs")
}

#[test]
fn the_state_directory_is_private_whatever_made_it() {
    let demo = Demo::new();
    // the host makes ~/.demo first, for its own login file, with a umask of 000
    assert!(
        under_umask(&demo, "000", &["login", "user-1"])
            .status
            .success()
    );
    assert_eq!(
        mode(&demo.app_dir()),
        0o777,
        "the host's directory, as it made it"
    );
    // telemetry tightens it the first time it writes there
    assert!(
        under_umask(&demo, "000", &["telemetry", "on"])
            .status
            .success()
    );
    assert_eq!(mode(&demo.app_dir()), 0o700);
    if can_record() {
        assert!(
            under_umask(&demo, "000", &["run", "assist"])
                .status
                .success()
        );
    }
    let files = telemetry_files(&demo);
    assert!(!files.is_empty());
    for (path, _) in files {
        assert_eq!(mode(&path), 0o600, "{}", path.display());
    }
    assert_eq!(mode(&demo.app_dir()), 0o700);
}

#[test]
fn status_calls_a_home_that_is_a_file_a_file() {
    let mut demo = Demo::new();
    let file = demo.root().join("home-file");
    std::fs::write(&file, "").unwrap();
    demo.home = Some(file);
    let out = demo.run(&["telemetry", "status"]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("home-file is not a directory (it is a file)"),
        "{stderr}"
    );
    assert!(
        stderr.contains("fix: point HOME at your home directory"),
        "{stderr}"
    );
}

/// Asserts that the host works as ever, and `status` says why nothing is recorded, with a fix.
fn assert_reports_nothing_recordable(out_run: &Output, out_status: &Output) {
    assert!(out_run.status.success());
    assert_eq!(text(&out_run.stdout), RUN_OUT);
    assert_eq!(text(&out_run.stderr), "");
    let (stdout, stderr) = (text(&out_status.stdout), text(&out_status.stderr));
    assert_eq!(out_status.status.code(), Some(1), "{stdout}{stderr}");
    assert!(
        stdout.starts_with("Telemetry: DISABLED (telemetry is on, but nothing can be recorded"),
        "{stdout}"
    );
    assert!(stdout.contains("Source: DEMO_TELEMETRY=1"), "{stdout}");
    assert!(
        stderr.contains("error: telemetry is on (DEMO_TELEMETRY=1), but nothing can be recorded"),
        "{stderr}"
    );
    assert!(stderr.contains("\n  fix: "), "{stderr}");
}

#[test]
fn status_says_why_nothing_is_recorded_where_no_directory_can_be_made() {
    if !can_record() || !Path::new("/proc/self").exists() {
        return;
    }
    // /proc: not even root can make a directory there
    let mut demo = Demo::new().with("DEMO_TELEMETRY", "1");
    demo.home = Some(PathBuf::from("/proc"));
    let run = demo.run(&["run", "assist"]);
    assert_reports_nothing_recordable(&run, &demo.run(&["telemetry", "status"]));
}

/// Gives the sandbox to nobody; `false` (with the reason printed) when demo cannot be run as
/// nobody here (this is not root).
fn give_to_nobody(demo: &Demo) -> bool {
    if let Some(why) = cannot_switch_user() {
        eprintln!("skipped: {why}");
        return false;
    }
    chown_tree(demo.root(), NOBODY);
    true
}

/// Runs `demo args...` as nobody.
fn as_nobody(demo: &Demo, args: &[&str]) -> Output {
    run_as(demo, Some(NOBODY), args)
}

#[test]
fn status_says_why_nothing_is_recorded_in_a_read_only_home_or_at_the_root() {
    if !can_record() {
        return;
    }
    let demo = Demo::new().with("DEMO_TELEMETRY", "1");
    if !give_to_nobody(&demo) {
        return;
    }
    std::fs::set_permissions(demo.root(), std::fs::Permissions::from_mode(0o555)).unwrap();
    let run = as_nobody(&demo, &["run", "assist"]);
    assert_reports_nothing_recordable(&run, &as_nobody(&demo, &["telemetry", "status"]));
    assert_eq!(demo.files(), ["work", "work/project"]);

    let mut at_root = Demo::new().with("DEMO_TELEMETRY", "1");
    at_root.home = Some(PathBuf::from("/"));
    assert!(give_to_nobody(&at_root));
    let run = as_nobody(&at_root, &["run", "assist"]);
    assert_reports_nothing_recordable(&run, &as_nobody(&at_root, &["telemetry", "status"]));
}

#[test]
fn status_reports_state_files_it_cannot_open() {
    let demo = Demo::new();
    let dir = demo.app_dir();
    std::fs::create_dir(&dir).unwrap();
    if !give_to_nobody(&demo) {
        return;
    }
    for name in [
        "telemetry-queue.jsonl",
        "telemetry-sent.jsonl",
        "telemetry-stats.json",
        "telemetry-sender.json",
    ] {
        let path = dir.join(name);
        std::fs::write(&path, "").unwrap();
        std::os::unix::fs::chown(&path, Some(NOBODY), Some(NOBODY)).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o000)).unwrap();
        let out = as_nobody(&demo, &["telemetry", "status"]);
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{name}: {stderr}");
        assert!(stderr.contains(name), "{name}: {stderr}");
        assert!(stderr.contains("\n  fix: "), "{name}: {stderr}");
        std::fs::remove_file(&path).unwrap();
    }
}

#[test]
fn status_reports_a_full_disk() {
    if !can_record() || effective_uid() != 0 {
        eprintln!("skipped: needs root to mount a small tmpfs");
        return;
    }
    let demo = Demo::new();
    let state = demo.root().join("disk/state");
    let demo = demo
        .with("DEMO_TELEMETRY_DIR", &state.to_string_lossy())
        .with("DEMO_TELEMETRY", "1");
    // after the sandbox, so it is unmounted before the sandbox is removed
    let disk = match Mount::tmpfs(&demo.root().join("disk"), "64k", 0) {
        Ok(disk) => disk,
        Err(why) => {
            eprintln!("skipped: {why}");
            return;
        }
    };
    fill_file_system(&disk.dir);
    let run = demo.run(&["run", "assist"]);
    let status = demo.run(&["telemetry", "status"]);
    assert_reports_nothing_recordable(&run, &status);
    let stderr = text(&status.stderr);
    assert!(stderr.contains("free some space"), "{stderr}");
}

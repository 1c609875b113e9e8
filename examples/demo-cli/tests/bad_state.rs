//! End to end, table-driven: every file telemetry keeps in `~/.demo` (the table of
//! telemetry-core's `paths.rs`) × every way it can be damaged. For each pair, `demo run assist`
//! prints and exits exactly as with a healthy state directory, nothing outside the state
//! directory is written (the rest of HOME and the targets of links are snapshotted), and
//! `demo telemetry status` names the problem: it exits 1 with an `error:` naming the file and a
//! `fix:` line, or the file has been repaired (it is a healthy file again) and status is clean.
//!
//! When this process may switch users (root), demo runs as uid 65534 with HOME handed to it,
//! as a user would; otherwise as this process's user. The mode-000 damage means nothing to
//! root and is skipped, with the reason, when demo would run as root. The detached sender runs
//! too: it delivers to a `telemetry-devserver` on 127.0.0.1, and each case waits for it to exit
//! before looking.
//!
//! Then the whole-directory cases: a read-only state directory (and a read-only file system,
//! where this process may bind-mount one), a read-only HOME, a root-owned sender lock left by a
//! `sudo` run and a state directory a `sudo` run made (both need root beside `nobody`), and a
//! full disk (a 64 KiB tmpfs, where this process may mount one). Each says why when skipped.

mod common;

use std::fs::File;
use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::Duration;

use common::{
    Demo, Mount, NOBODY, RUN_OUT, assert_nothing_sent_twice, assert_same_tree, cannot_switch_user,
    chown_tree, effective_uid, fill_file_system, read_framed, run_as, sandbox_processes, snapshot,
    snapshot_excluding, text, wait_until,
};
use serde_json::Value;
use telemetry_core::limits::SENDER_DEADLINE;
use telemetry_devserver::{DevServer, DevServerOptions, Mode};

/// What a file holds, for its damages and for telling a repaired one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// `telemetry.toml`.
    Config,
    /// `telemetry-id.json`.
    Identity,
    /// `telemetry-queue.jsonl`.
    Queue,
    /// `telemetry-sent.jsonl`.
    Sent,
    /// `telemetry-stats.json`.
    Stats,
    /// `telemetry-sender.json`.
    SenderState,
    /// `telemetry.lock`, `telemetry-sender.lock`: what matters is that a regular file the
    /// user can open is there; their bytes are never relied on.
    Lock,
    /// `telemetry-notice-shown`: only that a regular file is there matters (it is never
    /// opened).
    Marker,
}

/// Every file of the state directory (`every_state_file_is_covered` keeps it equal to the
/// table in telemetry-core's `paths.rs`).
const FILES: &[(&str, Kind)] = &[
    ("telemetry.toml", Kind::Config),
    ("telemetry-id.json", Kind::Identity),
    ("telemetry-queue.jsonl", Kind::Queue),
    ("telemetry-sent.jsonl", Kind::Sent),
    ("telemetry-stats.json", Kind::Stats),
    ("telemetry-notice-shown", Kind::Marker),
    ("telemetry.lock", Kind::Lock),
    ("telemetry-sender.lock", Kind::Lock),
    ("telemetry-sender.json", Kind::SenderState),
];

/// The ways a file is damaged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Damage {
    Empty,
    Truncated,
    Garbage,
    /// 50 MB.
    Huge,
    WrongTypes,
    Directory,
    /// A symbolic link to a file outside the state directory.
    LinkOutside,
    DanglingLink,
    Fifo,
    /// Mode 000 (only as another user than root).
    Mode000,
}

const DAMAGES: &[Damage] = &[
    Damage::Empty,
    Damage::Truncated,
    Damage::Garbage,
    Damage::Huge,
    Damage::WrongTypes,
    Damage::Directory,
    Damage::LinkOutside,
    Damage::DanglingLink,
    Damage::Fifo,
    Damage::Mode000,
];

/// How long a case waits for the sender it started to exit.
fn sender_patience() -> Duration {
    SENDER_DEADLINE + Duration::from_secs(6)
}

/// The user demo runs as: `nobody` when this process may switch (it is root), else its own.
fn user() -> Option<u32> {
    cannot_switch_user().is_none().then_some(NOBODY)
}

/// Why demo would run as root here (to whom modes mean nothing), or `None` when it runs as a
/// user: `nobody`, or this process's own user when that is not root.
fn demo_runs_as_root() -> Option<String> {
    if user().is_some() || effective_uid() != 0 {
        return None;
    }
    cannot_switch_user().map(|reason| format!("demo would run as root: {reason}"))
}

/// 50 MB of garbage with line breaks, made once per test process, in an unlinked file: each
/// case copies it (by `/proc/self/fd`) to where it is needed.
fn huge_file() -> &'static File {
    static HUGE: OnceLock<File> = OnceLock::new();
    HUGE.get_or_init(|| {
        let mut file = tempfile::tempfile().expect("a temporary file");
        let block = garbage(64 * 1024);
        for _ in 0..(50_000_000 / block.len() + 1) {
            file.write_all(&block).unwrap();
        }
        file.set_len(50_000_000).unwrap();
        file
    })
}

/// `len` bytes of deterministic garbage: binary bytes, invalid UTF-8, NULs and line breaks.
fn garbage(len: usize) -> Vec<u8> {
    let mut state: u32 = 0x9e37_79b9;
    (0..len)
        .map(|i| {
            state = state.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            if i % 97 == 96 {
                b'\n'
            } else {
                (state >> 24) as u8
            }
        })
        .collect()
}

/// CRC-32 (IEEE), as the queue's frames use.
fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &byte in bytes {
        crc ^= u32::from(byte);
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                0xedb8_8320 ^ (crc >> 1)
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// One queue line for `json`, correctly framed.
fn frame(json: &str) -> String {
    format!("T1 {:08x} {} {json}\n", crc32(json.as_bytes()), json.len())
}

/// Well-formed content with the wrong types.
fn wrong_types(kind: Kind) -> Vec<u8> {
    match kind {
        Kind::Config => b"enabled = \"yes\"\nchanged_at = 5\n".to_vec(),
        Kind::Identity => br#"{"anon_id":42,"created_at":["x"],"linked_principal_id":{}}"#.to_vec(),
        Kind::Queue => {
            frame(r#"{"uuid":5,"event":[],"distinct_id":null,"properties":"x","timestamp":1}"#)
                .into_bytes()
        }
        Kind::Sent => frame(r#"{"sent_at":5,"record":{"uuid":"x","event":1}}"#).into_bytes(),
        Kind::Stats => br#"{"sent":"many","dropped_overflow":-1,"rejected_by":[1]}"#.to_vec(),
        Kind::SenderState => {
            br#"{"consecutive_failures":"x","next_attempt_at":5,"last_failure":"net"}"#.to_vec()
        }
        Kind::Lock | Kind::Marker => br#"{"pid":"x"}"#.to_vec(),
    }
}

/// A healthy state directory to copy into each case: made by demo itself (telemetry on, one
/// run delivered, one run whose delivery failed, its back-off over), plus the notice marker
/// (which only a run on a terminal creates).
struct Template {
    _dir: tempfile::TempDir,
    app_dir: PathBuf,
    /// What `demo run assist` printed and exited with on a copy of it.
    stdout: String,
    code: Option<i32>,
}

impl Template {
    fn new(server: &DevServer) -> Self {
        let demo = Demo::sending_to(&server.url());
        demo.ok(&["telemetry", "on"]);
        demo.ok(&["run", "assist"]);
        wait_for_senders(&demo);
        server.set_mode(Mode::Status(503));
        // (as if the flush interval had passed: this command starts a sender)
        common::expire_flush_interval(&demo);
        demo.ok(&["run", "assist"]);
        wait_for_senders(&demo);
        server.set_mode(Mode::Ok);
        // the back-off after that failure, and the flush interval, are over
        common::expire_flush_interval(&demo);
        let sender_state = demo.app_dir().join("telemetry-sender.json");
        let mut state: Value =
            serde_json::from_str(&std::fs::read_to_string(&sender_state).unwrap()).unwrap();
        state["next_attempt_at"] = Value::String("2000-01-01T00:00:00.000Z".into());
        std::fs::write(&sender_state, state.to_string()).unwrap();
        std::fs::write(demo.app_dir().join("telemetry-notice-shown"), "").unwrap();
        for (name, _) in FILES {
            assert!(
                demo.app_dir().join(name).is_file(),
                "the template has no {name}"
            );
        }
        assert!(!demo.queue().is_empty(), "the template's queue is empty");

        let dir = tempfile::tempdir().unwrap();
        let app_dir = dir.path().join(".demo");
        copy_dir(&demo.app_dir(), &app_dir);
        let mut template = Self {
            _dir: dir,
            app_dir,
            stdout: String::new(),
            code: None,
        };
        // what the host does with this state: the reference of every case
        let healthy = template.sandbox(server);
        let out = run_as(&healthy, user(), &["run", "assist"]);
        wait_for_senders(&healthy);
        assert_eq!(text(&out.stderr), "");
        template.stdout = text(&out.stdout);
        template.code = out.status.code();
        assert_eq!(
            (template.code, template.stdout.as_str()),
            (Some(0), RUN_OUT)
        );
        let status = run_as(&healthy, user(), &["telemetry", "status"]);
        wait_for_senders(&healthy);
        assert!(
            status.status.success() && text(&status.stdout).starts_with("Telemetry: ENABLED"),
            "healthy state: {}{}",
            text(&status.stdout),
            text(&status.stderr)
        );
        template
    }

    /// A fresh sandbox holding a copy of the state directory, owned by [`user`].
    fn sandbox(&self, server: &DevServer) -> Demo {
        let demo = Demo::sending_to(&server.url());
        copy_dir(&self.app_dir, &demo.app_dir());
        if let Some(uid) = user() {
            chown_tree(demo.root(), uid);
        }
        demo
    }

    fn content(&self, name: &str) -> Vec<u8> {
        std::fs::read(self.app_dir.join(name)).unwrap()
    }
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    std::fs::set_permissions(to, std::fs::Permissions::from_mode(0o700)).unwrap();
    for entry in std::fs::read_dir(from).unwrap().flatten() {
        let target = to.join(entry.file_name());
        std::fs::copy(entry.path(), &target).unwrap();
        std::fs::set_permissions(&target, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
}

/// Waits until no process of `demo`'s sandbox is alive (its sender has exited).
fn wait_for_senders(demo: &Demo) {
    assert!(
        wait_until(sender_patience(), || sandbox_processes(demo.root(), None)
            .is_empty()),
        "a sender outlived its deadline: {:?}",
        sandbox_processes(demo.root(), None)
    );
}

/// Damages `path` (whose healthy bytes are `healthy`); `outside` is a directory outside the
/// state directory for links to point into. `Err` says why the damage cannot be made here.
fn damage(
    path: &Path,
    kind: Kind,
    damage: Damage,
    healthy: &[u8],
    outside: &Path,
) -> Result<(), String> {
    let _ = std::fs::remove_file(path);
    match damage {
        Damage::Empty => std::fs::write(path, b"").unwrap(),
        Damage::Truncated => {
            let cut = healthy.len().saturating_sub(4);
            std::fs::write(path, &healthy[..cut]).unwrap();
        }
        Damage::Garbage => std::fs::write(path, garbage(4096)).unwrap(),
        Damage::Huge => {
            use std::os::fd::AsRawFd;
            let source = format!("/proc/self/fd/{}", huge_file().as_raw_fd());
            std::fs::copy(source, path).unwrap();
        }
        Damage::WrongTypes => std::fs::write(path, wrong_types(kind)).unwrap(),
        Damage::Directory => {
            std::fs::create_dir_all(path.join("inner")).unwrap();
            std::fs::write(path.join("inner/file"), "x").unwrap();
        }
        Damage::LinkOutside => {
            std::os::unix::fs::symlink(outside.join("precious.txt"), path).unwrap()
        }
        Damage::DanglingLink => {
            std::os::unix::fs::symlink(outside.join("does-not-exist"), path).unwrap()
        }
        Damage::Fifo => {
            let made = std::process::Command::new("mkfifo").arg(path).status();
            if !made.is_ok_and(|s| s.success()) {
                return Err("`mkfifo` is not available".into());
            }
        }
        Damage::Mode000 => {
            if let Some(reason) = demo_runs_as_root() {
                return Err(format!("mode 000 means nothing to root: {reason}"));
            }
            std::fs::write(path, healthy).unwrap();
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o000)).unwrap();
        }
    }
    Ok(())
}

/// Why the file at `path` is not a healthy one of `kind` (for `uid`), or `None` when it is.
/// A missing file counts as healthy (it is recreated when needed), but for the user's
/// config, whose choice would be lost.
fn unhealthy(path: &Path, kind: Kind, uid: Option<u32>) -> Option<String> {
    use std::os::unix::fs::MetadataExt;
    let meta = match std::fs::symlink_metadata(path) {
        Err(_) if kind == Kind::Config => return Some("it is gone".into()),
        Err(_) => return None,
        Ok(meta) => meta,
    };
    if !meta.file_type().is_file() {
        return Some(format!("it is still {:?}", meta.file_type()));
    }
    if kind == Kind::Marker {
        return None;
    }
    if let Some(uid) = uid
        && (meta.uid() != uid || meta.mode() & 0o600 != 0o600)
    {
        return Some(format!(
            "its owner and mode are {} {:o}",
            meta.uid(),
            meta.mode() & 0o7777
        ));
    }
    let bytes = std::fs::read(path).unwrap_or_default();
    let json = || serde_json::from_slice::<Value>(&bytes).ok();
    let ok = match kind {
        Kind::Lock | Kind::Marker => true,
        // a config that says nothing (empty, or only comments) is valid: nothing decided
        Kind::Config => std::str::from_utf8(&bytes).is_ok_and(|text| {
            let lines: Vec<&str> = text
                .lines()
                .map(str::trim)
                .filter(|l| !l.is_empty() && !l.starts_with('#'))
                .collect();
            lines.is_empty()
                || lines
                    .iter()
                    .any(|l| *l == "enabled = true" || *l == "enabled = false")
        }),
        Kind::Identity => json().is_some_and(|v| {
            v["anon_id"].as_str().is_some_and(|id| id.len() == 36) && v["created_at"].is_string()
        }),
        Kind::Queue | Kind::Sent => framed_lines(&bytes).is_some_and(|lines| {
            lines.iter().all(|v| {
                let record = if kind == Kind::Sent { &v["record"] } else { v };
                record["uuid"].is_string()
                    && record["event"].is_string()
                    && record["distinct_id"].is_string()
                    && record["properties"].is_object()
                    && record["timestamp"].is_string()
            })
        }),
        Kind::Stats => json().is_some_and(|v| {
            v.as_object().is_some_and(|o| {
                o.iter().all(|(k, v)| match k.as_str() {
                    "rejected_by" => v
                        .as_object()
                        .is_some_and(|by| by.values().all(Value::is_u64)),
                    _ => v.is_u64(),
                })
            })
        }),
        Kind::SenderState => json().is_some_and(|v| {
            v.as_object().is_some_and(|o| {
                o.get("consecutive_failures").is_none_or(Value::is_u64)
                    && ["next_attempt_at", "last_success_at"]
                        .iter()
                        .all(|k| o.get(*k).is_none_or(|t| t.is_null() || t.is_string()))
                    && o.get("last_failure")
                        .is_none_or(|f| f.is_null() || f.is_object())
            })
        }),
    };
    (!ok).then(|| format!("its content is still damaged ({} bytes)", bytes.len()))
}

/// Every line of a framed file, if each is whole, checksummed and JSON. A queue segment's
/// header (`#TQ1 <id> <acknowledged offset>`) must be whole, and only the lines past the
/// acknowledged offset (already sent: left to be removed with the segment) are checked;
/// withdrawn records (`#` lines) are skipped.
fn framed_lines(bytes: &[u8]) -> Option<Vec<Value>> {
    let text = std::str::from_utf8(bytes).ok()?;
    if !text.is_empty() && !text.ends_with('\n') {
        return None;
    }
    let text = match text.strip_prefix("#TQ1 ") {
        Some(header) => {
            let (id, acked) = (header.get(..32)?, header.get(33..53)?);
            u128::from_str_radix(id, 16).ok()?;
            text.get(acked.parse::<usize>().ok()?..)?
        }
        None => text,
    };
    text.lines()
        .filter(|line| !line.starts_with('#'))
        .map(|line| {
            let mut parts = line.splitn(4, ' ');
            let (tag, crc, len, json) =
                (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
            (tag == "T1"
                && u32::from_str_radix(crc, 16).ok()? == crc32(json.as_bytes())
                && len.parse::<usize>().ok()? == json.len())
            .then(|| serde_json::from_str(json).ok())?
        })
        .collect()
}

/// One (file, damage) case; `Ok(None)` when it passed, `Ok(Some(reason))` when it was
/// skipped, `Err` with what went wrong.
fn check_case(
    template: &Template,
    server: &DevServer,
    name: &str,
    kind: Kind,
    how: Damage,
) -> Result<Option<String>, String> {
    let demo = template.sandbox(server);
    let outside = demo.root().join("outside");
    std::fs::create_dir(&outside).unwrap();
    std::fs::write(outside.join("precious.txt"), "precious\n").unwrap();
    let path = demo.app_dir().join(name);
    if let Err(reason) = damage(&path, kind, how, &template.content(name), &outside) {
        return Ok(Some(reason));
    }
    let uid = user();
    if let Some(uid) = uid {
        chown_tree(demo.root(), uid);
    }
    let app_dir = demo.app_dir();
    let rest_of_home = || snapshot_excluding(demo.root(), &[app_dir.as_path()]);
    let before = rest_of_home();
    let mut problems = Vec::new();

    let out = run_as(&demo, uid, &["run", "assist"]);
    if out.status.code() != template.code || text(&out.stdout) != template.stdout {
        problems.push(format!(
            "the host changed: exit {:?}, stdout {:?}",
            out.status.code(),
            text(&out.stdout)
        ));
    }
    if !out.stderr.is_empty() {
        problems.push(format!("the host printed: {}", text(&out.stderr)));
    }
    if !wait_until(sender_patience(), || {
        sandbox_processes(demo.root(), None).is_empty()
    }) {
        problems.push(format!(
            "a sender outlived its deadline: {:?}",
            sandbox_processes(demo.root(), None)
        ));
    }
    let diff = common::tree_diff(&before, &rest_of_home());
    if !diff.is_empty() {
        problems.push(format!("written outside ~/.demo: {}", diff.join("; ")));
    }

    let status = run_as(&demo, uid, &["telemetry", "status"]);
    // status records too when telemetry is on: its sender is let finish before looking
    if !wait_until(sender_patience(), || {
        sandbox_processes(demo.root(), None).is_empty()
    }) {
        problems.push("the sender started by status outlived its deadline".into());
    }
    let (stdout, stderr) = (text(&status.stdout), text(&status.stderr));
    if !stdout.starts_with("Telemetry: ") {
        problems.push(format!("status printed no report: {stdout:?}"));
    }
    match status.status.code() {
        Some(1) => {
            if !(stderr.contains("error: ") && stderr.contains(name) && stderr.contains("fix: ")) {
                problems.push(format!(
                    "status failed without naming {name} with a fix: {stderr}"
                ));
            }
        }
        Some(0) => {
            if let Some(why) = unhealthy(&path, kind, uid) {
                problems.push(format!(
                    "status is clean (exit 0) but {name} was not repaired: {why}; stderr: {stderr:?}"
                ));
            } else if stderr.contains("error: ") {
                problems.push(format!("status exited 0 with an error: {stderr}"));
            }
        }
        other => problems.push(format!("status exited {other:?}: {stderr}")),
    }
    let diff = common::tree_diff(&before, &rest_of_home());
    if !diff.is_empty() {
        problems.push(format!("status wrote outside ~/.demo: {}", diff.join("; ")));
    }
    if problems.is_empty() {
        Ok(None)
    } else {
        Err(problems.join("\n      "))
    }
}

/// Runs every damage of `name` at once, and fails listing every case that failed.
fn check_file(name: &str) {
    let kind = FILES
        .iter()
        .find(|(file, _)| *file == name)
        .map(|(_, kind)| *kind)
        .expect("a state file");
    run_cases(DAMAGES.iter().map(|how| (name, kind, *how)).collect());
}

fn run_cases(cases: Vec<(&str, Kind, Damage)>) {
    if !common::can_record() {
        return;
    }
    if let Some(reason) = cannot_switch_user() {
        eprintln!("note: demo runs as this test's own user: {reason}");
    }
    let server = DevServer::start(DevServerOptions::default()).expect("dev server");
    let template = Template::new(&server);
    let results: Vec<(String, Result<Option<String>, String>)> = std::thread::scope(|scope| {
        let handles: Vec<_> = cases
            .iter()
            .map(|&(name, kind, how)| {
                let (template, server) = (&template, &server);
                scope.spawn(move || {
                    (
                        format!("{name} × {how:?}"),
                        check_case(template, server, name, kind, how),
                    )
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let mut failures = Vec::new();
    for (case, result) in results {
        match result {
            Ok(None) => {}
            Ok(Some(reason)) => eprintln!("skipped {case}: {reason}"),
            Err(problem) => failures.push(format!("{case}:\n      {problem}")),
        }
    }
    assert!(
        failures.is_empty(),
        "{} case(s) failed:\n  {}",
        failures.len(),
        failures.join("\n  ")
    );
}

#[test]
fn every_state_file_is_covered() {
    let paths = include_str!("../../../telemetry-core/src/paths.rs");
    let mut documented: Vec<&str> = paths
        .lines()
        .filter_map(|line| line.strip_prefix("//! | `"))
        .filter_map(|rest| rest.split('`').next())
        .collect();
    documented.sort_unstable();
    let mut covered: Vec<&str> = FILES.iter().map(|(name, _)| *name).collect();
    covered.sort_unstable();
    assert_eq!(
        covered, documented,
        "FILES must list every file of paths.rs"
    );
}

#[test]
fn a_damaged_user_config() {
    check_file("telemetry.toml");
}

#[test]
fn a_damaged_identity() {
    check_file("telemetry-id.json");
}

#[test]
fn a_damaged_queue() {
    check_file("telemetry-queue.jsonl");
}

#[test]
fn a_damaged_sent_log() {
    check_file("telemetry-sent.jsonl");
}

#[test]
fn damaged_stats() {
    check_file("telemetry-stats.json");
}

#[test]
fn a_damaged_notice_marker() {
    check_file("telemetry-notice-shown");
}

#[test]
fn a_damaged_lock() {
    check_file("telemetry.lock");
}

#[test]
fn a_damaged_sender_lock() {
    check_file("telemetry-sender.lock");
}

#[test]
fn a_damaged_sender_state() {
    check_file("telemetry-sender.json");
}

// ---------------------------------------------------------------------------------------------
// The whole directory: read-only, a root-owned sender lock, a full disk.

/// `demo run assist` as `uid` prints and exits as always.
fn host_unaffected(demo: &Demo, uid: Option<u32>) {
    let out = run_as(demo, uid, &["run", "assist"]);
    assert_eq!(
        (
            out.status.code(),
            text(&out.stdout).as_str(),
            text(&out.stderr).as_str()
        ),
        (Some(0), RUN_OUT, "")
    );
}

/// `demo telemetry status` as `uid` exits 1 with an error mentioning one of `needles` and a
/// `fix:` line; returns its stderr.
fn status_names(demo: &Demo, uid: Option<u32>, needles: &[&str]) -> String {
    let out = run_as(demo, uid, &["telemetry", "status"]);
    wait_for_senders(demo);
    let stderr = text(&out.stderr);
    assert_eq!(
        out.status.code(),
        Some(1),
        "status exited {:?}\nstdout: {}stderr: {stderr}",
        out.status.code(),
        text(&out.stdout)
    );
    let lower = stderr.to_lowercase();
    assert!(
        lower.contains("error: ") && needles.iter().any(|n| lower.contains(&n.to_lowercase())),
        "no error naming {needles:?}: {stderr}"
    );
    assert!(stderr.contains("fix: "), "no fix: {stderr}");
    stderr
}

/// A sandbox owned by the user demo runs as ([`user`]), or `None` (saying why) when demo
/// would run as root, to whom modes mean nothing.
fn unprivileged(server: &DevServer) -> Option<Demo> {
    if let Some(reason) = demo_runs_as_root() {
        eprintln!("skipped: {reason}");
        return None;
    }
    if !common::can_record() {
        return None;
    }
    let demo = Demo::sending_to(&server.url());
    if let Some(uid) = user() {
        chown_tree(demo.root(), uid);
    }
    Some(demo)
}

/// [`unprivileged`], for a test that also needs root to make root's files: this process is
/// root and demo runs as `nobody`.
fn nobody_with_root_beside(server: &DevServer) -> Option<Demo> {
    if let Some(reason) = cannot_switch_user() {
        eprintln!("skipped: {reason}");
        return None;
    }
    unprivileged(server)
}

/// An [`unprivileged`] sandbox with telemetry on and records waiting in the queue (their
/// delivery failed; the back-off is over).
fn with_records_waiting(server: &DevServer) -> Option<Demo> {
    let demo = unprivileged(server)?;
    let ok = |args: &[&str]| {
        let out = run_as(&demo, user(), args);
        assert!(out.status.success(), "{args:?}: {}", text(&out.stderr));
    };
    ok(&["telemetry", "on"]);
    server.set_mode(Mode::Status(503));
    ok(&["run", "assist"]);
    wait_for_senders(&demo);
    server.set_mode(Mode::Ok);
    let sender_state = demo.app_dir().join("telemetry-sender.json");
    let mut state: Value =
        serde_json::from_str(&std::fs::read_to_string(&sender_state).unwrap()).unwrap();
    state["next_attempt_at"] = Value::String("2000-01-01T00:00:00.000Z".into());
    std::fs::write(&sender_state, state.to_string()).unwrap();
    if let Some(uid) = user() {
        chown_tree(demo.root(), uid);
    }
    assert!(!demo.queue().is_empty());
    Some(demo)
}

/// Three commands in `demo` as [`user`]: the host is unaffected, nothing outside the state
/// directory is written, and no record reaches the server twice.
fn three_commands(demo: &Demo, server: &DevServer) {
    let app_dir = demo.app_dir();
    let rest = || snapshot_excluding(demo.root(), &[app_dir.as_path()]);
    let before = rest();
    for _ in 0..3 {
        host_unaffected(demo, user());
        wait_for_senders(demo);
    }
    assert_same_tree(&before, &rest(), "written outside ~/.demo");
    // a sender that cannot record what was acknowledged does not send it again
    assert_nothing_sent_twice(server);
}

#[test]
fn a_read_only_state_directory() {
    use std::os::unix::fs::MetadataExt;
    let server = DevServer::start(DevServerOptions::default()).expect("dev server");
    let Some(demo) = with_records_waiting(&server) else {
        return;
    };
    // the user made it read-only (its files stay writable)
    std::fs::set_permissions(demo.app_dir(), std::fs::Permissions::from_mode(0o500)).unwrap();
    three_commands(&demo, &server);
    // the user's choice stands: telemetry makes nothing more permissive
    let mode = std::fs::metadata(demo.app_dir()).unwrap().mode() & 0o7777;
    assert_eq!(mode, 0o500, "the read-only directory was made {mode:o}");
    status_names(&demo, user(), &[".demo"]);
    std::fs::set_permissions(demo.app_dir(), std::fs::Permissions::from_mode(0o700)).unwrap();
}

#[test]
fn a_read_only_file_system() {
    let server = DevServer::start(DevServerOptions::default()).expect("dev server");
    let Some(demo) = with_records_waiting(&server) else {
        return;
    };
    let read_only = match Mount::read_only(&demo.app_dir()) {
        Ok(guard) => guard,
        Err(reason) => {
            eprintln!("skipped: cannot make a read-only bind mount: {reason}");
            return;
        }
    };
    three_commands(&demo, &server);
    status_names(&demo, user(), &[".demo", "read-only"]);
    drop(read_only);
}

#[test]
fn a_read_only_home_without_a_state_directory() {
    let server = DevServer::start(DevServerOptions::default()).expect("dev server");
    let Some(demo) = unprivileged(&server) else {
        return;
    };
    let demo = demo.with("DEMO_TELEMETRY", "1");
    std::fs::set_permissions(demo.root(), std::fs::Permissions::from_mode(0o555)).unwrap();
    let before = common::snapshot(demo.root());
    host_unaffected(&demo, user());
    wait_for_senders(&demo);
    assert_same_tree(&before, &common::snapshot(demo.root()), "HOME changed");
    status_names(&demo, user(), &[".demo"]);
    // `telemetry off` could not be saved here either: the variable is named with it (found by
    // the review of a lexopt tool's adoption)
    let stdout = text(&run_as(&demo, user(), &["telemetry", "status"]).stdout);
    assert!(
        stdout.contains("or set DO_NOT_TRACK=1 where the problem keeps that from being saved"),
        "{stdout}"
    );
    std::fs::set_permissions(demo.root(), std::fs::Permissions::from_mode(0o755)).unwrap();
}

#[test]
fn a_root_owned_sender_lock_left_by_sudo() {
    use std::os::unix::fs::MetadataExt;
    let server = DevServer::start(DevServerOptions::default()).expect("dev server");
    let Some(demo) = nobody_with_root_beside(&server) else {
        return;
    };
    let user = Some(NOBODY);
    let out = run_as(&demo, user, &["telemetry", "on"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    host_unaffected(&demo, user);
    wait_for_senders(&demo);
    // what a `sudo demo ...` whose sender created the lock leaves: root's, 0600, with the pid
    // of a sender long gone
    let lock = demo.app_dir().join("telemetry-sender.lock");
    let _ = std::fs::remove_file(&lock);
    std::fs::write(&lock, "4194304\n").unwrap();
    std::fs::set_permissions(&lock, std::fs::Permissions::from_mode(0o600)).unwrap();
    assert_eq!(std::fs::metadata(&lock).unwrap().uid(), 0);
    server.clear();

    // the user's commands are unaffected ...
    host_unaffected(&demo, user);
    wait_for_senders(&demo);
    // ... status says what is wrong and how to fix it ...
    status_names(&demo, user, &["telemetry-sender.lock"]);
    // ... and `clear` removes what the user may remove, after which delivery resumes
    let out = run_as(&demo, user, &["telemetry", "clear"]);
    assert!(out.status.success(), "clear: {}", text(&out.stderr));
    assert!(
        std::fs::symlink_metadata(&lock).map_or(true, |m| m.uid() != 0),
        "clear left the root-owned sender lock"
    );
    server.clear();
    host_unaffected(&demo, user);
    assert!(
        server.wait_for_events(5, Duration::from_secs(20)),
        "nothing was delivered after clear: {} event(s)",
        server.events().len()
    );
    wait_for_senders(&demo);
    assert_nothing_sent_twice(&server);
}

#[test]
fn a_state_directory_made_by_sudo() {
    let server = DevServer::start(DevServerOptions::default()).expect("dev server");
    let Some(demo) = nobody_with_root_beside(&server) else {
        return;
    };
    let demo = demo.with("DEMO_TELEMETRY", "1");
    // `sudo demo run assist` before the user ever ran demo: root makes ~/.demo
    host_unaffected(&demo, None);
    wait_for_senders(&demo);
    assert!(demo.app_dir().is_dir(), "set-up: root made ~/.demo");
    let app_dir = demo.app_dir();
    let rest = || snapshot_excluding(demo.root(), &[app_dir.as_path()]);
    let before = rest();
    host_unaffected(&demo, user());
    wait_for_senders(&demo);
    assert_same_tree(&before, &rest(), "written outside ~/.demo");
    let stderr = status_names(&demo, user(), &[".demo"]);
    let chown = format!("sudo chown -R nobody {}", demo.app_dir().display());
    assert!(stderr.contains(&chown), "{chown} missing: {stderr}");
}

/// `DEMO_TELEMETRY_DIR` names a folder another user owns and anyone may write (0777, no sticky
/// bit): its owner could read, replace or plant what telemetry keeps there (an identifier,
/// records the sender sends as they stand). The user's commands print and exit as always,
/// nothing is written there and nothing sent, and `status` says whose the folder is and what to
/// do.
#[test]
fn a_shared_state_directory_of_another_user() {
    let server = DevServer::start(DevServerOptions::default()).expect("dev server");
    let Some(demo) = nobody_with_root_beside(&server) else {
        return;
    };
    // made by this test, as root: another user's, writable by everyone
    let shared = demo.root().join("shared");
    std::fs::create_dir(&shared).unwrap();
    std::fs::set_permissions(&shared, std::fs::Permissions::from_mode(0o777)).unwrap();
    let demo = demo
        .with("DEMO_TELEMETRY", "1")
        .with("DEMO_TELEMETRY_DIR", shared.to_str().unwrap());
    let before = snapshot(demo.root());
    for _ in 0..2 {
        host_unaffected(&demo, user());
        wait_for_senders(&demo);
    }
    assert_same_tree(
        &before,
        &snapshot(demo.root()),
        "written by the user's commands",
    );
    assert!(
        server.events().is_empty(),
        "sent from another user's directory"
    );
    let stderr = status_names(&demo, user(), &["not to you"]);
    for says in [
        "so can they",
        "DEMO_TELEMETRY_DIR",
        "a directory of your own",
    ] {
        assert!(stderr.contains(says), "{says} missing: {stderr}");
    }
    assert_same_tree(&before, &snapshot(demo.root()), "written by status");
}

#[test]
fn a_full_disk() {
    if !common::can_record() {
        return;
    }
    let server = DevServer::start(DevServerOptions::default()).expect("dev server");
    let uid = user();
    let mut demo = Demo::sending_to(&server.url());
    let mount_point = demo.root().join("small");
    let tmpfs = match Mount::tmpfs(&mount_point, "64k", uid.unwrap_or(0)) {
        Ok(tmpfs) => tmpfs,
        Err(reason) => {
            eprintln!("skipped: cannot mount a small tmpfs for the full disk: {reason}");
            return;
        }
    };
    // HOME is the small file system
    demo.home = Some(tmpfs.dir.clone());
    demo.cwd = tmpfs.dir.join("work/project");
    std::fs::create_dir_all(&demo.cwd).unwrap();
    if let Some(uid) = uid {
        chown_tree(demo.root(), uid);
    }
    let app_dir = tmpfs.dir.join(".demo");
    let out = run_as(&demo, uid, &["telemetry", "on"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    host_unaffected(&demo, uid);
    wait_for_senders(&demo);
    assert!(
        app_dir.join("telemetry-id.json").is_file(),
        "set-up: recording"
    );

    // fill it
    let filler = fill_file_system(&tmpfs.dir);
    if let Some(uid) = uid {
        chown_tree(&filler, uid);
    }
    let rest = || snapshot_excluding(&tmpfs.dir, &[app_dir.as_path()]);
    let before = rest();
    for _ in 0..2 {
        host_unaffected(&demo, uid);
        wait_for_senders(&demo);
    }
    assert_same_tree(&before, &rest(), "written outside ~/.demo");
    assert_nothing_sent_twice(&server);
    status_names(&demo, uid, &["space", "full"]);
    // with room again, the queue reads back whole
    std::fs::remove_file(&filler).unwrap();
    let _ = read_framed(&app_dir.join("telemetry-queue.jsonl"));
    drop(tmpfs);
}

/// A command stopped with Ctrl-Z (or paused in a debugger) while it held `telemetry.lock`;
/// here this test process holds it. The user's other commands print and exit as always,
/// without waiting for it beyond a moment (how long is measured in `BENCHMARKS.md`, not here),
/// and lose nothing: their records go beside the queue's head. `status` names the lock and
/// says why, no sender starts while it is held, and once it is free everything recorded
/// meanwhile is delivered, once.
#[test]
fn a_lock_held_by_a_stopped_command() {
    let server = DevServer::start(DevServerOptions::default()).expect("dev server");
    let Some(demo) = unprivileged(&server) else {
        return;
    };
    let out = run_as(&demo, user(), &["telemetry", "on"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    host_unaffected(&demo, user());
    wait_for_senders(&demo);
    assert!(
        server.wait_for_events(5, Duration::from_secs(20)),
        "set-up: the first run is delivered"
    );
    server.clear();
    let identity = demo.anon_id().expect("an identity after the first run");

    let lock = common::hold_state_lock(&demo.app_dir());
    for _ in 0..2 {
        host_unaffected(&demo, user());
        wait_for_senders(&demo);
    }
    assert_eq!(
        demo.queue().len(),
        10,
        "not recorded while the lock was held"
    );
    let beside = std::fs::read_dir(demo.app_dir())
        .unwrap()
        .filter(|e| {
            let name = e.as_ref().unwrap().file_name();
            let name = name.to_string_lossy();
            // `telemetry-queue.<seq>-<id>.jsonl`
            name.strip_prefix("telemetry-queue.")
                .is_some_and(|rest| rest.contains('-'))
        })
        .count();
    assert_eq!(beside, 2, "one segment beside the head per command");
    let stderr = status_names(&demo, user(), &["telemetry.lock"]);
    assert!(stderr.contains("Ctrl-Z"), "{stderr}");
    // the identity is read without the lock
    let stdout = text(&run_as(&demo, user(), &["telemetry", "status"]).stdout);
    assert!(
        stdout.contains(&format!("Anonymous ID: {identity}")),
        "{stdout}"
    );
    assert!(server.events().is_empty(), "sent while the lock was held");
    // (`telemetry status` records its own invocation)
    let waiting = demo.queue().len();
    assert!(waiting >= 10, "{waiting}");

    lock.unlock().unwrap();
    // as the user's next command some seconds later (the flush policy lets a command right
    // after a delivery leave its records for a later sender)
    common::expire_flush_interval(&demo);
    host_unaffected(&demo, user());
    wait_for_senders(&demo);
    assert!(
        server.wait_for_events(waiting + 5, Duration::from_secs(20)),
        "what waited beside the head was not sent once the lock was free: {} of {} sent",
        server.events().len(),
        waiting + 5
    );
    assert_eq!(server.events().len(), waiting + 5);
    assert!(demo.queue().is_empty(), "{:?}", demo.queue());
    assert!(
        server.events().iter().all(|e| e.distinct_id == identity),
        "another identity"
    );
    assert_nothing_sent_twice(&server);
}

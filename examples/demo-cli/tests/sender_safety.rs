//! End to end: the sender is safe to run wherever the host runs.
//!
//! - It runs no other program: fake `lsb_release`, `getconf`, `uname`, `cut`, `tr` and `getopt`
//!   that log each call are put first on `PATH` and in the working directory, and the log stays
//!   empty while events are delivered, from the detached sender and from background delivery
//!   (posthog-rs asks `os_info`, which would run them).
//! - State files the user cannot use (left by a run under `sudo`) are reported by `status`
//!   with the `chown` that fixes them, removed by `clear`, and delivery resumes; a run as root
//!   in another user's directory leaves no root-owned file there.
//! - A state directory where acknowledgements cannot be recorded (read-only) sends nothing, so
//!   nothing is sent twice, and `status` says why.
//!
//! The tests that need another user run `demo` as uid 65534 (`nobody`) and are skipped, saying
//! so, when the tests do not run as root.

mod common;

use std::collections::BTreeMap;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::{
    Demo, RUN_EVENTS, SpawnServer, assert_no_sender_survives, can_record, effective_uid, server,
    text,
};
use serde_json::Value;
use telemetry_devserver::{DevServer, Mode};

/// How long a test waits for something that should happen within a second or two.
const PATIENCE: Duration = Duration::from_secs(30);

/// The user the tests that need another user run `demo` as.
const NOBODY: u32 = 65534;

/// The programs `os_info` (through posthog-rs) runs on Linux, directly or from the
/// `lsb_release` script: each is faked by one that logs its call.
const TRAPPED: [&str; 6] = ["lsb_release", "getconf", "uname", "cut", "tr", "getopt"];

/// A directory of fake programs that append their name and arguments to `calls.log`.
struct Trap {
    dir: PathBuf,
    log: PathBuf,
}

impl Trap {
    fn new(root: &Path) -> Self {
        let dir = root.join("repo-with-traps");
        std::fs::create_dir_all(&dir).unwrap();
        let log = root.join("calls.log");
        std::fs::write(&log, "").unwrap();
        for name in TRAPPED {
            let path = dir.join(name);
            std::fs::write(
                &path,
                format!(
                    "#!/bin/sh\necho \"{name} $* (pid $$, cwd $(pwd))\" >> '{}'\n",
                    log.display()
                ),
            )
            .unwrap();
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        }
        Self { dir, log }
    }

    /// `demo args...` with `path_head` before the real `PATH`, from the trap directory.
    fn command(&self, demo: &Demo, path_head: &str, args: &[&str]) -> Command {
        let mut cmd = demo.command(args);
        let path = std::env::var("PATH").unwrap_or_else(|_| "/usr/bin:/bin".into());
        cmd.env("PATH", format!("{path_head}:{path}"))
            .current_dir(&self.dir);
        cmd
    }

    fn run(&self, demo: &Demo, path_head: &str, args: &[&str]) -> Output {
        let out = self
            .command(demo, path_head, args)
            .output()
            .expect("demo runs");
        assert!(
            out.status.success(),
            "demo {args:?}: {}\n{}",
            out.status,
            text(&out.stderr)
        );
        out
    }

    /// The calls logged so far.
    fn calls(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

#[test]
fn the_detached_sender_runs_no_program_from_path_or_the_working_directory() {
    if !can_record() {
        return;
    }
    let server = server(Mode::Ok);
    let demo = Demo::sending_to(&server.url()).telemetry_on();
    let trap = Trap::new(demo.root());
    let trap_dir = trap.dir.display().to_string();
    // the traps first on PATH, and `.` (the working directory, which holds them too)
    trap.run(&demo, &trap_dir, &["run", "assist"]);
    assert!(
        server.wait_for_events(RUN_EVENTS.len(), PATIENCE),
        "the sender delivered"
    );
    assert_no_sender_survives(&demo);
    // (as if the flush interval had passed: each run below starts a sender)
    common::expire_flush_interval(&demo);
    trap.run(&demo, ".", &["run", "assist"]);
    assert!(server.wait_for_events(2 * RUN_EVENTS.len(), PATIENCE));
    assert_no_sender_survives(&demo);
    // status and inspect start the sender too (they record their own invocation)
    common::expire_flush_interval(&demo);
    trap.run(&demo, &trap_dir, &["telemetry", "status"]);
    assert_no_sender_survives(&demo);
    common::expire_flush_interval(&demo);
    trap.run(&demo, &trap_dir, &["telemetry", "inspect"]);
    assert_no_sender_survives(&demo);
    assert!(
        server.events().len() > 2 * RUN_EVENTS.len(),
        "status's own events were delivered too"
    );
    assert_eq!(trap.calls(), "", "programs were run");
}

#[test]
fn background_delivery_runs_no_program_from_path_or_the_working_directory() {
    if !can_record() {
        return;
    }
    let server = server(Mode::Ok);
    let demo = Demo::sending_to(&server.url()).telemetry_on();
    let trap = Trap::new(demo.root());
    let trap_dir = trap.dir.display().to_string();
    let started = Instant::now();
    let mut child = trap
        .command(&demo, &trap_dir, &["serve", "--for", "4"])
        .spawn_server();
    // startup, invocation and server start arrive while the server still runs
    assert!(server.wait_for_events(3, PATIENCE));
    assert!(
        child.try_wait().unwrap().is_none(),
        "delivered by the running server, not at its exit"
    );
    assert!(child.wait().unwrap().success());
    assert!(
        started.elapsed() < Duration::from_secs(4 + 3),
        "stops promptly"
    );
    assert!(server.wait_for_events(4, PATIENCE));
    assert_no_sender_survives(&demo);
    assert_eq!(server.events_by_uuid().len(), 4);
    assert!(server.events_by_uuid().values().all(|d| d.len() == 1));
    assert_eq!(trap.calls(), "", "programs were run");
}

#[test]
fn a_server_stops_without_waiting_for_the_network() {
    if !can_record() {
        return;
    }
    // the capture server holds every request: a sender started by background delivery is
    // stuck in one when the server stops
    let server = server(Mode::Hang);
    let demo = Demo::sending_to(&server.url()).telemetry_on();
    let started = Instant::now();
    let out = demo
        .command(&["serve", "--for", "1"])
        .stdin(Stdio::piped())
        .output()
        .expect("demo serve");
    let took = started.elapsed();
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        server.wait_for_requests(1, PATIENCE),
        "a sender was started while the server ran"
    );
    eprintln!("serve --for 1 took {took:?}");
    // The server has exited while its sender's request still hangs (the request times out
    // only after seconds): the request in flight is the sender's, so stopping waited for no
    // network. (Before, the host's own thread held it, and stopping waited for it.)
    assert!(
        !demo.processes().is_empty(),
        "the request in flight belongs to a sender that outlives the server"
    );
    assert_no_sender_survives(&demo);
    assert_eq!(demo.queue().len(), 4, "every record kept for a later run");
}

/// The argument a detached sender is started with.
const SENDER_ARG: &str = "--telemetry-sender-process";

/// The pids of the sandbox's detached senders (its processes started with the sender's
/// argument).
fn senders(demo: &Demo) -> Vec<u32> {
    demo.processes()
        .into_iter()
        .filter(|pid| {
            std::fs::read(format!("/proc/{pid}/cmdline")).is_ok_and(|line| {
                line.split(|b| *b == 0)
                    .any(|arg| arg == SENDER_ARG.as_bytes())
            })
        })
        .collect()
}

/// What the process `pid` reads as its stdin, and its `nice` value.
fn stdin_and_nice(pid: u32) -> (String, i32) {
    let stdin = std::fs::read_link(format!("/proc/{pid}/fd/0")).unwrap();
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    // the fields after the command name (in parentheses) start at the third, the state
    let fields: Vec<&str> = stat[stat.rfind(')').unwrap() + 2..].split(' ').collect();
    (stdin.display().to_string(), fields[19 - 3].parse().unwrap())
}

/// The sender `pid` leads a process group of its own, so that the signals a terminal sends its
/// foreground group (Ctrl-C, the hangup of a terminal closed as the command ends) miss it,
/// and it stayed in the session of the command (this test's): its `nice` counts against the
/// user's commands of that session, whose scheduling group (`/proc/<pid>/autogroup`,
/// "/autogroup-42 nice 0") it left as it was.
fn assert_own_group_in_the_commands_session(pid: u32) {
    let fields = |pid: &str| -> Vec<String> {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
        // the fields after the command name (in parentheses) start at the third, the state
        stat[stat.rfind(')').unwrap() + 2..]
            .split(' ')
            .map(str::to_owned)
            .collect()
    };
    let (sender, this) = (fields(&pid.to_string()), fields("self"));
    assert_eq!(sender[5 - 3], pid.to_string(), "its own process group");
    assert_eq!(sender[6 - 3], this[6 - 3], "the command's session");
    if let Ok(autogroup) = std::fs::read_to_string(format!("/proc/{pid}/autogroup")) {
        let ours = std::fs::read_to_string("/proc/self/autogroup").unwrap();
        assert_eq!(autogroup, ours, "the session's scheduling group, unchanged");
    }
}

/// A terminal closed as the command ends (`ssh -t host demo ...`, `xterm -e demo ...`) sends
/// SIGHUP to the command's process group: the sender, started in a group of its own, is not
/// in it, and sends. The command runs here in a group of its own as a shell's job does, and the
/// hangup reaches that group the moment the command has exited, while its sender may still be
/// starting (an adoption review lost 2 senders in 10 such runs when the sender only left the
/// group once it ran).
#[test]
fn a_terminal_hangup_as_the_command_ends_does_not_reach_its_sender() {
    use std::os::unix::process::CommandExt;
    if !can_record() {
        return;
    }
    let server = server(Mode::Ok);
    let demo = Demo::sending_to(&server.url()).telemetry_on();
    for round in 1..=3 {
        // (as if the flush interval had passed: each run starts a sender)
        common::expire_flush_interval(&demo);
        let mut command = demo.command(&["run", "assist"]);
        let status = command
            .process_group(0)
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("demo runs");
        let group = status.id();
        let exit = { status }.wait().unwrap();
        assert!(exit.success());
        // the terminal's hangup, to the job's process group (the command is gone)
        let _ = std::process::Command::new("kill")
            .args(["-HUP", "--", &format!("-{group}")])
            .stderr(std::process::Stdio::null())
            .status();
        assert!(
            server.wait_for_events(round * RUN_EVENTS.len(), PATIENCE),
            "round {round}: the sender survived the hangup and delivered"
        );
        assert_no_sender_survives(&demo);
    }
}

#[test]
fn a_commands_sender_waits_for_it_to_exit_and_yields_the_cpu() {
    if !can_record() {
        return;
    }
    // the server holds every request: the sender stays in its request long enough to look at
    let server = server(Mode::Hang);
    let demo = Demo::sending_to(&server.url()).telemetry_on();
    demo.ok(&["run", "assist"]);
    assert!(
        server.wait_for_requests(1, PATIENCE),
        "the sender sends once the command is gone"
    );
    let found = senders(&demo);
    assert_eq!(found.len(), 1, "one sender: {found:?}");
    let (stdin, nice) = stdin_and_nice(found[0]);
    // a pipe whose other end only the command held (and closed by exiting)
    assert!(stdin.starts_with("pipe:"), "{stdin}");
    assert_eq!(nice, telemetry_core::limits::SENDER_NICENESS);
    assert_own_group_in_the_commands_session(found[0]);
    assert_no_sender_survives(&demo);
}

#[test]
fn a_background_sender_does_not_wait_for_its_long_running_host() {
    if !can_record() {
        return;
    }
    let server = server(Mode::Hang);
    let demo = Demo::sending_to(&server.url()).telemetry_on();
    let mut child = demo.command(&["serve", "--for", "3"]).spawn_server();
    assert!(
        server.wait_for_requests(1, PATIENCE),
        "sent while the server runs"
    );
    assert!(child.try_wait().unwrap().is_none(), "the host still runs");
    let found = senders(&demo);
    assert_eq!(found.len(), 1, "one sender: {found:?}");
    let (stdin, nice) = stdin_and_nice(found[0]);
    assert_eq!(stdin, "/dev/null");
    assert_eq!(nice, telemetry_core::limits::SENDER_NICENESS);
    assert_own_group_in_the_commands_session(found[0]);
    assert!(child.wait().unwrap().success());
    assert_no_sender_survives(&demo);
}

/// A descriptor the host inherited without close-on-exec (here `3>&1` in a shell; an MCP
/// client's protocol pipe kept under another number, a pipe handed over with `pass_fds`) is
/// not held by the sender: the reader at its other end sees its end of file when the command
/// exits, while the sender still waits for a hanging server.
#[test]
fn the_sender_holds_no_descriptor_the_command_inherited() {
    if !can_record() {
        return;
    }
    let server = server(Mode::Hang);
    let demo = Demo::sending_to(&server.url()).telemetry_on();
    let mut shell = Command::new("sh");
    demo.prepare(&mut shell);
    shell
        .current_dir(&demo.cwd)
        .args([
            "-c",
            r#"exec "$0" run assist 3>&1 >/dev/null"#,
            common::DEMO,
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    let mut child = shell.spawn().unwrap();
    let mut pipe = child.stdout.take().unwrap();
    let mut read = Vec::new();
    std::io::Read::read_to_end(&mut pipe, &mut read).unwrap();
    // the end of file came with the command's exit: its sender is still in its request
    assert!(child.wait().unwrap().success());
    assert!(
        server.wait_for_requests(1, PATIENCE),
        "the sender sends once the command is gone"
    );
    let found = senders(&demo);
    assert_eq!(found.len(), 1, "the sender still runs: {found:?}");
    let fds: Vec<String> = std::fs::read_dir(format!("/proc/{}/fd", found[0]))
        .unwrap()
        .filter_map(|entry| {
            let entry = entry.ok()?;
            let target = std::fs::read_link(entry.path()).ok()?;
            Some(format!(
                "{} -> {}",
                entry.file_name().to_string_lossy(),
                target.display()
            ))
        })
        .collect();
    assert!(
        !fds.iter().any(|fd| fd.starts_with("3 -> pipe:")),
        "the inherited pipe is closed: {fds:?}"
    );
    assert_no_sender_survives(&demo);
}

/// Whether the tests run as root (they can then run `demo` as another user); says so when not.
fn root_or_skip() -> bool {
    let root = effective_uid() == 0;
    if !root {
        eprintln!("skipped: running demo as another user (uid {NOBODY}) needs root");
    }
    root
}

/// Gives `path` and everything under it to `uid`.
fn chown_tree(path: &Path, uid: u32) {
    std::os::unix::fs::chown(path, Some(uid), Some(uid)).unwrap();
    if path.is_dir() && !path.is_symlink() {
        for entry in std::fs::read_dir(path).unwrap() {
            chown_tree(&entry.unwrap().path(), uid);
        }
    }
}

/// `demo args...` run as `nobody` (the sandbox must belong to it).
fn as_nobody(demo: &Demo, args: &[&str]) -> Output {
    demo.command(args)
        .uid(NOBODY)
        .gid(NOBODY)
        .output()
        .expect("demo runs as nobody")
}

fn ok_as_nobody(demo: &Demo, args: &[&str]) -> String {
    let out = as_nobody(demo, args);
    assert!(
        out.status.success(),
        "demo {args:?} as nobody: {}\nstdout: {}\nstderr: {}",
        out.status,
        text(&out.stdout),
        text(&out.stderr)
    );
    text(&out.stdout)
}

/// A sandbox that belongs to `nobody`, with telemetry turned on by it, sending to `server`.
fn nobodys_sandbox(server: &DevServer) -> Demo {
    let demo = Demo::sending_to(&server.url());
    chown_tree(demo.root(), NOBODY);
    ok_as_nobody(&demo, &["telemetry", "on"]);
    demo
}

/// The files in `dir` (names) that belong to `uid`.
fn owned_by(dir: &Path, uid: u32) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .flatten()
                .filter(|e| e.metadata().is_ok_and(|m| m.uid() == uid))
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

fn status_json(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "status --json: {e}\n{}\n{}",
            text(&out.stdout),
            text(&out.stderr)
        )
    })
}

#[test]
fn a_root_owned_sender_lock_is_reported_cleared_and_delivery_resumes() {
    if !can_record() || !root_or_skip() {
        return;
    }
    let server = server(Mode::Ok);
    let demo = nobodys_sandbox(&server);
    // what `sudo demo ...` left behind: a sender lock (and a sender state) that belong to root
    let lock = demo.app_dir().join("telemetry-sender.lock");
    std::fs::write(&lock, "4242\n").unwrap();
    std::fs::set_permissions(&lock, std::fs::Permissions::from_mode(0o600)).unwrap();
    let state = demo.app_dir().join("telemetry-sender.json");
    std::fs::write(&state, "{}").unwrap();
    std::fs::set_permissions(&state, std::fs::Permissions::from_mode(0o600)).unwrap();

    ok_as_nobody(&demo, &["run", "assist"]);
    assert_no_sender_survives(&demo);
    assert!(server.requests().is_empty(), "nothing can be sent");

    // status says so, with the chown that fixes it
    let out = as_nobody(&demo, &["telemetry", "status"]);
    let stderr = text(&out.stderr);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}\n{stderr}",
        text(&out.stdout)
    );
    assert!(stderr.contains("telemetry-sender.lock"), "{stderr}");
    let chown = format!("sudo chown -R nobody {}", demo.app_dir().display());
    assert!(stderr.contains(&chown), "{stderr}");
    let json = status_json(&as_nobody(&demo, &["telemetry", "status", "--json"]));
    let problems = json["problems"].as_array().unwrap();
    assert!(
        problems
            .iter()
            .any(|p| p["fix"].as_str().is_some_and(|fix| fix.contains(&chown))),
        "{json}"
    );

    // clear removes what the user cannot use, even though root owns it
    ok_as_nobody(&demo, &["telemetry", "clear"]);
    assert_eq!(owned_by(&demo.app_dir(), 0), Vec::<String>::new());
    let out = as_nobody(&demo, &["telemetry", "status"]);
    assert!(
        !text(&out.stderr).contains("sudo chown"),
        "{}",
        text(&out.stderr)
    );

    // and delivery resumes
    ok_as_nobody(&demo, &["run", "assist"]);
    assert!(
        server.wait_for_events(RUN_EVENTS.len(), PATIENCE),
        "{} events received",
        server.events().len()
    );
    assert_no_sender_survives(&demo);
    assert!(server.events_by_uuid().values().all(|d| d.len() == 1));
}

#[test]
fn a_run_as_root_leaves_no_root_owned_file_in_a_users_directory() {
    if !can_record() || !root_or_skip() {
        return;
    }
    let server = server(Mode::Ok);
    let demo = nobodys_sandbox(&server);
    ok_as_nobody(&demo, &["run", "assist"]);
    assert!(server.wait_for_events(RUN_EVENTS.len(), PATIENCE));
    assert_no_sender_survives(&demo);
    let before = server.events().len();

    // `sudo demo run assist`: root, with the user's HOME
    let out = demo.run(&["run", "assist"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(
        text(&out.stderr),
        "",
        "nothing printed because of telemetry"
    );
    assert_no_sender_survives(&demo);
    assert_eq!(
        owned_by(&demo.app_dir(), 0),
        Vec::<String>::new(),
        "root left files behind"
    );
    // root recorded nothing in the user's queue, and sent nothing
    assert!(demo.queue().is_empty());
    assert_eq!(server.events().len(), before);

    // the user's own runs go on as before (the flush interval over, as if its time had passed)
    common::expire_flush_interval(&demo);
    ok_as_nobody(&demo, &["run", "assist"]);
    assert!(server.wait_for_events(before + RUN_EVENTS.len(), PATIENCE));
    assert_no_sender_survives(&demo);
}

/// A state directory `nobody` can read but not write: its own, at mode 0500 (telemetry takes
/// group and other bits away from its directory, never adds one), with the files in it
/// nobody's, so records are still appended to the queue but what the server accepts cannot be
/// recorded. (One that belongs to root would be another user's: nothing is recorded there at
/// all, `bad_state.rs::a_state_directory_made_by_sudo`.)
fn make_read_only_for_nobody(dir: &Path) {
    std::os::unix::fs::chown(dir, Some(NOBODY), None).unwrap();
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o500)).unwrap();
}

#[test]
fn a_read_only_state_directory_sends_nothing_twice() {
    if !can_record() || !root_or_skip() {
        return;
    }
    // events wait in the queue while the server fails
    let server = server(Mode::Status(503));
    let demo = nobodys_sandbox(&server);
    ok_as_nobody(&demo, &["run", "assist"]);
    assert!(server.wait_for_requests(1, PATIENCE));
    assert_no_sender_survives(&demo);
    assert_eq!(demo.queue().len(), RUN_EVENTS.len());
    // the back-off is over, the server is back, and the directory is read-only
    let state = demo.app_dir().join("telemetry-sender.json");
    let mut sender: Value =
        serde_json::from_str(&std::fs::read_to_string(&state).unwrap()).unwrap();
    sender["next_attempt_at"] = Value::String("2000-01-01T00:00:00.000Z".into());
    std::fs::write(&state, sender.to_string()).unwrap();
    chown_tree(&state, NOBODY);
    server.set_mode(Mode::Ok);
    server.clear();
    make_read_only_for_nobody(&demo.app_dir());

    for _ in 0..4 {
        ok_as_nobody(&demo, &["run", "assist"]);
        assert_no_sender_survives(&demo);
    }
    assert_eq!(
        demo.queue().len(),
        5 * RUN_EVENTS.len(),
        "still recorded, nothing lost"
    );
    let mut sent: BTreeMap<String, usize> = BTreeMap::new();
    for request in server.requests() {
        for uuid in request.event_uuids {
            *sent.entry(uuid.to_string()).or_default() += 1;
        }
    }
    let twice: Vec<_> = sent.iter().filter(|(_, n)| **n > 1).collect();
    assert!(
        twice.is_empty(),
        "{} request(s); sent more than once: {twice:?}",
        server.requests().len()
    );

    // status says why nothing is sent, and how to fix it
    let out = as_nobody(&demo, &["telemetry", "status"]);
    let stderr = text(&out.stderr);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}\n{stderr}",
        text(&out.stdout)
    );
    assert!(
        stderr.contains(&format!("chmod u+rwx {}", demo.app_dir().display())),
        "{stderr}"
    );

    // once it is writable again, everything waiting is delivered, once
    std::fs::set_permissions(demo.app_dir(), std::fs::Permissions::from_mode(0o700)).unwrap();
    let waiting = demo.queue().len();
    ok_as_nobody(&demo, &["run", "assist"]);
    assert!(
        server.wait_for_events(waiting + RUN_EVENTS.len(), PATIENCE),
        "{} of {} delivered",
        server.events().len(),
        waiting + RUN_EVENTS.len()
    );
    assert_no_sender_survives(&demo);
    assert!(server.events_by_uuid().values().all(|d| d.len() == 1));
}

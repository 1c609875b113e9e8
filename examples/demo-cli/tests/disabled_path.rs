//! End to end, without strace: when telemetry is off, whatever turned it off, demo's commands
//! leave the HOME tree byte for byte as it was, leave no process behind, and open no
//! connection.
//!
//! Each route runs under its own temporary HOME with a development key and endpoint, and the
//! endpoint is a `TcpListener` on 127.0.0.1 that this test owns and never answers: any sender
//! that started would connect to it and wait there (so it is also still alive when the
//! command returns). After every command the test compares a snapshot of the whole HOME
//! (paths, kinds, modes, owners, inodes, modification times and contents), looks in /proc for
//! a process of the sandbox (by environment, arguments, working directory or parent), and
//! asks the listener for connections. The first-run notice's marker is the one file that may
//! be created while telemetry is off, and only on a terminal (stdout and stderr): these commands run
//! without one, so nothing at all may appear. `the_checks_see_a_recording_run` shows the
//! checks catch a run that does record.

mod common;

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::process::{Output, Stdio};
use std::time::Duration;

use common::{
    Demo, RUN_OUT, assert_same_tree, can_record, connections, loopback_listener, sandbox_processes,
    snapshot, text, wait_until,
};

/// A command and what the host prints for it, whatever telemetry does.
struct Expected {
    args: &'static [&'static str],
    code: i32,
    stdout: Option<&'static str>,
    stderr: Option<&'static str>,
}

/// The commands every route runs: the host's own, and the `telemetry` subcommands that only
/// read (not `on`, `off` or `clear`, which change the user's settings by design).
const COMMANDS: &[Expected] = &[
    Expected {
        args: &["run", "assist"],
        code: 0,
        stdout: Some(RUN_OUT),
        stderr: Some(""),
    },
    Expected {
        args: &["run", "assist", "--fail"],
        code: 1,
        stdout: None,
        stderr: Some("error: workflow assist failed at node 2 of 3 (bash): simulated failure\n"),
    },
    Expected {
        args: &["setup"],
        code: 0,
        stdout: Some("Setup complete: default assistant claude.\n"),
        stderr: Some(""),
    },
    Expected {
        args: &["serve", "--once"],
        code: 0,
        stdout: Some(""),
        stderr: Some("demo MCP server: 3 tools on stdio\n"),
    },
    Expected {
        args: &["no-such-command"],
        code: 2,
        stdout: Some(""),
        stderr: None,
    },
    Expected {
        args: &["--version"],
        code: 0,
        stdout: None,
        stderr: Some(""),
    },
    Expected {
        args: &["telemetry", "status"],
        code: 0,
        stdout: None,
        stderr: None,
    },
    Expected {
        args: &["telemetry", "inspect"],
        code: 0,
        stdout: None,
        stderr: None,
    },
    Expected {
        args: &["telemetry", "catalog"],
        code: 0,
        stdout: None,
        stderr: Some(""),
    },
    Expected {
        args: &["telemetry", "policy"],
        code: 0,
        stdout: None,
        stderr: Some(""),
    },
];

/// A sandbox whose development endpoint is `listener`.
fn sandbox(url: &str) -> Demo {
    Demo::sending_to(url)
}

/// Runs `args`, returning the output and the pid it had.
fn run(demo: &Demo, args: &[&str]) -> (Output, u32) {
    let child = demo
        .command(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("demo starts");
    let pid = child.id();
    (child.wait_with_output().expect("demo runs"), pid)
}

/// Runs every command of [`COMMANDS`] in `demo` and checks, after each, that the host's output
/// is what it always is, that HOME is unchanged, that no process of the sandbox is alive and
/// that `listener` saw no connection.
fn assert_disabled(route: &str, demo: &Demo, listener: &TcpListener) {
    // whatever the set-up started (nothing, normally) is gone before the snapshot
    assert!(
        wait_until(Duration::from_secs(15), || sandbox_processes(
            demo.root(),
            None
        )
        .is_empty()),
        "{route}: the set-up left processes: {:?}",
        sandbox_processes(demo.root(), None)
    );
    assert_eq!(
        connections(listener),
        0,
        "{route}: the set-up connected to the endpoint"
    );
    let before = snapshot(demo.root());
    for expected in COMMANDS {
        let args = expected.args;
        let (out, pid) = run(demo, args);
        let what = format!("{route}: demo {}", args.join(" "));
        assert_eq!(
            out.status.code(),
            Some(expected.code),
            "{what}\nstdout: {}\nstderr: {}",
            text(&out.stdout),
            text(&out.stderr)
        );
        if let Some(stdout) = expected.stdout {
            assert_eq!(text(&out.stdout), stdout, "{what}");
        }
        if let Some(stderr) = expected.stderr {
            assert_eq!(text(&out.stderr), stderr, "{what}");
        }
        let stray = sandbox_processes(demo.root(), Some(pid));
        assert!(stray.is_empty(), "{what} left processes: {stray:?}");
        assert_same_tree(
            &before,
            &snapshot(demo.root()),
            &format!("{what} changed HOME"),
        );
        assert_eq!(connections(listener), 0, "{what} connected to the endpoint");
    }
    // no thread either: a server runs on its main thread alone
    let (threads, pid) = threads_while_serving(demo);
    assert_eq!(threads, 1, "{route}: demo serve started a thread");
    let stray = sandbox_processes(demo.root(), Some(pid));
    assert!(
        stray.is_empty(),
        "{route}: demo serve left processes: {stray:?}"
    );
    assert_same_tree(
        &before,
        &snapshot(demo.root()),
        &format!("{route}: demo serve changed HOME"),
    );
    assert_eq!(connections(listener), 0, "{route}: demo serve connected");
}

/// How many threads `demo serve` has once it is serving (its banner printed, so telemetry has
/// started and a server's background delivery would be running), and its pid; stdin is then
/// closed, which stops it.
fn threads_while_serving(demo: &Demo) -> (usize, u32) {
    let mut child = demo
        .command(&["serve"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("demo starts");
    let pid = child.id();
    let mut banner = String::new();
    BufReader::new(child.stderr.take().unwrap())
        .read_line(&mut banner)
        .unwrap();
    assert_eq!(banner, "demo MCP server: 3 tools on stdio\n");
    let threads = std::fs::read_dir(format!("/proc/{pid}/task"))
        .map(|tasks| tasks.count())
        .unwrap_or(0);
    drop(child.stdin.take());
    let out = child.wait_with_output().expect("demo serve stops");
    assert!(out.status.success());
    (threads, pid)
}

/// Runs a set-up command (before the snapshot) and checks that it succeeded.
fn set_up(demo: &Demo, args: &[&str]) {
    let out = demo.run(args);
    assert!(
        out.status.success(),
        "set-up demo {args:?}: {}",
        text(&out.stderr)
    );
}

#[test]
fn nothing_decided() {
    let (listener, url) = loopback_listener();
    assert_disabled(
        "nothing decided (opt-in default)",
        &sandbox(&url),
        &listener,
    );

    // logged in (demo links the principal on every start), still nothing decided
    let (listener, url) = loopback_listener();
    let demo = sandbox(&url);
    set_up(&demo, &["login", "user-1"]);
    assert_disabled("nothing decided, logged in", &demo, &listener);
}

#[test]
fn do_not_track_wins_over_everything() {
    if !can_record() {
        return;
    }
    // `no`, `off` and only spaces are not understood, and read the privacy-safe way: set
    for value in [
        "1", "true", "yes", "TRUE", " 1 ", "anything", "no", "off", " ",
    ] {
        let (listener, url) = loopback_listener();
        // both the saved choice and the app's variable say on
        let demo = sandbox(&url);
        set_up(&demo, &["telemetry", "on"]);
        let demo = demo.with("DO_NOT_TRACK", value).with("DEMO_TELEMETRY", "1");
        assert_disabled(&format!("DO_NOT_TRACK={value:?}"), &demo, &listener);
    }
}

#[test]
fn the_apps_own_variables() {
    if !can_record() {
        return;
    }
    for (name, value, also) in [
        ("DEMO_TELEMETRY", "0", None),
        ("DEMO_TELEMETRY", "false", None),
        ("DEMO_TELEMETRY", "maybe", None),
        ("DEMO_NO_TELEMETRY", "1", Some(("DEMO_TELEMETRY", "1"))),
        ("DEMO_NO_TELEMETRY", "true", Some(("DEMO_TELEMETRY", "1"))),
    ] {
        let (listener, url) = loopback_listener();
        let demo = sandbox(&url);
        set_up(&demo, &["telemetry", "on"]);
        let mut demo = demo.with(name, value);
        if let Some((other, on)) = also {
            demo = demo.with(other, on);
        }
        assert_disabled(&format!("{name}={value}"), &demo, &listener);
    }
}

#[test]
fn an_unrecognised_debug_value_is_off() {
    // `DEMO_TELEMETRY_DEBUG=maybe` is not understood: debug mode stays off (nothing printed),
    // and so does telemetry (nothing decided)
    for value in ["maybe", "0", "false"] {
        let (listener, url) = loopback_listener();
        let demo = sandbox(&url).with("DEMO_TELEMETRY_DEBUG", value);
        assert_disabled(&format!("DEMO_TELEMETRY_DEBUG={value}"), &demo, &listener);
    }
}

#[test]
fn a_project_file() {
    if !can_record() {
        return;
    }
    let (listener, url) = loopback_listener();
    let demo = sandbox(&url);
    set_up(&demo, &["telemetry", "on"]);
    std::fs::write(
        demo.root().join("work/.demo-telemetry.toml"),
        "# this team does not send telemetry\nenabled = false\n",
    )
    .unwrap();
    assert_disabled("project file .demo-telemetry.toml", &demo, &listener);
}

#[test]
fn the_users_saved_choice() {
    if !can_record() {
        return;
    }
    let (listener, url) = loopback_listener();
    let demo = sandbox(&url);
    set_up(&demo, &["telemetry", "off"]);
    assert_disabled("telemetry off", &demo, &listener);

    // on, then off again: `off` leaves nothing to send, and nothing happens afterwards
    let (listener, url) = loopback_listener();
    let demo = sandbox(&url);
    set_up(&demo, &["telemetry", "on"]);
    set_up(&demo, &["telemetry", "off"]);
    assert!(
        demo.queue().is_empty(),
        "`telemetry off` left records to send: {:?}",
        common::events(&demo.queue())
    );
    assert_disabled("telemetry on, then off", &demo, &listener);
}

#[test]
fn ci() {
    if !can_record() {
        return;
    }
    for (var, value) in [
        ("CI", "true"),
        ("GITHUB_ACTIONS", "true"),
        ("GITLAB_CI", "true"),
        ("BUILDKITE", "true"),
    ] {
        let (listener, url) = loopback_listener();
        let demo = sandbox(&url).with(var, value);
        assert_disabled(&format!("CI detected ({var}={value})"), &demo, &listener);
    }
}

#[test]
fn a_build_without_a_key() {
    if option_env!("DEMO_POSTHOG_KEY").is_some_and(|k| !k.is_empty()) {
        eprintln!("skipped: this build embeds DEMO_POSTHOG_KEY, so it is not keyless");
        return;
    }
    // the user said yes twice, the endpoint is loopback, but there is no key
    let (listener, url) = loopback_listener();
    let demo = Demo::without_key().with("DEMO_TELEMETRY_DEV_ENDPOINT", &url);
    set_up(&demo, &["telemetry", "on"]);
    let demo = demo.with("DEMO_TELEMETRY", "1");
    assert_disabled("keyless build", &demo, &listener);
}

#[test]
fn debug_mode_records_and_sends_nothing() {
    // not "off", but nothing may be written, started or sent either: events go to stderr only
    let (listener, url) = loopback_listener();
    let demo = sandbox(&url)
        .with("DEMO_TELEMETRY", "1")
        .with("DEMO_TELEMETRY_DEBUG", "1");
    let before = snapshot(demo.root());
    let (out, pid) = run(&demo, &["run", "assist"]);
    assert!(out.status.success());
    assert_eq!(text(&out.stdout), RUN_OUT);
    assert!(
        text(&out.stderr).starts_with("[demo telemetry debug: not sent] {"),
        "{}",
        text(&out.stderr)
    );
    assert_eq!(
        sandbox_processes(demo.root(), Some(pid)),
        Vec::<String>::new()
    );
    assert_same_tree(&before, &snapshot(demo.root()), "debug mode changed HOME");
    assert_eq!(connections(&listener), 0);
}

/// The checks see what they are there to see: with telemetry on, the same run changes HOME,
/// leaves a sender waiting on the listener, and connects.
#[test]
fn the_checks_see_a_recording_run() {
    if !can_record() {
        return;
    }
    let (listener, url) = loopback_listener();
    let demo = sandbox(&url).with("DEMO_TELEMETRY", "1");
    let before = snapshot(demo.root());
    let (out, pid) = run(&demo, &["run", "assist"]);
    assert_eq!(text(&out.stdout), RUN_OUT);
    assert!(!common::tree_diff(&before, &snapshot(demo.root())).is_empty());
    assert!(
        !sandbox_processes(demo.root(), Some(pid)).is_empty(),
        "the sender was not seen"
    );
    let mut connected = 0;
    assert!(wait_until(Duration::from_secs(15), || {
        connected += connections(&listener);
        connected > 0
    }));
    // closing every connection ends the sender
    assert!(wait_until(Duration::from_secs(20), || {
        connections(&listener);
        sandbox_processes(demo.root(), None).is_empty()
    }));
    // a server delivers from a thread of its own
    let (threads, _) = threads_while_serving(&demo);
    assert!(threads > 1, "the delivery thread was not seen");
    assert!(wait_until(Duration::from_secs(20), || {
        connections(&listener);
        sandbox_processes(demo.root(), None).is_empty()
    }));
}

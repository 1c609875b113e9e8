//! Running `demo` as a real process, each test with its own HOME and a clean environment.

#![allow(dead_code)]

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

/// The binary under test.
pub const DEMO: &str = env!("CARGO_BIN_EXE_demo");

/// A loopback endpoint nothing listens on: recording is enabled, nothing is ever received.
pub const DEV_ENDPOINT: &str = "http://127.0.0.1:9";

/// What `demo run assist` prints.
pub const RUN_OUT: &str =
    "Running workflow assist (3 nodes on claude)...\nWorkflow assist completed: 3 of 3 nodes.\n";

/// The events one `demo run assist` records.
pub const RUN_EVENTS: [&str; 5] = [
    "binary.startup",
    "cli.command_invoked",
    "workflow.run_started",
    "workflow.run_completed",
    "cli.command_completed",
];

/// One sandbox: a temporary HOME, a working directory inside it, and the variables to pass.
pub struct Demo {
    pub home_dir: tempfile::TempDir,
    /// What HOME is set to (the temporary directory unless a test changes it).
    pub home: Option<PathBuf>,
    pub cwd: PathBuf,
    pub env: Vec<(String, String)>,
}

impl Demo {
    /// A fresh sandbox whose demo can record: the development endpoint and key are given
    /// (honoured by debug builds only, on loopback only).
    pub fn new() -> Self {
        let home_dir = tempfile::tempdir().expect("temporary home");
        let cwd = home_dir.path().join("work/project");
        std::fs::create_dir_all(&cwd).expect("working directory");
        Self {
            home: Some(home_dir.path().to_path_buf()),
            home_dir,
            cwd,
            env: vec![
                ("DEMO_TELEMETRY_DEV_ENDPOINT".into(), DEV_ENDPOINT.into()),
                ("DEMO_TELEMETRY_DEV_KEY".into(), "phc_e2e_test".into()),
            ],
        }
    }

    /// A sandbox without the development key: the build's own key (none by default).
    pub fn without_key() -> Self {
        let mut demo = Self::new();
        demo.env.clear();
        demo
    }

    /// A sandbox whose demo sends to `url` (a development endpoint on loopback).
    pub fn sending_to(url: &str) -> Self {
        let mut demo = Self::new();
        demo.env = vec![
            ("DEMO_TELEMETRY_DEV_ENDPOINT".into(), url.into()),
            ("DEMO_TELEMETRY_DEV_KEY".into(), "phc_test".into()),
        ];
        demo
    }

    /// Turns telemetry on with `demo telemetry on` (which itself records nothing: that run
    /// started with telemetry off).
    pub fn telemetry_on(self) -> Self {
        self.ok(&["telemetry", "on"]);
        self
    }

    /// Adds a variable.
    pub fn with(mut self, name: &str, value: &str) -> Self {
        self.env.push((name.into(), value.into()));
        self
    }

    /// The temporary directory (HOME by default).
    pub fn root(&self) -> &Path {
        self.home_dir.path()
    }

    /// `~/.demo`.
    pub fn app_dir(&self) -> PathBuf {
        self.root().join(".demo")
    }

    /// The command, with a cleared environment holding only PATH, HOME and the test's
    /// variables.
    pub fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(DEMO);
        self.prepare(&mut cmd);
        cmd.args(args);
        cmd
    }

    /// Clears `cmd`'s environment and sets the sandbox's.
    pub fn prepare(&self, cmd: &mut Command) {
        cmd.env_clear()
            .env(
                "PATH",
                std::env::var_os("PATH").unwrap_or_else(|| OsString::from("/usr/bin:/bin")),
            )
            .current_dir(&self.cwd)
            .stdin(Stdio::null());
        if let Some(home) = &self.home {
            cmd.env("HOME", home);
        }
        for (k, v) in &self.env {
            cmd.env(k, v);
        }
    }

    /// Runs `demo args...` to completion.
    pub fn run(&self, args: &[&str]) -> Output {
        self.command(args).output().expect("demo runs")
    }

    /// Runs and asserts success; returns stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "demo {args:?} failed: {}\nstdout: {}\nstderr: {}",
            out.status,
            text(&out.stdout),
            text(&out.stderr)
        );
        text(&out.stdout)
    }

    /// Every record in the queue file, checking each line's framing (a damaged line fails the
    /// test).
    pub fn queue(&self) -> Vec<Value> {
        read_framed(&self.queue_path())
    }

    /// `~/.demo/telemetry-queue.jsonl`.
    pub fn queue_path(&self) -> PathBuf {
        self.app_dir().join("telemetry-queue.jsonl")
    }

    /// Live processes whose environment has this sandbox's HOME (after its commands returned:
    /// senders). A zombie has no environment and is not listed.
    pub fn processes(&self) -> Vec<u32> {
        let needle = format!("HOME={}", self.root().display());
        let Ok(entries) = std::fs::read_dir("/proc") else {
            return Vec::new();
        };
        entries
            .flatten()
            .filter_map(|entry| entry.file_name().to_str()?.parse::<u32>().ok())
            .filter(|pid| *pid != std::process::id())
            .filter(|pid| {
                std::fs::read(format!("/proc/{pid}/environ")).is_ok_and(|environ| {
                    environ
                        .split(|b| *b == 0)
                        .any(|var| var == needle.as_bytes())
                })
            })
            .collect()
    }

    /// Every path under the sandbox's root (relative), sorted.
    pub fn files(&self) -> Vec<String> {
        let mut found = Vec::new();
        walk(self.root(), self.root(), &mut found);
        found.sort();
        found
    }

    /// The stored anonymous id.
    pub fn anon_id(&self) -> Option<String> {
        let text = std::fs::read_to_string(self.app_dir().join("telemetry-id.json")).ok()?;
        let value: Value = serde_json::from_str(&text).ok()?;
        value["anon_id"].as_str().map(str::to_string)
    }
}

/// A sandbox whose demo records, with telemetry turned on; `None` when the binary can never
/// record (see [`can_record`]).
pub fn on() -> Option<Demo> {
    can_record().then(|| Demo::new().telemetry_on())
}

/// Polls `done` every 20 ms until it holds or `timeout` passes; returns whether it held.
pub fn wait_until(timeout: Duration, mut done: impl FnMut() -> bool) -> bool {
    let started = Instant::now();
    loop {
        if done() {
            return true;
        }
        if started.elapsed() > timeout {
            return false;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Lossy UTF-8.
pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Reads a framed queue file: `T1 <crc32> <len> <json>` per line.
pub fn read_framed(path: &Path) -> Vec<Value> {
    let Ok(content) = std::fs::read_to_string(path) else {
        return Vec::new();
    };
    assert!(
        content.is_empty() || content.ends_with('\n'),
        "torn last line"
    );
    content
        .lines()
        .map(|line| {
            let mut parts = line.splitn(4, ' ');
            let (tag, _crc, len, json) = (
                parts.next().unwrap(),
                parts.next().unwrap(),
                parts.next().unwrap(),
                parts.next().unwrap(),
            );
            assert_eq!(tag, "T1", "{line}");
            assert_eq!(json.len(), len.parse::<usize>().unwrap(), "{line}");
            serde_json::from_str(json).unwrap_or_else(|e| panic!("{e}: {line}"))
        })
        .collect()
}

fn walk(root: &Path, dir: &Path, found: &mut Vec<String>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        found.push(
            path.strip_prefix(root)
                .unwrap_or(&path)
                .display()
                .to_string(),
        );
        if entry.file_type().is_ok_and(|t| t.is_dir()) {
            walk(root, &path, found);
        }
    }
}

/// The names of the events, in order.
pub fn events(records: &[Value]) -> Vec<String> {
    records
        .iter()
        .map(|r| r["event"].as_str().unwrap_or_default().to_string())
        .collect()
}

/// Whether the binary can record without a rebuild: debug builds honour the development
/// endpoint; a release build needs a key embedded at build time.
pub fn can_record() -> bool {
    if cfg!(debug_assertions) || option_env!("DEMO_POSTHOG_KEY").is_some_and(|k| !k.is_empty()) {
        return true;
    }
    eprintln!("skipped: a release build without DEMO_POSTHOG_KEY can never record");
    false
}

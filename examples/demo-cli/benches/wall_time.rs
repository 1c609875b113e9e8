//! Whole-process wall time of `demo run assist`: telemetry off, on with the dev server
//! answering, and on with the dev server hanging. Speed goals live here, never in timed tests.
//!
//! `cargo bench -p demo-cli` (the workspace's bench profile keeps debug assertions on, so the
//! optimised binary honours the loopback development endpoint). Each configuration has its own
//! HOME and runs the command [`RUNS`] times after [`WARMUP`] untimed runs; the time is that of
//! `Command::output()` (fork, exec, the command, exit). In the "answering" configuration every
//! run starts a detached sender, and the next run waits (untimed) until it is gone, so each
//! timed run pays for recording and spawning but does not compete with a sender for the CPU.
//! With the server hanging, the first sender hangs until its deadline and later runs find it
//! running (then backing off), which is what a user on a broken network sees.

use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use telemetry_devserver::{DevServer, DevServerOptions, Mode};

const DEMO: &str = env!("CARGO_BIN_EXE_demo");
const RUNS: usize = 30;
const WARMUP: usize = 3;

struct Sandbox {
    home: tempfile::TempDir,
    env: Vec<(String, String)>,
}

impl Sandbox {
    fn new(endpoint: Option<&str>) -> Self {
        let home = tempfile::tempdir().expect("temporary home");
        let mut env = Vec::new();
        if let Some(url) = endpoint {
            env.push(("DEMO_TELEMETRY_DEV_ENDPOINT".to_string(), url.to_string()));
            env.push((
                "DEMO_TELEMETRY_DEV_KEY".to_string(),
                "phc_bench".to_string(),
            ));
        }
        let sandbox = Self { home, env };
        if endpoint.is_some() {
            let out = sandbox
                .command(&["telemetry", "on"])
                .output()
                .expect("demo");
            assert!(out.status.success());
        }
        sandbox
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(DEMO);
        cmd.env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", self.home.path())
            .current_dir(self.home.path())
            .args(args);
        for (k, v) in &self.env {
            cmd.env(k, v);
        }
        cmd
    }

    /// Whether a process of this sandbox (a sender) is alive.
    fn sender_alive(&self) -> bool {
        let needle = format!("HOME={}", self.home.path().display());
        std::fs::read_dir("/proc").is_ok_and(|entries| {
            entries.flatten().any(|entry| {
                let environ: PathBuf = entry.path().join("environ");
                std::fs::read(&environ)
                    .is_ok_and(|bytes| bytes.split(|b| *b == 0).any(|var| var == needle.as_bytes()))
            })
        })
    }

    fn wait_for_no_sender(&self, limit: Duration) {
        let started = Instant::now();
        while self.sender_alive() && started.elapsed() < limit {
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

/// Runs `demo run assist` WARMUP + RUNS times; returns the timed durations.
fn measure(sandbox: &Sandbox, wait_for_sender: bool) -> Vec<Duration> {
    let mut times = Vec::with_capacity(RUNS);
    for i in 0..WARMUP + RUNS {
        if wait_for_sender {
            sandbox.wait_for_no_sender(Duration::from_secs(15));
        }
        let started = Instant::now();
        let out = sandbox
            .command(&["run", "assist"])
            .output()
            .expect("demo runs");
        let elapsed = started.elapsed();
        assert!(out.status.success(), "{out:?}");
        if i >= WARMUP {
            times.push(elapsed);
        }
    }
    times
}

fn median(times: &[Duration]) -> Duration {
    let mut sorted = times.to_vec();
    sorted.sort();
    let n = sorted.len();
    if n % 2 == 1 {
        sorted[n / 2]
    } else {
        (sorted[n / 2 - 1] + sorted[n / 2]) / 2
    }
}

fn p90(times: &[Duration]) -> Duration {
    let mut sorted = times.to_vec();
    sorted.sort();
    sorted[(sorted.len() * 9 / 10).min(sorted.len() - 1)]
}

fn main() {
    if !cfg!(debug_assertions) {
        // the binary is built with the same profile: without debug assertions it ignores the
        // development endpoint and the "on" runs would record nothing
        eprintln!("note: built without debug assertions; the 'on' rows may not record");
    }
    let off = Sandbox::new(None);
    let off_times = measure(&off, false);

    let answering = DevServer::start(DevServerOptions::default()).expect("dev server");
    let on_ok = Sandbox::new(Some(&answering.url()));
    let ok_times = measure(&on_ok, true);
    on_ok.wait_for_no_sender(Duration::from_secs(15));
    let delivered = answering.events().len();

    let hanging = DevServer::start(DevServerOptions::default().mode(Mode::Hang)).expect("server");
    let on_hang = Sandbox::new(Some(&hanging.url()));
    let hang_times = measure(&on_hang, false);
    on_hang.wait_for_no_sender(Duration::from_secs(15));

    let base = median(&off_times);
    println!(
        "demo run assist, whole process, {RUNS} runs each ({WARMUP} warm-up runs not counted)"
    );
    println!(
        "{:<34} {:>10} {:>10} {:>12}",
        "configuration", "median", "p90", "median/off"
    );
    for (name, times) in [
        ("telemetry off", &off_times),
        ("on, server answering (spawns)", &ok_times),
        ("on, server hanging", &hang_times),
    ] {
        let m = median(times);
        println!(
            "{:<34} {:>8.2}ms {:>8.2}ms {:>11.2}x",
            name,
            m.as_secs_f64() * 1000.0,
            p90(times).as_secs_f64() * 1000.0,
            m.as_secs_f64() / base.as_secs_f64()
        );
    }
    println!(
        "median added by telemetry: {:+.2} ms answering, {:+.2} ms hanging",
        (median(&ok_times).as_secs_f64() - base.as_secs_f64()) * 1000.0,
        (median(&hang_times).as_secs_f64() - base.as_secs_f64()) * 1000.0
    );
    println!(
        "events the answering server received: {delivered} (expected {})",
        (WARMUP + RUNS) * 5
    );
}

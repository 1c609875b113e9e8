//! Whole-process wall time of `demo run assist` (5 events), every configuration in one run,
//! interleaved, against posthog-rs used directly as the anchor. Speed goals live here, never in
//! timed tests.
//!
//! `cargo bench -p demo-cli` (the workspace's bench profile keeps debug assertions on, so the
//! optimised binary honours the loopback development endpoint); `WALL_TIME_RUNS=5 cargo bench
//! -p demo-cli` for a quick check ([`RUNS`] rounds by default, after [`WARMUP`] untimed ones;
//! `WALL_TIME_BURST` sets the length of a burst, [`BURST`] by default).
//!
//! The configurations, each with its own HOME (sandbox) and, where it sends, its own dev
//! server:
//!
//! 1. telemetry off (the floor), once per round, and in a burst of [`BURST`] commands in a
//!    row per round: the floor of the back-to-back row (commands in a row find the binary
//!    and the caches warm, so they are compared with commands in a row);
//! 2. on, answering server, a sender started by every run: before each run the previous
//!    sender is waited for and the flush interval is made to have passed (untimed), so each
//!    timed run pays for recording and starting a sender (the most a command pays);
//! 3. on, answering server, back to back: a burst of [`BURST`] commands in a row per round,
//!    without waits (the flush policy starts one sender per burst, not one per command);
//! 4. on, server hanging: the first sender hangs until its request times out, later runs find
//!    it running or back off, as a user on a broken network sees;
//! 5. on, server down (connection refused): the back-off after failed sends;
//! 6. on, server down, the queue at its cap: filled (untimed, by demo itself, before the first
//!    round) until the cap has been enforced once (the oldest records dropped) and the queue
//!    is back at [`MAX_QUEUE_BYTES`] less one segment, so every timed run appends to a full
//!    queue (an offline user's week or more);
//! 7. on, `telemetry.lock` held by a stopped command: the bench holds the lock for the whole
//!    run, as a command stopped with Ctrl-Z (or paused in a debugger) while it appended would;
//!    each run's first append waits for it [`APPEND_LOCK_WAIT`], then every record goes
//!    beside the queue's head without waiting (and no sender is started);
//! 8. on, answering server, the program's first recording run after `demo telemetry on`:
//!    before each run the previous sender is waited for and every file but those `telemetry
//!    on` left (the choice and the lock file) is removed, so each timed run creates the
//!    anonymous identity and, as a first run does, starts a sender;
//! 9. `demo telemetry status` and `demo telemetry inspect` (its default 10 events) in the
//!    sandbox of 6, whose queue is at its cap: what a user's look at a full queue costs
//!    (compared with telemetry off's `run assist`, the floor of a process);
//! 10. the anchor, `posthog-direct` (`src/bin/posthog-direct.rs`): the same command with
//!     posthog-rs used directly, capture then flush at exit, against an answering, a hanging and
//!     a down server. posthog-rs runs `lsb_release -a` (through `os_info`) for the first event
//!     of each process: part of what a host using it directly pays.
//!
//! Each round runs every configuration once (a burst counts as one), in an order shuffled
//! each round (from a fixed seed: every run of the bench uses the same orders), so noise on
//! the machine hits all of them alike and no configuration always follows the same one (a
//! demo run right after another demo run finds the binary warmer than one after the anchor). The time is that of
//! `Command::output()` (fork, exec, the command, exit). After the configurations whose sender
//! does work (answering, down), the bench waits (untimed) until that sender has ended, so it
//! does not compete for the CPU with the next configuration's runs; a sender waiting on a
//! hanging server sleeps and is not waited for.
//!
//! The table: per configuration the timed runs, median, p90 and mean, the median's difference
//! from telemetry off run the same way (in a burst for the back-to-back row) and their ratio,
//! and how many runs took over 3 ms and over 10 ms. Then the senders each sandbox started,
//! the full queue's size, and how many events each answering server received of those sent.

#[path = "../tests/common/mod.rs"]
mod common;

use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::rc::Rc;
use std::time::{Duration, Instant};

use common::{Demo, RUN_EVENTS, expire_flush_interval, senders_started, wait_until};
use telemetry_core::limits::{APPEND_LOCK_WAIT, MAX_QUEUE_BYTES, QUEUE_SEGMENT_BYTES};
use telemetry_devserver::{DevServer, DevServerOptions, Mode};

/// Timed rounds (override with `WALL_TIME_RUNS`). A round takes about 5.5 s, most of it the
/// anchor waiting out its request timeout on the hanging server.
const RUNS: usize = 41;
/// Untimed rounds first.
const WARMUP: usize = 2;
/// Commands in a burst, per round (override with `WALL_TIME_BURST`).
const BURST: usize = 50;
/// The anchor binary.
const ANCHOR: &str = env!("CARGO_BIN_EXE_posthog-direct");
/// Configurations by index in `main`'s list: telemetry off, once per round and in a burst; on,
/// a sender every run, in a burst, with the queue at its cap, and with the lock held (the last
/// of demo's).
const OFF: usize = 0;
const OFF_BURST: usize = 1;
const EACH: usize = 2;
const ON_BURST: usize = 3;
const FULL: usize = 6;
const STUCK: usize = 7;
const FIRST: usize = 8;
/// The longest the fill of the full queue may take.
const FILL_LIMIT: Duration = Duration::from_secs(600);

/// A sandbox run from its HOME: telemetry off without an endpoint, on and sending to it with
/// one.
fn sandbox(endpoint: Option<&str>) -> Demo {
    let mut demo = match endpoint {
        Some(url) => Demo::sending_to(url),
        None => Demo::without_key(),
    };
    demo.cwd = demo.root().to_path_buf();
    match endpoint {
        Some(_) => demo.telemetry_on(),
        None => demo,
    }
}

/// A sandbox for the anchor: only the variables (it keeps nothing in HOME).
fn anchor_sandbox(endpoint: &str) -> Demo {
    let mut demo = Demo::sending_to(endpoint);
    demo.cwd = demo.root().to_path_buf();
    demo
}

/// A loopback URL nothing listens on: connecting is refused at once.
fn refused_url() -> String {
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a loopback port")
        .port();
    // the listener is dropped here: nothing listens on the port any more
    format!("http://127.0.0.1:{port}")
}

/// Whether connecting to `url` (`http://127.0.0.1:<port>`) is refused.
fn is_refused(url: &str) -> bool {
    let addr = url.trim_start_matches("http://");
    TcpStream::connect_timeout(&addr.parse().expect("an address"), Duration::from_secs(1))
        .is_err_and(|e| e.kind() == std::io::ErrorKind::ConnectionRefused)
}

/// Waits (at most `limit`) until no process of this sandbox (a sender) is alive.
fn wait_for_no_sender(demo: &Demo, limit: Duration) {
    wait_until(limit, || demo.processes().is_empty());
}

/// Which program a configuration runs.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Program {
    Demo,
    Anchor,
}

/// What happens around a configuration's timed runs (untimed).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Around {
    /// Nothing.
    Nothing,
    /// Afterwards, its sender is waited for (it would compete with the next runs).
    WaitAfter,
    /// Before each run, the previous sender is waited for and the flush interval is made to
    /// have passed, so that every timed run starts a sender; afterwards, the sender is waited
    /// for.
    SenderEachRun,
    /// Before each run, the previous sender is waited for and every file of the state
    /// directory but those `telemetry on` left is removed, so that every timed run is the
    /// program's first recording run; afterwards, the sender is waited for.
    FirstRun,
}

/// One configuration: its sandbox, what it runs, and its timed runs so far.
struct Config {
    name: String,
    /// Shared by the configurations that look at the same queue.
    sandbox: Rc<Demo>,
    program: Program,
    /// Its arguments: `run assist` unless [`running`](Self::running) says otherwise.
    args: &'static [&'static str],
    around: Around,
    /// Commands per round, back to back (1, or a burst).
    per_round: usize,
    /// The configuration its median is compared with: telemetry off, run the same way.
    baseline: usize,
    times: Vec<Duration>,
}

impl Config {
    fn new(name: &str, sandbox: impl Into<Rc<Demo>>, program: Program, around: Around) -> Self {
        Self {
            name: name.to_string(),
            sandbox: sandbox.into(),
            program,
            args: &["run", "assist"],
            around,
            per_round: 1,
            baseline: OFF,
            times: Vec::new(),
        }
    }

    /// Runs `commands` back to back per round.
    fn burst(mut self, commands: usize) -> Self {
        self.per_round = commands;
        self
    }

    /// Runs `args` rather than `run assist`.
    fn running(mut self, args: &'static [&'static str]) -> Self {
        self.args = args;
        self
    }

    /// Compares it with `baseline` rather than [`OFF`].
    fn against(mut self, baseline: usize) -> Self {
        self.baseline = baseline;
        self
    }

    /// Runs the configuration's commands of one round; keeps the times when `timed`.
    fn round(&mut self, timed: bool) {
        for _ in 0..self.per_round {
            match self.around {
                Around::SenderEachRun => {
                    wait_for_no_sender(&self.sandbox, Duration::from_secs(15));
                    expire_flush_interval(&self.sandbox);
                }
                Around::FirstRun => {
                    wait_for_no_sender(&self.sandbox, Duration::from_secs(15));
                    back_to_just_turned_on(&self.sandbox);
                }
                Around::Nothing | Around::WaitAfter => {}
            }
            let elapsed = run(&self.sandbox, self.program, self.args);
            if timed {
                self.times.push(elapsed);
            }
        }
        if self.around != Around::Nothing {
            wait_for_no_sender(&self.sandbox, Duration::from_secs(15));
        }
    }
}

/// One `run assist` of `program` in `sandbox`: its wall time.
fn run_once(sandbox: &Demo, program: Program) -> Duration {
    run(sandbox, program, &["run", "assist"])
}

/// One run of `program` with `args` in `sandbox`: its wall time.
fn run(sandbox: &Demo, program: Program, args: &[&str]) -> Duration {
    let mut cmd = match program {
        Program::Demo => sandbox.command(&[]),
        Program::Anchor => {
            let mut cmd = Command::new(ANCHOR);
            sandbox.prepare(&mut cmd);
            cmd
        }
    };
    cmd.args(args);
    let started = Instant::now();
    let out = cmd.output().expect("the command runs");
    let elapsed = started.elapsed();
    assert!(out.status.success(), "{out:?}");
    elapsed
}

/// What `demo telemetry on` leaves in a state directory that had nothing: the choice and the
/// lock file.
const JUST_TURNED_ON: [&str; 2] = ["telemetry.toml", "telemetry.lock"];

/// Removes every file of `demo`'s state directory but [`JUST_TURNED_ON`]: the identity, the
/// queue, the sender's state, the counters.
fn back_to_just_turned_on(demo: &Demo) {
    for entry in std::fs::read_dir(demo.app_dir())
        .expect("state directory")
        .flatten()
    {
        if !JUST_TURNED_ON.iter().any(|keep| entry.file_name() == *keep) {
            std::fs::remove_file(entry.path()).expect("a file of the state directory");
        }
    }
}

/// Every `telemetry-queue*` file in a state directory (the head and the sealed segments).
fn queue_files(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter(|entry| {
            entry
                .file_name()
                .to_string_lossy()
                .starts_with("telemetry-queue")
        })
        .map(|entry| entry.path())
        .collect()
}

/// The bytes and files of the sandbox's queue.
fn queue_size(demo: &Demo) -> (u64, usize) {
    queue_files(&demo.app_dir())
        .iter()
        .filter_map(|path| std::fs::metadata(path).ok())
        .fold((0, 0), |(bytes, files), meta| {
            (bytes + meta.len(), files + 1)
        })
}

/// The records in the sandbox's queue files (framed lines, `T1 ...`).
fn queue_records(dir: &Path) -> usize {
    queue_files(dir)
        .iter()
        .filter_map(|path| std::fs::read(path).ok())
        .map(|bytes| {
            bytes
                .split(|b| *b == b'\n')
                .filter(|line| line.starts_with(b"T1 "))
                .count()
        })
        .sum()
}

/// What filling the queue took and left.
struct Fill {
    runs: usize,
    elapsed: Duration,
    bytes: u64,
    files: usize,
    records: usize,
}

/// Fills the sandbox's queue (its server down) by running `demo run assist` until the queue
/// is at its cap: an append made it shrink (sealing the head removed the oldest segments), and
/// later ones brought it back to at least [`MAX_QUEUE_BYTES`] less one segment. At its cap the
/// queue holds between two segments less than the cap and the cap, as whole segments are
/// removed. Panics if the queue outgrows the cap (by more than one segment) or fills too
/// slowly.
fn fill_queue(demo: &Demo) -> Fill {
    let floor = MAX_QUEUE_BYTES - QUEUE_SEGMENT_BYTES;
    let started = Instant::now();
    let mut runs = 0;
    let mut previous = 0;
    let mut capped = false;
    loop {
        run_once(demo, Program::Demo);
        runs += 1;
        let (bytes, files) = queue_size(demo);
        assert!(
            bytes <= MAX_QUEUE_BYTES + QUEUE_SEGMENT_BYTES,
            "the queue outgrew its cap: {bytes} bytes in {files} files"
        );
        capped |= previous >= floor && bytes < previous;
        if capped && bytes >= floor {
            return Fill {
                runs,
                elapsed: started.elapsed(),
                bytes,
                files,
                records: queue_records(&demo.app_dir()),
            };
        }
        assert!(
            started.elapsed() < FILL_LIMIT,
            "filling the queue: {bytes} of {MAX_QUEUE_BYTES} bytes after {runs} runs in {:?}",
            started.elapsed()
        );
        previous = bytes;
    }
}

/// Shuffles `order` (Fisher-Yates, xorshift64 from `state`: the same orders on every run).
fn shuffle(order: &mut [usize], state: &mut u64) {
    for i in (1..order.len()).rev() {
        *state ^= *state << 13;
        *state ^= *state >> 7;
        *state ^= *state << 17;
        order.swap(i, (*state % (i as u64 + 1)) as usize);
    }
}

fn sorted(times: &[Duration]) -> Vec<Duration> {
    let mut sorted = times.to_vec();
    sorted.sort();
    sorted
}

fn median(times: &[Duration]) -> Duration {
    let sorted = sorted(times);
    let n = sorted.len();
    if n % 2 == 1 {
        sorted[n / 2]
    } else {
        (sorted[n / 2 - 1] + sorted[n / 2]) / 2
    }
}

fn p90(times: &[Duration]) -> Duration {
    let sorted = sorted(times);
    sorted[(sorted.len() * 9 / 10).min(sorted.len() - 1)]
}

fn mean(times: &[Duration]) -> Duration {
    times.iter().sum::<Duration>() / times.len() as u32
}

fn ms(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}

/// A count from the environment, or `default`.
fn env_count(name: &str, default: usize) -> usize {
    match std::env::var(name) {
        Ok(value) => value
            .trim()
            .parse()
            .ok()
            .filter(|n| *n > 0)
            .unwrap_or_else(|| panic!("{name}={value:?}: a positive number is expected")),
        Err(_) => default,
    }
}

fn main() {
    if !cfg!(debug_assertions) {
        // the binary is built with the same profile: without debug assertions it ignores the
        // development endpoint and the "on" rows would record nothing
        eprintln!("note: built without debug assertions; the 'on' rows may not record");
    }
    let runs = env_count("WALL_TIME_RUNS", RUNS);
    let burst = env_count("WALL_TIME_BURST", BURST);
    let rounds = WARMUP + runs;

    let answering = || DevServer::start(DevServerOptions::default()).expect("dev server");
    let hanging =
        || DevServer::start(DevServerOptions::default().mode(Mode::Hang)).expect("dev server");
    let each_server = answering();
    let burst_server = answering();
    let hang_server = hanging();
    let first_server = answering();
    let anchor_server = answering();
    let anchor_hang_server = hanging();
    let down = refused_url();
    assert!(is_refused(&down), "nothing may listen on {down}");

    // the full queue, filled before the first round
    let full = Rc::new(sandbox(Some(&down)));
    let fill = fill_queue(&full);
    wait_for_no_sender(&full, Duration::from_secs(15));
    eprintln!(
        "queue filled: {} runs in {:.1} s, {} bytes in {} files, {} records",
        fill.runs,
        fill.elapsed.as_secs_f64(),
        fill.bytes,
        fill.files,
        fill.records
    );

    // the lock held by "a stopped command" (this process) for the whole run: another open
    // file description, as another process's would be
    let stuck = sandbox(Some(&down));
    let held_lock = common::hold_state_lock(&stuck.app_dir());

    let on = |server: &str| sandbox(Some(server));
    // in this order: the indices below name them
    let mut configs = vec![
        Config::new(
            "telemetry off",
            sandbox(None),
            Program::Demo,
            Around::Nothing,
        ),
        Config::new(
            &format!("telemetry off, back to back ({burst} per round)"),
            sandbox(None),
            Program::Demo,
            Around::Nothing,
        )
        .burst(burst),
        Config::new(
            "on, answering, a sender every run",
            on(&each_server.url()),
            Program::Demo,
            Around::SenderEachRun,
        ),
        Config::new(
            &format!("on, answering, back to back ({burst} per round)"),
            on(&burst_server.url()),
            Program::Demo,
            Around::WaitAfter,
        )
        .burst(burst)
        .against(OFF_BURST),
        Config::new(
            "on, server hanging",
            on(&hang_server.url()),
            Program::Demo,
            Around::Nothing,
        ),
        Config::new(
            "on, server down (back-off)",
            on(&down),
            Program::Demo,
            Around::WaitAfter,
        ),
        Config::new(
            "on, server down, queue at its cap",
            Rc::clone(&full),
            Program::Demo,
            Around::WaitAfter,
        ),
        Config::new(
            "on, lock held by a stopped command",
            stuck,
            Program::Demo,
            Around::Nothing,
        ),
        Config::new(
            "on, first run after `telemetry on`",
            on(&first_server.url()),
            Program::Demo,
            Around::FirstRun,
        ),
        Config::new(
            "posthog-rs direct, answering",
            anchor_sandbox(&anchor_server.url()),
            Program::Anchor,
            Around::Nothing,
        ),
        Config::new(
            "posthog-rs direct, server hanging",
            anchor_sandbox(&anchor_hang_server.url()),
            Program::Anchor,
            Around::Nothing,
        ),
        Config::new(
            "posthog-rs direct, server down",
            anchor_sandbox(&down),
            Program::Anchor,
            Around::Nothing,
        ),
        Config::new(
            "telemetry status, queue at its cap",
            Rc::clone(&full),
            Program::Demo,
            Around::WaitAfter,
        )
        .running(&["telemetry", "status"]),
        Config::new(
            "telemetry inspect, queue at its cap",
            full,
            Program::Demo,
            Around::WaitAfter,
        )
        .running(&["telemetry", "inspect"]),
    ];

    let started = Instant::now();
    let mut order: Vec<usize> = (0..configs.len()).collect();
    let mut random = 0x9e37_79b9_7f4a_7c15_u64;
    for round in 0..rounds {
        shuffle(&mut order, &mut random);
        for &i in &order {
            configs[i].round(round >= WARMUP);
        }
        if (round + 1) % 5 == 0 {
            eprintln!(
                "round {} of {rounds}, {:.0} s",
                round + 1,
                started.elapsed().as_secs_f64()
            );
        }
    }
    let rounds_elapsed = started.elapsed();
    let still_refused = is_refused(&down);

    // what is left to deliver: the last sender of each answering configuration, and the end
    // of the last burst with the next command after the interval
    let each = &configs[EACH];
    wait_for_no_sender(&each.sandbox, Duration::from_secs(15));
    let received = |server: &DevServer| {
        format!(
            "{} ({} distinct uuids)",
            server.events().len(),
            server.events_by_uuid().len()
        )
    };
    let each_delivered = received(&each_server);
    let burst_sandbox = &configs[ON_BURST].sandbox;
    wait_for_no_sender(burst_sandbox, Duration::from_secs(15));
    expire_flush_interval(burst_sandbox);
    run_once(burst_sandbox, Program::Demo);
    wait_for_no_sender(burst_sandbox, Duration::from_secs(15));
    let burst_delivered = received(&burst_server);
    wait_for_no_sender(&configs[FIRST].sandbox, Duration::from_secs(15));
    let first_delivered = received(&first_server);
    let anchor_delivered = received(&anchor_server);
    let (full_bytes, full_files) = queue_size(&configs[FULL].sandbox);
    let (stuck_bytes, _) = queue_size(&configs[STUCK].sandbox);
    let stuck_records = queue_records(&configs[STUCK].sandbox.app_dir());
    drop(held_lock);

    println!(
        "demo run assist, whole process: {runs} rounds ({WARMUP} warm-up rounds not counted), \
         every configuration once per round in a shuffled order; {:.0} s of rounds, \
         {:.0} s filling the queue",
        rounds_elapsed.as_secs_f64(),
        fill.elapsed.as_secs_f64()
    );
    println!(
        "median-off and ratio: against telemetry off run the same way (a burst against off in \
         a burst); posthog-rs direct: capture, then flush at exit, 5 s request timeout, \
         os_info's lsb_release included"
    );
    println!(
        "{:<44} {:>5} {:>10} {:>10} {:>10} {:>12} {:>9} {:>6} {:>6}",
        "configuration", "runs", "median", "p90", "mean", "median-off", "ratio", ">3ms", ">10ms"
    );
    for config in &configs {
        let times = &config.times;
        let m = median(times);
        let base = median(&configs[config.baseline].times);
        let over = |limit: u64| {
            times
                .iter()
                .filter(|t| **t > Duration::from_millis(limit))
                .count()
        };
        println!(
            "{:<44} {:>5} {:>8.2}ms {:>8.2}ms {:>8.2}ms {:>+10.2}ms {:>8.2}x {:>6} {:>6}",
            config.name,
            times.len(),
            ms(m),
            ms(p90(times)),
            ms(mean(times)),
            ms(m) - ms(base),
            m.as_secs_f64() / base.as_secs_f64(),
            over(3),
            over(10)
        );
    }
    println!(
        "senders started (warm-up rounds included): {}",
        configs[EACH..=FULL]
            .iter()
            .map(|c| format!("{} {}", senders_started(&c.sandbox), c.name))
            .collect::<Vec<_>>()
            .join("; ")
    );
    println!(
        "queue at its cap: filled by {} runs in {:.1} s to {} bytes in {} files ({} records); \
         {full_bytes} bytes in {full_files} files after the rounds (cap {MAX_QUEUE_BYTES})",
        fill.runs,
        fill.elapsed.as_secs_f64(),
        fill.bytes,
        fill.files,
        fill.records
    );
    println!(
        "lock held: {stuck_records} records in {stuck_bytes} bytes queued by {} runs (each \
         waits {} µs once, then writes its records beside the queue's head)",
        rounds,
        APPEND_LOCK_WAIT.as_micros()
    );
    let events = RUN_EVENTS.len();
    println!(
        "events received: {each_delivered} of {} (a sender every run), {burst_delivered} of {} \
         (back to back, then one command after the interval), {first_delivered} of {} (first \
         runs), {anchor_delivered} of {} (posthog-rs direct, answering)",
        rounds * events,
        (rounds * burst + 1) * events,
        rounds * events,
        rounds * events
    );
    if !still_refused {
        println!("warning: something listened on {down} by the end: the 'down' rows may be off");
    }
}

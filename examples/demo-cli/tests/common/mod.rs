//! Running `demo` as a real process, each test with its own HOME and a clean environment.

#![allow(dead_code)]

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;
use telemetry_devserver::{DevServer, DevServerOptions, Mode};

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

/// A sender the sandbox's last command started would go on writing into the directory while it
/// is removed, and leave it behind in the temporary directory: it is stopped first.
impl Drop for Demo {
    fn drop(&mut self) {
        let pids = self.processes();
        if pids.is_empty() {
            return;
        }
        let _ = Command::new("kill")
            .arg("-KILL")
            .args(pids.iter().map(u32::to_string))
            .stdin(Stdio::null())
            .stderr(Stdio::null())
            .status();
        wait_until(Duration::from_secs(5), || self.processes().is_empty());
    }
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
        let mut sealed: Vec<PathBuf> = std::fs::read_dir(self.app_dir())
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| e.path())
            .filter(|p| {
                let name = p.file_name().unwrap().to_string_lossy();
                name.starts_with("telemetry-queue.") && name != "telemetry-queue.jsonl"
            })
            .collect();
        sealed.sort();
        sealed.push(self.queue_path());
        sealed.iter().flat_map(|path| read_framed(path)).collect()
    }

    /// `~/.demo/telemetry-queue.jsonl`.
    pub fn queue_path(&self) -> PathBuf {
        self.app_dir().join("telemetry-queue.jsonl")
    }

    /// `~/.demo/telemetry-sender.lock`: held while a sender runs, which writes its pid into it.
    pub fn sender_lock_path(&self) -> PathBuf {
        self.app_dir().join("telemetry-sender.lock")
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

    /// Kills the sender `pid` with SIGKILL (if it still runs) and waits until its sender lock
    /// is free.
    ///
    /// Not "until [`Self::processes`] stops listing it", nor until it is a zombie: a dying
    /// process loses its environment (its memory) before it closes its files, and its main
    /// thread is a zombie while other threads still exit; until the last one has, the lock is
    /// held and a command that ends sees a sender running.
    pub fn kill_sender(&self, pid: u32) {
        let _ = Command::new("kill")
            .args(["-KILL", &pid.to_string()])
            .stdin(Stdio::null())
            .stderr(Stdio::null())
            .status();
        let lock = self.sender_lock_path();
        let free = || {
            // taken and let go at once when free (std's lock is the same `flock` as ours)
            std::fs::File::open(&lock).is_ok_and(|file| file.try_lock_shared().is_ok())
        };
        assert!(
            wait_until(Duration::from_secs(30), free),
            "the sender lock was let go"
        );
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

/// Reads a framed file: `T1 <crc32> <len> <json>` per line. A queue segment starts with a
/// header, `#TQ1 <id> <acknowledged offset>`: only the records past that offset are waiting;
/// lines starting with `#` (the header, withdrawn records) are skipped.
pub fn read_framed(path: &Path) -> Vec<Value> {
    let Ok(content) = std::fs::read_to_string(path) else {
        return Vec::new();
    };
    assert!(
        content.is_empty() || content.ends_with('\n'),
        "torn last line"
    );
    let start = match content.strip_prefix("#TQ1 ") {
        Some(header) => header[33..53].parse::<usize>().unwrap(),
        None => 0,
    };
    content[start..]
        .lines()
        .filter(|line| !line.starts_with('#'))
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

// ---------------------------------------------------------------------------------------------
// The robustness suite's helpers (disabled_path.rs, bad_state.rs): tree snapshots, stray
// processes, a loopback listener that must see no connection, another user, mounted file systems.

/// What a snapshot keeps of one entry of a tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Node {
    /// `dir`, `file`, `symlink`, `fifo`, `socket` or `device`.
    pub kind: &'static str,
    /// The permission bits.
    pub mode: u32,
    pub uid: u32,
    pub gid: u32,
    pub ino: u64,
    /// Modification time (seconds, nanoseconds): a rewrite with the same bytes changes it.
    pub mtime: (i64, i64),
    pub len: u64,
    /// A regular file's bytes (a digest past 64 KiB), a link's target.
    pub content: Content,
}

/// The content part of a [`Node`].
#[derive(Clone, PartialEq, Eq)]
pub enum Content {
    None,
    Bytes(Vec<u8>),
    Digest(u64),
    Target(PathBuf),
}

impl std::fmt::Debug for Content {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Content::None => f.write_str("-"),
            Content::Bytes(bytes) => write!(f, "{:?}", String::from_utf8_lossy(bytes)),
            Content::Digest(digest) => write!(f, "digest {digest:016x}"),
            Content::Target(target) => write!(f, "-> {}", target.display()),
        }
    }
}

/// Every entry of a tree, by path relative to its root (the root itself is `""`).
pub type Tree = std::collections::BTreeMap<PathBuf, Node>;

/// A snapshot of everything under `root` (and `root` itself), not following links.
pub fn snapshot(root: &Path) -> Tree {
    snapshot_excluding(root, &[])
}

/// [`snapshot`], leaving out what is at `excluded` (absolute paths), subtrees included.
pub fn snapshot_excluding(root: &Path, excluded: &[&Path]) -> Tree {
    let mut tree = Tree::new();
    snapshot_into(root, root, excluded, &mut tree);
    tree
}

fn snapshot_into(root: &Path, path: &Path, excluded: &[&Path], tree: &mut Tree) {
    use std::os::unix::fs::{FileTypeExt, MetadataExt};
    if excluded.contains(&path) {
        return;
    }
    let Ok(meta) = std::fs::symlink_metadata(path) else {
        return;
    };
    let file_type = meta.file_type();
    let kind = if file_type.is_dir() {
        "dir"
    } else if file_type.is_file() {
        "file"
    } else if file_type.is_symlink() {
        "symlink"
    } else if file_type.is_fifo() {
        "fifo"
    } else if file_type.is_socket() {
        "socket"
    } else {
        "device"
    };
    let content = match kind {
        "file" if meta.len() <= 64 * 1024 => {
            Content::Bytes(std::fs::read(path).unwrap_or_else(|e| format!("{e}").into_bytes()))
        }
        "file" => Content::Digest(digest(path)),
        "symlink" => Content::Target(std::fs::read_link(path).unwrap_or_default()),
        _ => Content::None,
    };
    let relative = path.strip_prefix(root).unwrap_or(path).to_path_buf();
    tree.insert(
        relative,
        Node {
            kind,
            mode: meta.mode() & 0o7777,
            uid: meta.uid(),
            gid: meta.gid(),
            ino: meta.ino(),
            mtime: (meta.mtime(), meta.mtime_nsec()),
            len: meta.len(),
            content,
        },
    );
    if kind == "dir" {
        let Ok(entries) = std::fs::read_dir(path) else {
            return;
        };
        for entry in entries.flatten() {
            snapshot_into(root, &entry.path(), excluded, tree);
        }
    }
}

/// A digest of a large file's bytes.
fn digest(path: &Path) -> u64 {
    use std::hash::Hasher;
    use std::io::Read;
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    if let Ok(mut file) = std::fs::File::open(path) {
        let mut buffer = vec![0u8; 1 << 20];
        while let Ok(n) = file.read(&mut buffer) {
            if n == 0 {
                break;
            }
            hasher.write(&buffer[..n]);
        }
    }
    hasher.finish()
}

/// What differs between two snapshots, one line per path; empty when they are equal.
pub fn tree_diff(before: &Tree, after: &Tree) -> Vec<String> {
    let mut lines = Vec::new();
    for (path, node) in before {
        match after.get(path) {
            None => lines.push(format!("removed {}: {node:?}", path.display())),
            Some(now) if now != node => lines.push(format!(
                "changed {}:\n    before {node:?}\n    after  {now:?}",
                path.display()
            )),
            Some(_) => {}
        }
    }
    for (path, node) in after {
        if !before.contains_key(path) {
            lines.push(format!("created {}: {node:?}", path.display()));
        }
    }
    lines
}

/// Panics, listing the differences, unless the two snapshots are equal.
pub fn assert_same_tree(before: &Tree, after: &Tree, what: &str) {
    let diff = tree_diff(before, after);
    assert!(diff.is_empty(), "{what}:\n  {}", diff.join("\n  "));
}

/// Live processes (not zombies) that belong to the sandbox at `root`: their environment,
/// arguments or working directory name a path under it, or their parent is `parent`. Each
/// as `pid: command line`.
pub fn sandbox_processes(root: &Path, parent: Option<u32>) -> Vec<String> {
    let root = root.to_string_lossy().into_owned();
    let under = |text: &[u8]| -> bool {
        let text = String::from_utf8_lossy(text);
        let value = text.split_once('=').map_or(&*text, |(_, v)| v);
        [&*text, value]
            .iter()
            .any(|t| *t == root || t.starts_with(&format!("{root}/")))
    };
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    let mut found = Vec::new();
    for pid in entries
        .flatten()
        .filter_map(|entry| entry.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| *pid != std::process::id())
    {
        let Ok(status) = std::fs::read_to_string(format!("/proc/{pid}/status")) else {
            continue;
        };
        let field = |name: &str| {
            status
                .lines()
                .find_map(|line| line.strip_prefix(name))
                .map(str::trim)
                .unwrap_or_default()
                .to_string()
        };
        if field("State:").starts_with('Z') {
            continue;
        }
        let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
        let environ = std::fs::read(format!("/proc/{pid}/environ")).unwrap_or_default();
        let cwd = std::fs::read_link(format!("/proc/{pid}/cwd")).unwrap_or_default();
        let child = parent.is_some_and(|p| field("PPid:") == p.to_string());
        let ours = child
            || cmdline.split(|b| *b == 0).any(under)
            || environ.split(|b| *b == 0).any(under)
            || under(cwd.as_os_str().as_encoded_bytes());
        if ours {
            let shown: Vec<String> = cmdline
                .split(|b| *b == 0)
                .map(|arg| String::from_utf8_lossy(arg).into_owned())
                .collect();
            found.push(format!("{pid}: {}", shown.join(" ").trim()));
        }
    }
    found
}

/// A TCP listener on 127.0.0.1 that nothing may connect to, and its URL; non-blocking, so
/// [`connections`] can be asked at any time.
pub fn loopback_listener() -> (std::net::TcpListener, String) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a loopback port");
    listener.set_nonblocking(true).expect("non-blocking");
    let url = format!("http://{}", listener.local_addr().unwrap());
    (listener, url)
}

/// Takes `telemetry.lock` in the state directory `app_dir` (creating the file if needed) and
/// holds it until the file is dropped or unlocked: a command stopped with Ctrl-Z while it
/// appended, as the others see it (another open file description, so another holder for
/// `flock`).
pub fn hold_state_lock(app_dir: &Path) -> std::fs::File {
    let file = std::fs::File::options()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(app_dir.join("telemetry.lock"))
        .expect("the state lock file");
    file.lock().expect("the state lock");
    file
}

/// Accepts (and closes) every connection waiting on `listener`; returns how many there were.
pub fn connections(listener: &std::net::TcpListener) -> usize {
    let mut count = 0;
    while let Ok((stream, _)) = listener.accept() {
        drop(stream);
        count += 1;
    }
    count
}

/// The unprivileged user (and group) the suite runs demo as when it can: `nobody`.
pub const NOBODY: u32 = 65534;

/// This process's effective uid (from `/proc/self/status`).
pub fn effective_uid() -> u32 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find_map(|line| line.strip_prefix("Uid:"))
        .and_then(|ids| ids.split_whitespace().nth(1))
        .and_then(|uid| uid.parse().ok())
        .unwrap_or(u32::MAX)
}

/// Why this process cannot run demo as [`NOBODY`] (it is not root, or the switch failed), or
/// `None` when it can.
pub fn cannot_switch_user() -> Option<String> {
    static ANSWER: std::sync::OnceLock<Option<String>> = std::sync::OnceLock::new();
    ANSWER
        .get_or_init(|| {
            use std::os::unix::process::CommandExt;
            let uid = effective_uid();
            if uid != 0 {
                return Some(format!(
                    "this test runs as uid {uid}, not root, so it cannot run demo as uid {NOBODY}"
                ));
            }
            let out = Command::new(DEMO)
                .arg("--version")
                .env_clear()
                .current_dir("/")
                .stdin(Stdio::null())
                .uid(NOBODY)
                .gid(NOBODY)
                .output();
            match out {
                Ok(out) if out.status.success() => None,
                Ok(out) => Some(format!(
                    "demo --version as uid {NOBODY} failed: {}",
                    text(&out.stderr)
                )),
                Err(e) => Some(format!("cannot start demo as uid {NOBODY}: {e}")),
            }
        })
        .clone()
}

/// Hands everything under `root` (and `root`) to `uid`:`uid`, links themselves included.
pub fn chown_tree(root: &Path, uid: u32) {
    std::os::unix::fs::lchown(root, Some(uid), Some(uid)).expect("chown");
    if std::fs::symlink_metadata(root).is_ok_and(|m| m.is_dir()) {
        for entry in std::fs::read_dir(root).expect("read_dir").flatten() {
            chown_tree(&entry.path(), uid);
        }
    }
}

/// Runs `demo args...` in `demo`'s sandbox as `user` (`None`: as this process's user).
pub fn run_as(demo: &Demo, user: Option<u32>, args: &[&str]) -> Output {
    use std::os::unix::process::CommandExt;
    let mut cmd = demo.command(args);
    if let Some(uid) = user {
        cmd.uid(uid).gid(uid);
    }
    cmd.output().expect("demo runs")
}

/// A file system mounted on a directory (or a directory mounted over itself), unmounted when
/// dropped. Mounting needs root with CAP_SYS_ADMIN: each constructor returns the reason when
/// this process may not, for the test to print as it skips.
pub struct Mount {
    pub dir: PathBuf,
}

/// Runs `program args...`; what failed when it could not run or did not succeed.
fn run_tool(program: &str, args: &[&dyn AsRef<std::ffi::OsStr>]) -> Result<(), String> {
    let args: Vec<&std::ffi::OsStr> = args.iter().map(|arg| arg.as_ref()).collect();
    let out = Command::new(program)
        .args(&args)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run {program}: {e}"))?;
    if out.status.success() {
        return Ok(());
    }
    let args: Vec<_> = args.iter().map(|arg| arg.to_string_lossy()).collect();
    Err(format!(
        "{program} {} failed ({}): {}",
        args.join(" "),
        out.status,
        text(&out.stderr).trim()
    ))
}

impl Mount {
    /// Mounts a tmpfs of `size` (`64k`) on `dir`, owned by `owner`.
    pub fn tmpfs(dir: &Path, size: &str, owner: u32) -> Result<Self, String> {
        std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
        let options = format!("size={size},mode=0755,uid={owner},gid={owner}");
        run_tool("mount", &[&"-t", &"tmpfs", &"-o", &options, &"tmpfs", &dir])?;
        Ok(Self {
            dir: dir.to_path_buf(),
        })
    }

    /// Bind-mounts `dir` over itself, read-only.
    pub fn read_only(dir: &Path) -> Result<Self, String> {
        run_tool("mount", &[&"--bind", &dir, &dir])?;
        let guard = Self {
            dir: dir.to_path_buf(),
        };
        run_tool("mount", &[&"-o", &"remount,bind,ro", &dir])?;
        Ok(guard)
    }

    /// Mounts on `dir` an 8 MiB ext4 file system that keeps file times in whole seconds
    /// (128-byte inodes, as older or smaller ext4 file systems have; HFS+ and FAT do the
    /// same), from an image file beside `dir`.
    pub fn whole_second_ext4(dir: &Path) -> Result<Self, String> {
        let image = dir.with_extension("img");
        std::fs::File::create(&image)
            .and_then(|file| file.set_len(8 << 20))
            .map_err(|e| e.to_string())?;
        run_tool("mkfs.ext4", &[&"-q", &"-F", &"-I", &"128", &image])?;
        std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
        run_tool("mount", &[&"-o", &"loop", &image, &dir])?;
        let guard = Self {
            dir: dir.to_path_buf(),
        };
        let probe = dir.join("probe");
        let modified = std::fs::File::create(&probe)
            .and_then(|file| file.metadata())
            .and_then(|meta| meta.modified())
            .map_err(|e| e.to_string())?;
        let _ = std::fs::remove_file(&probe);
        let nanos = modified
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |since| since.subsec_nanos());
        if nanos != 0 {
            return Err(format!(
                "{} keeps file times finer than a second",
                dir.display()
            ));
        }
        Ok(guard)
    }
}

/// Fills the file system at `dir` with one file, `dir/filler`, until a write fails; its path.
pub fn fill_file_system(dir: &Path) -> PathBuf {
    use std::io::Write;
    let filler = dir.join("filler");
    let mut file = std::fs::File::create(&filler).expect("the filler file");
    // small blocks, so that what is left is less than one
    let block = [b'x'; 1024];
    while file.write_all(&block).is_ok() {}
    filler
}

impl Drop for Mount {
    fn drop(&mut self) {
        let _ = Command::new("umount")
            .arg("-l")
            .arg(&self.dir)
            .stdin(Stdio::null())
            .status();
    }
}

/// `~/.demo/telemetry-sender.json`, or an empty object.
pub fn sender_state_json(demo: &Demo) -> Value {
    std::fs::read_to_string(demo.app_dir().join("telemetry-sender.json"))
        .ok()
        .and_then(|text| serde_json::from_str(&text).ok())
        .unwrap_or_else(|| serde_json::json!({}))
}

/// How many senders the sandbox's commands have started (the flush policy's counter).
pub fn senders_started(demo: &Demo) -> u64 {
    sender_state_json(demo)["senders_started"]
        .as_u64()
        .unwrap_or(0)
}

/// Pretends the flush interval since the last sender's start is over (as if its time had
/// passed, like a user's next command a few seconds later): the next command that records
/// starts a sender.
pub fn expire_flush_interval(demo: &Demo) {
    let mut state = sender_state_json(demo);
    if state.get("last_started_at").is_none() {
        return;
    }
    state["last_started_at"] = Value::String("2000-01-01T00:00:00.000Z".into());
    std::fs::write(
        demo.app_dir().join("telemetry-sender.json"),
        state.to_string(),
    )
    .unwrap();
}

/// A PostHog-compatible server on 127.0.0.1 answering as `mode` says.
pub fn server(mode: Mode) -> DevServer {
    DevServer::start(DevServerOptions::default().mode(mode)).expect("dev server")
}

/// Waits until no process of this sandbox (a sender) is alive; panics after a sender's
/// deadline and a margin.
pub fn assert_no_sender_survives(demo: &Demo) {
    let limit = telemetry_core::limits::SENDER_DEADLINE + Duration::from_secs(6);
    assert!(
        wait_until(limit, || demo.processes().is_empty()),
        "a sender outlived its deadline: {:?}",
        demo.processes()
    );
}

/// Starting `demo serve` (or a command wrapping it) as the tests do: its stdin a pipe the
/// test closes to stop it, its output discarded.
pub trait SpawnServer {
    /// Spawns the server.
    fn spawn_server(&mut self) -> std::process::Child;
}

impl SpawnServer for Command {
    fn spawn_server(&mut self) -> std::process::Child {
        self.stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("demo serve")
    }
}

/// Every uuid the server received, once each.
pub fn assert_nothing_sent_twice(server: &DevServer) {
    let twice: Vec<String> = server
        .events_by_uuid()
        .iter()
        .filter(|(_, events)| events.len() > 1)
        .map(|(uuid, events)| format!("{uuid} ×{}", events.len()))
        .collect();
    assert!(twice.is_empty(), "sent more than once: {twice:?}");
}

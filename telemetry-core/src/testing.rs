//! Running your built tool in its own tests, with telemetry on, in a home of its own
//! (feature `testing`, for your dev-dependencies).
//!
//! ```no_run
//! # mod weather {
//! # use telemetry_core::{telemetry_event, telemetry_schema};
//! # /// Sent when the program starts.
//! # #[telemetry_event(name = "binary.startup")]
//! # pub struct BinaryStartup {}
//! # telemetry_schema! {
//! #     /// Every event.
//! #     pub static SCHEMA = [BinaryStartup];
//! # }
//! # }
//! # macro_rules! env { ($name:literal) => { "target/debug/weather" } }
//! use telemetry_core::testing::TestHome;
//!
//! let home = TestHome::new(&weather::SCHEMA).unwrap();
//! let out = home
//!     .command(env!("CARGO_BIN_EXE_weather"))
//!     .args(["forecast", "--days", "5"])
//!     .output()
//!     .unwrap();
//! assert!(out.status.success());
//! // `weather telemetry inspect --json -n 100` run the same way lists what was recorded.
//! // Dropping `home` waits for the sender the run started, then deletes the directory.
//! ```
//!
//! What [`TestHome::command`] takes care of, which a hand-written test gets wrong easily:
//!
//! - **None of the developer's environment.** Their `DO_NOT_TRACK` would turn everything off,
//!   `<APP>_TELEMETRY_DIR` would move the state out of the test's home, and `CI` would turn
//!   telemetry off (unless turned on by variable, as here) and set `is_ci` in every record. Only
//!   `PATH` is kept (and, on Windows, what a program needs to start and open a socket there:
//!   `SystemRoot`, `SystemDrive`, `windir`, `TEMP`, `TMP`).
//! - **The home on every system**: `HOME`, and on Windows `USERPROFILE` too (which is what the
//!   runtime reads there).
//! - **Telemetry on** (`<APP>_TELEMETRY=1`), and a debug build's development endpoint with a
//!   test key: a loopback port nothing listens on, so nothing can leave the machine, or the
//!   [`sending_to`](TestHome::sending_to) endpoint (a `telemetry-devserver`'s URL). A key built
//!   into the test binary would otherwise send to PostHog.
//! - **The sender.** Each command that records starts a sender as it exits, which works in the
//!   home for a moment. Dropping the `TestHome` waits for it (at most
//!   [`SENDER_DEADLINE`] and a second), so the directory is not
//!   deleted under it; [`wait_for_sender`](TestHome::wait_for_sender) waits before you look at
//!   what was delivered. The flush policy holds here as everywhere: a command that ends within
//!   [`FLUSH_INTERVAL`](crate::limits::FLUSH_INTERVAL) of the last sender's start starts none,
//!   so of several commands in a row, only the first one's events arrive at once (`inspect`
//!   shows the others queued).

use std::ffi::OsStr;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use crate::config::AppName;
/// The names [`TestHome::env_names`] returns, re-exported so that a test can name the type.
pub use crate::config::EnvNames;
use crate::limits::SENDER_DEADLINE;
use crate::paths::{StateDir, StateDirSource};
use crate::schema::Schema;

/// A development endpoint nothing listens on (the discard port, refused on loopback).
const NOWHERE: &str = "http://127.0.0.1:9";

/// The key the development endpoint is used with (any non-empty key will do there).
const TEST_KEY: &str = "phc_test";

/// The variables of the test process a command keeps: `PATH`, so the tool can run what it
/// runs; on Windows, what a process needs there to start and to open a socket.
const KEPT: &[&str] = if cfg!(windows) {
    &["PATH", "SystemRoot", "SystemDrive", "windir", "TEMP", "TMP"]
} else {
    &["PATH"]
};

/// How often [`TestHome::wait_for_sender`] looks.
const POLL: Duration = Duration::from_millis(20);

/// A temporary home directory to run a program's built binary in, with telemetry on and
/// delivery kept on the machine. See the [module](self) for what it sets and why.
#[derive(Debug)]
pub struct TestHome {
    home: tempfile::TempDir,
    names: EnvNames,
    state_dir: StateDir,
    endpoint: String,
}

impl TestHome {
    /// A new, empty home for the program whose events `schema` lists (its `[product]` name
    /// gives the variables' names and the state directory, `~/.<name>`).
    ///
    /// # Errors
    /// When the temporary directory cannot be made, or the schema's name is not a valid app
    /// name (never for a schema `telemetry_schema!` made).
    pub fn new(schema: &'static Schema) -> std::io::Result<Self> {
        let app = AppName::new(schema.product().name()).map_err(std::io::Error::other)?;
        let home = tempfile::Builder::new()
            .prefix(&format!("{}-test-home-", app.as_str()))
            .tempdir()?;
        let state_dir = StateDir::new(
            home.path().join(format!(".{}", app.as_str())),
            StateDirSource::Home,
        );
        Ok(Self {
            home,
            names: EnvNames::new(&app),
            state_dir,
            endpoint: NOWHERE.to_owned(),
        })
    }

    /// Delivery to `endpoint` instead of nowhere: a loopback URL, such as a
    /// `telemetry-devserver`'s `url()` (a debug build honours no other).
    pub fn sending_to(mut self, endpoint: impl Into<String>) -> Self {
        self.endpoint = endpoint.into();
        self
    }

    /// `program` (your binary: `env!("CARGO_BIN_EXE_<name>")`) to run in this home: the
    /// environment cleared but for `PATH` (and Windows' essentials), the home set, telemetry
    /// on, the development endpoint and key set. Add arguments, or variables of your own
    /// (`.env(&home.env_names().telemetry, "0")`, `.env("DO_NOT_TRACK", "1")`), as to any
    /// `Command`.
    pub fn command(&self, program: impl AsRef<OsStr>) -> Command {
        let mut command = Command::new(program);
        command.env_clear();
        for name in KEPT {
            if let Some(value) = std::env::var_os(name) {
                command.env(name, value);
            }
        }
        command.env("HOME", self.home.path());
        if cfg!(windows) {
            command.env("USERPROFILE", self.home.path());
        }
        command
            .env(&self.names.telemetry, "1")
            .env(&self.names.dev_endpoint, &self.endpoint)
            .env(&self.names.dev_key, TEST_KEY);
        command
    }

    /// The home directory.
    pub fn path(&self) -> &Path {
        self.home.path()
    }

    /// The state directory in it (`~/.<app>`), where telemetry keeps its files.
    pub fn state_dir(&self) -> &Path {
        self.state_dir.path()
    }

    /// The names of the program's variables (`<APP>_TELEMETRY`, ...).
    pub fn env_names(&self) -> &EnvNames {
        &self.names
    }

    /// Whether a sender is working in this home now.
    pub fn sender_running(&self) -> bool {
        crate::delivery::running_sender(&self.state_dir).is_some()
    }

    /// Waits until no sender works in this home, for at most `timeout`; whether none does.
    pub fn wait_for_sender(&self, timeout: Duration) -> bool {
        let until = Instant::now() + timeout;
        loop {
            if !self.sender_running() {
                return true;
            }
            if Instant::now() >= until {
                return false;
            }
            std::thread::sleep(POLL);
        }
    }
}

impl Drop for TestHome {
    fn drop(&mut self) {
        // a sender outlives nothing past its deadline: its watchdog ends it
        self.wait_for_sender(SENDER_DEADLINE + Duration::from_secs(1));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;
    use std::ffi::OsString;

    fn envs(command: &Command) -> BTreeMap<OsString, Option<OsString>> {
        command
            .get_envs()
            .map(|(k, v)| (k.to_owned(), v.map(OsStr::to_owned)))
            .collect()
    }

    #[test]
    fn a_command_gets_the_home_telemetry_on_and_nothing_of_the_developers() {
        let home = TestHome::new(&crate::schema::DEMO).unwrap();
        let command = home.command("demo");
        let vars = envs(&command);
        let get = |name: &str| {
            vars.get(OsStr::new(name))
                .cloned()
                .flatten()
                .map(|v| v.into_string().unwrap())
        };
        let home_text = home.path().to_str().unwrap().to_owned();
        assert_eq!(get("HOME").as_deref(), Some(home_text.as_str()));
        assert_eq!(get("DEMO_TELEMETRY").as_deref(), Some("1"));
        assert_eq!(get("DEMO_TELEMETRY_DEV_ENDPOINT").as_deref(), Some(NOWHERE));
        assert_eq!(get("DEMO_TELEMETRY_DEV_KEY").as_deref(), Some(TEST_KEY));
        if cfg!(windows) {
            assert_eq!(get("USERPROFILE").as_deref(), Some(home_text.as_str()));
        }
        // `env_clear`: nothing is inherited but what is set here
        if cfg!(unix) {
            assert!(format!("{command:?}").contains("env -i"), "{command:?}");
        }
        let set: Vec<&OsStr> = vars.keys().map(OsString::as_os_str).collect();
        for name in set {
            let name = name.to_str().unwrap();
            assert!(
                KEPT.contains(&name)
                    || ["HOME", "USERPROFILE"].contains(&name)
                    || name.starts_with("DEMO_TELEMETRY"),
                "{name}"
            );
        }
        assert_eq!(home.state_dir(), home.path().join(".demo"));
        assert_eq!(home.env_names().dir, "DEMO_TELEMETRY_DIR");

        let sending = TestHome::new(&crate::schema::DEMO)
            .unwrap()
            .sending_to("http://127.0.0.1:4000");
        assert_eq!(
            envs(&sending.command("demo"))[OsStr::new("DEMO_TELEMETRY_DEV_ENDPOINT")],
            Some("http://127.0.0.1:4000".into())
        );
    }

    #[test]
    fn waits_for_a_sender_holding_its_lock_and_deletes_the_home_after_it() {
        let home = TestHome::new(&crate::schema::DEMO).unwrap();
        assert!(!home.sender_running());
        assert!(home.wait_for_sender(Duration::ZERO));

        crate::fsutil::ensure_dir(home.state_dir()).unwrap();
        let lock = crate::delivery::lock::SenderLock::try_acquire(&home.state_dir)
            .expect("the lock is free");
        assert!(home.sender_running());
        assert!(!home.wait_for_sender(Duration::from_millis(50)));

        let released = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(200));
            drop(lock);
        });
        let path = home.path().to_owned();
        let started = Instant::now();
        drop(home);
        assert!(started.elapsed() >= Duration::from_millis(150));
        assert!(!path.exists());
        released.join().unwrap();
    }
}

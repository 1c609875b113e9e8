//! What a host tells telemetry about itself: [`TelemetryConfig`], made with its builder.
//!
//! ```
//! use telemetry_core::{ConsentPolicy, PostHogHost, TelemetryConfig};
//!
//! let config = TelemetryConfig::builder("demo")
//!     .version("1.2.3")
//!     .git_commit("abc1234")
//!     .policy(ConsentPolicy::OptIn)
//!     .project_key(option_env!("DEMO_POSTHOG_KEY").unwrap_or(""))
//!     .host(PostHogHost::EuCloud)
//!     .docs_url("https://example.com/demo/telemetry")
//!     .build()
//!     .unwrap();
//! assert_eq!(config.env_prefix(), "DEMO_");
//! ```

use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use crate::consent::env::Environment;
use crate::handle::Telemetry;

/// What the program does when the user has not said anything.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ConsentPolicy {
    /// Nothing is recorded until the user turns telemetry on (the default).
    #[default]
    OptIn,
    /// Events are recorded unless the user turns telemetry off. The first-run notice is then
    /// mandatory: nothing is recorded until it has been shown, on an earlier run, on a terminal.
    OptOut,
}

/// Whether the program is an optimised release build or a development build (the `build_kind`
/// common property).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BuildKind {
    /// An optimised build without debug assertions.
    Release,
    /// A development build.
    Debug,
}

impl BuildKind {
    /// The kind of the build this crate was compiled in (`debug_assertions`).
    pub const fn current() -> Self {
        if cfg!(debug_assertions) {
            BuildKind::Debug
        } else {
            BuildKind::Release
        }
    }

    /// `release` or `debug`, as sent.
    pub fn as_str(self) -> &'static str {
        match self {
            BuildKind::Release => "release",
            BuildKind::Debug => "debug",
        }
    }
}

/// Where events go: PostHog's EU or US cloud, a self-hosted instance, or a reverse proxy in
/// front of either (which may have a path prefix).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum PostHogHost {
    /// PostHog's EU cloud (`https://eu.i.posthog.com`), the default.
    #[default]
    EuCloud,
    /// PostHog's US cloud (`https://us.i.posthog.com`).
    UsCloud,
    /// A self-hosted PostHog or a reverse proxy: its base URL, without the `/batch/` path.
    Custom(String),
}

impl PostHogHost {
    /// `eu` or `us` (case-insensitive) for the clouds, an `http://` or `https://` URL for a
    /// self-hosted instance or proxy (`https://telemetry.example.com/ingest`); an empty string
    /// is the default host. For a host set at build time:
    /// `PostHogHost::parse(option_env!("DEMO_POSTHOG_HOST").unwrap_or(""))`.
    pub fn parse(value: &str) -> Result<Self, ConfigError> {
        let value = value.trim();
        match value.to_ascii_lowercase().as_str() {
            "" | "eu" => Ok(PostHogHost::EuCloud),
            "us" => Ok(PostHogHost::UsCloud),
            _ => {
                let url = HttpUrl::parse(value).ok_or_else(|| ConfigError::InvalidHost {
                    value: value.to_string(),
                })?;
                Ok(PostHogHost::Custom(url.base()))
            }
        }
    }

    /// The base URL, without a trailing slash.
    pub fn base_url(&self) -> &str {
        match self {
            PostHogHost::EuCloud => "https://eu.i.posthog.com",
            PostHogHost::UsCloud => "https://us.i.posthog.com",
            PostHogHost::Custom(url) => url.trim_end_matches('/'),
        }
    }
}

/// A parsed `http://` or `https://` URL: just enough to check a host and keep a path prefix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct HttpUrl {
    pub(crate) scheme: String,
    /// The host as written (`[::1]` keeps its brackets), lower-cased.
    pub(crate) host: String,
    pub(crate) port: Option<u16>,
    /// The path without a trailing slash (may be empty).
    pub(crate) path: String,
}

impl HttpUrl {
    pub(crate) fn parse(value: &str) -> Option<Self> {
        let (scheme, rest) = value.split_once("://")?;
        let scheme = scheme.to_ascii_lowercase();
        if scheme != "http" && scheme != "https" {
            return None;
        }
        if value.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return None;
        }
        let (authority, path) = match rest.find(['/', '?', '#']) {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, ""),
        };
        if authority.contains('@') || path.contains(['?', '#']) {
            return None;
        }
        let (host, port) = if let Some(stripped) = authority.strip_prefix('[') {
            let end = stripped.find(']')?;
            let host = &authority[..end + 2];
            let after = &stripped[end + 1..];
            let port = match after.strip_prefix(':') {
                Some(p) => Some(p.parse().ok()?),
                None if after.is_empty() => None,
                None => return None,
            };
            (host.to_string(), port)
        } else {
            match authority.rsplit_once(':') {
                Some((h, p)) => (h.to_string(), Some(p.parse().ok()?)),
                None => (authority.to_string(), None),
            }
        };
        if host.is_empty() {
            return None;
        }
        Some(HttpUrl {
            scheme,
            host: host.to_ascii_lowercase(),
            port,
            path: path.trim_end_matches('/').to_string(),
        })
    }

    /// `scheme://host[:port][/path]`.
    pub(crate) fn base(&self) -> String {
        match self.port {
            Some(port) => format!("{}://{}:{port}{}", self.scheme, self.host, self.path),
            None => format!("{}://{}{}", self.scheme, self.host, self.path),
        }
    }

    /// Whether the host is a loopback address: `localhost`, `127.0.0.0/8` or `[::1]`.
    pub(crate) fn is_loopback(&self) -> bool {
        if self.host == "localhost" {
            return true;
        }
        let bare = self
            .host
            .strip_prefix('[')
            .and_then(|h| h.strip_suffix(']'))
            .unwrap_or(&self.host);
        bare.parse::<std::net::IpAddr>()
            .map(|ip| ip.is_loopback())
            .unwrap_or(false)
    }
}

/// A configuration the builder refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// The app name must be a short lower-case word.
    #[error(
        "invalid app name {name:?}: use 1 to 32 lower-case ASCII letters, digits, `-` or `_`, starting with a letter"
    )]
    InvalidAppName {
        /// The name given.
        name: String,
    },
    /// The host is neither `eu`, `us` nor an http(s) URL.
    #[error("invalid PostHog host {value:?}: use `eu`, `us` or an http:// or https:// URL")]
    InvalidHost {
        /// The value given.
        value: String,
    },
}

/// The app's name: a short lower-case word that names its environment variables and its state
/// directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppName(String);

impl AppName {
    /// Checks `name`: 1 to 32 characters out of `a-z`, `0-9`, `-`, `_`, starting with a letter.
    pub fn new(name: &str) -> Result<Self, ConfigError> {
        let ok = !name.is_empty()
            && name.len() <= 32
            && name.starts_with(|c: char| c.is_ascii_lowercase())
            && name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_');
        if ok {
            Ok(Self(name.to_string()))
        } else {
            Err(ConfigError::InvalidAppName {
                name: name.to_string(),
            })
        }
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The prefix of its environment variables: `demo` → `DEMO_`, `my-tool` → `MY_TOOL_`.
    pub fn env_prefix(&self) -> String {
        let mut prefix: String = self
            .0
            .chars()
            .map(|c| {
                if c == '-' {
                    '_'
                } else {
                    c.to_ascii_uppercase()
                }
            })
            .collect();
        prefix.push('_');
        prefix
    }
}

/// The names of the environment variables an app's telemetry reads (`DEMO_TELEMETRY`, ...).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnvNames {
    /// `<APP>_TELEMETRY`: `0` turns telemetry off, `1` on.
    pub telemetry: String,
    /// `<APP>_NO_TELEMETRY`: `1` turns telemetry off.
    pub no_telemetry: String,
    /// `<APP>_TELEMETRY_DIR`: the state directory, instead of `~/.<app>`.
    pub dir: String,
    /// `<APP>_TELEMETRY_DEBUG`: `1` prints events to stderr instead of recording them.
    pub debug: String,
    /// `<APP>_TELEMETRY_DEV_ENDPOINT`: a loopback endpoint, honoured in debug builds only.
    pub dev_endpoint: String,
    /// `<APP>_TELEMETRY_DEV_KEY`: the key to use with the dev endpoint, debug builds only.
    pub dev_key: String,
    /// `<APP>_TELEMETRY_SENDER`: set (with the sender argument) on the detached sender process
    /// the handle spawns; never set it yourself.
    pub sender: String,
}

impl EnvNames {
    /// The names for `app`.
    pub fn new(app: &AppName) -> Self {
        let p = app.env_prefix();
        Self {
            telemetry: format!("{p}TELEMETRY"),
            no_telemetry: format!("{p}NO_TELEMETRY"),
            dir: format!("{p}TELEMETRY_DIR"),
            debug: format!("{p}TELEMETRY_DEBUG"),
            dev_endpoint: format!("{p}TELEMETRY_DEV_ENDPOINT"),
            dev_key: format!("{p}TELEMETRY_DEV_KEY"),
            sender: format!("{p}TELEMETRY_SENDER"),
        }
    }
}

/// Everything telemetry needs to know about its host. Made with [`TelemetryConfig::builder`].
#[derive(Debug, Clone)]
pub struct TelemetryConfig {
    pub(crate) app: AppName,
    pub(crate) env_names: EnvNames,
    pub(crate) command_name: String,
    pub(crate) version: String,
    pub(crate) git_commit: String,
    pub(crate) build_kind: BuildKind,
    pub(crate) policy: ConsentPolicy,
    pub(crate) project_key: String,
    pub(crate) host: PostHogHost,
    pub(crate) docs_url: Option<String>,
    pub(crate) docs_path: Option<String>,
    pub(crate) state_dir: Option<PathBuf>,
    pub(crate) environment: Environment,
    pub(crate) working_dir: Option<PathBuf>,
    pub(crate) stderr_is_terminal: bool,
    pub(crate) detached_sender: bool,
}

impl TelemetryConfig {
    /// Starts a configuration for the app called `app_name` (a short lower-case word: it names
    /// the environment variables, `DEMO_TELEMETRY`, and the state directory, `~/.demo`).
    pub fn builder(app_name: impl Into<String>) -> TelemetryConfigBuilder {
        TelemetryConfigBuilder {
            app_name: app_name.into(),
            command_name: None,
            version: "unknown".to_string(),
            git_commit: "unknown".to_string(),
            build_kind: BuildKind::current(),
            policy: ConsentPolicy::OptIn,
            project_key: String::new(),
            host: Ok(PostHogHost::EuCloud),
            docs_url: None,
            docs_path: None,
            state_dir: None,
            environment: None,
            working_dir: None,
            stderr_is_terminal: None,
            detached_sender: !cfg!(test),
        }
    }

    /// A configuration under which nothing is ever recorded (`DO_NOT_TRACK=1`, no key, no
    /// state directory).
    pub fn disabled() -> Self {
        TelemetryConfig::builder("disabled")
            .environment(Environment::empty().with("DO_NOT_TRACK", "1"))
            .stderr_is_terminal(false)
            .detached_sender(false)
            .build_as_given()
            .expect("the disabled configuration is valid")
    }

    /// The app's name.
    pub fn app_name(&self) -> &str {
        self.app.as_str()
    }

    /// How users run the program (for messages such as `demo telemetry on`).
    pub fn command_name(&self) -> &str {
        &self.command_name
    }

    /// The prefix of the app's environment variables (`DEMO_`).
    pub fn env_prefix(&self) -> String {
        self.app.env_prefix()
    }

    /// The names of the environment variables telemetry reads.
    pub fn env_names(&self) -> &EnvNames {
        &self.env_names
    }

    /// The program's version.
    pub fn version(&self) -> &str {
        &self.version
    }

    /// The commit the program was built from.
    pub fn git_commit(&self) -> &str {
        &self.git_commit
    }

    /// Release or debug build.
    pub fn build_kind(&self) -> BuildKind {
        self.build_kind
    }

    /// The consent policy.
    pub fn policy(&self) -> ConsentPolicy {
        self.policy
    }

    /// The PostHog project key embedded at build time (empty: nothing can ever be sent).
    pub fn project_key(&self) -> &str {
        &self.project_key
    }

    /// Where events go.
    pub fn host(&self) -> &PostHogHost {
        &self.host
    }

    /// The telemetry policy page.
    pub fn docs_url(&self) -> Option<&str> {
        self.docs_url.as_deref()
    }

    /// The generated list of events in the source repository (`docs/telemetry.md`).
    pub fn docs_path(&self) -> Option<&str> {
        self.docs_path.as_deref()
    }

    /// The environment snapshot.
    pub fn environment(&self) -> &Environment {
        &self.environment
    }

    /// The working directory the project opt-out file is looked up from.
    pub fn working_dir(&self) -> Option<&Path> {
        self.working_dir.as_deref()
    }

    /// Whether stderr is a terminal (for the first-run notice).
    pub fn stderr_is_terminal(&self) -> bool {
        self.stderr_is_terminal
    }

    /// Whether the handle starts a detached sender process when it is dropped (see
    /// [`delivery`](crate::delivery)).
    pub fn detached_sender(&self) -> bool {
        self.detached_sender
    }

    /// The state directory set explicitly with [`TelemetryConfigBuilder::state_dir`].
    pub fn explicit_state_dir(&self) -> Option<&Path> {
        self.state_dir.as_deref()
    }
}

/// Builds a [`TelemetryConfig`]; every setting but the app name has a default.
#[derive(Debug, Clone)]
pub struct TelemetryConfigBuilder {
    app_name: String,
    command_name: Option<String>,
    version: String,
    git_commit: String,
    build_kind: BuildKind,
    policy: ConsentPolicy,
    project_key: String,
    host: Result<PostHogHost, ConfigError>,
    docs_url: Option<String>,
    docs_path: Option<String>,
    state_dir: Option<PathBuf>,
    environment: Option<Environment>,
    working_dir: Option<PathBuf>,
    stderr_is_terminal: Option<bool>,
    detached_sender: bool,
}

impl TelemetryConfigBuilder {
    /// How users run the program, for messages (default: the app name).
    pub fn command_name(mut self, name: impl Into<String>) -> Self {
        self.command_name = Some(name.into());
        self
    }

    /// The program's version (the `app_version` common property), usually
    /// `env!("CARGO_PKG_VERSION")`.
    pub fn version(mut self, version: impl Into<String>) -> Self {
        self.version = version.into();
        self
    }

    /// The commit the program was built from (the `app_git_commit` common property).
    pub fn git_commit(mut self, commit: impl Into<String>) -> Self {
        self.git_commit = commit.into();
        self
    }

    /// Release or debug (default: this crate's `debug_assertions`).
    pub fn build_kind(mut self, kind: BuildKind) -> Self {
        self.build_kind = kind;
        self
    }

    /// The consent policy (default: opt-in).
    pub fn policy(mut self, policy: ConsentPolicy) -> Self {
        self.policy = policy;
        self
    }

    /// The PostHog project key, embedded at build time
    /// (`option_env!("DEMO_POSTHOG_KEY").unwrap_or("")`). Empty (the default) means nothing
    /// can ever be recorded or sent, whatever the user says.
    pub fn project_key(mut self, key: impl Into<String>) -> Self {
        self.project_key = key.into().trim().to_string();
        self
    }

    /// Where events go (default: PostHog's EU cloud).
    pub fn host(mut self, host: PostHogHost) -> Self {
        self.host = Ok(host);
        self
    }

    /// Where events go, as text (see [`PostHogHost::parse`]); an invalid value makes
    /// [`build`](Self::build) fail.
    pub fn host_str(mut self, host: &str) -> Self {
        self.host = PostHogHost::parse(host);
        self
    }

    /// The telemetry policy page `policy` points to.
    pub fn docs_url(mut self, url: impl Into<String>) -> Self {
        self.docs_url = Some(url.into());
        self
    }

    /// The path of the generated event list in the source repository
    /// (`docs/telemetry.md`).
    pub fn docs_path(mut self, path: impl Into<String>) -> Self {
        self.docs_path = Some(path.into());
        self
    }

    /// The state directory, instead of `<APP>_TELEMETRY_DIR` or `~/.<app>` (for tests).
    pub fn state_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.state_dir = Some(dir.into());
        self
    }

    /// The environment to read (default: a snapshot of the process environment).
    pub fn environment(mut self, environment: Environment) -> Self {
        self.environment = Some(environment);
        self
    }

    /// The working directory the project opt-out file is looked up from (default: the
    /// process's).
    pub fn working_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.working_dir = Some(dir.into());
        self
    }

    /// Whether stderr is a terminal (default: asked of the real stderr).
    pub fn stderr_is_terminal(mut self, is_terminal: bool) -> Self {
        self.stderr_is_terminal = Some(is_terminal);
        self
    }

    /// Whether dropping the handle starts a detached sender process (default: yes). A host that
    /// delivers some other way (only with
    /// [`Telemetry::deliver_in_background`](crate::Telemetry::deliver_in_background), or not at
    /// all) can turn it off; recorded events then wait in the queue.
    pub fn detached_sender(mut self, enabled: bool) -> Self {
        self.detached_sender = enabled;
        self
    }

    /// Checks the settings and fills in the defaults.
    pub fn build(mut self) -> Result<TelemetryConfig, ConfigError> {
        if self.working_dir.is_none() {
            self.working_dir = std::env::current_dir().ok();
        }
        self.build_as_given()
    }

    /// [`build`](Self::build), leaving an unset working directory unset.
    fn build_as_given(self) -> Result<TelemetryConfig, ConfigError> {
        let app = AppName::new(&self.app_name)?;
        let host = self.host?;
        let environment = self.environment.unwrap_or_else(Environment::from_process);
        let working_dir = self.working_dir;
        let stderr_is_terminal = self
            .stderr_is_terminal
            .unwrap_or_else(|| std::io::stderr().is_terminal());
        Ok(TelemetryConfig {
            env_names: EnvNames::new(&app),
            command_name: self
                .command_name
                .unwrap_or_else(|| app.as_str().to_string()),
            app,
            version: self.version,
            git_commit: self.git_commit,
            build_kind: self.build_kind,
            policy: self.policy,
            project_key: self.project_key,
            host,
            docs_url: self.docs_url,
            docs_path: self.docs_path,
            state_dir: self.state_dir,
            environment,
            working_dir,
            stderr_is_terminal,
            detached_sender: self.detached_sender,
        })
    }

    /// Builds the configuration and starts telemetry: the one call at the top of `main`. A
    /// configuration error gives a handle that records nothing (and says why in `status`).
    pub fn start(self) -> Telemetry {
        Telemetry::start_from(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn app_names_and_prefixes() {
        assert_eq!(AppName::new("demo").unwrap().env_prefix(), "DEMO_");
        assert_eq!(AppName::new("my-tool").unwrap().env_prefix(), "MY_TOOL_");
        for bad in ["", "Demo", "1x", "a b", "x/y", &"a".repeat(33)] {
            assert!(AppName::new(bad).is_err(), "{bad}");
        }
        let names = EnvNames::new(&AppName::new("demo").unwrap());
        assert_eq!(names.dev_endpoint, "DEMO_TELEMETRY_DEV_ENDPOINT");
    }

    #[test]
    fn hosts() {
        assert_eq!(PostHogHost::parse("").unwrap(), PostHogHost::EuCloud);
        assert_eq!(PostHogHost::parse("US").unwrap(), PostHogHost::UsCloud);
        assert_eq!(
            PostHogHost::parse("https://t.example.com/ingest/")
                .unwrap()
                .base_url(),
            "https://t.example.com/ingest"
        );
        assert_eq!(
            PostHogHost::parse("http://[::1]:8080").unwrap().base_url(),
            "http://[::1]:8080"
        );
        for bad in [
            "ftp://x",
            "https://",
            "https://u@h",
            "x",
            "https://h:notaport",
        ] {
            assert!(PostHogHost::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn loopback() {
        for yes in [
            "http://localhost:1",
            "http://127.0.0.1",
            "http://127.9.8.7:80/x",
            "http://[::1]:9",
        ] {
            assert!(HttpUrl::parse(yes).unwrap().is_loopback(), "{yes}");
        }
        for no in [
            "http://10.0.0.1",
            "https://eu.i.posthog.com",
            "http://localhost.evil.com",
            "http://[::2]",
            "http://128.0.0.1",
        ] {
            assert!(!HttpUrl::parse(no).unwrap().is_loopback(), "{no}");
        }
    }

    #[test]
    fn builder_defaults() {
        let config = TelemetryConfig::builder("demo")
            .environment(Environment::empty())
            .stderr_is_terminal(false)
            .build()
            .unwrap();
        assert_eq!(config.policy(), ConsentPolicy::OptIn);
        assert_eq!(config.project_key(), "");
        assert_eq!(config.host(), &PostHogHost::EuCloud);
        assert_eq!(config.command_name(), "demo");
        assert!(
            TelemetryConfig::builder("demo")
                .host_str("nope")
                .build()
                .is_err()
        );
    }
}

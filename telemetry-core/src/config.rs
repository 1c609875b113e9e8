//! What a host tells telemetry about itself: [`TelemetryConfig`], made with its builder from
//! the program's [`Schema`].

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::SystemTime;

use crate::environment::Environment;
use crate::schema::{ConsentPolicy, Schema};

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
#[non_exhaustive]
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

/// An `http://` or `https://` base URL, parsed by the `url` crate (already compiled for
/// posthog-rs), with what a PostHog endpoint must not have refused: credentials, a query or a
/// fragment, whitespace or control characters (which `url` would silently strip).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct HttpUrl(url::Url);

impl HttpUrl {
    pub(crate) fn parse(value: &str) -> Option<Self> {
        if value.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return None;
        }
        let url = url::Url::parse(value).ok()?;
        let acceptable = matches!(url.scheme(), "http" | "https")
            && url.host().is_some()
            && url.username().is_empty()
            && url.password().is_none()
            && url.query().is_none()
            && url.fragment().is_none();
        acceptable.then_some(Self(url))
    }

    /// `scheme://host[:port][/path]`, without a trailing slash.
    pub(crate) fn base(&self) -> String {
        self.0.as_str().trim_end_matches('/').to_string()
    }

    /// Whether the host is a loopback address: `localhost`, `127.0.0.0/8` or `[::1]`.
    pub(crate) fn is_loopback(&self) -> bool {
        match self.0.host() {
            Some(url::Host::Domain(domain)) => domain == "localhost",
            Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
            Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
            None => false,
        }
    }
}

/// A configuration the builder refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// The app name must be a short lower-case word.
    #[error(
        "invalid app name {name:?}: use 1 to 32 lower-case ASCII letters, digits, `-` or `_`, starting with a letter"
    )]
    InvalidAppName {
        /// The name given.
        name: String,
    },
    /// The version is not a version (`1.2.3`, `1.2.3-beta.1+build.5`).
    #[error(
        "invalid version {value:?}: use the program's own version, `env!(\"CARGO_PKG_VERSION\")` (MAJOR.MINOR.PATCH with an optional -pre-release and +build, at most 64 characters)"
    )]
    InvalidVersion {
        /// The value given.
        value: String,
    },
    /// The commit is not a commit id.
    #[error(
        "invalid git commit {value:?}: use 4 to 40 hexadecimal digits (optionally followed by `-dirty`) or `unknown`"
    )]
    InvalidGitCommit {
        /// The value given.
        value: String,
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
        // bytes, not chars: every allowed character is ASCII, and no byte of a multi-byte
        // character is
        let ok = name.len() <= 32
            && name.as_bytes().first().is_some_and(u8::is_ascii_lowercase)
            && name
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_');
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
        crate::schema::env_prefix(&self.0)
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
        let prefix = app.env_prefix();
        // one small function for the seven names, rather than seven inlined `format!`s
        let p = |suffix: &str| [prefix.as_str(), suffix].concat();
        Self {
            telemetry: p("TELEMETRY"),
            no_telemetry: p("NO_TELEMETRY"),
            dir: p("TELEMETRY_DIR"),
            debug: p("TELEMETRY_DEBUG"),
            dev_endpoint: p("TELEMETRY_DEV_ENDPOINT"),
            dev_key: p("TELEMETRY_DEV_KEY"),
            sender: p("TELEMETRY_SENDER"),
        }
    }
}

/// Everything telemetry needs to know about its host. Made with [`TelemetryConfig::builder`].
///
/// ```
/// # mod schema {
/// # use telemetry_core::{telemetry_event, telemetry_schema};
/// # /// Sent when the program starts.
/// # #[telemetry_event(name = "binary.startup")]
/// # pub struct BinaryStartup {}
/// # telemetry_schema! {
/// #     /// Every event.
/// #     pub static SCHEMA = [BinaryStartup];
/// # }
/// # }
/// # use schema::SCHEMA;
/// use telemetry_core::{ConsentPolicy, PostHogHost, TelemetryConfig};
///
/// let config = TelemetryConfig::builder(&SCHEMA)
///     .version(env!("CARGO_PKG_VERSION"))
///     .git_commit(option_env!("DEMO_GIT_COMMIT").unwrap_or("unknown"))
///     .project_key(option_env!("DEMO_POSTHOG_KEY").unwrap_or(""))
///     .host(PostHogHost::EuCloud)
///     .build()
///     .unwrap();
/// assert_eq!(config.app_name(), "demo");
/// assert_eq!(config.policy(), ConsentPolicy::OptIn); // the allowlist's `consent`
/// ```
#[derive(Debug, Clone)]
pub struct TelemetryConfig {
    pub(crate) schema: &'static Schema,
    pub(crate) app: AppName,
    pub(crate) env_names: EnvNames,
    pub(crate) version: &'static str,
    pub(crate) git_commit: &'static str,
    pub(crate) build_kind: BuildKind,
    pub(crate) project_key: String,
    pub(crate) host: PostHogHost,
    pub(crate) state_dir: Option<PathBuf>,
    pub(crate) environment: Environment,
    pub(crate) working_dir: Option<PathBuf>,
    pub(crate) on_terminal: bool,
    pub(crate) detached_sender: bool,
    /// When the configuration was built: the start of the run, as far as telemetry can tell.
    /// Under opt-out, a first-run notice marker written since then was written by this run or
    /// a sibling started with it, not on an earlier run.
    pub(crate) run_started: SystemTime,
}

impl TelemetryConfig {
    /// Starts a configuration for the program whose schema is `schema` (declared with
    /// [`telemetry_schema!`](crate::telemetry_schema)): its product's name names the
    /// environment variables (`DEMO_TELEMETRY`) and the state directory (`~/.demo`), and its
    /// events are what `telemetry catalog` lists.
    pub fn builder(schema: &'static Schema) -> TelemetryConfigBuilder {
        TelemetryConfigBuilder {
            schema,
            version: UNKNOWN,
            git_commit: UNKNOWN,
            build_kind: BuildKind::current(),
            project_key: String::new(),
            host: Ok(PostHogHost::EuCloud),
            state_dir: None,
            environment: None,
            working_dir: None,
            on_terminal: None,
            detached_sender: !cfg!(test),
        }
    }

    /// A configuration under which nothing is ever recorded (`DO_NOT_TRACK=1`, no key, no
    /// state directory).
    pub fn disabled() -> Self {
        TelemetryConfig::builder(&crate::schema::DISABLED)
            .environment(Environment::empty().with("DO_NOT_TRACK", "1"))
            .on_terminal(false)
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
        self.schema.product().command()
    }

    /// The program's telemetry schema.
    pub fn schema(&self) -> &'static Schema {
        self.schema
    }

    /// The names of the environment variables telemetry reads.
    pub(crate) fn env_names(&self) -> &EnvNames {
        &self.env_names
    }

    /// The program's version.
    pub fn version(&self) -> &'static str {
        self.version
    }

    /// The commit the program was built from.
    pub fn git_commit(&self) -> &'static str {
        self.git_commit
    }

    /// Release or debug build.
    pub fn build_kind(&self) -> BuildKind {
        self.build_kind
    }

    /// The consent policy: the `consent` of the `[product]` table in the program's allowlist
    /// (opt-in unless it says `"opt-out"`), the same the generated page describes.
    pub fn policy(&self) -> ConsentPolicy {
        self.schema.product().policy()
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
        self.schema.product().docs_url()
    }

    /// The environment snapshot.
    pub(crate) fn environment(&self) -> &Environment {
        &self.environment
    }

    /// The working directory the project opt-out file is looked up from.
    pub fn working_dir(&self) -> Option<&Path> {
        self.working_dir.as_deref()
    }

    /// Whether the program runs on a terminal, stdout and stderr both (for the first-run
    /// notice).
    pub fn on_terminal(&self) -> bool {
        self.on_terminal
    }

    /// Whether the handle starts a detached sender process when it is dropped (see
    /// [`Telemetry`](crate::Telemetry)).
    pub fn detached_sender(&self) -> bool {
        self.detached_sender
    }

    /// The state directory set explicitly with [`TelemetryConfigBuilder::state_dir`].
    pub fn explicit_state_dir(&self) -> Option<&Path> {
        self.state_dir.as_deref()
    }
}

/// What `version` and `git_commit` are when the host does not say.
const UNKNOWN: &str = "unknown";

/// How many `.`-separated parts `text` has, when every part is non-empty and made of bytes
/// `allowed` accepts (bytes, not chars: the allowed characters are ASCII, and no byte of a
/// multi-byte character is). One loop for the version's three checks.
fn dotted_parts(text: &str, allowed: fn(u8) -> bool) -> Option<usize> {
    let mut parts = 0;
    for part in text.split('.') {
        if part.is_empty() || !part.bytes().all(allowed) {
            return None;
        }
        parts += 1;
    }
    Some(parts)
}

/// `version` when it is `unknown` or a semantic version (`1.2.3-rc.1+build.5`).
fn checked_version(version: &'static str) -> Result<&'static str, ConfigError> {
    let word =
        |part: &str| dotted_parts(part, |b| b.is_ascii_alphanumeric() || b == b'-').is_some();
    let (rest, build) = match version.split_once('+') {
        Some((rest, build)) => (rest, Some(build)),
        None => (version, None),
    };
    let (core, pre) = match rest.split_once('-') {
        Some((core, pre)) => (core, Some(pre)),
        None => (rest, None),
    };
    let ok = version == UNKNOWN
        || (version.len() <= 64
            && dotted_parts(core, |b| b.is_ascii_digit()) == Some(3)
            && pre.is_none_or(word)
            && build.is_none_or(word));
    if ok {
        Ok(version)
    } else {
        Err(ConfigError::InvalidVersion {
            value: version.to_owned(),
        })
    }
}

/// `commit` when it is `unknown` or 4 to 40 hexadecimal digits, optionally `-dirty`.
fn checked_git_commit(commit: &'static str) -> Result<&'static str, ConfigError> {
    let hex = commit.strip_suffix("-dirty").unwrap_or(commit);
    let ok = commit == UNKNOWN
        || ((4..=40).contains(&hex.len()) && hex.bytes().all(|b| b.is_ascii_hexdigit()));
    if ok {
        Ok(commit)
    } else {
        Err(ConfigError::InvalidGitCommit {
            value: commit.to_owned(),
        })
    }
}

/// The command, opt-out variable and project file of the program that started telemetry in
/// this process: the `telemetry` subcommand's help names them, and clap builds that text from
/// the host's parser, where no handle is at hand.
static STARTED_NAMES: OnceLock<(&'static str, String, String)> = OnceLock::new();

/// Remembers `config`'s names for the help text (the first program started wins).
pub(crate) fn remember_started(config: &TelemetryConfig) {
    let _ = STARTED_NAMES.get_or_init(|| {
        (
            config.schema.product().command(),
            config.env_names.telemetry.clone(),
            config.schema.product().project_file(),
        )
    });
}

/// `(<command>, <APP>_TELEMETRY, .<app>-telemetry.toml)` of the program started in this
/// process.
pub(crate) fn started_names() -> Option<&'static (&'static str, String, String)> {
    STARTED_NAMES.get()
}

/// Builds a [`TelemetryConfig`]; every setting but the schema has a default.
#[derive(Debug, Clone)]
pub struct TelemetryConfigBuilder {
    schema: &'static Schema,
    version: &'static str,
    git_commit: &'static str,
    build_kind: BuildKind,
    project_key: String,
    host: Result<PostHogHost, ConfigError>,
    state_dir: Option<PathBuf>,
    environment: Option<Environment>,
    working_dir: Option<PathBuf>,
    on_terminal: Option<bool>,
    detached_sender: bool,
}

impl TelemetryConfigBuilder {
    /// The program's version (the `app_version` common property): `env!("CARGO_PKG_VERSION")`.
    ///
    /// A constant of the build, never text chosen at run time, and a version: `1.2.3`, with an
    /// optional `-pre.1` and `+build.5` (up to 64 characters). Anything else makes
    /// [`build`](Self::build) fail ([`ConfigError::InvalidVersion`]), and telemetry stays off.
    /// The `&'static str` keeps out text made at run time, unless code leaks a `String` to get
    /// one (`String::leak`): a version such as `1.2.3-alice` would then be sent with every
    /// event, so a review should refuse anything but `env!` or `option_env!` here.
    pub fn version(mut self, version: &'static str) -> Self {
        self.version = version;
        self
    }

    /// The commit the program was built from (the `app_git_commit` common property), set at
    /// build time: `option_env!("MY_TOOL_GIT_COMMIT").unwrap_or("unknown")`.
    ///
    /// 4 to 40 hexadecimal digits, optionally followed by `-dirty`, or `unknown` (the default).
    /// Anything else makes [`build`](Self::build) fail ([`ConfigError::InvalidGitCommit`]), so a
    /// path or branch name can never be sent in its place. As with [`version`](Self::version),
    /// give a constant of the build, never a leaked `String`.
    pub fn git_commit(mut self, commit: &'static str) -> Self {
        self.git_commit = commit;
        self
    }

    /// Release or debug (default: this crate's `debug_assertions`).
    pub fn build_kind(mut self, kind: BuildKind) -> Self {
        self.build_kind = kind;
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

    /// Whether the program runs on a terminal, which the first-run notice needs (default: when
    /// the real stdout and stderr both are one).
    ///
    /// Not stderr alone: a command whose output goes into a pipe or a file
    /// (`source <(tool completions bash)` in a shell's start-up file, `tool list --json | jq`)
    /// is run by a script, or for one, and a notice shown there, on stderr, would be spent where
    /// nobody reads it. Under the opt-out policy it would also start recording from the next
    /// run.
    pub fn on_terminal(mut self, on_terminal: bool) -> Self {
        self.on_terminal = Some(on_terminal);
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

    /// Checks the settings and fills in the defaults. (To build and start in one call, see
    /// [`start`](Self::start).)
    pub fn build(mut self) -> Result<TelemetryConfig, ConfigError> {
        if self.working_dir.is_none() {
            self.working_dir = std::env::current_dir().ok();
        }
        self.build_as_given()
    }

    /// [`build`](Self::build), leaving an unset working directory unset.
    fn build_as_given(self) -> Result<TelemetryConfig, ConfigError> {
        let app = AppName::new(self.schema.product().name())?;
        let version = checked_version(self.version)?;
        let git_commit = checked_git_commit(self.git_commit)?;
        let host = self.host?;
        let environment = self.environment.unwrap_or_else(Environment::from_process);
        let working_dir = self.working_dir;
        let on_terminal = self
            .on_terminal
            .unwrap_or_else(|| std::io::stdout().is_terminal() && std::io::stderr().is_terminal());
        Ok(TelemetryConfig {
            env_names: EnvNames::new(&app),
            schema: self.schema,
            app,
            version,
            git_commit,
            build_kind: self.build_kind,
            project_key: self.project_key,
            host,
            state_dir: self.state_dir,
            environment,
            working_dir,
            on_terminal,
            detached_sender: self.detached_sender,
            run_started: SystemTime::now(),
        })
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
    fn versions_and_commits_are_build_constants_of_their_shape() {
        for good in [
            "1.2.3",
            "0.1.0",
            "10.20.30-rc.1",
            "1.0.0-beta+exp.sha.5114f85",
            "unknown",
        ] {
            assert_eq!(checked_version(good), Ok(good));
        }
        for bad in [
            "",
            "1.2",
            "1.2.3.4",
            "v1.2.3",
            "1.2.3-",
            "1.2.3+",
            "1.2.3-a..b",
            "/home/alice/secret-repo",
            "1.2.3 (alice@example.com)",
            "1.2.3-ÄÖ",
        ] {
            assert!(checked_version(bad).is_err(), "{bad}");
        }
        assert!(checked_version(&*"1.2.3-".repeat(20).leak()).is_err());
        for good in [
            "abcd",
            "0123456789abcdef0123456789abcdef01234567",
            "59807616e-dirty",
            "unknown",
        ] {
            assert_eq!(checked_git_commit(good), Ok(good));
        }
        for bad in [
            "",
            "abc",
            "main",
            "feature/customer-x",
            "g123456",
            "abcd-clean",
            &"a".repeat(41),
        ] {
            let leaked: &'static str = bad.to_owned().leak();
            assert!(checked_git_commit(leaked).is_err(), "{bad}");
        }
        let refused = TelemetryConfig::builder(&crate::schema::DEMO)
            .version("/home/alice/secret-repo")
            .environment(Environment::empty())
            .build()
            .unwrap_err();
        assert!(matches!(refused, ConfigError::InvalidVersion { .. }));
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
        let config = TelemetryConfig::builder(&crate::schema::DEMO)
            .environment(Environment::empty())
            .on_terminal(false)
            .build()
            .unwrap();
        assert_eq!(config.policy(), ConsentPolicy::OptIn);
        assert_eq!(config.project_key(), "");
        assert_eq!(config.host(), &PostHogHost::EuCloud);
        assert_eq!(config.command_name(), "demo");
        assert!(
            TelemetryConfig::builder(&crate::schema::DEMO)
                .host_str("nope")
                .build()
                .is_err()
        );
    }
}

//! Whether telemetry is on, and which source decided.
//!
//! Resolved in this order, first match wins:
//!
//! 1. `DO_NOT_TRACK`, set to anything but empty, `0` or `false`: off;
//! 2. the app's own variables: `<APP>_NO_TELEMETRY` set to anything but empty, `0` or `false`:
//!    off; `<APP>_TELEMETRY=0` off, `<APP>_TELEMETRY=1` on (any other value is not understood
//!    and means off);
//! 3. the project file `.<app>-telemetry.toml`, looked up from the working directory upwards:
//!    off (a project can never turn telemetry on);
//! 4. the user's config, `telemetry.toml` in the state directory, written by
//!    `telemetry on|off` (a file that cannot be read means off);
//! 5. CI detected from the environment: off;
//! 6. the policy default (the allowlist's `consent`): off under opt-in; under opt-out, on once the
//!    first-run notice has been shown on an earlier run.
//!
//! Resolving reads the environment snapshot, looks for the project file, and reads the user's
//! config and (opt-out only) the notice marker: nothing else, and it never writes.
//!
//! # How a switch variable is read
//!
//! One rule for every switch (`DO_NOT_TRACK`, `<APP>_NO_TELEMETRY`, `<APP>_TELEMETRY`,
//! `<APP>_TELEMETRY_DEBUG` and the CI variables), and in doubt toward privacy. The value is
//! trimmed and compared without regard to case: `1`, `true`, `yes` and `on` say yes; `0` and
//! `false` say no; an unset or empty variable says nothing. Any other value (`no`, `off`,
//! `maybe`, only spaces) is not understood and is read the privacy-safe way: a switch that turns
//! telemetry off (`DO_NOT_TRACK`, `<APP>_NO_TELEMETRY`, CI) is on, a switch that turns something
//! on (`<APP>_TELEMETRY`, `<APP>_TELEMETRY_DEBUG`) is off, and `telemetry status` says the value
//! was not understood. `no` and `off` are not read as "no" because with a negative name
//! (`DO_NOT_TRACK=no`) they mean either. So `DO_NOT_TRACK` opts out on anything but empty, `0`
//! or `false`, as the convention says. The reading is [`Switch`].

pub mod project;
mod toml_key;
pub mod user_config;

use std::path::{Path, PathBuf};

use crate::config::TelemetryConfig;
use crate::environment::{Switch, ci};
use crate::paths::StateDir;
use crate::schema::ConsentPolicy;

/// The source that decided, with what it said.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConsentSource {
    /// `DO_NOT_TRACK` is set.
    DoNotTrack {
        /// Its value.
        value: String,
        /// Whether the value was understood (`1`, `true`, ...); one that was not opts out too.
        understood: bool,
    },
    /// `<APP>_NO_TELEMETRY` is set.
    NoTelemetryVariable {
        /// The variable.
        variable: String,
        /// Its value.
        value: String,
        /// Whether the value was understood; one that was not opts out too.
        understood: bool,
    },
    /// `<APP>_TELEMETRY` is set.
    TelemetryVariable {
        /// The variable.
        variable: String,
        /// Its value.
        value: String,
        /// Whether the value was understood (`0`/`1`, ...); one that was not means off.
        understood: bool,
    },
    /// A project file turned telemetry off.
    ProjectFile {
        /// The file.
        path: PathBuf,
    },
    /// The user's config decided.
    UserConfig {
        /// The file.
        path: PathBuf,
        /// What it says.
        enabled: bool,
    },
    /// The user's config exists but cannot be read: off until it is fixed.
    UserConfigUnreadable {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        problem: String,
    },
    /// A CI environment was detected.
    Ci {
        /// The variable that gave it away.
        variable: String,
        /// Its value.
        value: String,
    },
    /// Nobody said anything: the policy's default.
    Default {
        /// The policy.
        policy: ConsentPolicy,
        /// Under opt-out: whether the first-run notice has been shown on an earlier run.
        notice_shown: bool,
    },
}

impl ConsentSource {
    /// A short human description (`DO_NOT_TRACK=1`, `user config ~/.demo/telemetry.toml`, ...),
    /// with the home directory written `~`.
    pub fn describe(&self, home: Option<&Path>) -> String {
        let show = |path: &Path| tilde(path, home);
        match self {
            ConsentSource::DoNotTrack {
                value,
                understood: true,
            } => format!("DO_NOT_TRACK={value}"),
            ConsentSource::DoNotTrack { value, .. } => format!(
                "DO_NOT_TRACK={value} (not understood, so read as set: telemetry is off)"
            ),
            ConsentSource::NoTelemetryVariable {
                variable,
                value,
                understood: true,
            } => format!("{variable}={value}"),
            ConsentSource::NoTelemetryVariable {
                variable, value, ..
            } => format!("{variable}={value} (not understood, so read as set: telemetry is off)"),
            ConsentSource::TelemetryVariable {
                variable,
                value,
                understood: true,
            } => format!("{variable}={value}"),
            ConsentSource::TelemetryVariable {
                variable, value, ..
            } => format!("{variable}={value} (not understood, so telemetry is off; use 0 or 1)"),
            ConsentSource::ProjectFile { path } => format!("project file {}", show(path)),
            ConsentSource::UserConfig { path, enabled } => {
                format!("user config {} (enabled = {enabled})", show(path))
            }
            ConsentSource::UserConfigUnreadable { path, .. } => {
                format!("user config {} (unreadable, so telemetry is off)", show(path))
            }
            ConsentSource::Ci { variable, value } => format!("CI detected ({variable}={value})"),
            ConsentSource::Default {
                policy: ConsentPolicy::OptIn,
                ..
            } => "default (opt-in policy)".to_string(),
            ConsentSource::Default {
                policy: ConsentPolicy::OptOut,
                notice_shown: true,
            } => "default (opt-out policy)".to_string(),
            ConsentSource::Default {
                policy: ConsentPolicy::OptOut,
                notice_shown: false,
            } => "default (opt-out policy; nothing is recorded until the first-run notice has been shown)"
                .to_string(),
        }
    }

    /// Whether the user (or their environment) made this decision, as opposed to the default.
    pub fn is_default(&self) -> bool {
        matches!(self, ConsentSource::Default { .. })
    }
}

/// `path` with the home directory written `~`.
pub(crate) fn tilde(path: &Path, home: Option<&Path>) -> String {
    if let Some(home) = home
        && let Ok(rest) = path.strip_prefix(home)
    {
        return format!("~/{}", rest.display());
    }
    path.display().to_string()
}

/// The user's consent as resolved: on or off, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsentDecision {
    /// Whether the user consents to telemetry.
    pub enabled: bool,
    /// Who decided.
    pub source: ConsentSource,
    /// A project file that asked to turn telemetry on, which is ignored.
    pub ignored_project_opt_in: Option<PathBuf>,
}

/// The value of an opt-out switch (`DO_NOT_TRACK`, `<APP>_NO_TELEMETRY`) and whether it was
/// understood, if it opts out.
fn opt_out_variable(value: Option<&str>) -> Option<(String, bool)> {
    let switch = Switch::read(value);
    switch.opts_out().then(|| {
        (
            value.unwrap_or_default().to_string(),
            switch.is_understood(),
        )
    })
}

/// Resolves consent for `config`, with the state directory `dir` (if any).
pub fn resolve(config: &TelemetryConfig, dir: Option<&StateDir>) -> ConsentDecision {
    let mut ignored_project_opt_in = None;
    let (enabled, source) = decide(config, dir, &mut ignored_project_opt_in);
    ConsentDecision {
        enabled,
        source,
        ignored_project_opt_in,
    }
}

/// Whether telemetry is on and who decided; a project file asking to turn it on, which is
/// ignored, goes to `ignored_project_opt_in` when the lookup gets that far.
fn decide(
    config: &TelemetryConfig,
    dir: Option<&StateDir>,
    ignored_project_opt_in: &mut Option<PathBuf>,
) -> (bool, ConsentSource) {
    let env = config.environment();
    let names = config.env_names();

    if let Some((value, understood)) = opt_out_variable(env.get("DO_NOT_TRACK")) {
        return (false, ConsentSource::DoNotTrack { value, understood });
    }
    if let Some((value, understood)) = opt_out_variable(env.get(&names.no_telemetry)) {
        let variable = names.no_telemetry.clone();
        return (
            false,
            ConsentSource::NoTelemetryVariable {
                variable,
                value,
                understood,
            },
        );
    }
    let value = env.get(&names.telemetry);
    let switch = Switch::read(value);
    if let Some(value) = value
        && switch != Switch::Unset
    {
        return (
            switch.turns_on(),
            ConsentSource::TelemetryVariable {
                variable: names.telemetry.clone(),
                value: value.to_string(),
                understood: switch.is_understood(),
            },
        );
    }

    if let Some(cwd) = config.working_dir() {
        match project::find(config.app_name(), cwd) {
            Some(project::ProjectFile::Off { path }) => {
                return (false, ConsentSource::ProjectFile { path });
            }
            Some(project::ProjectFile::IgnoredOptIn { path }) => {
                *ignored_project_opt_in = Some(path);
            }
            None => {}
        }
    }
    if let Some(dir) = dir {
        let path = dir.config_file();
        match user_config::read(&path) {
            Ok(Some(setting)) => {
                return (
                    setting.enabled,
                    ConsentSource::UserConfig {
                        path,
                        enabled: setting.enabled,
                    },
                );
            }
            Ok(None) => {}
            Err(problem) => {
                crate::diagnostics::warn_event!(%problem, "telemetry consent file unreadable; telemetry is off");
                return (
                    false,
                    ConsentSource::UserConfigUnreadable {
                        path,
                        problem: problem.to_string(),
                    },
                );
            }
        }
    }

    if let Some(signal) = ci::detect(env) {
        return (
            false,
            ConsentSource::Ci {
                variable: signal.variable.to_string(),
                value: signal.value,
            },
        );
    }

    let policy = config.policy();
    let notice_shown = policy == ConsentPolicy::OptOut
        && dir.is_some_and(|d| notice_shown_before(&d.notice_marker(), config.run_started));
    (
        policy == ConsentPolicy::OptOut && notice_shown,
        ConsentSource::Default {
            policy,
            notice_shown,
        },
    )
}

/// Whether the first-run notice marker at `marker` was written before `run_started`: on an
/// earlier run. A marker written since (allowing for coarse file times) was written by this
/// run or by a sibling started with it, say `tool a & tool b` on a new machine, whose user has
/// not yet had the chance to read the notice and turn telemetry off.
fn notice_shown_before(marker: &Path, run_started: std::time::SystemTime) -> bool {
    // a link or anything but a regular file is no marker (as `fsutil::check_regular` reads it)
    match std::fs::symlink_metadata(marker) {
        // a time that cannot be read proves nothing: not shown, the privacy-safe side
        Ok(meta) if meta.is_file() => meta
            .modified()
            .is_ok_and(|at| !crate::fsutil::modified_since(at, run_started)),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Environment;
    use crate::paths::StateDirSource;
    use std::time::{Duration, SystemTime};

    struct Case {
        home: tempfile::TempDir,
        cwd: PathBuf,
    }

    impl Case {
        fn new() -> Self {
            let home = tempfile::tempdir().unwrap();
            let cwd = home.path().join("project/sub");
            std::fs::create_dir_all(&cwd).unwrap();
            Self { home, cwd }
        }

        fn dir(&self) -> StateDir {
            StateDir::new(self.home.path().join(".demo"), StateDirSource::Home)
        }

        fn config(&self, env: &[(&str, &str)], policy: ConsentPolicy) -> TelemetryConfig {
            let env: Environment = env.iter().copied().collect();
            TelemetryConfig::builder(crate::schema::demo_under(policy))
                .environment(env)
                .working_dir(&self.cwd)
                .on_terminal(false)
                .build()
                .unwrap()
        }

        fn decide(&self, env: &[(&str, &str)], policy: ConsentPolicy) -> ConsentDecision {
            resolve(&self.config(env, policy), Some(&self.dir()))
        }

        /// The first-run notice marker, as written `ago` before now.
        fn write_notice_marker(&self, ago: Duration) {
            crate::fsutil::ensure_dir(self.dir().path()).unwrap();
            std::fs::write(self.dir().notice_marker(), "").unwrap();
            crate::fsutil::written_ago(&self.dir().notice_marker(), ago);
        }
    }

    #[test]
    fn order_of_sources() {
        let case = Case::new();
        let d = case.decide(&[], ConsentPolicy::OptIn);
        assert!(!d.enabled);
        assert!(d.source.is_default());
        assert_eq!(d.source.describe(None), "default (opt-in policy)");

        user_config::write(&case.dir(), "demo", true).unwrap();
        let d = case.decide(&[], ConsentPolicy::OptIn);
        assert!(d.enabled);
        assert_eq!(
            d.source.describe(Some(case.home.path())),
            "user config ~/.demo/telemetry.toml (enabled = true)"
        );
        // the user's config wins over CI
        assert!(case.decide(&[("CI", "true")], ConsentPolicy::OptIn).enabled);

        // DO_NOT_TRACK beats everything, including DEMO_TELEMETRY=1
        let d = case.decide(
            &[("DO_NOT_TRACK", "1"), ("DEMO_TELEMETRY", "1")],
            ConsentPolicy::OptIn,
        );
        assert!(!d.enabled);
        assert_eq!(d.source.describe(None), "DO_NOT_TRACK=1");
        // but not when it says 0 / false / empty
        for v in ["0", "false", "", " FALSE "] {
            assert!(
                case.decide(&[("DO_NOT_TRACK", v)], ConsentPolicy::OptIn)
                    .enabled
            );
        }

        let d = case.decide(&[("DEMO_TELEMETRY", "0")], ConsentPolicy::OptIn);
        assert!(!d.enabled);
        assert_eq!(d.source.describe(None), "DEMO_TELEMETRY=0");
        let d = case.decide(&[("DEMO_TELEMETRY", "maybe")], ConsentPolicy::OptIn);
        assert!(!d.enabled);
        let d = case.decide(
            &[("DEMO_NO_TELEMETRY", "1"), ("DEMO_TELEMETRY", "1")],
            ConsentPolicy::OptIn,
        );
        assert!(!d.enabled);
        assert_eq!(d.source.describe(None), "DEMO_NO_TELEMETRY=1");

        // the project file turns it off despite the user's config ...
        let file = case.home.path().join("project/.demo-telemetry.toml");
        std::fs::write(&file, "enabled = false\n").unwrap();
        let d = case.decide(&[], ConsentPolicy::OptIn);
        assert!(!d.enabled);
        assert_eq!(d.source, ConsentSource::ProjectFile { path: file.clone() });
        // ... but the variable still wins over it
        assert!(
            case.decide(&[("DEMO_TELEMETRY", "1")], ConsentPolicy::OptIn)
                .enabled
        );
        // and it can never turn telemetry on
        std::fs::write(&file, "enabled = true\n").unwrap();
        user_config::write(&case.dir(), "demo", false).unwrap();
        let d = case.decide(&[], ConsentPolicy::OptIn);
        assert!(!d.enabled);
        assert_eq!(d.ignored_project_opt_in, Some(file));
    }

    #[test]
    fn on_windows_a_switch_set_in_any_case_counts() {
        let case = Case::new();
        let decide = |vars: &[(&str, &str)]| {
            let mut env = Environment::windows_rules();
            for (name, value) in vars {
                env.set(*name, *value);
            }
            let config = TelemetryConfig::builder(crate::schema::demo_under(ConsentPolicy::OptIn))
                .environment(env)
                .working_dir(&case.cwd)
                .on_terminal(false)
                .build()
                .unwrap();
            resolve(&config, Some(&case.dir()))
        };
        assert!(decide(&[("demo_telemetry", "1")]).enabled);
        for off in ["do_not_track", "Do_Not_Track", "demo_no_telemetry"] {
            let d = decide(&[("demo_telemetry", "1"), (off, "1")]);
            assert!(!d.enabled, "{off}");
        }
        assert_eq!(
            decide(&[("do_not_track", "1")]).source.describe(None),
            "DO_NOT_TRACK=1"
        );
    }

    #[test]
    fn switches_in_doubt_side_with_privacy() {
        let case = Case::new();
        user_config::write(&case.dir(), "demo", true).unwrap();
        for value in ["no", "off", "FALSE!", " ", "maybe", "NO "] {
            let d = case.decide(&[("DO_NOT_TRACK", value)], ConsentPolicy::OptIn);
            assert!(!d.enabled, "DO_NOT_TRACK={value:?}");
            assert_eq!(
                d.source.describe(None),
                format!("DO_NOT_TRACK={value} (not understood, so read as set: telemetry is off)")
            );
            let d = case.decide(&[("DEMO_NO_TELEMETRY", value)], ConsentPolicy::OptIn);
            assert!(!d.enabled, "DEMO_NO_TELEMETRY={value:?}");
            // an opt-in switch in doubt is off, and decides (the user's config does not)
            let d = case.decide(&[("DEMO_TELEMETRY", value)], ConsentPolicy::OptIn);
            assert!(!d.enabled, "DEMO_TELEMETRY={value:?}");
            assert!(
                d.source.describe(None).contains("not understood"),
                "{value:?}"
            );
        }
        for value in ["1", "TRUE", " yes", "on"] {
            let d = case.decide(&[("DO_NOT_TRACK", value)], ConsentPolicy::OptIn);
            assert_eq!(d.source.describe(None), format!("DO_NOT_TRACK={value}"));
            assert!(
                case.decide(&[("DEMO_TELEMETRY", value)], ConsentPolicy::OptIn)
                    .enabled
            );
        }
        // empty says nothing: the user's config decides
        let d = case.decide(
            &[
                ("DO_NOT_TRACK", ""),
                ("DEMO_NO_TELEMETRY", ""),
                ("DEMO_TELEMETRY", ""),
            ],
            ConsentPolicy::OptIn,
        );
        assert!(d.enabled);
        assert!(matches!(d.source, ConsentSource::UserConfig { .. }));
        for value in ["0", "false"] {
            assert!(
                case.decide(&[("DEMO_NO_TELEMETRY", value)], ConsentPolicy::OptIn)
                    .enabled
            );
            assert!(
                !case
                    .decide(&[("DEMO_TELEMETRY", value)], ConsentPolicy::OptIn)
                    .enabled
            );
        }
    }

    #[test]
    fn ci_and_policies() {
        let case = Case::new();
        let d = case.decide(&[("GITHUB_ACTIONS", "true")], ConsentPolicy::OptOut);
        assert!(!d.enabled);
        assert_eq!(d.source.describe(None), "CI detected (GITHUB_ACTIONS=true)");
        // CI can be overridden explicitly by the variable
        assert!(
            case.decide(
                &[("CI", "1"), ("DEMO_TELEMETRY", "1")],
                ConsentPolicy::OptIn
            )
            .enabled
        );
        // opt-out: off until the notice has been shown, on an earlier run
        assert!(!case.decide(&[], ConsentPolicy::OptOut).enabled);
        case.write_notice_marker(Duration::from_secs(10));
        assert!(case.decide(&[], ConsentPolicy::OptOut).enabled);
        assert!(!case.decide(&[], ConsentPolicy::OptIn).enabled);
    }

    /// A marker written after the run started was written by this run or a sibling started
    /// with it (`tool a & tool b` on a new machine): the user has not had the chance to read
    /// the notice, so that run does not record. Coarse file times are allowed for.
    #[test]
    fn opt_out_needs_the_notice_on_an_earlier_run() {
        let case = Case::new();
        let run_started = SystemTime::now();
        let decide_at = |started: SystemTime| {
            let mut config = case.config(&[], ConsentPolicy::OptOut);
            config.run_started = started;
            resolve(&config, Some(&case.dir())).enabled
        };
        for (written_before_the_run, records) in [
            (Duration::from_secs(5), true),
            // within the file clock's slack: may have been written since
            (Duration::from_millis(5), false),
            (Duration::ZERO, false),
        ] {
            case.write_notice_marker(
                SystemTime::now().duration_since(run_started).unwrap() + written_before_the_run,
            );
            assert_eq!(
                decide_at(run_started),
                records,
                "marker written {written_before_the_run:?} before the run"
            );
        }
        // written by a sibling after this run started
        case.write_notice_marker(Duration::ZERO);
        assert!(!decide_at(run_started));
        assert!(decide_at(SystemTime::now() + Duration::from_secs(3)));
    }

    #[test]
    fn unreadable_user_config_means_off() {
        let case = Case::new();
        crate::fsutil::ensure_dir(case.dir().path()).unwrap();
        std::fs::write(case.dir().config_file(), "enabled = [").unwrap();
        let d = case.decide(&[], ConsentPolicy::OptOut);
        assert!(!d.enabled);
        assert!(matches!(
            d.source,
            ConsentSource::UserConfigUnreadable { .. }
        ));
    }
}

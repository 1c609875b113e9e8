//! The environment, as a snapshot: the process environment by default, any map in tests; and
//! what it says about the machine (CI).

pub mod ci;

use std::fmt;
use std::path::PathBuf;

/// A snapshot of environment variables: everything telemetry reads from the environment comes
/// from here, so tests pass their own and never touch the process environment.
///
/// On Windows, names are matched without regard to (ASCII) case, as Windows matches them:
/// `set do_not_track=1` in `cmd` turns telemetry off there as `DO_NOT_TRACK=1` does. Elsewhere
/// they are matched exactly, as the system does.
#[derive(Clone, PartialEq, Eq)]
pub struct Environment {
    /// Sorted by name, each name once (upper-cased when `fold_case`). Not a `BTreeMap`: its code
    /// (and the sort its `collect` runs) is linked into every host for a few look-ups of a
    /// hundred variables.
    vars: Vec<(String, String)>,
    /// Whether names are matched without regard to ASCII case (Windows' rule).
    fold_case: bool,
}

#[allow(
    clippy::derivable_impls,
    reason = "`fold_case` is `false` only where the build is not for Windows"
)]
impl Default for Environment {
    fn default() -> Self {
        Self {
            vars: Vec::new(),
            fold_case: cfg!(windows),
        }
    }
}

impl Environment {
    /// The process environment, read once (variables that are not valid Unicode are kept in a
    /// lossy form).
    pub fn from_process() -> Self {
        // a plain loop rather than `collect`: the generic `FromIterator` is then not compiled
        // for this iterator too
        let mut env = Self::default();
        for (name, value) in std::env::vars_os() {
            env.insert(lossy(name), lossy(value));
        }
        env
    }

    /// No variables at all.
    pub fn empty() -> Self {
        Self::default()
    }

    /// An empty snapshot that matches names as Windows does, on any system.
    #[cfg(test)]
    pub(crate) fn windows_rules() -> Self {
        Self {
            fold_case: true,
            ..Self::default()
        }
    }

    /// This snapshot with `name` set to `value`.
    pub fn with(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.set(name, value);
        self
    }

    /// Sets `name` to `value`.
    pub fn set(&mut self, name: impl Into<String>, value: impl Into<String>) {
        self.insert(name.into(), value.into());
    }

    fn insert(&mut self, mut name: String, value: String) {
        if self.fold_case {
            name.make_ascii_uppercase();
        }
        match self.position(&name) {
            Ok(i) => self.vars[i].1 = value,
            Err(i) => self.vars.insert(i, (name, value)),
        }
    }

    fn position(&self, name: &str) -> Result<usize, usize> {
        let fold = self.fold_case;
        // stored names are already upper-cased when folding, so only the query is
        self.vars.binary_search_by(|(k, _)| {
            k.bytes().cmp(
                name.bytes()
                    .map(|b| if fold { b.to_ascii_uppercase() } else { b }),
            )
        })
    }

    /// The value of `name`, if set.
    pub fn get(&self, name: &str) -> Option<&str> {
        let i = self.position(name).ok()?;
        Some(&self.vars[i].1)
    }

    /// The value of `name` if it is set to something other than whitespace.
    pub fn get_non_empty(&self, name: &str) -> Option<&str> {
        self.get(name).filter(|v| !v.trim().is_empty())
    }

    /// The user's home directory (`HOME`, or `USERPROFILE` on Windows), if set and absolute.
    ///
    /// Read from the snapshot, not with `std::env::home_dir`: the snapshot is what tests pass
    /// instead of touching the process, and `home_dir`'s fallback to the password database
    /// would give state to a process started without a home (`env -i`, some service managers),
    /// whose user set up none.
    pub fn home_dir(&self) -> Option<PathBuf> {
        let var = if cfg!(windows) { "USERPROFILE" } else { "HOME" };
        self.get_faithful(var)
            .map(PathBuf::from)
            .filter(|p| p.is_absolute())
    }

    /// [`get_non_empty`](Self::get_non_empty), for a value used as a path: see
    /// [`faithful`](Self::faithful).
    pub(crate) fn get_faithful(&self, name: &str) -> Option<&str> {
        self.get_non_empty(name).and_then(Self::faithful)
    }

    /// `value` if it was valid Unicode in the process environment. The snapshot keeps other
    /// values in a lossy form, which as a path could name another directory than the one
    /// meant, so telemetry uses none.
    pub(crate) fn faithful(value: &str) -> Option<&str> {
        (!value.contains(char::REPLACEMENT_CHARACTER)).then_some(value)
    }
}

/// `text` as a `String`, reusing its buffer when it is valid Unicode (as it almost always
/// is), else with U+FFFD for what is not.
fn lossy(text: std::ffi::OsString) -> String {
    text.into_string()
        .unwrap_or_else(|text| text.to_string_lossy().into_owned())
}

impl<K: Into<String>, V: Into<String>> FromIterator<(K, V)> for Environment {
    fn from_iter<I: IntoIterator<Item = (K, V)>>(iter: I) -> Self {
        let mut env = Self::default();
        for (k, v) in iter {
            env.insert(k.into(), v.into());
        }
        env
    }
}

impl fmt::Debug for Environment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map()
            .entries(self.vars.iter().map(|(k, v)| (k, v)))
            .finish()
    }
}

/// What a switch variable says, read by the one rule every switch follows (the [consent
/// module](crate::consent) documents it): trimmed and without regard to case, `1`, `true`,
/// `yes` and `on` say yes, `0` and `false` say no, and an unset or empty variable says nothing.
/// Anything else (`no`, `off`, `maybe`, only spaces) is not understood, and each switch reads it
/// the way that is safe for privacy: [`opts_out`](Self::opts_out) for a switch that turns
/// telemetry off, not [`turns_on`](Self::turns_on) for one that turns something on.
///
/// `no` and `off` are not "no": with a negative name (`DO_NOT_TRACK=no`) they read both ways,
/// so they are left to the privacy-safe side.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Switch {
    /// Unset, or set to the empty string.
    Unset,
    /// `1`, `true`, `yes`, `on`.
    Yes,
    /// `0`, `false`.
    No,
    /// Any other value.
    NotUnderstood,
}

impl Switch {
    /// Reads a variable's value (`None` when it is unset).
    pub fn read(value: Option<&str>) -> Self {
        let Some(value) = value.filter(|v| !v.is_empty()) else {
            return Switch::Unset;
        };
        match value.trim().to_ascii_lowercase().as_str() {
            "1" | "true" | "yes" | "on" => Switch::Yes,
            "0" | "false" => Switch::No,
            _ => Switch::NotUnderstood,
        }
    }

    /// For a switch that turns telemetry off (`DO_NOT_TRACK`, `<APP>_NO_TELEMETRY`, a CI
    /// variable): whether it does. A value not understood does.
    pub fn opts_out(self) -> bool {
        matches!(self, Switch::Yes | Switch::NotUnderstood)
    }

    /// For a switch that turns something on (`<APP>_TELEMETRY`, `<APP>_TELEMETRY_DEBUG`):
    /// whether it does. A value not understood does not.
    pub fn turns_on(self) -> bool {
        self == Switch::Yes
    }

    /// Whether the value was one of the words the rule knows (or empty).
    pub fn is_understood(self) -> bool {
        self != Switch::NotUnderstood
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_matched_as_the_system_matches_them() {
        let exact = Environment {
            fold_case: false,
            ..Environment::default()
        }
        .with("do_not_track", "1");
        assert_eq!(exact.get("DO_NOT_TRACK"), None);
        assert_eq!(exact.get("do_not_track"), Some("1"));

        let folded = Environment::windows_rules()
            .with("do_not_track", "1")
            .with("Path", "C:\\bin")
            .with("PATH", "C:\\later");
        assert_eq!(folded.get("DO_NOT_TRACK"), Some("1"));
        assert_eq!(folded.get("Do_Not_Track"), Some("1"));
        assert_eq!(folded.get("path"), Some("C:\\later"));
        assert_eq!(folded.get("DO_NOT_TRACKX"), None);
        // one entry per name, whatever case it was set in, and the last value wins
        assert_eq!(
            format!("{folded:?}"),
            r#"{"DO_NOT_TRACK": "1", "PATH": "C:\\later"}"#
        );

        assert_eq!(Environment::default().fold_case, cfg!(windows));
        assert_eq!(Environment::from_process().fold_case, cfg!(windows));
    }

    #[test]
    fn snapshot_reads_only_its_own_map() {
        let env = Environment::empty().with("HOME", "/h").with("EMPTY", " ");
        assert_eq!(env.get("HOME"), Some("/h"));
        assert_eq!(env.get_non_empty("EMPTY"), None);
        assert_eq!(env.get("PATH"), None);
        if !cfg!(windows) {
            assert_eq!(env.home_dir(), Some(PathBuf::from("/h")));
            assert_eq!(
                Environment::empty().with("HOME", "relative").home_dir(),
                None
            );
        }
    }

    #[test]
    fn equal_whatever_the_order_and_the_last_value_wins() {
        let a: Environment = [("B", "1"), ("A", "2"), ("B", "3")].into_iter().collect();
        let b = Environment::empty().with("A", "2").with("B", "3");
        assert_eq!(a, b);
        assert_eq!(a.get("B"), Some("3"));
        assert_eq!(format!("{a:?}"), r#"{"A": "2", "B": "3"}"#);
    }

    #[test]
    fn one_rule_for_every_switch() {
        for yes in ["1", "true", "TRUE", " yes ", "On"] {
            assert_eq!(Switch::read(Some(yes)), Switch::Yes, "{yes}");
        }
        for no in ["0", "false", "FALSE ", " False"] {
            assert_eq!(Switch::read(Some(no)), Switch::No, "{no}");
        }
        assert_eq!(Switch::read(None), Switch::Unset);
        assert_eq!(Switch::read(Some("")), Switch::Unset);
        // in doubt, toward privacy: these opt out and turn nothing on
        for doubt in ["no", "off", "NO", "maybe", " ", "\t", "2", "anything"] {
            let switch = Switch::read(Some(doubt));
            assert_eq!(switch, Switch::NotUnderstood, "{doubt:?}");
            assert!(switch.opts_out(), "{doubt:?}");
            assert!(!switch.turns_on(), "{doubt:?}");
            assert!(!switch.is_understood(), "{doubt:?}");
        }
        assert!(!Switch::read(Some("0")).opts_out());
        assert!(!Switch::read(Some("")).opts_out());
        assert!(Switch::read(Some("1")).turns_on());
    }
}

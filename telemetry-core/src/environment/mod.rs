//! The environment, as a snapshot: the process environment by default, any map in tests; and
//! what it says about the machine (CI).

pub mod ci;

use std::collections::BTreeMap;
use std::path::PathBuf;

/// A snapshot of environment variables: everything telemetry reads from the environment comes
/// from here, so tests pass their own and never touch the process environment.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Environment {
    vars: BTreeMap<String, String>,
}

impl Environment {
    /// The process environment, read once (variables that are not valid Unicode are kept in a
    /// lossy form).
    pub fn from_process() -> Self {
        Self {
            vars: std::env::vars_os()
                .map(|(k, v)| {
                    (
                        k.to_string_lossy().into_owned(),
                        v.to_string_lossy().into_owned(),
                    )
                })
                .collect(),
        }
    }

    /// No variables at all.
    pub fn empty() -> Self {
        Self::default()
    }

    /// This snapshot with `name` set to `value`.
    pub fn with(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.vars.insert(name.into(), value.into());
        self
    }

    /// Sets `name` to `value`.
    pub fn set(&mut self, name: impl Into<String>, value: impl Into<String>) {
        self.vars.insert(name.into(), value.into());
    }

    /// The value of `name`, if set.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.vars.get(name).map(String::as_str)
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
        self.get_non_empty(var)
            .map(PathBuf::from)
            .filter(|p| p.is_absolute())
    }
}

impl<K: Into<String>, V: Into<String>> FromIterator<(K, V)> for Environment {
    fn from_iter<I: IntoIterator<Item = (K, V)>>(iter: I) -> Self {
        Self {
            vars: iter
                .into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
        }
    }
}

/// Whether a flag-like value means "yes": anything but empty, `0`, `false`, `no` and `off`
/// (case-insensitive), as `DO_NOT_TRACK` is read.
pub fn is_truthy(value: &str) -> bool {
    !value.trim().is_empty() && parse_switch(value) != Some(false)
}

/// A strict on/off value: `Some(true)` for `1`, `true`, `yes`, `on`; `Some(false)` for `0`,
/// `false`, `no`, `off`; `None` for anything else.
pub fn parse_switch(value: &str) -> Option<bool> {
    match value.trim().to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" => Some(true),
        "0" | "false" | "no" | "off" => Some(false),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
    fn truthiness() {
        for yes in ["1", "true", "yes", "anything"] {
            assert!(is_truthy(yes), "{yes}");
        }
        for no in ["", " ", "0", "false", "FALSE", "no", "off"] {
            assert!(!is_truthy(no), "{no}");
        }
        assert_eq!(parse_switch("ON"), Some(true));
        assert_eq!(parse_switch("0"), Some(false));
        assert_eq!(parse_switch("maybe"), None);
    }
}

//! The project opt-out file: `.<app>-telemetry.toml`, committed to a repository to turn
//! telemetry off for everyone working in it.
//!
//! It is looked up from the working directory upwards. It can only turn telemetry off: a
//! repository must not be able to opt its users in. Its presence is enough; an empty file, a
//! comment, `enabled = false` or anything unreadable all mean off. A file saying
//! `enabled = true` is not a decision (it is reported by `status` and ignored), so the lookup
//! goes on to the user's own settings.

use std::path::{Path, PathBuf};

use crate::fsutil;

/// What a project file says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProjectFile {
    /// It turns telemetry off.
    Off {
        /// Its path.
        path: PathBuf,
    },
    /// It asks to turn telemetry on, which a project cannot do.
    IgnoredOptIn {
        /// Its path.
        path: PathBuf,
    },
}

/// The file name for `app`: `.demo-telemetry.toml`.
pub fn file_name(app: &str) -> String {
    format!(".{app}-telemetry.toml")
}

/// The nearest project file at or above `start`, if any.
pub fn find(app: &str, start: &Path) -> Option<ProjectFile> {
    let name = file_name(app);
    for dir in start.ancestors() {
        let path = dir.join(&name);
        let Ok(meta) = std::fs::metadata(&path) else {
            continue;
        };
        if meta.is_dir() {
            continue;
        }
        let says_on = fsutil::read_small_text(&path)
            .ok()
            .flatten()
            .and_then(|text| super::toml_key::read_enabled(&text).ok().flatten())
            == Some(true);
        return Some(if says_on {
            ProjectFile::IgnoredOptIn { path }
        } else {
            ProjectFile::Off { path }
        });
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn found_upwards_and_only_turns_off() {
        let root = tempfile::tempdir().unwrap();
        let deep = root.path().join("a/b/c");
        std::fs::create_dir_all(&deep).unwrap();
        assert_eq!(find("demo", &deep), None);
        let file = root.path().join("a/.demo-telemetry.toml");
        std::fs::write(&file, "").unwrap();
        assert_eq!(
            find("demo", &deep),
            Some(ProjectFile::Off { path: file.clone() })
        );
        std::fs::write(&file, "not toml [[[").unwrap();
        assert_eq!(
            find("demo", &deep),
            Some(ProjectFile::Off { path: file.clone() })
        );
        std::fs::write(&file, "enabled = true\n").unwrap();
        assert_eq!(
            find("demo", &deep),
            Some(ProjectFile::IgnoredOptIn { path: file.clone() })
        );
        // another app's file is not ours
        assert_eq!(find("other", &deep), None);
    }
}

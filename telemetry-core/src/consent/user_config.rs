//! The user's own consent, `telemetry.toml` in the state directory, written by
//! `telemetry on` and `telemetry off`:
//!
//! ```toml
//! # Telemetry consent for demo, written by `demo telemetry on` / `demo telemetry off`.
//! enabled = true
//! changed_at = "2026-04-08T10:00:00.000Z"
//! ```

use std::path::Path;

use crate::fsutil::{self, StateError};
use crate::paths::StateDir;

/// What the user's config says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserSetting {
    /// Telemetry on or off.
    pub enabled: bool,
}

/// Reads the user's setting: `Ok(None)` when there is no file or it says nothing, an error for
/// a file that cannot be understood.
pub fn read(path: &Path) -> Result<Option<UserSetting>, StateError> {
    let Some(text) = fsutil::read_small_text(path)? else {
        return Ok(None);
    };
    let enabled = super::toml_key::read_enabled(&text).map_err(|e| StateError::Corrupt {
        path: path.to_path_buf(),
        detail: format!("it is not valid ({e})"),
    })?;
    Ok(enabled.map(|enabled| UserSetting { enabled }))
}

/// Writes the user's setting (atomically, under the exclusive lock).
pub fn write(dir: &StateDir, app: &str, enabled: bool) -> Result<(), StateError> {
    let _lock = dir.lock_exclusive()?;
    let now = crate::record::now_rfc3339();
    let text = format!(
        "# Telemetry consent for {app}, written by `{app} telemetry on` / `{app} telemetry off`.\n\
         enabled = {enabled}\nchanged_at = \"{now}\"\n"
    );
    fsutil::write_atomic(&dir.config_file(), text.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::paths::StateDirSource;

    #[test]
    fn round_trip_and_damage() {
        let home = tempfile::tempdir().unwrap();
        let dir = StateDir::new(home.path().join(".demo"), StateDirSource::Explicit);
        assert_eq!(read(&dir.config_file()).unwrap(), None);
        write(&dir, "demo", true).unwrap();
        assert!(read(&dir.config_file()).unwrap().unwrap().enabled);
        write(&dir, "demo", false).unwrap();
        assert!(!read(&dir.config_file()).unwrap().unwrap().enabled);
        std::fs::write(dir.config_file(), "").unwrap();
        assert_eq!(read(&dir.config_file()).unwrap(), None);
        std::fs::write(dir.config_file(), "enabled = \"yes\"").unwrap();
        assert!(matches!(
            read(&dir.config_file()),
            Err(StateError::Corrupt { .. })
        ));
        std::fs::write(dir.config_file(), [0xff, 0xfe]).unwrap();
        assert!(read(&dir.config_file()).is_err());
    }
}

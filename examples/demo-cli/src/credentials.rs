//! demo's own login state: `~/.demo/credentials` holds the principal (account id) of the
//! logged-in user. Telemetry never reads it; demo passes the principal to `link`, which stores
//! and sends only its keyed hash (and nothing for an e-mail address or a path).

use std::path::PathBuf;

/// Where the credentials live.
#[derive(Debug)]
pub struct Credentials {
    path: PathBuf,
}

/// A failure to save or remove the credentials.
#[derive(Debug, thiserror::Error)]
pub enum CredentialsError {
    /// There is no home directory.
    #[error("there is no home directory (set HOME) to keep your login in")]
    NoHome,
    /// Writing or removing the file failed.
    #[error("could not update {}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The error.
        #[source]
        source: std::io::Error,
    },
}

impl Credentials {
    /// The credentials under `$HOME/.demo`, if there is a home directory.
    pub fn from_env() -> Option<Self> {
        let home = std::env::var_os("HOME").filter(|h| !h.is_empty())?;
        Some(Self {
            path: PathBuf::from(home).join(".demo").join("credentials"),
        })
    }

    /// The logged-in principal, if any.
    pub fn principal(&self) -> Option<String> {
        let meta = std::fs::symlink_metadata(&self.path).ok()?;
        if !meta.is_file() || meta.len() > 4096 {
            return None;
        }
        let text = std::fs::read_to_string(&self.path).ok()?;
        let principal = text.trim();
        (!principal.is_empty()).then(|| principal.to_string())
    }

    /// Saves `principal` as the logged-in user.
    pub fn save(&self, principal: &str) -> Result<(), CredentialsError> {
        let io = |source| CredentialsError::Io {
            path: self.path.clone(),
            source,
        };
        if let Some(dir) = self.path.parent()
            && !dir.is_dir()
        {
            std::fs::create_dir(dir).map_err(io)?;
        }
        std::fs::write(&self.path, format!("{principal}\n")).map_err(io)
    }

    /// Logs out.
    pub fn remove(&self) -> Result<(), CredentialsError> {
        match std::fs::remove_file(&self.path) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(source) => Err(CredentialsError::Io {
                path: self.path.clone(),
                source,
            }),
        }
    }
}

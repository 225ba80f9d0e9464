//! The config file: `<config dir>/arca/config.toml`, TOML, mode 0600 in a 0700 directory.

use std::fmt;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::{mask_secret, ConfigError};

/// The contents of the config file. Every field is optional; unknown fields are ignored.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ConfigFile {
    /// API key.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub api_key: Option<String>,
    /// Org id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub org: Option<String>,
    /// Team id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub team: Option<String>,
    /// `ascii`, `csv` or `json`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub format_type: Option<String>,
    /// Server base URL.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// Extra root CA (PEM) to trust.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ca_file: Option<PathBuf>,
}

impl fmt::Debug for ConfigFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConfigFile")
            .field("api_key", &self.api_key.as_deref().map(mask_secret))
            .field("org", &self.org)
            .field("team", &self.team)
            .field("format_type", &self.format_type)
            .field("url", &self.url)
            .field("ca_file", &self.ca_file)
            .finish()
    }
}

const FILE_HEADER: &str = "# Arca CLI configuration, written by `arca config set`.\n\
# It holds your API key: keep it private (mode 0600).\n\n";

/// Reads the config file; a missing file is an empty configuration.
pub fn load(path: &Path) -> Result<ConfigFile, ConfigError> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(ConfigFile::default()),
        Err(source) => {
            return Err(ConfigError::Read {
                path: path.to_path_buf(),
                source,
            })
        }
    };
    warn_if_readable_by_others(path);
    toml::from_str(&text).map_err(|e| {
        let line = e
            .span()
            .map(|span| text[..span.start.min(text.len())].lines().count().max(1));
        let message = match line {
            Some(line) => format!("{} (line {line})", e.message()),
            None => e.message().to_string(),
        };
        ConfigError::Parse {
            path: path.to_path_buf(),
            message,
        }
    })
}

#[cfg(unix)]
fn warn_if_readable_by_others(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    if let Ok(meta) = std::fs::metadata(path) {
        if meta.permissions().mode() & 0o077 != 0 {
            eprintln!(
                "Warning: {} can be read by other users; run `chmod 600 {}`",
                path.display(),
                path.display()
            );
        }
    }
}

#[cfg(not(unix))]
fn warn_if_readable_by_others(_path: &Path) {}

/// Writes the config file atomically: its directory is created with mode 0700 and the file
/// with mode 0600 (on unix).
pub fn save(path: &Path, config: &ConfigFile) -> Result<(), ConfigError> {
    let write_err = |p: &Path, message: String| ConfigError::Write {
        path: p.to_path_buf(),
        message,
    };
    let dir = path
        .parent()
        .ok_or_else(|| write_err(path, "the path has no parent directory".into()))?;
    create_private_dir(dir).map_err(|e| write_err(dir, e.to_string()))?;

    let body = toml::to_string_pretty(config).map_err(|e| write_err(path, e.to_string()))?;
    // NamedTempFile is created with mode 0600 and renamed over the old file in one step.
    let mut tmp =
        tempfile::NamedTempFile::new_in(dir).map_err(|e| write_err(dir, e.to_string()))?;
    tmp.write_all(FILE_HEADER.as_bytes())
        .and_then(|()| tmp.write_all(body.as_bytes()))
        .and_then(|()| tmp.as_file().sync_all())
        .map_err(|e| write_err(path, e.to_string()))?;
    tmp.persist(path)
        .map_err(|e| write_err(path, e.error.to_string()))?;
    Ok(())
}

#[cfg(unix)]
fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
    if let Some(parent) = dir.parent() {
        std::fs::create_dir_all(parent)?;
    }
    match std::fs::DirBuilder::new().mode(0o700).create(dir) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
        }
        Err(e) => Err(e),
    }
}

#[cfg(not(unix))]
fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)
}

/// Removes the config file; `Ok(false)` if there was none.
pub fn remove(path: &Path) -> Result<bool, ConfigError> {
    match std::fs::remove_file(path) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(ConfigError::Write {
            path: path.to_path_buf(),
            message: e.to_string(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file() -> ConfigFile {
        ConfigFile {
            api_key: Some("file-key-00001111".into()),
            org: Some("fileorg".into()),
            team: Some("fileteam".into()),
            format_type: Some("csv".into()),
            url: Some("http://file:1".into()),
            ca_file: Some(PathBuf::from("/file/ca.pem")),
        }
    }

    #[test]
    fn save_then_load_round_trips_with_private_modes() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("conf").join("arca").join("config.toml");
        save(&path, &file()).unwrap();
        assert_eq!(load(&path).unwrap(), file());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode(&path), 0o600);
            assert_eq!(mode(path.parent().unwrap()), 0o700);
        }
        assert!(remove(&path).unwrap());
        assert!(!remove(&path).unwrap());
        assert_eq!(load(&path).unwrap(), ConfigFile::default());
    }

    #[test]
    fn parse_errors_do_not_echo_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.toml");
        std::fs::write(&path, "org = \"a\"\napi_key = secret-value-here\n").unwrap();
        let err = load(&path).unwrap_err().to_string();
        assert!(err.contains("line 2"), "{err}");
        assert!(!err.contains("secret-value"), "{err}");
        assert!(err.contains("arca config clear"), "{err}");
    }
}

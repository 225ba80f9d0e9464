//! The CLI's configuration: the file, the environment, and how they combine with flags.
//!
//! Precedence for every setting: flag > environment variable > config file > default.
//! The values `no-org` / `no-team` at any level clear the org / team and stop the lookup.

mod file;

use std::fmt;
use std::path::{Path, PathBuf};

pub use file::{load, remove, save, ConfigFile};

use crate::cli::GlobalArgs;
use crate::names::validate_name;
use crate::output::Format;

/// Server URL used when nothing else is set: the server's default listen address.
pub const DEFAULT_URL: &str = "http://127.0.0.1:5000";
/// Overrides the base configuration directory (the file is `$ARCA_CONFIG_DIR/arca/config.toml`).
pub const ENV_CONFIG_DIR: &str = "ARCA_CONFIG_DIR";
/// API key.
pub const ENV_API_KEY: &str = "ARCA_API_KEY";
/// Org context.
pub const ENV_ORG: &str = "ARCA_ORG";
/// Team context.
pub const ENV_TEAM: &str = "ARCA_TEAM";
/// Output format.
pub const ENV_FORMAT_TYPE: &str = "ARCA_FORMAT_TYPE";
/// Server base URL.
pub const ENV_URL: &str = "ARCA_URL";
/// Extra root CA (PEM) to trust.
pub const ENV_CA_FILE: &str = "ARCA_CA_FILE";

/// The value of `--org` (or any other source) that means "no org".
pub const NO_ORG: &str = "no-org";
/// The value of `--team` (or any other source) that means "no team".
pub const NO_TEAM: &str = "no-team";

/// How the CLI reads environment variables; tests pass a map instead of the process env.
pub type EnvLookup<'a> = &'a dyn Fn(&str) -> Option<String>;

/// The process environment (unset, empty and non-UTF-8 variables count as unset).
pub fn process_env(name: &str) -> Option<String> {
    std::env::var(name).ok()
}

/// Errors of reading, writing or combining configuration.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// Neither `ARCA_CONFIG_DIR` nor a platform config directory is available.
    #[error("cannot find a configuration directory; set {ENV_CONFIG_DIR}")]
    NoConfigDir,
    /// The file exists but cannot be read.
    #[error("cannot read {}: {source}", path.display())]
    Read {
        /// The config file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The file is not valid TOML of the expected shape.
    #[error("cannot parse {}: {message} (fix the file, or remove it with `arca config clear`)", path.display())]
    Parse {
        /// The config file.
        path: PathBuf,
        /// What is wrong (never the offending text, which could be the key).
        message: String,
    },
    /// The file or its directory cannot be written.
    #[error("cannot write {}: {message}", path.display())]
    Write {
        /// The path that could not be written.
        path: PathBuf,
        /// Why.
        message: String,
    },
    /// A setting has an invalid value.
    #[error("{0}")]
    Invalid(String),
}

/// The path of the config file: `<config dir>/arca/config.toml`, where the config dir is
/// `$ARCA_CONFIG_DIR` if set, else the platform's (`~/.config` on Linux).
pub fn config_path(env: EnvLookup<'_>) -> Result<PathBuf, ConfigError> {
    let base = non_empty(env(ENV_CONFIG_DIR))
        .map(PathBuf::from)
        .or_else(dirs::config_dir)
        .ok_or(ConfigError::NoConfigDir)?;
    Ok(base.join("arca").join("config.toml"))
}

/// `****` followed by the last 4 characters; only `****` for values shorter than 8
/// characters, so that a short secret is never mostly shown.
pub fn mask_secret(secret: &str) -> String {
    let chars: Vec<char> = secret.chars().collect();
    if chars.len() < 8 {
        "****".to_string()
    } else {
        let tail: String = chars[chars.len() - 4..].iter().collect();
        format!("****{tail}")
    }
}

/// Where an effective setting came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// A command-line flag.
    Flag,
    /// An `ARCA_*` environment variable.
    Env,
    /// The config file.
    File,
    /// The built-in default (or nothing set).
    Default,
}

impl Source {
    /// `flag`, `env`, `file` or `default`.
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Flag => "flag",
            Source::Env => "env",
            Source::File => "file",
            Source::Default => "default",
        }
    }
}

/// One effective setting and where it came from; `value` is `None` when unset or cleared.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Setting<T> {
    /// The value.
    pub value: Option<T>,
    /// Its source.
    pub source: Source,
}

/// The effective configuration of one invocation.
#[derive(Clone, PartialEq, Eq)]
pub struct Settings {
    /// API key (never from a flag).
    pub api_key: Setting<String>,
    /// Org context.
    pub org: Setting<String>,
    /// Team context.
    pub team: Setting<String>,
    /// Output format (always set).
    pub format_type: Setting<Format>,
    /// Server base URL (always set).
    pub url: Setting<String>,
    /// Extra root CA file.
    pub ca_file: Setting<PathBuf>,
}

impl fmt::Debug for Settings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Settings")
            .field(
                "api_key",
                &(
                    self.api_key.value.as_deref().map(mask_secret),
                    self.api_key.source,
                ),
            )
            .field("org", &self.org)
            .field("team", &self.team)
            .field("format_type", &self.format_type)
            .field("url", &self.url)
            .field("ca_file", &self.ca_file)
            .finish()
    }
}

impl Settings {
    /// The org to send, if any.
    pub fn org(&self) -> Option<&str> {
        self.org.value.as_deref()
    }

    /// The team to send, if any.
    pub fn team(&self) -> Option<&str> {
        self.team.value.as_deref()
    }

    /// The output format.
    pub fn format(&self) -> Format {
        self.format_type.value.unwrap_or_default()
    }

    /// The server URL.
    pub fn url(&self) -> &str {
        self.url.value.as_deref().unwrap_or(DEFAULT_URL)
    }
}

fn non_empty(value: Option<String>) -> Option<String> {
    value
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
}

/// The first set value among flag, env and file, with its source.
fn pick(
    flag: Option<&str>,
    env: EnvLookup<'_>,
    env_name: &str,
    file: Option<&str>,
) -> Option<(String, Source)> {
    non_empty(flag.map(str::to_string))
        .map(|v| (v, Source::Flag))
        .or_else(|| non_empty(env(env_name)).map(|v| (v, Source::Env)))
        .or_else(|| non_empty(file.map(str::to_string)).map(|v| (v, Source::File)))
}

fn describe(source: Source, flag: &str, env_name: &str, path: &Path) -> String {
    match source {
        Source::Flag => flag.to_string(),
        Source::Env => env_name.to_string(),
        Source::File => path.display().to_string(),
        Source::Default => "the default".to_string(),
    }
}

/// Org or team: `clear_word` clears it; anything else must be a valid id.
fn resolve_id(
    kind: &str,
    clear_word: &str,
    picked: Option<(String, Source)>,
    env_name: &str,
    path: &Path,
) -> Result<Setting<String>, ConfigError> {
    match picked {
        None => Ok(Setting {
            value: None,
            source: Source::Default,
        }),
        Some((value, source)) if value == clear_word => Ok(Setting {
            value: None,
            source,
        }),
        Some((value, source)) => {
            validate_name(kind, &value).map_err(|e| {
                ConfigError::Invalid(format!(
                    "{e} (from {})",
                    describe(source, &format!("--{kind}"), env_name, path)
                ))
            })?;
            Ok(Setting {
                value: Some(value),
                source,
            })
        }
    }
}

/// Combines flags, environment and file into the effective configuration, checking each
/// value. `path` is the config file's path, used in error messages.
pub fn resolve(
    flags: &GlobalArgs,
    env: EnvLookup<'_>,
    file: &ConfigFile,
    path: &Path,
) -> Result<Settings, ConfigError> {
    let api_key = match pick(None, env, ENV_API_KEY, file.api_key.as_deref()) {
        Some((key, source)) => Setting {
            value: Some(key),
            source,
        },
        None => Setting {
            value: None,
            source: Source::Default,
        },
    };

    let org = resolve_id(
        "org",
        NO_ORG,
        pick(flags.org.as_deref(), env, ENV_ORG, file.org.as_deref()),
        ENV_ORG,
        path,
    )?;
    let team = resolve_id(
        "team",
        NO_TEAM,
        pick(flags.team.as_deref(), env, ENV_TEAM, file.team.as_deref()),
        ENV_TEAM,
        path,
    )?;

    let format_type = match flags.format_type {
        Some(format) => Setting {
            value: Some(format),
            source: Source::Flag,
        },
        None => match pick(None, env, ENV_FORMAT_TYPE, file.format_type.as_deref()) {
            Some((text, source)) => {
                let format = text.parse::<Format>().map_err(|e| {
                    ConfigError::Invalid(format!(
                        "{e} (from {})",
                        describe(source, "--format_type", ENV_FORMAT_TYPE, path)
                    ))
                })?;
                Setting {
                    value: Some(format),
                    source,
                }
            }
            None => Setting {
                value: Some(Format::default()),
                source: Source::Default,
            },
        },
    };

    let (url, url_source) = pick(flags.url.as_deref(), env, ENV_URL, file.url.as_deref())
        .unwrap_or_else(|| (DEFAULT_URL.to_string(), Source::Default));
    arca_client::parse_base_url(&url).map_err(|e| {
        ConfigError::Invalid(format!(
            "{e} (from {})",
            describe(url_source, "--url", ENV_URL, path)
        ))
    })?;
    let url = Setting {
        value: Some(url),
        source: url_source,
    };

    let flag_ca = flags
        .ca_file
        .as_ref()
        .map(|p| p.to_string_lossy().into_owned());
    let file_ca = file
        .ca_file
        .as_ref()
        .map(|p| p.to_string_lossy().into_owned());
    let ca_file = match pick(flag_ca.as_deref(), env, ENV_CA_FILE, file_ca.as_deref()) {
        Some((p, source)) => Setting {
            value: Some(PathBuf::from(p)),
            source,
        },
        None => Setting {
            value: None,
            source: Source::Default,
        },
    };

    Ok(Settings {
        api_key,
        org,
        team,
        format_type,
        url,
        ca_file,
    })
}

/// The output format for commands that must work even when other settings are broken
/// (`config set`, `config clear`): invalid env or file values fall back to the default.
pub fn lenient_format(flags: &GlobalArgs, env: EnvLookup<'_>, file: &ConfigFile) -> Format {
    flags
        .format_type
        .or_else(|| non_empty(env(ENV_FORMAT_TYPE)).and_then(|v| v.parse().ok()))
        .or_else(|| file.format_type.as_deref().and_then(|v| v.parse().ok()))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env_of(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |k| map.get(k).cloned()
    }

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

    fn path() -> PathBuf {
        PathBuf::from("/cfg/arca/config.toml")
    }

    #[test]
    fn defaults_when_nothing_is_set() {
        let s = resolve(
            &GlobalArgs::default(),
            &env_of(&[]),
            &ConfigFile::default(),
            &path(),
        )
        .unwrap();
        assert_eq!(s.api_key.value, None);
        assert_eq!(s.org.source, Source::Default);
        assert_eq!(s.format(), Format::Ascii);
        assert_eq!(s.format_type.source, Source::Default);
        assert_eq!(s.url(), DEFAULT_URL);
        assert_eq!(s.url.source, Source::Default);
        assert_eq!(s.ca_file.value, None);
    }

    #[test]
    fn file_beats_default() {
        let s = resolve(&GlobalArgs::default(), &env_of(&[]), &file(), &path()).unwrap();
        assert_eq!(s.api_key.value.as_deref(), Some("file-key-00001111"));
        assert_eq!(s.api_key.source, Source::File);
        assert_eq!(s.org(), Some("fileorg"));
        assert_eq!(s.team.source, Source::File);
        assert_eq!(s.format(), Format::Csv);
        assert_eq!(s.url(), "http://file:1");
        assert_eq!(s.ca_file.source, Source::File);
    }

    #[test]
    fn env_beats_file_and_flag_beats_env() {
        let env = env_of(&[
            (ENV_API_KEY, "env-key-22223333"),
            (ENV_ORG, "envorg"),
            (ENV_TEAM, "envteam"),
            (ENV_FORMAT_TYPE, "json"),
            (ENV_URL, "https://env:2"),
            (ENV_CA_FILE, "/env/ca.pem"),
        ]);
        let s = resolve(&GlobalArgs::default(), &env, &file(), &path()).unwrap();
        assert_eq!(s.api_key.value.as_deref(), Some("env-key-22223333"));
        assert_eq!(s.api_key.source, Source::Env);
        assert_eq!((s.org(), s.org.source), (Some("envorg"), Source::Env));
        assert_eq!((s.team(), s.team.source), (Some("envteam"), Source::Env));
        assert_eq!(
            (s.format(), s.format_type.source),
            (Format::Json, Source::Env)
        );
        assert_eq!((s.url(), s.url.source), ("https://env:2", Source::Env));
        assert_eq!(s.ca_file.value, Some(PathBuf::from("/env/ca.pem")));

        let flags = GlobalArgs {
            org: Some("flagorg".into()),
            team: Some("flagteam".into()),
            format_type: Some(Format::Ascii),
            url: Some("http://flag:3".into()),
            ca_file: Some(PathBuf::from("/flag/ca.pem")),
            debug: false,
        };
        let s = resolve(&flags, &env, &file(), &path()).unwrap();
        assert_eq!((s.org(), s.org.source), (Some("flagorg"), Source::Flag));
        assert_eq!((s.team(), s.team.source), (Some("flagteam"), Source::Flag));
        assert_eq!(
            (s.format(), s.format_type.source),
            (Format::Ascii, Source::Flag)
        );
        assert_eq!((s.url(), s.url.source), ("http://flag:3", Source::Flag));
        assert_eq!(s.ca_file.source, Source::Flag);
        // There is no API key flag: env still wins.
        assert_eq!(s.api_key.source, Source::Env);
    }

    #[test]
    fn no_org_and_no_team_clear_at_their_level() {
        let flags = GlobalArgs {
            org: Some(NO_ORG.into()),
            ..GlobalArgs::default()
        };
        let env = env_of(&[(ENV_TEAM, NO_TEAM)]);
        let s = resolve(&flags, &env, &file(), &path()).unwrap();
        assert_eq!((s.org(), s.org.source), (None, Source::Flag));
        assert_eq!((s.team(), s.team.source), (None, Source::Env));
    }

    #[test]
    fn empty_values_count_as_unset() {
        let env = env_of(&[(ENV_ORG, ""), (ENV_API_KEY, "  ")]);
        let s = resolve(&GlobalArgs::default(), &env, &file(), &path()).unwrap();
        assert_eq!(s.org.source, Source::File);
        assert_eq!(s.api_key.source, Source::File);
    }

    #[test]
    fn invalid_values_name_their_source() {
        let env = env_of(&[(ENV_ORG, "Bad Org")]);
        let err = resolve(&GlobalArgs::default(), &env, &file(), &path())
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("invalid org name") && err.contains(ENV_ORG),
            "{err}"
        );

        let mut f = file();
        f.format_type = Some("yaml".into());
        let err = resolve(&GlobalArgs::default(), &env_of(&[]), &f, &path())
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("yaml") && err.contains("/cfg/arca/config.toml"),
            "{err}"
        );

        let flags = GlobalArgs {
            url: Some("localhost:5000".into()),
            ..GlobalArgs::default()
        };
        let err = resolve(&flags, &env_of(&[]), &file(), &path())
            .unwrap_err()
            .to_string();
        assert!(err.contains("--url") && err.contains("http://"), "{err}");
    }

    #[test]
    fn lenient_format_ignores_bad_values() {
        let mut f = file();
        f.format_type = Some("yaml".into());
        let env = env_of(&[(ENV_FORMAT_TYPE, "xml")]);
        assert_eq!(
            lenient_format(&GlobalArgs::default(), &env, &f),
            Format::Ascii
        );
        let env = env_of(&[(ENV_FORMAT_TYPE, "json")]);
        assert_eq!(
            lenient_format(&GlobalArgs::default(), &env, &f),
            Format::Json
        );
    }

    #[test]
    fn masking() {
        assert_eq!(mask_secret("nvapi-abcdef-1234"), "****1234");
        assert_eq!(mask_secret("12345678"), "****5678");
        assert_eq!(mask_secret("1234567"), "****");
        assert_eq!(mask_secret(""), "****");
        assert_eq!(mask_secret("ключ-секрет-ёжик"), "****ёжик");
    }

    #[test]
    fn debug_output_masks_the_key() {
        let f = file();
        assert!(!format!("{f:?}").contains("file-key-0000"));
        let s = resolve(&GlobalArgs::default(), &env_of(&[]), &f, &path()).unwrap();
        let debug = format!("{s:?}");
        assert!(
            !debug.contains("file-key-0000") && debug.contains("****1111"),
            "{debug}"
        );
    }

    #[test]
    fn config_path_honours_the_env_override() {
        let env = env_of(&[(ENV_CONFIG_DIR, "/tmp/x")]);
        assert_eq!(
            config_path(&env).unwrap(),
            PathBuf::from("/tmp/x/arca/config.toml")
        );
    }
}

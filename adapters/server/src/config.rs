//! Server configuration: defaults, then a TOML config file, then `ARCA_*` environment
//! variables, then command-line flags (each layer overrides the previous), merged with figment.

use figment::providers::{Env, Format, Serialized, Toml};
use figment::Figment;
use serde::{Deserialize, Serialize};
use std::net::SocketAddr;
use std::path::PathBuf;

/// How logs are written to standard error.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum, Default)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable lines.
    #[default]
    Text,
    /// One JSON object per line.
    Json,
}

/// Everything `arca-server serve` needs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServeConfig {
    /// Address to listen on.
    pub listen: SocketAddr,
    /// Directory of the embedded default storage (SQLite database, blobs, TLS material).
    pub data_dir: PathBuf,
    /// Metadata store: `postgres://…` for PostgreSQL; absent = SQLite in the data dir.
    pub metadata: Option<String>,
    /// Blob store: `s3://bucket/prefix` (endpoint, region and credentials from the AWS_*
    /// environment variables); absent = files in the data dir.
    pub blobs: Option<String>,
    /// The URL clients use to reach the server (for token realms and links); derived from
    /// `listen` when absent.
    pub public_url: Option<String>,
    /// PEM certificate chain for HTTPS.
    pub tls_cert: Option<PathBuf>,
    /// PEM private key for HTTPS.
    pub tls_key: Option<PathBuf>,
    /// Generate (once, kept in the data dir) a CA and a server certificate, and serve HTTPS.
    pub tls_self_signed: bool,
    /// Log format.
    pub log_format: LogFormat,
    /// On first start with an empty store, create org `demo` with owner `admin@localhost`.
    pub bootstrap_demo: bool,
}

impl Default for ServeConfig {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 5000)),
            data_dir: PathBuf::from("./arca-data"),
            metadata: None,
            blobs: None,
            public_url: None,
            tls_cert: None,
            tls_key: None,
            tls_self_signed: false,
            log_format: LogFormat::Text,
            bootstrap_demo: true,
        }
    }
}

/// Values given on the command line; `None` leaves the lower layers' value.
#[derive(Debug, Clone, Default, Serialize, clap::Args)]
pub struct ServeFlags {
    /// Address to listen on [default: 127.0.0.1:5000].
    #[arg(long)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub listen: Option<SocketAddr>,
    /// Data directory of the embedded storage [default: ./arca-data].
    #[arg(long)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data_dir: Option<PathBuf>,
    /// Metadata store URL: postgres://user:password@host/db [default: SQLite in the data dir].
    #[arg(long)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metadata: Option<String>,
    /// Blob store URL: s3://bucket/prefix [default: files in the data dir].
    #[arg(long)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub blobs: Option<String>,
    /// Public base URL, e.g. https://registry.example.com.
    #[arg(long)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub public_url: Option<String>,
    /// PEM certificate chain (with --tls-key).
    #[arg(long, requires = "tls_key", conflicts_with = "tls_self_signed")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tls_cert: Option<PathBuf>,
    /// PEM private key (with --tls-cert).
    #[arg(long, requires = "tls_cert")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tls_key: Option<PathBuf>,
    /// Serve HTTPS with a generated CA and certificate (kept in <data-dir>/tls).
    #[arg(long)]
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub tls_self_signed: bool,
    /// Log format: text or json.
    #[arg(long, value_enum)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub log_format: Option<LogFormat>,
    /// Do not create the demo org on first start.
    #[arg(long)]
    #[serde(skip)]
    pub no_bootstrap: bool,
    /// A TOML configuration file (also $ARCA_CONFIG).
    #[arg(long, env = "ARCA_CONFIG")]
    #[serde(skip)]
    pub config: Option<PathBuf>,
}

impl ServeFlags {
    /// Merges defaults, config file, environment (`ARCA_LISTEN`, `ARCA_DATA_DIR`, ...) and
    /// these flags.
    pub fn resolve(&self) -> Result<ServeConfig, String> {
        let mut fig = Figment::from(Serialized::defaults(ServeConfig::default()));
        if let Some(path) = &self.config {
            if !path.exists() {
                return Err(format!("config file {} does not exist", path.display()));
            }
            fig = fig.merge(Toml::file(path));
        }
        fig = fig
            .merge(Env::prefixed("ARCA_").ignore(&["config"]))
            .merge(Serialized::defaults(self));
        let mut cfg: ServeConfig = fig.extract().map_err(|e| e.to_string())?;
        if self.no_bootstrap {
            cfg.bootstrap_demo = false;
        }
        if cfg.tls_cert.is_some() != cfg.tls_key.is_some() {
            return Err("tls_cert and tls_key must be given together".into());
        }
        if cfg.tls_self_signed && cfg.tls_cert.is_some() {
            return Err("tls_self_signed conflicts with tls_cert/tls_key".into());
        }
        Ok(cfg)
    }
}

impl ServeConfig {
    /// Whether the server speaks HTTPS.
    pub fn tls(&self) -> bool {
        self.tls_self_signed || self.tls_cert.is_some()
    }

    /// The base URL clients use.
    pub fn base_url(&self) -> String {
        match &self.public_url {
            Some(u) => u.trim_end_matches('/').to_string(),
            None => format!(
                "{}://{}",
                if self.tls() { "https" } else { "http" },
                self.listen
            ),
        }
    }
}

#[cfg(test)]
#[allow(clippy::result_large_err)] // figment::Jail's closure signature is fixed
mod tests {
    use super::*;

    #[test]
    fn layers_override_in_order() {
        figment::Jail::expect_with(|jail| {
            jail.create_file(
                "arca.toml",
                "listen = \"127.0.0.1:6000\"\ndata_dir = \"/from-file\"\nlog_format = \"json\"\n",
            )?;
            jail.set_env("ARCA_DATA_DIR", "/from-env");
            let flags = ServeFlags {
                config: Some("arca.toml".into()),
                ..Default::default()
            };
            let cfg = flags.resolve().map_err(figment::Error::from)?;
            assert_eq!(cfg.listen.port(), 6000, "file overrides default");
            assert_eq!(
                cfg.data_dir,
                PathBuf::from("/from-env"),
                "env overrides file"
            );
            assert_eq!(cfg.log_format, LogFormat::Json);
            let flags = ServeFlags {
                config: Some("arca.toml".into()),
                data_dir: Some("/from-flag".into()),
                no_bootstrap: true,
                ..Default::default()
            };
            let cfg = flags.resolve().map_err(figment::Error::from)?;
            assert_eq!(
                cfg.data_dir,
                PathBuf::from("/from-flag"),
                "flag overrides env"
            );
            assert!(!cfg.bootstrap_demo);
            Ok(())
        });
    }

    #[test]
    fn defaults() {
        figment::Jail::expect_with(|_| {
            let cfg = ServeFlags::default()
                .resolve()
                .map_err(figment::Error::from)?;
            assert_eq!(cfg, ServeConfig::default());
            assert_eq!(cfg.base_url(), "http://127.0.0.1:5000");
            Ok(())
        });
    }

    #[test]
    fn missing_config_file_is_an_error() {
        let flags = ServeFlags {
            config: Some("/nonexistent/arca.toml".into()),
            ..Default::default()
        };
        assert!(flags.resolve().unwrap_err().contains("does not exist"));
    }
}

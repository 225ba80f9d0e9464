//! The `arca` CLI, run as a real process with its own configuration directory.

use std::ffi::{OsStr, OsString};
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use anyhow::{Context, Result};
use tempfile::TempDir;

use crate::bins::{bin, CLI_BIN};
use crate::process::{run_bounded, Output, COMMAND_TIMEOUT};
use crate::server::{clean_command, Server};

/// Runs `arca` with an isolated configuration (`ARCA_CONFIG_DIR` is a temporary directory of
/// its own) and no inherited `ARCA_*` variable.
///
/// ```no_run
/// # async fn demo() -> anyhow::Result<()> {
/// use arca_tests::{Cli, Server};
/// let server = Server::start().await?;
/// let out = Cli::new()?.run(["--url", &server.base_url(), "health"])?;
/// assert!(out.success(), "{}", out.describe());
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct Cli {
    config_dir: TempDir,
    env: Vec<(OsString, OsString)>,
    timeout: Duration,
}

impl Cli {
    /// A CLI with an empty configuration directory.
    ///
    /// # Errors
    ///
    /// When the temporary directory cannot be created.
    pub fn new() -> Result<Cli> {
        Ok(Cli {
            config_dir: tempfile::Builder::new()
                .prefix("arca-e2e-cli-")
                .tempdir()
                .context("create the CLI config dir")?,
            env: Vec::new(),
            timeout: COMMAND_TIMEOUT,
        })
    }

    /// Sets `ARCA_URL`, the server's first-start key as `ARCA_API_KEY` (if it printed one) and,
    /// with TLS, `ARCA_CA_FILE`, so that commands reach `server` without flags.
    pub fn for_server(mut self, server: &Server) -> Cli {
        self = self.env("ARCA_URL", server.base_url());
        if let Some(key) = server.try_key() {
            self = self.env("ARCA_API_KEY", key);
        }
        if let Some(ca) = server.ca_file() {
            self = self.env("ARCA_CA_FILE", ca);
        }
        self
    }

    /// Sets an environment variable for every command.
    pub fn env(mut self, key: impl Into<OsString>, value: impl Into<OsString>) -> Cli {
        self.env.push((key.into(), value.into()));
        self
    }

    /// The bound for each command (default [`COMMAND_TIMEOUT`]).
    pub fn timeout(mut self, timeout: Duration) -> Cli {
        self.timeout = timeout;
        self
    }

    /// The directory given as `ARCA_CONFIG_DIR` (the file is `<dir>/arca/config.toml`).
    pub fn config_dir(&self) -> &Path {
        self.config_dir.path()
    }

    /// The `arca` command with this CLI's environment, to run by hand.
    ///
    /// # Errors
    ///
    /// When the binary cannot be built.
    pub fn command(&self) -> Result<Command> {
        let mut cmd = clean_command(bin(CLI_BIN)?);
        cmd.env("ARCA_CONFIG_DIR", self.config_dir.path())
            .env("NO_COLOR", "1")
            .current_dir(self.config_dir.path());
        for (k, v) in &self.env {
            cmd.env(k, v);
        }
        Ok(cmd)
    }

    /// Runs `arca <args>` to completion (stdin closed), bounded in time.
    ///
    /// # Errors
    ///
    /// When the binary cannot be built or started, or it runs too long. A command that fails
    /// is an `Ok` output with a non-zero status.
    pub fn run<I, S>(&self, args: I) -> Result<Output>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let mut cmd = self.command()?;
        cmd.args(args);
        run_bounded(&mut cmd, self.timeout)
    }
}

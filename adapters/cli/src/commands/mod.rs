//! One module per command group; each command resolves its settings, makes at most a few
//! client calls and hands the result to [`crate::output::Output`].

pub mod chart;
pub mod config;
mod config_check;
mod confirm;
pub mod health;
pub mod image;
pub mod key;
pub mod model;
pub mod org;
mod people;
mod render;
pub mod team;
mod transfer;
pub mod user;

use std::path::PathBuf;

use anyhow::{anyhow, Result};
use arca_client::{ArcaClient, ArcaClientBuilder, RequestEvent};

use crate::cli::GlobalArgs;
use crate::config::{self as cfg, ConfigFile, EnvLookup, Settings};

/// What every command gets: the global flags, the environment and the config file's path.
pub struct Context<'a> {
    /// The global flags.
    pub global: &'a GlobalArgs,
    /// The environment.
    pub env: EnvLookup<'a>,
    /// `<config dir>/arca/config.toml`.
    pub config_path: PathBuf,
}

impl<'a> Context<'a> {
    /// A context; fails only when no config directory can be found.
    pub fn new(global: &'a GlobalArgs, env: EnvLookup<'a>) -> Result<Self> {
        let config_path = cfg::config_path(env)?;
        Ok(Context {
            global,
            env,
            config_path,
        })
    }

    /// The config file's contents (empty if there is none).
    pub fn load_file(&self) -> Result<ConfigFile> {
        Ok(cfg::load(&self.config_path)?)
    }

    /// The effective settings of this invocation, with the given file contents.
    pub fn settings_with(&self, file: &ConfigFile) -> Result<Settings> {
        Ok(cfg::resolve(
            self.global,
            self.env,
            file,
            &self.config_path,
        )?)
    }

    /// The effective settings of this invocation.
    pub fn settings(&self) -> Result<Settings> {
        self.settings_with(&self.load_file()?)
    }

    /// A client for the server and credentials of `settings`; with `--debug`, each HTTP
    /// exchange is logged to stderr (method, URL, status; never headers or bodies).
    pub fn client(&self, settings: &Settings) -> Result<ArcaClient> {
        Ok(self.client_builder(settings).build()?)
    }

    /// The effective settings and a client for them.
    pub fn connect(&self) -> Result<(Settings, ArcaClient)> {
        let settings = self.settings()?;
        let client = self.client(&settings)?;
        Ok((settings, client))
    }

    /// The builder behind [`Context::client`], for callers that change a setting first.
    pub fn client_builder(&self, settings: &Settings) -> ArcaClientBuilder {
        let mut builder = ArcaClient::builder(settings.url())
            .api_key(settings.api_key.value.clone())
            .org(settings.org().map(str::to_string))
            .team(settings.team().map(str::to_string))
            .ca_file(settings.ca_file.value.clone())
            .user_agent(concat!("arca-cli/", env!("CARGO_PKG_VERSION")));
        if self.global.debug {
            builder = builder.on_request(log_request);
        }
        builder
    }
}

/// The org a command works in, or a usage error (exit 1) saying how to set one.
pub fn require_org(settings: &Settings) -> Result<&str> {
    settings.org().ok_or_else(|| {
        anyhow!(
            "no org is set: pass --org <org>, set {}, or save one with `arca config set --org <org>`",
            cfg::ENV_ORG
        )
    })
}

/// The team a command works in, or a usage error (exit 1) saying how to set one.
pub fn require_team(settings: &Settings) -> Result<&str> {
    settings.team().ok_or_else(|| {
        anyhow!(
            "no team is set: pass --team <team>, set {}, or save one with `arca config set --team <team>`",
            cfg::ENV_TEAM
        )
    })
}

fn log_request(event: &RequestEvent) {
    let ms = event.elapsed.as_millis();
    match (&event.status, &event.error) {
        (Some(status), _) => {
            eprintln!(
                "[debug] {} {} -> {status} ({ms} ms)",
                event.method, event.url
            )
        }
        (None, error) => eprintln!(
            "[debug] {} {} -> failed after {ms} ms: {}",
            event.method,
            event.url,
            error.as_deref().unwrap_or("no response")
        ),
    }
}

//! One module per command group; each command resolves its settings, makes at most a few
//! client calls and hands the result to [`crate::output::Output`].

pub mod config;
pub mod health;

use std::path::PathBuf;

use anyhow::Result;
use arca_client::{ArcaClient, RequestEvent};

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
    /// exchange is logged to stderr (method, URL, status; never headers).
    pub fn client(&self, settings: &Settings) -> Result<ArcaClient> {
        let mut builder = ArcaClient::builder(settings.url())
            .api_key(settings.api_key.value.clone())
            .org(settings.org().map(str::to_string))
            .team(settings.team().map(str::to_string))
            .ca_file(settings.ca_file.value.clone())
            .user_agent(concat!("arca-cli/", env!("CARGO_PKG_VERSION")));
        if self.global.debug {
            builder = builder.on_request(log_request);
        }
        Ok(builder.build()?)
    }
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

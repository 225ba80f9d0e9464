//! `arca`, the command-line client of an Arca server.
//!
//! A thin shell: parse the command line ([`cli`]), combine flags, environment and config file
//! ([`config`]), make calls through `arca-client`, and print through [`output`].
//! Errors go to stderr as `Error: <message>`; see the exit codes in `arca --help`.

mod cli;
mod commands;
mod config;
mod image_ref;
mod images;
mod names;
mod output;

use std::process::ExitCode;

use arca_client::ClientError;
use clap::Parser;

use cli::{Cli, Command, ConfigCommand};
use commands::Context;

/// The server answered, but not as it should (exit status 2), outside of `ClientError`.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ServerProblem(pub String);

/// Exit status for usage and configuration errors.
const EXIT_USAGE: u8 = 1;
/// Exit status when the server cannot be reached or answers with an error.
const EXIT_SERVER: u8 = 2;

fn exit_code(err: &anyhow::Error) -> u8 {
    for cause in err.chain() {
        if let Some(client_error) = cause.downcast_ref::<ClientError>() {
            return match client_error {
                ClientError::Config(_)
                | ClientError::InvalidUrl { .. }
                | ClientError::Io { .. } => EXIT_USAGE,
                _ => EXIT_SERVER,
            };
        }
        if cause.is::<ServerProblem>() {
            return EXIT_SERVER;
        }
    }
    EXIT_USAGE
}

/// The error chain on one line; a `ClientError` already summarises its own sources.
fn error_text(err: &anyhow::Error) -> String {
    let mut parts = Vec::new();
    for cause in err.chain() {
        parts.push(cause.to_string());
        if cause.is::<ClientError>() {
            break;
        }
    }
    parts.join(": ")
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    let env = config::process_env;
    let ctx = Context::new(&cli.global, &env)?;
    match &cli.command {
        Command::Config(ConfigCommand::Set(args)) => commands::config::set(&ctx, args).await,
        Command::Config(ConfigCommand::Current) => commands::config::current(&ctx),
        Command::Config(ConfigCommand::Clear) => commands::config::clear(&ctx),
        Command::Health => commands::health::run(&ctx).await,
        Command::Org(command) => commands::org::run(&ctx, command).await,
        Command::Team(command) => commands::team::run(&ctx, command).await,
        Command::User(command) => commands::user::run(&ctx, command).await,
        Command::Key(command) => commands::key::run(&ctx, command).await,
        Command::Registry(cli::images::RegistryCommand::Image(command)) => {
            commands::image::run(&ctx, command).await
        }
        Command::Registry(cli::images::RegistryCommand::Model(command)) => {
            commands::model::run(&ctx, arca_client::api::models::ArtifactType::Model, command).await
        }
        Command::Registry(cli::images::RegistryCommand::Chart(command)) => {
            commands::chart::run(&ctx, command).await
        }
        Command::Registry(cli::images::RegistryCommand::Resource(command)) => {
            commands::model::run(
                &ctx,
                arca_client::api::models::ArtifactType::Resource,
                command,
            )
            .await
        }
    }
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() {
                ExitCode::from(EXIT_USAGE)
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("Error: cannot start the async runtime: {e}");
            return ExitCode::from(EXIT_USAGE);
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("Error: {}", error_text(&e));
            ExitCode::from(exit_code(&e))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_codes_by_error_kind() {
        let api: anyhow::Error = ClientError::from_response(404, b"{}").into();
        assert_eq!(exit_code(&api), EXIT_SERVER);
        let config: anyhow::Error = ClientError::Config("x".into()).into();
        assert_eq!(exit_code(&config), EXIT_USAGE);
        let other = anyhow::anyhow!("invalid org name");
        assert_eq!(exit_code(&other), EXIT_USAGE);
        let server: anyhow::Error = ServerProblem("down".into()).into();
        assert_eq!(exit_code(&server), EXIT_SERVER);
    }

    #[test]
    fn error_text_keeps_context_and_stops_at_client_errors() {
        let err = anyhow::Error::from(ClientError::from_response(404, br#"{"detail":"gone"}"#))
            .context("cannot list teams");
        assert_eq!(error_text(&err), "cannot list teams: gone (HTTP 404)");
    }
}

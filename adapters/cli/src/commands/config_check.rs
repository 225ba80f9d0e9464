//! `config set` checks the key it is about to save against the server (NGC does the same).
//!
//! * `GET /v2/users/me` proves a personal or legacy key; a service key has no user and gets
//!   400 there, so `GET /v2/orgs` proves it instead.
//! * 401 means the server rejected the key: `config set` fails and saves nothing.
//! * A key works in exactly one org: when an org is being saved, it must be the key's.
//! * When the server cannot be reached (offline setup) or answers otherwise oddly, the
//!   settings are saved anyway with a warning on stderr.

use std::time::Duration;

use anyhow::{anyhow, bail, Result};
use arca_client::{ArcaClient, ClientError};

use super::Context;
use crate::config::Settings;

/// How long `config set` waits for the server to accept a connection.
const CHECK_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// How long `config set` waits for each check's answer.
const CHECK_TIMEOUT: Duration = Duration::from_secs(30);

/// What the server said about the key.
#[derive(Debug)]
enum Verdict {
    /// The key works in these orgs (`None`: not known).
    Accepted(Option<Vec<String>>),
    /// The key was not checked; the text says why.
    Unchecked(String),
}

fn is_unchecked(e: &ClientError) -> Option<String> {
    match e {
        ClientError::Api { status: 401, .. } => None,
        other => Some(other.to_string()),
    }
}

fn rejected(settings: &Settings, e: ClientError) -> anyhow::Error {
    anyhow::Error::from(e).context(format!(
        "the server at {} rejected the API key; nothing was saved",
        settings.url()
    ))
}

async fn orgs_of(client: &ArcaClient, settings: &Settings) -> Result<Verdict> {
    match client.list_orgs().await {
        Ok(orgs) => Ok(Verdict::Accepted(Some(
            orgs.into_iter().map(|o| o.name).collect(),
        ))),
        Err(e) => match is_unchecked(&e) {
            Some(why) => Ok(Verdict::Unchecked(why)),
            None => Err(rejected(settings, e)),
        },
    }
}

async fn verdict(client: &ArcaClient, settings: &Settings) -> Result<Verdict> {
    match client.me().await {
        Ok(_) if settings.org().is_some() => orgs_of(client, settings).await,
        Ok(_) => Ok(Verdict::Accepted(None)),
        // A service key: it has no user.
        Err(ClientError::Api { status: 400, .. }) => orgs_of(client, settings).await,
        Err(e) => match is_unchecked(&e) {
            Some(why) => Ok(Verdict::Unchecked(why)),
            None => Err(rejected(settings, e)),
        },
    }
}

/// Checks the key of `settings` (the configuration about to be saved) against its server.
/// Returns an error when the key or the org is wrong; warns on stderr when it cannot tell.
pub async fn check_key(ctx: &Context<'_>, settings: &Settings) -> Result<()> {
    if settings.api_key.value.is_none() {
        return Ok(());
    }
    let client = ctx
        .client_builder(settings)
        .connect_timeout(CHECK_CONNECT_TIMEOUT)
        .timeout(Some(CHECK_TIMEOUT))
        .build()?;
    match verdict(&client, settings).await? {
        Verdict::Unchecked(why) => {
            eprintln!(
                "Warning: the API key could not be checked against {} ({why}); saving it unchecked",
                settings.url()
            );
            Ok(())
        }
        Verdict::Accepted(orgs) => check_org(settings.org(), orgs.as_deref()),
    }
}

/// The org being saved must be one the key works in.
fn check_org(org: Option<&str>, key_orgs: Option<&[String]>) -> Result<()> {
    let (Some(org), Some(key_orgs)) = (org, key_orgs) else {
        return Ok(());
    };
    if key_orgs.iter().any(|o| o == org) {
        return Ok(());
    }
    if key_orgs.is_empty() {
        bail!("the API key works in no org the server knows; nothing was saved");
    }
    Err(anyhow!(
        "the API key works in org {}, not in org {org}: set --org to it (or 'no-org'); nothing \
         was saved",
        key_orgs.join(", ")
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn org_must_be_the_keys() {
        let acme = vec!["acme".to_string()];
        assert!(check_org(None, Some(&acme)).is_ok());
        assert!(check_org(Some("acme"), Some(&acme)).is_ok());
        assert!(check_org(Some("other"), None).is_ok());
        let err = check_org(Some("other"), Some(&acme))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("works in org acme, not in org other")
                && err.contains("nothing was saved"),
            "{err}"
        );
        assert!(check_org(Some("acme"), Some(&[])).is_err());
    }

    #[test]
    fn only_401_rejects_the_key() {
        assert_eq!(is_unchecked(&ClientError::from_response(401, b"{}")), None);
        assert!(is_unchecked(&ClientError::from_response(403, b"{}")).is_some());
        assert!(is_unchecked(&ClientError::from_response(503, b"{}")).is_some());
    }
}

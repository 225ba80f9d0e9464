//! Foundation end-to-end tests (R-IF-1, R-IF-3, R-KEY-5, R-KEY-8): a real `arca-server`
//! process on an empty data dir, restarts, signals, the bootstrap command, HTTPS with the
//! generated CA, configuration layers, the `arca` CLI, and no secret in the logs.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use anyhow::{ensure, Context, Result};
use arca_client::{ArcaClient, ClientError, PersonalKeyRequest};
use arca_tests::text::{api_keys_in, is_api_key, strip_ansi, KEY_PREFIX};
use arca_tests::{bootstrap, run_server_command, Cli, Listen, Output, Server};
use serde_json::Value;

#[path = "foundation/bootstrap.rs"]
mod bootstrap;
#[path = "foundation/cli.rs"]
mod cli;
#[path = "foundation/secrets.rs"]
mod secrets;
#[path = "foundation/serving.rs"]
mod serving;
#[path = "foundation/tls_config.rs"]
mod tls_config;

async fn get(server: &Server, path: &str) -> Result<reqwest::Response> {
    server
        .http()
        .get(server.url(path))
        .timeout(Duration::from_secs(10))
        .send()
        .await
        .with_context(|| format!("GET {path}"))
}

async fn get_json(server: &Server, path: &str) -> Result<(reqwest::StatusCode, Value)> {
    let res = get(server, path).await?;
    let status = res.status();
    let body = res.text().await?;
    let json = serde_json::from_str(&body).with_context(|| format!("{path}: not JSON: {body}"))?;
    Ok((status, json))
}

/// `GET /v2/users/me` with `client`: the caller's email and org-level roles per org.
async fn whoami(client: &ArcaClient) -> Result<(String, BTreeMap<String, Vec<String>>)> {
    let me: Value = client.get_json("/v2/users/me").await?;
    let user = &me["user"];
    let email = user["email"].as_str().context("no email")?.to_string();
    let mut roles = BTreeMap::new();
    for r in user["roles"].as_array().context("no roles")? {
        let org = r["org"]["name"]
            .as_str()
            .context("no org name")?
            .to_string();
        let org_roles = r["orgRoles"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .map(str::to_string)
            .collect();
        roles.insert(org, org_roles);
    }
    Ok((email, roles))
}

/// The names of the orgs `client` sees (`GET /v2/orgs`).
async fn org_names(client: &ArcaClient) -> Result<Vec<String>> {
    let orgs: Value = client.get_json("/v2/orgs").await?;
    Ok(orgs["organizations"]
        .as_array()
        .context("no organizations")?
        .iter()
        .filter_map(|o| o["name"].as_str().map(str::to_string))
        .collect())
}

fn header<'a>(res: &'a reqwest::Response, name: &str) -> Option<&'a str> {
    res.headers().get(name).and_then(|v| v.to_str().ok())
}

/// The value of the counter sample with all of `labels` (e.g. `route="/healthz"`).
fn counter(metrics: &str, name: &str, labels: &[&str]) -> Option<f64> {
    metrics.lines().find_map(|line| {
        let rest = line.strip_prefix(name)?.strip_prefix('{')?;
        let (label_set, value) = rest.split_once("} ")?;
        labels
            .iter()
            .all(|l| label_set.split(',').any(|have| have == *l))
            .then(|| value.trim().parse().ok())?
    })
}

/// The lines of `text` holding `key` or anything key-shaped, ANSI-stripped, with `key` itself
/// replaced by `<KEY>` (so that a failure does not print it once more).
fn lines_with_keys(text: &str, key: &str) -> Vec<String> {
    strip_ansi(text)
        .lines()
        .filter(|line| line.contains(key) || !api_keys_in(line).is_empty())
        .map(|line| line.replace(key, "<KEY>"))
        .collect()
}

fn assert_success(out: &Output, what: &str) {
    assert!(out.success(), "{what} failed\n{}", out.describe());
}

/// The `api_key` of a successful `bootstrap --json`.
fn bootstrap_key(out: &Output) -> Result<String> {
    assert_success(out, "bootstrap");
    let json: Value =
        serde_json::from_str(out.stdout_text().trim()).with_context(|| out.describe())?;
    Ok(json["api_key"].as_str().context("no api_key")?.to_string())
}

//! HTTPS with the generated CA, and the configuration layers (R-IF-1): defaults < file <
//! `ARCA_*` environment < flags.

use super::*;

/// An address no local socket can bind (TEST-NET-1): a server told to listen there cannot
/// start, so a test that still sees the server answering proves another layer won.
const UNBINDABLE: &str = "192.0.2.1:9";

/// R-IF-1: `--tls-self-signed` prints the CA path; clients trusting it reach the server,
/// others do not; the CA survives a restart.
#[tokio::test]
async fn tls_self_signed_is_trusted_only_with_the_printed_ca() -> Result<()> {
    let mut server = Server::builder().tls_self_signed().start().await?;
    assert!(server.base_url().starts_with("https://127.0.0.1:"));
    let ca = server
        .ca_file()
        .context("no CA path printed")?
        .to_path_buf();
    assert!(
        server
            .stdout()
            .contains(&format!("--ca-file {}", ca.display())),
        "{}",
        server.stdout()
    );
    assert!(ca.starts_with(server.data_dir()), "{}", ca.display());
    let pem = std::fs::read_to_string(&ca)?;
    assert!(pem.contains("BEGIN CERTIFICATE"), "{pem}");

    let trusting = ArcaClient::builder(server.base_url())
        .ca_file(Some(ca.clone()))
        .build()?;
    assert!(trusting.health().await?.is_ok());

    let untrusting = ArcaClient::builder(server.base_url()).build()?;
    match untrusting.health().await {
        Err(e @ ClientError::Transport { .. }) => {
            let text = e.to_string().to_lowercase();
            assert!(text.contains("certificate"), "unclear TLS error: {e}");
        }
        other => panic!("a client not trusting the CA got {other:?}"),
    }

    // Plain HTTP to the HTTPS port gets no healthz answer.
    let plain = reqwest::Client::new()
        .get(format!("http://{}/healthz", server.addr()))
        .timeout(Duration::from_secs(5))
        .send()
        .await;
    assert!(
        !plain.as_ref().is_ok_and(|r| r.status() == 200),
        "{plain:?}"
    );

    server.restart().await?;
    assert_eq!(std::fs::read_to_string(&ca)?, pem, "the CA changed");
    let trusting = ArcaClient::builder(server.base_url())
        .ca_file(Some(ca))
        .build()?;
    assert!(trusting.health().await?.is_ok());
    Ok(())
}

// Configuration layers (R-IF-1): defaults < file < ARCA_* env < flags

/// R-IF-1: `ARCA_LISTEN` alone sets the listen address.
#[tokio::test]
async fn listen_address_from_the_environment() -> Result<()> {
    let server = Server::builder().listen(Listen::Env).start().await?;
    assert!(server.client().health().await?.is_ok());
    assert!(
        server
            .stdout()
            .contains(&format!("listening on {}", server.base_url())),
        "{}",
        server.stdout()
    );
    Ok(())
}

/// R-IF-1: a `--config` TOML file sets the listen address and the log format.
#[tokio::test]
async fn listen_address_and_log_format_from_a_config_file() -> Result<()> {
    let server = Server::builder()
        .listen(Listen::ConfigFile)
        .config_toml("log_format = \"json\"")
        .start()
        .await?;
    assert!(server.client().health().await?.is_ok());
    server
        .wait_for_log("server started", Duration::from_secs(10))
        .await?;
    let log = server.stderr();
    let lines: Vec<&str> = log.lines().filter(|l| !l.trim().is_empty()).collect();
    assert!(!lines.is_empty());
    for line in lines {
        let json: Value = serde_json::from_str(line)
            .with_context(|| format!("log_format=json from the file ignored: {line:?}"))?;
        assert!(json.get("level").is_some(), "{json}");
    }
    Ok(())
}

/// R-IF-1: the environment overrides the config file.
#[tokio::test]
async fn environment_overrides_the_config_file() -> Result<()> {
    let server = Server::builder()
        .listen(Listen::Env)
        .config_toml(format!("listen = \"{UNBINDABLE}\""))
        .start()
        .await?;
    assert!(server.client().health().await?.is_ok());
    Ok(())
}

/// R-IF-1: flags override the environment.
#[tokio::test]
async fn flags_override_the_environment() -> Result<()> {
    let server = Server::builder()
        .listen(Listen::Flag)
        .env("ARCA_LISTEN", UNBINDABLE)
        .env("ARCA_LOG_FORMAT", "json")
        .arg("--log-format")
        .arg("text")
        .start()
        .await?;
    assert!(server.client().health().await?.is_ok());
    let log = server.log();
    assert!(log.lines().any(|l| l.contains("server started")), "{log}");
    assert!(
        log.lines().all(|l| !l.trim_start().starts_with('{')),
        "--log-format text lost to ARCA_LOG_FORMAT:\n{log}"
    );
    Ok(())
}

/// R-IF-1: a missing config file or a bad value is a clear startup error.
#[test]
fn bad_configuration_fails_clearly() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let data = dir.path().join("data");
    let missing = dir.path().join("missing.toml");
    let mut args = vec!["--data-dir".to_string(), data.display().to_string()];
    args.extend(["--config".to_string(), missing.display().to_string()]);
    let out = run_server_command(&args)?;
    assert!(!out.success(), "{}", out.describe());
    let err = out.stderr_text();
    assert!(
        err.contains("missing.toml") && err.contains("does not exist"),
        "{err}"
    );

    let bad = dir.path().join("bad.toml");
    std::fs::write(&bad, "listen = \"not an address\"\n")?;
    let out = run_server_command([
        "--data-dir",
        &data.display().to_string(),
        "--config",
        &bad.display().to_string(),
    ])?;
    assert!(!out.success(), "{}", out.describe());
    assert!(out.stderr_text().contains("listen"), "{}", out.describe());
    Ok(())
}

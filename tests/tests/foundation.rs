//! Foundation end-to-end tests (R-IF-1, R-IF-3, R-KEY-5, R-KEY-8): a real `arca-server`
//! process on an empty data dir, restarts, signals, the bootstrap command, HTTPS with the
//! generated CA, configuration layers, the `arca` CLI, and no secret in the logs.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use anyhow::{ensure, Context, Result};
use arca_client::{ArcaClient, ClientError};
use arca_tests::text::{api_keys_in, is_api_key, KEY_PREFIX};
use arca_tests::{bootstrap, run_server_command, Cli, Listen, Output, Server};
use serde_json::Value;

/// An address no local socket can bind (TEST-NET-1): a server told to listen there cannot
/// start, so a test that still sees the server answering proves another layer won.
const UNBINDABLE: &str = "192.0.2.1:9";

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

fn assert_success(out: &Output, what: &str) {
    assert!(out.success(), "{what} failed\n{}", out.describe());
}

// ---------------------------------------------------------------------------------------------
// First start, health, metrics, errors (R-IF-1)
// ---------------------------------------------------------------------------------------------

/// R-IF-1, R-KEY-5: the first start on an empty data dir creates `demo` and prints its owner's
/// key (with the recognizable prefix) once, with how to log in.
#[tokio::test]
async fn first_start_prints_a_key_and_how_to_log_in() -> Result<()> {
    let server = Server::start().await?;
    let out = server.stdout();
    let key = server.key();
    assert!(key.starts_with(KEY_PREFIX), "key {key:?}");
    assert!(is_api_key(key), "key {key:?} has an unexpected shape");
    assert!(
        out.contains("org 'demo'") && out.contains("admin@localhost"),
        "{out}"
    );
    let login = format!(
        "arca config set --url {} --org demo --api-key {key}",
        server.base_url()
    );
    assert!(out.contains(&login), "no CLI login line {login:?} in\n{out}");
    assert!(out.contains("$oauthtoken"), "no docker login hint in\n{out}");
    assert!(
        out.contains(&format!("listening on {}", server.base_url())),
        "{out}"
    );
    // The key line is the only line that is the key; every key printed is the same key.
    for printed in api_keys_in(&out) {
        assert_eq!(printed, key, "another key was printed:\n{out}");
    }
    Ok(())
}

/// R-IF-1: liveness and readiness endpoints.
#[tokio::test]
async fn healthz_and_readyz_answer() -> Result<()> {
    let server = Server::start().await?;

    let res = get(&server, "/healthz").await?;
    assert_eq!(res.status(), 200);
    assert!(
        header(&res, "content-type").is_some_and(|c| c.starts_with("application/json")),
        "{:?}",
        res.headers()
    );
    let body: Value = res.json().await?;
    assert_eq!(body, serde_json::json!({"status": "ok"}));

    let (status, body) = get_json(&server, "/readyz").await?;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["status"], "ready", "{body}");

    // The typed client reads the same endpoint.
    assert!(server.client().health().await?.is_ok());
    Ok(())
}

/// R-IF-1: Prometheus metrics count the requests served.
#[tokio::test]
async fn metrics_count_requests() -> Result<()> {
    let server = Server::start().await?;
    assert_eq!(get(&server, "/healthz").await?.status(), 200);
    assert_eq!(get(&server, "/healthz").await?.status(), 200);
    assert_eq!(get(&server, "/no/such/route").await?.status(), 404);

    let res = get(&server, "/metrics").await?;
    assert_eq!(res.status(), 200);
    assert!(
        header(&res, "content-type").is_some_and(|c| c.starts_with("text/plain")),
        "{:?}",
        res.headers()
    );
    let text = res.text().await?;
    assert!(text.contains("arca_http_requests_total"), "{text}");
    let healthz = counter(
        &text,
        "arca_http_requests_total",
        &[r#"method="GET""#, r#"route="/healthz""#, r#"status="200""#],
    );
    assert!(
        healthz.is_some_and(|n| n >= 2.0),
        "expected >= 2 healthz requests, got {healthz:?} in\n{text}"
    );
    let not_found = counter(&text, "arca_http_requests_total", &[r#"status="404""#]);
    assert!(
        not_found.is_some_and(|n| n >= 1.0),
        "404 not counted:\n{text}"
    );
    assert!(
        text.contains("arca_http_request_duration_seconds"),
        "no latency histogram in\n{text}"
    );
    Ok(())
}

/// R-IF-2: an unknown path is a JSON 404 in NGC's shape whose request id is also the
/// `x-request-id` header.
#[tokio::test]
async fn unknown_path_is_an_ngc_json_404_with_a_request_id() -> Result<()> {
    let server = Server::start().await?;
    let res = get(&server, "/definitely/not/a/route").await?;
    assert_eq!(res.status(), 404);
    assert!(
        header(&res, "content-type").is_some_and(|c| c.starts_with("application/json")),
        "{:?}",
        res.headers()
    );
    let header_id = header(&res, "x-request-id")
        .context("no x-request-id header")?
        .to_string();
    assert!(!header_id.is_empty());
    let body: Value = res.json().await?;
    let status = &body["requestStatus"];
    assert_eq!(status["statusCode"], "NOT_FOUND", "{body}");
    assert_eq!(status["requestId"], header_id.as_str(), "{body}");
    assert!(
        status["statusDescription"]
            .as_str()
            .is_some_and(|d| !d.is_empty()),
        "{body}"
    );

    // Every response carries a request id, and each request gets its own.
    let other = get(&server, "/definitely/not/a/route").await?;
    let other_id = header(&other, "x-request-id").context("no x-request-id")?;
    assert_ne!(other_id, header_id);
    let ok = get(&server, "/healthz").await?;
    assert!(header(&ok, "x-request-id").is_some_and(|v| !v.is_empty()));

    // arca-client turns the body into a typed error.
    match server.client().get_json::<Value>("/nope").await {
        Err(ClientError::Api {
            status,
            code,
            request_id,
            ..
        }) => {
            assert_eq!(status, 404);
            assert_eq!(code.as_deref(), Some("NOT_FOUND"));
            assert!(request_id.is_some_and(|id| !id.is_empty()));
        }
        other => panic!("expected a 404 API error, got {other:?}"),
    }
    Ok(())
}

/// R-IF-1: a caller's `X-Request-Id` is echoed (header and body) and logged; an unsafe one is
/// replaced.
#[tokio::test]
async fn caller_request_id_is_echoed() -> Result<()> {
    let server = Server::start().await?;
    let id = "e2e-caller-id_42";
    let res = server
        .http()
        .get(server.url("/no-such-thing"))
        .header("X-Request-Id", id)
        .send()
        .await?;
    assert_eq!(res.status(), 404);
    assert_eq!(header(&res, "x-request-id"), Some(id));
    let body: Value = res.json().await?;
    assert_eq!(body["requestStatus"]["requestId"], id, "{body}");

    let res = server
        .http()
        .get(server.url("/healthz"))
        .header("X-Request-Id", id)
        .send()
        .await?;
    assert_eq!(header(&res, "x-request-id"), Some(id));
    server
        .wait_for_log(&format!("request_id={id}"), Duration::from_secs(10))
        .await?;

    // An id that could forge log lines or is absurdly long is not taken over.
    for unsafe_id in ["has spaces and \"quotes\"", &"x".repeat(200)] {
        let res = server
            .http()
            .get(server.url("/healthz"))
            .header("X-Request-Id", unsafe_id)
            .send()
            .await?;
        let got = header(&res, "x-request-id").context("no x-request-id")?;
        assert!(!got.is_empty() && got != unsafe_id, "{got:?}");
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Restarts and signals (R-IF-1)
// ---------------------------------------------------------------------------------------------

/// R-IF-1: a restart on the same data dir prints no new key and keeps serving.
#[tokio::test]
async fn restart_prints_no_new_key_and_keeps_serving() -> Result<()> {
    let mut server = Server::start().await?;
    let key = server.key().to_string();
    assert!(server.data_dir().join("arca.db").is_file());

    server.restart().await?;
    assert_eq!(server.runs().len(), 2);
    let out = server.stdout();
    assert_eq!(server.printed_key(), None, "a new key was printed:\n{out}");
    assert!(
        !out.contains(KEY_PREFIX),
        "the restart printed a key:\n{out}"
    );
    assert!(!out.contains("First start"), "{out}");
    assert_eq!(server.key(), key, "the harness keeps the first key");
    assert!(server.client().health().await?.is_ok());
    let (status, body) = get_json(&server, "/readyz").await?;
    assert_eq!(status, 200, "{body}");

    // And once more, after a crash.
    server.sigkill()?;
    server.restart().await?;
    assert_eq!(server.printed_key(), None, "{}", server.describe());
    assert!(server.client().health().await?.is_ok());
    Ok(())
}

/// R-IF-1: SIGTERM shuts the server down gracefully: exit status 0, and the log says so.
#[tokio::test]
async fn sigterm_exits_cleanly_and_logs_the_shutdown() -> Result<()> {
    let mut server = Server::start().await?;
    assert_eq!(get(&server, "/healthz").await?.status(), 200);
    let addr = server.addr();
    let status = server.sigterm().await?;
    assert!(
        status.success(),
        "exit status {status}\n{}",
        server.describe()
    );
    assert!(!server.is_running());
    let log = server.log();
    assert!(
        log.contains("server stopped"),
        "the log does not say the server stopped:\n{log}"
    );
    assert!(
        log.contains("graceful shutdown"),
        "the log does not mention the graceful shutdown:\n{log}"
    );
    // The port is closed.
    let refused = reqwest::Client::new()
        .get(format!("http://{addr}/healthz"))
        .timeout(Duration::from_secs(5))
        .send()
        .await;
    assert!(refused.is_err(), "still answering after exit: {refused:?}");
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// The bootstrap command (R-TEN-1)
// ---------------------------------------------------------------------------------------------

/// Every file under `dir` with its contents, to check that a command changed nothing.
fn snapshot(dir: &Path) -> Result<BTreeMap<String, Vec<u8>>> {
    let mut files = BTreeMap::new();
    if !dir.exists() {
        return Ok(files);
    }
    let mut stack = vec![dir.to_path_buf()];
    while let Some(current) = stack.pop() {
        for entry in std::fs::read_dir(&current)? {
            let path = entry?.path();
            if path.is_dir() {
                stack.push(path);
            } else {
                let name = path.strip_prefix(dir)?.display().to_string();
                files.insert(name, std::fs::read(&path)?);
            }
        }
    }
    Ok(files)
}

/// R-TEN-1: `bootstrap --json` prints exactly one JSON object with the org, the owner and a
/// key; the key goes to stdout only.
#[test]
fn bootstrap_prints_exactly_one_json_object() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let data = dir.path().join("data");
    let out = bootstrap(&data, "acme", "a@b.io")?;
    assert_success(&out, "bootstrap");
    let stdout = out.stdout_text();
    // `from_str` rejects anything after the first value.
    let json: Value = serde_json::from_str(stdout.trim())
        .with_context(|| format!("stdout is not one JSON value: {stdout:?}"))?;
    let obj = json.as_object().context("not an object")?;
    assert_eq!(json["org"], "acme", "{json}");
    assert_eq!(json["user"], "a@b.io", "{json}");
    let key = json["api_key"].as_str().context("no api_key")?;
    assert!(is_api_key(key), "{key:?}");
    assert_eq!(
        obj.keys().map(String::as_str).collect::<Vec<_>>(),
        ["api_key", "org", "user"],
        "{json}"
    );
    assert_eq!(stdout.trim().lines().count(), 1, "{stdout:?}");
    assert!(!out.stderr_text().contains(key), "{}", out.describe());

    // Every bootstrap makes a new, different key.
    let other = bootstrap(&data, "beta", "a@b.io")?;
    assert_success(&other, "second org");
    let other: Value = serde_json::from_str(other.stdout_text().trim())?;
    assert_ne!(other["api_key"].as_str(), Some(key));
    Ok(())
}

/// R-TEN-1: bootstrapping an org that exists fails with a clear message and prints no key.
#[test]
fn bootstrap_of_an_existing_org_fails_clearly() -> Result<()> {
    let dir = tempfile::tempdir()?;
    assert_success(&bootstrap(dir.path(), "acme", "a@b.io")?, "first bootstrap");
    let before = snapshot(dir.path())?;

    let again = bootstrap(dir.path(), "acme", "other@b.io")?;
    assert!(!again.success(), "{}", again.describe());
    assert_eq!(again.status.code(), Some(1), "{}", again.describe());
    let err = again.stderr_text();
    assert!(
        err.contains("acme") && err.contains("already exists"),
        "unclear message: {err}"
    );
    assert!(
        !again.stdout_text().contains(KEY_PREFIX),
        "{}",
        again.describe()
    );
    let after = snapshot(dir.path())?;
    assert_eq!(
        before.keys().collect::<Vec<_>>(),
        after.keys().collect::<Vec<_>>()
    );
    Ok(())
}

/// R-TEN-1, R-TEN-7: an invalid org id or email is refused with a clear message and changes
/// nothing (a fresh data dir is not even created).
#[test]
fn bootstrap_rejects_invalid_org_or_email_and_changes_nothing() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let fresh = dir.path().join("fresh");
    let cases: [(&str, &str, &[&str]); 5] = [
        ("Acme", "a@b.io", &["--org", "lowercase"]),
        ("acme", "not-an-email", &["--owner-email", "not-an-email"]),
        ("acme", "", &["--owner-email"]),
        ("v2", "a@b.io", &["--org", "reserved"]),
        ("", "a@b.io", &["--org"]),
    ];
    for (org, email, expected) in cases {
        let out = bootstrap(&fresh, org, email)?;
        assert!(!out.success(), "{org:?}/{email:?} accepted\n{}", out.describe());
        let err = out.stderr_text();
        for word in expected {
            assert!(
                err.contains(word),
                "{org:?}/{email:?}: message lacks {word:?}: {err}"
            );
        }
        assert!(!out.stdout_text().contains(KEY_PREFIX), "{}", out.describe());
        assert!(!fresh.exists(), "{org:?}/{email:?} created the data dir");
    }

    // On an existing data dir, nothing changes either.
    let data = dir.path().join("data");
    assert_success(&bootstrap(&data, "acme", "a@b.io")?, "bootstrap");
    let before = snapshot(&data)?;
    for (org, email, _) in cases {
        let out = bootstrap(&data, org, email)?;
        assert!(!out.success(), "{}", out.describe());
    }
    assert!(before == snapshot(&data)?, "a refused bootstrap changed files");
    // The refused `acme`/`not-an-email` did not half-create anything: `other` is still free.
    assert_success(&bootstrap(&data, "other", "c@d.io")?, "a valid org afterwards");
    Ok(())
}

/// R-IF-1: a server on a data dir prepared by `bootstrap` does not create the demo org.
#[tokio::test]
async fn server_on_a_bootstrapped_data_dir_prints_no_demo_key() -> Result<()> {
    let dir = tempfile::tempdir()?;
    assert_success(&bootstrap(dir.path(), "acme", "a@b.io")?, "bootstrap");
    let server = Server::builder().data_dir(dir.path()).start().await?;
    assert_eq!(server.printed_key(), None, "{}", server.describe());
    assert!(server.try_key().is_none());
    assert!(server.client().health().await?.is_ok());
    Ok(())
}

/// R-IF-1: `--no-bootstrap` leaves an empty store empty; a later normal start bootstraps.
#[tokio::test]
async fn no_bootstrap_flag_prints_no_key() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let mut server = Server::builder()
        .data_dir(dir.path())
        .no_bootstrap()
        .start()
        .await?;
    assert_eq!(server.printed_key(), None, "{}", server.describe());
    assert!(server.sigterm().await?.success());
    drop(server);

    let server = Server::builder().data_dir(dir.path()).start().await?;
    assert!(server.printed_key().is_some(), "{}", server.describe());
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// HTTPS with the generated CA (R-IF-1)
// ---------------------------------------------------------------------------------------------

/// R-IF-1: `--tls-self-signed` prints the CA path; clients trusting it reach the server,
/// others do not; the CA survives a restart.
#[tokio::test]
async fn tls_self_signed_is_trusted_only_with_the_printed_ca() -> Result<()> {
    let mut server = Server::builder().tls_self_signed().start().await?;
    assert!(server.base_url().starts_with("https://127.0.0.1:"));
    let ca = server.ca_file().context("no CA path printed")?.to_path_buf();
    assert!(
        server.stdout().contains(&format!("--ca-file {}", ca.display())),
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

// ---------------------------------------------------------------------------------------------
// Configuration layers (R-IF-1): defaults < file < ARCA_* env < flags
// ---------------------------------------------------------------------------------------------

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
    assert!(
        log.lines().any(|l| l.contains("server started")),
        "{log}"
    );
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

// ---------------------------------------------------------------------------------------------
// The `arca` CLI against a live server (R-IF-3)
// ---------------------------------------------------------------------------------------------

/// R-IF-3: `arca health` exits 0 against a live server and 2 when nothing listens.
#[tokio::test]
async fn cli_health_against_a_live_server() -> Result<()> {
    let mut server = Server::start().await?;
    let cli = Cli::new()?;
    let out = cli.run(["--url", &server.base_url(), "health"])?;
    assert_success(&out, "arca health");
    assert!(out.stdout_text().contains("ok"), "{}", out.describe());

    let out = cli.run([
        "--url",
        &server.base_url(),
        "--format_type",
        "json",
        "health",
    ])?;
    assert_success(&out, "arca health --format_type json");
    let json: Value = serde_json::from_str(&out.stdout_text())
        .with_context(|| out.describe())?;
    assert!(json.to_string().contains("\"ok\""), "{json}");

    let base = server.base_url();
    server.sigterm().await?;
    let out = cli.run(["--url", &base, "health"])?;
    assert_eq!(out.status.code(), Some(2), "{}", out.describe());
    assert!(
        out.stderr_text().contains("cannot connect"),
        "{}",
        out.describe()
    );
    Ok(())
}

/// R-IF-3: `arca health` over HTTPS works with `--ca-file` and fails without it.
#[tokio::test]
async fn cli_health_over_tls_needs_the_ca() -> Result<()> {
    let server = Server::builder().tls_self_signed().start().await?;
    let ca = server.ca_file().context("no CA")?.display().to_string();
    let cli = Cli::new()?;
    let out = cli.run(["--url", &server.base_url(), "--ca-file", &ca, "health"])?;
    assert_success(&out, "arca health --ca-file");
    let out = cli.run(["--url", &server.base_url(), "health"])?;
    assert_eq!(out.status.code(), Some(2), "{}", out.describe());
    Ok(())
}

/// R-IF-3, R-KEY-5: `arca config set` saves the first-start key; `config current` shows it
/// masked.
#[tokio::test]
async fn cli_config_set_then_current_masks_the_key() -> Result<()> {
    let server = Server::start().await?;
    let key = server.key();
    let cli = Cli::new()?;
    let out = cli.run([
        "config",
        "set",
        "--url",
        &server.base_url(),
        "--org",
        "demo",
        "--api-key",
        key,
    ])?;
    assert_success(&out, "arca config set");
    assert!(!out.stdout_text().contains(key), "{}", out.describe());
    let file = cli.config_dir().join("arca").join("config.toml");
    assert!(file.is_file(), "no config file at {}", file.display());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&file)?.permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "config file mode {mode:o}");
    }

    let out = cli.run(["config", "current", "--format_type", "json"])?;
    assert_success(&out, "arca config current");
    let stdout = out.stdout_text();
    assert!(!stdout.contains(key), "the full key is shown:\n{stdout}");
    let rows: Vec<Value> = serde_json::from_str(&stdout).with_context(|| out.describe())?;
    let value_of = |name: &str| {
        rows.iter()
            .find(|r| r["key"] == name)
            .map(|r| (r["value"].clone(), r["source"].clone()))
    };
    let masked = format!("****{}", &key[key.len() - 4..]);
    assert_eq!(
        value_of("api_key"),
        Some((Value::from(masked), Value::from("file"))),
        "{stdout}"
    );
    assert_eq!(
        value_of("org"),
        Some((Value::from("demo"), Value::from("file")))
    );
    assert_eq!(
        value_of("url").map(|v| v.0),
        Some(Value::from(server.base_url()))
    );

    // The saved URL is used by later commands.
    assert_success(&cli.run(["health"])?, "arca health with the saved URL");
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// No secret in the logs (R-KEY-5, R-KEY-8)
// ---------------------------------------------------------------------------------------------

/// R-KEY-8: the first-start key appears on stdout in the banner only, never in the logs,
/// whatever requests carry it and across restarts, a crash and a shutdown.
#[tokio::test]
async fn the_api_key_never_appears_in_the_logs() -> Result<()> {
    let mut server = Server::builder()
        .env("ARCA_LOG", "debug")
        .start()
        .await?;
    let key = server.key().to_string();
    let client = server.client();

    // The key travels in every place a client might put it.
    for path in ["/healthz", "/readyz", "/metrics", "/no/such/path", "/v2/", "/v2/orgs"] {
        let _ = client.get_json::<Value>(path).await;
        let _ = server
            .http()
            .get(server.url(path))
            .basic_auth("$oauthtoken", Some(&key))
            .send()
            .await?;
    }
    let _ = server
        .http()
        .get(server.url(&format!("/no/such/path?api_key={key}&token={key}")))
        .send()
        .await?;
    let _ = server
        .http()
        .post(server.url("/token"))
        .header("X-Api-Key", &key)
        .body(format!("password={key}"))
        .send()
        .await?;
    let cli = Cli::new()?.for_server(&server);
    assert_success(&cli.run(["health"])?, "arca health");
    assert_success(
        &cli.run(["config", "set", "--api-key", &key, "--org", "demo"])?,
        "arca config set",
    );

    server.restart().await?;
    let _ = client.get_json::<Value>("/no/such/path").await;
    server.sigkill()?;
    server.restart().await?;
    let _ = server.client().get_json::<Value>("/v2/orgs").await;
    let status = server.sigterm().await?;
    assert!(status.success(), "{}", server.describe());

    let runs = server.runs();
    assert_eq!(runs.len(), 3);
    for (i, run) in runs.iter().enumerate() {
        let log = run.stderr();
        assert!(
            log.contains("request served"),
            "run {i}: no request was logged, so this test proves nothing:\n{log}"
        );
        assert!(
            !log.contains(&key),
            "run {i}: the API key is in the logs:\n{log}"
        );
        assert!(
            api_keys_in(&log).is_empty(),
            "run {i}: something key-shaped is in the logs:\n{log}"
        );
        if i > 0 {
            assert!(
                !run.stdout().contains(&key),
                "run {i}: the key was printed again:\n{}",
                run.stdout()
            );
        }
    }
    // The banner (stdout of the first start) is the one place the key is shown.
    assert!(runs[0].stdout().contains(&key));
    Ok(())
}

/// R-KEY-8: a key made by `bootstrap` and used against the server never shows in its output.
#[tokio::test]
async fn bootstrap_keys_never_reach_the_server_logs() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let out = bootstrap(dir.path(), "acme", "a@b.io")?;
    assert_success(&out, "bootstrap");
    let json: Value = serde_json::from_str(out.stdout_text().trim())?;
    let key = json["api_key"].as_str().context("no key")?.to_string();
    let mut server = Server::builder()
        .data_dir(dir.path())
        .env("ARCA_LOG", "debug")
        .start()
        .await?;
    let client = server.client_builder().api_key(Some(key.clone())).build()?;
    for path in ["/healthz", "/v2/orgs", "/no/such/path"] {
        let _ = client.get_json::<Value>(path).await;
    }
    ensure!(server.sigterm().await?.success(), "{}", server.describe());
    let all = format!("{}{}", server.stdout(), server.stderr());
    assert!(!all.contains(&key), "the key leaked:\n{all}");
    Ok(())
}

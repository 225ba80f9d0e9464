//! First start, health, readiness, metrics, errors, restarts and signals (R-IF-1).

use super::*;

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
    assert!(
        out.contains(&login),
        "no CLI login line {login:?} in\n{out}"
    );
    assert!(
        out.contains("$oauthtoken"),
        "no docker login hint in\n{out}"
    );
    assert!(
        out.contains(&format!("listening on {}", server.base_url())),
        "{out}"
    );
    // The key line is the only line that is the key; every key printed is the same key.
    for printed in api_keys_in(&out) {
        assert_eq!(printed, key, "another key was printed:\n{out}");
    }
    // The key works: it is admin@localhost's, owner of demo.
    let (email, roles) = whoami(&server.client()).await?;
    assert_eq!(email, "admin@localhost");
    assert_eq!(
        roles.get("demo").map(Vec::as_slice),
        Some(&["ORG_OWNER".to_string()][..])
    );
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

/// R-IF-1, R-KEY-8: Prometheus metrics count the requests served and failed
/// authentications.
#[tokio::test]
async fn metrics_count_requests() -> Result<()> {
    let server = Server::start().await?;
    assert_eq!(get(&server, "/healthz").await?.status(), 200);
    assert_eq!(get(&server, "/healthz").await?.status(), 200);
    assert_eq!(get(&server, "/no/such/route").await?.status(), 404);
    // No key on an authenticated route.
    assert_eq!(get(&server, "/v2/orgs").await?.status(), 401);

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
    let unauthenticated = counter(&text, "arca_auth_failures_total", &[r#"status="401""#]);
    assert!(
        unauthenticated.is_some_and(|n| n >= 1.0),
        "the 401 is not counted as an authentication failure:\n{text}"
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

// Restarts and signals (R-IF-1)

/// R-IF-1: a restart on the same data dir prints no new key and keeps serving.
#[tokio::test]
async fn restart_prints_no_new_key_and_keeps_serving() -> Result<()> {
    let mut server = Server::start().await?;
    let key = server.key().to_string();
    assert!(server.data_dir().join("arca.db").is_file());
    assert_eq!(whoami(&server.client()).await?.0, "admin@localhost");

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
    // The first key still works, and the store still has one org.
    assert_eq!(whoami(&server.client()).await?.0, "admin@localhost");
    assert_eq!(org_names(&server.client()).await?, ["demo"]);

    // And once more, after a crash.
    server.sigkill()?;
    server.restart().await?;
    assert_eq!(server.printed_key(), None, "{}", server.describe());
    assert!(server.client().health().await?.is_ok());
    assert_eq!(whoami(&server.client()).await?.0, "admin@localhost");
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

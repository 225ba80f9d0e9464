//! No secret in the logs (R-KEY-5, R-KEY-8).

use super::*;

/// R-KEY-8: the first-start key appears on stdout in the banner only, never in the logs,
/// whatever requests carry it and across restarts, a crash and a shutdown.
#[tokio::test]
async fn the_api_key_never_appears_in_the_logs() -> Result<()> {
    // The most verbose level: whatever the server or its libraries log, no key may be in it.
    let mut server = Server::builder().env("ARCA_LOG", "trace").start().await?;
    let key = server.key().to_string();
    let client = server.client_builder().org(Some("demo".into())).build()?;
    // A key of the right shape that the server does not know: failed authentications must
    // not log what was presented either.
    let wrong_key = format!("{KEY_PREFIX}{}", "W".repeat(50));
    let wrong = server.client_builder().api_key(Some(wrong_key)).build()?;

    // Keys made and rotated through the API are secrets too.
    let created = client
        .create_personal_key(&PersonalKeyRequest::new("e2e-log-check"))
        .await?;
    let rotated = client.rotate_key(&created.key.id).await?;
    let mut secrets = vec![
        key.clone(),
        created.secret.expose_secret().to_string(),
        rotated.secret.expose_secret().to_string(),
    ];
    assert_ne!(secrets[1], secrets[2], "rotation kept the secret");

    // The key travels in every place a client might put it.
    for path in [
        "/healthz",
        "/readyz",
        "/metrics",
        "/no/such/path",
        "/v2/",
        "/v2/orgs",
        "/v2/users/me",
        "/v2/org/demo/users",
        "/v3/keys",
        "/token?service=arca&scope=repository:demo/x:pull",
    ] {
        let _ = client.get_json::<Value>(path).await;
        let _ = wrong.get_json::<Value>(path).await;
        for secret in [&key, &secrets[2]] {
            let _ = server
                .http()
                .get(server.url(path))
                .basic_auth("$oauthtoken", Some(secret))
                .send()
                .await?;
        }
    }
    let _ = server
        .http()
        .post(server.url("/v3/keys/get-caller-info"))
        .form(&[("credentials", key.as_str())])
        .send()
        .await?;
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
    let _ = client.get_json::<Value>("/v2/users/me").await;
    server.sigkill()?;
    server.restart().await?;
    let _ = server.client().get_json::<Value>("/v2/orgs").await;
    let status = server.sigterm().await?;
    assert!(status.success(), "{}", server.describe());

    let runs = server.runs();
    assert_eq!(runs.len(), 3);
    secrets.push(format!("{KEY_PREFIX}{}", "W".repeat(50)));
    for (i, run) in runs.iter().enumerate() {
        let log = run.stderr();
        assert!(
            log.contains("request served"),
            "run {i}: no request was logged, so this test proves nothing:\n{log}"
        );
        for secret in &secrets {
            let leaks = lines_with_keys(&log, secret);
            assert!(
                leaks.is_empty(),
                "run {i}: key material in the logs (shown as <KEY>):\n{}",
                leaks.join("\n")
            );
        }
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
    let key = bootstrap_key(&bootstrap(dir.path(), "acme", "a@b.io")?)?;
    let mut server = Server::builder()
        .data_dir(dir.path())
        .env("ARCA_LOG", "debug")
        .start()
        .await?;
    let client = server.client_builder().api_key(Some(key.clone())).build()?;
    assert_eq!(whoami(&client).await?.0, "a@b.io");
    for path in [
        "/healthz",
        "/v2/orgs",
        "/v2/org/acme/users",
        "/no/such/path",
    ] {
        let _ = client.get_json::<Value>(path).await;
    }
    ensure!(server.sigterm().await?.success(), "{}", server.describe());
    let all = format!("{}{}", server.stdout(), server.stderr());
    let leaks = lines_with_keys(&all, &key);
    assert!(leaks.is_empty(), "the key leaked:\n{}", leaks.join("\n"));
    Ok(())
}

//! The `arca` CLI against a live server (R-IF-3).

use super::*;

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
    let json: Value = serde_json::from_str(&out.stdout_text()).with_context(|| out.describe())?;
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

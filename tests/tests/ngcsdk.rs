//! NVIDIA's official `ngcsdk` (installed from PyPI into the repository's `.venv` by
//! `scripts/install-test-deps.sh`) talks to a live Arca over HTTPS with the test CA: configure
//! with an Arca key and org, list orgs, create and list teams, list users, read `users/me`
//! roles (issue: tenancy and keys).

use arca_tests::bins::workspace_root;
use arca_tests::process::run_bounded;
use arca_tests::server::Server;
use std::process::Command;
use std::time::Duration;

fn venv_python() -> std::path::PathBuf {
    let python = workspace_root().join(".venv/bin/python");
    assert!(
        python.exists(),
        "{} is missing: run scripts/install-test-deps.sh (README's test command does)",
        python.display()
    );
    python
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ngcsdk_configures_and_reads_tenancy_over_https() {
    let python = venv_python();
    let server = Server::builder()
        .tls_self_signed()
        .start()
        .await
        .expect("start server");
    let ca = server
        .ca_file()
        .expect("the server printed its CA path")
        .to_path_buf();
    let home = tempfile::tempdir().expect("tempdir");
    let base = server.base_url();
    assert!(base.starts_with("https://"), "{base}");
    let mut cmd = Command::new(python);
    cmd.arg(workspace_root().join("tests/ngcsdk/tenancy.py"))
        .env("ARCA_KEY", server.key())
        .env("ARCA_ORG", "demo")
        .env("NGC_CLI_API_URL", &base)
        .env("NGC_CLI_AUTH_URL", &base)
        .env("NGC_CLI_HOME", home.path())
        .env("REQUESTS_CA_BUNDLE", &ca)
        .env("NGC_CLI_TRACE_DISABLE", "1")
        .env_remove("NGC_CLI_API_KEY")
        .env_remove("NGC_CLI_ORG");
    let out = run_bounded(&mut cmd, Duration::from_secs(120)).expect("run ngcsdk");
    assert!(out.success(), "ngcsdk script failed:\n{}", out.describe());
    let seen: serde_json::Value =
        serde_json::from_str(out.stdout_text().lines().last().unwrap_or_default())
            .unwrap_or_else(|e| panic!("script output is not JSON ({e}):\n{}", out.describe()));
    assert_eq!(seen["orgs"], serde_json::json!(["demo"]));
    assert_eq!(seen["me"], "admin@localhost");
    assert_eq!(seen["roles"]["demo"], serde_json::json!(["ORG_OWNER"]));
    assert!(seen["teams"]
        .as_array()
        .is_some_and(|t| t.iter().any(|n| n == "ngc-team")));
    assert_eq!(seen["users"], serde_json::json!(["admin@localhost"]));

    // The team ngcsdk created is really in Arca.
    let body: serde_json::Value = reqwest::Client::builder()
        .add_root_certificate(
            reqwest::Certificate::from_pem(&std::fs::read(&ca).expect("read CA")).expect("CA"),
        )
        .build()
        .expect("client")
        .get(format!("{base}/v2/org/demo/teams/ngc-team"))
        .bearer_auth(server.key())
        .send()
        .await
        .expect("request")
        .json()
        .await
        .expect("json");
    assert_eq!(body["team"]["description"], "made by ngcsdk");
}

/// Issue "models and resources": ngcsdk creates a model, uploads a version from a directory
/// with nested files — one larger than its 500,000,000-byte part size — with the first attempt
/// interrupted (one part PUT fails as a dropped connection would); the rerun completes sending
/// only that part; info, list, wildcard search, download byte for byte; the same round trip for
/// a resource.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ngcsdk_uploads_resumes_and_downloads_models_and_resources() {
    const BIG: u64 = 520_000_000;
    let python = venv_python();
    let server = Server::builder()
        .tls_self_signed()
        .start()
        .await
        .expect("start server");
    let ca = server
        .ca_file()
        .expect("the server printed its CA path")
        .to_path_buf();
    let home = tempfile::tempdir().expect("tempdir");
    let work = tempfile::tempdir().expect("tempdir");
    let base = server.base_url();
    let mut cmd = Command::new(python);
    cmd.arg(workspace_root().join("tests/ngcsdk/models.py"))
        .env("ARCA_KEY", server.key())
        .env("ARCA_ORG", "demo")
        .env("WORKDIR", work.path())
        .env("BIG_SIZE", BIG.to_string())
        .env("NGC_CLI_API_URL", &base)
        .env("NGC_CLI_AUTH_URL", &base)
        .env("NGC_CLI_HOME", home.path())
        .env("REQUESTS_CA_BUNDLE", &ca)
        .env("NGC_CLI_TRACE_DISABLE", "1")
        .env("NGC_CLI_UPLOAD_RETRIES", "1")
        .env_remove("NGC_CLI_API_KEY")
        .env_remove("NGC_CLI_ORG");
    let out = run_bounded(&mut cmd, Duration::from_secs(600)).expect("run ngcsdk");
    assert!(out.success(), "ngcsdk script failed:\n{}", out.describe());
    let seen: serde_json::Value =
        serde_json::from_str(out.stdout_text().lines().last().unwrap_or_default())
            .unwrap_or_else(|e| panic!("script output is not JSON ({e}):\n{}", out.describe()));
    let ctx = out.describe();

    // The interrupted first attempt did not complete; the rerun did, resending only the part
    // that failed (every other file was complete and is not sent again).
    assert_ne!(seen["first_status"], "completed", "{ctx}");
    assert_eq!(seen["second_status"], "completed", "{ctx}");
    let first: Vec<(String, u64, u64)> =
        serde_json::from_value(seen["first_puts"].clone()).expect("first puts");
    assert!(
        first
            .iter()
            .any(|p| p == &("big.bin".into(), 500_000_000, BIG)),
        "the large file travels in two parts: {first:?}"
    );
    let second: Vec<(String, u64, u64)> =
        serde_json::from_value(seen["second_puts"].clone()).expect("second puts");
    assert_eq!(
        second,
        vec![("big.bin".to_string(), 0, 500_000_000)],
        "the rerun must send only the part that failed"
    );

    assert_eq!(seen["model"]["name"], "ngc-model");
    assert_eq!(seen["model"]["latestVersionIdStr"], "1.0");
    assert!(
        seen["model"]["latestVersionId"].is_i64(),
        "{}",
        seen["model"]
    );
    assert_eq!(seen["model"]["displayName"], "NGC model");
    assert_eq!(seen["model"]["framework"], "PyTorch");
    let small: u64 = 10 + 15 + 3 * 1024 * 1024 + 7;
    assert_eq!(seen["version"]["status"], "UPLOAD_COMPLETE");
    assert_eq!(seen["version"]["totalFileCount"], 5);
    assert_eq!(seen["version"]["totalSizeInBytes"], BIG + small);
    assert_eq!(seen["version"]["gpuModel"], "A100");
    assert_eq!(seen["version"]["batchSize"], 8);
    assert_eq!(seen["versions"], serde_json::json!(["1.0"]));
    assert!(
        seen["search"]
            .as_array()
            .is_some_and(|s| s.iter().any(|x| x == "demo/ngc-model")),
        "wildcard list: {}",
        seen["search"]
    );
    assert_eq!(seen["download_status"], "completed", "{ctx}");
    assert_eq!(seen["download_matches"], true, "{}", seen["download_names"]);
    assert_eq!(seen["resource_upload_status"], "completed", "{ctx}");
    assert_eq!(seen["resource_version"]["status"], "UPLOAD_COMPLETE");
    assert_eq!(seen["resource_version"]["totalFileCount"], 2);
    assert_eq!(seen["resource_download_status"], "completed", "{ctx}");
    assert_eq!(seen["resource_download_matches"], true);

    // The bytes count once against the org's models-and-resources usage.
    let usage: serde_json::Value = reqwest::Client::builder()
        .add_root_certificate(
            reqwest::Certificate::from_pem(&std::fs::read(&ca).expect("read CA")).expect("CA"),
        )
        .build()
        .expect("client")
        .get(format!("{base}/v2/org/demo/usage"))
        .bearer_auth(server.key())
        .send()
        .await
        .expect("request")
        .json()
        .await
        .expect("json");
    let resource_bytes: u64 = 15 + 19;
    assert_eq!(
        usage["usage"]["modelsAndResources"]["used"],
        BIG + small + resource_bytes,
        "{usage}"
    );
}

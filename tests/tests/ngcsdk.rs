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

//! `arca key …` and the key check of `arca config set`, against a tiny HTTP server.

mod support;

use serde_json::{json, Value};
use support::*;

const ID: &str = "6f1c2a4e-8a7b-4c3d-9e2f-1a2b3c4d5e6f";
const SECRET: &str = "arca_pk_fresh-secret-0123456789";

fn key(kind: &str, active: bool) -> Value {
    json!({
        "id": ID, "name": "ci", "type": kind, "orgName": "acme", "userId": 7,
        "keyHint": "****6789", "services": ["PRIVATE_REGISTRY"], "scopes": [], "entity": null,
        "active": active, "expiresAt": "2026-01-01T00:00:00.000Z",
        "createdDate": "2025-01-01T00:00:00.000Z", "rotatedDate": null
    })
}

fn created(kind: &str) -> Value {
    json!({"key": key(kind, true), "apiKey": SECRET,
           "requestStatus": {"statusCode": "SUCCESS", "requestId": "r"}})
}

fn count(text: &str, needle: &str) -> usize {
    text.matches(needle).count()
}

#[test]
fn key_create_personal_prints_the_secret_once_and_never_logs_it() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(vec![("200 OK", created("PERSONAL_KEY"))]);
    let out = run(arca(dir.path(), &server.url).args([
        "key",
        "create",
        "ci",
        "--service",
        "PRIVATE_REGISTRY",
        "--debug",
        "--org",
        "acme",
    ]));
    assert_success(&out);
    let seen = server.next();
    assert_eq!(seen.route(), "POST /v3/keys/personal");
    assert_eq!(seen.header("content-type"), Some("application/json"));
    seen.assert_cli_headers(Some("acme"));
    assert_eq!(
        seen.json(),
        json!({"name": "ci", "expiry": "12mo", "services": ["PRIVATE_REGISTRY"]})
    );
    let text = stdout(&out);
    assert_eq!(count(&text, SECRET), 1, "{text}");
    assert!(text.starts_with("Personal key \"ci\" created.\n"), "{text}");
    assert!(
        text.ends_with(&format!(
            "API key secret (shown only this once; store it now, it cannot be displayed again):\n{SECRET}\n"
        )),
        "{text}"
    );
    let err = stderr(&out);
    assert!(err.contains("[debug] POST "), "{err}");
    assert!(!err.contains("fresh-secret") && !err.contains(KEY), "{err}");
}

#[test]
fn key_create_json_has_the_secret_as_a_field() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(vec![("200 OK", created("SERVICE_KEY"))]);
    let out = run(arca(dir.path(), &server.url).args([
        "key",
        "create",
        "pull",
        "--service-key",
        "--scope",
        "DOWNLOAD_CONTAINER",
        "--scope",
        "list_containers",
        "--entity-type",
        "SPECIFIC_CONTAINER",
        "--entity-value",
        "acme/web",
        "--expiry",
        "30d",
        "--format_type",
        "json",
    ]));
    assert_success(&out);
    let seen = server.next();
    assert_eq!(seen.route(), "POST /v3/keys/service");
    assert_eq!(
        seen.json(),
        json!({"name": "pull", "expiry": "30d",
               "scopes": ["DOWNLOAD_CONTAINER", "LIST_CONTAINERS"],
               "entityType": "SPECIFIC_CONTAINER", "entityValue": "acme/web"})
    );
    assert_eq!(count(&stdout(&out), SECRET), 1);
    let body = json_out(&out);
    assert_eq!(body["api_key"], SECRET);
    assert_eq!(body["id"], ID);
}

#[test]
fn key_create_legacy_and_bad_entities() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(vec![("200 OK", created("LEGACY_KEY"))]);
    let out = run(arca(dir.path(), &server.url).args([
        "key",
        "create",
        "--legacy",
        "--format_type",
        "csv",
    ]));
    assert_success(&out);
    let seen = server.next();
    assert_eq!(seen.route(), "POST /v3/keys/legacy");
    assert_eq!(seen.json(), json!({}));
    let text = stdout(&out);
    assert!(
        text.lines().next().is_some_and(|h| h.ends_with(",api_key")),
        "{text}"
    );
    assert_eq!(count(&text, SECRET), 1);

    // A specific entity type without a value: refused before any request.
    let out = run(arca(dir.path(), &server.url).args([
        "key",
        "create",
        "pull",
        "--service-key",
        "--scope",
        "ALL",
        "--entity-type",
        "SPECIFIC_MODEL",
    ]));
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("entity"), "{}", stderr(&out));
    server.assert_idle();
}

#[test]
fn key_delete_needs_yes_and_sends_delete() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(vec![(
        "200 OK",
        json!({"requestStatus": {"statusCode": "SUCCESS"}}),
    )]);
    let out = run(arca(dir.path(), &server.url).args(["key", "delete", ID]));
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        stderr(&out).trim(),
        format!(
            "Error: refusing to delete key {ID} without confirmation: stdin is not a terminal; \
             pass -y (--yes) to confirm"
        )
    );
    server.assert_idle();

    let out = run(arca(dir.path(), &server.url).args(["key", "delete", ID, "-y"]));
    assert_success(&out);
    let seen = server.next();
    assert_eq!(seen.route(), format!("DELETE /v3/keys/{ID}"));
    seen.assert_cli_headers(None);
    assert_eq!(stdout(&out), format!("Key {ID} deleted.\n"));
}

#[test]
fn key_list_activate_deactivate_rotate() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(vec![
        ("200 OK", json!({"keys": [key("PERSONAL_KEY", true)]})),
        ("200 OK", json!({"keys": []})),
        ("200 OK", json!({"key": key("PERSONAL_KEY", false)})),
        ("200 OK", json!({"key": key("PERSONAL_KEY", true)})),
        ("200 OK", created("PERSONAL_KEY")),
    ]);
    let out =
        run(arca(dir.path(), &server.url).args(["key", "list", "--all", "--format_type", "json"]));
    assert_success(&out);
    let seen = server.next();
    assert_eq!(seen.route(), "GET /v3/keys");
    assert_eq!(seen.query(), [("type".to_string(), "all".to_string())]);
    let rows = json_out(&out);
    assert_eq!(rows[0]["hint"], "****6789");
    assert_eq!(rows[0]["services"], json!(["PRIVATE_REGISTRY"]));

    let out = run(arca(dir.path(), &server.url).args(["key", "list"]));
    assert_success(&out);
    assert_eq!(
        server.next().query(),
        [("type".to_string(), "mine".to_string())]
    );

    let out = run(arca(dir.path(), &server.url).args(["key", "deactivate", ID]));
    assert_success(&out);
    let seen = server.next();
    assert_eq!(seen.route(), format!("PATCH /v3/keys/{ID}"));
    assert_eq!(seen.json(), json!({"active": false}));
    assert!(stdout(&out).starts_with(&format!("Key {ID} deactivated.\n")));

    let out = run(arca(dir.path(), &server.url).args(["key", "activate", ID]));
    assert_success(&out);
    assert_eq!(server.next().json(), json!({"active": true}));

    let out = run(arca(dir.path(), &server.url).args(["key", "rotate", ID]));
    assert_eq!(
        out.status.code(),
        Some(1),
        "rotate kills the old secret: confirm"
    );
    let out = run(arca(dir.path(), &server.url).args(["key", "rotate", ID, "-y"]));
    assert_success(&out);
    assert_eq!(server.next().route(), format!("POST /v3/keys/{ID}/rotate"));
    assert_eq!(count(&stdout(&out), SECRET), 1);
}

// ---- config set checks the key ----

fn config_file(dir: &std::path::Path) -> std::path::PathBuf {
    dir.join("arca").join("config.toml")
}

/// `arca config set` with the key given as a flag and no key in the environment.
fn config_set(dir: &std::path::Path, url: &str, extra: &[&str]) -> std::process::Output {
    run(arca(dir, url)
        .env_remove("ARCA_API_KEY")
        .args(["config", "set", "--api-key", "arca_pk_new-key-0000"])
        .args(extra))
}

#[test]
fn config_set_refuses_a_key_the_server_rejects() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(vec![(
        "401 Unauthorized",
        error_body("UNAUTHORIZED", "unknown API key"),
    )]);
    let out = config_set(dir.path(), &server.url, &["--org", "acme"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.starts_with(&format!(
            "Error: the server at {} rejected the API key; nothing was saved: unknown API key (HTTP 401",
            server.url
        )),
        "{err}"
    );
    assert!(!err.contains("new-key"), "{err}");
    assert!(!config_file(dir.path()).exists());
    let seen = server.next();
    assert_eq!(seen.route(), "GET /v2/users/me");
    assert_eq!(
        seen.header("authorization"),
        Some("Bearer arca_pk_new-key-0000")
    );
}

#[test]
fn config_set_saves_a_key_that_works_in_the_org() {
    let dir = tempfile::tempdir().unwrap();
    let orgs = json!({"organizations": [{"name": "acme"}],
                      "paginationInfo": {"index": 0, "size": 500, "totalResults": 1, "totalPages": 1}});
    let server = Server::start(vec![
        (
            "200 OK",
            json!({"user": user_json(7, "j@example.com", &["REGISTRY_READ"], None)}),
        ),
        ("200 OK", orgs.clone()),
        (
            "200 OK",
            json!({"user": user_json(7, "j@example.com", &["REGISTRY_READ"], None)}),
        ),
        ("200 OK", orgs),
    ]);
    let out = config_set(dir.path(), &server.url, &["--org", "acme"]);
    assert_success(&out);
    assert!(config_file(dir.path()).exists());
    assert_eq!(server.next().route(), "GET /v2/users/me");
    assert_eq!(server.next().route(), "GET /v2/orgs");

    // Another org is refused, and the file keeps the previous one.
    let out = config_set(dir.path(), &server.url, &["--org", "other"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("works in org acme, not in org other"),
        "{}",
        stderr(&out)
    );
    let saved = std::fs::read_to_string(config_file(dir.path())).unwrap();
    assert!(saved.contains("org = \"acme\""), "{saved}");
}

#[test]
fn config_set_accepts_a_service_key_through_the_org_list() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(vec![
        (
            "400 Bad Request",
            error_body("INVALID", "a service key has no user; use a personal key"),
        ),
        ("200 OK", json!({"organizations": [{"name": "acme"}]})),
    ]);
    let out = config_set(dir.path(), &server.url, &[]);
    assert_success(&out);
    assert_eq!(server.next().route(), "GET /v2/users/me");
    assert_eq!(server.next().route(), "GET /v2/orgs");
    assert!(config_file(dir.path()).exists());
    assert_eq!(stderr(&out), "");
}

#[test]
fn config_set_saves_with_a_warning_when_the_server_is_unreachable() {
    let dir = tempfile::tempdir().unwrap();
    let url = dead_url();
    let out = config_set(dir.path(), &url, &["--org", "acme"]);
    assert_success(&out);
    let err = stderr(&out);
    assert!(
        err.starts_with(&format!(
            "Warning: the API key could not be checked against {url}"
        )),
        "{err}"
    );
    assert!(!err.contains("new-key"), "{err}");
    assert!(config_file(dir.path()).exists());

    // Changing only the output format does not call the server at all.
    let server = Server::start(vec![("200 OK", json!({}))]);
    let out = run(arca(dir.path(), &server.url).args(["config", "set", "--format_type", "json"]));
    assert_success(&out);
    server.assert_idle();
}

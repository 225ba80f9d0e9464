//! `arca org|team|user …` against a tiny HTTP server: the exact requests and the output.

mod support;

use serde_json::{json, Value};
use support::*;

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[test]
fn org_list_sends_the_key_and_prints_every_format() {
    let dir = tempfile::tempdir().unwrap();
    let orgs = json!({
        "organizations": [{"id": 1, "name": "acme", "displayName": "Acme Corp",
                           "description": "", "type": "ENTERPRISE",
                           "createdDate": "2025-01-01T00:00:00.000Z"}],
        "paginationInfo": {"index": 0, "size": 500, "totalResults": 1, "totalPages": 1},
        "requestStatus": {"statusCode": "SUCCESS", "requestId": "r"}
    });
    let server = Server::start(vec![("200 OK", orgs.clone()), ("200 OK", orgs)]);

    let out = run(arca(dir.path(), &server.url).args([
        "org",
        "list",
        "--org",
        "acme",
        "--format_type",
        "json",
    ]));
    assert_success(&out);
    assert_eq!(
        json_out(&out),
        json!([{"name": "acme", "display_name": "Acme Corp", "description": "",
                "type": "ENTERPRISE", "created": "2025-01-01T00:00:00.000Z"}])
    );
    let seen = server.next();
    assert_eq!(seen.route(), "GET /v2/orgs");
    assert_eq!(
        seen.query(),
        pairs(&[("page-size", "500"), ("page-number", "0")])
    );
    seen.assert_cli_headers(Some("acme"));
    assert_eq!(seen.header("nv-ngc-team"), None);

    let out = run(arca(dir.path(), &server.url).args(["org", "list"]));
    assert_success(&out);
    let text = stdout(&out);
    assert!(
        text.lines()
            .nth(1)
            .is_some_and(|l| l.contains("name") && l.contains("display_name")),
        "{text}"
    );
    assert!(text.contains("Acme Corp"), "{text}");
    server.next().assert_cli_headers(None);
}

#[test]
fn team_add_user_with_two_roles_adds_roles_to_an_existing_user() {
    let dir = tempfile::tempdir().unwrap();
    let user = user_json(
        7,
        "jsmith@example.com",
        &[],
        Some(("team-a", &["REGISTRY_USER", "USER_ADMIN"])),
    );
    let server = Server::start(vec![("200 OK", json!({ "user": user }))]);
    let out = run(arca(dir.path(), &server.url).args([
        "team",
        "add-user",
        "jsmith@example.com",
        "John Smith",
        "--org",
        "acme",
        "--team",
        "team-a",
        "--role",
        "REGISTRY_WRITE_USER_ROLE",
        "--role",
        "user_admin",
    ]));
    assert_success(&out);
    let seen = server.next();
    assert_eq!(
        seen.route(),
        "PATCH /v3/orgs/acme/teams/team-a/users/jsmith%40example.com/add-role"
    );
    assert_eq!(
        seen.query(),
        pairs(&[("roles", "REGISTRY_USER"), ("roles", "USER_ADMIN")])
    );
    assert!(seen.body.is_empty());
    seen.assert_cli_headers(Some("acme"));
    assert_eq!(seen.header("nv-ngc-team"), Some("team-a"));
    server.assert_idle();
    let text = stdout(&out);
    assert!(
        text.starts_with(
            "User jsmith@example.com added to team acme/team-a with roles REGISTRY_USER, USER_ADMIN.\n"
        ),
        "{text}"
    );
    assert!(
        text.contains("acme/team-a: REGISTRY_USER, acme/team-a: USER_ADMIN"),
        "{text}"
    );
}

#[test]
fn team_add_user_creates_an_unknown_email() {
    let dir = tempfile::tempdir().unwrap();
    let user = user_json(
        8,
        "new@example.com",
        &[],
        Some(("team-a", &["REGISTRY_READ"])),
    );
    let server = Server::start(vec![
        (
            "404 Not Found",
            error_body("NOT_FOUND", "user new@example.com not found"),
        ),
        ("200 OK", json!({ "user": user })),
    ]);
    let out = run(arca(dir.path(), &server.url)
        .env("ARCA_ORG", "acme")
        .env("ARCA_TEAM", "team-a")
        .args([
            "team",
            "add-user",
            "new@example.com",
            "New Person",
            "--role",
            "REGISTRY_READ",
        ])
        .args(["--format_type", "json"]));
    assert_success(&out);
    assert_eq!(
        server.next().route(),
        "PATCH /v3/orgs/acme/teams/team-a/users/new%40example.com/add-role"
    );
    let seen = server.next();
    assert_eq!(seen.route(), "POST /v2/org/acme/team/team-a/users");
    assert_eq!(seen.header("content-type"), Some("application/json"));
    assert_eq!(
        seen.json(),
        json!({"email": "new@example.com", "name": "New Person", "roleTypes": ["REGISTRY_READ"]})
    );
    let body = json_out(&out);
    assert_eq!(body["id"], "8");
    assert_eq!(body["roles"], json!(["acme/team-a: REGISTRY_READ"]));
}

#[test]
fn org_add_user_goes_to_the_team_when_one_is_given() {
    let dir = tempfile::tempdir().unwrap();
    let user = user_json(9, "jsmith@example.com", &["REGISTRY_READ"], None);
    let server = Server::start(vec![
        ("200 OK", json!({ "user": user.clone() })),
        ("200 OK", json!({ "user": user })),
    ]);
    let out = run(arca(dir.path(), &server.url).args([
        "org",
        "add-user",
        "jsmith@example.com",
        "--role",
        "REGISTRY_READ",
        "--org",
        "acme",
    ]));
    assert_success(&out);
    let seen = server.next();
    assert_eq!(seen.route(), "POST /v2/org/acme/users");
    assert_eq!(
        seen.json(),
        json!({"email": "jsmith@example.com", "roleTypes": ["REGISTRY_READ"]})
    );

    let out = run(arca(dir.path(), &server.url).args([
        "org",
        "add-user",
        "jsmith@example.com",
        "John Smith",
        "--role",
        "USER_ADMIN",
        "--org",
        "acme",
        "--team",
        "team-a",
    ]));
    assert_success(&out);
    let seen = server.next();
    assert_eq!(seen.route(), "POST /v2/org/acme/team/team-a/users");
    assert_eq!(seen.json()["roleTypes"], json!(["USER_ADMIN"]));
}

#[test]
fn update_roles_replaces_roles_at_org_or_team_level() {
    let dir = tempfile::tempdir().unwrap();
    let user = user_json(7, "j@example.com", &["REGISTRY_ADMIN", "USER_ADMIN"], None);
    let server = Server::start(vec![
        ("200 OK", json!({ "user": user.clone() })),
        ("200 OK", json!({ "user": user.clone() })),
        ("200 OK", json!({ "user": user })),
    ]);
    let out = run(arca(dir.path(), &server.url).args([
        "user",
        "update-roles",
        "j@example.com",
        "--role",
        "registry_admin,USER_ADMIN",
        "--org",
        "acme",
    ]));
    assert_success(&out);
    let seen = server.next();
    assert_eq!(
        seen.route(),
        "PATCH /v2/org/acme/users/j%40example.com/update-role"
    );
    assert_eq!(
        seen.query(),
        pairs(&[("roles", "REGISTRY_ADMIN"), ("roles", "USER_ADMIN")])
    );
    assert!(
        stdout(&out)
            .starts_with("Roles of j@example.com in org acme set to REGISTRY_ADMIN, USER_ADMIN.\n"),
        "{}",
        stdout(&out)
    );

    let out = run(arca(dir.path(), &server.url).args([
        "user",
        "update-roles",
        "7",
        "--role",
        "REGISTRY_READ",
        "--org",
        "acme",
        "--team",
        "vision",
    ]));
    assert_success(&out);
    let seen = server.next();
    assert_eq!(
        seen.route(),
        "PATCH /v2/org/acme/team/vision/users/7/update-role"
    );
    assert_eq!(seen.query(), pairs(&[("roles", "REGISTRY_READ")]));

    let out = run(arca(dir.path(), &server.url).args([
        "org",
        "update-user",
        "7",
        "--role",
        "REGISTRY_USER",
        "--org",
        "acme",
        "--team",
        "vision",
    ]));
    assert_success(&out);
    assert_eq!(
        server.next().route(),
        "PATCH /v2/org/acme/users/7/update-role",
        "org update-user acts at org level whatever the team"
    );
}

#[test]
fn user_info_shows_me_or_a_member() {
    let dir = tempfile::tempdir().unwrap();
    let me = user_json(
        1,
        "owner@example.com",
        &["ORG_OWNER"],
        Some(("vision", &["USER_READ"])),
    );
    let other = user_json(7, "j@example.com", &["REGISTRY_READ"], None);
    let server = Server::start(vec![
        ("200 OK", json!({ "user": me })),
        ("200 OK", json!({ "user": other })),
    ]);
    let out = run(arca(dir.path(), &server.url).args(["user", "info", "--format_type", "json"]));
    assert_success(&out);
    let seen = server.next();
    assert_eq!(seen.route(), "GET /v2/users/me");
    seen.assert_cli_headers(None);
    assert_eq!(
        json_out(&out),
        json!({"id": "1", "name": "John Smith", "email": "owner@example.com",
               "created": "2025-01-01T00:00:00.000Z",
               "roles": ["acme: ORG_OWNER", "acme/vision: USER_READ"]})
    );

    let out = run(arca(dir.path(), &server.url).env("ARCA_ORG", "acme").args([
        "user",
        "info",
        "j@example.com",
        "--format_type",
        "csv",
    ]));
    assert_success(&out);
    assert_eq!(
        server.next().route(),
        "GET /v2/org/acme/users/j%40example.com"
    );
    assert_eq!(
        stdout(&out),
        "id,name,email,created,roles\n7,John Smith,j@example.com,2025-01-01T00:00:00.000Z,acme: REGISTRY_READ\n"
    );
}

#[test]
fn list_users_filters_by_email_and_shows_roles() {
    let dir = tempfile::tempdir().unwrap();
    let user = user_json(
        7,
        "j@example.com",
        &["REGISTRY_READ"],
        Some(("vision", &["REGISTRY_USER"])),
    );
    let server = Server::start(vec![(
        "200 OK",
        json!({"users": [user], "paginationInfo": {"index": 0, "size": 500, "totalResults": 1, "totalPages": 1}}),
    )]);
    let out = run(arca(dir.path(), &server.url).args([
        "org",
        "list-users",
        "--email",
        "j@example.com",
        "--org",
        "acme",
        "--format_type",
        "json",
    ]));
    assert_success(&out);
    let seen = server.next();
    assert_eq!(seen.route(), "GET /v2/org/acme/users");
    let q = seen.query();
    assert_eq!(q[0].0, "q");
    assert_eq!(
        serde_json::from_str::<Value>(&q[0].1).unwrap(),
        json!({"filters": [{"field": "email", "value": "j@example.com"}]})
    );
    let rows = json_out(&out);
    assert_eq!(rows[0]["org_roles"], json!(["REGISTRY_READ"]));
    assert_eq!(rows[0]["team_roles"], json!(["vision: REGISTRY_USER"]));
}

#[test]
fn server_errors_are_reported_with_exit_code_2() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(vec![
        (
            "403 Forbidden",
            error_body("FORBIDDEN", "you may not grant the role ORG_OWNER"),
        ),
        (
            "404 Not Found",
            error_body("NOT_FOUND", "team acme/nope not found"),
        ),
    ]);
    let out = run(arca(dir.path(), &server.url).args([
        "org",
        "update-user",
        "7",
        "--role",
        "ORG_OWNER",
        "--org",
        "acme",
    ]));
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert_eq!(
        stderr(&out).trim(),
        "Error: cannot change the roles of 7 in org acme: you may not grant the role ORG_OWNER \
         (HTTP 403 FORBIDDEN, request id req-1)"
    );
    assert!(stdout(&out).is_empty());
    server.next();

    let out = run(arca(dir.path(), &server.url).args(["team", "info", "nope", "--org", "acme"]));
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        stderr(&out).trim(),
        "Error: cannot show team acme/nope: team acme/nope not found (HTTP 404 NOT_FOUND, request id req-1)"
    );
    assert_eq!(server.next().route(), "GET /v2/org/acme/teams/nope");
}

#[test]
fn commands_without_org_or_team_fail_before_any_request() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(vec![("200 OK", json!({}))]);
    let out = run(arca(dir.path(), &server.url).args(["org", "list-teams"]));
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        stderr(&out).trim(),
        "Error: no org is set: pass --org <org>, set ARCA_ORG, or save one with `arca config set --org <org>`"
    );
    let out = run(arca(dir.path(), &server.url)
        .env("ARCA_TEAM", "vision")
        .args(["team", "list-users", "--org", "acme", "--team", "no-team"]));
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("no team is set"), "{}", stderr(&out));
    server.assert_idle();
}

#[test]
fn destructive_commands_need_yes_without_a_terminal() {
    let dir = tempfile::tempdir().unwrap();
    let ok = json!({"requestStatus": {"statusCode": "SUCCESS"}});
    let server = Server::start(vec![("200 OK", ok.clone()), ("200 OK", ok)]);
    for argv in [
        &["team", "remove", "vision", "--org", "acme"][..],
        &["org", "remove-user", "7", "--org", "acme"][..],
        &[
            "team",
            "remove-user",
            "7",
            "--org",
            "acme",
            "--team",
            "vision",
        ][..],
    ] {
        let out = run(arca(dir.path(), &server.url).args(argv));
        assert_eq!(out.status.code(), Some(1), "{argv:?}");
        let err = stderr(&out);
        assert!(
            err.contains("without confirmation") && err.contains("-y"),
            "{err}"
        );
    }
    server.assert_idle();

    let out = run(
        arca(dir.path(), &server.url).args(["team", "remove", "vision", "-y", "--org", "acme"])
    );
    assert_success(&out);
    assert_eq!(server.next().route(), "DELETE /v2/org/acme/teams/vision");
    assert_eq!(stdout(&out), "Team acme/vision removed.\n");

    let out = run(arca(dir.path(), &server.url).args([
        "team",
        "remove-user",
        "j@example.com",
        "--yes",
        "--org",
        "acme",
        "--team",
        "vision",
    ]));
    assert_success(&out);
    assert_eq!(
        server.next().route(),
        "DELETE /v3/orgs/acme/teams/vision/users/j%40example.com"
    );
}

#[test]
fn org_add_team_and_team_update_send_json_bodies() {
    let dir = tempfile::tempdir().unwrap();
    let team =
        json!({"team": {"id": 363, "name": "team-a", "description": "Team A", "isDeleted": false}});
    let server = Server::start(vec![("200 OK", team.clone()), ("200 OK", team)]);
    let out = run(arca(dir.path(), &server.url)
        .args(["org", "add-team", "team-a", "Team A", "--org", "acme"]));
    assert_success(&out);
    let seen = server.next();
    assert_eq!(seen.route(), "POST /v2/org/acme/teams");
    assert_eq!(
        seen.json(),
        json!({"name": "team-a", "description": "Team A"})
    );
    let text = stdout(&out);
    assert!(text.starts_with("Team created.\n"), "{text}");
    assert!(text.contains("363") && text.contains("Team A"), "{text}");

    let out = run(arca(dir.path(), &server.url).args([
        "team",
        "update",
        "Team A, renamed",
        "--org",
        "acme",
        "--team",
        "team-a",
    ]));
    assert_success(&out);
    let seen = server.next();
    assert_eq!(seen.route(), "PATCH /v2/org/acme/teams/team-a");
    assert_eq!(seen.json(), json!({"description": "Team A, renamed"}));

    let out =
        run(arca(dir.path(), &server.url).args(["org", "add-team", "Team_A", "--org", "acme"]));
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("lowercase"), "{}", stderr(&out));
    server.assert_idle();
}

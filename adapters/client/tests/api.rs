//! The typed API against a tiny HTTP server on 127.0.0.1: the exact requests it sends and how
//! it reads the answers.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use arca_client::{ArcaClient, KeyListing, PersonalKeyRequest, ServiceKeyRequest};
use serde_json::{json, Value};

/// One request as the server saw it.
#[derive(Debug)]
struct Seen {
    method: String,
    target: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Seen {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or(Value::Null)
    }

    /// `METHOD target`, with the query decoded for readability.
    fn line(&self) -> String {
        let decoded = url::form_urlencoded::parse(
            self.target
                .split_once('?')
                .map_or("", |(_, q)| q)
                .as_bytes(),
        )
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&");
        let path = self.target.split('?').next().unwrap_or_default();
        if decoded.is_empty() {
            format!("{} {path}", self.method)
        } else {
            format!("{} {path}?{decoded}", self.method)
        }
    }
}

fn read_request(stream: &mut impl Read) -> std::io::Result<Seen> {
    let mut reader = BufReader::new(stream);
    let mut request_line = String::new();
    reader.read_line(&mut request_line)?;
    let mut parts = request_line.split_whitespace();
    let method = parts.next().unwrap_or_default().to_string();
    let target = parts.next().unwrap_or_default().to_string();
    let mut headers = Vec::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 || line.trim_end().is_empty() {
            break;
        }
        if let Some((k, v)) = line.trim_end().split_once(':') {
            headers.push((k.trim().to_string(), v.trim().to_string()));
        }
    }
    let len = headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.parse::<usize>().ok())
        .unwrap_or(0);
    let mut body = vec![0; len];
    reader.read_exact(&mut body)?;
    Ok(Seen {
        method,
        target,
        headers,
        body,
    })
}

/// Answers each connection with the next `(status, JSON body)`; reports each request.
fn serve(answers: Vec<(&'static str, Value)>) -> (ArcaClient, mpsc::Receiver<Seen>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        for (status, body) in answers {
            let Ok((mut stream, _)) = listener.accept() else {
                return;
            };
            if let Ok(seen) = read_request(&mut stream) {
                let _ = tx.send(seen);
            }
            let body = body.to_string();
            let _ = stream.write_all(
                format!(
                    "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                )
                .as_bytes(),
            );
        }
    });
    let client = ArcaClient::builder(base)
        .api_key(Some("arca_pk_test-key-0001".into()))
        .org(Some("acme".into()))
        .build()
        .unwrap();
    (client, rx)
}

fn next(rx: &mpsc::Receiver<Seen>) -> Seen {
    rx.recv_timeout(Duration::from_secs(10))
        .expect("the server saw no request")
}

fn user(id: i64, email: &str) -> Value {
    json!({"id": id, "email": email, "name": "J", "roles": []})
}

fn key(id: &str) -> Value {
    json!({"id": id, "name": "ci", "type": "PERSONAL_KEY", "orgName": "acme", "active": true})
}

#[tokio::test]
async fn lists_walk_every_page() {
    let (client, rx) = serve(vec![
        (
            "200 OK",
            json!({"organizations": [{"id": 1, "name": "a"}],
                   "paginationInfo": {"index": 0, "size": 1, "totalResults": 2, "totalPages": 2}}),
        ),
        (
            "200 OK",
            json!({"organizations": [{"id": 2, "name": "b"}],
                   "paginationInfo": {"index": 1, "size": 1, "totalResults": 2, "totalPages": 2}}),
        ),
    ]);
    let orgs = client.list_orgs().await.unwrap();
    let names: Vec<&str> = orgs.iter().map(|o| o.name.as_str()).collect();
    assert_eq!(names, ["a", "b"]);
    assert_eq!(next(&rx).line(), "GET /v2/orgs?page-size=500&page-number=0");
    let second = next(&rx);
    assert_eq!(second.line(), "GET /v2/orgs?page-size=500&page-number=1");
    assert_eq!(
        second.header("authorization"),
        Some("Bearer arca_pk_test-key-0001")
    );
}

#[tokio::test]
async fn org_and_team_requests() {
    let team = json!({"team": {"id": 3, "name": "vision", "description": "CV"}});
    let (client, rx) = serve(vec![
        (
            "200 OK",
            json!({"organizations": {"name": "acme", "displayName": "Acme"}}),
        ),
        ("200 OK", team.clone()),
        ("200 OK", team.clone()),
        ("200 OK", team),
        (
            "200 OK",
            json!({"requestStatus": {"statusCode": "SUCCESS"}}),
        ),
    ]);
    let org = client.get_org("acme").await.unwrap();
    assert_eq!(org.display_name.as_deref(), Some("Acme"));
    assert_eq!(next(&rx).line(), "GET /v2/orgs/acme");

    let t = client
        .create_team("acme", "vision", Some("CV"))
        .await
        .unwrap();
    assert_eq!(t.id.as_deref(), Some("3"));
    let seen = next(&rx);
    assert_eq!(seen.line(), "POST /v2/org/acme/teams");
    assert_eq!(seen.json(), json!({"name": "vision", "description": "CV"}));

    client.get_team("acme", "vision").await.unwrap();
    assert_eq!(next(&rx).line(), "GET /v2/org/acme/teams/vision");

    client.update_team("acme", "vision", "new").await.unwrap();
    let seen = next(&rx);
    assert_eq!(seen.line(), "PATCH /v2/org/acme/teams/vision");
    assert_eq!(seen.json(), json!({"description": "new"}));

    client.delete_team("acme", "vision").await.unwrap();
    assert_eq!(next(&rx).line(), "DELETE /v2/org/acme/teams/vision");
}

#[tokio::test]
async fn user_and_role_requests() {
    let one = json!({"user": user(7, "j@example.com")});
    let (client, rx) = serve(vec![
        ("200 OK", one.clone()),
        ("200 OK", json!({"users": [user(7, "j@example.com")]})),
        ("200 OK", one.clone()),
        ("200 OK", one.clone()),
        ("200 OK", one.clone()),
        ("200 OK", one.clone()),
        ("200 OK", one),
        ("200 OK", json!({})),
    ]);
    assert_eq!(client.me().await.unwrap().id, "7");
    assert_eq!(next(&rx).line(), "GET /v2/users/me");

    let users = client
        .list_users_by_email("acme", Some("vision"), "j@example.com")
        .await
        .unwrap();
    assert_eq!(users.len(), 1);
    assert_eq!(
        next(&rx).line(),
        r#"GET /v2/org/acme/team/vision/users?q={"filters":[{"field":"email","value":"j@example.com"}]}&page-size=500&page-number=0"#
    );

    client
        .get_user("acme", None, "j@example.com")
        .await
        .unwrap();
    assert_eq!(next(&rx).target, "/v2/org/acme/users/j%40example.com");

    client
        .add_user(
            "acme",
            Some("vision"),
            "j@example.com",
            Some("John Smith"),
            &["REGISTRY_USER", "USER_ADMIN"],
        )
        .await
        .unwrap();
    let seen = next(&rx);
    assert_eq!(seen.line(), "POST /v2/org/acme/team/vision/users");
    assert_eq!(
        seen.json(),
        json!({"email": "j@example.com", "name": "John Smith",
               "roleTypes": ["REGISTRY_USER", "USER_ADMIN"]})
    );

    client
        .add_roles("acme", Some("vision"), "7", &["REGISTRY_READ", "USER_READ"])
        .await
        .unwrap();
    assert_eq!(
        next(&rx).line(),
        "PATCH /v3/orgs/acme/teams/vision/users/7/add-role?roles=REGISTRY_READ&roles=USER_READ"
    );

    client
        .remove_roles("acme", None, "7", &["USER_READ"])
        .await
        .unwrap();
    assert_eq!(
        next(&rx).line(),
        "DELETE /v3/orgs/acme/users/7/remove-role?roles=USER_READ"
    );

    client
        .set_roles("acme", None, "7", &["REGISTRY_ADMIN"])
        .await
        .unwrap();
    assert_eq!(
        next(&rx).line(),
        "PATCH /v2/org/acme/users/7/update-role?roles=REGISTRY_ADMIN"
    );

    client
        .remove_user("acme", Some("vision"), "7")
        .await
        .unwrap();
    assert_eq!(
        next(&rx).line(),
        "DELETE /v3/orgs/acme/teams/vision/users/7"
    );
}

#[tokio::test]
async fn key_requests_and_secrets() {
    let id = "6f1c2a4e-8a7b-4c3d-9e2f-1a2b3c4d5e6f";
    let created = json!({"key": key(id), "apiKey": "arca_pk_brand-new-secret"});
    let (client, rx) = serve(vec![
        ("200 OK", json!({"keys": [key(id)]})),
        ("200 OK", created.clone()),
        ("200 OK", created.clone()),
        ("200 OK", created.clone()),
        ("200 OK", json!({"key": key(id)})),
        ("200 OK", created),
        ("200 OK", json!({})),
    ]);
    let keys = client.list_keys(KeyListing::All).await.unwrap();
    assert_eq!(keys[0].id, id);
    assert_eq!(next(&rx).line(), "GET /v3/keys?type=all");

    let c = client
        .create_personal_key(&PersonalKeyRequest::new("ci").expiry("12mo"))
        .await
        .unwrap();
    assert_eq!(c.secret.expose_secret(), "arca_pk_brand-new-secret");
    assert!(!format!("{c:?}").contains("brand-new"));
    let seen = next(&rx);
    assert_eq!(seen.line(), "POST /v3/keys/personal");
    assert_eq!(
        seen.json(),
        json!({"name": "ci", "expiry": "12mo", "services": []})
    );

    client
        .create_service_key(&ServiceKeyRequest::new("pull", ["ALL"]).expiry("never"))
        .await
        .unwrap();
    let seen = next(&rx);
    assert_eq!(seen.line(), "POST /v3/keys/service");
    assert_eq!(
        seen.json(),
        json!({"name": "pull", "expiry": "never", "scopes": ["ALL"]})
    );

    client.generate_legacy_key().await.unwrap();
    assert_eq!(next(&rx).line(), "POST /v3/keys/legacy");

    let k = client.set_key_active(id, false).await.unwrap();
    assert!(k.active);
    let seen = next(&rx);
    assert_eq!(seen.line(), format!("PATCH /v3/keys/{id}"));
    assert_eq!(seen.json(), json!({"active": false}));

    client.rotate_key(id).await.unwrap();
    assert_eq!(next(&rx).line(), format!("POST /v3/keys/{id}/rotate"));

    client.delete_key(id).await.unwrap();
    assert_eq!(next(&rx).line(), format!("DELETE /v3/keys/{id}"));
}

#[tokio::test]
async fn api_errors_come_back_typed() {
    let (client, _rx) = serve(vec![(
        "403 Forbidden",
        json!({"requestStatus": {"statusCode": "FORBIDDEN",
               "statusDescription": "you may not grant the role ORG_OWNER", "requestId": "r-1"}}),
    )]);
    let err = client
        .set_roles("acme", None, "7", &["ORG_OWNER"])
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(403));
    assert_eq!(
        err.to_string(),
        "you may not grant the role ORG_OWNER (HTTP 403 FORBIDDEN, request id r-1)"
    );
}

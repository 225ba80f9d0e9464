//! The client against tiny real HTTP(S) servers on 127.0.0.1 that answer with canned bytes.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

use arca_client::{ArcaClient, ClientError, Endpoint, Health, Method};
use serde_json::{json, Value};

/// One request as the server saw it.
#[derive(Debug)]
struct Seen {
    request_line: String,
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
}

fn read_request(stream: &mut impl Read) -> std::io::Result<Seen> {
    let mut reader = BufReader::new(stream);
    let mut request_line = String::new();
    reader.read_line(&mut request_line)?;
    let mut headers = Vec::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 {
            break;
        }
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some((k, v)) = line.split_once(':') {
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
        request_line: request_line.trim_end().to_string(),
        headers,
        body,
    })
}

fn response(status: &str, content_type: &str, body: &str) -> Vec<u8> {
    format!(
        "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

fn json_response(status: &str, body: &str) -> Vec<u8> {
    response(status, "application/json", body)
}

/// Serves the given responses, one connection each, in order; reports each request seen.
fn serve(responses: Vec<Vec<u8>>) -> (String, mpsc::Receiver<Seen>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        for resp in responses {
            let Ok((mut stream, _)) = listener.accept() else {
                return;
            };
            if let Ok(seen) = read_request(&mut stream) {
                let _ = tx.send(seen);
            }
            let _ = stream.write_all(&resp);
            let _ = stream.flush();
        }
    });
    (base, rx)
}

fn next(rx: &mpsc::Receiver<Seen>) -> Seen {
    rx.recv_timeout(Duration::from_secs(10))
        .expect("the server saw no request")
}

#[tokio::test]
async fn sends_auth_context_and_accept_headers() {
    let (base, rx) = serve(vec![json_response("200 OK", r#"{"user":{"name":"a"}}"#)]);
    let client = ArcaClient::builder(&base)
        .api_key(Some("nvapi-test-key-1234".into()))
        .org(Some("acme".into()))
        .team(Some("vision".into()))
        .user_agent("arca-test/1")
        .build()
        .unwrap();
    let me: Value = client
        .get_json(Endpoint::new("/v2/users/me").query("page-size", 500))
        .await
        .unwrap();
    assert_eq!(me["user"]["name"], "a");

    let seen = next(&rx);
    assert_eq!(seen.request_line, "GET /v2/users/me?page-size=500 HTTP/1.1");
    assert_eq!(
        seen.header("authorization"),
        Some("Bearer nvapi-test-key-1234")
    );
    assert_eq!(seen.header("nv-ngc-org"), Some("acme"));
    assert_eq!(seen.header("nv-ngc-team"), Some("vision"));
    assert_eq!(seen.header("accept"), Some("application/json"));
    assert_eq!(seen.header("user-agent"), Some("arca-test/1"));
}

#[tokio::test]
async fn sends_no_auth_or_context_headers_when_unset() {
    let (base, rx) = serve(vec![json_response("200 OK", r#"{"status":"ok"}"#)]);
    let client = ArcaClient::builder(&base).build().unwrap();
    let health = client.health().await.unwrap();
    assert!(health.is_ok());
    let seen = next(&rx);
    assert_eq!(seen.request_line, "GET /healthz HTTP/1.1");
    assert_eq!(seen.header("authorization"), None);
    assert_eq!(seen.header("nv-ngc-org"), None);
    assert_eq!(seen.header("nv-ngc-team"), None);
    assert!(seen
        .header("user-agent")
        .is_some_and(|ua| ua.starts_with("arca-client/")));
}

#[tokio::test]
async fn health_keeps_extra_fields() {
    let (base, _rx) = serve(vec![json_response(
        "200 OK",
        r#"{"status":"ok","version":"0.1.0"}"#,
    )]);
    let client = ArcaClient::builder(&base).build().unwrap();
    let health: Health = client.health().await.unwrap();
    assert_eq!(health.status, "ok");
    assert_eq!(health.details["version"], "0.1.0");
}

#[tokio::test]
async fn json_bodies_go_out_with_the_right_method() {
    let (base, rx) = serve(vec![
        json_response("201 Created", r#"{"id":1}"#),
        json_response("200 OK", r#"{"id":1,"description":"x"}"#),
        json_response("200 OK", r#"{"id":1}"#),
        response("204 No Content", "text/plain", ""),
    ]);
    let client = ArcaClient::builder(format!("{base}/prefix/"))
        .build()
        .unwrap();
    let body = json!({"name": "team-a", "description": "a, \"quoted\" team"});

    let created: Value = client.post_json("/v2/org/acme/team", &body).await.unwrap();
    assert_eq!(created["id"], 1);
    let seen = next(&rx);
    assert_eq!(seen.request_line, "POST /prefix/v2/org/acme/team HTTP/1.1");
    assert_eq!(seen.header("content-type"), Some("application/json"));
    assert_eq!(serde_json::from_slice::<Value>(&seen.body).unwrap(), body);

    let _: Value = client
        .patch_json("v2/org/acme/teams/team-a", &json!({"description": "x"}))
        .await
        .unwrap();
    assert_eq!(
        next(&rx).request_line,
        "PATCH /prefix/v2/org/acme/teams/team-a HTTP/1.1"
    );

    let _: Value = client
        .put_json(Endpoint::new("/v2/x").query("a", "b c"), &json!({}))
        .await
        .unwrap();
    assert_eq!(next(&rx).request_line, "PUT /prefix/v2/x?a=b+c HTTP/1.1");

    client.delete("/v2/org/acme/teams/team-a").await.unwrap();
    assert_eq!(
        next(&rx).request_line,
        "DELETE /prefix/v2/org/acme/teams/team-a HTTP/1.1"
    );
}

#[tokio::test]
async fn error_bodies_of_every_shape_are_parsed() {
    /// (response bytes, status, code, message, request id) expected.
    type Case = (
        Vec<u8>,
        u16,
        Option<&'static str>,
        String,
        Option<&'static str>,
    );
    let cases: Vec<Case> = vec![
        (
            json_response(
                "404 Not Found",
                r#"{"requestStatus":{"statusCode":"NOT_FOUND","statusDescription":"Org 'x' could not be found","requestId":"req-42"}}"#,
            ),
            404,
            Some("NOT_FOUND"),
            "Org 'x' could not be found".into(),
            Some("req-42"),
        ),
        (
            json_response("400 Bad Request", r#"{"detail":"name is required"}"#),
            400,
            None,
            "name is required".into(),
            None,
        ),
        (
            json_response("409 Conflict", r#"{"message":"team already exists"}"#),
            409,
            None,
            "team already exists".into(),
            None,
        ),
        (
            json_response(
                "401 Unauthorized",
                r#"{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}"#,
            ),
            401,
            Some("UNAUTHORIZED"),
            "authentication required".into(),
            None,
        ),
        (
            response("502 Bad Gateway", "text/html", &"<h1>bad</h1>".repeat(100)),
            502,
            None,
            format!(
                "{}…",
                "<h1>bad</h1>"
                    .repeat(100)
                    .chars()
                    .take(arca_client::MAX_MESSAGE_CHARS)
                    .collect::<String>()
            ),
            None,
        ),
        (
            response("500 Internal Server Error", "text/plain", ""),
            500,
            None,
            "Internal Server Error".into(),
            None,
        ),
    ];
    let (base, _rx) = serve(cases.iter().map(|c| c.0.clone()).collect());
    let client = ArcaClient::builder(&base)
        .api_key(Some("secret-key-9876".into()))
        .build()
        .unwrap();
    for (_, want_status, want_code, want_message, want_id) in cases {
        let err = client.get_json::<Value>("/v2/orgs").await.unwrap_err();
        assert!(!err.to_string().contains("secret-key"), "{err}");
        assert!(!format!("{err:?}").contains("secret-key"), "{err:?}");
        match err {
            ClientError::Api {
                status,
                code,
                message,
                request_id,
            } => {
                assert_eq!(status, want_status);
                assert_eq!(code.as_deref(), want_code);
                assert_eq!(message, want_message);
                assert_eq!(request_id.as_deref(), want_id);
            }
            other => panic!("expected an API error, got {other:?}"),
        }
    }
}

#[tokio::test]
async fn success_with_a_non_json_body_is_a_decode_error() {
    let (base, _rx) = serve(vec![response("200 OK", "text/html", "<html>hi</html>")]);
    let client = ArcaClient::builder(&base).build().unwrap();
    let err = client.health().await.unwrap_err();
    assert!(matches!(err, ClientError::Decode { .. }), "{err:?}");
    assert!(err.to_string().contains("/healthz"), "{err}");
}

#[tokio::test]
async fn unreachable_server_is_a_clear_transport_error() {
    // Bind then drop, so the port is (almost certainly) closed.
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let base = format!("http://127.0.0.1:{port}");
    let events = Arc::new(Mutex::new(Vec::new()));
    let sink = events.clone();
    let client = ArcaClient::builder(&base)
        .api_key(Some("secret-key-9876".into()))
        .on_request(move |e| sink.lock().unwrap().push(e.clone()))
        .build()
        .unwrap();
    let err = client.health().await.unwrap_err();
    let text = err.to_string();
    assert!(matches!(err, ClientError::Transport { .. }), "{err:?}");
    assert!(
        text.starts_with(&format!("cannot connect to {base}/healthz: ")),
        "{text}"
    );
    assert!(!text.contains("secret-key"));
    let events = events.lock().unwrap();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].status, None);
    assert!(events[0].error.is_some());
}

#[tokio::test]
async fn request_hook_sees_method_url_and_status() {
    let (base, _rx) = serve(vec![json_response(
        "404 Not Found",
        r#"{"requestStatus":{"statusCode":"NOT_FOUND","statusDescription":"nope"}}"#,
    )]);
    let events = Arc::new(Mutex::new(Vec::new()));
    let sink = events.clone();
    let client = ArcaClient::builder(&base)
        .on_request(move |e| sink.lock().unwrap().push(e.clone()))
        .build()
        .unwrap();
    let err = client.delete("/v2/org/acme").await.unwrap_err();
    assert!(err.is_not_found());
    let events = events.lock().unwrap();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].method, Method::DELETE);
    assert_eq!(events[0].url.as_str(), format!("{base}/v2/org/acme"));
    assert_eq!(events[0].status.map(|s| s.as_u16()), Some(404));
}

#[tokio::test]
async fn raw_request_escape_hatch_streams_the_body() {
    let (base, rx) = serve(vec![response(
        "200 OK",
        "application/octet-stream",
        "blob-bytes",
    )]);
    let client = ArcaClient::builder(&base)
        .api_key(Some("k-123456789".into()))
        .build()
        .unwrap();
    let req = client
        .request(Method::PUT, "/v2/blob")
        .header("content-type", "application/octet-stream")
        .body("payload");
    let resp = client.send(req).await.unwrap();
    assert_eq!(resp.bytes().await.unwrap().as_ref(), b"blob-bytes");
    let seen = next(&rx);
    assert_eq!(seen.request_line, "PUT /v2/blob HTTP/1.1");
    assert_eq!(seen.header("authorization"), Some("Bearer k-123456789"));
    assert_eq!(seen.body, b"payload");
}

#[test]
fn debug_output_of_a_client_with_a_key_hides_the_key() {
    let client = ArcaClient::builder("http://127.0.0.1:5000")
        .api_key(Some("nvapi-very-secret-0000".into()))
        .build()
        .unwrap();
    let debug = format!("{client:?} {client:#?}");
    assert!(!debug.contains("very-secret"), "{debug}");
}

// ---- TLS with a private CA ----

struct TestPki {
    ca_pem: String,
    config: Arc<rustls::ServerConfig>,
}

fn test_pki() -> TestPki {
    use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair, SanType};
    let ca_key = KeyPair::generate().unwrap();
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "arca test CA");
    let ca = ca_params.self_signed(&ca_key).unwrap();

    let leaf_key = KeyPair::generate().unwrap();
    let mut leaf_params = CertificateParams::new(vec!["localhost".to_string()]).unwrap();
    leaf_params
        .subject_alt_names
        .push(SanType::IpAddress("127.0.0.1".parse().unwrap()));
    let leaf = leaf_params.signed_by(&leaf_key, &ca, &ca_key).unwrap();

    let key = rustls::pki_types::PrivateKeyDer::Pkcs8(leaf_key.serialize_der().into());
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_no_client_auth()
    .with_single_cert(vec![leaf.der().clone()], key)
    .unwrap();
    TestPki {
        ca_pem: ca.pem(),
        config: Arc::new(config),
    }
}

fn serve_tls(config: Arc<rustls::ServerConfig>, connections: usize) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("https://{}", listener.local_addr().unwrap());
    thread::spawn(move || {
        for _ in 0..connections {
            let Ok((tcp, _)) = listener.accept() else {
                return;
            };
            let Ok(conn) = rustls::ServerConnection::new(config.clone()) else {
                return;
            };
            let mut tls: rustls::StreamOwned<rustls::ServerConnection, TcpStream> =
                rustls::StreamOwned::new(conn, tcp);
            if read_request(&mut tls).is_ok() {
                let _ = tls.write_all(&json_response("200 OK", r#"{"status":"ok"}"#));
                tls.conn.send_close_notify();
                let _ = tls.flush();
            }
        }
    });
    base
}

#[tokio::test]
async fn ca_file_makes_a_private_ca_trusted() {
    let pki = test_pki();
    let dir = tempfile::tempdir().unwrap();
    let ca_path = dir.path().join("ca.pem");
    std::fs::write(&ca_path, &pki.ca_pem).unwrap();

    let base = serve_tls(pki.config.clone(), 2);

    // Without the CA the certificate is refused, with a message that says so.
    let untrusting = ArcaClient::builder(&base).build().unwrap();
    let err = untrusting.health().await.unwrap_err();
    assert!(matches!(err, ClientError::Transport { .. }), "{err:?}");
    assert!(
        err.to_string().to_lowercase().contains("certificate"),
        "{err}"
    );

    let trusting = ArcaClient::builder(&base)
        .ca_file(Some(ca_path.clone()))
        .build()
        .unwrap();
    assert!(trusting.health().await.unwrap().is_ok());
}

#[test]
fn ca_file_without_certificates_is_rejected() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("empty.pem");
    std::fs::write(&path, "not a certificate\n").unwrap();
    let err = ArcaClient::builder("https://127.0.0.1:1")
        .ca_file(Some(path.clone()))
        .build()
        .unwrap_err();
    assert!(matches!(err, ClientError::Config(_)), "{err:?}");
    assert!(err.to_string().contains("empty.pem"), "{err}");
}

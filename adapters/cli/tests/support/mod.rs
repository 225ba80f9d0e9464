//! Shared by the integration tests: run the `arca` binary with a private config dir against a
//! tiny HTTP server that answers canned JSON and reports every request it saw.

#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use serde_json::Value;

const ARCA_VARS: [&str; 7] = [
    "ARCA_CONFIG_DIR",
    "ARCA_API_KEY",
    "ARCA_ORG",
    "ARCA_TEAM",
    "ARCA_FORMAT_TYPE",
    "ARCA_URL",
    "ARCA_CA_FILE",
];

/// The API key the tests use.
pub const KEY: &str = "arca_pk_test-key-abcd1234";

/// `arca` with a private config dir, none of the caller's ARCA_* variables, stdin closed
/// (not a terminal), the test key in ARCA_API_KEY and the given server URL.
pub fn arca(config_dir: &Path, url: &str) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_arca"));
    for var in ARCA_VARS {
        cmd.env_remove(var);
    }
    cmd.env("ARCA_CONFIG_DIR", config_dir)
        .env("ARCA_API_KEY", KEY)
        .env("ARCA_URL", url)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    cmd
}

pub fn run(cmd: &mut Command) -> Output {
    cmd.output().expect("cannot run arca")
}

pub fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

pub fn assert_success(out: &Output) {
    assert!(
        out.status.success(),
        "arca failed with {:?}\nstdout: {}\nstderr: {}",
        out.status.code(),
        stdout(out),
        stderr(out)
    );
}

/// stdout as JSON.
pub fn json_out(out: &Output) -> Value {
    serde_json::from_str(&stdout(out))
        .unwrap_or_else(|e| panic!("stdout is not JSON ({e}): {}", stdout(out)))
}

/// A URL where nothing listens.
pub fn dead_url() -> String {
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    format!("http://127.0.0.1:{port}")
}

/// One request as the server saw it.
#[derive(Debug)]
pub struct Seen {
    pub method: String,
    /// Path and raw query, as sent.
    pub target: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Seen {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The path, still percent-encoded.
    pub fn path(&self) -> &str {
        self.target.split('?').next().unwrap_or_default()
    }

    /// The query pairs, decoded, in order.
    pub fn query(&self) -> Vec<(String, String)> {
        let raw = self.target.split_once('?').map_or("", |(_, q)| q);
        url::form_urlencoded::parse(raw.as_bytes())
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect()
    }

    /// `METHOD path`.
    pub fn route(&self) -> String {
        format!("{} {}", self.method, self.path())
    }

    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("body is not JSON ({e}): {:?}", self.body))
    }

    /// The headers every call of the CLI must carry.
    pub fn assert_cli_headers(&self, org: Option<&str>) {
        assert_eq!(
            self.header("authorization"),
            Some(format!("Bearer {KEY}").as_str()),
            "{self:?}"
        );
        assert_eq!(self.header("nv-ngc-org"), org, "{self:?}");
        assert_eq!(self.header("accept"), Some("application/json"));
        assert!(
            self.header("user-agent")
                .is_some_and(|ua| ua.starts_with("arca-cli/")),
            "{self:?}"
        );
    }
}

pub fn read_request(stream: &mut impl Read) -> std::io::Result<Seen> {
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

/// A server answering each connection with the next `(status line, JSON body)`.
pub struct Server {
    pub url: String,
    seen: mpsc::Receiver<Seen>,
}

impl Server {
    pub fn start(answers: Vec<(&'static str, Value)>) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
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
                let response = format!(
                    "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = stream.write_all(response.as_bytes());
                let _ = stream.flush();
            }
        });
        Server { url, seen: rx }
    }

    /// The next request the server saw.
    pub fn next(&self) -> Seen {
        self.seen
            .recv_timeout(Duration::from_secs(10))
            .expect("the server saw no request")
    }

    /// Asserts that no (further) request arrived.
    pub fn assert_idle(&self) {
        if let Ok(seen) = self.seen.recv_timeout(Duration::from_millis(200)) {
            panic!("unexpected request: {seen:?}");
        }
    }
}

/// The NGC error body.
pub fn error_body(code: &str, description: &str) -> Value {
    serde_json::json!({"requestStatus": {
        "statusCode": code, "statusDescription": description, "requestId": "req-1"
    }})
}

/// A user as the server shows one.
pub fn user_json(id: i64, email: &str, org_roles: &[&str], team: Option<(&str, &[&str])>) -> Value {
    let mut roles = vec![serde_json::json!({
        "org": {"name": "acme", "displayName": "Acme"},
        "orgRoles": org_roles, "teamRoles": []
    })];
    if let Some((team, team_roles)) = team {
        roles.push(serde_json::json!({
            "org": {"name": "acme", "displayName": "Acme"}, "team": {"name": team},
            "orgRoles": [], "teamRoles": team_roles
        }));
    }
    serde_json::json!({
        "id": id, "email": email, "name": "John Smith",
        "createdDate": "2025-01-01T00:00:00.000Z", "isActive": true, "roles": roles
    })
}

/// An answer of [`RawServer`]: status line, extra headers, body bytes.
pub struct Raw {
    pub status: &'static str,
    pub headers: Vec<(&'static str, String)>,
    pub body: Vec<u8>,
}

impl Raw {
    pub fn new(status: &'static str, body: impl Into<Vec<u8>>) -> Raw {
        Raw {
            status,
            headers: Vec::new(),
            body: body.into(),
        }
    }

    pub fn header(mut self, name: &'static str, value: impl Into<String>) -> Raw {
        self.headers.push((name, value.into()));
        self
    }
}

/// A server answering each connection with the next [`Raw`] answer (any bytes and headers;
/// no body for HEAD requests), reporting each request.
pub struct RawServer {
    pub url: String,
    seen: mpsc::Receiver<Seen>,
}

impl RawServer {
    pub fn start(answers: Vec<Raw>) -> RawServer {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let (tx, rx) = mpsc::channel();
        thread::spawn(move || {
            for answer in answers {
                let Ok((mut stream, _)) = listener.accept() else {
                    return;
                };
                let head = match read_request(&mut stream) {
                    Ok(seen) => {
                        let head = seen.method == "HEAD";
                        let _ = tx.send(seen);
                        head
                    }
                    Err(_) => false,
                };
                let mut response = format!(
                    "HTTP/1.1 {}\r\nContent-Length: {}\r\nConnection: close\r\n",
                    answer.status,
                    answer.body.len()
                );
                for (k, v) in &answer.headers {
                    response.push_str(&format!("{k}: {v}\r\n"));
                }
                response.push_str("\r\n");
                let mut bytes = response.into_bytes();
                if !head {
                    bytes.extend_from_slice(&answer.body);
                }
                let _ = stream.write_all(&bytes);
                let _ = stream.flush();
            }
        });
        RawServer { url, seen: rx }
    }

    pub fn next(&self) -> Seen {
        self.seen
            .recv_timeout(Duration::from_secs(10))
            .expect("the server saw no request")
    }

    pub fn assert_idle(&self) {
        if let Ok(seen) = self.seen.recv_timeout(Duration::from_millis(200)) {
            panic!("unexpected request: {seen:?}");
        }
    }
}

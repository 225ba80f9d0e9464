//! Runs the built `arca` binary with `ARCA_CONFIG_DIR` in a temporary directory.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
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

/// `arca` with a private config dir and none of the caller's ARCA_* variables.
fn arca(config_dir: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_arca"));
    for var in ARCA_VARS {
        cmd.env_remove(var);
    }
    cmd.env("ARCA_CONFIG_DIR", config_dir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    cmd
}

/// A URL where nothing listens: `config set` then saves keys with a warning instead of
/// checking them against whatever may run on the default port.
fn dead_url() -> String {
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    format!("http://127.0.0.1:{port}")
}

fn run(cmd: &mut Command) -> Output {
    cmd.output().expect("cannot run arca")
}

fn run_with_stdin(cmd: &mut Command, input: &str) -> Output {
    let mut child = cmd.stdin(Stdio::piped()).spawn().expect("cannot run arca");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(input.as_bytes())
        .expect("write stdin");
    child.wait_with_output().expect("wait for arca")
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn assert_success(out: &Output) {
    assert!(
        out.status.success(),
        "arca failed with {:?}\nstdout: {}\nstderr: {}",
        out.status.code(),
        stdout(out),
        stderr(out)
    );
}

fn config_file(dir: &Path) -> PathBuf {
    dir.join("arca").join("config.toml")
}

/// `arca config current --format_type json` as (key → (value, source)).
fn current(dir: &Path, extra: &[&str]) -> Vec<(String, Value, String)> {
    let out = run(arca(dir)
        .args(["config", "current", "--format_type", "json"])
        .args(extra));
    assert_success(&out);
    let rows: Vec<Value> = serde_json::from_str(&stdout(&out))
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", stdout(&out)));
    rows.into_iter()
        .map(|r| {
            (
                r["key"].as_str().unwrap_or_default().to_string(),
                r["value"].clone(),
                r["source"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

fn entry(rows: &[(String, Value, String)], key: &str) -> (Value, String) {
    rows.iter()
        .find(|(k, _, _)| k == key)
        .map(|(_, v, s)| (v.clone(), s.clone()))
        .unwrap_or_else(|| panic!("no {key} in {rows:?}"))
}

#[test]
fn config_set_with_flags_then_current_shows_values_with_the_key_masked() {
    let dir = tempfile::tempdir().unwrap();
    let url = dead_url();
    let out = run(arca(dir.path()).args([
        "config",
        "set",
        "--api-key",
        "nvapi-abcdef-123456",
        "--org",
        "acme",
        "--team",
        "vision",
        "--format_type",
        "csv",
        "--url",
        &url,
    ]));
    assert_success(&out);
    let path = config_file(dir.path());
    assert_eq!(
        stdout(&out).trim(),
        format!("Configuration saved to {}", path.display())
    );

    let out = run(arca(dir.path()).args(["config", "current", "--format_type", "json"]));
    assert_success(&out);
    assert!(
        !stdout(&out).contains("abcdef"),
        "key leaked: {}",
        stdout(&out)
    );

    let rows = current(dir.path(), &[]);
    let keys: Vec<&str> = rows.iter().map(|(k, _, _)| k.as_str()).collect();
    assert_eq!(
        keys,
        [
            "api_key",
            "org",
            "team",
            "format_type",
            "url",
            "ca_file",
            "config_file"
        ]
    );
    assert_eq!(entry(&rows, "api_key"), ("****3456".into(), "file".into()));
    assert_eq!(entry(&rows, "org"), ("acme".into(), "file".into()));
    assert_eq!(entry(&rows, "team"), ("vision".into(), "file".into()));
    assert_eq!(entry(&rows, "format_type"), ("json".into(), "flag".into()));
    assert_eq!(entry(&rows, "url"), (url.clone().into(), "file".into()));
    assert_eq!(entry(&rows, "ca_file"), (Value::Null, "default".into()));
    assert_eq!(
        entry(&rows, "config_file"),
        (path.display().to_string().into(), "env".into())
    );

    // Without --format_type, the saved csv format is used.
    let out = run(arca(dir.path()).args(["config", "current"]));
    assert_success(&out);
    assert!(
        stdout(&out).starts_with("key,value,source\napi_key,****3456,file\n"),
        "{}",
        stdout(&out)
    );
}

#[test]
fn config_set_reads_four_lines_from_piped_stdin() {
    let dir = tempfile::tempdir().unwrap();
    let out = run_with_stdin(
        arca(dir.path())
            .env("ARCA_URL", dead_url())
            .args(["config", "set"]),
        "key-from-stdin-9999\njson\nacme\nno-team\n",
    );
    assert_success(&out);
    // The saved format is json, so plain `config current` prints JSON.
    let out = run(arca(dir.path()).args(["config", "current"]));
    assert_success(&out);
    let rows: Vec<Value> = serde_json::from_str(&stdout(&out))
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", stdout(&out)));
    let get = |k: &str| rows.iter().find(|r| r["key"] == k).cloned().unwrap();
    assert_eq!(get("format_type")["value"], "json");
    assert_eq!(get("format_type")["source"], "file");
    let rows = current(dir.path(), &[]);
    assert_eq!(entry(&rows, "api_key"), ("****9999".into(), "file".into()));
    assert_eq!(entry(&rows, "org"), ("acme".into(), "file".into()));
    assert_eq!(entry(&rows, "team"), (Value::Null, "default".into()));

    // Empty lines keep the current values; a short input is fine too.
    let out = run_with_stdin(arca(dir.path()).args(["config", "set"]), "\n\nother-org\n");
    assert_success(&out);
    let rows = current(dir.path(), &[]);
    assert_eq!(entry(&rows, "api_key"), ("****9999".into(), "file".into()));
    assert_eq!(entry(&rows, "org"), ("other-org".into(), "file".into()));
    let saved: toml::Value = std::fs::read_to_string(config_file(dir.path()))
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(saved["format_type"].as_str(), Some("json"));
}

#[cfg(unix)]
#[test]
fn config_file_is_private() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let url = dead_url();
    assert_success(&run(arca(dir.path()).env("ARCA_URL", &url).args([
        "config",
        "set",
        "--api-key",
        "secret-key-0000",
    ])));
    let path = config_file(dir.path());
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&path), 0o600);
    assert_eq!(mode(path.parent().unwrap()), 0o700);
    // A second save replaces the file and keeps the mode.
    assert_success(&run(arca(dir.path())
        .env("ARCA_URL", &url)
        .args(["config", "set", "--org", "acme"])));
    assert_eq!(mode(&path), 0o600);
    let text = std::fs::read_to_string(&path).unwrap();
    let parsed: toml::Value = text.parse().unwrap();
    assert_eq!(parsed["api_key"].as_str(), Some("secret-key-0000"));
    assert_eq!(parsed["org"].as_str(), Some("acme"));
}

#[test]
fn invalid_org_is_rejected_and_nothing_is_saved() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(arca(dir.path()).args(["config", "set", "--org", "Acme Corp"]));
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.starts_with("Error: invalid org name \"Acme Corp\""),
        "{err}"
    );
    assert!(err.contains("lowercase"), "{err}");
    assert!(!config_file(dir.path()).exists());

    let out = run_with_stdin(
        arca(dir.path()).args(["config", "set"]),
        "k-12345678\nascii\nacme\nBad/Team\n",
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("invalid team name"),
        "{}",
        stderr(&out)
    );
    assert!(!config_file(dir.path()).exists());
}

#[test]
fn invalid_format_type_is_rejected_everywhere() {
    let dir = tempfile::tempdir().unwrap();
    // As a flag: clap's usage error, exit 1.
    let out = run(arca(dir.path()).args(["config", "set", "--format_type", "yaml"]));
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains("'yaml'") && err.contains("ascii, csv, json"),
        "{err}"
    );

    // As a piped answer.
    let out = run_with_stdin(arca(dir.path()).args(["config", "set"]), "\nyaml\n\n\n");
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).starts_with("Error: invalid format type \"yaml\""),
        "{}",
        stderr(&out)
    );
    assert!(!config_file(dir.path()).exists());

    // From the environment.
    let out = run(arca(dir.path())
        .env("ARCA_FORMAT_TYPE", "xml")
        .args(["config", "current"]));
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("ARCA_FORMAT_TYPE"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn precedence_is_flag_then_env_then_file() {
    let dir = tempfile::tempdir().unwrap();
    assert_success(&run(
        arca(dir.path()).args(["config", "set", "--org", "fileorg", "--team", "fileteam"])
    ));
    let rows = current(dir.path(), &[]);
    assert_eq!(entry(&rows, "org"), ("fileorg".into(), "file".into()));

    let out = run(arca(dir.path())
        .env("ARCA_ORG", "envorg")
        .env("ARCA_API_KEY", "env-key-abcd1234")
        .args([
            "config",
            "current",
            "--format-type",
            "json",
            "--team",
            "no-team",
        ]));
    assert_success(&out);
    let rows: Vec<Value> = serde_json::from_str(&stdout(&out)).unwrap();
    let get = |k: &str| rows.iter().find(|r| r["key"] == k).cloned().unwrap();
    assert_eq!(get("org")["value"], "envorg");
    assert_eq!(get("org")["source"], "env");
    assert_eq!(get("team")["value"], Value::Null);
    assert_eq!(get("team")["source"], "flag");
    assert_eq!(get("api_key")["value"], "****1234");
    assert_eq!(get("api_key")["source"], "env");

    let rows = current(dir.path(), &["--org", "flagorg"]);
    assert_eq!(entry(&rows, "org"), ("flagorg".into(), "flag".into()));
}

#[test]
fn config_clear_removes_the_file() {
    let dir = tempfile::tempdir().unwrap();
    assert_success(&run(
        arca(dir.path()).args(["config", "set", "--org", "acme"])
    ));
    assert!(config_file(dir.path()).exists());
    let out = run(arca(dir.path()).args(["config", "clear"]));
    assert_success(&out);
    assert!(stdout(&out).contains("removed"), "{}", stdout(&out));
    assert!(!config_file(dir.path()).exists());
    let out = run(arca(dir.path()).args(["config", "clear"]));
    assert_success(&out);
    assert!(stdout(&out).contains("No configuration file"));
}

#[test]
fn broken_config_file_gives_a_clear_error_and_clear_fixes_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = config_file(dir.path());
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, "api_key = unquoted-secret\n").unwrap();
    let out = run(arca(dir.path()).args(["config", "current"]));
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains("cannot parse") && err.contains("arca config clear"),
        "{err}"
    );
    assert!(!err.contains("unquoted-secret"), "{err}");
    assert_success(&run(arca(dir.path()).args(["config", "clear"])));
}

// ---- against a tiny HTTP server ----

/// Serves one canned response; reports the request head it saw.
fn serve_once(status: &str, body: &str) -> (String, mpsc::Receiver<String>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let response = format!(
        "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        let Ok((mut stream, _)) = listener.accept() else {
            return;
        };
        let mut head = String::new();
        {
            let mut reader = BufReader::new(&mut stream);
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
                head.push_str(&line);
            }
        }
        let _ = tx.send(head);
        let _ = stream.write_all(response.as_bytes());
        let _ = stream.flush();
        let mut rest = Vec::new();
        let _ = stream.read_to_end(&mut rest);
    });
    (base, rx)
}

#[test]
fn health_against_a_server_prints_the_status() {
    let dir = tempfile::tempdir().unwrap();
    let (base, rx) = serve_once("200 OK", r#"{"status":"ok"}"#);
    let out = run(arca(dir.path())
        .env("ARCA_API_KEY", "nvapi-health-key-5678")
        .args([
            "health",
            "--org",
            "acme",
            "--format_type",
            "json",
            "--url",
            &base,
        ]));
    assert_success(&out);
    let body: Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(body["status"], "ok");
    assert_eq!(body["url"], base);

    let head = rx.recv_timeout(Duration::from_secs(10)).unwrap();
    let lower = head.to_ascii_lowercase();
    assert!(head.starts_with("GET /healthz HTTP/1.1\r\n"), "{head}");
    assert!(
        lower.contains("authorization: bearer nvapi-health-key-5678"),
        "{head}"
    );
    assert!(lower.contains("nv-ngc-org: acme"), "{head}");
    assert!(!lower.contains("nv-ngc-team"), "{head}");
    assert!(lower.contains("user-agent: arca-cli/"), "{head}");
}

#[test]
fn health_in_ascii_with_debug_logs_the_request_but_not_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let (base, _rx) = serve_once("200 OK", r#"{"status":"ok"}"#);
    let out = run(arca(dir.path())
        .env("ARCA_API_KEY", "nvapi-debug-key-5678")
        .env("ARCA_URL", &base)
        .args(["health", "--debug"]));
    assert_success(&out);
    let text = stdout(&out);
    assert!(
        text.lines()
            .any(|l| l.contains("status") && l.contains("ok")),
        "{text}"
    );
    let err = stderr(&out);
    assert!(
        err.contains(&format!("GET {base}/healthz -> 200 OK")),
        "{err}"
    );
    assert!(!err.contains("debug-key"), "{err}");
}

#[test]
fn api_error_is_reported_with_exit_code_2() {
    let dir = tempfile::tempdir().unwrap();
    let (base, _rx) = serve_once(
        "503 Service Unavailable",
        r#"{"requestStatus":{"statusCode":"UNAVAILABLE","statusDescription":"database is down","requestId":"req-7"}}"#,
    );
    let out = run(arca(dir.path()).args(["health", "--url", &base]));
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        stderr(&out).trim(),
        "Error: database is down (HTTP 503 UNAVAILABLE, request id req-7)"
    );
}

#[test]
fn unreachable_server_gives_a_clear_error_and_exit_code_2() {
    let dir = tempfile::tempdir().unwrap();
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("http://127.0.0.1:{port}");
    let out = run(arca(dir.path()).args(["health", "--url", &url]));
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.starts_with(&format!("Error: cannot connect to {url}/healthz: ")),
        "{err}"
    );
    assert!(stdout(&out).is_empty());
}

#[test]
fn bad_url_is_a_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(arca(dir.path()).args(["health", "--url", "localhost:5000"]));
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("http://"), "{}", stderr(&out));
}

#[test]
fn help_documents_exit_codes_and_usage_errors_exit_1() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(arca(dir.path()).arg("--help"));
    assert_success(&out);
    let help = stdout(&out);
    assert!(
        help.contains("Exit status") && help.contains("ARCA_CONFIG_DIR"),
        "{help}"
    );
    assert!(help.contains("--format_type"), "{help}");

    let out = run(arca(dir.path()).arg("no-such-command"));
    assert_eq!(out.status.code(), Some(1));
    let out = run(&mut arca(dir.path()));
    assert_eq!(out.status.code(), Some(1));
}

//! Models and resources (R-MOD-1..5, R-QUO) over Arca's REST API in NGC's shapes, driven
//! directly with `reqwest` against a live `arca-server` on the embedded default storage, the
//! way `ngcsdk` speaks it (`shared/research/ngc-rest-protocol.md` §5.1, §5.2, §6):
//!
//! * the whole upload protocol by hand: exists check, multipart start, part PUTs to the signed
//!   URLs without credentials, completion, commit, `UPLOAD_COMPLETE`; info, lists, the file
//!   browser, signed downloads with ranges (and ngcsdk's `Range: bytes=0--1` for empty files);
//! * bad input, each answered in NGC's error shape with nothing half-visible or lost: metrics
//!   limits, version ids with `/` or `..`, parts of the wrong length, tampered or forged URLs,
//!   commits of files never uploaded, bytes that do not match their sha256, downloads of
//!   incomplete versions, empty versions marked complete;
//! * visibility of pending versions and team models; versions from a base version; set-latest
//!   and SemVer order; resources (automatic version ids, documents, R-MOD-5 deletion rights);
//!   the org's models-and-resources quota with content shared across artifacts counted once;
//!   an upload resumed after the server restarted; usage per team (models, resources and
//!   images), with content shared between teams counted once by the org.
//!
//! Every request is bounded by [`REQUEST_TIMEOUT`]; every test starts its own server.

use std::collections::BTreeMap;
use std::ffi::OsStr;
use std::path::Path;
use std::time::Duration;

use arca_tests::{run_server_command, Server};
use reqwest::header::HeaderMap;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use sha2::{Digest as _, Sha256};

/// Bound of every HTTP request.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(120);
/// ngcsdk's part size ("a contractual constant").
const PART_SIZE: usize = 500_000_000;

// =============================================================================================
// Bytes and digests
// =============================================================================================

/// Standard base64 with padding, as ngcsdk sends SHA-256 values.
fn b64(data: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// SHA-256 of `data`, standard base64 (ngcsdk's form).
fn sha(data: &[u8]) -> String {
    b64(&Sha256::digest(data))
}

/// `n` deterministic pseudo-random bytes derived from `seed` (xorshift64*).
fn bytes(seed: &str, n: usize) -> Vec<u8> {
    let mut state = seed.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    }) | 1;
    let mut out = Vec::with_capacity(n + 8);
    while out.len() < n {
        state ^= state >> 12;
        state ^= state << 25;
        state ^= state >> 27;
        out.extend_from_slice(&state.wrapping_mul(0x2545_f491_4f6c_dd1d).to_le_bytes());
    }
    out.truncate(n);
    out
}

// =============================================================================================
// HTTP helpers
// =============================================================================================

/// One answer, kept whole for assertions.
struct Resp {
    what: String,
    status: StatusCode,
    headers: HeaderMap,
    body: Vec<u8>,
}

impl Resp {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    fn describe(&self) -> String {
        let mut text = String::from_utf8_lossy(&self.body).into_owned();
        if text.len() > 2000 {
            text.truncate(2000);
            text.push('…');
        }
        format!(
            "{} -> {}\nheaders: {:?}\nbody: {text}",
            self.what, self.status, self.headers
        )
    }

    #[track_caller]
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("body is not JSON ({e}):\n{}", self.describe()))
    }

    #[track_caller]
    fn expect(&self, status: u16) -> &Self {
        assert_eq!(
            self.status.as_u16(),
            status,
            "unexpected status\n{}",
            self.describe()
        );
        self
    }

    /// Asserts 200 and returns the JSON body.
    #[track_caller]
    fn ok(&self) -> Value {
        self.expect(200);
        self.json()
    }

    /// Asserts an error in NGC's shape (`{"requestStatus":{"statusCode","statusDescription",
    /// "requestId"}}`) with this status and code, whose description contains every one of
    /// `needles`; returns the description.
    #[track_caller]
    fn expect_error(&self, status: u16, code: &str, needles: &[&str]) -> String {
        self.expect(status);
        let body = self.json();
        let rs = &body["requestStatus"];
        assert_eq!(rs["statusCode"], code, "{}", self.describe());
        assert!(
            rs["requestId"].as_str().is_some_and(|s| !s.is_empty()),
            "no requestId\n{}",
            self.describe()
        );
        let text = rs["statusDescription"].as_str().unwrap_or_default();
        for n in needles {
            assert!(
                text.contains(n),
                "the description does not say {n:?}\n{}",
                self.describe()
            );
        }
        text.to_string()
    }
}

/// A request's optional parts.
#[derive(Default)]
struct Req<'a> {
    headers: Vec<(&'a str, String)>,
    body: Option<Vec<u8>>,
    stream: Option<Vec<Vec<u8>>>,
    json: Option<Value>,
}

impl<'a> Req<'a> {
    fn header(mut self, name: &'a str, value: impl Into<String>) -> Self {
        self.headers.push((name, value.into()));
        self
    }
    fn body(mut self, body: impl Into<Vec<u8>>) -> Self {
        self.body = Some(body.into());
        self
    }
    /// A body sent as a stream of these chunks (chunked, no `Content-Length`).
    fn stream(mut self, chunks: Vec<Vec<u8>>) -> Self {
        self.stream = Some(chunks);
        self
    }
    fn json(mut self, v: Value) -> Self {
        self.json = Some(v);
        self
    }
}

fn req<'a>() -> Req<'a> {
    Req::default()
}

/// Models or resources: their path segment and NGC's JSON wrappers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Model,
    Resource,
}

impl Kind {
    fn seg(self) -> &'static str {
        match self {
            Kind::Model => "models",
            Kind::Resource => "resources",
        }
    }
    fn one(self) -> &'static str {
        match self {
            Kind::Model => "model",
            Kind::Resource => "recipe",
        }
    }
    fn version(self) -> &'static str {
        match self {
            Kind::Model => "modelVersion",
            Kind::Resource => "recipeVersion",
        }
    }
    fn versions(self) -> &'static str {
        match self {
            Kind::Model => "modelVersions",
            Kind::Resource => "recipeVersions",
        }
    }
    fn files(self) -> &'static str {
        match self {
            Kind::Model => "modelFiles",
            Kind::Resource => "recipeFiles",
        }
    }
}

/// An artifact: kind, optional team of org `demo`, name.
#[derive(Debug, Clone)]
struct Art {
    kind: Kind,
    team: Option<&'static str>,
    name: String,
}

impl Art {
    fn model(name: &str) -> Art {
        Art {
            kind: Kind::Model,
            team: None,
            name: name.into(),
        }
    }
    fn resource(name: &str) -> Art {
        Art {
            kind: Kind::Resource,
            team: None,
            name: name.into(),
        }
    }
    fn in_team(mut self, team: &'static str) -> Art {
        self.team = Some(team);
        self
    }
    /// `/v2/org/demo[/team/{team}]`
    fn ot(&self) -> String {
        match self.team {
            Some(t) => format!("/v2/org/demo/team/{t}"),
            None => "/v2/org/demo".into(),
        }
    }
    /// `/v2/org/demo[/team/{team}]/{models|resources}`
    fn coll(&self) -> String {
        format!("{}/{}", self.ot(), self.kind.seg())
    }
    /// `…/{models|resources}/{name}`
    fn path(&self) -> String {
        format!("{}/{}", self.coll(), self.name)
    }
    fn version_path(&self, v: &str) -> String {
        format!("{}/versions/{v}", self.path())
    }
}

/// An upload grant: the upload id and the part URLs.
struct Grant {
    id: String,
    urls: Vec<String>,
}

/// A client of one server with one credential (`None`: anonymous).
#[derive(Clone)]
struct Api {
    base: String,
    http: reqwest::Client,
    key: Option<String>,
}

impl Api {
    fn new(server: &Server, key: Option<&str>) -> Api {
        Api {
            base: server.base_url(),
            http: reqwest::Client::builder()
                .timeout(REQUEST_TIMEOUT)
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .expect("build an HTTP client"),
            key: key.map(str::to_string),
        }
    }

    fn with(&self, key: &str) -> Api {
        Api {
            key: Some(key.to_string()),
            ..self.clone()
        }
    }

    /// The same server without any credential (signed URLs carry their own).
    fn anonymous(&self) -> Api {
        Api {
            key: None,
            ..self.clone()
        }
    }

    fn url(&self, path_or_url: &str) -> String {
        if path_or_url.starts_with("http://") || path_or_url.starts_with("https://") {
            path_or_url.to_string()
        } else {
            format!("{}{path_or_url}", self.base)
        }
    }

    async fn send(&self, method: Method, path: &str, r: Req<'_>) -> Resp {
        let url = self.url(path);
        let what = format!("{method} {url}");
        let mut b = self.http.request(method.clone(), &url);
        if let Some(k) = &self.key {
            b = b.bearer_auth(k);
        }
        for (name, value) in &r.headers {
            b = b.header(*name, value);
        }
        if let Some(v) = r.json {
            b = b.json(&v);
        } else if let Some(chunks) = r.stream {
            let items: Vec<Result<Vec<u8>, std::io::Error>> = chunks.into_iter().map(Ok).collect();
            b = b.body(reqwest::Body::wrap_stream(futures::stream::iter(items)));
        } else if let Some(body) = r.body {
            b = b.body(body);
        } else if matches!(method, Method::POST | Method::PUT | Method::PATCH) {
            b = b.body(Vec::new());
        }
        let res = b
            .send()
            .await
            .unwrap_or_else(|e| panic!("{what} failed: {e:?}"));
        let status = res.status();
        let headers = res.headers().clone();
        let body = res
            .bytes()
            .await
            .unwrap_or_else(|e| panic!("{what}: reading the body failed: {e:?}"))
            .to_vec();
        Resp {
            what,
            status,
            headers,
            body,
        }
    }

    async fn get(&self, path: &str) -> Resp {
        self.send(Method::GET, path, req()).await
    }

    async fn delete(&self, path: &str) -> Resp {
        self.send(Method::DELETE, path, req()).await
    }

    async fn post(&self, path: &str, v: Value) -> Resp {
        self.send(Method::POST, path, req().json(v)).await
    }

    async fn put(&self, path: &str, v: Value) -> Resp {
        self.send(Method::PUT, path, req().json(v)).await
    }

    async fn patch(&self, path: &str, v: Value) -> Resp {
        self.send(Method::PATCH, path, req().json(v)).await
    }

    /// `POST /v2/{ot}/{models|resources}` with `name` and these fields.
    async fn create(&self, a: &Art, fields: Value) -> Resp {
        let mut body = fields;
        body["name"] = json!(a.name);
        self.post(&a.coll(), body).await
    }

    /// Creates an artifact with a short description, asserting success.
    async fn create_ok(&self, a: &Art) -> Value {
        self.create(
            a,
            json!({"shortDescription": format!("{} for tests", a.name)}),
        )
        .await
        .ok()
    }

    /// `POST …/versions` with `versionId` (when given) and these fields.
    async fn create_version(&self, a: &Art, v: Option<&str>, fields: Value) -> Resp {
        let mut body = fields;
        if let Some(v) = v {
            body["versionId"] = json!(v);
        }
        self.post(&format!("{}/versions", a.path()), body).await
    }

    /// `POST …/{name}/files`: which of these contents the artifact already holds.
    async fn known(&self, a: &Art, contents: &[&[u8]]) -> Vec<bool> {
        let files: Vec<Value> = contents.iter().map(|c| json!({"sha256": sha(c)})).collect();
        let r = self
            .post(
                &format!("{}/files?page-size=100", a.path()),
                json!({"files": files}),
            )
            .await;
        let body = r.ok();
        let answers = body["files"].as_array().cloned().unwrap_or_default();
        assert_eq!(answers.len(), contents.len(), "{}", r.describe());
        answers
            .iter()
            .zip(contents)
            .map(|(x, c)| {
                assert_eq!(x["sha256"], sha(c), "{}", r.describe());
                x["exists"]
                    .as_bool()
                    .unwrap_or_else(|| panic!("no exists\n{}", r.describe()))
            })
            .collect()
    }

    /// `POST /v2/{ot}/files/multipart` with an explicit size and sha256 (and resume fields).
    async fn start_raw(
        &self,
        a: &Art,
        v: &str,
        path: &str,
        size: usize,
        sha256: &str,
        resume: Option<(&str, &[u32])>,
    ) -> Resp {
        let mut body = json!({
            "name": a.name, "version": v, "artifactType": a.kind.seg(),
            "filePath": path, "size": size, "sha256": sha256,
        });
        if let Some((id, parts)) = resume {
            body["uploadID"] = json!(id);
            body["partNumberList"] = json!(parts);
        }
        self.post(&format!("{}/files/multipart", a.ot()), body)
            .await
    }

    /// Starts the upload of `data` at `path`, asserting success and one URL per part.
    async fn start(&self, a: &Art, v: &str, path: &str, data: &[u8]) -> Grant {
        let r = self
            .start_raw(a, v, path, data.len(), &sha(data), None)
            .await;
        let g = grant(&r);
        assert_eq!(g.urls.len(), part_count(data.len()), "{}", r.describe());
        g
    }

    /// `PUT` of one part to its signed URL, without credentials.
    async fn put_part(&self, url: &str, data: &[u8]) -> Resp {
        self.anonymous()
            .send(
                Method::PUT,
                url,
                req()
                    .header("Content-Type", "application/octet-stream")
                    .body(data.to_vec()),
            )
            .await
    }

    /// `PUT /v2/{ot}/files/multipart`: completes one file.
    async fn complete(&self, a: &Art, v: &str, path: &str, id: &str, sha256: &str) -> Resp {
        self.put(
            &format!("{}/files/multipart", a.ot()),
            json!({
                "name": a.name, "version": v, "artifactType": a.kind.seg(),
                "filePath": path, "uploadID": id, "sha256": sha256,
            }),
        )
        .await
    }

    /// Uploads one file whole (start, every part, complete), asserting success.
    async fn upload(&self, a: &Art, v: &str, path: &str, data: &[u8]) {
        let g = self.start(a, v, path, data).await;
        for (i, url) in g.urls.iter().enumerate() {
            let lo = (i * PART_SIZE).min(data.len());
            let hi = (lo + PART_SIZE).min(data.len());
            self.put_part(url, &data[lo..hi]).await.expect(200);
        }
        self.complete(a, v, path, &g.id, &sha(data))
            .await
            .expect(200);
    }

    /// `POST /v2/{ot}/files/commit?upload-pending=True`.
    async fn commit(&self, a: &Art, v: &str, files: Vec<Value>, base: Option<&str>) -> Resp {
        self.post(
            &format!("{}/files/commit?upload-pending=True", a.ot()),
            json!({
                "name": a.name, "artifactType": a.kind.seg(), "version": v,
                "files": files, "baseVersion": base,
            }),
        )
        .await
    }

    /// `PATCH …/versions/{v}` `{"status":"UPLOAD_COMPLETE"}`.
    async fn finish(&self, a: &Art, v: &str) -> Resp {
        self.patch(&a.version_path(v), json!({"status": "UPLOAD_COMPLETE"}))
            .await
    }

    /// Creates version `v`, uploads the files whose content the artifact lacks (as ngcsdk
    /// does), commits all of them and marks the version complete; returns the version JSON.
    async fn publish(&self, a: &Art, v: &str, files: &[(&str, &[u8])]) -> Value {
        self.create_version(a, Some(v), json!({"description": format!("version {v}")}))
            .await
            .expect(200);
        let contents: Vec<&[u8]> = files.iter().map(|(_, d)| *d).collect();
        let known = self.known(a, &contents).await;
        let mut uploaded = std::collections::HashSet::new();
        for ((path, data), exists) in files.iter().zip(known) {
            if !exists && uploaded.insert(sha(data)) {
                self.upload(a, v, path, data).await;
            }
        }
        let adds = files.iter().map(|(p, d)| addition(p, d)).collect();
        self.commit(a, v, adds, None).await.expect(200);
        let r = self.finish(a, v).await;
        let body = r.ok();
        assert_eq!(
            body[a.kind.version()]["status"],
            "UPLOAD_COMPLETE",
            "{}",
            r.describe()
        );
        body[a.kind.version()].clone()
    }

    /// The file browser of a version: path → (size, sha256 base64).
    async fn files(&self, a: &Art, v: &str) -> BTreeMap<String, (u64, String)> {
        let r = self
            .get(&format!("{}/files?page-size=1000", a.version_path(v)))
            .await;
        let body = r.ok();
        body[a.kind.files()]
            .as_array()
            .unwrap_or_else(|| panic!("no {}\n{}", a.kind.files(), r.describe()))
            .iter()
            .map(|f| {
                (
                    f["path"].as_str().unwrap_or_default().to_string(),
                    (
                        f["sizeInBytes"].as_u64().unwrap_or(u64::MAX),
                        f["sha256_base64"].as_str().unwrap_or_default().to_string(),
                    ),
                )
            })
            .collect()
    }

    /// Downloads every file of a version through the signed URL listing (no credentials on
    /// the URLs): path → bytes.
    async fn download(&self, a: &Art, v: &str) -> BTreeMap<String, Vec<u8>> {
        let r = self.get(&format!("{}/{v}/files", a.path())).await;
        let body = r.ok();
        let paths = body["filepath"].as_array().cloned().unwrap_or_default();
        let urls = body["urls"].as_array().cloned().unwrap_or_default();
        assert_eq!(paths.len(), urls.len(), "{}", r.describe());
        let mut out = BTreeMap::new();
        for (p, u) in paths.iter().zip(&urls) {
            let url = u.as_str().expect("url string");
            let g = self.anonymous().get(url).await;
            g.expect(200);
            out.insert(p.as_str().expect("path string").to_string(), g.body);
        }
        out
    }

    /// Version ids of a version list, in the order answered.
    async fn version_ids(&self, a: &Art) -> Vec<String> {
        let r = self
            .get(&format!(
                "{}/versions?page-size=1000&sort-order=SEMVER_DESC",
                a.path()
            ))
            .await;
        let body = r.ok();
        body[a.kind.versions()]
            .as_array()
            .unwrap_or_else(|| panic!("no {}\n{}", a.kind.versions(), r.describe()))
            .iter()
            .map(|v| v["versionId"].as_str().unwrap_or_default().to_string())
            .collect()
    }

    /// The artifact's `latestVersionIdStr` (`None` when absent).
    async fn latest(&self, a: &Art) -> Option<String> {
        let body = self.get(&a.path()).await.ok();
        body[a.kind.one()]["latestVersionIdStr"]
            .as_str()
            .map(str::to_string)
    }

    /// `GET /v2/org/demo/usage`: bytes used by models and resources.
    async fn models_usage(&self) -> u64 {
        let body = self.get("/v2/org/demo/usage").await.ok();
        body["usage"]["modelsAndResources"]["used"]
            .as_u64()
            .unwrap_or_else(|| panic!("no modelsAndResources usage: {body}"))
    }

    /// Names (`resourceId`s) the org-level search returns for `MODEL` or `RECIPE`.
    async fn search(&self, team: Option<&str>, resource_type: &str) -> Vec<String> {
        let q = json!({
            "fields": [], "filters": [], "orderBy": [{"field": "score", "value": "ASC"}],
            "page": 0, "pageSize": 100, "query": "resourceId:demo/*",
            "queryFields": ["name", "displayName", "description", "all"],
        })
        .to_string();
        let scope = match team {
            Some(t) => format!("org/demo/team/{t}"),
            None => "org/demo".into(),
        };
        let url = reqwest::Url::parse_with_params(
            &self.url(&format!("/v2/search/{scope}/resources/{resource_type}")),
            &[("q", q)],
        )
        .expect("search URL");
        let r = self.get(url.as_str()).await;
        let body = r.ok();
        body["results"]
            .as_array()
            .into_iter()
            .flatten()
            .flat_map(|g| g["resources"].as_array().cloned().unwrap_or_default())
            .map(|x| x["resourceId"].as_str().unwrap_or_default().to_string())
            .collect()
    }

    /// Adds a user to org `demo` (or one of its teams) with these roles; returns their key.
    async fn add_user(&self, team: Option<&str>, email: &str, roles: &[&str]) -> String {
        let path = match team {
            Some(t) => format!("/v2/org/demo/team/{t}/users"),
            None => "/v2/org/demo/users".to_string(),
        };
        let r = self
            .post(
                &path,
                json!({"email": email, "name": email, "roleTypes": roles}),
            )
            .await;
        assert!(r.status.is_success(), "{}", r.describe());
        r.json()["apiKey"]
            .as_str()
            .unwrap_or_else(|| panic!("no apiKey for {email}\n{}", r.describe()))
            .to_string()
    }

    async fn create_team(&self, name: &str) {
        let r = self
            .post(
                "/v2/org/demo/teams",
                json!({"name": name, "description": format!("team {name}")}),
            )
            .await;
        assert!(r.status.is_success(), "{}", r.describe());
    }
}

/// Reads a multipart start answer (200 asserted).
#[track_caller]
fn grant(r: &Resp) -> Grant {
    let body = r.ok();
    let id = body["uploadID"]
        .as_str()
        .unwrap_or_else(|| panic!("no uploadID\n{}", r.describe()))
        .to_string();
    let urls: Vec<String> = body["urls"]
        .as_array()
        .unwrap_or_else(|| panic!("no urls\n{}", r.describe()))
        .iter()
        .map(|u| u.as_str().expect("url string").to_string())
        .collect();
    Grant { id, urls }
}

fn part_count(size: usize) -> usize {
    size.div_ceil(PART_SIZE).max(1)
}

/// A commit entry adding `data` at `path`.
fn addition(path: &str, data: &[u8]) -> Value {
    json!({"commitType": "ADDITION", "filePath": path, "sha256": sha(data)})
}

/// A commit entry removing `path`.
fn deletion(path: &str) -> Value {
    json!({"commitType": "DELETION", "filePath": path})
}

/// Replaces the value of query parameter `key` in `url`.
fn with_param(url: &str, key: &str, value: &str) -> String {
    let mut u = reqwest::Url::parse(url).expect("URL");
    let pairs: Vec<(String, String)> = u
        .query_pairs()
        .map(|(k, v)| {
            if k == key {
                (k.into_owned(), value.to_string())
            } else {
                (k.into_owned(), v.into_owned())
            }
        })
        .collect();
    u.query_pairs_mut().clear().extend_pairs(pairs);
    u.to_string()
}

/// The value of query parameter `key` in `url`.
fn param(url: &str, key: &str) -> String {
    reqwest::Url::parse(url)
        .expect("URL")
        .query_pairs()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.into_owned())
        .unwrap_or_else(|| panic!("{url} has no {key}"))
}

async fn start() -> Server {
    Server::builder()
        .start()
        .await
        .unwrap_or_else(|e| panic!("start arca-server: {e:#}"))
}

/// `arca-server org set-quota --data-dir <dir> --org demo <extra…> --json`, asserted to succeed.
fn set_quota(data_dir: &Path, extra: &[&str]) {
    let mut args: Vec<&OsStr> = vec![
        OsStr::new("org"),
        OsStr::new("set-quota"),
        OsStr::new("--data-dir"),
        data_dir.as_os_str(),
        OsStr::new("--org"),
        OsStr::new("demo"),
        OsStr::new("--json"),
    ];
    args.extend(extra.iter().map(OsStr::new));
    let out = run_server_command(args).unwrap_or_else(|e| panic!("arca-server org: {e:#}"));
    assert!(out.success(), "org set-quota failed\n{}", out.describe());
}

// =============================================================================================
// 1. The happy path over plain REST
// =============================================================================================

/// ngcsdk's upload protocol by hand, then info, lists, the file browser and signed downloads
/// with ranges, HEAD and the empty file's `Range: bytes=0--1`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rest_round_trip_uploads_browses_and_downloads() {
    let server = start().await;
    let api = Api::new(&server, Some(server.key()));
    let m = Art::model("bert");

    let created = api
        .create(
            &m,
            json!({
                "displayName": "BERT", "shortDescription": "a language model",
                "description": "# BERT\noverview", "application": "Other",
                "framework": "PyTorch", "modelFormat": "onnx", "precision": "FP16",
                "labelsV2": ["nlp"], "builtBy": "tests", "publisher": "Arca",
                "publicDatasetUsed": {"name": "wiki", "link": "https://example.com", "license": "CC"},
            }),
        )
        .await
        .ok();
    assert_eq!(created["model"]["name"], "bert", "{created}");
    assert_eq!(created["model"]["framework"], "PyTorch", "{created}");
    assert_eq!(created["model"]["publicDatasetUsed"]["name"], "wiki");
    api.create(&m, json!({}))
        .await
        .expect_error(409, "EXISTS", &["bert"]);

    let metrics = json!([{"name": "accuracy", "attributes": [{"key": "top1", "value": "0.9"}]}]);
    let v = api
        .create_version(
            &m,
            Some("1.0"),
            json!({
                "description": "first", "gpuModel": "A100", "accuracyReached": 91.5,
                "batchSize": 8, "memoryFootprint": "2GB", "numberOfEpochs": 3,
                "customMetrics": metrics, "link": "https://example.com/x", "linkType": "Github",
            }),
        )
        .await
        .ok();
    assert_eq!(v["modelVersion"]["status"], "UPLOAD_PENDING", "{v}");
    assert_eq!(v["modelVersion"]["versionId"], "1.0");

    let readme = b"# read me\n".to_vec();
    let weights = bytes("weights", 200_000);
    let config = br#"{"layers": 12}"#.to_vec();
    let empty: Vec<u8> = Vec::new();
    let files: Vec<(&str, &[u8])> = vec![
        ("README.md", &readme),
        ("weights/model.bin", &weights),
        ("sub/dir/config.json", &config),
        ("empty.txt", &empty),
    ];
    let contents: Vec<&[u8]> = files.iter().map(|(_, d)| *d).collect();
    assert_eq!(api.known(&m, &contents).await, vec![false; 4]);
    for (path, data) in &files {
        let g = api.start(&m, "1.0", path, data).await;
        assert_eq!(g.urls.len(), 1);
        assert!(g.urls[0].starts_with(&server.base_url()), "{}", g.urls[0]);
        // The URL is the credential: no Authorization header.
        api.put_part(&g.urls[0], data).await.expect(200);
        api.complete(&m, "1.0", path, &g.id, &sha(data)).await.ok();
    }
    assert_eq!(api.known(&m, &contents).await, vec![true; 4]);
    // Uploaded but not committed: the version has no files yet.
    assert!(api.files(&m, "1.0").await.is_empty());
    let adds = files.iter().map(|(p, d)| addition(p, d)).collect();
    api.commit(&m, "1.0", adds, None).await.ok();
    let done = api.finish(&m, "1.0").await.ok();
    let total: u64 = files.iter().map(|(_, d)| d.len() as u64).sum();
    assert_eq!(done["modelVersion"]["status"], "UPLOAD_COMPLETE", "{done}");
    assert_eq!(done["modelVersion"]["totalFileCount"], 4, "{done}");
    assert_eq!(done["modelVersion"]["totalSizeInBytes"], total, "{done}");

    // Info, list, version info and list.
    let info = api
        .get(&format!("{}?resolve-labels=false", m.path()))
        .await
        .ok();
    let model = &info["model"];
    assert_eq!(model["latestVersionIdStr"], "1.0", "{info}");
    assert!(model["latestVersionId"].is_i64(), "{info}");
    assert_eq!(model["latestVersionSizeInBytes"], total, "{info}");
    assert_eq!(model["displayName"], "BERT");
    assert_eq!(model["orgName"], "demo");
    assert_eq!(model["application"], "Other");
    let list = api.get(&m.coll()).await.ok();
    let names: Vec<&str> = list["models"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|x| x["name"].as_str())
        .collect();
    assert_eq!(names, vec!["bert"], "{list}");
    assert!(api
        .search(None, "MODEL")
        .await
        .contains(&"demo/bert".to_string()));
    let vinfo = api.get(&m.version_path("1.0")).await.ok();
    let mv = &vinfo["modelVersion"];
    assert_eq!(mv["status"], "UPLOAD_COMPLETE", "{vinfo}");
    assert_eq!(mv["gpuModel"], "A100");
    assert_eq!(mv["batchSize"], 8);
    assert_eq!(mv["numberOfEpochs"], 3);
    assert_eq!(mv["accuracyReached"], 91.5);
    assert_eq!(mv["memoryFootprint"], "2GB");
    assert_eq!(mv["customMetrics"], metrics, "{vinfo}");
    assert_eq!(mv["linkType"], "Github");
    assert_eq!(api.version_ids(&m).await, vec!["1.0"]);

    // The file browser: path, size, sha256.
    let want: BTreeMap<String, (u64, String)> = files
        .iter()
        .map(|(p, d)| (p.to_string(), (d.len() as u64, sha(d))))
        .collect();
    assert_eq!(api.files(&m, "1.0").await, want);

    // Downloads: every URL byte-identical, without credentials.
    let got = api.download(&m, "1.0").await;
    let want_bytes: BTreeMap<String, Vec<u8>> = files
        .iter()
        .map(|(p, d)| (p.to_string(), d.to_vec()))
        .collect();
    assert_eq!(got, want_bytes);

    // One file's URL; ranges; HEAD.
    let one = api
        .get(&format!("{}/1.0/files?path=weights%2Fmodel.bin", m.path()))
        .await
        .ok();
    let url = one["urls"][0].as_str().expect("url").to_string();
    let anon = api.anonymous();
    let r = anon
        .send(Method::GET, &url, req().header("Range", "bytes=10-19"))
        .await;
    r.expect(206);
    assert_eq!(r.header("content-range"), Some("bytes 10-19/200000"));
    assert_eq!(r.body, weights[10..20]);
    let r = anon
        .send(Method::GET, &url, req().header("Range", "bytes=199990-"))
        .await;
    r.expect(206);
    assert_eq!(r.body, weights[199_990..]);
    let r = anon
        .send(Method::GET, &url, req().header("Range", "bytes=-5"))
        .await;
    r.expect(206);
    assert_eq!(r.body, weights[199_995..]);
    let r = anon.send(Method::HEAD, &url, req()).await;
    r.expect(200);
    assert_eq!(
        r.header("content-length"),
        Some("200000"),
        "{}",
        r.describe()
    );
    assert!(r.body.is_empty());
    let r = anon
        .send(Method::GET, &url, req().header("Range", "bytes=300000-"))
        .await;
    r.expect(416);
    // Without its signature the URL is refused.
    let bare = url.split('?').next().expect("path").to_string();
    anon.get(&bare)
        .await
        .expect_error(403, "FORBIDDEN", &["signature"]);

    // The empty file, as ngcsdk asks for it.
    let empty_url = api
        .get(&format!("{}/1.0/files?path=empty.txt", m.path()))
        .await
        .ok()["urls"][0]
        .as_str()
        .expect("url")
        .to_string();
    let r = anon
        .send(Method::GET, &empty_url, req().header("Range", "bytes=0--1"))
        .await;
    r.expect(200);
    assert!(r.body.is_empty(), "{}", r.describe());

    // A file the version lacks.
    api.get(&format!("{}/1.0/files?path=nope.bin", m.path()))
        .await
        .expect_error(404, "NOT_FOUND", &["nope.bin"]);

    // Update and delete.
    let patched = api
        .patch(&m.path(), json!({"shortDescription": "changed"}))
        .await
        .ok();
    assert_eq!(patched["model"]["shortDescription"], "changed");
    assert_eq!(patched["model"]["framework"], "PyTorch");
    api.delete(&m.path()).await.ok();
    api.get(&m.path())
        .await
        .expect_error(404, "NOT_FOUND", &["bert"]);
}

// =============================================================================================
// 2. Bad input
// =============================================================================================

/// Metrics limits and version ids: refused with a clear 400, nothing created or changed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_metadata_and_version_ids_are_refused_and_change_nothing() {
    let server = start().await;
    let api = Api::new(&server, Some(server.key()));
    let m = Art::model("limits");
    api.create_ok(&m).await;

    let table = |name: &str, pairs: usize| {
        let attributes: Vec<Value> = (0..pairs)
            .map(|i| json!({"key": format!("k{i}"), "value": format!("{i}")}))
            .collect();
        json!({"name": name, "attributes": attributes})
    };
    let four: Vec<Value> = (0..4).map(|i| table(&format!("t{i}"), 1)).collect();
    api.create_version(&m, Some("1.0"), json!({"customMetrics": four}))
        .await
        .expect_error(
            400,
            "INVALID_REQUEST",
            &["4 custom metrics tables", "at most 3"],
        );
    let thirteen = json!([table("a", 1), table("big", 13)]);
    api.create_version(&m, Some("1.0"), json!({"customMetrics": thirteen}))
        .await
        .expect_error(
            400,
            "INVALID_REQUEST",
            &["13 key/value pairs", "at most 12"],
        );
    assert!(api.version_ids(&m).await.is_empty());
    api.get(&m.version_path("1.0"))
        .await
        .expect_error(404, "NOT_FOUND", &[]);

    // The limits themselves are accepted.
    let max: Vec<Value> = (0..3).map(|i| table(&format!("t{i}"), 12)).collect();
    let ok = api
        .create_version(&m, Some("1.0"), json!({"customMetrics": max}))
        .await
        .ok();
    assert_eq!(ok["modelVersion"]["customMetrics"], json!(max));
    // A patch beyond the limits changes nothing.
    let five: Vec<Value> = (0..4).map(|i| table(&format!("p{i}"), 2)).collect();
    api.patch(
        &m.version_path("1.0"),
        json!({"customMetrics": five, "gpuModel": "H100"}),
    )
    .await
    .expect_error(400, "INVALID_REQUEST", &["at most 3"]);
    let now = api.get(&m.version_path("1.0")).await.ok();
    assert_eq!(now["modelVersion"]["customMetrics"], json!(max), "{now}");
    assert!(now["modelVersion"].get("gpuModel").is_none(), "{now}");

    // Version ids with `/` or `..`, in the body and in the transfer calls.
    for bad in ["1/0", "..", "1..2", "../x"] {
        api.create_version(&m, Some(bad), json!({}))
            .await
            .expect_error(400, "INVALID_REQUEST", &["versionId"]);
        api.start_raw(&m, bad, "a.bin", 1, &sha(b"a"), None)
            .await
            .expect_error(400, "INVALID_REQUEST", &["version"]);
    }
    assert_eq!(api.version_ids(&m).await, vec!["1.0"]);
    // A file path escaping the version.
    for bad in ["../a.bin", "/abs", "a/../../b", "a//b"] {
        api.start_raw(&m, "1.0", bad, 1, &sha(b"a"), None)
            .await
            .expect_error(400, "INVALID_REQUEST", &["file path"]);
    }
    // A sha256 that is not one.
    api.start_raw(&m, "1.0", "a.bin", 1, "not-base64!", None)
        .await
        .expect_error(400, "INVALID_REQUEST", &["sha256"]);
    // Unknown fields are named.
    api.create_version(&m, Some("2.0"), json!({"gpuModle": "A100"}))
        .await
        .expect_error(400, "INVALID_REQUEST", &["gpuModle"]);
    assert_eq!(api.version_ids(&m).await, vec!["1.0"]);
}

/// Parts of the wrong length, tampered and forged URLs, commits of files never uploaded,
/// content that does not match its sha256, downloads of incomplete versions and empty versions
/// marked complete: each a clear error, and what was right before stays usable.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_transfers_are_refused_and_lose_nothing() {
    let server = start().await;
    let api = Api::new(&server, Some(server.key()));
    let m = Art::model("transfers");
    api.create_ok(&m).await;
    api.create_version(&m, Some("1.0"), json!({}))
        .await
        .expect(200);

    // Marking a version with no files complete.
    api.finish(&m, "1.0")
        .await
        .expect_error(400, "INVALID_REQUEST", &["no files"]);
    let v = api.get(&m.version_path("1.0")).await.ok();
    assert_eq!(v["modelVersion"]["status"], "UPLOAD_PENDING", "{v}");
    // Setting a pending version as the latest.
    api.send(
        Method::PATCH,
        &format!("{}?set-latest=true", m.version_path("1.0")),
        req().json(json!({})),
    )
    .await
    .expect_error(400, "INVALID_REQUEST", &["still being uploaded"]);

    // A good file first: committed, it must survive everything that follows.
    let good = bytes("good", 3000);
    api.upload(&m, "1.0", "good.bin", &good).await;
    api.commit(&m, "1.0", vec![addition("good.bin", &good)], None)
        .await
        .ok();
    let before = api.files(&m, "1.0").await;
    assert_eq!(before.len(), 1);

    // A part of the wrong length: too short, too long, and streamed short without a length.
    let data = bytes("part", 1000);
    let g = api.start(&m, "1.0", "data.bin", &data).await;
    api.put_part(&g.urls[0], &data[..999]).await.expect_error(
        400,
        "INVALID_REQUEST",
        &["exactly 1000 bytes"],
    );
    let mut long = data.clone();
    long.push(0);
    api.put_part(&g.urls[0], &long).await.expect_error(
        400,
        "INVALID_REQUEST",
        &["exactly 1000 bytes"],
    );
    api.anonymous()
        .send(
            Method::PUT,
            &g.urls[0],
            req().stream(vec![data[..300].to_vec(), data[300..600].to_vec()]),
        )
        .await
        .expect_error(400, "INVALID_REQUEST", &["exactly 1000 bytes"]);
    let mut long_stream = data.clone();
    long_stream.extend_from_slice(b"extra");
    api.anonymous()
        .send(Method::PUT, &g.urls[0], req().stream(vec![long_stream]))
        .await
        .expect_error(400, "INVALID_REQUEST", &["exactly 1000 bytes"]);
    // Completing before the part arrived names the missing part.
    api.complete(&m, "1.0", "data.bin", &g.id, &sha(&data))
        .await
        .expect_error(400, "INVALID_REQUEST", &["incomplete", "[1]"]);
    assert_eq!(api.known(&m, &[&data]).await, vec![false]);

    // Tampered and forged URLs: 403 in NGC's shape, nothing stored.
    let url = &g.urls[0];
    let past = with_param(url, "expires", "1000000000");
    api.put_part(&past, &data)
        .await
        .expect_error(403, "FORBIDDEN", &["signature"]);
    let later = param(url, "expires").parse::<i64>().expect("expires") + 3600;
    api.put_part(&with_param(url, "expires", &later.to_string()), &data)
        .await
        .expect_error(403, "FORBIDDEN", &["signature"]);
    let sig = param(url, "signature");
    let mut forged: Vec<char> = sig.chars().collect();
    let last = forged.len() - 1;
    forged[last] = if forged[last] == '0' { '1' } else { '0' };
    let forged: String = forged.into_iter().collect();
    api.put_part(&with_param(url, "signature", &forged), &data)
        .await
        .expect_error(403, "FORBIDDEN", &["signature"]);
    api.put_part(url.split('?').next().expect("path"), &data)
        .await
        .expect_error(403, "FORBIDDEN", &["signature"]);
    // Another part number (or upload id) under the same signature.
    let other_part = url.replacen("/1?", "/2?", 1);
    assert_ne!(&other_part, url);
    api.put_part(&other_part, &data)
        .await
        .expect_error(403, "FORBIDDEN", &["signature"]);
    assert_eq!(api.known(&m, &[&data]).await, vec![false]);

    // The right part now goes through, and the upload completes.
    api.put_part(url, &data).await.expect(200);
    // Sending the same part again is harmless.
    api.put_part(url, &data).await.expect(200);
    // A bad re-send of a part already received loses nothing: a short stream is refused,
    // other bytes of the right length are not stored, and the part received first stays.
    api.anonymous()
        .send(Method::PUT, url, req().stream(vec![data[..10].to_vec()]))
        .await
        .expect_error(400, "INVALID_REQUEST", &["exactly 1000 bytes; 10 arrived"]);
    api.put_part(url, &long)
        .await
        .expect_error(400, "INVALID_REQUEST", &["exactly 1000 bytes"]);
    api.put_part(url, &bytes("other", 1000)).await.expect(200);
    api.complete(&m, "1.0", "data.bin", &g.id, &sha(&data))
        .await
        .ok();
    assert_eq!(api.known(&m, &[&data]).await, vec![true]);
    // Completing again is "already completed" (ngcsdk's resume race), not an error.
    api.complete(&m, "1.0", "data.bin", &g.id, &sha(&data))
        .await
        .expect(200);

    // A commit naming a file never uploaded: 400, the file list unchanged (all or nothing,
    // even with a valid addition in the same call).
    let never = bytes("never", 10);
    api.commit(
        &m,
        "1.0",
        vec![addition("data.bin", &data), addition("never.bin", &never)],
        None,
    )
    .await
    .expect_error(400, "INVALID_REQUEST", &["never.bin", "never uploaded"]);
    assert_eq!(api.files(&m, "1.0").await, before);
    // Removing a path the version lacks.
    api.commit(&m, "1.0", vec![deletion("nothing.bin")], None)
        .await
        .expect_error(400, "INVALID_REQUEST", &["nothing.bin"]);
    assert_eq!(api.files(&m, "1.0").await, before);

    // Bytes that do not match their sha256: 409 at completion, nothing stored.
    let announced = bytes("announced", 2000);
    let sent = bytes("sent", 2000);
    let g = api.start(&m, "1.0", "bad.bin", &announced).await;
    api.put_part(&g.urls[0], &sent).await.expect(200);
    let text = api
        .complete(&m, "1.0", "bad.bin", &g.id, &sha(&announced))
        .await
        .expect_error(409, "CONFLICT", &["integrity", "bad.bin"]);
    assert!(!text.contains("already exists"), "{text}");
    assert_eq!(
        api.known(&m, &[&announced, &sent]).await,
        vec![false, false]
    );
    api.commit(&m, "1.0", vec![addition("bad.bin", &announced)], None)
        .await
        .expect_error(400, "INVALID_REQUEST", &["never uploaded"]);
    assert_eq!(api.files(&m, "1.0").await, before);
    // The failed upload is gone; its URLs no longer store anything.
    api.put_part(&g.urls[0], &announced)
        .await
        .expect_error(404, "NOT_FOUND", &[]);
    // The content counts nowhere.
    assert_eq!(api.models_usage().await, (good.len() + data.len()) as u64);

    // A download of an incomplete version: a clear error, no URL.
    api.get(&format!("{}/1.0/files", m.path()))
        .await
        .expect_error(400, "INVALID_REQUEST", &["UPLOAD_PENDING"]);
    api.get(&format!("{}/1.0/files?path=good.bin", m.path()))
        .await
        .expect_error(400, "INVALID_REQUEST", &["UPLOAD_PENDING"]);

    // Everything that was right is still there: complete the version and read it back.
    api.commit(&m, "1.0", vec![addition("data.bin", &data)], None)
        .await
        .ok();
    api.finish(&m, "1.0").await.ok();
    let got = api.download(&m, "1.0").await;
    assert_eq!(got.len(), 2);
    assert_eq!(got["good.bin"], good);
    assert_eq!(got["data.bin"], data);
    // A complete version takes no more uploads or commits.
    api.start_raw(&m, "1.0", "late.bin", 1, &sha(b"x"), None)
        .await
        .expect_error(409, "CONFLICT", &["complete"]);
    api.commit(&m, "1.0", vec![deletion("good.bin")], None)
        .await
        .expect_error(409, "CONFLICT", &["complete"]);
    assert_eq!(api.files(&m, "1.0").await.len(), 2);
    // And cannot go back to pending.
    api.patch(&m.version_path("1.0"), json!({"status": "UPLOAD_PENDING"}))
        .await
        .expect_error(400, "INVALID_REQUEST", &["UPLOAD_PENDING"]);
}

// =============================================================================================
// 3. Visibility
// =============================================================================================

/// A pending version is 404 for readers and visible to uploaders; a team model is 404 for a
/// user outside the team and absent from their lists and searches.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pending_versions_and_team_models_are_hidden() {
    let server = start().await;
    let owner = Api::new(&server, Some(server.key()));
    let reader = owner.with(
        &owner
            .add_user(None, "reader@example.com", &["REGISTRY_READ"])
            .await,
    );
    let uploader = owner.with(
        &owner
            .add_user(None, "uploader@example.com", &["REGISTRY_USER"])
            .await,
    );
    let m = Art::model("shared");
    uploader.create_ok(&m).await;
    uploader.publish(&m, "1.0", &[("a.bin", b"one")]).await;
    uploader
        .create_version(&m, Some("2.0"), json!({}))
        .await
        .expect(200);
    uploader.upload(&m, "2.0", "b.bin", b"two").await;
    uploader
        .commit(&m, "2.0", vec![addition("b.bin", b"two")], None)
        .await
        .ok();

    // The uploader sees the pending version, its files and the version list entry.
    let v = uploader.get(&m.version_path("2.0")).await.ok();
    assert_eq!(v["modelVersion"]["status"], "UPLOAD_PENDING");
    assert_eq!(uploader.files(&m, "2.0").await.len(), 1);
    assert_eq!(uploader.version_ids(&m).await, vec!["2.0", "1.0"]);
    // The reader does not.
    reader
        .get(&m.version_path("2.0"))
        .await
        .expect_error(404, "NOT_FOUND", &[]);
    reader
        .get(&format!("{}/files", m.version_path("2.0")))
        .await
        .expect_error(404, "NOT_FOUND", &[]);
    reader
        .get(&format!("{}/2.0/files", m.path()))
        .await
        .expect_error(404, "NOT_FOUND", &[]);
    assert_eq!(reader.version_ids(&m).await, vec!["1.0"]);
    let info = reader.get(&m.path()).await.ok();
    assert_eq!(info["model"]["latestVersionIdStr"], "1.0", "{info}");
    assert_eq!(reader.download(&m, "1.0").await["a.bin"], b"one");
    // Readers cannot upload.
    reader
        .create_version(&m, Some("3.0"), json!({}))
        .await
        .expect_error(403, "FORBIDDEN", &[]);
    reader
        .start_raw(&m, "2.0", "c.bin", 1, &sha(b"c"), None)
        .await
        .expect_error(403, "FORBIDDEN", &[]);
    // Once complete, the reader sees it.
    uploader.finish(&m, "2.0").await.ok();
    let v = reader.get(&m.version_path("2.0")).await.ok();
    assert_eq!(v["modelVersion"]["status"], "UPLOAD_COMPLETE");
    assert_eq!(reader.version_ids(&m).await, vec!["2.0", "1.0"]);
    assert_eq!(reader.download(&m, "2.0").await["b.bin"], b"two");

    // Team models.
    owner.create_team("vision").await;
    owner.create_team("audio").await;
    let insider = owner.with(
        &owner
            .add_user(Some("vision"), "in@example.com", &["REGISTRY_READ"])
            .await,
    );
    let outsider = owner.with(
        &owner
            .add_user(Some("audio"), "out@example.com", &["REGISTRY_USER"])
            .await,
    );
    let t = Art::model("secret").in_team("vision");
    owner.create_ok(&t).await;
    owner.publish(&t, "1.0", &[("w.bin", b"weights")]).await;

    assert_eq!(insider.version_ids(&t).await, vec!["1.0"]);
    assert!(insider
        .search(None, "MODEL")
        .await
        .contains(&"demo/vision/secret".to_string()));
    let listed = insider.get(&t.coll()).await.ok();
    assert_eq!(listed["models"][0]["name"], "secret", "{listed}");

    for path in [
        t.path(),
        t.version_path("1.0"),
        format!("{}/versions", t.path()),
        format!("{}/files", t.version_path("1.0")),
        format!("{}/1.0/files", t.path()),
    ] {
        outsider
            .get(&path)
            .await
            .expect_error(404, "NOT_FOUND", &[]);
    }
    outsider
        .patch(&t.path(), json!({"shortDescription": "mine"}))
        .await
        .expect_error(404, "NOT_FOUND", &[]);
    outsider
        .delete(&t.path())
        .await
        .expect_error(404, "NOT_FOUND", &[]);
    outsider
        .create_version(&t, Some("2.0"), json!({}))
        .await
        .expect_error(404, "NOT_FOUND", &[]);
    outsider
        .start_raw(&t, "1.0", "x.bin", 1, &sha(b"x"), None)
        .await
        .expect_error(404, "NOT_FOUND", &[]);
    let r = outsider
        .post(
            &format!("{}/files", t.path()),
            json!({"files": [{"sha256": sha(b"weights")}]}),
        )
        .await;
    r.expect_error(404, "NOT_FOUND", &[]);
    // A team model the outsider cannot see looks like one that does not exist.
    let absent = outsider
        .get(&Art::model("nothing").in_team("vision").path())
        .await;
    absent.expect_error(404, "NOT_FOUND", &[]);
    // The outsider's search finds their own team's model, not the other team's.
    outsider
        .create_ok(&Art::model("loud").in_team("audio"))
        .await;
    let found = outsider.search(None, "MODEL").await;
    assert!(
        !found.iter().any(|x| x.contains("secret")),
        "the outsider's search shows {found:?}"
    );
    assert!(found.contains(&"demo/audio/loud".to_string()), "{found:?}");
    let found = outsider.search(Some("audio"), "MODEL").await;
    assert_eq!(found, vec!["demo/audio/loud"]);
    let r = outsider.get(&t.coll()).await;
    if r.status.as_u16() == 200 {
        assert_eq!(r.json()["models"], json!([]), "{}", r.describe());
    } else {
        r.expect_error(404, "NOT_FOUND", &[]);
    }
    // The owner's model is untouched.
    let info = owner.get(&t.path()).await.ok();
    assert_eq!(info["model"]["shortDescription"], "secret for tests");
}

// =============================================================================================
// 4. Versions from a base
// =============================================================================================

/// v2 from base v1: references v1's files without new bytes, adds one, replaces one, removes
/// one; v1 is untouched; content is stored and counted once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_version_from_a_base_references_adds_replaces_and_removes() {
    let server = start().await;
    let api = Api::new(&server, Some(server.key()));
    let m = Art::model("based");
    api.create_ok(&m).await;
    let keep = bytes("keep", 4000);
    let old = bytes("old", 3000);
    let gone = bytes("gone", 2000);
    let new = bytes("new", 1000);
    let added = bytes("added", 500);
    api.publish(
        &m,
        "1.0",
        &[
            ("keep.bin", &keep),
            ("dir/swap.bin", &old),
            ("gone.bin", &gone),
        ],
    )
    .await;
    let v1_files = api.files(&m, "1.0").await;
    let usage_v1 = api.models_usage().await;
    assert_eq!(usage_v1, (keep.len() + old.len() + gone.len()) as u64);

    api.create_version(&m, Some("2.0"), json!({}))
        .await
        .expect(200);
    // The base version must exist and be complete.
    api.commit(&m, "2.0", vec![], Some("9.9"))
        .await
        .expect_error(404, "NOT_FOUND", &["9.9"]);
    // ngcsdk: one call with the base and no files, then the changes.
    api.commit(&m, "2.0", vec![], Some("1.0")).await.ok();
    assert_eq!(api.files(&m, "2.0").await, v1_files);
    // The unchanged content exists already: nothing of it is uploaded again.
    assert_eq!(
        api.known(&m, &[&keep, &new, &added]).await,
        vec![true, false, false]
    );
    api.upload(&m, "2.0", "dir/swap.bin", &new).await;
    api.upload(&m, "2.0", "added.bin", &added).await;
    api.commit(
        &m,
        "2.0",
        vec![
            addition("dir/swap.bin", &new),
            addition("added.bin", &added),
            deletion("gone.bin"),
        ],
        None,
    )
    .await
    .ok();
    let done = api.finish(&m, "2.0").await.ok();
    let total = (keep.len() + new.len() + added.len()) as u64;
    assert_eq!(done["modelVersion"]["totalFileCount"], 3, "{done}");
    assert_eq!(done["modelVersion"]["totalSizeInBytes"], total, "{done}");

    let v2 = api.download(&m, "2.0").await;
    let want: BTreeMap<String, Vec<u8>> = [
        ("keep.bin", keep.clone()),
        ("dir/swap.bin", new.clone()),
        ("added.bin", added.clone()),
    ]
    .into_iter()
    .map(|(p, d)| (p.to_string(), d))
    .collect();
    assert_eq!(v2, want);
    assert_eq!(api.files(&m, "2.0").await["keep.bin"], v1_files["keep.bin"]);
    // v1 is untouched.
    assert_eq!(api.files(&m, "1.0").await, v1_files);
    let v1 = api.download(&m, "1.0").await;
    assert_eq!(v1["keep.bin"], keep);
    assert_eq!(v1["dir/swap.bin"], old);
    assert_eq!(v1["gone.bin"], gone);
    // Only the new content was counted.
    assert_eq!(
        api.models_usage().await,
        usage_v1 + (new.len() + added.len()) as u64
    );
    assert_eq!(api.latest(&m).await.as_deref(), Some("2.0"));

    // A base that is still pending is refused.
    api.create_version(&m, Some("3.0"), json!({}))
        .await
        .expect(200);
    api.create_version(&m, Some("4.0"), json!({}))
        .await
        .expect(200);
    api.commit(&m, "4.0", vec![], Some("3.0"))
        .await
        .expect_error(404, "NOT_FOUND", &["3.0"]);
    assert!(api.files(&m, "4.0").await.is_empty());
}

// =============================================================================================
// 5. Latest and order
// =============================================================================================

/// The version list is SemVer-descending; set-latest moves the latest; deleting the latest
/// moves it back to the newest remaining complete version, never to a pending one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn set_latest_semver_order_and_deleting_the_latest() {
    let server = start().await;
    let api = Api::new(&server, Some(server.key()));
    let m = Art::model("ordered");
    api.create_ok(&m).await;
    assert_eq!(api.latest(&m).await, None);
    let content = bytes("shared", 100);
    for v in ["1.0", "1.2", "1.10", "2.0"] {
        api.publish(&m, v, &[("w.bin", &content)]).await;
        assert_eq!(api.latest(&m).await.as_deref(), Some(v));
    }
    api.create_version(&m, Some("3.0"), json!({}))
        .await
        .expect(200);
    // SemVer, not string order: 1.10 after 1.2.
    assert_eq!(
        api.version_ids(&m).await,
        vec!["3.0", "2.0", "1.10", "1.2", "1.0"]
    );
    // A pending version does not become the latest.
    assert_eq!(api.latest(&m).await.as_deref(), Some("2.0"));

    let r = api
        .send(
            Method::PATCH,
            &format!("{}?set-latest=true", m.version_path("1.2")),
            req().json(json!({})),
        )
        .await;
    let body = r.ok();
    assert_eq!(body["model"]["latestVersionIdStr"], "1.2", "{body}");
    assert_eq!(api.latest(&m).await.as_deref(), Some("1.2"));
    // Deleting a version that is not the latest keeps the latest.
    api.delete(&m.version_path("1.0")).await.ok();
    assert_eq!(api.latest(&m).await.as_deref(), Some("1.2"));
    // Deleting the latest moves it back to the newest complete version.
    api.delete(&m.version_path("1.2")).await.ok();
    assert_eq!(api.latest(&m).await.as_deref(), Some("2.0"));
    api.delete(&m.version_path("2.0")).await.ok();
    assert_eq!(api.latest(&m).await.as_deref(), Some("1.10"));
    assert_eq!(api.version_ids(&m).await, vec!["3.0", "1.10"]);
    api.get(&m.version_path("2.0"))
        .await
        .expect_error(404, "NOT_FOUND", &[]);
    api.delete(&m.version_path("2.0"))
        .await
        .expect_error(404, "NOT_FOUND", &[]);
    // The remaining versions still download.
    assert_eq!(api.download(&m, "1.10").await["w.bin"], content);
    api.delete(&m.version_path("1.10")).await.ok();
    assert_eq!(api.latest(&m).await, None);
}

// =============================================================================================
// 6. Resources
// =============================================================================================

/// Resources: automatic version ids, documents round trip, and only admins and the creator
/// may delete one (R-MOD-5).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resources_auto_version_carry_documents_and_limit_deletion() {
    let server = start().await;
    let owner = Api::new(&server, Some(server.key()));
    let alice = owner.with(
        &owner
            .add_user(None, "alice@example.com", &["REGISTRY_USER"])
            .await,
    );
    let bob = owner.with(
        &owner
            .add_user(None, "bob@example.com", &["REGISTRY_USER"])
            .await,
    );
    let admin = owner.with(
        &owner
            .add_user(None, "admin@example.com", &["REGISTRY_ADMIN"])
            .await,
    );
    let reader = owner.with(
        &owner
            .add_user(None, "read@example.com", &["REGISTRY_READ"])
            .await,
    );

    let r = Art::resource("recipe");
    let docs = json!({
        "displayName": "Recipe", "shortDescription": "a recipe", "description": "# overview",
        "application": "Other", "trainingFramework": "PyTorch", "precision": "FP32",
        "advanced": "# advanced", "performance": "# performance",
        "quickStartGuide": "# quick start", "setup": "# setup",
    });
    let created = alice.create(&r, docs.clone()).await.ok();
    let rec = &created["recipe"];
    for k in [
        "displayName",
        "shortDescription",
        "description",
        "trainingFramework",
        "advanced",
        "performance",
        "quickStartGuide",
        "setup",
    ] {
        assert_eq!(rec[k], docs[k], "{k}: {created}");
    }
    let info = reader.get(&r.path()).await.ok();
    assert_eq!(info["recipe"]["quickStartGuide"], "# quick start", "{info}");

    // Versions without an id: "1", then "2".
    let vdocs = json!({
        "releaseNotes": "# notes", "performance": "# perf v", "quickStartGuide": "# qs v",
        "setup": "# setup v", "description": "auto",
    });
    let one = alice.create_version(&r, None, vdocs.clone()).await.ok();
    assert_eq!(one["recipeVersion"]["versionId"], "1", "{one}");
    let two = alice.create_version(&r, None, json!({})).await.ok();
    assert_eq!(two["recipeVersion"]["versionId"], "2", "{two}");
    let v1 = alice.get(&r.version_path("1")).await.ok();
    for k in [
        "releaseNotes",
        "performance",
        "quickStartGuide",
        "setup",
        "description",
    ] {
        assert_eq!(v1["recipeVersion"][k], vdocs[k], "{k}: {v1}");
    }
    // The resource transfer flow (artifactType "resources").
    let file = bytes("recipe-file", 5000);
    alice.upload(&r, "1", "train.py", &file).await;
    alice
        .commit(&r, "1", vec![addition("train.py", &file)], None)
        .await
        .ok();
    alice.finish(&r, "1").await.ok();
    assert_eq!(reader.download(&r, "1").await["train.py"], file);
    assert_eq!(alice.version_ids(&r).await, vec!["2", "1"]);
    let patched = alice
        .patch(&r.version_path("1"), json!({"releaseNotes": "# notes 2"}))
        .await
        .ok();
    assert_eq!(patched["recipeVersion"]["releaseNotes"], "# notes 2");
    assert!(bob
        .search(None, "RECIPE")
        .await
        .contains(&"demo/recipe".to_string()));

    // Deletion: not another registry user, not a reader; the creator may.
    bob.delete(&r.path())
        .await
        .expect_error(403, "FORBIDDEN", &[]);
    reader
        .delete(&r.path())
        .await
        .expect_error(403, "FORBIDDEN", &[]);
    assert_eq!(owner.get(&r.path()).await.ok()["recipe"]["name"], "recipe");
    alice.delete(&r.path()).await.ok();
    owner
        .get(&r.path())
        .await
        .expect_error(404, "NOT_FOUND", &[]);

    // An admin may delete anyone's resource; a creator of a model may not delete it (models
    // follow the role table: REGISTRY_USER has no delete).
    let r2 = Art::resource("other-recipe");
    bob.create_ok(&r2).await;
    alice
        .delete(&r2.path())
        .await
        .expect_error(403, "FORBIDDEN", &[]);
    admin.delete(&r2.path()).await.ok();
    owner
        .get(&r2.path())
        .await
        .expect_error(404, "NOT_FOUND", &[]);
    let m = Art::model("alice-model");
    alice.create_ok(&m).await;
    alice
        .delete(&m.path())
        .await
        .expect_error(403, "FORBIDDEN", &[]);
    admin.delete(&m.path()).await.ok();
}

// =============================================================================================
// 7. Quota
// =============================================================================================

/// With a low models-and-resources limit, uploads beyond it are refused with 413 naming the
/// limit and the excess, storing nothing; content the org already holds costs nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn models_quota_refuses_excess_and_counts_shared_content_once() {
    const LIMIT: usize = 10_000;
    let mut server = start().await;
    let dir = server.data_dir().to_path_buf();
    let status = server.sigterm().await.expect("stop the server");
    assert!(status.success(), "{}", server.describe());
    set_quota(&dir, &["--max-model-resource-bytes", &LIMIT.to_string()]);
    server.restart().await.expect("restart");
    let api = Api::new(&server, Some(server.key()));

    let body = api.get("/v2/org/demo/usage").await.ok();
    assert_eq!(
        body["usage"]["modelsAndResources"]["limit"], LIMIT,
        "{body}"
    );
    let m = Art::model("big");
    api.create_ok(&m).await;
    let first = bytes("first", 6000);
    api.publish(&m, "1.0", &[("first.bin", &first)]).await;
    assert_eq!(api.models_usage().await, 6000);

    // Refused at multipart start, before any byte travels.
    api.create_version(&m, Some("2.0"), json!({}))
        .await
        .expect(200);
    let second = bytes("second", 5000);
    let msg = api
        .start_raw(&m, "2.0", "second.bin", second.len(), &sha(&second), None)
        .await
        .expect_error(
            413,
            "INSUFFICIENT_STORAGE",
            &["limit of 10000 bytes", "exceeded by 1000 bytes"],
        );
    assert!(msg.contains("model and resource"), "{msg}");
    assert_eq!(api.models_usage().await, 6000);
    assert_eq!(api.known(&m, &[&second]).await, vec![false]);
    assert!(api.files(&m, "2.0").await.is_empty());

    // Content the org holds costs nothing: the same bytes in another model and a resource.
    let other = Art::model("copy");
    api.create_ok(&other).await;
    assert_eq!(api.known(&other, &[&first]).await, vec![false]);
    api.create_version(&other, Some("1.0"), json!({}))
        .await
        .expect(200);
    api.upload(&other, "1.0", "same.bin", &first).await;
    api.commit(&other, "1.0", vec![addition("same.bin", &first)], None)
        .await
        .ok();
    api.finish(&other, "1.0").await.ok();
    let res = Art::resource("copy-recipe");
    api.create_ok(&res).await;
    api.publish(&res, "1", &[("again.bin", &first)]).await;
    assert_eq!(api.models_usage().await, 6000);
    assert_eq!(api.download(&other, "1.0").await["same.bin"], first);

    // Two uploads that each fit at start but not together: the second to complete is refused
    // atomically and stores nothing.
    let a = bytes("a", 3000);
    let b = bytes("b", 3000);
    let ga = api.start(&m, "2.0", "a.bin", &a).await;
    let gb = api.start(&m, "2.0", "b.bin", &b).await;
    api.put_part(&ga.urls[0], &a).await.expect(200);
    api.put_part(&gb.urls[0], &b).await.expect(200);
    api.complete(&m, "2.0", "a.bin", &ga.id, &sha(&a))
        .await
        .ok();
    assert_eq!(api.models_usage().await, 9000);
    api.complete(&m, "2.0", "b.bin", &gb.id, &sha(&b))
        .await
        .expect_error(
            413,
            "INSUFFICIENT_STORAGE",
            &["limit of 10000 bytes", "exceeded by 2000 bytes"],
        );
    assert_eq!(api.models_usage().await, 9000);
    assert_eq!(api.known(&m, &[&a, &b]).await, vec![true, false]);
    api.commit(&m, "2.0", vec![addition("b.bin", &b)], None)
        .await
        .expect_error(400, "INVALID_REQUEST", &["never uploaded"]);
    // What fits is still committed and completes.
    api.commit(&m, "2.0", vec![addition("a.bin", &a)], None)
        .await
        .ok();
    api.finish(&m, "2.0").await.ok();
    assert_eq!(api.download(&m, "2.0").await["a.bin"], a);
}

// =============================================================================================
// 8. Resume after a restart
// =============================================================================================

/// An upload with parts sent survives a killed server: the client asks again with the same
/// upload id and the parts still missing, sends them and completes. The file is just over
/// one part (500,000,001 bytes), so it travels as a 500,000,000-byte and a 1-byte part.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upload_resumes_after_the_server_restarts() {
    let mut server = start().await;
    let api = Api::new(&server, Some(server.key()));
    let m = Art::model("resumed");
    api.create_ok(&m).await;
    api.create_version(&m, Some("1.0"), json!({}))
        .await
        .expect(200);

    let mut big = vec![0x5au8; PART_SIZE + 1];
    for (i, b) in big.iter_mut().enumerate().step_by(4093) {
        *b = (i % 251) as u8;
    }
    let small = bytes("small", 4321);
    let g_big = api.start(&m, "1.0", "big.bin", &big).await;
    assert_eq!(g_big.urls.len(), 2);
    let g_small = api.start(&m, "1.0", "small.bin", &small).await;
    // Out of order, as ngcsdk sends them: the 1-byte part 2 first.
    api.put_part(&g_big.urls[1], &big[PART_SIZE..])
        .await
        .expect(200);
    api.put_part(&g_small.urls[0], &small).await.expect(200);

    // The server dies.
    server.sigkill().expect("kill the server");
    server.restart().await.expect("restart");
    let api = Api::new(&server, Some(server.key()));

    // Nothing of the file is visible yet; it is not known complete.
    assert_eq!(api.known(&m, &[&big, &small]).await, vec![false, false]);
    // Completing before part 1 arrived names it.
    api.complete(&m, "1.0", "big.bin", &g_big.id, &sha(&big))
        .await
        .expect_error(400, "INVALID_REQUEST", &["[1]"]);
    // Resume: same upload id, only part 1.
    let r = api
        .start_raw(
            &m,
            "1.0",
            "big.bin",
            big.len(),
            &sha(&big),
            Some((g_big.id.as_str(), &[1u32][..])),
        )
        .await;
    let resumed = grant(&r);
    assert_eq!(resumed.id, g_big.id, "{}", r.describe());
    assert_eq!(resumed.urls.len(), 1, "{}", r.describe());
    assert!(resumed.urls[0].contains(&format!("/{}/1?", g_big.id)));
    api.put_part(&resumed.urls[0], &big[..PART_SIZE])
        .await
        .expect(200);
    api.complete(&m, "1.0", "big.bin", &g_big.id, &sha(&big))
        .await
        .ok();
    // The small file's only part arrived before the crash: completing is enough.
    api.complete(&m, "1.0", "small.bin", &g_small.id, &sha(&small))
        .await
        .ok();
    api.commit(
        &m,
        "1.0",
        vec![addition("big.bin", &big), addition("small.bin", &small)],
        None,
    )
    .await
    .ok();
    let done = api.finish(&m, "1.0").await.ok();
    assert_eq!(
        done["modelVersion"]["totalSizeInBytes"],
        (big.len() + small.len()) as u64
    );
    let files = api.files(&m, "1.0").await;
    assert_eq!(files["big.bin"], (big.len() as u64, sha(&big)));

    // Read the big file back in ranges around the part boundary, and the small one whole.
    let one = api
        .get(&format!("{}/1.0/files?path=big.bin", m.path()))
        .await
        .ok();
    let url = one["urls"][0].as_str().expect("url").to_string();
    let anon = api.anonymous();
    for (lo, hi) in [
        (0usize, 99usize),
        (PART_SIZE - 50, PART_SIZE),
        (123_456_789, 123_456_888),
    ] {
        let r = anon
            .send(
                Method::GET,
                &url,
                req().header("Range", format!("bytes={lo}-{hi}")),
            )
            .await;
        r.expect(206);
        assert!(r.body == big[lo..=hi], "range {lo}-{hi} differs");
    }
    assert_eq!(api.download_one(&m, "1.0", "small.bin").await, small);
    drop(big);
}

impl Api {
    /// One file through `?path=`.
    async fn download_one(&self, a: &Art, v: &str, path: &str) -> Vec<u8> {
        let url = reqwest::Url::parse_with_params(
            &self.url(&format!("{}/{v}/files", a.path())),
            &[("path", path)],
        )
        .expect("URL");
        let body = self.get(url.as_str()).await.ok();
        let u = body["urls"][0].as_str().expect("url").to_string();
        let r = self.anonymous().get(&u).await;
        r.expect(200);
        r.body
    }
}

// ---------------------------------------------------------------------------------------------
// 9. Usage per team (R-QUO-2)
// ---------------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn usage_is_visible_per_team_and_counts_shared_content_once_per_org() {
    let server = start().await;
    let owner = Api::new(&server, Some(server.key()));
    owner.create_team("alpha").await;
    owner.create_team("beta").await;
    let beta_only = owner.with(
        &owner
            .add_user(Some("beta"), "beta@example.com", &["REGISTRY_USER"])
            .await,
    );
    let shared = bytes("shared", 1000);
    let alpha_own = bytes("alpha", 2000);
    let beta_own = bytes("beta", 500);
    let in_alpha = Art {
        kind: Kind::Model,
        team: Some("alpha"),
        name: "a".into(),
    };
    let in_beta = Art {
        kind: Kind::Resource,
        team: Some("beta"),
        name: "b".into(),
    };
    owner.create_ok(&in_alpha).await;
    owner
        .publish(&in_alpha, "1", &[("s.bin", &shared), ("a.bin", &alpha_own)])
        .await;
    // A second version re-uses the same content: no more bytes for the team.
    owner
        .publish(&in_alpha, "2", &[("copy.bin", &shared)])
        .await;
    owner.create_ok(&in_beta).await;
    owner
        .publish(&in_beta, "1", &[("s.bin", &shared), ("b.bin", &beta_own)])
        .await;

    // An image in alpha's repository: one layer, a config, a manifest.
    let layer = bytes("layer", 300);
    let config = br#"{"architecture":"amd64","os":"linux"}"#.to_vec();
    for blob in [&layer, &config] {
        let digest = format!("sha256:{}", hex::encode(Sha256::digest(blob)));
        owner
            .send(
                Method::POST,
                &format!("/v2/demo/alpha/app/blobs/uploads/?digest={digest}"),
                Req {
                    body: Some(blob.clone()),
                    headers: vec![("content-type", "application/octet-stream".into())],
                    ..req()
                },
            )
            .await
            .expect(201);
    }
    let manifest = serde_json::to_vec(&json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                   "digest": format!("sha256:{}", hex::encode(Sha256::digest(&config))),
                   "size": config.len()},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar",
                    "digest": format!("sha256:{}", hex::encode(Sha256::digest(&layer))),
                    "size": layer.len()}]
    }))
    .expect("manifest");
    owner
        .send(
            Method::PUT,
            "/v2/demo/alpha/app/manifests/v1",
            Req {
                body: Some(manifest.clone()),
                headers: vec![(
                    "content-type",
                    "application/vnd.oci.image.manifest.v1+json".into(),
                )],
                ..req()
            },
        )
        .await
        .expect(201);

    let alpha = owner.get("/v2/org/demo/team/alpha/usage").await.ok();
    assert_eq!(
        alpha["usage"]["modelsAndResources"],
        (shared.len() + alpha_own.len()) as u64,
        "{alpha}"
    );
    assert_eq!(
        alpha["usage"]["images"],
        (layer.len() + config.len() + manifest.len()) as u64,
        "{alpha}"
    );
    let beta = beta_only.get("/v2/org/demo/team/beta/usage").await.ok();
    assert_eq!(
        beta["usage"]["modelsAndResources"],
        (shared.len() + beta_own.len()) as u64,
        "{beta}"
    );
    assert_eq!(beta["usage"]["images"], 0, "{beta}");
    // The org counts the shared content once.
    assert_eq!(
        owner.models_usage().await,
        (shared.len() + alpha_own.len() + beta_own.len()) as u64
    );
    // Outside the team: 404, as for the team itself.
    beta_only
        .get("/v2/org/demo/team/alpha/usage")
        .await
        .expect_error(404, "NOT_FOUND", &[]);
    owner
        .get("/v2/org/demo/team/nosuch/usage")
        .await
        .expect_error(404, "NOT_FOUND", &[]);
}

//! OCI Distribution Specification v1.1 conformance of `/v2/`, over plain HTTP with `reqwest`
//! against a live `arca-server` process.
//!
//! Each test is written from the text of the specification (opencontainers/distribution-spec
//! `spec.md`, v1.1) and names the section it checks; `_catalog`, which v1.1 no longer
//! describes, follows the Docker Registry HTTP API V2 (the specification's appendix apdx-1).
//! Arca's own rules are checked too: token authentication (R-KEY-6), repository names
//! `org/name` and `org/team/name` (R-TEN-7), team isolation, read-only roles and service keys
//! scoped to one container.
//!
//! Quotas (R-QUO-1..2) are covered in `registry_meta.rs`, which sets small quotas with the
//! operator command `arca-server org set-quota`.
//!
//! Every test starts its own server (fresh data dir, `demo` org bootstrapped, owner key) and
//! authenticates with `Authorization: Bearer <owner key>` unless it says otherwise; every
//! request is bounded by [`REQUEST_TIMEOUT`].

use std::collections::BTreeMap;
use std::time::Duration;

use arca_tests::server::Server;
use reqwest::header::HeaderMap;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

/// Bound of every single HTTP request.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// Upper bound on pages followed through `Link` headers.
const MAX_PAGES: usize = 20;

const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
const OCI_CONFIG: &str = "application/vnd.oci.image.config.v1+json";
const OCI_LAYER: &str = "application/vnd.oci.image.layer.v1.tar";
const OCI_EMPTY: &str = "application/vnd.oci.empty.v1+json";
const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
const DOCKER_LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";
const DOCKER_CONFIG: &str = "application/vnd.docker.container.image.v1+json";
const DOCKER_LAYER: &str = "application/vnd.docker.image.rootfs.diff.tar.gzip";

/// Every manifest type a client of these tests accepts.
const ACCEPT_ALL: &str = "application/vnd.oci.image.manifest.v1+json, \
    application/vnd.oci.image.index.v1+json, \
    application/vnd.docker.distribution.manifest.v2+json, \
    application/vnd.docker.distribution.manifest.list.v2+json";

// =============================================================================================
// SHA-256 (FIPS 180-4), so that digests are computed here and not taken from the server.
// =============================================================================================

/// `sha256:<hex>` of `data`.
fn digest_of(data: &[u8]) -> String {
    use sha2::Digest as _;
    format!("sha256:{}", hex::encode(sha2::Sha256::digest(data)))
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

/// How a request authenticates.
#[derive(Debug, Clone)]
enum Auth {
    None,
    /// `Authorization: Bearer <key or token>`.
    Bearer(String),
    /// `Authorization: Basic base64($oauthtoken:<key>)`.
    Basic(String),
}

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

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    fn describe(&self) -> String {
        let mut text = self.text();
        if text.len() > 2000 {
            text.truncate(2000);
            text.push('…');
        }
        format!(
            "{} -> {}\nheaders: {:?}\nbody: {text}",
            self.what, self.status, self.headers
        )
    }

    fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("body is not JSON ({e}):\n{}", self.describe()))
    }

    /// Asserts the status.
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

    /// Asserts the status and a required header, returning its value.
    #[track_caller]
    fn required(&self, name: &str) -> String {
        self.header(name)
            .unwrap_or_else(|| panic!("no {name} header\n{}", self.describe()))
            .to_string()
    }

    /// The codes of an OCI error body (spec "Error Codes": `{"errors":[{"code","message",
    /// "detail"}]}`, codes of upper-case letters and underscores), asserting that shape.
    #[track_caller]
    fn error_codes(&self) -> Vec<String> {
        let body = self.json();
        let errors = body["errors"]
            .as_array()
            .filter(|a| !a.is_empty())
            .unwrap_or_else(|| panic!("no non-empty errors array\n{}", self.describe()));
        errors
            .iter()
            .map(|e| {
                let code = e["code"]
                    .as_str()
                    .unwrap_or_else(|| panic!("an error without code\n{}", self.describe()));
                assert!(
                    !code.is_empty() && code.chars().all(|c| c.is_ascii_uppercase() || c == '_'),
                    "code {code:?} is not upper-case letters and underscores\n{}",
                    self.describe()
                );
                if let Some(m) = e.get("message") {
                    assert!(
                        m.is_string(),
                        "message is not a string\n{}",
                        self.describe()
                    );
                }
                code.to_string()
            })
            .collect()
    }

    /// Asserts an OCI error answer: this status, and `code` among the body's codes.
    #[track_caller]
    fn expect_error(&self, status: u16, code: &str) -> &Self {
        self.expect(status);
        let codes = self.error_codes();
        assert!(
            codes.iter().any(|c| c == code),
            "expected error code {code}, got {codes:?}\n{}",
            self.describe()
        );
        self
    }

    /// Asserts a `HEAD` 404 (no body to read an error code from).
    #[track_caller]
    fn expect_head_404(&self) -> &Self {
        self.expect(404)
    }
}

/// A registry client of one server, with one credential.
#[derive(Clone)]
struct Reg {
    base: String,
    http: reqwest::Client,
    auth: Auth,
}

/// A request's optional parts.
#[derive(Default)]
struct Req<'a> {
    headers: Vec<(&'a str, String)>,
    body: Option<Vec<u8>>,
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
}

fn req<'a>() -> Req<'a> {
    Req::default()
}

impl Reg {
    fn new(server: &Server, auth: Auth) -> Reg {
        Reg {
            base: server.base_url(),
            http: reqwest::Client::builder()
                .timeout(REQUEST_TIMEOUT)
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .expect("build an HTTP client"),
            auth,
        }
    }

    fn owner(server: &Server) -> Reg {
        Reg::new(server, Auth::Bearer(server.key().to_string()))
    }

    fn with(&self, auth: Auth) -> Reg {
        Reg {
            auth,
            ..self.clone()
        }
    }

    /// The absolute URL of a path or of a `Location` value (absolute or relative).
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
        b = match &self.auth {
            Auth::None => b,
            Auth::Bearer(t) => b.bearer_auth(t),
            Auth::Basic(k) => b.basic_auth("$oauthtoken", Some(k)),
        };
        for (name, value) in &r.headers {
            b = b.header(*name, value);
        }
        // An empty body for writes without one: `Content-Length: 0` (spec: a chunked upload's
        // POST "MUST include" it).
        match r.body {
            Some(body) => b = b.body(body),
            None if matches!(method, Method::POST | Method::PUT | Method::PATCH) => {
                b = b.body(Vec::new())
            }
            None => {}
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

    async fn head(&self, path: &str) -> Resp {
        self.send(Method::HEAD, path, req()).await
    }

    async fn delete(&self, path: &str) -> Resp {
        self.send(Method::DELETE, path, req()).await
    }

    async fn get_manifest(&self, repo: &str, reference: &str) -> Resp {
        self.send(
            Method::GET,
            &format!("/v2/{repo}/manifests/{reference}"),
            req().header("Accept", ACCEPT_ALL),
        )
        .await
    }

    async fn head_manifest(&self, repo: &str, reference: &str) -> Resp {
        self.send(
            Method::HEAD,
            &format!("/v2/{repo}/manifests/{reference}"),
            req().header("Accept", ACCEPT_ALL),
        )
        .await
    }

    /// `POST /v2/<repo>/blobs/uploads/` (no body): the 202's `Location`.
    async fn start_upload(&self, repo: &str) -> String {
        let r = self
            .send(
                Method::POST,
                &format!("/v2/{repo}/blobs/uploads/"),
                req().body(Vec::new()),
            )
            .await;
        r.expect(202);
        r.required("Location")
    }

    /// Pushes a blob monolithically (POST then PUT), asserting 201; returns its digest.
    async fn push_blob(&self, repo: &str, data: &[u8]) -> String {
        let d = digest_of(data);
        let location = self.start_upload(repo).await;
        let r = self
            .send(
                Method::PUT,
                &with_query(&location, "digest", &d),
                req()
                    .header("Content-Type", "application/octet-stream")
                    .body(data.to_vec()),
            )
            .await;
        r.expect(201);
        d
    }

    async fn put_manifest(
        &self,
        repo: &str,
        reference: &str,
        media_type: &str,
        body: &[u8],
    ) -> Resp {
        self.send(
            Method::PUT,
            &format!("/v2/{repo}/manifests/{reference}"),
            req().header("Content-Type", media_type).body(body.to_vec()),
        )
        .await
    }

    /// Pushes an OCI image (config + two layers) and tags it; returns what was pushed.
    async fn push_image(&self, repo: &str, tag: &str, seed: &str) -> Image {
        let image = Image::oci(seed, 4096);
        for blob in image.blobs() {
            self.push_blob(repo, blob).await;
        }
        self.put_manifest(repo, tag, OCI_MANIFEST, &image.manifest)
            .await
            .expect(201);
        image
    }

    /// The tags of a repository (asserting 200).
    async fn tags(&self, repo: &str) -> Vec<String> {
        let r = self.get(&format!("/v2/{repo}/tags/list")).await;
        r.expect(200);
        strings(&r.json()["tags"], &r)
    }

    /// `/v2/_catalog` (asserting 200).
    async fn catalog(&self) -> Vec<String> {
        let r = self.get("/v2/_catalog").await;
        r.expect(200);
        strings(&r.json()["repositories"], &r)
    }
}

/// A JSON array of strings (`null` is not an array: the specification's lists are lists).
#[track_caller]
fn strings(v: &Value, r: &Resp) -> Vec<String> {
    v.as_array()
        .unwrap_or_else(|| panic!("not a JSON array: {v}\n{}", r.describe()))
        .iter()
        .map(|s| {
            s.as_str()
                .unwrap_or_else(|| panic!("not a string: {s}\n{}", r.describe()))
                .to_string()
        })
        .collect()
}

/// Appends `key=value` to a URL that may already have a query.
fn with_query(url: &str, key: &str, value: &str) -> String {
    let sep = if url.contains('?') { '&' } else { '?' };
    format!("{url}{sep}{key}={value}")
}

/// Whether `s` contains a UUID (8-4-4-4-12 hex digits).
fn contains_uuid(s: &str) -> bool {
    let b = s.as_bytes();
    let shape = [8, 4, 4, 4, 12];
    (0..b.len()).any(|start| {
        let mut i = start;
        for (n, len) in shape.iter().enumerate() {
            if i + len > b.len() || !b[i..i + len].iter().all(u8::is_ascii_hexdigit) {
                return false;
            }
            i += len;
            if n < 4 {
                if b.get(i) != Some(&b'-') {
                    return false;
                }
                i += 1;
            }
        }
        true
    })
}

/// The URL of a `Link: <url>; rel="next"` header (RFC 5988), if any.
fn next_link(r: &Resp) -> Option<String> {
    let link = r.header("Link")?;
    assert!(
        link.contains("rel=\"next\""),
        "Link without rel=\"next\"\n{}",
        r.describe()
    );
    let start = link.find('<')? + 1;
    let end = link[start..].find('>')? + start;
    Some(link[start..end].to_string())
}

/// The parameters of a `WWW-Authenticate: Bearer k="v",…` challenge.
fn parse_challenge(value: &str) -> BTreeMap<String, String> {
    let rest = value
        .strip_prefix("Bearer ")
        .unwrap_or_else(|| panic!("not a Bearer challenge: {value:?}"));
    let mut out = BTreeMap::new();
    let mut chars = rest.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| *c == ',' || c.is_whitespace()) {
            chars.next();
        }
        let key: String = chars.by_ref().take_while(|c| *c != '=').collect();
        if key.is_empty() {
            break;
        }
        assert_eq!(chars.next(), Some('"'), "unquoted value in {value:?}");
        let mut val = String::new();
        for c in chars.by_ref() {
            if c == '"' {
                break;
            }
            val.push(c);
        }
        out.insert(key.trim().to_string(), val);
    }
    out
}

/// An image: its blobs and its manifest bytes.
struct Image {
    config: Vec<u8>,
    layers: Vec<Vec<u8>>,
    manifest: Vec<u8>,
    digest: String,
}

impl Image {
    /// An OCI image manifest over a config and two layers of `layer_size` bytes.
    fn oci(seed: &str, layer_size: usize) -> Image {
        Self::build(
            seed,
            layer_size,
            OCI_MANIFEST,
            OCI_CONFIG,
            OCI_LAYER,
            "amd64",
        )
    }

    /// A Docker schema 2 image manifest.
    fn docker(seed: &str, arch: &str) -> Image {
        Self::build(
            seed,
            2048,
            DOCKER_MANIFEST,
            DOCKER_CONFIG,
            DOCKER_LAYER,
            arch,
        )
    }

    fn build(
        seed: &str,
        layer_size: usize,
        media_type: &str,
        config_type: &str,
        layer_type: &str,
        arch: &str,
    ) -> Image {
        let layers: Vec<Vec<u8>> = (0..2)
            .map(|i| bytes(&format!("{seed}-layer-{i}"), layer_size))
            .collect();
        let config = serde_json::to_vec(&json!({
            "architecture": arch,
            "os": "linux",
            "rootfs": {"type": "layers", "diff_ids": layers.iter().map(|l| digest_of(l)).collect::<Vec<_>>()},
            "config": {"Labels": {"seed": seed}},
        }))
        .expect("config JSON");
        let manifest = serde_json::to_vec(&json!({
            "schemaVersion": 2,
            "mediaType": media_type,
            "config": {"mediaType": config_type, "digest": digest_of(&config), "size": config.len()},
            "layers": layers.iter().map(|l| json!({
                "mediaType": layer_type, "digest": digest_of(l), "size": l.len()
            })).collect::<Vec<_>>(),
        }))
        .expect("manifest JSON");
        let digest = digest_of(&manifest);
        Image {
            config,
            layers,
            manifest,
            digest,
        }
    }

    fn blobs(&self) -> impl Iterator<Item = &Vec<u8>> {
        std::iter::once(&self.config).chain(self.layers.iter())
    }

    /// A descriptor of this manifest, with a platform.
    fn descriptor(&self, media_type: &str, arch: &str) -> Value {
        json!({
            "mediaType": media_type,
            "digest": self.digest,
            "size": self.manifest.len(),
            "platform": {"architecture": arch, "os": "linux"},
        })
    }
}

async fn start() -> Server {
    Server::builder()
        .start()
        .await
        .unwrap_or_else(|e| panic!("start arca-server: {e:#}"))
}

/// A JSON answer of the REST API (2xx asserted).
async fn rest_post(reg: &Reg, path: &str, body: Value) -> Value {
    let r = reg
        .send(
            Method::POST,
            path,
            req()
                .header("Content-Type", "application/json")
                .body(serde_json::to_vec(&body).expect("JSON")),
        )
        .await;
    assert!(r.status.is_success(), "REST call failed\n{}", r.describe());
    r.json()
}

/// Creates a team of org `demo` (as the owner).
async fn create_team(owner: &Reg, team: &str) {
    rest_post(
        owner,
        "/v2/org/demo/teams",
        json!({"name": team, "description": format!("team {team}")}),
    )
    .await;
}

/// Adds a new user to a team (or the org when `team` is `None`) with these roles; returns
/// their first API key.
async fn add_user(owner: &Reg, team: Option<&str>, email: &str, roles: &[&str]) -> String {
    let path = match team {
        Some(t) => format!("/v2/org/demo/team/{t}/users"),
        None => "/v2/org/demo/users".to_string(),
    };
    let body = rest_post(
        owner,
        &path,
        json!({"email": email, "name": email, "roleTypes": roles}),
    )
    .await;
    body["apiKey"]
        .as_str()
        .unwrap_or_else(|| panic!("no apiKey for new user {email}: {body}"))
        .to_string()
}

// =============================================================================================
// Authentication: "API Version Check"/"Determining Support" (end-1) and the token flow
// =============================================================================================

/// spec "Determining Support" (end-1): `GET /v2/` is 200 for a client that may use the API;
/// a 401 carries a `WWW-Authenticate` challenge (Docker token authentication) that leads,
/// through `/token` with Basic `$oauthtoken:<key>`, to a Bearer token the registry accepts.
/// The API key itself is accepted as Bearer and as Basic password too (R-KEY-6).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn token_flow_from_challenge_to_bearer_token() {
    let server = start().await;
    let key = server.key().to_string();
    let anon = Reg::new(&server, Auth::None);

    // 401 with a challenge, the legacy version header, and an OCI error body.
    let r = anon.get("/v2/").await;
    r.expect_error(401, "UNAUTHORIZED");
    assert_eq!(
        r.header("Docker-Distribution-API-Version"),
        Some("registry/2.0"),
        "{}",
        r.describe()
    );
    let challenge = parse_challenge(&r.required("WWW-Authenticate"));
    let realm = challenge.get("realm").cloned().unwrap_or_default();
    let service = challenge.get("service").cloned().unwrap_or_default();
    assert_eq!(
        realm,
        format!("{}/token", server.base_url()),
        "{challenge:?}"
    );
    assert_eq!(service, server.addr().to_string(), "{challenge:?}");

    // Repository requests name the scope they need.
    let r = anon.get("/v2/demo/app/tags/list").await;
    r.expect_error(401, "UNAUTHORIZED");
    let c = parse_challenge(&r.required("WWW-Authenticate"));
    assert_eq!(
        c.get("scope").map(String::as_str),
        Some("repository:demo/app:pull"),
        "{c:?}"
    );
    let r = anon
        .send(
            Method::POST,
            "/v2/demo/app/blobs/uploads/",
            req().body(Vec::new()),
        )
        .await;
    r.expect_error(401, "UNAUTHORIZED");
    let c = parse_challenge(&r.required("WWW-Authenticate"));
    assert_eq!(
        c.get("scope").map(String::as_str),
        Some("repository:demo/app:pull,push"),
        "{c:?}"
    );

    // The token service: Basic $oauthtoken:<key>.
    let token_for = |scope: &'static str, password: String| {
        let http = anon.http.clone();
        let realm = realm.clone();
        let service = service.clone();
        async move {
            let res = http
                .get(&realm)
                .query(&[("service", service.as_str()), ("scope", scope)])
                .basic_auth("$oauthtoken", Some(password))
                .send()
                .await
                .expect("GET /token");
            let status = res.status();
            let body = res.text().await.expect("token body");
            (status, body)
        }
    };
    let (status, body) = token_for("repository:demo/app:pull,push", key.clone()).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let t: Value = serde_json::from_str(&body).expect("token JSON");
    let token = t["token"].as_str().expect("token").to_string();
    assert!(!token.is_empty() && token != key, "{t}");
    assert_eq!(t["access_token"], t["token"], "{t}");
    assert!(t["expires_in"].as_u64().is_some_and(|s| s > 0), "{t}");

    let (status, body) = token_for("repository:demo/app:pull", "arca_pk_wrong".into()).await;
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "a wrong key got a token: {body}"
    );
    let res = anon
        .http
        .get(&realm)
        .query(&[("service", service.as_str())])
        .send()
        .await
        .expect("GET /token");
    assert_eq!(
        res.status(),
        StatusCode::UNAUTHORIZED,
        "no credentials got a token"
    );

    // The token works on /v2/ and for a push and a pull.
    let bearer = anon.with(Auth::Bearer(token));
    let r = bearer.get("/v2/").await;
    r.expect(200);
    assert_eq!(
        r.header("Docker-Distribution-API-Version"),
        Some("registry/2.0")
    );
    let blob = bytes("token-blob", 300);
    let d = bearer.push_blob("demo/app", &blob).await;
    let r = bearer.get(&format!("/v2/demo/app/blobs/{d}")).await;
    r.expect(200);
    assert_eq!(r.body, blob);

    // A token grants no more than the scope it was issued for: `repository:demo/app:pull`
    // pulls demo/app, and neither pushes there nor touches another repository.
    let other_blob = bytes("other-repo-blob", 200);
    let other = Reg::owner(&server)
        .push_blob("demo/other", &other_blob)
        .await;
    let (status, body) = token_for("repository:demo/app:pull", key.clone()).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let pull_token: Value = serde_json::from_str(&body).expect("token JSON");
    let pull_only = anon.with(Auth::Bearer(
        pull_token["token"].as_str().expect("token").to_string(),
    ));
    pull_only
        .get(&format!("/v2/demo/app/blobs/{d}"))
        .await
        .expect(200);
    let sneaky = bytes("pushed with a pull token", 100);
    let attempts = [
        (
            "push to demo/app",
            pull_only
                .send(
                    Method::POST,
                    "/v2/demo/app/blobs/uploads/",
                    req().body(Vec::new()),
                )
                .await,
            &[401u16, 403][..],
        ),
        (
            "push to demo/other",
            pull_only
                .send(
                    Method::POST,
                    &format!(
                        "/v2/demo/other/blobs/uploads/?digest={}",
                        digest_of(&sneaky)
                    ),
                    req().body(sneaky.clone()),
                )
                .await,
            &[401, 403][..],
        ),
        (
            "pull from demo/other",
            pull_only
                .get(&format!("/v2/demo/other/blobs/{other}"))
                .await,
            &[401, 403, 404][..],
        ),
    ];
    let overreach: Vec<String> = attempts
        .iter()
        .filter(|(_, r, refused)| !refused.contains(&r.status.as_u16()))
        .map(|(what, r, _)| format!("{what}: {}", r.describe()))
        .collect();

    // The key directly, as Bearer and as Basic $oauthtoken:<key>.
    anon.with(Auth::Bearer(key.clone()))
        .get("/v2/")
        .await
        .expect(200);
    anon.with(Auth::Basic(key.clone()))
        .get("/v2/")
        .await
        .expect(200);
    let r = anon
        .with(Auth::Basic(key.clone()))
        .get(&format!("/v2/demo/app/blobs/{d}"))
        .await;
    r.expect(200);
    assert_eq!(r.body, blob);

    // A wrong key is a 401 with a challenge, never a 200 or a 404.
    for bad in [
        Auth::Bearer("arca_pk_nope".into()),
        Auth::Basic("arca_pk_nope".into()),
    ] {
        let r = anon.with(bad).get("/v2/demo/app/tags/list").await;
        r.expect_error(401, "UNAUTHORIZED");
        r.required("WWW-Authenticate");
    }

    // Last, so that everything above is checked whatever this finds.
    assert!(
        overreach.is_empty(),
        "a token issued for repository:demo/app:pull did more:\n{}",
        overreach.join("\n\n")
    );
}

// =============================================================================================
// Pull
// =============================================================================================

/// spec "Pull" › "Pulling manifests" and "Checking if content exists in the registry":
/// `GET` by tag and by digest is 200 with the exact bytes, `Content-Type` the manifest's type
/// and `Docker-Content-Digest` its digest; `HEAD` is 200 with `Docker-Content-Digest` and
/// `Content-Length` and no body; an absent manifest is 404 (`MANIFEST_UNKNOWN`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pull_manifest_by_tag_and_digest_get_and_head() {
    let server = start().await;
    let reg = Reg::owner(&server);
    let image = reg.push_image("demo/app", "v1", "pull-manifest").await;

    for reference in ["v1", image.digest.as_str()] {
        let r = reg.get_manifest("demo/app", reference).await;
        r.expect(200);
        assert_eq!(r.body, image.manifest, "bytes differ\n{}", r.describe());
        assert_eq!(
            r.header("Content-Type"),
            Some(OCI_MANIFEST),
            "{}",
            r.describe()
        );
        assert_eq!(
            r.header("Docker-Content-Digest"),
            Some(image.digest.as_str()),
            "{}",
            r.describe()
        );

        let r = reg.head_manifest("demo/app", reference).await;
        r.expect(200);
        assert!(
            r.body.is_empty(),
            "a HEAD answered a body\n{}",
            r.describe()
        );
        assert_eq!(
            r.header("Docker-Content-Digest"),
            Some(image.digest.as_str())
        );
        assert_eq!(
            r.header("Content-Length"),
            Some(image.manifest.len().to_string().as_str()),
            "{}",
            r.describe()
        );
        assert_eq!(
            r.header("Content-Type"),
            Some(OCI_MANIFEST),
            "{}",
            r.describe()
        );
    }

    reg.get_manifest("demo/app", "v2")
        .await
        .expect_error(404, "MANIFEST_UNKNOWN");
    reg.head_manifest("demo/app", "v2").await.expect_head_404();
    let absent = digest_of(b"no such manifest");
    reg.get_manifest("demo/app", &absent)
        .await
        .expect_error(404, "MANIFEST_UNKNOWN");
    reg.head_manifest("demo/app", &absent)
        .await
        .expect_head_404();
}

/// spec "Pull" › "Pulling blobs" (end-2): 200 with the exact bytes and `Docker-Content-Digest`;
/// HEAD with `Content-Length` and no body; 404 `BLOB_UNKNOWN` for an absent blob; "A registry
/// SHOULD support the `Range` request header in accordance with RFC 9110": 206 with
/// `Content-Range: bytes first-last/length` and only those bytes, and 416 with
/// `Content-Range: bytes */length` for an unsatisfiable range.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pull_blob_get_head_and_range_requests() {
    let server = start().await;
    let reg = Reg::owner(&server);
    let blob = bytes("range-blob", 1000);
    let d = reg.push_blob("demo/app", &blob).await;
    let path = format!("/v2/demo/app/blobs/{d}");

    let r = reg.get(&path).await;
    r.expect(200);
    assert_eq!(r.body, blob);
    assert_eq!(
        r.header("Docker-Content-Digest"),
        Some(d.as_str()),
        "{}",
        r.describe()
    );

    let r = reg.head(&path).await;
    r.expect(200);
    assert!(r.body.is_empty());
    assert_eq!(r.header("Content-Length"), Some("1000"), "{}", r.describe());
    assert_eq!(
        r.header("Docker-Content-Digest"),
        Some(d.as_str()),
        "{}",
        r.describe()
    );

    // (Range header, first byte, last byte) of satisfiable ranges.
    for (range, first, last) in [
        ("bytes=10-19", 10usize, 19usize),
        ("bytes=0-0", 0, 0),
        ("bytes=990-", 990, 999),
        ("bytes=-5", 995, 999),
        ("bytes=500-5000", 500, 999),
    ] {
        let r = reg
            .send(Method::GET, &path, req().header("Range", range))
            .await;
        r.expect(206);
        assert_eq!(r.body, &blob[first..=last], "{range}\n{}", r.describe());
        assert_eq!(
            r.header("Content-Range"),
            Some(format!("bytes {first}-{last}/1000").as_str()),
            "{range}\n{}",
            r.describe()
        );
        assert_eq!(
            r.header("Content-Length"),
            Some((last - first + 1).to_string().as_str()),
            "{range}\n{}",
            r.describe()
        );
    }
    for range in ["bytes=1000-1005", "bytes=5000-"] {
        let r = reg
            .send(Method::GET, &path, req().header("Range", range))
            .await;
        r.expect(416);
        assert_eq!(
            r.header("Content-Range"),
            Some("bytes */1000"),
            "{range}\n{}",
            r.describe()
        );
    }

    let absent = digest_of(b"absent blob");
    reg.get(&format!("/v2/demo/app/blobs/{absent}"))
        .await
        .expect_error(404, "BLOB_UNKNOWN");
    reg.head(&format!("/v2/demo/app/blobs/{absent}"))
        .await
        .expect_head_404();
}

// =============================================================================================
// Push
// =============================================================================================

/// spec "Push" › "Pushing a blob monolithically" › "POST then PUT" (end-4a, end-6): the POST is
/// 202 with a `Location` holding a UUID (a new one per session); the PUT to
/// `<location>?digest=` is 201 with a `Location` from which the blob can be pulled; pushing
/// the same blob again ("Layer Upload De-duplication") and an empty blob work the same way.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn push_blob_monolithically_post_then_put() {
    let server = start().await;
    let reg = Reg::owner(&server);
    let blob = bytes("monolithic", 70_000);
    let d = digest_of(&blob);

    let first = reg.start_upload("demo/app").await;
    let second = reg.start_upload("demo/app").await;
    assert!(contains_uuid(&first), "no UUID in Location {first:?}");
    assert_ne!(first, second, "two sessions got the same Location");

    let r = reg
        .send(
            Method::PUT,
            &with_query(&first, "digest", &d),
            req()
                .header("Content-Type", "application/octet-stream")
                .body(blob.clone()),
        )
        .await;
    r.expect(201);
    let location = r.required("Location");
    assert_eq!(
        r.header("Docker-Content-Digest"),
        Some(d.as_str()),
        "{}",
        r.describe()
    );
    let pulled = reg.get(&location).await;
    pulled.expect(200);
    assert_eq!(pulled.body, blob, "the blob at Location {location} differs");
    reg.head(&format!("/v2/demo/app/blobs/{d}"))
        .await
        .expect(200);

    // The same blob again (layer de-duplication): 201 again, same content.
    assert_eq!(reg.push_blob("demo/app", &blob).await, d);
    let r = reg.get(&format!("/v2/demo/app/blobs/{d}")).await;
    r.expect(200);
    assert!(r.body == blob);

    // An empty blob.
    let empty = digest_of(b"");
    assert_eq!(reg.push_blob("demo/app", b"").await, empty);
    let r = reg.get(&format!("/v2/demo/app/blobs/{empty}")).await;
    r.expect(200);
    assert!(r.body.is_empty(), "{}", r.describe());
    assert_eq!(r.header("Docker-Content-Digest"), Some(empty.as_str()));
}

/// spec "Push" › "Single POST" (end-4b): `POST …/uploads/?digest=` with the whole blob is 201
/// with a `Location` of the pullable blob.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn push_blob_with_a_single_post() {
    let server = start().await;
    let reg = Reg::owner(&server);
    let blob = bytes("single-post", 12_345);
    let d = digest_of(&blob);
    let r = reg
        .send(
            Method::POST,
            &format!("/v2/demo/app/blobs/uploads/?digest={d}"),
            req()
                .header("Content-Type", "application/octet-stream")
                .body(blob.clone()),
        )
        .await;
    r.expect(201);
    let location = r.required("Location");
    let pulled = reg.get(&location).await;
    pulled.expect(200);
    assert_eq!(pulled.body, blob);
    assert_eq!(pulled.header("Docker-Content-Digest"), Some(d.as_str()));
}

/// spec "Push" › "Pushing a blob in chunks" (end-4a, end-5, end-6, end-13): POST with
/// `Content-Length: 0` → 202; each in-order PATCH with `Content-Range` and `Content-Length` →
/// 202 with `Location` and `Range: 0-<end>`; an out-of-order chunk (a gap, or a chunk sent
/// again) → 416, after which GET `<location>` is 204 with `Location` and the unchanged `Range`;
/// the closing PUT `?digest=` (with the last chunk in it, or empty after a last PATCH) → 201.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn push_blob_in_chunks() {
    let server = start().await;
    let reg = Reg::owner(&server);

    let r = reg
        .send(Method::POST, "/v2/demo/app/blobs/uploads/", req())
        .await;
    r.expect(202);
    let mut location = r.required("Location");
    // "If the registry has a minimum chunk size, the POST response SHOULD include
    // OCI-Chunk-Min-Length": honour it.
    let min = r
        .header("OCI-Chunk-Min-Length")
        .map(|v| {
            v.parse::<usize>()
                .unwrap_or_else(|_| panic!("bad OCI-Chunk-Min-Length {v:?}"))
        })
        .unwrap_or(0);
    let chunk = min.max(64 * 1024);
    let blob = bytes("chunked", 2 * chunk + 777);
    let d = digest_of(&blob);

    let patch = |location: String, start: usize, data: Vec<u8>| {
        let reg = reg.clone();
        async move {
            let end = start + data.len() - 1;
            reg.send(
                Method::PATCH,
                &location,
                req()
                    .header("Content-Type", "application/octet-stream")
                    .header("Content-Range", format!("{start}-{end}"))
                    .body(data),
            )
            .await
        }
    };

    let r = patch(location.clone(), 0, blob[..chunk].to_vec()).await;
    r.expect(202);
    assert_eq!(
        r.header("Range"),
        Some(format!("0-{}", chunk - 1).as_str()),
        "{}",
        r.describe()
    );
    location = r.required("Location");

    let status = reg.get(&location).await;
    status.expect(204);
    assert_eq!(
        status.header("Range"),
        Some(format!("0-{}", chunk - 1).as_str()),
        "{}",
        status.describe()
    );
    location = status.required("Location");

    // Out of order: a gap, then the first chunk again.
    let r = patch(
        location.clone(),
        chunk + 10,
        blob[chunk..2 * chunk].to_vec(),
    )
    .await;
    r.expect(416);
    let r = patch(location.clone(), 0, blob[..chunk].to_vec()).await;
    r.expect(416);
    let status = reg.get(&location).await;
    status.expect(204);
    assert_eq!(
        status.header("Range"),
        Some(format!("0-{}", chunk - 1).as_str()),
        "a refused chunk changed the upload\n{}",
        status.describe()
    );
    status.required("Location");

    let r = patch(location.clone(), chunk, blob[chunk..2 * chunk].to_vec()).await;
    r.expect(202);
    assert_eq!(
        r.header("Range"),
        Some(format!("0-{}", 2 * chunk - 1).as_str()),
        "{}",
        r.describe()
    );
    location = r.required("Location");

    // The last chunk in the closing PUT.
    let r = reg
        .send(
            Method::PUT,
            &with_query(&location, "digest", &d),
            req()
                .header("Content-Type", "application/octet-stream")
                .header("Content-Range", format!("{}-{}", 2 * chunk, blob.len() - 1))
                .body(blob[2 * chunk..].to_vec()),
        )
        .await;
    r.expect(201);
    let pulled = reg.get(&r.required("Location")).await;
    pulled.expect(200);
    assert!(pulled.body == blob, "the chunked blob came back different");

    // Last chunk by PATCH, then an empty closing PUT.
    let blob2 = bytes("chunked-2", chunk + 1);
    let d2 = digest_of(&blob2);
    let mut location = reg.start_upload("demo/app").await;
    for (start, end) in [(0, chunk), (chunk, blob2.len())] {
        let r = patch(location, start, blob2[start..end].to_vec()).await;
        r.expect(202);
        assert_eq!(
            r.header("Range"),
            Some(format!("0-{}", end - 1).as_str()),
            "{}",
            r.describe()
        );
        location = r.required("Location");
    }
    let r = reg
        .send(Method::PUT, &with_query(&location, "digest", &d2), req())
        .await;
    r.expect(201);
    let pulled = reg.get(&format!("/v2/demo/app/blobs/{d2}")).await;
    pulled.expect(200);
    assert!(
        pulled.body == blob2,
        "the second chunked blob came back different"
    );
}

/// spec "Push" › "Pushing a blob in chunks" (upload status, end-13) and the cancel `DELETE` of
/// an upload session: 204, after which the session is gone — GET, PATCH and PUT on it are 404
/// `BLOB_UPLOAD_UNKNOWN` ("blob upload unknown to registry", code-3), and nothing was stored;
/// a session is unknown to any other repository than its own.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancelled_upload_is_unknown_afterwards() {
    let server = start().await;
    let reg = Reg::owner(&server);
    reg.push_blob("demo/app", b"makes the repository exist")
        .await;

    let location = reg.start_upload("demo/app").await;
    let part = bytes("cancelled", 1000);
    let r = reg
        .send(
            Method::PATCH,
            &location,
            req()
                .header("Content-Type", "application/octet-stream")
                .header("Content-Range", "0-999")
                .body(part.clone()),
        )
        .await;
    r.expect(202);
    let location = r.required("Location");

    reg.delete(&location).await.expect(204);
    reg.get(&location)
        .await
        .expect_error(404, "BLOB_UPLOAD_UNKNOWN");
    reg.send(
        Method::PATCH,
        &location,
        req()
            .header("Content-Range", "1000-1009")
            .body(vec![0u8; 10]),
    )
    .await
    .expect_error(404, "BLOB_UPLOAD_UNKNOWN");
    reg.send(
        Method::PUT,
        &with_query(&location, "digest", &digest_of(&part)),
        req().body(Vec::new()),
    )
    .await
    .expect_error(404, "BLOB_UPLOAD_UNKNOWN");
    reg.head(&format!("/v2/demo/app/blobs/{}", digest_of(&part)))
        .await
        .expect_head_404();

    // A live session belongs to its repository: another repository does not know it.
    reg.push_blob("demo/other", b"makes demo/other exist").await;
    let live = reg.start_upload("demo/app").await;
    let id = live
        .trim_end_matches('/')
        .rsplit('/')
        .next()
        .unwrap_or_default()
        .split('?')
        .next()
        .unwrap_or_default()
        .to_string();
    assert!(contains_uuid(&id), "no session id at the end of {live:?}");
    reg.get(&format!("/v2/demo/other/blobs/uploads/{id}"))
        .await
        .expect_error(404, "BLOB_UPLOAD_UNKNOWN");
    reg.get(&live).await.expect(204);

    // A session id that never existed.
    reg.get("/v2/demo/app/blobs/uploads/6f1c2a4e-8a7b-4c3d-9e2f-1a2b3c4d5e6f")
        .await
        .expect_error(404, "BLOB_UPLOAD_UNKNOWN");
}

/// spec "Error Codes" code-4 `DIGEST_INVALID` ("provided digest did not match uploaded
/// content") on each way to push a blob (POST+PUT, single POST, chunked); the blob is stored
/// under neither the claimed nor the actual digest.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn digest_mismatch_is_digest_invalid_and_stores_nothing() {
    let server = start().await;
    let reg = Reg::owner(&server);
    reg.push_blob("demo/app", b"makes the repository exist")
        .await;

    let check_absent = |sent: Vec<u8>, claimed: String| {
        let reg = reg.clone();
        async move {
            for d in [claimed, digest_of(&sent)] {
                reg.head(&format!("/v2/demo/app/blobs/{d}"))
                    .await
                    .expect_head_404();
                reg.get(&format!("/v2/demo/app/blobs/{d}"))
                    .await
                    .expect_error(404, "BLOB_UNKNOWN");
            }
        }
    };

    // POST then PUT.
    let sent = bytes("mismatch-put", 5000);
    let claimed = digest_of(b"something else entirely");
    let location = reg.start_upload("demo/app").await;
    reg.send(
        Method::PUT,
        &with_query(&location, "digest", &claimed),
        req()
            .header("Content-Type", "application/octet-stream")
            .body(sent.clone()),
    )
    .await
    .expect_error(400, "DIGEST_INVALID");
    check_absent(sent, claimed).await;

    // Single POST.
    let sent = bytes("mismatch-post", 5000);
    let claimed = digest_of(b"another thing");
    reg.send(
        Method::POST,
        &format!("/v2/demo/app/blobs/uploads/?digest={claimed}"),
        req()
            .header("Content-Type", "application/octet-stream")
            .body(sent.clone()),
    )
    .await
    .expect_error(400, "DIGEST_INVALID");
    check_absent(sent, claimed).await;

    // Chunked, closed with a wrong digest.
    let sent = bytes("mismatch-chunked", 5000);
    let claimed = digest_of(b"a third thing");
    let location = reg.start_upload("demo/app").await;
    let r = reg
        .send(
            Method::PATCH,
            &location,
            req()
                .header("Content-Range", "0-4999")
                .header("Content-Type", "application/octet-stream")
                .body(sent.clone()),
        )
        .await;
    r.expect(202);
    reg.send(
        Method::PUT,
        &with_query(&r.required("Location"), "digest", &claimed),
        req().body(Vec::new()),
    )
    .await
    .expect_error(400, "DIGEST_INVALID");
    check_absent(sent, claimed).await;

    // A digest that is not a digest at all.
    let location = reg.start_upload("demo/app").await;
    reg.send(
        Method::PUT,
        &with_query(&location, "digest", "sha256:not-hex"),
        req().body(b"x".to_vec()),
    )
    .await
    .expect_error(400, "DIGEST_INVALID");
}

/// spec "Push" › "Mounting a blob from another repository" (end-11): a mount of a blob the
/// caller may read in `from` is 201 with `Location` (and the blob is then in the target
/// repository); when the registry cannot mount (unknown blob, unknown source) it SHOULD
/// answer 202, an upload session the client may continue.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cross_repository_mount() {
    let server = start().await;
    let reg = Reg::owner(&server);
    let blob = bytes("mounted", 4321);
    let d = reg.push_blob("demo/source", &blob).await;

    let r = reg
        .send(
            Method::POST,
            &format!("/v2/demo/target/blobs/uploads/?mount={d}&from=demo/source"),
            req().body(Vec::new()),
        )
        .await;
    r.expect(201);
    let location = r.required("Location");
    assert_eq!(
        r.header("Docker-Content-Digest"),
        Some(d.as_str()),
        "{}",
        r.describe()
    );
    let pulled = reg.get(&location).await;
    pulled.expect(200);
    assert_eq!(pulled.body, blob);
    let r = reg.get(&format!("/v2/demo/target/blobs/{d}")).await;
    r.expect(200);
    assert_eq!(r.body, blob);

    // Unknown blob: a 202 session, which completes as a normal upload.
    let other = bytes("not mounted", 999);
    let od = digest_of(&other);
    let r = reg
        .send(
            Method::POST,
            &format!("/v2/demo/target/blobs/uploads/?mount={od}&from=demo/source"),
            req().body(Vec::new()),
        )
        .await;
    r.expect(202);
    let location = r.required("Location");
    reg.send(
        Method::PUT,
        &with_query(&location, "digest", &od),
        req()
            .header("Content-Type", "application/octet-stream")
            .body(other.clone()),
    )
    .await
    .expect(201);
    let r = reg.get(&format!("/v2/demo/target/blobs/{od}")).await;
    r.expect(200);
    assert_eq!(r.body, other);

    // Unknown source repository: 202 too.
    let r = reg
        .send(
            Method::POST,
            &format!("/v2/demo/target2/blobs/uploads/?mount={d}&from=demo/nowhere"),
            req().body(Vec::new()),
        )
        .await;
    r.expect(202);
    r.required("Location");
    reg.head(&format!(
        "/v2/demo/target/blobs/{}",
        digest_of(b"never pushed")
    ))
    .await
    .expect_head_404();
}

/// spec "Push": "A registry MAY reject a manifest … with descriptors in other fields that
/// reference a manifest or blob that does not exist in the registry. When a manifest is
/// rejected for this reason, it MUST result in one or more `MANIFEST_BLOB_UNKNOWN` errors"
/// (code-5; end-7's failure status is 404) — for a missing layer and for a missing child of an
/// index — while "A registry MUST initially accept an otherwise valid manifest with a `subject`
/// field that references a manifest that does not exist".
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn manifest_referencing_an_unknown_blob_is_manifest_blob_unknown() {
    let server = start().await;
    let reg = Reg::owner(&server);
    let image = Image::oci("missing-layer", 1000);
    // The config and the first layer only.
    reg.push_blob("demo/app", &image.config).await;
    reg.push_blob("demo/app", &image.layers[0]).await;
    reg.put_manifest("demo/app", "v1", OCI_MANIFEST, &image.manifest)
        .await
        .expect_error(404, "MANIFEST_BLOB_UNKNOWN");
    reg.get_manifest("demo/app", "v1")
        .await
        .expect_error(404, "MANIFEST_UNKNOWN");
    reg.get_manifest("demo/app", &image.digest)
        .await
        .expect_error(404, "MANIFEST_UNKNOWN");

    // An index whose child manifest was never pushed.
    let index = serde_json::to_vec(&json!({
        "schemaVersion": 2,
        "mediaType": OCI_INDEX,
        "manifests": [image.descriptor(OCI_MANIFEST, "amd64")],
    }))
    .expect("JSON");
    reg.put_manifest("demo/app", "multi", OCI_INDEX, &index)
        .await
        .expect_error(404, "MANIFEST_BLOB_UNKNOWN");

    // A subject that does not exist (yet) is fine.
    reg.push_blob("demo/app", b"{}").await;
    let referrer = serde_json::to_vec(&json!({
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "artifactType": "application/vnd.example.early+json",
        "config": {"mediaType": OCI_EMPTY, "digest": digest_of(b"{}"), "size": 2},
        "layers": [],
        "subject": {"mediaType": OCI_MANIFEST, "digest": image.digest, "size": image.manifest.len()},
    }))
    .expect("JSON");
    let r = reg
        .put_manifest("demo/app", &digest_of(&referrer), OCI_MANIFEST, &referrer)
        .await;
    r.expect(201);
}

/// spec "Error Codes" code-6 `MANIFEST_INVALID`: a body that is not JSON, and a JSON image
/// manifest without its required `config`, are refused with 400 and are not stored; a
/// manifest `PUT` to a digest the body does not hash to is refused (400 `DIGEST_INVALID`,
/// "`Docker-Content-Digest` … MUST be equal to the client provided digest"); an invalid tag
/// is a 400.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_manifests_are_refused() {
    let server = start().await;
    let reg = Reg::owner(&server);
    let image = reg
        .push_image("demo/app", "good", "invalid-manifests")
        .await;

    reg.put_manifest("demo/app", "garbage", OCI_MANIFEST, b"this is not json {")
        .await
        .expect_error(400, "MANIFEST_INVALID");
    let no_config = serde_json::to_vec(&json!({
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "layers": [],
    }))
    .expect("JSON");
    reg.put_manifest("demo/app", "noconfig", OCI_MANIFEST, &no_config)
        .await
        .expect_error(400, "MANIFEST_INVALID");

    let wrong_digest = digest_of(b"not this manifest");
    reg.put_manifest("demo/app", &wrong_digest, OCI_MANIFEST, &image.manifest)
        .await
        .expect_error(400, "DIGEST_INVALID");

    let r = reg
        .put_manifest("demo/app", "-not-a-tag", OCI_MANIFEST, &image.manifest)
        .await;
    r.expect(400);
    r.error_codes();

    assert_eq!(reg.tags("demo/app").await, vec!["good".to_string()]);
    reg.get_manifest("demo/app", &wrong_digest)
        .await
        .expect_error(404, "MANIFEST_UNKNOWN");
}

// =============================================================================================
// Content discovery
// =============================================================================================

/// Follows `Link: <…>; rel="next"` from `first`, at most [`MAX_PAGES`] pages; returns every
/// page's items (read from `field`) and asserts each page against the `n` rules of the spec.
async fn paginate(reg: &Reg, first: &str, field: &str, n: usize) -> Vec<Vec<String>> {
    let mut pages = Vec::new();
    let mut next = Some(first.to_string());
    while let Some(url) = next {
        assert!(pages.len() < MAX_PAGES, "more than {MAX_PAGES} pages");
        let r = reg.get(&url).await;
        r.expect(200);
        let items = strings(&r.json()[field], &r);
        assert!(items.len() <= n, "more than n={n} items\n{}", r.describe());
        next = next_link(&r);
        pages.push(items);
    }
    pages
}

/// spec "Content Discovery" › "Listing Tags" (end-8a, end-8b): 200 `{"name","tags"}` in
/// lexical order; `n` limits the answer, with a `Link` (RFC 5988, `rel="next"`) when more are
/// available, and fewer than `n` only at the end or with a `Link`; `n=0` is an empty list
/// without `Link`; `last` starts after the given tag, with or without `n`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tags_list_with_n_last_and_link() {
    let server = start().await;
    let reg = Reg::owner(&server);
    let image = reg.push_image("demo/tags", "v2", "tags").await;
    for tag in ["v10", "alpha", "v1", "gamma", "beta"] {
        reg.put_manifest("demo/tags", tag, OCI_MANIFEST, &image.manifest)
            .await
            .expect(201);
    }
    let all: Vec<String> = ["alpha", "beta", "gamma", "v1", "v10", "v2"]
        .map(String::from)
        .to_vec();

    let r = reg.get("/v2/demo/tags/tags/list").await;
    r.expect(200);
    assert_eq!(r.json()["name"], "demo/tags", "{}", r.describe());
    assert_eq!(strings(&r.json()["tags"], &r), all);

    let pages = paginate(&reg, "/v2/demo/tags/tags/list?n=2", "tags", 2).await;
    assert_eq!(pages[0], ["alpha", "beta"], "{pages:?}");
    assert!(
        pages.len() >= 3,
        "n=2 over 6 tags needs 3 pages with Link: {pages:?}"
    );
    for (i, page) in pages.iter().enumerate() {
        // Fewer than n only on the last page (whose answer has no Link).
        if i + 1 < pages.len() {
            assert_eq!(page.len(), 2, "a short page before the end: {pages:?}");
        }
    }
    assert_eq!(pages.concat(), all, "pages {pages:?}");

    let r = reg.get("/v2/demo/tags/tags/list?n=0").await;
    r.expect(200);
    assert!(
        strings(&r.json()["tags"], &r).is_empty(),
        "{}",
        r.describe()
    );
    assert!(
        r.header("Link").is_none(),
        "n=0 sent a Link\n{}",
        r.describe()
    );

    let r = reg.get("/v2/demo/tags/tags/list?last=gamma").await;
    r.expect(200);
    assert_eq!(strings(&r.json()["tags"], &r), ["v1", "v10", "v2"]);
    let r = reg.get("/v2/demo/tags/tags/list?n=2&last=beta").await;
    r.expect(200);
    assert_eq!(strings(&r.json()["tags"], &r), ["gamma", "v1"]);
    let r = reg.get("/v2/demo/tags/tags/list?n=10").await;
    r.expect(200);
    assert_eq!(strings(&r.json()["tags"], &r), all);
    assert!(
        r.header("Link").is_none(),
        "a Link with nothing more\n{}",
        r.describe()
    );
}

/// Docker Registry HTTP API V2 (spec appendix apdx-1) "Listing Repositories": `GET
/// /v2/_catalog` is `{"repositories":[…]}` in lexical order, with `n`/`last` pagination and a
/// `Link: <…>; rel="next"` header while more are available.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn catalog_with_n_last_and_link() {
    let server = start().await;
    let reg = Reg::owner(&server);
    create_team(&reg, "vision").await;
    let repos = [
        "demo/cat-c",
        "demo/cat-a",
        "demo/vision/cat-t",
        "demo/cat-b",
    ];
    for repo in repos {
        reg.push_image(repo, "v1", repo).await;
    }
    let mut all: Vec<String> = repos.map(String::from).to_vec();
    all.sort();

    assert_eq!(reg.catalog().await, all);
    let pages = paginate(&reg, "/v2/_catalog?n=1", "repositories", 1).await;
    assert!(pages.len() >= 4, "{pages:?}");
    assert_eq!(pages.concat(), all, "{pages:?}");
    let pages = paginate(&reg, "/v2/_catalog?n=3", "repositories", 3).await;
    assert_eq!(pages[0].len(), 3, "{pages:?}");
    assert_eq!(pages.concat(), all, "{pages:?}");
    let r = reg.get("/v2/_catalog?n=1&last=demo/cat-a").await;
    r.expect(200);
    assert_eq!(strings(&r.json()["repositories"], &r), ["demo/cat-b"]);
}

/// spec "Content Discovery" › "Listing Referrers" (end-12a, end-12b) and "Pushing Manifests
/// with Subject": a manifest with `subject` is answered with `OCI-Subject: <subject digest>`;
/// the referrers list is an image index (`Content-Type` of an index) whose descriptors carry
/// `artifactType` (the manifest's, else its config's media type) and the manifest's
/// annotations; `?artifactType=` filters and says so in `OCI-Filters-Applied: artifactType`;
/// a deleted referrer leaves the list; no referrers is an empty list, never a 404; a
/// malformed digest is 400.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn referrers_api_lists_and_filters_by_artifact_type() {
    let server = start().await;
    let reg = Reg::owner(&server);
    let subject = reg.push_image("demo/app", "v1", "referrers").await;
    reg.push_blob("demo/app", b"{}").await;
    let sbom_blob = bytes("sbom", 500);
    reg.push_blob("demo/app", &sbom_blob).await;
    let subject_desc = json!({"mediaType": OCI_MANIFEST, "digest": subject.digest, "size": subject.manifest.len()});
    let empty = json!({"mediaType": OCI_EMPTY, "digest": digest_of(b"{}"), "size": 2});

    let sbom = serde_json::to_vec(&json!({
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "artifactType": "application/vnd.example.sbom.v1",
        "config": empty,
        "layers": [{"mediaType": "application/spdx+json", "digest": digest_of(&sbom_blob), "size": sbom_blob.len()}],
        "subject": subject_desc,
        "annotations": {"org.example.sbom.format": "json"},
    }))
    .expect("JSON");
    let signature = serde_json::to_vec(&json!({
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "artifactType": "application/vnd.example.signature.v1",
        "config": empty,
        "layers": [empty],
        "subject": subject_desc,
        "annotations": {"org.example.signature.fingerprint": "abcd"},
    }))
    .expect("JSON");
    // No artifactType: the config's media type stands for it.
    let config_typed_blob = b"{\"kind\":\"attestation\"}".to_vec();
    reg.push_blob("demo/app", &config_typed_blob).await;
    let attestation = serde_json::to_vec(&json!({
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": {"mediaType": "application/vnd.example.attestation.config.v1+json",
                   "digest": digest_of(&config_typed_blob), "size": config_typed_blob.len()},
        "layers": [],
        "subject": subject_desc,
    }))
    .expect("JSON");

    let mut pushed = BTreeMap::new();
    for (body, artifact_type) in [
        (&sbom, "application/vnd.example.sbom.v1"),
        (&signature, "application/vnd.example.signature.v1"),
        (
            &attestation,
            "application/vnd.example.attestation.config.v1+json",
        ),
    ] {
        let d = digest_of(body);
        let r = reg.put_manifest("demo/app", &d, OCI_MANIFEST, body).await;
        r.expect(201);
        assert_eq!(
            r.header("OCI-Subject"),
            Some(subject.digest.as_str()),
            "no OCI-Subject on a manifest with subject\n{}",
            r.describe()
        );
        assert_eq!(
            r.header("Docker-Content-Digest"),
            Some(d.as_str()),
            "{}",
            r.describe()
        );
        pushed.insert(d, (body.len(), artifact_type));
    }
    // A manifest without subject has no OCI-Subject.
    let r = reg
        .put_manifest("demo/app", "plain", OCI_MANIFEST, &subject.manifest)
        .await;
    r.expect(201);
    assert!(r.header("OCI-Subject").is_none(), "{}", r.describe());

    let path = format!("/v2/demo/app/referrers/{}", subject.digest);
    let r = reg.get(&path).await;
    r.expect(200);
    assert_eq!(
        r.header("Content-Type"),
        Some(OCI_INDEX),
        "{}",
        r.describe()
    );
    assert!(
        r.header("OCI-Filters-Applied").is_none(),
        "{}",
        r.describe()
    );
    let index = r.json();
    assert_eq!(index["schemaVersion"], 2, "{index}");
    assert_eq!(index["mediaType"], OCI_INDEX, "{index}");
    let manifests = index["manifests"].as_array().expect("manifests array");
    let mut seen = BTreeMap::new();
    for m in manifests {
        let d = m["digest"].as_str().expect("digest").to_string();
        let (size, artifact_type) = pushed
            .get(&d)
            .unwrap_or_else(|| panic!("an unexpected referrer {m}\n{index}"));
        assert_eq!(m["mediaType"], OCI_MANIFEST, "{m}");
        assert_eq!(m["size"].as_u64(), Some(*size as u64), "{m}");
        assert_eq!(m["artifactType"], *artifact_type, "{m}");
        seen.insert(d, m.clone());
    }
    assert_eq!(seen.len(), 3, "expected the 3 referrers: {index}");
    assert_eq!(
        seen[&digest_of(&sbom)]["annotations"]["org.example.sbom.format"],
        "json",
        "annotations must be copied\n{index}"
    );
    assert_eq!(
        seen[&digest_of(&signature)]["annotations"]["org.example.signature.fingerprint"],
        "abcd",
        "annotations must be copied\n{index}"
    );

    let r = reg
        .get(&format!(
            "{path}?artifactType=application/vnd.example.sbom.v1"
        ))
        .await;
    r.expect(200);
    assert_eq!(
        r.header("OCI-Filters-Applied"),
        Some("artifactType"),
        "{}",
        r.describe()
    );
    let filtered = r.json();
    let digests: Vec<&str> = filtered["manifests"]
        .as_array()
        .expect("manifests")
        .iter()
        .filter_map(|m| m["digest"].as_str())
        .collect();
    assert_eq!(digests, [digest_of(&sbom).as_str()], "{filtered}");

    // "Deleting Manifests": a deleted referrer leaves the list.
    reg.delete(&format!("/v2/demo/app/manifests/{}", digest_of(&signature)))
        .await
        .expect(202);
    let r = reg.get(&path).await;
    r.expect(200);
    let mut left: Vec<String> = r.json()["manifests"]
        .as_array()
        .expect("manifests")
        .iter()
        .filter_map(|m| m["digest"].as_str().map(String::from))
        .collect();
    left.sort();
    let mut expected = vec![digest_of(&sbom), digest_of(&attestation)];
    expected.sort();
    assert_eq!(
        left,
        expected,
        "after deleting the signature: {}",
        r.describe()
    );

    // Nothing refers to this digest: an empty list, not a 404.
    let r = reg
        .get(&format!("/v2/demo/app/referrers/{}", digest_of(b"nobody")))
        .await;
    r.expect(200);
    assert_eq!(r.json()["manifests"], json!([]), "{}", r.describe());
    // A malformed digest: 400.
    reg.get("/v2/demo/app/referrers/sha256:xyz")
        .await
        .expect(400);
}

// =============================================================================================
// Content management
// =============================================================================================

/// spec "Content Management" › "Deleting tags" (end-9): 202, then a GET of the tag is 404 —
/// and only that tag goes: another tag on the same digest and the manifest by digest stay.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deleting_a_tag_removes_only_that_tag() {
    let server = start().await;
    let reg = Reg::owner(&server);
    let image = reg.push_image("demo/app", "one", "delete-tag").await;
    reg.put_manifest("demo/app", "two", OCI_MANIFEST, &image.manifest)
        .await
        .expect(201);

    reg.delete("/v2/demo/app/manifests/one").await.expect(202);
    reg.get_manifest("demo/app", "one")
        .await
        .expect_error(404, "MANIFEST_UNKNOWN");
    let r = reg.get_manifest("demo/app", "two").await;
    r.expect(200);
    assert_eq!(r.body, image.manifest);
    reg.get_manifest("demo/app", &image.digest)
        .await
        .expect(200);
    assert_eq!(reg.tags("demo/app").await, ["two"]);
    // Deleting it again: the tag is unknown.
    let r = reg.delete("/v2/demo/app/manifests/one").await;
    r.expect(404);
    r.error_codes();
}

/// spec "Content Management" › "Deleting Manifests" (end-9): 202, then GET by digest and by
/// any tag that pointed at it is 404; deleting it again is 404 (`MANIFEST_UNKNOWN`); in a
/// repository that does not exist, 404.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deleting_a_manifest_by_digest() {
    let server = start().await;
    let reg = Reg::owner(&server);
    let image = reg.push_image("demo/app", "one", "delete-manifest").await;
    reg.put_manifest("demo/app", "two", OCI_MANIFEST, &image.manifest)
        .await
        .expect(201);
    let keep = reg.push_image("demo/app", "keep", "kept").await;

    let path = format!("/v2/demo/app/manifests/{}", image.digest);
    reg.delete(&path).await.expect(202);
    for reference in ["one", "two", image.digest.as_str()] {
        reg.get_manifest("demo/app", reference)
            .await
            .expect_error(404, "MANIFEST_UNKNOWN");
        reg.head_manifest("demo/app", reference)
            .await
            .expect_head_404();
    }
    assert_eq!(reg.tags("demo/app").await, ["keep"]);
    reg.get_manifest("demo/app", &keep.digest).await.expect(200);
    reg.delete(&path)
        .await
        .expect_error(404, "MANIFEST_UNKNOWN");
    reg.delete(&format!("/v2/demo/absent/manifests/{}", image.digest))
        .await
        .expect_error(404, "NAME_UNKNOWN");
}

/// spec "Content Management" › "Deleting Blobs" (end-10): 202, then the blob is 404
/// (`BLOB_UNKNOWN`); deleting it again is 404.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deleting_a_blob() {
    let server = start().await;
    let reg = Reg::owner(&server);
    let blob = bytes("deleted blob", 3000);
    let d = reg.push_blob("demo/app", &blob).await;
    let kept = reg.push_blob("demo/app", b"kept blob").await;
    let path = format!("/v2/demo/app/blobs/{d}");

    reg.delete(&path).await.expect(202);
    reg.head(&path).await.expect_head_404();
    reg.get(&path).await.expect_error(404, "BLOB_UNKNOWN");
    reg.delete(&path).await.expect_error(404, "BLOB_UNKNOWN");
    reg.head(&format!("/v2/demo/app/blobs/{kept}"))
        .await
        .expect(200);
}

// =============================================================================================
// Names, error codes, media types
// =============================================================================================

/// spec "Pulling manifests" (`<name>` grammar) and "Error Codes": `NAME_INVALID` (code-8)
/// for a name outside the grammar or, for Arca, of more than three components (`a/b/c/d`);
/// `NAME_UNKNOWN` (code-9) for a repository that does not exist (including a team that does
/// not exist, whose repositories cannot be created); `MANIFEST_UNKNOWN` (code-7) and
/// `BLOB_UNKNOWN` (code-1) inside an existing repository; every error body of the OCI shape.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn error_codes_for_names_manifests_and_blobs() {
    let server = start().await;
    let reg = Reg::owner(&server);
    reg.push_image("demo/app", "v1", "errors").await;
    let absent = digest_of(b"absent");

    for name in ["a/b/c/d", "demo/a/b/c", "Demo/App", "demo/app-", "demo"] {
        reg.get(&format!("/v2/{name}/tags/list"))
            .await
            .expect_error(400, "NAME_INVALID");
        reg.get_manifest(name, "v1")
            .await
            .expect_error(400, "NAME_INVALID");
        reg.send(
            Method::POST,
            &format!("/v2/{name}/blobs/uploads/"),
            req().body(Vec::new()),
        )
        .await
        .expect_error(400, "NAME_INVALID");
    }

    for name in ["demo/nothing", "demo/noteam/app", "otherorg/app"] {
        reg.get(&format!("/v2/{name}/tags/list"))
            .await
            .expect_error(404, "NAME_UNKNOWN");
        reg.get_manifest(name, "v1")
            .await
            .expect_error(404, "NAME_UNKNOWN");
        reg.get(&format!("/v2/{name}/blobs/{absent}"))
            .await
            .expect_error(404, "NAME_UNKNOWN");
    }

    // A push into a team that does not exist fails with NAME_UNKNOWN (at the first request
    // that fails), and creates nothing.
    let blob = b"into a missing team".to_vec();
    let d = digest_of(&blob);
    let r = reg
        .send(
            Method::POST,
            &format!("/v2/demo/noteam/app/blobs/uploads/?digest={d}"),
            req().body(blob.clone()),
        )
        .await;
    r.expect_error(404, "NAME_UNKNOWN");
    let r = reg
        .send(
            Method::POST,
            "/v2/demo/noteam/app/blobs/uploads/",
            req().body(Vec::new()),
        )
        .await;
    if r.status.as_u16() == 202 {
        let r = reg
            .send(
                Method::PUT,
                &with_query(&r.required("Location"), "digest", &d),
                req().body(blob.clone()),
            )
            .await;
        r.expect_error(404, "NAME_UNKNOWN");
    } else {
        r.expect_error(404, "NAME_UNKNOWN");
    }
    reg.get("/v2/demo/noteam/app/tags/list")
        .await
        .expect_error(404, "NAME_UNKNOWN");
    assert!(
        !reg.catalog().await.iter().any(|n| n.contains("noteam")),
        "a repository of a missing team appeared in the catalog"
    );

    reg.get_manifest("demo/app", "nope")
        .await
        .expect_error(404, "MANIFEST_UNKNOWN");
    reg.get(&format!("/v2/demo/app/blobs/{absent}"))
        .await
        .expect_error(404, "BLOB_UNKNOWN");
}

/// spec "Pulling manifests" / "Pushing Manifests" with the Docker and OCI media types: a
/// Docker schema 2 manifest, a Docker manifest list, an OCI image index, and an OCI manifest
/// without a `mediaType` field are each stored as sent and served with the `Content-Type`
/// they were pushed with ("The `Content-Type` header SHOULD match what the client pushed"),
/// parameters of the push's `Content-Type` ignored ("The registry SHOULD ignore parameters").
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn docker_and_oci_media_types_round_trip() {
    let server = start().await;
    let reg = Reg::owner(&server);

    let amd = Image::docker("docker-amd64", "amd64");
    let arm = Image::docker("docker-arm64", "arm64");
    for image in [&amd, &arm] {
        for blob in image.blobs() {
            reg.push_blob("demo/docker", blob).await;
        }
        reg.put_manifest(
            "demo/docker",
            &image.digest,
            DOCKER_MANIFEST,
            &image.manifest,
        )
        .await
        .expect(201);
    }
    let list = serde_json::to_vec(&json!({
        "schemaVersion": 2,
        "mediaType": DOCKER_LIST,
        "manifests": [amd.descriptor(DOCKER_MANIFEST, "amd64"), arm.descriptor(DOCKER_MANIFEST, "arm64")],
    }))
    .expect("JSON");
    let r = reg
        .put_manifest("demo/docker", "latest", DOCKER_LIST, &list)
        .await;
    r.expect(201);
    assert_eq!(
        r.header("Docker-Content-Digest"),
        Some(digest_of(&list).as_str())
    );

    let oci_amd = Image::oci("oci-amd64", 1024);
    for blob in oci_amd.blobs() {
        reg.push_blob("demo/docker", blob).await;
    }
    reg.put_manifest(
        "demo/docker",
        &oci_amd.digest,
        OCI_MANIFEST,
        &oci_amd.manifest,
    )
    .await
    .expect(201);
    let index = serde_json::to_vec(&json!({
        "schemaVersion": 2,
        "mediaType": OCI_INDEX,
        "manifests": [oci_amd.descriptor(OCI_MANIFEST, "amd64")],
        "annotations": {"org.example": "index"},
    }))
    .expect("JSON");
    reg.put_manifest("demo/docker", "oci-index", OCI_INDEX, &index)
        .await
        .expect(201);

    // No mediaType field: the Content-Type of the push decides.
    let mut bare: Value = serde_json::from_slice(&oci_amd.manifest).expect("JSON");
    bare.as_object_mut().expect("object").remove("mediaType");
    let bare = serde_json::to_vec(&bare).expect("JSON");
    reg.put_manifest("demo/docker", "bare", OCI_MANIFEST, &bare)
        .await
        .expect(201);

    // "The registry SHOULD ignore parameters on the Content-Type header" (of a push).
    let mut with_params: Value = serde_json::from_slice(&oci_amd.manifest).expect("JSON");
    with_params["annotations"] = json!({"org.example.pushed-with": "parameters"});
    let with_params = serde_json::to_vec(&with_params).expect("JSON");
    reg.put_manifest(
        "demo/docker",
        "params",
        &format!("{OCI_MANIFEST}; charset=utf-8"),
        &with_params,
    )
    .await
    .expect(201);

    for (reference, body, media_type) in [
        (amd.digest.clone(), &amd.manifest, DOCKER_MANIFEST),
        ("latest".to_string(), &list, DOCKER_LIST),
        ("oci-index".to_string(), &index, OCI_INDEX),
        (oci_amd.digest.clone(), &oci_amd.manifest, OCI_MANIFEST),
        ("bare".to_string(), &bare, OCI_MANIFEST),
        ("params".to_string(), &with_params, OCI_MANIFEST),
    ] {
        let r = reg.get_manifest("demo/docker", &reference).await;
        r.expect(200);
        assert_eq!(&r.body, body, "{reference}: bytes differ\n{}", r.describe());
        assert_eq!(
            r.header("Content-Type"),
            Some(media_type),
            "{reference}\n{}",
            r.describe()
        );
        assert_eq!(
            r.header("Docker-Content-Digest"),
            Some(digest_of(body).as_str()),
            "{reference}\n{}",
            r.describe()
        );
        let h = reg.head_manifest("demo/docker", &reference).await;
        h.expect(200);
        assert_eq!(
            h.header("Content-Type"),
            Some(media_type),
            "{reference}\n{}",
            h.describe()
        );
    }
}

// =============================================================================================
// Arca: isolation and key kinds
// =============================================================================================

/// R-TEN-7: a team's repositories are invisible to a member of another team: pulls, tag lists,
/// blobs and HEADs are 404 `NAME_UNKNOWN` (the same as for a repository that does not exist),
/// the catalog omits them, a mount from them is not a mount (202), and a push into them is
/// refused; a member of the team sees and pulls them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn team_images_are_invisible_outside_the_team() {
    let server = start().await;
    let owner = Reg::owner(&server);
    create_team(&owner, "vision").await;
    create_team(&owner, "nlp").await;
    let outsider = owner.with(Auth::Bearer(
        add_user(&owner, Some("nlp"), "alice@example.com", &["REGISTRY_USER"]).await,
    ));
    let insider = owner.with(Auth::Bearer(
        add_user(
            &owner,
            Some("vision"),
            "bob@example.com",
            &["REGISTRY_USER"],
        )
        .await,
    ));

    let image = owner
        .push_image("demo/vision/resnet", "v1", "team-image")
        .await;
    let layer = digest_of(&image.layers[0]);
    outsider
        .push_image("demo/nlp/bert", "v1", "nlp-image")
        .await;

    // The member of vision sees it.
    let r = insider.get_manifest("demo/vision/resnet", "v1").await;
    r.expect(200);
    assert_eq!(r.body, image.manifest);
    assert!(insider
        .catalog()
        .await
        .contains(&"demo/vision/resnet".to_string()));

    // The member of nlp does not.
    outsider
        .get_manifest("demo/vision/resnet", "v1")
        .await
        .expect_error(404, "NAME_UNKNOWN");
    outsider
        .get_manifest("demo/vision/resnet", &image.digest)
        .await
        .expect_error(404, "NAME_UNKNOWN");
    outsider
        .head_manifest("demo/vision/resnet", "v1")
        .await
        .expect_head_404();
    outsider
        .get("/v2/demo/vision/resnet/tags/list")
        .await
        .expect_error(404, "NAME_UNKNOWN");
    outsider
        .get(&format!("/v2/demo/vision/resnet/blobs/{layer}"))
        .await
        .expect_error(404, "NAME_UNKNOWN");
    outsider
        .get(&format!(
            "/v2/demo/vision/resnet/referrers/{}",
            image.digest
        ))
        .await
        .expect_error(404, "NAME_UNKNOWN");
    let catalog = outsider.catalog().await;
    assert!(
        catalog.contains(&"demo/nlp/bert".to_string()),
        "the outsider's own repository is missing: {catalog:?}"
    );
    assert!(
        !catalog.iter().any(|n| n.starts_with("demo/vision/")),
        "the catalog shows another team's repository: {catalog:?}"
    );
    // Exactly as a repository that does not exist.
    let hidden = outsider.get("/v2/demo/vision/resnet/tags/list").await;
    let missing = outsider.get("/v2/demo/vision/absent/tags/list").await;
    assert_eq!(hidden.status, missing.status);
    assert_eq!(hidden.error_codes(), missing.error_codes());

    // A mount from the hidden repository is not a mount.
    let r = outsider
        .send(
            Method::POST,
            &format!("/v2/demo/nlp/bert/blobs/uploads/?mount={layer}&from=demo/vision/resnet"),
            req().body(Vec::new()),
        )
        .await;
    r.expect(202);
    outsider
        .head(&format!("/v2/demo/nlp/bert/blobs/{layer}"))
        .await
        .expect_head_404();

    // A push into the team is refused and changes nothing.
    let r = outsider
        .send(
            Method::POST,
            "/v2/demo/vision/resnet/blobs/uploads/",
            req().body(Vec::new()),
        )
        .await;
    assert!(
        matches!(r.status.as_u16(), 403 | 404),
        "an outsider started an upload into the team\n{}",
        r.describe()
    );
    let codes = r.error_codes();
    assert!(
        codes.iter().any(|c| c == "DENIED" || c == "NAME_UNKNOWN"),
        "{codes:?}"
    );
    let r = outsider
        .put_manifest("demo/vision/resnet", "evil", OCI_MANIFEST, &image.manifest)
        .await;
    assert!(matches!(r.status.as_u16(), 403 | 404), "{}", r.describe());
    assert_eq!(owner.tags("demo/vision/resnet").await, ["v1"]);
}

/// The REGISTRY_READ role (guide §2.4.1: view and download, no push, no delete): pulls work,
/// every write is 403 `DENIED` (code-12) and changes nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn registry_read_key_pulls_but_cannot_push_or_delete() {
    let server = start().await;
    let owner = Reg::owner(&server);
    let image = owner.push_image("demo/app", "v1", "read-only").await;
    let reader = owner.with(Auth::Bearer(
        add_user(&owner, None, "reader@example.com", &["REGISTRY_READ"]).await,
    ));

    let r = reader.get_manifest("demo/app", "v1").await;
    r.expect(200);
    assert_eq!(r.body, image.manifest);
    reader
        .get(&format!("/v2/demo/app/blobs/{}", digest_of(&image.config)))
        .await
        .expect(200);
    assert_eq!(reader.tags("demo/app").await, ["v1"]);

    reader
        .send(
            Method::POST,
            "/v2/demo/app/blobs/uploads/",
            req().body(Vec::new()),
        )
        .await
        .expect_error(403, "DENIED");
    let blob = b"reader blob".to_vec();
    reader
        .send(
            Method::POST,
            &format!("/v2/demo/app/blobs/uploads/?digest={}", digest_of(&blob)),
            req().body(blob.clone()),
        )
        .await
        .expect_error(403, "DENIED");
    reader
        .send(
            Method::POST,
            "/v2/demo/new/blobs/uploads/",
            req().body(Vec::new()),
        )
        .await
        .expect_error(403, "DENIED");
    reader
        .put_manifest("demo/app", "v2", OCI_MANIFEST, &image.manifest)
        .await
        .expect_error(403, "DENIED");
    reader
        .delete("/v2/demo/app/manifests/v1")
        .await
        .expect_error(403, "DENIED");
    reader
        .delete(&format!("/v2/demo/app/manifests/{}", image.digest))
        .await
        .expect_error(403, "DENIED");
    reader
        .delete(&format!("/v2/demo/app/blobs/{}", digest_of(&image.config)))
        .await
        .expect_error(403, "DENIED");

    assert_eq!(owner.tags("demo/app").await, ["v1"]);
    owner
        .head(&format!("/v2/demo/app/blobs/{}", digest_of(&blob)))
        .await
        .expect_head_404();
    owner
        .head(&format!("/v2/demo/app/blobs/{}", digest_of(&image.config)))
        .await
        .expect(200);
}

/// A service key scoped to one container (`entityType: SPECIFIC_CONTAINER`, `entityValue:
/// demo/app`, scopes GET/LIST/DOWNLOAD_CONTAINER) pulls `demo/app`, sees nothing else (404
/// `NAME_UNKNOWN` on `demo/other`, absent from the catalog), and cannot push.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn service_key_scoped_to_one_container() {
    let server = start().await;
    let owner = Reg::owner(&server);
    let app = owner.push_image("demo/app", "v1", "svc-app").await;
    let other = owner.push_image("demo/other", "v1", "svc-other").await;
    let body = rest_post(
        &owner,
        "/v3/keys/service",
        json!({
            "name": "puller",
            "scopes": ["GET_CONTAINER", "LIST_CONTAINERS", "DOWNLOAD_CONTAINER"],
            "entityType": "SPECIFIC_CONTAINER",
            "entityValue": "demo/app",
        }),
    )
    .await;
    let key = body["apiKey"]
        .as_str()
        .unwrap_or_else(|| panic!("no apiKey: {body}"))
        .to_string();
    let svc = owner.with(Auth::Bearer(key.clone()));

    let r = svc.get_manifest("demo/app", "v1").await;
    r.expect(200);
    assert_eq!(r.body, app.manifest);
    let r = svc
        .get(&format!("/v2/demo/app/blobs/{}", digest_of(&app.layers[1])))
        .await;
    r.expect(200);
    assert_eq!(r.body, app.layers[1]);
    assert_eq!(svc.tags("demo/app").await, ["v1"]);
    // Through the token flow too.
    svc.with(Auth::Basic(key.clone()))
        .get_manifest("demo/app", &app.digest)
        .await
        .expect(200);

    svc.get_manifest("demo/other", "v1")
        .await
        .expect_error(404, "NAME_UNKNOWN");
    svc.get(&format!(
        "/v2/demo/other/blobs/{}",
        digest_of(&other.config)
    ))
    .await
    .expect_error(404, "NAME_UNKNOWN");
    svc.get("/v2/demo/other/tags/list")
        .await
        .expect_error(404, "NAME_UNKNOWN");
    let catalog = svc.catalog().await;
    assert_eq!(catalog, ["demo/app"], "the service key's catalog");

    let r = svc
        .send(
            Method::POST,
            "/v2/demo/app/blobs/uploads/",
            req().body(Vec::new()),
        )
        .await;
    r.expect_error(403, "DENIED");
    let r = svc
        .put_manifest("demo/app", "v2", OCI_MANIFEST, &app.manifest)
        .await;
    r.expect_error(403, "DENIED");
}

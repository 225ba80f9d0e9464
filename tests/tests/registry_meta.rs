//! Quotas (R-QUO-1, R-QUO-2), repository metadata (R-OCI-4, R-OCI-5, R-TEN-7) and the image
//! commands of the CLI (R-IF-3), against live `arca-server` processes.
//!
//! * quotas: the operator sets tiny limits with `arca-server org set-quota` on a stopped server
//!   (and once more on a running one); uploads that announce or stream more than the layer
//!   limit, and pushes beyond the org's image total, are refused with the OCI error
//!   `403 DENIED` whose `detail` names the limit and the excess, and nothing becomes visible; a
//!   blob shared by two repositories counts once in `GET /v2/org/{org}/usage`, which every
//!   member of the org reads and no one else;
//! * repository metadata: repository info, image lists with multi-arch tables, tag info,
//!   metadata edits and who may make a repository public, anonymous pulls of public
//!   repositories, tag and repository removal, and team repositories hidden from outsiders;
//! * the CLI: `arca registry image push|list|info|update|pull|remove` over OCI layouts made by
//!   `tests/fixtures/make_oci_layout.py`.
//!
//! Every request is bounded by [`REQUEST_TIMEOUT`]; every test starts its own server.

use std::collections::BTreeMap;
use std::ffi::OsStr;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use arca_tests::bins::workspace_root;
use arca_tests::process::{run_bounded, Output};
use arca_tests::{bootstrap, run_server_command, Cli, Server};
use reqwest::header::HeaderMap;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use sha2::{Digest as _, Sha256};

/// Bound of every HTTP request.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
const OCI_CONFIG: &str = "application/vnd.oci.image.config.v1+json";
const OCI_LAYER: &str = "application/vnd.oci.image.layer.v1.tar";
const ACCEPT_ALL: &str = "application/vnd.oci.image.manifest.v1+json, \
                          application/vnd.oci.image.index.v1+json, \
                          application/vnd.docker.distribution.manifest.v2+json, \
                          application/vnd.docker.distribution.manifest.list.v2+json";

/// The limits the quota test sets: a layer of at most 1000 bytes, 5000 bytes of images.
const LAYER_LIMIT: u64 = 1000;
const IMAGE_LIMIT: u64 = 5000;

fn digest_of(data: &[u8]) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(data)))
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

    #[track_caller]
    fn required(&self, name: &str) -> String {
        self.header(name)
            .unwrap_or_else(|| panic!("no {name} header\n{}", self.describe()))
            .to_string()
    }

    /// Asserts an OCI error answer (`{"errors":[{"code",…}]}`) with this status and code;
    /// returns the first error.
    #[track_caller]
    fn expect_oci(&self, status: u16, code: &str) -> Value {
        self.expect(status);
        let body = self.json();
        let first = body["errors"][0].clone();
        assert_eq!(first["code"], code, "{}", self.describe());
        first
    }

    /// Asserts a REST error answer (`{"requestStatus":{"statusCode",…}}`).
    #[track_caller]
    fn expect_rest(&self, status: u16, code: &str) -> &Self {
        self.expect(status);
        assert_eq!(
            self.json()["requestStatus"]["statusCode"],
            code,
            "{}",
            self.describe()
        );
        self
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
    /// A body sent as a stream of these chunks (`Transfer-Encoding: chunked`, no
    /// `Content-Length`).
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

    fn with(&self, key: Option<&str>) -> Api {
        Api {
            key: key.map(str::to_string),
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

    async fn head(&self, path: &str) -> Resp {
        self.send(Method::HEAD, path, req()).await
    }

    async fn delete(&self, path: &str) -> Resp {
        self.send(Method::DELETE, path, req()).await
    }

    async fn patch_json(&self, path: &str, v: Value) -> Resp {
        self.send(Method::PATCH, path, req().json(v)).await
    }

    async fn post_json(&self, path: &str, v: Value) -> Resp {
        self.send(Method::POST, path, req().json(v)).await
    }

    async fn get_manifest(&self, repo: &str, reference: &str) -> Resp {
        self.send(
            Method::GET,
            &format!("/v2/{repo}/manifests/{reference}"),
            req().header("Accept", ACCEPT_ALL),
        )
        .await
    }

    /// `POST /v2/<repo>/blobs/uploads/` (empty body): the 202's `Location`.
    async fn start_upload(&self, repo: &str) -> String {
        let r = self
            .send(Method::POST, &format!("/v2/{repo}/blobs/uploads/"), req())
            .await;
        r.expect(202);
        r.required("Location")
    }

    /// Pushes a blob with one `POST ?digest=` (its `Content-Length` announces the size).
    async fn post_blob(&self, repo: &str, data: &[u8]) -> Resp {
        self.send(
            Method::POST,
            &format!("/v2/{repo}/blobs/uploads/?digest={}", digest_of(data)),
            req()
                .header("Content-Type", "application/octet-stream")
                .body(data.to_vec()),
        )
        .await
    }

    /// Pushes a blob (POST then PUT), asserting 201; returns its digest.
    async fn push_blob(&self, repo: &str, data: &[u8]) -> String {
        let d = digest_of(data);
        let location = self.start_upload(repo).await;
        self.send(
            Method::PUT,
            &with_query(&location, "digest", &d),
            req()
                .header("Content-Type", "application/octet-stream")
                .body(data.to_vec()),
        )
        .await
        .expect(201);
        d
    }

    async fn put_manifest(&self, repo: &str, reference: &str, media_type: &str, body: &[u8]) {
        self.send(
            Method::PUT,
            &format!("/v2/{repo}/manifests/{reference}"),
            req().header("Content-Type", media_type).body(body.to_vec()),
        )
        .await
        .expect(201);
    }

    async fn blob_exists(&self, repo: &str, digest: &str) -> bool {
        let r = self.head(&format!("/v2/{repo}/blobs/{digest}")).await;
        match r.status.as_u16() {
            200 => true,
            404 => false,
            _ => panic!("unexpected HEAD answer\n{}", r.describe()),
        }
    }

    /// `GET /v2/org/demo/usage` (200 asserted): the `usage` object.
    async fn usage(&self) -> Value {
        let r = self.get("/v2/org/demo/usage").await;
        r.expect(200);
        r.json()["usage"].clone()
    }

    /// Adds a user to org `demo` (or one of its teams) with these roles; returns their key.
    async fn add_user(&self, team: Option<&str>, email: &str, roles: &[&str]) -> String {
        let path = match team {
            Some(t) => format!("/v2/org/demo/team/{t}/users"),
            None => "/v2/org/demo/users".to_string(),
        };
        let r = self
            .post_json(
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
            .post_json(
                "/v2/org/demo/teams",
                json!({"name": name, "description": format!("team {name}")}),
            )
            .await;
        assert!(r.status.is_success(), "{}", r.describe());
    }
}

/// Appends `key=value` to a URL that may already have a query.
fn with_query(url: &str, key: &str, value: &str) -> String {
    let sep = if url.contains('?') { '&' } else { '?' };
    format!("{url}{sep}{key}={value}")
}

/// An image: config and one layer, its OCI manifest.
struct Image {
    config: Vec<u8>,
    layer: Vec<u8>,
    manifest: Vec<u8>,
    digest: String,
}

impl Image {
    fn new(seed: &str, layer_size: usize, arch: &str, variant: Option<&str>) -> Image {
        let layer = bytes(&format!("{seed}-layer"), layer_size);
        let mut config = json!({
            "architecture": arch,
            "os": "linux",
            "rootfs": {"type": "layers", "diff_ids": [digest_of(&layer)]},
            "config": {"Labels": {"seed": seed}},
        });
        if let Some(v) = variant {
            config["variant"] = json!(v);
        }
        let config = serde_json::to_vec(&config).expect("config JSON");
        let manifest = serde_json::to_vec(&json!({
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": {"mediaType": OCI_CONFIG, "digest": digest_of(&config), "size": config.len()},
            "layers": [{"mediaType": OCI_LAYER, "digest": digest_of(&layer), "size": layer.len()}],
        }))
        .expect("manifest JSON");
        let digest = digest_of(&manifest);
        Image {
            config,
            layer,
            manifest,
            digest,
        }
    }

    /// Compressed size: config plus layer.
    fn size(&self) -> u64 {
        (self.config.len() + self.layer.len()) as u64
    }

    /// Pushes the blobs and the manifest (by `reference`).
    async fn push(&self, api: &Api, repo: &str, reference: &str) {
        api.push_blob(repo, &self.config).await;
        api.push_blob(repo, &self.layer).await;
        api.put_manifest(repo, reference, OCI_MANIFEST, &self.manifest)
            .await;
    }
}

/// A 2-platform OCI index (linux/amd64, linux/arm64/v8) and its platform images.
struct MultiArch {
    amd64: Image,
    arm64: Image,
    index: Vec<u8>,
    digest: String,
}

impl MultiArch {
    fn new(seed: &str) -> MultiArch {
        let amd64 = Image::new(&format!("{seed}-amd64"), 3000, "amd64", None);
        let arm64 = Image::new(&format!("{seed}-arm64"), 2000, "arm64", Some("v8"));
        let index = serde_json::to_vec(&json!({
            "schemaVersion": 2,
            "mediaType": OCI_INDEX,
            "manifests": [
                {"mediaType": OCI_MANIFEST, "digest": amd64.digest, "size": amd64.manifest.len(),
                 "platform": {"architecture": "amd64", "os": "linux"}},
                {"mediaType": OCI_MANIFEST, "digest": arm64.digest, "size": arm64.manifest.len(),
                 "platform": {"architecture": "arm64", "os": "linux", "variant": "v8"}},
            ],
        }))
        .expect("index JSON");
        let digest = digest_of(&index);
        MultiArch {
            amd64,
            arm64,
            index,
            digest,
        }
    }

    async fn push(&self, api: &Api, repo: &str, tag: &str) {
        self.amd64.push(api, repo, &self.amd64.digest).await;
        self.arm64.push(api, repo, &self.arm64.digest).await;
        api.put_manifest(repo, tag, OCI_INDEX, &self.index).await;
    }
}

async fn start() -> Server {
    Server::builder()
        .start()
        .await
        .unwrap_or_else(|e| panic!("start arca-server: {e:#}"))
}

/// Runs `arca-server org …` and returns its output.
fn org_command(args: &[&OsStr]) -> Output {
    let mut all: Vec<&OsStr> = vec![OsStr::new("org")];
    all.extend_from_slice(args);
    run_server_command(all).unwrap_or_else(|e| panic!("arca-server org: {e:#}"))
}

/// `arca-server org set-quota --data-dir <dir> --org demo <extra…> --json`, asserted to succeed;
/// its JSON.
fn set_quota(data_dir: &Path, extra: &[&str]) -> Value {
    let mut args: Vec<&OsStr> = vec![
        OsStr::new("set-quota"),
        OsStr::new("--data-dir"),
        data_dir.as_os_str(),
        OsStr::new("--org"),
        OsStr::new("demo"),
        OsStr::new("--json"),
    ];
    args.extend(extra.iter().map(OsStr::new));
    let out = org_command(&args);
    assert!(out.success(), "org set-quota failed\n{}", out.describe());
    serde_json::from_str(out.stdout_text().trim())
        .unwrap_or_else(|e| panic!("set-quota --json is not JSON ({e})\n{}", out.describe()))
}

/// `arca-server org show --data-dir <dir> --org demo --json`: its JSON.
fn show_org(data_dir: &Path) -> Value {
    let out = org_command(&[
        OsStr::new("show"),
        OsStr::new("--data-dir"),
        data_dir.as_os_str(),
        OsStr::new("--org"),
        OsStr::new("demo"),
        OsStr::new("--json"),
    ]);
    assert!(out.success(), "org show failed\n{}", out.describe());
    serde_json::from_str(out.stdout_text().trim())
        .unwrap_or_else(|e| panic!("org show --json is not JSON ({e})\n{}", out.describe()))
}

/// Asserts a quota refusal: `403 DENIED` whose detail names `limit` and `excess` and whose
/// message names the limit (`quota` is the limit's human name).
#[track_caller]
fn expect_quota(r: &Resp, quota: &str, limit: u64, excess: u64) {
    let e = r.expect_oci(403, "DENIED");
    assert_eq!(e["detail"]["limit"], limit, "{}", r.describe());
    assert_eq!(e["detail"]["excess"], excess, "{}", r.describe());
    assert_eq!(e["detail"]["quota"], quota, "{}", r.describe());
    let message = e["message"].as_str().unwrap_or_default();
    for needle in [
        quota.to_string(),
        format!("limit of {limit} bytes"),
        format!("exceeded by {excess} bytes"),
    ] {
        assert!(
            message.contains(&needle),
            "the message does not say {needle:?}\n{}",
            r.describe()
        );
    }
}

// =============================================================================================
// Quotas
// =============================================================================================

/// R-QUO-1: the operator's command reads and changes an org's limits; its refusals are clear.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn operator_command_sets_and_shows_org_quotas() {
    let mut server = start().await;
    let dir = server.data_dir().to_path_buf();
    let status = server.sigterm().await.expect("stop the server");
    assert!(status.success(), "{}", server.describe());

    let before = show_org(&dir);
    assert_eq!(before["org"]["name"], "demo", "{before}");
    assert_eq!(
        before["quota"],
        json!({"maxLayerBytes": 10_000_000_000u64, "maxImageBytes": 1_000_000_000_000u64,
               "maxModelResourceBytes": 5_000_000_000_000u64}),
        "guide defaults: {before}"
    );
    assert_eq!(
        before["usage"]["images"],
        json!({"used": 0, "limit": 1_000_000_000_000u64})
    );

    // Only the named limits change; sizes take units.
    let after = set_quota(
        &dir,
        &["--max-layer-bytes", "20GB", "--max-image-bytes", "1234"],
    );
    assert_eq!(
        after["quota"],
        json!({"maxLayerBytes": 20_000_000_000u64, "maxImageBytes": 1234,
               "maxModelResourceBytes": 5_000_000_000_000u64}),
        "{after}"
    );
    assert_eq!(show_org(&dir)["quota"], after["quota"]);
    assert_eq!(after["usage"]["maxLayerBytes"], 20_000_000_000u64);
    assert_eq!(after["usage"]["images"]["limit"], 1234);
    assert_eq!(
        after["usage"]["modelsAndResources"],
        json!({"used": 0, "limit": 5_000_000_000_000u64})
    );
    let after = set_quota(&dir, &["--max-model-resource-bytes", "2KiB"]);
    assert_eq!(after["quota"]["maxModelResourceBytes"], 2048);
    assert_eq!(after["quota"]["maxImageBytes"], 1234);

    // Text output names every limit.
    let out = org_command(&[
        OsStr::new("show"),
        OsStr::new("--data-dir"),
        dir.as_os_str(),
        OsStr::new("--org"),
        OsStr::new("demo"),
    ]);
    assert!(out.success(), "{}", out.describe());
    let text = out.stdout_text();
    for needle in [
        "demo",
        "single layer limit",
        "images",
        "models and resources",
        "1234",
    ] {
        assert!(text.contains(needle), "{needle:?} missing\n{text}");
    }

    // Refusals: non-zero exit, a message that says why, nothing changed.
    let dir_s = dir.to_string_lossy().to_string();
    for (args, needle) in [
        (
            vec!["set-quota", "--data-dir", &dir_s, "--org", "demo"],
            "nothing to change",
        ),
        (
            vec![
                "set-quota",
                "--data-dir",
                &dir_s,
                "--org",
                "nope",
                "--max-layer-bytes",
                "5",
            ],
            "org nope does not exist",
        ),
        (
            vec!["show", "--data-dir", &dir_s, "--org", "nope"],
            "org nope does not exist",
        ),
        (
            vec![
                "set-quota",
                "--data-dir",
                &dir_s,
                "--org",
                "demo",
                "--max-layer-bytes",
                "5 parsecs",
            ],
            "unknown size unit",
        ),
        (
            vec![
                "set-quota",
                "--data-dir",
                &dir_s,
                "--org",
                "demo",
                "--max-image-bytes",
                "lots",
            ],
            "not a size",
        ),
        (
            vec![
                "set-quota",
                "--data-dir",
                &dir_s,
                "--org",
                "Bad Org",
                "--max-layer-bytes",
                "5",
            ],
            "invalid --org",
        ),
    ] {
        let args: Vec<&OsStr> = args.iter().map(OsStr::new).collect();
        let out = org_command(&args);
        assert!(!out.success(), "{args:?} succeeded\n{}", out.describe());
        assert!(
            out.stderr_text().contains(needle),
            "{args:?}: stderr lacks {needle:?}\n{}",
            out.describe()
        );
    }
    let missing = dir.join("no-such-dir");
    let out = org_command(&[
        OsStr::new("show"),
        OsStr::new("--data-dir"),
        missing.as_os_str(),
        OsStr::new("--org"),
        OsStr::new("demo"),
    ]);
    assert!(!out.success(), "{}", out.describe());
    assert!(
        out.stderr_text().contains("no Arca data"),
        "{}",
        out.describe()
    );
    assert!(!missing.exists(), "a mistyped data dir was created");
    assert_eq!(show_org(&dir)["quota"], after["quota"]);
}

/// R-QUO-1, R-QUO-2: limits set by the operator are enforced at upload time — an announced or
/// streamed layer over the layer limit at once, a blob over the org's total at commit — with
/// `403 DENIED` naming the limit and the excess, and nothing stored; usage counts a blob shared
/// by two repositories once and is visible to every member of the org, and to no one else.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quotas_are_enforced_at_upload_and_usage_is_exact() {
    let mut server = start().await;
    let dir = server.data_dir().to_path_buf();
    let owner_key = server.key().to_string();
    let setup = Api::new(&server, Some(&owner_key));
    setup.create_team("vision").await;
    let reader_key = setup
        .add_user(None, "reader@example.com", &["REGISTRY_READ"])
        .await;
    let team_key = setup
        .add_user(Some("vision"), "team@example.com", &["REGISTRY_READ"])
        .await;
    let user_key = setup
        .add_user(None, "user@example.com", &["REGISTRY_USER"])
        .await;

    // The operator sets tiny limits while the server is stopped, and makes a second org.
    let status = server.sigterm().await.expect("stop the server");
    assert!(status.success(), "{}", server.describe());
    let q = set_quota(
        &dir,
        &[
            "--max-layer-bytes",
            &LAYER_LIMIT.to_string(),
            "--max-image-bytes",
            &IMAGE_LIMIT.to_string(),
        ],
    );
    assert_eq!(q["quota"]["maxLayerBytes"], LAYER_LIMIT, "{q}");
    let zeta = bootstrap(&dir, "zeta", "ops@zeta.example").expect("bootstrap zeta");
    assert!(zeta.success(), "{}", zeta.describe());
    let zeta: Value = serde_json::from_str(zeta.stdout_text().trim()).expect("bootstrap JSON");
    let zeta_key = zeta["api_key"].as_str().expect("api_key").to_string();
    server.restart().await.expect("restart");

    let owner = Api::new(&server, Some(&owner_key));
    let mut used: u64 = 0;
    let exists = b"makes demo/app exist".to_vec();
    owner.push_blob("demo/app", &exists).await;
    used += exists.len() as u64;

    // --- the layer limit, announced -----------------------------------------------------
    // POST ?digest= with a Content-Length over the limit.
    let big = bytes("too-big", LAYER_LIMIT as usize + 500);
    let r = owner.post_blob("demo/app", &big).await;
    expect_quota(&r, "single image layer size", LAYER_LIMIT, 500);
    assert!(!owner.blob_exists("demo/app", &digest_of(&big)).await);

    // PATCH with Content-Length (and Content-Range) over the limit: refused before any byte is
    // kept; the session still stands at 0.
    let location = owner.start_upload("demo/app").await;
    let r = owner
        .send(
            Method::PATCH,
            &location,
            req()
                .header("Content-Type", "application/octet-stream")
                .header("Content-Range", format!("0-{}", big.len() - 1))
                .body(big.clone()),
        )
        .await;
    expect_quota(&r, "single image layer size", LAYER_LIMIT, 500);
    let status = owner.get(&location).await;
    status.expect(204);
    assert_eq!(status.header("Range"), Some("0-0"), "{}", status.describe());
    // Exactly at the limit is allowed.
    let exact = bytes("exactly-the-limit", LAYER_LIMIT as usize);
    owner.push_blob("demo/app", &exact).await;
    used += LAYER_LIMIT;

    // --- the layer limit, while streaming (no Content-Length) ---------------------------
    let streamed = bytes("streamed", 1200);
    let location = owner.start_upload("demo/app").await;
    let r = owner
        .send(
            Method::PATCH,
            &location,
            req()
                .header("Content-Type", "application/octet-stream")
                .header("Content-Range", "0-599")
                .body(streamed[..600].to_vec()),
        )
        .await;
    r.expect(202);
    let location = r.required("Location");
    let r = owner
        .send(
            Method::PATCH,
            &location,
            req()
                .header("Content-Type", "application/octet-stream")
                .stream(vec![streamed[600..900].to_vec(), streamed[900..].to_vec()]),
        )
        .await;
    expect_quota(&r, "single image layer size", LAYER_LIMIT, 200);
    let status = owner.get(&location).await;
    status.expect(204);
    assert_eq!(
        status.header("Range"),
        Some("0-599"),
        "the refused chunk was kept\n{}",
        status.describe()
    );
    let r = owner
        .send(
            Method::PUT,
            &with_query(&location, "digest", &digest_of(&streamed)),
            req(),
        )
        .await;
    assert!(
        r.status.is_client_error(),
        "a blob over the layer limit was completed\n{}",
        r.describe()
    );
    assert!(!owner.blob_exists("demo/app", &digest_of(&streamed)).await);
    // A single streamed PATCH over the limit, on a fresh session.
    let location = owner.start_upload("demo/app").await;
    let r = owner
        .send(
            Method::PATCH,
            &location,
            req().stream(vec![big[..700].to_vec(), big[700..].to_vec()]),
        )
        .await;
    expect_quota(&r, "single image layer size", LAYER_LIMIT, 500);

    assert_eq!(
        owner.usage().await,
        json!({"images": {"used": used, "limit": IMAGE_LIMIT},
               "modelsAndResources": {"used": 0, "limit": 5_000_000_000_000u64},
               "maxLayerBytes": LAYER_LIMIT}),
        "refused uploads must not count"
    );

    // --- a blob shared by two repositories counts once ----------------------------------
    let shared = bytes("shared", 900);
    owner.push_blob("demo/app", &shared).await;
    used += 900;
    assert_eq!(owner.usage().await["images"]["used"], used);
    owner.post_blob("demo/other", &shared).await.expect(201);
    assert_eq!(
        owner.usage().await["images"]["used"],
        used,
        "the same blob in a second repository was counted twice"
    );

    // --- the org's image total, at commit ------------------------------------------------
    let mut n = 0;
    while used + 900 <= IMAGE_LIMIT {
        let b = bytes(&format!("fill-{n}"), 900);
        owner.push_blob("demo/app", &b).await;
        used += 900;
        n += 1;
    }
    assert_eq!(owner.usage().await["images"]["used"], used);
    let excess = used + 900 - IMAGE_LIMIT;
    let over = bytes("over-the-total", 900);
    let d = digest_of(&over);
    // Chunked: the chunk is accepted (it is under the layer limit), the commit is refused.
    let location = owner.start_upload("demo/app").await;
    let r = owner
        .send(
            Method::PATCH,
            &location,
            req().header("Content-Range", "0-899").body(over.clone()),
        )
        .await;
    r.expect(202);
    let location = r.required("Location");
    let r = owner
        .send(Method::PUT, &with_query(&location, "digest", &d), req())
        .await;
    expect_quota(&r, "total image size", IMAGE_LIMIT, excess);
    assert!(
        !owner.blob_exists("demo/app", &d).await,
        "a blob refused at commit is visible"
    );
    // Monolithic.
    let r = owner.post_blob("demo/app", &over).await;
    expect_quota(&r, "total image size", IMAGE_LIMIT, excess);
    assert!(!owner.blob_exists("demo/app", &d).await);
    // A blob the org already stores adds nothing: accepted even at the limit.
    owner.post_blob("demo/third", &shared).await.expect(201);
    assert!(owner.blob_exists("demo/third", &digest_of(&shared)).await);
    let usage = owner.usage().await;
    assert_eq!(usage["images"], json!({"used": used, "limit": IMAGE_LIMIT}));

    // --- who sees the usage ---------------------------------------------------------------
    for (who, key) in [
        ("an org-level REGISTRY_READ", &reader_key),
        ("a team-only member", &team_key),
        ("an org-level REGISTRY_USER", &user_key),
    ] {
        let r = owner.with(Some(key)).get("/v2/org/demo/usage").await;
        assert_eq!(r.status, 200, "{who}\n{}", r.describe());
        assert_eq!(r.json()["usage"], usage, "{who}");
    }
    owner
        .with(Some(&zeta_key))
        .get("/v2/org/demo/usage")
        .await
        .expect_rest(404, "NOT_FOUND");
    owner
        .with(None)
        .get("/v2/org/demo/usage")
        .await
        .expect_rest(401, "UNAUTHORIZED");
    owner
        .with(Some("arca_pk_not-a-real-key"))
        .get("/v2/org/demo/usage")
        .await
        .expect_rest(401, "UNAUTHORIZED");
    let zeta_usage = owner.with(Some(&zeta_key)).get("/v2/org/zeta/usage").await;
    zeta_usage.expect(200);
    assert_eq!(
        zeta_usage.json()["usage"]["images"]["used"],
        0,
        "orgs share no ledger"
    );

    // The operator's view agrees, read beside the running server.
    let shown = show_org(&dir);
    assert_eq!(shown["usage"], usage, "{shown}");

    // The operator raises the total on the running server: the next push goes through.
    set_quota(&dir, &["--max-image-bytes", "100000"]);
    owner.post_blob("demo/app", &over).await.expect(201);
    assert!(owner.blob_exists("demo/app", &d).await);
    assert_eq!(
        owner.usage().await["images"],
        json!({"used": used + 900, "limit": 100000})
    );
}

/// What the embedded blob store holds for upload sessions (`<data dir>/storage/uploads/<id>/
/// <part>`, as `arca_storage::fs` documents its layout): session id → bytes of its parts.
fn upload_parts_on_disk(data_dir: &Path) -> BTreeMap<String, u64> {
    let uploads = data_dir.join("storage/uploads");
    let Ok(entries) = std::fs::read_dir(&uploads) else {
        return BTreeMap::new();
    };
    entries
        .map(|e| {
            let path = e.expect("dir entry").path();
            let bytes = std::fs::read_dir(&path)
                .map(|parts| {
                    parts
                        .map(|p| p.expect("part").metadata().expect("part metadata").len())
                        .sum()
                })
                .unwrap_or(0);
            let name = path
                .file_name()
                .and_then(OsStr::to_str)
                .unwrap_or_default()
                .to_string();
            (name, bytes)
        })
        .collect()
}

/// The session id at the end of an upload `Location`.
fn session_id(location: &str) -> String {
    location
        .split('?')
        .next()
        .unwrap_or_default()
        .trim_end_matches('/')
        .rsplit('/')
        .next()
        .unwrap_or_default()
        .to_string()
}

/// R-QUO-1 "a rejected upload stores nothing": the bytes of a refused chunk are not kept in
/// the session, and a refused single-request upload (`POST ?digest=`, for which the client
/// never learns a session to cancel) leaves no session and no part behind.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rejected_uploads_leave_no_bytes_behind() {
    let mut server = start().await;
    let dir = server.data_dir().to_path_buf();
    let owner_key = server.key().to_string();
    let status = server.sigterm().await.expect("stop the server");
    assert!(status.success(), "{}", server.describe());
    set_quota(
        &dir,
        &[
            "--max-layer-bytes",
            &LAYER_LIMIT.to_string(),
            "--max-image-bytes",
            "2000",
        ],
    );
    server.restart().await.expect("restart");
    let owner = Api::new(&server, Some(&owner_key));
    owner.push_blob("demo/app", &bytes("base", 900)).await;
    assert_eq!(
        upload_parts_on_disk(&dir),
        BTreeMap::new(),
        "finished uploads leave parts"
    );

    // A streamed chunk over the layer limit: the session keeps only what it had.
    let streamed = bytes("streamed-leak", 1200);
    let location = owner.start_upload("demo/app").await;
    let id = session_id(&location);
    let r = owner
        .send(
            Method::PATCH,
            &location,
            req()
                .header("Content-Range", "0-599")
                .body(streamed[..600].to_vec()),
        )
        .await;
    r.expect(202);
    let location = r.required("Location");
    let r = owner
        .send(
            Method::PATCH,
            &location,
            req().stream(vec![streamed[600..].to_vec()]),
        )
        .await;
    expect_quota(&r, "single image layer size", LAYER_LIMIT, 200);
    let on_disk = upload_parts_on_disk(&dir);
    // Cancelling removes the session and its parts (before asserting, so a failure leaves a
    // clean store behind for the next check).
    owner.delete(&location).await.expect(204);
    let mut failures = Vec::new();
    if on_disk.get(&id).copied() != Some(600) {
        failures.push(format!(
            "the refused chunk's bytes are kept in the session's parts: PATCH {location} \
             streamed without Content-Length, 600 bytes over a 1000-byte layer limit after 600 \
             accepted -> 403 DENIED, but the session's parts hold {:?} bytes",
            on_disk.get(&id)
        ));
    }
    assert_eq!(upload_parts_on_disk(&dir), BTreeMap::new());

    // A single POST ?digest= refused at commit by the org total (900 + 1000 used of 2000).
    owner.push_blob("demo/app", &bytes("second", 1000)).await;
    let over = bytes("over-total-leak", 900);
    let r = owner.post_blob("demo/app", &over).await;
    expect_quota(&r, "total image size", 2000, 800);
    assert!(!owner.blob_exists("demo/app", &digest_of(&over)).await);
    let left = upload_parts_on_disk(&dir);
    if !left.is_empty() {
        failures.push(format!(
            "a refused POST /v2/demo/app/blobs/uploads/?digest= (403 DENIED, total image size) \
             left its session's parts on disk ({left:?}), and the client has no Location to \
             cancel it"
        ));
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

// =============================================================================================
// Repository metadata (REST)
// =============================================================================================

/// R-OCI-4, R-OCI-2: repository info (latest tag and size, tags, multi-arch flag), the image
/// list with each platform of an index, one image by tag, metadata edits that round-trip;
/// removing a tag removes only that tag; removing the repository removes it from `/v2/`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn repository_info_images_metadata_and_removal() {
    let server = start().await;
    let owner = Api::new(&server, Some(server.key()));
    let user = owner.with(Some(
        &owner
            .add_user(None, "user@example.com", &["REGISTRY_USER"])
            .await,
    ));

    let single = Image::new("single", 4096, "amd64", None);
    single.push(&owner, "demo/app", "v1").await;
    let multi = MultiArch::new("multi");
    multi.push(&owner, "demo/app", "multi").await;

    // Repository info: the latest image is the index pushed last.
    let r = owner.get("/v2/org/demo/repos/app").await;
    r.expect(200);
    let info = r.json();
    assert_eq!(info["name"], "app", "{info}");
    assert_eq!(info["namespace"], "demo", "{info}");
    assert_eq!(info["latestTag"], "multi", "{info}");
    assert_eq!(
        info["latestImageSize"],
        multi.amd64.size() + multi.arm64.size(),
        "{info}"
    );
    assert_eq!(info["isMultiArchitecture"], true, "{info}");
    let mut tags: Vec<String> = info["tags"]
        .as_array()
        .unwrap_or_else(|| panic!("no tags: {info}"))
        .iter()
        .map(|t| t.as_str().unwrap_or_default().to_string())
        .collect();
    tags.sort();
    assert_eq!(tags, ["multi", "v1"]);

    // The images, with the index's platforms.
    let r = owner.get("/v2/org/demo/repos/app/images").await;
    r.expect(200);
    let images = r.json()["images"].clone();
    let by_tag: BTreeMap<String, Value> = images
        .as_array()
        .unwrap_or_else(|| panic!("no images array\n{}", r.describe()))
        .iter()
        .map(|i| (i["tag"].as_str().unwrap_or_default().to_string(), i.clone()))
        .collect();
    assert_eq!(by_tag.len(), 2, "{images}");
    let v1 = &by_tag["v1"];
    assert_eq!(v1["digest"], single.digest, "{v1}");
    assert_eq!(v1["mediaType"], OCI_MANIFEST, "{v1}");
    assert_eq!(v1["size"], single.size(), "{v1}");
    assert_eq!(v1["architectureVariants"], json!([]), "{v1}");
    let m = &by_tag["multi"];
    assert_eq!(m["digest"], multi.digest, "{m}");
    assert_eq!(m["mediaType"], OCI_INDEX, "{m}");
    assert_eq!(m["size"], multi.amd64.size() + multi.arm64.size(), "{m}");
    let variants: BTreeMap<String, Value> = m["architectureVariants"]
        .as_array()
        .unwrap_or_else(|| panic!("no architectureVariants: {m}"))
        .iter()
        .map(|v| {
            (
                v["architecture"].as_str().unwrap_or_default().to_string(),
                v.clone(),
            )
        })
        .collect();
    assert_eq!(variants.len(), 2, "{m}");
    assert_eq!(variants["amd64"]["os"], "linux");
    assert_eq!(variants["amd64"]["digest"], multi.amd64.digest);
    assert_eq!(variants["amd64"]["compressedSize"], multi.amd64.size());
    assert!(
        variants["amd64"]
            .get("variant")
            .map_or(true, Value::is_null),
        "{m}"
    );
    assert_eq!(variants["arm64"]["os"], "linux");
    assert_eq!(variants["arm64"]["variant"], "v8");
    assert_eq!(variants["arm64"]["digest"], multi.arm64.digest);
    assert_eq!(variants["arm64"]["compressedSize"], multi.arm64.size());

    // One image by tag (and its `tags/` alias).
    for path in [
        "/v2/org/demo/repos/app/images/multi",
        "/v2/org/demo/repos/app/tags/multi",
    ] {
        let r = user.get(path).await;
        r.expect(200);
        let i = r.json();
        assert_eq!(i["tag"], "multi", "{i}");
        assert_eq!(i["digest"], multi.digest, "{i}");
        assert_eq!(i["schemaVersion"], 2, "{i}");
        assert_eq!(
            i["architectureVariants"].as_array().map(Vec::len),
            Some(2),
            "{i}"
        );
    }
    owner
        .get("/v2/org/demo/repos/app/images/nope")
        .await
        .expect_rest(404, "NOT_FOUND");
    owner
        .get("/v2/org/demo/repos/absent")
        .await
        .expect_rest(404, "NOT_FOUND");

    // Metadata edits round-trip (a REGISTRY_USER may edit).
    let edit = json!({
        "shortDescription": "A small app",
        "description": "# App\n\nIt does **things**.",
        "displayName": "The App",
        "labels": ["vision", "demo"],
        "logo": "https://example.com/logo.png",
        "publisher": "ACME",
        "builtBy": "CI",
    });
    let r = user
        .patch_json("/v2/org/demo/repos/app", edit.clone())
        .await;
    r.expect(200);
    let got = owner.get("/v2/org/demo/repos/app").await.json();
    for (k, v) in edit.as_object().expect("object") {
        let want = if k == "labels" {
            json!(["demo", "vision"])
        } else {
            v.clone()
        };
        assert_eq!(got[k], want, "{k} did not round-trip: {got}");
    }
    assert_eq!(got["isPublic"], false);
    // A partial edit keeps the other fields.
    user.patch_json("/v2/org/demo/repos/app", json!({"publisher": "ACME Corp"}))
        .await
        .expect(200);
    let got = owner.get("/v2/org/demo/repos/app").await.json();
    assert_eq!(got["publisher"], "ACME Corp");
    assert_eq!(got["shortDescription"], "A small app");

    // Removing a tag removes only that tag; a REGISTRY_USER may not.
    user.delete("/v2/org/demo/repos/app/images/v1")
        .await
        .expect_rest(403, "FORBIDDEN");
    owner
        .delete("/v2/org/demo/repos/app/images/v1")
        .await
        .expect(200);
    owner
        .get("/v2/org/demo/repos/app/images/v1")
        .await
        .expect_rest(404, "NOT_FOUND");
    owner
        .get_manifest("demo/app", "v1")
        .await
        .expect_oci(404, "MANIFEST_UNKNOWN");
    owner.get_manifest("demo/app", "multi").await.expect(200);
    let info = owner.get("/v2/org/demo/repos/app").await.json();
    assert_eq!(info["tags"], json!(["multi"]), "{info}");
    assert_eq!(info["latestTag"], "multi", "{info}");

    // Removing the repository; a REGISTRY_USER may not.
    user.delete("/v2/org/demo/repos/app")
        .await
        .expect_rest(403, "FORBIDDEN");
    owner.delete("/v2/org/demo/repos/app").await.expect(200);
    owner
        .get("/v2/org/demo/repos/app")
        .await
        .expect_rest(404, "NOT_FOUND");
    owner
        .get("/v2/demo/app/tags/list")
        .await
        .expect_oci(404, "NAME_UNKNOWN");
    owner
        .get_manifest("demo/app", "multi")
        .await
        .expect_oci(404, "NAME_UNKNOWN");
    let list = owner.get("/v2/org/demo/repos").await;
    list.expect(200);
    assert!(
        !list.json()["repositories"]
            .as_array()
            .is_some_and(|a| a.iter().any(|r| r["name"] == "app")),
        "a removed repository is still listed\n{}",
        list.describe()
    );
}

/// R-OCI-4: the repository list (`GET /v2/org/{org}/repos`, what `arca registry image list`
/// shows) gives each repository's latest tag and its size, as repository info does.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn repository_list_shows_latest_tag_and_size() {
    let server = start().await;
    let owner = Api::new(&server, Some(server.key()));
    let single = Image::new("listed", 2048, "amd64", None);
    single.push(&owner, "demo/listed", "v7").await;
    let r = owner.get("/v2/org/demo/repos").await;
    r.expect(200);
    let body = r.json();
    let repo = body["repositories"]
        .as_array()
        .and_then(|a| a.iter().find(|x| x["name"] == "listed"))
        .unwrap_or_else(|| panic!("demo/listed not listed\n{}", r.describe()))
        .clone();
    assert_eq!(repo["latestTag"], "v7", "GET /v2/org/demo/repos: {repo}");
    assert_eq!(
        repo["latestImageSize"],
        single.size(),
        "GET /v2/org/demo/repos: {repo}"
    );
}

/// R-OCI-5: only a registry admin or owner may make a repository public (a REGISTRY_USER
/// gets 403 and nothing changes); a public repository is pulled without a key — directly and
/// with an anonymous token — and only pulled; made private again, it asks for a key.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn public_repositories_are_pulled_anonymously() {
    let server = start().await;
    let owner = Api::new(&server, Some(server.key()));
    let user = owner.with(Some(
        &owner
            .add_user(None, "user@example.com", &["REGISTRY_USER"])
            .await,
    ));
    let admin = owner.with(Some(
        &owner
            .add_user(None, "admin@example.com", &["REGISTRY_ADMIN"])
            .await,
    ));
    let anonymous = owner.with(None);
    let image = Image::new("public", 1024, "amd64", None);
    image.push(&owner, "demo/app", "v1").await;

    let r = anonymous.get_manifest("demo/app", "v1").await;
    r.expect_oci(401, "UNAUTHORIZED");
    assert!(
        r.header("WWW-Authenticate")
            .is_some_and(|c| c.starts_with("Bearer realm=")),
        "{}",
        r.describe()
    );

    // A REGISTRY_USER may edit metadata but not the public flag; the refused patch changes
    // nothing, not even its other fields.
    user.patch_json(
        "/v2/org/demo/repos/app",
        json!({"isPublic": true, "shortDescription": "sneaky"}),
    )
    .await
    .expect_rest(403, "FORBIDDEN");
    let info = owner.get("/v2/org/demo/repos/app").await.json();
    assert_eq!(info["isPublic"], false, "{info}");
    assert_eq!(info["shortDescription"], "", "{info}");
    anonymous
        .get_manifest("demo/app", "v1")
        .await
        .expect_oci(401, "UNAUTHORIZED");

    // A REGISTRY_ADMIN may.
    let r = admin
        .patch_json("/v2/org/demo/repos/app", json!({"isPublic": true}))
        .await;
    r.expect(200);
    assert_eq!(r.json()["repository"]["isPublic"], true, "{}", r.describe());
    let r = anonymous.get_manifest("demo/app", "v1").await;
    r.expect(200);
    assert_eq!(r.body, image.manifest);
    let r = anonymous
        .get(&format!("/v2/demo/app/blobs/{}", digest_of(&image.layer)))
        .await;
    r.expect(200);
    assert_eq!(r.body, image.layer);
    // Docker-style: an anonymous token for the pull scope.
    let t = anonymous
        .get("/token?service=arca&scope=repository:demo/app:pull")
        .await;
    t.expect(200);
    let token = t.json()["token"]
        .as_str()
        .unwrap_or_else(|| panic!("no token\n{}", t.describe()))
        .to_string();
    let r = owner
        .with(Some(&token))
        .get_manifest("demo/app", "v1")
        .await;
    r.expect(200);
    assert_eq!(r.body, image.manifest);
    // Only pulls: pushing and deleting still need a key.
    let r = anonymous
        .send(Method::POST, "/v2/demo/app/blobs/uploads/", req())
        .await;
    r.expect_oci(401, "UNAUTHORIZED");
    let r = anonymous.delete("/v2/demo/app/manifests/v1").await;
    r.expect_oci(401, "UNAUTHORIZED");
    anonymous
        .get("/v2/org/demo/repos/app")
        .await
        .expect_rest(401, "UNAUTHORIZED");
    // Other repositories stay private.
    Image::new("private", 512, "amd64", None)
        .push(&owner, "demo/private", "v1")
        .await;
    anonymous
        .get_manifest("demo/private", "v1")
        .await
        .expect_oci(401, "UNAUTHORIZED");

    // Private again.
    owner
        .patch_json("/v2/org/demo/repos/app", json!({"isPublic": false}))
        .await
        .expect(200);
    anonymous
        .get_manifest("demo/app", "v1")
        .await
        .expect_oci(401, "UNAUTHORIZED");
}

/// R-TEN-7 on the REST paths: a team's repository is invisible (404, as a repository that does
/// not exist) to a member of another team — info, images, tag, edit, removal — and absent from
/// their lists; a member of the team and org-level roles see it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn team_repositories_are_invisible_to_outsiders() {
    let server = start().await;
    let owner = Api::new(&server, Some(server.key()));
    owner.create_team("vision").await;
    owner.create_team("nlp").await;
    let outsider = owner.with(Some(
        &owner
            .add_user(Some("nlp"), "alice@example.com", &["REGISTRY_USER"])
            .await,
    ));
    let insider = owner.with(Some(
        &owner
            .add_user(Some("vision"), "bob@example.com", &["REGISTRY_READ"])
            .await,
    ));
    let org_reader = owner.with(Some(
        &owner
            .add_user(None, "carol@example.com", &["REGISTRY_READ"])
            .await,
    ));
    Image::new("resnet", 1024, "amd64", None)
        .push(&owner, "demo/vision/resnet", "v1")
        .await;

    let base = "/v2/org/demo/team/vision/repos";
    for who in [&insider, &org_reader, &owner] {
        who.get(&format!("{base}/resnet")).await.expect(200);
        who.get(&format!("{base}/resnet/images")).await.expect(200);
        who.get(&format!("{base}/resnet/images/v1"))
            .await
            .expect(200);
    }

    for (method, path, body) in [
        (Method::GET, format!("{base}/resnet"), None),
        (Method::GET, format!("{base}/resnet/images"), None),
        (Method::GET, format!("{base}/resnet/images/v1"), None),
        (Method::GET, format!("{base}/resnet/tags/v1"), None),
        (
            Method::PATCH,
            format!("{base}/resnet"),
            Some(json!({"shortDescription": "mine now"})),
        ),
        (Method::DELETE, format!("{base}/resnet/images/v1"), None),
        (Method::DELETE, format!("{base}/resnet"), None),
    ] {
        let hidden = match &body {
            Some(b) => {
                outsider
                    .send(method.clone(), &path, req().json(b.clone()))
                    .await
            }
            None => outsider.send(method.clone(), &path, req()).await,
        };
        hidden.expect_rest(404, "NOT_FOUND");
        let absent_path = path.replace("/resnet", "/absent");
        let absent = match &body {
            Some(b) => {
                outsider
                    .send(method.clone(), &absent_path, req().json(b.clone()))
                    .await
            }
            None => outsider.send(method.clone(), &absent_path, req()).await,
        };
        assert_eq!(
            hidden.status,
            absent.status,
            "{method} {path} answers differently from a repository that does not exist\n{}\n{}",
            hidden.describe(),
            absent.describe()
        );
    }
    // Listing the team never leaks its repositories.
    let r = outsider.get(base).await;
    assert!(
        r.status == 404
            || r.status == 403
            || (r.status == 200
                && r.json()["repositories"]
                    .as_array()
                    .is_some_and(|a| a.iter().all(|x| x["name"] != "resnet"))),
        "a team's repositories leak to an outsider\n{}",
        r.describe()
    );
    // Nothing changed.
    let info = owner.get(&format!("{base}/resnet")).await.json();
    assert_eq!(info["shortDescription"], "", "{info}");
    assert_eq!(info["tags"], json!(["v1"]), "{info}");
}

// =============================================================================================
// CLI
// =============================================================================================

/// Writes an OCI image layout with `tests/fixtures/make_oci_layout.py`; returns the digest of
/// its top manifest (or index), tagged `v1`.
fn make_layout(dir: &Path, multiarch: bool, seed: &str) -> String {
    let mut cmd = Command::new("python3");
    cmd.arg(workspace_root().join("tests/fixtures/make_oci_layout.py"))
        .arg(dir)
        .args(["--layer-size", "20000", "--seed", seed]);
    if multiarch {
        cmd.arg("--multiarch");
    }
    let out = run_bounded(&mut cmd, Duration::from_secs(60)).expect("run make_oci_layout.py");
    assert!(out.success(), "{}", out.describe());
    let top = out.stdout_text().trim().to_string();
    assert!(top.starts_with("sha256:"), "{}", out.describe());
    top
}

/// The blobs of an OCI layout: file name (hex) → bytes.
fn layout_blobs(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let blobs = dir.join("blobs/sha256");
    std::fs::read_dir(&blobs)
        .unwrap_or_else(|e| panic!("read {}: {e}", blobs.display()))
        .map(|entry| {
            let path = entry.expect("dir entry").path();
            let name = path
                .file_name()
                .and_then(OsStr::to_str)
                .expect("file name")
                .to_string();
            let data =
                std::fs::read(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
            (name, data)
        })
        .collect()
}

/// The digest `index.json` of an OCI layout gives for tag `v1`.
fn layout_top(dir: &Path) -> String {
    let path = dir.join("index.json");
    let index: Value = serde_json::from_slice(
        &std::fs::read(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display())),
    )
    .expect("index.json is JSON");
    let entry = index["manifests"]
        .as_array()
        .and_then(|m| {
            m.iter()
                .find(|m| m["annotations"]["org.opencontainers.image.ref.name"] == "v1")
        })
        .unwrap_or_else(|| panic!("no v1 in {index}"))
        .clone();
    entry["digest"].as_str().expect("digest").to_string()
}

/// Asserts two OCI layouts hold the same blobs, byte for byte, each named by its digest.
#[track_caller]
fn assert_same_blobs(src: &Path, out: &Path) {
    let a = layout_blobs(src);
    let b = layout_blobs(out);
    assert_eq!(
        a.keys().collect::<Vec<_>>(),
        b.keys().collect::<Vec<_>>(),
        "the pulled layout has other blobs than the pushed one"
    );
    for (name, data) in &b {
        assert_eq!(digest_of(data), format!("sha256:{name}"), "blob {name}");
        assert!(a[name] == *data, "blob {name} differs");
    }
}

/// Runs `arca --format_type json <args>`, asserting success; its JSON.
#[track_caller]
fn cli_json(cli: &Cli, args: &[&str]) -> Value {
    let mut all = vec!["--format_type", "json"];
    all.extend_from_slice(args);
    let out = cli.run(&all).expect("run arca");
    assert!(out.success(), "arca {all:?}\n{}", out.describe());
    serde_json::from_str(out.stdout_text().trim())
        .unwrap_or_else(|e| panic!("arca {all:?}: not JSON ({e})\n{}", out.describe()))
}

/// R-IF-3, R-OCI-4: `arca registry image push|list|info|update|pull|remove` round-trip an OCI
/// layout (single image and 2-platform index) through the server, byte for byte.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cli_pushes_lists_shows_updates_pulls_and_removes_images() {
    let server = start().await;
    let cli = Cli::new()
        .expect("cli")
        .for_server(&server)
        .env("ARCA_ORG", "demo");
    let work = tempfile::tempdir().expect("tempdir");
    let src = work.path().join("src");
    let top = make_layout(&src, false, "cli-single");
    let msrc = work.path().join("msrc");
    let mtop = make_layout(&msrc, true, "cli-multi");

    // push
    let pushed = cli_json(
        &cli,
        &[
            "registry",
            "image",
            "push",
            src.to_str().expect("utf-8"),
            "demo/app:v1",
        ],
    );
    assert_eq!(pushed["digest"], top.as_str(), "{pushed}");
    assert_eq!(pushed["image"], "demo/app:v1", "{pushed}");
    let pushed = cli_json(
        &cli,
        &[
            "registry",
            "image",
            "push",
            msrc.to_str().expect("utf-8"),
            "demo/multi:v1",
        ],
    );
    assert_eq!(pushed["digest"], mtop.as_str(), "{pushed}");
    // Pushing again uploads no blob.
    let again = cli_json(
        &cli,
        &[
            "registry",
            "image",
            "push",
            src.to_str().expect("utf-8"),
            "demo/app:v1",
        ],
    );
    assert_eq!(again["blobs_uploaded"], 0, "{again}");

    // The image's size: the layout's blobs but its manifests.
    let blobs = layout_blobs(&src);
    let manifest: Value =
        serde_json::from_slice(&blobs[top.trim_start_matches("sha256:")]).expect("manifest");
    let size: u64 = std::iter::once(&manifest["config"])
        .chain(manifest["layers"].as_array().expect("layers"))
        .map(|d| d["size"].as_u64().expect("size"))
        .sum();

    // list: the repositories of the org, then the images of one.
    let repos = cli_json(&cli, &["registry", "image", "list"]);
    let app = repos
        .as_array()
        .and_then(|a| a.iter().find(|r| r["repository"] == "demo/app"))
        .unwrap_or_else(|| panic!("demo/app not listed: {repos}"))
        .clone();
    assert!(
        repos
            .as_array()
            .is_some_and(|a| a.iter().any(|r| r["repository"] == "demo/multi")),
        "{repos}"
    );
    let images = cli_json(&cli, &["registry", "image", "list", "demo/app"]);
    assert_eq!(images.as_array().map(Vec::len), Some(1), "{images}");
    assert_eq!(images[0]["tag"], "v1", "{images}");
    assert_eq!(images[0]["digest"], top.as_str(), "{images}");
    assert_eq!(images[0]["size"], size, "{images}");

    // info: one image, its platforms, and the repository.
    let info = cli_json(&cli, &["registry", "image", "info", "demo/app:v1"]);
    assert_eq!(info["digest"], top.as_str(), "{info}");
    assert_eq!(info["size"], size, "{info}");
    let minfo = cli_json(&cli, &["registry", "image", "info", "demo/multi:v1"]);
    assert_eq!(minfo["digest"], mtop.as_str(), "{minfo}");
    let platforms: Vec<String> = minfo["architecture_variants"]
        .as_array()
        .unwrap_or_else(|| panic!("no architecture_variants: {minfo}"))
        .iter()
        .map(|v| {
            format!(
                "{}/{}/{}",
                v["os"].as_str().unwrap_or_default(),
                v["architecture"].as_str().unwrap_or_default(),
                v["variant"].as_str().unwrap_or_default()
            )
        })
        .collect();
    assert_eq!(platforms, ["linux/amd64/", "linux/arm64/v8"], "{minfo}");
    let text = cli
        .run(["registry", "image", "info", "demo/multi:v1"])
        .expect("run arca");
    assert!(text.success(), "{}", text.describe());
    assert!(
        text.stdout_text().contains("arm64") && text.stdout_text().contains("v8"),
        "the ascii info lacks the platform table\n{}",
        text.describe()
    );

    // update, then info on the repository.
    let out = cli
        .run([
            "registry",
            "image",
            "update",
            "demo/app",
            "--desc",
            "A tiny app",
            "--label",
            "x",
            "--label",
            "y",
            "--publisher",
            "ACME",
            "--built-by",
            "CI",
        ])
        .expect("run arca");
    assert!(out.success(), "{}", out.describe());
    let repo = cli_json(&cli, &["registry", "image", "info", "demo/app"]);
    assert_eq!(repo["short_description"], "A tiny app", "{repo}");
    assert_eq!(repo["labels"], json!(["x", "y"]), "{repo}");
    assert_eq!(repo["publisher"], "ACME", "{repo}");
    assert_eq!(repo["built_by"], "CI", "{repo}");
    assert_eq!(repo["latest_tag"], "v1", "{repo}");
    assert_eq!(repo["tags"], json!(["v1"]), "{repo}");
    let r = Api::new(&server, Some(server.key()))
        .get("/v2/org/demo/repos/app")
        .await;
    r.expect(200);
    assert_eq!(r.json()["shortDescription"], "A tiny app");

    // pull: the same manifest digest, byte-identical blobs.
    for (image, source, digest) in [("demo/app:v1", &src, &top), ("demo/multi:v1", &msrc, &mtop)] {
        let dest = work
            .path()
            .join(format!("pulled-{}", image.replace([':', '/'], "-")));
        let pulled = cli_json(
            &cli,
            &[
                "registry",
                "image",
                "pull",
                image,
                dest.to_str().expect("utf-8"),
            ],
        );
        assert_eq!(
            pulled["image"],
            format!("{}@{digest}", image.split(':').next().unwrap_or_default()),
            "{pulled}"
        );
        assert_eq!(&layout_top(&dest), digest, "{image}");
        assert_same_blobs(source, &dest);
    }

    // remove: refused without -y when stdin is not a terminal, done with -y.
    let out = cli
        .run(["registry", "image", "remove", "demo/app:v1"])
        .expect("run arca");
    assert!(
        !out.success(),
        "removed without confirmation\n{}",
        out.describe()
    );
    cli_json(&cli, &["registry", "image", "info", "demo/app:v1"]);
    let out = cli
        .run(["registry", "image", "remove", "demo/app:v1", "-y"])
        .expect("run arca");
    assert!(out.success(), "{}", out.describe());
    let out = cli
        .run(["registry", "image", "info", "demo/app:v1"])
        .expect("run arca");
    assert_eq!(out.status.code(), Some(2), "{}", out.describe());
    let images = cli_json(&cli, &["registry", "image", "list", "demo/app"]);
    assert_eq!(images, json!([]), "{images}");
    cli_json(&cli, &["registry", "image", "info", "demo/multi:v1"]);

    // The repository list shows the latest tag (R-OCI-4); checked last, after everything
    // else, so a failure here reports only this.
    assert_eq!(app["latest_tag"], "v1", "`arca registry image list`: {app}");
    assert_eq!(app["image_size"], size, "`arca registry image list`: {app}");
}

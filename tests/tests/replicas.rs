//! Scale-out end-to-end tests: two `arca-server` replicas, A and B, on different ports of
//! 127.0.0.1, over one PostgreSQL schema and one S3 prefix (docs/deploy.md, "Scale-out"),
//! bootstrapped once with `arca-server bootstrap … --json` and started with `--no-bootstrap`.
//!
//! 1. [`chunked_upload_started_on_a_is_finished_on_b`]: POST and a 6 MiB `PATCH` on A, the
//!    rest and the `PUT ?digest=` on B; the blob is then served, with its digest, by both;
//! 2. [`image_pushed_through_a_is_pulled_through_b`]: blobs and an OCI manifest pushed through
//!    A (raw HTTP), pulled through B with the same manifest digest and bytes;
//! 3. [`concurrent_pushes_of_one_blob_store_it_once`]: rounds of simultaneous monolithic
//!    pushes of the same blob through both replicas all succeed, and S3 holds exactly one
//!    object per blob, under `<prefix>/blobs/sha256/<hex>`, and no staging leftover;
//! 4. [`personal_key_lifecycle_is_seen_by_the_other_replica`]: a personal key created through
//!    A works on B; deleted through A, it gets 401 on B on the very next request;
//! 5. [`model_version_uploaded_through_b_is_downloaded_through_a`]: a model version created
//!    through B, its parts PUT to URLs B signed but sent to A, files completed on the other
//!    replica, committed through A, finalized through B, then listed and downloaded through A
//!    byte for byte;
//! 6. [`sigkill_in_the_middle_of_an_upload_loses_nothing`]: A is killed (SIGKILL) after its
//!    first `PATCH` was acknowledged and while a second one is in flight; B continues the same
//!    upload URL and completes it with the right digest; A, restarted, serves the blob too;
//! 7. [`helm_index_is_the_same_on_both_replicas`]: a chart uploaded through A is in B's
//!    `index.yaml` under the same ETag; a version pushed through B's OCI API changes the index
//!    (and its ETag) that both replicas serve.
//!
//! Every failure shows the request, the whole answer and the tails of both replicas' logs.
//! `HEAD` answers are checked without stopping the scenario (the test still fails, at its end,
//! listing them), so that a defect of `HEAD` alone does not hide what the rest would find.
//!
//! Each test gets its own PostgreSQL schema (`?options[search_path]=<schema>` on
//! `ARCA_TEST_POSTGRES_URL`) and its own S3 prefix (under `ARCA_TEST_S3_URL`), both removed
//! afterwards, whatever the outcome. The tests run one at a time (each pair of replicas may
//! open up to 2 × 16 PostgreSQL connections).
//!
//! Services: `bash scripts/services.sh; set -a; . .ci-tmp/services.env; set +a`. Without
//! those variables every test FAILS (never skips). S3 needs every part of a multipart upload
//! but the last to be at least 5 MiB, so chunked uploads spanning several `PATCH` requests
//! use chunks of at least 6 MiB.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::fmt;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::{anyhow, bail, ensure, Context, Result};
use arca_tests::{run_server_command, Server, ServerBuilder};
use futures::TryStreamExt;
use object_store::ObjectStore;
use reqwest::header::HeaderMap;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use sha2::Digest as _;
use tokio::io::AsyncWriteExt;

/// The org created by the bootstrap command.
const ORG: &str = "demo";
/// Its owner.
const OWNER: &str = "admin@localhost";
const MIB: usize = 1024 * 1024;
/// The first chunk of multi-request chunked uploads: above S3's 5 MiB minimum part size.
const FIRST_CHUNK: usize = 6 * MIB;
/// Bound of every single HTTP request.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(120);
/// The variables `scripts/services.sh` writes to `.ci-tmp/services.env`.
const SERVICE_ENV: [&str; 7] = [
    "ARCA_TEST_POSTGRES_URL",
    "ARCA_TEST_S3_URL",
    "AWS_ENDPOINT_URL",
    "AWS_REGION",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_ALLOW_HTTP",
];
const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";

/// One test at a time (each holds two replicas and their connection pools).
static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

// =============================================================================================
// Services and isolation
// =============================================================================================

/// The service variables, or a clear failure naming the missing ones.
fn service_env() -> Result<BTreeMap<&'static str, String>> {
    let mut found = BTreeMap::new();
    let mut missing = Vec::new();
    for name in SERVICE_ENV {
        match std::env::var(name) {
            Ok(v) if !v.trim().is_empty() => {
                found.insert(name, v);
            }
            _ => missing.push(name),
        }
    }
    if !missing.is_empty() {
        bail!(
            "{} not set: these tests need PostgreSQL and S3 and never skip. In the repository \
             root run `bash scripts/services.sh; set -a; . .ci-tmp/services.env; set +a` \
             before `cargo test -p arca-tests --test replicas`",
            missing.join(", ")
        );
    }
    Ok(found)
}

/// A suffix no other test (of this or another process) uses: `<pid>_<nanos>_<n>`.
fn unique_suffix() -> String {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos() % 1_000_000_000_000)
        .unwrap_or(0);
    format!(
        "{}_{nanos}_{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}

/// What S3 holds under one prefix of the test bucket (the tests list; Arca never does).
#[derive(Clone)]
struct S3View {
    store: Arc<object_store::aws::AmazonS3>,
    /// The prefix inside the bucket, e.g. `arca-tests/replicas-race-123_456_0`.
    prefix: String,
}

impl S3View {
    /// Every object (key, size) under `<prefix>/<under>/`.
    async fn objects(&self, under: &str) -> Result<BTreeMap<String, u64>> {
        let path = object_store::path::Path::from(format!("{}/{under}", self.prefix));
        self.store
            .list(Some(&path))
            .map_ok(|m| (m.location.to_string(), m.size))
            .try_collect()
            .await
            .with_context(|| format!("list S3 objects under {path}"))
    }

    /// The key of a blob: `<prefix>/blobs/sha256/<hex>`.
    fn blob_key(&self, digest: &str) -> String {
        let hex = digest.strip_prefix("sha256:").unwrap_or(digest);
        format!("{}/blobs/sha256/{hex}", self.prefix)
    }
}

/// A fresh PostgreSQL schema and S3 prefix for one test.
struct Isolation {
    admin: sqlx::PgPool,
    schema: String,
    /// `ARCA_TEST_POSTGRES_URL` with `options[search_path]=<schema>`.
    metadata_url: String,
    /// `s3://<bucket>/<prefix>`.
    blobs_url: String,
    s3: S3View,
    env: BTreeMap<&'static str, String>,
}

impl Isolation {
    async fn new(test: &str) -> Result<Self> {
        let env = service_env()?;
        let pg = env["ARCA_TEST_POSTGRES_URL"].clone();
        let s3_url = env["ARCA_TEST_S3_URL"].clone();
        let unique = unique_suffix();
        let schema = format!("arca_replicas_{test}_{unique}");
        let admin = sqlx::postgres::PgPoolOptions::new()
            .max_connections(1)
            .acquire_timeout(Duration::from_secs(15))
            .connect(&pg)
            .await
            .context("connect to ARCA_TEST_POSTGRES_URL")?;
        sqlx::query(&format!("CREATE SCHEMA {schema}"))
            .execute(&admin)
            .await
            .with_context(|| format!("create schema {schema}"))?;
        let sep = if pg.contains('?') { '&' } else { '?' };
        let metadata_url = format!("{pg}{sep}options%5Bsearch_path%5D={schema}");

        let rest = s3_url
            .strip_prefix("s3://")
            .ok_or_else(|| anyhow!("ARCA_TEST_S3_URL is not an s3:// URL: {s3_url}"))?;
        let (bucket, base) = rest.split_once('/').unwrap_or((rest, ""));
        let base = base.trim_matches('/');
        let leaf = format!("replicas-{test}-{unique}");
        let prefix = if base.is_empty() {
            leaf
        } else {
            format!("{base}/{leaf}")
        };
        let blobs_url = format!("s3://{bucket}/{prefix}");
        let store = object_store::aws::AmazonS3Builder::from_env()
            .with_bucket_name(bucket)
            .build()
            .context("S3 client for the test bucket")?;
        Ok(Self {
            admin,
            schema,
            metadata_url,
            blobs_url,
            s3: S3View {
                store: Arc::new(store),
                prefix,
            },
            env,
        })
    }

    /// Removes every object under the prefix and the schema (best effort, reported).
    async fn cleanup(&self) {
        match self.s3.objects("").await {
            Ok(objects) => {
                for key in objects.keys() {
                    let path = object_store::path::Path::from(key.as_str());
                    if let Err(e) = self.s3.store.delete(&path).await {
                        eprintln!("cleanup: delete S3 object {key}: {e}");
                    }
                }
            }
            Err(e) => eprintln!("cleanup: {e:#}"),
        }
        if let Err(e) = sqlx::query(&format!("DROP SCHEMA IF EXISTS {} CASCADE", self.schema))
            .execute(&self.admin)
            .await
        {
            eprintln!("cleanup: drop schema {}: {e}", self.schema);
        }
        self.admin.close().await;
    }
}

/// Failures recorded without stopping the scenario (see [`Cluster::check_later`]).
type Deferred = Arc<std::sync::Mutex<Vec<String>>>;

/// Runs `scenario` on a fresh pair of replicas, then removes the schema and the S3 objects
/// whatever happened (the replicas are killed first: they belong to the scenario's task).
/// Fails with the scenario's error and every deferred failure.
async fn with_cluster<F, Fut>(test: &str, scenario: F) -> Result<()>
where
    F: FnOnce(Cluster) -> Fut,
    Fut: std::future::Future<Output = Result<()>> + Send + 'static,
{
    let _serial = SERIAL.lock().await;
    let iso = Isolation::new(test).await?;
    let deferred = Deferred::default();
    let outcome = match Cluster::start(&iso, deferred.clone()).await {
        Ok(cluster) => tokio::spawn(scenario(cluster)).await,
        Err(e) => Ok(Err(e)),
    };
    iso.cleanup().await;
    let result = match outcome {
        Ok(result) => result,
        Err(join) if join.is_panic() => std::panic::resume_unwind(join.into_panic()),
        Err(join) => Err(anyhow!("the scenario task failed: {join}")),
    };
    let deferred = std::mem::take(&mut *deferred.lock().unwrap_or_else(|e| e.into_inner()));
    if deferred.is_empty() {
        return result;
    }
    // The first few in full, the others by their first line.
    let list = deferred
        .iter()
        .enumerate()
        .map(|(i, d)| match i {
            0..=2 => d.clone(),
            _ => d.lines().next().unwrap_or_default().to_string(),
        })
        .collect::<Vec<_>>()
        .join("\n\n");
    match result {
        Ok(()) => bail!(
            "{} deferred check(s) failed (the scenario ran to its end):\n\n{list}",
            deferred.len()
        ),
        Err(e) => Err(anyhow!(
            "{e:?}\n\nAlso, {} deferred check(s) failed before this error:\n\n{list}",
            deferred.len()
        )),
    }
}

// =============================================================================================
// The replicas
// =============================================================================================

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Side {
    A,
    B,
}

impl fmt::Display for Side {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Side::A => "A",
            Side::B => "B",
        })
    }
}

/// Two replicas over one schema and one prefix, and the owner's key from the bootstrap.
struct Cluster {
    a: Server,
    b: Server,
    key: String,
    http: reqwest::Client,
    s3: S3View,
    deferred: Deferred,
}

fn replica(iso: &Isolation) -> ServerBuilder {
    let mut builder = Server::builder().no_bootstrap().args([
        "--metadata",
        iso.metadata_url.as_str(),
        "--blobs",
        iso.blobs_url.as_str(),
    ]);
    for (k, v) in &iso.env {
        if k.starts_with("AWS_") {
            builder = builder.env(k, v);
        }
    }
    builder
}

/// A client without connection reuse: a replica killed and restarted on the same port must
/// not be reached through a dead pooled connection.
fn http_client() -> Result<reqwest::Client> {
    reqwest::Client::builder()
        .timeout(REQUEST_TIMEOUT)
        .connect_timeout(Duration::from_secs(5))
        .pool_max_idle_per_host(0)
        .build()
        .context("build the HTTP client")
}

impl Cluster {
    async fn start(iso: &Isolation, deferred: Deferred) -> Result<Cluster> {
        // Bootstrap once, from "another machine": its own (unused) data dir.
        let data = tempfile::Builder::new()
            .prefix("arca-replicas-bootstrap-")
            .tempdir()
            .context("bootstrap data dir")?;
        let args: Vec<OsString> = vec![
            "bootstrap".into(),
            "--data-dir".into(),
            data.path().into(),
            "--metadata".into(),
            iso.metadata_url.clone().into(),
            "--blobs".into(),
            iso.blobs_url.clone().into(),
            "--org".into(),
            ORG.into(),
            "--owner-email".into(),
            OWNER.into(),
            "--json".into(),
        ];
        let out = tokio::task::spawn_blocking(move || run_server_command(args))
            .await
            .context("bootstrap task")??;
        ensure!(
            out.success(),
            "arca-server bootstrap failed\n{}",
            out.describe()
        );
        let printed: Value = serde_json::from_str(out.stdout_text().trim())
            .with_context(|| format!("bootstrap --json output\n{}", out.describe()))?;
        ensure!(
            printed["org"] == ORG && printed["user"] == OWNER,
            "bootstrap printed {printed}"
        );
        let key = printed["api_key"]
            .as_str()
            .filter(|k| k.starts_with("arca_"))
            .ok_or_else(|| anyhow!("bootstrap printed no API key: {printed}"))?
            .to_string();
        // The isolation works: the migrations went into this test's schema.
        let migrations: i64 = sqlx::query_scalar(&format!(
            "SELECT count(*) FROM {}._sqlx_migrations",
            iso.schema
        ))
        .fetch_one(&iso.admin)
        .await
        .with_context(|| format!("the migrations table in schema {}", iso.schema))?;
        ensure!(migrations > 0, "no migration applied in {}", iso.schema);

        let a = replica(iso).start().await.context("start replica A")?;
        let b = replica(iso).start().await.context("start replica B")?;
        let cluster = Cluster {
            a,
            b,
            key,
            http: http_client()?,
            s3: iso.s3.clone(),
            deferred,
        };
        ensure!(
            cluster.a.addr() != cluster.b.addr(),
            "both replicas on {}",
            cluster.a.addr()
        );
        for side in [Side::A, Side::B] {
            ensure!(
                cluster.server(side).try_key().is_none(),
                "replica {side} started with --no-bootstrap printed a key\n{}",
                cluster.server(side).describe()
            );
            let ready = cluster
                .send_as(side, None, Method::GET, "/readyz", &[], None)
                .await?;
            cluster.want(&ready, 200)?;
        }
        Ok(cluster)
    }

    fn server(&self, side: Side) -> &Server {
        match side {
            Side::A => &self.a,
            Side::B => &self.b,
        }
    }

    /// A request to `path` (which starts with `/`) on one replica, with `key` as Bearer.
    async fn send_as(
        &self,
        side: Side,
        key: Option<&str>,
        method: Method,
        path: &str,
        headers: &[(&str, String)],
        body: Option<Vec<u8>>,
    ) -> Result<Reply> {
        let url = format!("{}{path}", self.server(side).base_url());
        let mut reply = call(&self.http, method, &url, key, headers, body).await?;
        reply.request = format!("[replica {side}] {}", reply.request);
        Ok(reply)
    }

    /// A request with the owner's key.
    async fn send(
        &self,
        side: Side,
        method: Method,
        path: &str,
        headers: &[(&str, String)],
        body: Option<Vec<u8>>,
    ) -> Result<Reply> {
        self.send_as(side, Some(&self.key), method, path, headers, body)
            .await
    }

    /// Fails, with the exchange and both replicas' output, unless the status is `status`.
    fn want(&self, reply: &Reply, status: u16) -> Result<()> {
        if reply.status.as_u16() != status {
            bail!("expected {status}, got:\n{reply}\n{}", self.describe());
        }
        Ok(())
    }

    /// Fails, with the exchange and both replicas' output, unless `cond` holds.
    fn check(&self, cond: bool, what: &str, reply: &Reply) -> Result<()> {
        if !cond {
            bail!("{what}\n{reply}\n{}", self.describe());
        }
        Ok(())
    }

    /// Like [`Cluster::check`], but records the failure and lets the scenario go on; the test
    /// fails at its end. Used for `HEAD` answers, so that a defect of `HEAD` alone does not
    /// hide what the rest of the scenario would find.
    fn check_later(&self, cond: bool, what: &str, reply: &Reply) {
        if !cond {
            self.deferred
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push(format!("{what}\n{reply}"));
        }
    }

    fn describe(&self) -> String {
        format!(
            "=== replica A ===\n{}\n=== replica B ===\n{}",
            self.a.describe(),
            self.b.describe()
        )
    }

    // ---- OCI steps ------------------------------------------------------------------------

    /// `POST /v2/<repo>/blobs/uploads/` → 202; returns the upload's Location (a path).
    async fn start_upload(&self, side: Side, repo: &str) -> Result<String> {
        let r = self
            .send(
                side,
                Method::POST,
                &format!("/v2/{repo}/blobs/uploads/"),
                &[],
                Some(Vec::new()),
            )
            .await?;
        self.want(&r, 202)?;
        let location = r.header("location").unwrap_or_default().to_string();
        self.check(
            location.starts_with(&format!("/v2/{repo}/blobs/uploads/")),
            "the upload Location is not a path under the repository",
            &r,
        )?;
        self.check(
            r.header("range") == Some("0-0"),
            "Range of a new upload",
            &r,
        )?;
        let min: Option<usize> = r
            .header("oci-chunk-min-length")
            .and_then(|v| v.parse().ok());
        self.check(
            min.is_some_and(|m| m <= FIRST_CHUNK),
            "OCI-Chunk-Min-Length missing or above the chunk size these tests use",
            &r,
        )?;
        Ok(location)
    }

    /// `GET <location>` → 204 with `Range: 0-<received-1>`.
    async fn expect_upload_at(&self, side: Side, location: &str, received: usize) -> Result<()> {
        let r = self.send(side, Method::GET, location, &[], None).await?;
        self.want(&r, 204)?;
        let want = format!("0-{}", received.saturating_sub(1));
        self.check(
            r.header("range") == Some(want.as_str()),
            &format!("the upload should hold {received} bytes (Range {want})"),
            &r,
        )
    }

    /// `PATCH <location>` with `Content-Range: <start>-<end>` → 202 and the new Range.
    async fn patch_chunk(
        &self,
        side: Side,
        location: &str,
        start: usize,
        chunk: &[u8],
    ) -> Result<()> {
        let end = start + chunk.len() - 1;
        let r = self
            .send(
                side,
                Method::PATCH,
                location,
                &[
                    ("content-type", "application/octet-stream".into()),
                    ("content-range", format!("{start}-{end}")),
                ],
                Some(chunk.to_vec()),
            )
            .await?;
        self.want(&r, 202)?;
        let want = format!("0-{end}");
        self.check(
            r.header("range") == Some(want.as_str()),
            &format!("Range after the chunk should be {want}"),
            &r,
        )
    }

    /// `PUT <location>?digest=<digest>` (no body) → 201 with the digest.
    async fn finish_upload(
        &self,
        side: Side,
        repo: &str,
        location: &str,
        digest: &str,
    ) -> Result<()> {
        let r = self
            .send(
                side,
                Method::PUT,
                &with_query(location, &format!("digest={digest}")),
                &[],
                Some(Vec::new()),
            )
            .await?;
        self.want(&r, 201)?;
        self.check(
            r.header("docker-content-digest") == Some(digest),
            "Docker-Content-Digest of the completed upload",
            &r,
        )?;
        self.check(
            r.header("location") == Some(format!("/v2/{repo}/blobs/{digest}").as_str()),
            "Location of the completed upload",
            &r,
        )
    }

    /// `GET` and `HEAD /v2/<repo>/blobs/<digest>` on one replica: exactly `bytes`, and the
    /// blob's size and digest (the `HEAD` checks are deferred).
    async fn expect_blob(&self, side: Side, repo: &str, digest: &str, bytes: &[u8]) -> Result<()> {
        let path = format!("/v2/{repo}/blobs/{digest}");
        let get = self.send(side, Method::GET, &path, &[], None).await?;
        self.want(&get, 200)?;
        self.check(
            get.header("docker-content-digest") == Some(digest),
            "Docker-Content-Digest of the blob",
            &get,
        )?;
        self.check(
            get.body == bytes,
            &format!(
                "the blob's bytes differ from those pushed ({} bytes, {} received, hashing to {})",
                bytes.len(),
                get.body.len(),
                sha256_digest(&get.body)
            ),
            &get,
        )?;
        let head = self.send(side, Method::HEAD, &path, &[], None).await?;
        self.want(&head, 200)?;
        self.check_later(
            head.header("content-length") == Some(bytes.len().to_string().as_str())
                && head.header("docker-content-digest") == Some(digest),
            &format!(
                "HEAD of a blob through {side} should announce Content-Length {} and {digest}",
                bytes.len()
            ),
            &head,
        );
        Ok(())
    }

    /// `POST /v2/<repo>/blobs/uploads/?digest=` with the whole blob → 201.
    async fn push_blob(&self, side: Side, repo: &str, bytes: &[u8]) -> Result<String> {
        let digest = sha256_digest(bytes);
        let r = self
            .send(
                side,
                Method::POST,
                &format!("/v2/{repo}/blobs/uploads/?digest={digest}"),
                &[("content-type", "application/octet-stream".into())],
                Some(bytes.to_vec()),
            )
            .await?;
        self.want(&r, 201)?;
        self.check(
            r.header("docker-content-digest") == Some(digest.as_str()),
            "Docker-Content-Digest of a monolithic push",
            &r,
        )?;
        Ok(digest)
    }
}

// =============================================================================================
// HTTP
// =============================================================================================

/// One exchange, kept whole for assertion messages.
struct Reply {
    /// Method, URL and the request headers but `Authorization`.
    request: String,
    status: StatusCode,
    headers: HeaderMap,
    body: Vec<u8>,
}

impl Reply {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    fn json(&self) -> Result<Value> {
        serde_json::from_slice(&self.body).with_context(|| format!("a JSON body\n{self}"))
    }
}

impl fmt::Display for Reply {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "request: {}", self.request)?;
        writeln!(f, "response: {}", self.status)?;
        for (k, v) in &self.headers {
            writeln!(f, "  {k}: {}", v.to_str().unwrap_or("<binary>"))?;
        }
        match std::str::from_utf8(&self.body) {
            Ok(text) if text.len() <= 4000 => write!(f, "body: {text}"),
            _ => write!(f, "body: <{} bytes>", self.body.len()),
        }
    }
}

async fn call(
    http: &reqwest::Client,
    method: Method,
    url: &str,
    key: Option<&str>,
    headers: &[(&str, String)],
    body: Option<Vec<u8>>,
) -> Result<Reply> {
    let mut request = format!("{method} {url}");
    let mut builder = http.request(method, url);
    if let Some(key) = key {
        builder = builder.bearer_auth(key);
    }
    for (k, v) in headers {
        request.push_str(&format!(" [{k}: {v}]"));
        builder = builder.header(*k, v.as_str());
    }
    if let Some(body) = body {
        request.push_str(&format!(" ({} bytes)", body.len()));
        builder = builder.body(body);
    }
    let response = builder
        .send()
        .await
        .with_context(|| format!("send {request}"))?;
    let status = response.status();
    let headers = response.headers().clone();
    let body = response
        .bytes()
        .await
        .with_context(|| format!("read the answer to {request} ({status})"))?
        .to_vec();
    Ok(Reply {
        request,
        status,
        headers,
        body,
    })
}

fn with_query(location: &str, query: &str) -> String {
    let sep = if location.contains('?') { '&' } else { '?' };
    format!("{location}{sep}{query}")
}

fn sha256_digest(bytes: &[u8]) -> String {
    format!("sha256:{}", hex::encode(sha2::Sha256::digest(bytes)))
}

/// `len` deterministic pseudo-random bytes (xorshift64*), different for every `seed`.
fn pattern(seed: u64, len: usize) -> Vec<u8> {
    let mut state = seed
        .wrapping_mul(0x9E37_79B9_7F4A_7C15)
        .wrapping_add(0xD1B5_4A32_D192_ED03)
        | 1;
    let mut out = Vec::with_capacity(len + 8);
    while out.len() < len {
        state ^= state >> 12;
        state ^= state << 25;
        state ^= state >> 27;
        out.extend_from_slice(&state.wrapping_mul(0x2545_F491_4F6C_DD1D).to_le_bytes());
    }
    out.truncate(len);
    out
}

/// Sends the head of a `PATCH` with `Content-Length: declared` and only `sent` of its body,
/// over a raw connection left open: a request in flight.
async fn start_partial_patch(
    addr: SocketAddr,
    path: &str,
    key: &str,
    start: usize,
    declared: usize,
    sent: &[u8],
) -> Result<tokio::net::TcpStream> {
    let mut stream =
        tokio::time::timeout(Duration::from_secs(5), tokio::net::TcpStream::connect(addr))
            .await
            .context("connect timed out")?
            .with_context(|| format!("connect to {addr}"))?;
    let end = start + declared - 1;
    let head = format!(
        "PATCH {path} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {key}\r\n\
         Content-Type: application/octet-stream\r\nContent-Range: {start}-{end}\r\n\
         Content-Length: {declared}\r\n\r\n"
    );
    tokio::time::timeout(Duration::from_secs(20), async {
        stream.write_all(head.as_bytes()).await?;
        stream.write_all(sent).await?;
        stream.flush().await
    })
    .await
    .context("writing the partial PATCH timed out")?
    .context("write the partial PATCH")?;
    Ok(stream)
}

// =============================================================================================
// 1. A chunked upload started on A, finished on B
// =============================================================================================

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chunked_upload_started_on_a_is_finished_on_b() -> Result<()> {
    with_cluster("chunked", |c| async move {
        let repo = format!("{ORG}/chunked");
        let blob = pattern(1, FIRST_CHUNK + MIB + 4321);
        let digest = sha256_digest(&blob);

        let location = c.start_upload(Side::A, &repo).await?;
        c.patch_chunk(Side::A, &location, 0, &blob[..FIRST_CHUNK])
            .await?;
        // B knows the session A started, and how much A received.
        c.expect_upload_at(Side::B, &location, FIRST_CHUNK).await?;
        c.patch_chunk(Side::B, &location, FIRST_CHUNK, &blob[FIRST_CHUNK..])
            .await?;
        c.expect_upload_at(Side::A, &location, blob.len()).await?;
        c.finish_upload(Side::B, &repo, &location, &digest).await?;

        for side in [Side::A, Side::B] {
            c.expect_blob(side, &repo, &digest, &blob).await?;
            // The finished session is gone everywhere.
            let r = c.send(side, Method::GET, &location, &[], None).await?;
            c.want(&r, 404)?;
            c.check(
                r.json()?["errors"][0]["code"] == "BLOB_UPLOAD_UNKNOWN",
                "a completed upload should be BLOB_UPLOAD_UNKNOWN",
                &r,
            )?;
        }
        let key = c.s3.blob_key(&digest);
        let objects = c.s3.objects("blobs").await?;
        ensure!(
            objects.get(&key) == Some(&(blob.len() as u64)),
            "S3 should hold {key} ({} bytes); it holds {objects:?}",
            blob.len()
        );
        Ok(())
    })
    .await
}

// =============================================================================================
// 2. An image pushed through A, pulled through B
// =============================================================================================

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn image_pushed_through_a_is_pulled_through_b() -> Result<()> {
    with_cluster("image", |c| async move {
        let repo = format!("{ORG}/image");
        let layer1 = pattern(21, 300 * 1024 + 7);
        let layer2 = pattern(22, FIRST_CHUNK + 2 * MIB + 11);
        let layer1_digest = sha256_digest(&layer1);
        let layer2_digest = sha256_digest(&layer2);
        let config = serde_json::to_vec(&json!({
            "architecture": "amd64",
            "os": "linux",
            "rootfs": {"type": "layers", "diff_ids": [layer1_digest, layer2_digest]},
            "config": {"Cmd": ["/bin/true"]}
        }))?;

        // Through A: config and first layer monolithically, the second layer in two chunks.
        let config_digest = c.push_blob(Side::A, &repo, &config).await?;
        c.push_blob(Side::A, &repo, &layer1).await?;
        let location = c.start_upload(Side::A, &repo).await?;
        c.patch_chunk(Side::A, &location, 0, &layer2[..FIRST_CHUNK])
            .await?;
        c.patch_chunk(Side::A, &location, FIRST_CHUNK, &layer2[FIRST_CHUNK..])
            .await?;
        c.finish_upload(Side::A, &repo, &location, &layer2_digest)
            .await?;

        let layer_type = "application/vnd.oci.image.layer.v1.tar+gzip";
        let manifest = serde_json::to_vec_pretty(&json!({
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": {
                "mediaType": "application/vnd.oci.image.config.v1+json",
                "digest": config_digest,
                "size": config.len()
            },
            "layers": [
                {"mediaType": layer_type, "digest": layer1_digest, "size": layer1.len()},
                {"mediaType": layer_type, "digest": layer2_digest, "size": layer2.len()}
            ],
            "annotations": {"org.opencontainers.image.title": "replicas"}
        }))?;
        let manifest_digest = sha256_digest(&manifest);
        let put = c
            .send(
                Side::A,
                Method::PUT,
                &format!("/v2/{repo}/manifests/v1"),
                &[("content-type", OCI_MANIFEST.into())],
                Some(manifest.clone()),
            )
            .await?;
        c.want(&put, 201)?;
        c.check(
            put.header("docker-content-digest") == Some(manifest_digest.as_str()),
            "Docker-Content-Digest of the pushed manifest",
            &put,
        )?;

        // Through B: the manifest by tag and by digest, byte for byte, and every blob.
        let accept = [("accept", OCI_MANIFEST.to_string())];
        for reference in ["v1", manifest_digest.as_str()] {
            let path = format!("/v2/{repo}/manifests/{reference}");
            let get = c.send(Side::B, Method::GET, &path, &accept, None).await?;
            c.want(&get, 200)?;
            c.check(
                get.header("docker-content-digest") == Some(manifest_digest.as_str())
                    && get.header("content-type") == Some(OCI_MANIFEST),
                "digest and media type of the manifest pulled through B",
                &get,
            )?;
            c.check(
                get.body == manifest && sha256_digest(&get.body) == manifest_digest,
                "the manifest pulled through B differs from the one pushed through A",
                &get,
            )?;
            let head = c.send(Side::B, Method::HEAD, &path, &accept, None).await?;
            c.want(&head, 200)?;
            c.check_later(
                head.header("docker-content-digest") == Some(manifest_digest.as_str())
                    && head.header("content-length") == Some(manifest.len().to_string().as_str()),
                &format!(
                    "HEAD of the manifest through B should announce Content-Length {} and {manifest_digest}",
                    manifest.len()
                ),
                &head,
            );
        }
        for (digest, bytes) in [
            (&config_digest, &config),
            (&layer1_digest, &layer1),
            (&layer2_digest, &layer2),
        ] {
            c.expect_blob(Side::B, &repo, digest, bytes).await?;
        }
        let tags = c
            .send(
                Side::B,
                Method::GET,
                &format!("/v2/{repo}/tags/list"),
                &[],
                None,
            )
            .await?;
        c.want(&tags, 200)?;
        c.check(
            tags.json()? == json!({"name": repo, "tags": ["v1"]}),
            "tags seen through B",
            &tags,
        )?;
        let catalog = c
            .send(Side::B, Method::GET, "/v2/_catalog", &[], None)
            .await?;
        c.want(&catalog, 200)?;
        c.check(
            catalog.json()?["repositories"]
                .as_array()
                .is_some_and(|r| r.contains(&json!(repo))),
            "the catalog seen through B lists the repository",
            &catalog,
        )?;
        Ok(())
    })
    .await
}

// =============================================================================================
// 3. Concurrent pushes of one blob through both replicas
// =============================================================================================

const ROUNDS: u64 = 5;
/// Simultaneous pushes per round, alternately through A and B.
const PUSHES: usize = 6;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_pushes_of_one_blob_store_it_once() -> Result<()> {
    with_cluster("race", |c| async move {
        let repos = [format!("{ORG}/race"), format!("{ORG}/race-other")];
        let c = Arc::new(c);
        let mut pushed: BTreeMap<String, usize> = BTreeMap::new();
        for round in 0..ROUNDS {
            let blob = Arc::new(pattern(300 + round, MIB + 1000 * round as usize + 3));
            let digest = sha256_digest(&blob);
            let barrier = Arc::new(tokio::sync::Barrier::new(PUSHES));
            let mut tasks = Vec::new();
            for i in 0..PUSHES {
                let side = if i % 2 == 0 { Side::A } else { Side::B };
                let repo = repos[(i / 2) % 2].clone();
                let (c, blob, barrier) = (c.clone(), blob.clone(), barrier.clone());
                tasks.push(tokio::spawn(async move {
                    barrier.wait().await;
                    let path = format!("/v2/{repo}/blobs/uploads/?digest={}", sha256_digest(&blob));
                    c.send(
                        side,
                        Method::POST,
                        &path,
                        &[("content-type", "application/octet-stream".into())],
                        Some(blob.to_vec()),
                    )
                    .await
                }));
            }
            let mut failures = Vec::new();
            for task in tasks {
                let reply = task.await.context("push task")??;
                if reply.status != StatusCode::CREATED
                    || reply.header("docker-content-digest") != Some(digest.as_str())
                {
                    failures.push(reply.to_string());
                }
            }
            ensure!(
                failures.is_empty(),
                "round {round}: {} of {PUSHES} simultaneous pushes of {digest} failed:\n{}\n{}",
                failures.len(),
                failures.join("\n---\n"),
                c.describe()
            );
            for side in [Side::A, Side::B] {
                for repo in &repos {
                    c.expect_blob(side, repo, &digest, &blob)
                        .await
                        .with_context(|| format!("round {round}"))?;
                }
            }
            pushed.insert(digest, blob.len());
        }

        // S3: exactly one object per blob, at its content address, of the blob's size;
        // nothing else under blobs/, and no staging object left under uploads/.
        let objects = c.s3.objects("blobs").await?;
        let expected: BTreeMap<String, u64> = pushed
            .iter()
            .map(|(d, len)| (c.s3.blob_key(d), *len as u64))
            .collect();
        ensure!(
            objects == expected,
            "S3 under {}/blobs should hold exactly {expected:#?}\nit holds {objects:#?}",
            c.s3.prefix
        );
        for digest in pushed.keys() {
            let key = c.s3.blob_key(digest);
            let under = objects.keys().filter(|k| k.starts_with(&key)).count();
            ensure!(under == 1, "{under} objects under {key}");
        }
        let staging = c.s3.objects("uploads").await?;
        ensure!(
            staging.is_empty(),
            "completed uploads left staging objects in S3: {staging:#?}"
        );
        Ok(())
    })
    .await
}

// =============================================================================================
// 4. A personal key created and deleted through A, used through B
// =============================================================================================

/// S3 cannot concatenate a part under 5 MiB followed by more (the registry advertises
/// `OCI-Chunk-Min-Length`): a chunk after a short one is refused with `BLOB_UPLOAD_INVALID`
/// naming the limit, nothing is lost, and the upload still completes with a final `PUT`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_chunk_after_a_short_one_is_refused_clearly_on_s3() -> Result<()> {
    with_cluster("shortchunks", |c| async move {
        let repo = format!("{ORG}/short");
        let small = pattern(41, 1000);
        let more = pattern(42, 2000);
        let location = c.start_upload(Side::A, &repo).await?;
        c.patch_chunk(Side::A, &location, 0, &small).await?;
        let r = c
            .send(
                Side::B,
                Method::PATCH,
                &location,
                &[
                    ("content-type", "application/octet-stream".into()),
                    ("content-range", format!("1000-{}", 1000 + more.len() - 1)),
                ],
                Some(more.clone()),
            )
            .await?;
        c.want(&r, 400)?;
        let body = r.json()?;
        c.check(
            body["errors"][0]["code"] == "BLOB_UPLOAD_INVALID"
                && body["errors"][0]["message"]
                    .as_str()
                    .is_some_and(|m| m.contains("5242880") && m.contains("1000 bytes")),
            "the refusal names the minimum and the short chunk",
            &r,
        )?;
        c.expect_upload_at(Side::A, &location, small.len()).await?;
        // A client that then pushes the blob in one request succeeds, through either replica.
        let whole: Vec<u8> = small.iter().chain(more.iter()).copied().collect();
        let digest = c.push_blob(Side::B, &repo, &whole).await?;
        c.expect_blob(Side::A, &repo, &digest, &whole).await?;
        Ok(())
    })
    .await
}

/// Standard base64 of a SHA-256, as NGC's transfer protocol carries it.
fn sha256_b64(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(sha2::Sha256::digest(bytes))
}

/// The path and query of an absolute URL (signed transfer URLs name the replica that signed
/// them; the signature covers the path and query, so any replica can serve them).
fn path_of(url: &str) -> String {
    let after_scheme = url.split_once("://").map(|x| x.1).unwrap_or(url);
    after_scheme
        .find('/')
        .map(|i| after_scheme[i..].to_string())
        .unwrap_or_else(|| "/".into())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn model_version_uploaded_through_b_is_downloaded_through_a() -> Result<()> {
    with_cluster("model", |c| async move {
        let json_header = [("content-type", "application/json".to_string())];
        let post = |side, path: String, body: Value| {
            let c = &c;
            let h = json_header.clone();
            async move {
                c.send(side, Method::POST, &path, &h, Some(serde_json::to_vec(&body)?))
                    .await
            }
        };
        let files: Vec<(&str, Vec<u8>)> = vec![
            ("weights/model.bin", pattern(31, FIRST_CHUNK + 3 * MIB + 5)),
            ("config.json", b"{\"layers\": 4}\n".to_vec()),
        ];

        let r = post(Side::B, format!("/v2/org/{ORG}/models"), json!({"name": "m", "application": "OTHER", "shortDescription": "replicas"})).await?;
        c.want(&r, 200)?;
        let r = post(Side::B, format!("/v2/org/{ORG}/models/m/versions"), json!({"versionId": "1.0"})).await?;
        c.want(&r, 200)?;
        for (i, (path, bytes)) in files.iter().enumerate() {
            let sha = sha256_b64(bytes);
            let r = post(
                Side::B,
                format!("/v2/org/{ORG}/files/multipart"),
                json!({"name": "m", "version": "1.0", "artifactType": "models", "filePath": path,
                       "size": bytes.len(), "sha256": sha}),
            )
            .await?;
            c.want(&r, 200)?;
            let grant = r.json()?;
            let upload = grant["uploadID"].as_str().unwrap_or_default().to_string();
            let urls = grant["urls"].as_array().cloned().unwrap_or_default();
            c.check(urls.len() == 1, "one part URL per file", &r)?;
            // The URL B signed, sent to A (first file) or B (second) without credentials.
            let side = if i == 0 { Side::A } else { Side::B };
            let target = path_of(urls[0].as_str().unwrap_or_default());
            let put = c.send_as(side, None, Method::PUT, &target, &[], Some(bytes.clone())).await?;
            c.want(&put, 200)?;
            // Completed through the other replica.
            let other = if i == 0 { Side::B } else { Side::A };
            let done = c
                .send(
                    other,
                    Method::PUT,
                    &format!("/v2/org/{ORG}/files/multipart"),
                    &json_header,
                    Some(serde_json::to_vec(&json!({"name": "m", "version": "1.0",
                        "artifactType": "models", "filePath": path, "uploadID": upload,
                        "sha256": sha}))?),
                )
                .await?;
            c.want(&done, 200)?;
        }
        let commit: Vec<Value> = files
            .iter()
            .map(|(p, b)| json!({"commitType": "ADDITION", "filePath": p, "sha256": sha256_b64(b)}))
            .collect();
        let r = post(
            Side::A,
            format!("/v2/org/{ORG}/files/commit?upload-pending=True"),
            json!({"name": "m", "artifactType": "models", "version": "1.0", "files": commit, "baseVersion": null}),
        )
        .await?;
        c.want(&r, 200)?;
        let r = c
            .send(
                Side::B,
                Method::PATCH,
                &format!("/v2/org/{ORG}/models/m/versions/1.0"),
                &json_header,
                Some(serde_json::to_vec(&json!({"status": "UPLOAD_COMPLETE"}))?),
            )
            .await?;
        c.want(&r, 200)?;

        // Downloaded through A, byte for byte.
        let r = c
            .send(Side::A, Method::GET, &format!("/v2/org/{ORG}/models/m/1.0/files"), &[], None)
            .await?;
        c.want(&r, 200)?;
        let listing = r.json()?;
        let paths = listing["filepath"].as_array().cloned().unwrap_or_default();
        let urls = listing["urls"].as_array().cloned().unwrap_or_default();
        c.check(paths.len() == files.len() && urls.len() == files.len(), "two files listed", &r)?;
        for (p, u) in paths.iter().zip(&urls) {
            let want = files
                .iter()
                .find(|(f, _)| Some(*f) == p.as_str())
                .map(|(_, b)| b.clone())
                .ok_or_else(|| anyhow!("unexpected file {p}"))?;
            let got = c
                .send_as(Side::A, None, Method::GET, &path_of(u.as_str().unwrap_or_default()), &[], None)
                .await?;
            c.want(&got, 200)?;
            c.check(got.body == want, "downloaded bytes equal the uploaded ones", &got)?;
        }
        Ok(())
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn personal_key_lifecycle_is_seen_by_the_other_replica() -> Result<()> {
    with_cluster("keys", |c| async move {
        for name in ["k", "k2", "k3"] {
            let created = c
                .send(
                    Side::A,
                    Method::POST,
                    "/v3/keys/personal",
                    &[("content-type", "application/json".into())],
                    Some(serde_json::to_vec(&json!({ "name": name }))?),
                )
                .await?;
            c.want(&created, 200)?;
            let body = created.json()?;
            let secret = body["apiKey"]
                .as_str()
                .filter(|k| k.starts_with("arca_pk_"))
                .map(str::to_string);
            let id = body["key"]["id"].as_str().map(str::to_string);
            let (Some(secret), Some(id)) = (secret, id) else {
                bail!("no apiKey/key.id in the creation answer\n{created}");
            };

            // B accepts the new key (REST and registry), which also warms any cache it has.
            let mine = c
                .send_as(Side::B, Some(&secret), Method::GET, "/v3/keys", &[], None)
                .await?;
            c.want(&mine, 200)?;
            c.check(
                mine.json()?["keys"]
                    .as_array()
                    .is_some_and(|keys| keys.iter().any(|k| k["id"] == id.as_str())),
                "B lists the new key for its own caller",
                &mine,
            )?;
            let v2 = c
                .send_as(Side::B, Some(&secret), Method::GET, "/v2/", &[], None)
                .await?;
            c.want(&v2, 200)?;

            let deleted = c
                .send(
                    Side::A,
                    Method::DELETE,
                    &format!("/v3/keys/{id}"),
                    &[],
                    None,
                )
                .await?;
            c.want(&deleted, 200)?;

            // The very next request with it, on B, is refused.
            let after = c
                .send_as(Side::B, Some(&secret), Method::GET, "/v3/keys", &[], None)
                .await?;
            c.want(&after, 401)
                .with_context(|| format!("key {name} deleted through A still works on B"))?;
            let v2 = c
                .send_as(Side::B, Some(&secret), Method::GET, "/v2/", &[], None)
                .await?;
            c.want(&v2, 401)?;
            let on_a = c
                .send_as(Side::A, Some(&secret), Method::GET, "/v3/keys", &[], None)
                .await?;
            c.want(&on_a, 401)?;

            // The owner's key still works on B, and B no longer lists the deleted key.
            let owner = c.send(Side::B, Method::GET, "/v3/keys", &[], None).await?;
            c.want(&owner, 200)?;
            c.check(
                owner.json()?["keys"]
                    .as_array()
                    .is_some_and(|keys| !keys.iter().any(|k| k["id"] == id.as_str())),
                "B still lists the key deleted through A",
                &owner,
            )?;
        }
        Ok(())
    })
    .await
}

// =============================================================================================
// 5. SIGKILL of A in the middle of a chunked upload
// =============================================================================================

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_in_the_middle_of_an_upload_loses_nothing() -> Result<()> {
    with_cluster("crash", |mut c| async move {
        let repo = format!("{ORG}/crash");
        let blob = pattern(5, FIRST_CHUNK + 2 * MIB + 99);
        let digest = sha256_digest(&blob);
        let rest = &blob[FIRST_CHUNK..];

        let location = c.start_upload(Side::A, &repo).await?;
        c.patch_chunk(Side::A, &location, 0, &blob[..FIRST_CHUNK])
            .await?;
        // A second PATCH is in flight on A (its head and a quarter of its body sent) when A
        // is killed.
        let in_flight = start_partial_patch(
            c.a.addr(),
            &location,
            &c.key,
            FIRST_CHUNK,
            rest.len(),
            &rest[..rest.len() / 4],
        )
        .await?;
        tokio::time::sleep(Duration::from_millis(500)).await;
        let status = c.a.sigkill()?;
        ensure!(
            !status.success(),
            "A should have died of SIGKILL, it exited with {status}"
        );
        drop(in_flight);

        // B: the acknowledged chunk is there, nothing of the interrupted one.
        c.expect_upload_at(Side::B, &location, FIRST_CHUNK)
            .await
            .context("after A was killed")?;
        c.patch_chunk(Side::B, &location, FIRST_CHUNK, rest).await?;
        c.finish_upload(Side::B, &repo, &location, &digest).await?;
        c.expect_blob(Side::B, &repo, &digest, &blob).await?;

        c.a.restart().await.context("restart A")?;
        c.expect_blob(Side::A, &repo, &digest, &blob)
            .await
            .context("A after its restart")?;
        let r = c.send(Side::A, Method::GET, &location, &[], None).await?;
        c.want(&r, 404)?;
        Ok(())
    })
    .await
}

/// Two small Helm chart packages `hc-0.1.0.tgz` and `hc-0.2.0.tgz`, written by python's
/// tarfile (the test controls every byte).
fn helm_packages() -> Result<(Vec<u8>, Vec<u8>)> {
    let dir = tempfile::tempdir().context("tempdir")?;
    let script = r#"
import gzip, io, os, sys, tarfile
for v in ("0.1.0", "0.2.0"):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as t:
        data = ("apiVersion: v2\nname: hc\nversion: %s\ndescription: replica chart\n" % v).encode()
        info = tarfile.TarInfo("hc/Chart.yaml")
        info.size = len(data)
        t.addfile(info, io.BytesIO(data))
    open(os.path.join(sys.argv[1], "hc-%s.tgz" % v), "wb").write(gzip.compress(buf.getvalue()))
"#;
    let out = std::process::Command::new("python3")
        .arg("-c")
        .arg(script)
        .arg(dir.path())
        .output()
        .context("run python3")?;
    ensure!(
        out.status.success(),
        "python3: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let read = |v: &str| std::fs::read(dir.path().join(format!("hc-{v}.tgz"))).context("package");
    Ok((read("0.1.0")?, read("0.2.0")?))
}

/// 7. Helm: a chart uploaded through A's ChartMuseum API is in B's `index.yaml` under the same
/// ETag; a version pushed through B's OCI API (as `helm push` does) changes the index both
/// replicas serve — the old ETag now gets 200 on A, the new one 304 on both — and its package
/// is downloaded through A byte for byte. No replica keeps a stale index.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn helm_index_is_the_same_on_both_replicas() -> Result<()> {
    with_cluster("helm", |c| async move {
        let (v1, v2) = helm_packages()?;
        let up = c
            .send(
                Side::A,
                Method::POST,
                &format!("/api/{ORG}/charts"),
                &[("content-type", "application/gzip".into())],
                Some(v1.clone()),
            )
            .await?;
        c.want(&up, 201)?;
        let index = format!("/{ORG}/index.yaml");
        let a1 = c.send(Side::A, Method::GET, &index, &[], None).await?;
        let b1 = c.send(Side::B, Method::GET, &index, &[], None).await?;
        c.want(&a1, 200)?;
        c.want(&b1, 200)?;
        let etag1 = a1.header("etag").unwrap_or_default().to_string();
        c.check(
            !etag1.is_empty() && b1.header("etag") == Some(etag1.as_str()),
            "both replicas give index.yaml the same ETag",
            &b1,
        )?;
        c.check(
            a1.body == b1.body,
            "both replicas serve the same index.yaml",
            &b1,
        )?;

        let config =
            serde_json::to_vec(&json!({"apiVersion": "v2", "name": "hc", "version": "0.2.0"}))?;
        let repo = format!("{ORG}/hc");
        let config_digest = c.push_blob(Side::B, &repo, &config).await?;
        let layer_digest = c.push_blob(Side::B, &repo, &v2).await?;
        let manifest = serde_json::to_vec(&json!({
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": {"mediaType": "application/vnd.cncf.helm.config.v1+json",
                       "digest": config_digest, "size": config.len()},
            "layers": [{"mediaType": "application/vnd.cncf.helm.chart.content.v1.tar+gzip",
                        "digest": layer_digest, "size": v2.len()}],
        }))?;
        let put = c
            .send(
                Side::B,
                Method::PUT,
                &format!("/v2/{repo}/manifests/0.2.0"),
                &[(
                    "content-type",
                    "application/vnd.oci.image.manifest.v1+json".into(),
                )],
                Some(manifest),
            )
            .await?;
        c.want(&put, 201)?;

        let a2 = c
            .send(
                Side::A,
                Method::GET,
                &index,
                &[("if-none-match", etag1.clone())],
                None,
            )
            .await?;
        c.want(&a2, 200)
            .context("A answered 304 with the ETag of an index that has changed")?;
        let etag2 = a2.header("etag").unwrap_or_default().to_string();
        c.check(etag2 != etag1, "a new version gives a new ETag", &a2)?;
        let text = String::from_utf8_lossy(&a2.body).into_owned();
        c.check(
            text.contains("charts/hc-0.1.0.tgz") && text.contains("charts/hc-0.2.0.tgz"),
            "A's index lists the version pushed through B",
            &a2,
        )?;
        for side in [Side::A, Side::B] {
            let r = c
                .send(
                    side,
                    Method::GET,
                    &index,
                    &[("if-none-match", etag2.clone())],
                    None,
                )
                .await?;
            c.want(&r, 304)?;
        }
        let dl = c
            .send(
                Side::A,
                Method::GET,
                &format!("/{ORG}/charts/hc-0.2.0.tgz"),
                &[],
                None,
            )
            .await?;
        c.want(&dl, 200)?;
        c.check(dl.body == v2, "A serves the package pushed through B", &dl)?;
        Ok(())
    })
    .await
}

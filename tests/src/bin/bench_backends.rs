//! `bench_backends`: one replica on PostgreSQL + S3 against the embedded default (SQLite +
//! files), the same OCI workload run on both, side by side in one run.
//!
//! ```text
//! bash scripts/services.sh && set -a && . .ci-tmp/services.env && set +a
//! cargo run --release -p arca-tests --bin bench_backends -- [--size-mib 512] [--chunk-mib 64]
//!     [--requests 20000] [--get-secs 20] [--concurrency 16] [--rounds 1] [--timeout-secs 1800]
//! ```
//!
//! For each round, for each backend in turn (embedded first, then PostgreSQL + S3):
//!
//! 1. **Server.** A release `arca-server` (built by the harness, or from `ARCA_E2E_BIN_DIR`)
//!    on a free `127.0.0.1` port.
//!    * *embedded*: the defaults, a data directory inside the benchmark's temporary directory,
//!      the first-start key read from stdout;
//!    * *PostgreSQL + S3*: a fresh PostgreSQL schema (`options[search_path]` on
//!      `ARCA_TEST_POSTGRES_URL`) and a fresh S3 prefix (under `ARCA_TEST_S3_URL`, with the
//!      `AWS_*` variables of `scripts/services.sh`), bootstrapped with
//!      `arca-server bootstrap --metadata … --blobs … --json`, then started with
//!      `--no-bootstrap --metadata postgres://… --blobs s3://bucket/prefix`, as in
//!      `tests/tests/replicas.rs`. The schema and every object under the prefix are removed
//!      afterwards, whatever the outcome.
//! 2. **Push**: `POST /v2/demo/bench/blobs/uploads/`, one `PATCH` per `--chunk-mib` chunk
//!    (body streamed from a generator of deterministic bytes, hashed as it goes), `PUT
//!    ?digest=`; then a config blob and an OCI manifest tagged `v1`. Timed from the `POST` to
//!    the `201` of the final `PUT`.
//! 3. **Pull**: `GET /v2/demo/bench/blobs/<digest>`, streamed and hashed; size and digest
//!    checked.
//! 4. **Manifest GETs**: `--concurrency` tasks share one `reqwest` client (keep-alive) and
//!    send `GET /v2/demo/bench/manifests/v1` (with the key as `Bearer`, so each request is
//!    authenticated by the server) until `--requests` have been sent or `--get-secs` have
//!    passed, whichever comes first, after 200 unmeasured warm-up requests. Each answer must
//!    be `200` with the manifest's bytes; other answers are counted and the first is shown.
//! 5. The server's `VmRSS` is sampled every 100 ms (peaks per phase); `VmHWM` at the end;
//!    its CPU time (`/proc/<pid>/stat`) is read around the push, the pull and the GETs.
//!
//! MB/s means 10^6 bytes per second. The ratios are *PostgreSQL + S3 ÷ embedded*, for each
//! rate. The S3 of the test services is moto (a Python mock that keeps objects in memory),
//! not a production object store, and PostgreSQL runs on the same two cores: the figures
//! compare the two code paths on one machine, not the products behind them.
//!
//! This is a benchmark, not a test: nothing here asserts on time. It fails (exit status 1)
//! only when the exchange fails (an HTTP error during push or pull, a digest mismatch, a
//! missing service) or the run exceeds `--timeout-secs`. Every loop is bounded in count and
//! in time.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{anyhow, bail, ensure, Context, Result};
use arca_tests::{run_server_command, Server};
use futures::{StreamExt, TryStreamExt};
use object_store::ObjectStore;
use reqwest::header::{ACCEPT, CONTENT_LENGTH, CONTENT_RANGE, CONTENT_TYPE, LOCATION};
use reqwest::StatusCode;
use sha2::{Digest as _, Sha256};

#[path = "bench_common/mod.rs"]
mod common;

use common::{
    cpu_secs, hex, mb_per_s, mib, sha256_of, status_kb, Generator, RssPeaks, Sampler, MIB, PIECE,
};

const USAGE: &str = "usage: bench_backends [--size-mib N (512)] [--chunk-mib N (64)] \
                     [--requests N (20000)] [--get-secs N (20)] [--concurrency N (16)] \
                     [--rounds N (1)] [--timeout-secs N (1800)]";
/// The repository pushed to (the bootstrap creates org `demo`).
const ORG: &str = "demo";
const OWNER: &str = "admin@localhost";
const REPO: &str = "demo/bench";
const TAG: &str = "v1";
const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
const OCI_CONFIG: &str = "application/vnd.oci.image.config.v1+json";
const OCI_LAYER: &str = "application/vnd.oci.image.layer.v1.tar";
/// Bound of every push or pull request (a whole chunk, or the whole pull).
const REQUEST_TIMEOUT: Duration = Duration::from_secs(15 * 60);
/// Bound of one manifest GET.
const GET_TIMEOUT: Duration = Duration::from_secs(30);
/// Unmeasured manifest GETs before the measured ones.
const WARMUP_GETS: u64 = 200;
/// S3's smallest part (all but the last); chunks must not be smaller on the S3 backend.
const S3_MIN_PART_MIB: u64 = 5;
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
/// Server phases of the RSS sampler.
const IDLE: usize = 0;
const PUSH: usize = 1;
const PULL: usize = 2;
const GETS: usize = 3;

#[derive(Debug, Clone, Copy)]
struct Args {
    size_mib: u64,
    chunk_mib: u64,
    requests: u64,
    get_secs: u64,
    concurrency: u64,
    rounds: u64,
    timeout: Duration,
}

fn parse_args() -> Result<Args> {
    let mut args = Args {
        size_mib: 512,
        chunk_mib: 64,
        requests: 20_000,
        get_secs: 20,
        concurrency: 16,
        rounds: 1,
        timeout: Duration::from_secs(1800),
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        if flag == "-h" || flag == "--help" {
            println!("{USAGE}");
            std::process::exit(0);
        }
        let value = it
            .next()
            .ok_or_else(|| anyhow!("{flag} needs a value\n{USAGE}"))?;
        let n: u64 = value
            .parse()
            .with_context(|| format!("{flag} {value:?} is not a number\n{USAGE}"))?;
        match flag.as_str() {
            "--size-mib" => args.size_mib = n,
            "--chunk-mib" => args.chunk_mib = n,
            "--requests" => args.requests = n,
            "--get-secs" => args.get_secs = n,
            "--concurrency" => args.concurrency = n,
            "--rounds" => args.rounds = n,
            "--timeout-secs" => args.timeout = Duration::from_secs(n),
            _ => bail!("unknown argument {flag:?}\n{USAGE}"),
        }
    }
    ensure!(args.size_mib > 0, "--size-mib must be positive");
    ensure!(
        args.chunk_mib >= S3_MIN_PART_MIB || args.chunk_mib >= args.size_mib,
        "--chunk-mib must be at least {S3_MIN_PART_MIB} (S3's smallest part) or the whole size"
    );
    ensure!(args.requests > 0, "--requests must be positive");
    ensure!(args.get_secs > 0, "--get-secs must be positive");
    ensure!(
        (1..=256).contains(&args.concurrency),
        "--concurrency must be in 1..=256"
    );
    ensure!(
        (1..=10).contains(&args.rounds),
        "--rounds must be in 1..=10"
    );
    Ok(args)
}

// =============================================================================================
// Backends
// =============================================================================================

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Backend {
    Embedded,
    PgS3,
}

impl Backend {
    fn name(self) -> &'static str {
        match self {
            Backend::Embedded => "embedded (SQLite + files)",
            Backend::PgS3 => "PostgreSQL + S3 (moto)",
        }
    }
}

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
    ensure!(
        missing.is_empty(),
        "{} not set: the PostgreSQL + S3 half needs the test services. In the repository root \
         run `bash scripts/services.sh && set -a && . .ci-tmp/services.env && set +a` first",
        missing.join(", ")
    );
    Ok(found)
}

/// `<pid>_<nanos>`: a suffix no other run uses.
fn unique_suffix() -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos() % 1_000_000_000_000)
        .unwrap_or(0);
    format!("{}_{nanos}", std::process::id())
}

/// A fresh PostgreSQL schema and S3 prefix, removed by [`PgS3::cleanup`].
struct PgS3 {
    admin: sqlx::PgPool,
    schema: String,
    metadata_url: String,
    blobs_url: String,
    store: object_store::aws::AmazonS3,
    prefix: String,
    env: BTreeMap<&'static str, String>,
}

impl PgS3 {
    async fn new() -> Result<PgS3> {
        let env = service_env()?;
        let pg = env["ARCA_TEST_POSTGRES_URL"].clone();
        let s3_url = env["ARCA_TEST_S3_URL"].clone();
        let unique = unique_suffix();
        let schema = format!("arca_bench_{unique}");
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
        let leaf = format!("bench-backends-{unique}");
        let prefix = if base.is_empty() {
            leaf
        } else {
            format!("{base}/{leaf}")
        };
        let store = object_store::aws::AmazonS3Builder::from_env()
            .with_bucket_name(bucket)
            .build()
            .context("S3 client for the test bucket")?;
        Ok(PgS3 {
            admin,
            blobs_url: format!("s3://{bucket}/{prefix}"),
            schema,
            metadata_url,
            store,
            prefix,
            env,
        })
    }

    /// Bootstraps the schema and prefix (org `demo`); returns the owner's key.
    async fn bootstrap(&self, data_dir: &Path) -> Result<String> {
        let args: Vec<OsString> = vec![
            "bootstrap".into(),
            "--data-dir".into(),
            data_dir.into(),
            "--metadata".into(),
            self.metadata_url.clone().into(),
            "--blobs".into(),
            self.blobs_url.clone().into(),
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
        let printed: serde_json::Value = serde_json::from_str(out.stdout_text().trim())
            .with_context(|| format!("bootstrap --json output\n{}", out.describe()))?;
        printed["api_key"]
            .as_str()
            .filter(|k| k.starts_with("arca_"))
            .map(str::to_string)
            .ok_or_else(|| anyhow!("bootstrap printed no API key: {printed}"))
    }

    /// Deletes every object under the prefix and drops the schema (best effort, reported).
    async fn cleanup(&self) {
        let path = object_store::path::Path::from(self.prefix.as_str());
        let listed: Result<Vec<_>, _> = self
            .store
            .list(Some(&path))
            .map_ok(|m| m.location)
            .try_collect()
            .await;
        match listed {
            Ok(keys) => {
                for key in keys {
                    if let Err(e) = self.store.delete(&key).await {
                        eprintln!("cleanup: delete S3 object {key}: {e}");
                    }
                }
            }
            Err(e) => eprintln!("cleanup: list S3 objects under {path}: {e}"),
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

// =============================================================================================
// The workload
// =============================================================================================

struct Registry<'a> {
    server: &'a Server,
    http: reqwest::Client,
    key: String,
    deadline: Instant,
}

impl Registry<'_> {
    fn absolute(&self, location: &str) -> String {
        if location.starts_with("http://") || location.starts_with("https://") {
            location.to_string()
        } else {
            self.server.url(location)
        }
    }

    fn check_time(&self, what: &str) -> Result<()> {
        ensure!(Instant::now() < self.deadline, "{what}: out of time");
        Ok(())
    }

    async fn expect(
        res: reqwest::Response,
        status: StatusCode,
        what: &str,
    ) -> Result<reqwest::Response> {
        if res.status() == status {
            return Ok(res);
        }
        let got = res.status();
        let body = res.text().await.unwrap_or_default();
        bail!("{what}: expected {status}, got {got}: {body}")
    }

    fn location(res: &reqwest::Response, what: &str) -> Result<String> {
        res.headers()
            .get(LOCATION)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
            .ok_or_else(|| anyhow!("{what}: no Location header"))
    }

    fn returned_digest(res: &reqwest::Response) -> String {
        res.headers()
            .get("Docker-Content-Digest")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string()
    }

    /// `POST …/uploads/?digest=` with the whole (small) body.
    async fn push_small(&self, bytes: Vec<u8>) -> Result<String> {
        self.check_time("push a small blob")?;
        let digest = sha256_of(&bytes);
        let res = self
            .http
            .post(
                self.server
                    .url(&format!("/v2/{REPO}/blobs/uploads/?digest={digest}")),
            )
            .bearer_auth(&self.key)
            .header(CONTENT_TYPE, "application/octet-stream")
            .timeout(REQUEST_TIMEOUT)
            .body(bytes)
            .send()
            .await
            .context("POST a monolithic upload")?;
        Self::expect(res, StatusCode::CREATED, "monolithic upload").await?;
        Ok(digest)
    }

    /// The chunked push of `size` generated bytes; returns the digest and the seconds spent
    /// in the `PATCH`es and in the final `PUT`.
    async fn push_chunked(&self, size: u64, chunk: u64) -> Result<(String, f64, f64)> {
        let started = Instant::now();
        let res = self
            .http
            .post(self.server.url(&format!("/v2/{REPO}/blobs/uploads/")))
            .bearer_auth(&self.key)
            .header(CONTENT_LENGTH, 0)
            .timeout(REQUEST_TIMEOUT)
            .send()
            .await
            .context("POST an upload")?;
        let res = Self::expect(res, StatusCode::ACCEPTED, "start the upload").await?;
        let mut location = Self::location(&res, "start the upload")?;

        let generator = Arc::new(Mutex::new(Generator::new(size, true)));
        let chunks = size.div_ceil(chunk);
        let mut offset = 0u64;
        for i in 0..chunks {
            self.check_time("chunked push")?;
            let len = chunk.min(size - offset);
            let body =
                futures::stream::unfold((generator.clone(), len), |(generator, left)| async move {
                    if left == 0 {
                        return None;
                    }
                    let max = usize::try_from(left).map_or(PIECE, |l| l.min(PIECE));
                    let piece = generator.lock().expect("generator lock").piece(max);
                    let n = piece.len() as u64;
                    Some((Ok::<_, std::io::Error>(piece), (generator, left - n)))
                });
            let what = format!("chunk {}/{chunks}", i + 1);
            let res = self
                .http
                .patch(self.absolute(&location))
                .bearer_auth(&self.key)
                .header(CONTENT_TYPE, "application/octet-stream")
                .header(CONTENT_RANGE, format!("{}-{}", offset, offset + len - 1))
                .header(CONTENT_LENGTH, len)
                .timeout(REQUEST_TIMEOUT)
                .body(reqwest::Body::wrap_stream(body))
                .send()
                .await
                .with_context(|| format!("PATCH {what}"))?;
            let res = Self::expect(res, StatusCode::ACCEPTED, &what).await?;
            location = Self::location(&res, &what)?;
            offset += len;
        }
        let patched = started.elapsed().as_secs_f64();

        let generator = Arc::try_unwrap(generator)
            .map_err(|_| anyhow!("the generator is still shared"))?
            .into_inner()
            .map_err(|_| anyhow!("the generator lock is poisoned"))?;
        ensure!(generator.remaining == 0, "the generator was not drained");
        let digest = generator.digest();
        let finish = Instant::now();
        let sep = if location.contains('?') { '&' } else { '?' };
        let res = self
            .http
            .put(format!("{}{sep}digest={digest}", self.absolute(&location)))
            .bearer_auth(&self.key)
            .header(CONTENT_LENGTH, 0)
            .timeout(REQUEST_TIMEOUT)
            .send()
            .await
            .context("PUT the upload")?;
        let res = Self::expect(res, StatusCode::CREATED, "finish the upload").await?;
        let returned = Self::returned_digest(&res);
        ensure!(
            returned == digest,
            "the server stored {returned:?}, the client computed {digest}"
        );
        Ok((digest, patched, finish.elapsed().as_secs_f64()))
    }

    /// A config blob and a manifest over it and the layer, tagged [`TAG`]; returns the
    /// manifest's bytes.
    async fn push_manifest(&self, layer: &str, size: u64) -> Result<Vec<u8>> {
        let config = serde_json::to_vec(&serde_json::json!({
            "architecture": "amd64",
            "os": "linux",
            "rootfs": {"type": "layers", "diff_ids": [layer]},
        }))?;
        let config_size = config.len();
        let config_digest = self.push_small(config).await?;
        let manifest = serde_json::to_vec(&serde_json::json!({
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": {"mediaType": OCI_CONFIG, "digest": config_digest, "size": config_size},
            "layers": [{"mediaType": OCI_LAYER, "digest": layer, "size": size}],
        }))?;
        let manifest_digest = sha256_of(&manifest);
        self.check_time("push the manifest")?;
        let res = self
            .http
            .put(self.server.url(&format!("/v2/{REPO}/manifests/{TAG}")))
            .bearer_auth(&self.key)
            .header(CONTENT_TYPE, OCI_MANIFEST)
            .timeout(REQUEST_TIMEOUT)
            .body(manifest.clone())
            .send()
            .await
            .context("PUT the manifest")?;
        let res = Self::expect(res, StatusCode::CREATED, "push the manifest").await?;
        let returned = Self::returned_digest(&res);
        ensure!(
            returned == manifest_digest,
            "manifest stored as {returned:?}, computed {manifest_digest}"
        );
        Ok(manifest)
    }

    /// Pulls the layer, streamed and hashed; returns the seconds it took.
    async fn pull(&self, layer: &str, size: u64) -> Result<f64> {
        self.check_time("pull the layer")?;
        let started = Instant::now();
        let res = self
            .http
            .get(self.server.url(&format!("/v2/{REPO}/blobs/{layer}")))
            .bearer_auth(&self.key)
            .timeout(REQUEST_TIMEOUT)
            .send()
            .await
            .context("GET the layer")?;
        let res = Self::expect(res, StatusCode::OK, "pull the layer").await?;
        let mut body = res.bytes_stream();
        let mut hasher = Sha256::new();
        let mut received = 0u64;
        // Bounded: the body ends after `size` bytes (checked), the request has a timeout, and
        // the deadline is checked on every piece.
        while let Some(piece) = body.next().await {
            let piece = piece.context("read the layer")?;
            received += piece.len() as u64;
            ensure!(received <= size, "the layer is longer than {size} bytes");
            hasher.update(&piece);
            self.check_time("pull the layer")?;
        }
        let secs = started.elapsed().as_secs_f64();
        ensure!(received == size, "received {received} of {size} bytes");
        let pulled = format!("sha256:{}", hex(&hasher.finalize()));
        ensure!(
            pulled == layer,
            "pulled bytes hash to {pulled}, not {layer}"
        );
        Ok(secs)
    }

    /// One manifest GET; `Err` holds a description of a wrong answer.
    async fn get_manifest(&self, url: &str, want: &[u8]) -> std::result::Result<(), String> {
        let res = self
            .http
            .get(url)
            .bearer_auth(&self.key)
            .header(ACCEPT, OCI_MANIFEST)
            .timeout(GET_TIMEOUT)
            .send()
            .await
            .map_err(|e| format!("request: {e}"))?;
        let status = res.status();
        let body = res.bytes().await.map_err(|e| format!("body: {e}"))?;
        if status != StatusCode::OK {
            return Err(format!(
                "{status}: {}",
                String::from_utf8_lossy(&body[..body.len().min(300)])
            ));
        }
        if body.as_ref() != want {
            return Err(format!(
                "200 with {} bytes that are not the manifest",
                body.len()
            ));
        }
        Ok(())
    }

    /// `concurrency` concurrent loops (futures of this task; the connections' I/O runs on
    /// the runtime's threads) send manifest GETs until `limit` have been sent or `secs`
    /// passed.
    async fn hammer(&self, manifest: &[u8], limit: u64, secs: u64, concurrency: u64) -> Gets {
        let url = self.server.url(&format!("/v2/{REPO}/manifests/{TAG}"));
        let stop_at = (Instant::now() + Duration::from_secs(secs)).min(self.deadline);
        let issued = AtomicU64::new(0);
        let started = Instant::now();
        let workers = (0..concurrency).map(|_| async {
            let mut latencies_us = Vec::new();
            let mut errors = 0u64;
            let mut first_error = None;
            // Bounded by `limit` requests in all and by `stop_at`.
            while Instant::now() < stop_at && issued.fetch_add(1, Ordering::Relaxed) < limit {
                let t = Instant::now();
                match self.get_manifest(&url, manifest).await {
                    Ok(()) => latencies_us.push(t.elapsed().as_micros() as u64),
                    Err(e) => {
                        errors += 1;
                        first_error.get_or_insert(e);
                    }
                }
            }
            (latencies_us, errors, first_error)
        });
        let results = futures::future::join_all(workers).await;
        let mut gets = Gets {
            secs: started.elapsed().as_secs_f64(),
            ..Gets::default()
        };
        for (lat, errors, first) in results {
            gets.latencies_us.extend(lat);
            gets.errors += errors;
            if gets.first_error.is_none() {
                gets.first_error = first;
            }
        }
        gets.latencies_us.sort_unstable();
        gets
    }
}

#[derive(Debug, Default)]
struct Gets {
    latencies_us: Vec<u64>,
    errors: u64,
    first_error: Option<String>,
    secs: f64,
}

impl Gets {
    fn ok(&self) -> u64 {
        self.latencies_us.len() as u64
    }

    fn per_s(&self) -> f64 {
        self.ok() as f64 / self.secs.max(1e-9)
    }

    /// The `q` quantile of the successful requests' latencies, in ms.
    fn quantile_ms(&self, q: f64) -> f64 {
        if self.latencies_us.is_empty() {
            return 0.0;
        }
        let i = ((self.latencies_us.len() - 1) as f64 * q).round() as usize;
        self.latencies_us[i.min(self.latencies_us.len() - 1)] as f64 / 1000.0
    }
}

/// What one backend measured.
struct Measured {
    backend: Backend,
    push_secs: f64,
    patch_secs: f64,
    finish_secs: f64,
    pull_secs: f64,
    gets: Gets,
    /// The server's CPU seconds during the push, the pull and the measured GETs.
    cpu_push: f64,
    cpu_pull: f64,
    cpu_gets: f64,
    rss: RssPeaks,
    hwm_kb: u64,
}

async fn workload(
    server: &Server,
    key: String,
    backend: Backend,
    args: Args,
    deadline: Instant,
) -> Result<Measured> {
    let size = args.size_mib * MIB;
    let chunk = args.chunk_mib * MIB;
    let pid = server
        .pid()
        .ok_or_else(|| anyhow!("the server has no process"))?;
    let sampler = Sampler::start(pid, deadline);
    let cpu = || cpu_secs(pid).unwrap_or(f64::NAN);
    let registry = Registry {
        server,
        http: reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(5))
            .pool_max_idle_per_host(args.concurrency as usize * 2)
            .build()
            .context("build the HTTP client")?,
        key,
        deadline,
    };
    let exchange = async {
        tokio::time::sleep(common::SAMPLE_INTERVAL * 3).await;
        eprintln!("bench_backends: {}: push…", backend.name());
        sampler.phase(PUSH);
        let cpu0 = cpu();
        let started = Instant::now();
        let (digest, patch_secs, finish_secs) = registry.push_chunked(size, chunk).await?;
        let push_secs = started.elapsed().as_secs_f64();
        let cpu_push = cpu() - cpu0;
        let manifest = registry.push_manifest(&digest, size).await?;
        eprintln!("bench_backends: {}: pull…", backend.name());
        sampler.phase(PULL);
        let cpu0 = cpu();
        let pull_secs = registry.pull(&digest, size).await?;
        let cpu_pull = cpu() - cpu0;
        eprintln!("bench_backends: {}: manifest GETs…", backend.name());
        sampler.phase(GETS);
        let warm = registry
            .hammer(&manifest, WARMUP_GETS, args.get_secs, args.concurrency)
            .await;
        if let Some(e) = &warm.first_error {
            eprintln!(
                "bench_backends: warm-up GETs: {} failed, first: {e}",
                warm.errors
            );
        }
        let cpu0 = cpu();
        let gets = registry
            .hammer(&manifest, args.requests, args.get_secs, args.concurrency)
            .await;
        let cpu_gets = cpu() - cpu0;
        Ok::<_, anyhow::Error>((
            push_secs,
            patch_secs,
            finish_secs,
            pull_secs,
            gets,
            [cpu_push, cpu_pull, cpu_gets],
        ))
    }
    .await;
    let rss = sampler.finish();
    let hwm_kb = status_kb(pid, "VmHWM:").unwrap_or(0);
    let (push_secs, patch_secs, finish_secs, pull_secs, gets, [cpu_push, cpu_pull, cpu_gets]) =
        exchange.with_context(|| format!("{}: server: {}", backend.name(), server.describe()))?;
    Ok(Measured {
        backend,
        push_secs,
        patch_secs,
        finish_secs,
        pull_secs,
        gets,
        cpu_push,
        cpu_pull,
        cpu_gets,
        rss,
        hwm_kb,
    })
}

async fn run_backend(
    backend: Backend,
    args: Args,
    work: &Path,
    round: u64,
    deadline: Instant,
) -> Result<Measured> {
    ensure!(Instant::now() < deadline, "{}: out of time", backend.name());
    match backend {
        Backend::Embedded => {
            let data = work.join(format!("data-embedded-{round}"));
            std::fs::create_dir(&data).context("create the data dir")?;
            eprintln!("bench_backends: start the embedded server…");
            let server = Server::builder().data_dir(&data).start().await?;
            let key = server
                .try_key()
                .ok_or_else(|| anyhow!("the server printed no key\n{}", server.describe()))?
                .to_string();
            let measured = workload(&server, key, backend, args, deadline).await;
            drop(server);
            std::fs::remove_dir_all(&data).context("remove the data dir")?;
            measured
        }
        Backend::PgS3 => {
            let iso = PgS3::new().await?;
            let outcome = async {
                let boot = work.join(format!("data-bootstrap-{round}"));
                std::fs::create_dir(&boot).context("create the bootstrap data dir")?;
                eprintln!("bench_backends: bootstrap and start the PostgreSQL + S3 server…");
                let key = iso.bootstrap(&boot).await?;
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
                let server = builder.start().await?;
                let measured = workload(&server, key, backend, args, deadline).await;
                drop(server);
                measured
            }
            .await;
            iso.cleanup().await;
            outcome
        }
    }
}

// =============================================================================================
// Report
// =============================================================================================

fn print_report(args: Args, rounds: &[(Measured, Measured)]) {
    let size = args.size_mib * MIB;
    println!();
    println!(
        "{} MiB blob in {} MiB chunks; manifest GETs: up to {} requests or {} s, concurrency {}.",
        args.size_mib, args.chunk_mib, args.requests, args.get_secs, args.concurrency
    );
    println!();
    println!(
        "| round | backend | push MB/s | pull MB/s | manifest GET req/s | GET p50 / p99 (ms) \
         | GETs ok / failed | server peak RSS (MiB) |"
    );
    println!("|---:|---|---:|---:|---:|---:|---:|---:|");
    for (i, (e, p)) in rounds.iter().enumerate() {
        for m in [e, p] {
            println!(
                "| {} | {} | {:.0} | {:.0} | {:.0} | {:.2} / {:.2} | {} / {} | {:.1} |",
                i + 1,
                m.backend.name(),
                mb_per_s(size, m.push_secs),
                mb_per_s(size, m.pull_secs),
                m.gets.per_s(),
                m.gets.quantile_ms(0.5),
                m.gets.quantile_ms(0.99),
                m.gets.ok(),
                m.gets.errors,
                mib(m.rss.overall_kb().max(m.hwm_kb)),
            );
        }
    }
    println!();
    println!(
        "| round | push PG+S3 / embedded | pull PG+S3 / embedded \
         | manifest GET req/s PG+S3 / embedded |"
    );
    println!("|---:|---:|---:|---:|");
    for (i, (e, p)) in rounds.iter().enumerate() {
        println!(
            "| {} | {:.2} | {:.2} | {:.2} |",
            i + 1,
            e.push_secs / p.push_secs.max(1e-9),
            e.pull_secs / p.pull_secs.max(1e-9),
            p.gets.per_s() / e.gets.per_s().max(1e-9),
        );
    }
    println!();
    for (i, (e, p)) in rounds.iter().enumerate() {
        for m in [e, p] {
            println!(
                "round {} {}: push {:.2} s = PATCHes {:.2} s ({:.0} MB/s) + final PUT {:.2} s \
                 ({:.0} MB/s); pull {:.2} s; {} GETs in {:.2} s; server CPU push {:.2} s, \
                 pull {:.2} s, GETs {:.2} s ({:.3} ms per GET); VmRSS peaks (MiB) idle {:.1}, \
                 push {:.1}, pull {:.1}, GETs {:.1}; VmHWM {:.1}.",
                i + 1,
                m.backend.name(),
                m.push_secs,
                m.patch_secs,
                mb_per_s(size, m.patch_secs),
                m.finish_secs,
                mb_per_s(size, m.finish_secs),
                m.pull_secs,
                m.gets.ok(),
                m.gets.secs,
                m.cpu_push,
                m.cpu_pull,
                m.cpu_gets,
                m.cpu_gets * 1000.0 / (m.gets.ok() + m.gets.errors).max(1) as f64,
                mib(m.rss.peak_kb[IDLE]),
                mib(m.rss.peak_kb[PUSH]),
                mib(m.rss.peak_kb[PULL]),
                mib(m.rss.peak_kb[GETS]),
                mib(m.hwm_kb),
            );
            if let Some(err) = &m.gets.first_error {
                println!(
                    "round {} {}: {} manifest GETs failed; the first: {err}",
                    i + 1,
                    m.backend.name(),
                    m.gets.errors
                );
            }
        }
    }
}

async fn run(args: Args) -> Result<Vec<(Measured, Measured)>> {
    let deadline = Instant::now() + args.timeout;
    // Fail early, before the embedded half, when the services are missing.
    service_env()?;
    let work = tempfile::Builder::new()
        .prefix("arca-bench-backends-")
        .tempdir()
        .context("create the benchmark's temp dir")?;
    eprintln!(
        "bench_backends: {} MiB in {} MiB chunks, {} round(s), work dir {}",
        args.size_mib,
        args.chunk_mib,
        args.rounds,
        work.path().display()
    );
    let mut rounds = Vec::new();
    for round in 1..=args.rounds {
        ensure!(Instant::now() < deadline, "round {round}: out of time");
        let embedded = run_backend(Backend::Embedded, args, work.path(), round, deadline).await?;
        let pg_s3 = run_backend(Backend::PgS3, args, work.path(), round, deadline).await?;
        rounds.push((embedded, pg_s3));
    }
    Ok(rounds)
}

#[tokio::main]
async fn main() {
    let args = match parse_args() {
        Ok(args) => args,
        Err(e) => {
            eprintln!("{e:#}");
            std::process::exit(2);
        }
    };
    match run(args).await {
        Ok(rounds) => print_report(args, &rounds),
        Err(e) => {
            eprintln!("bench_backends failed: {e:#}");
            std::process::exit(1);
        }
    }
}

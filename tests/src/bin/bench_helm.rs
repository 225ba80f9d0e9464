//! `bench_helm`: the time to serve a Helm repository's `index.yaml` with many chart versions,
//! cold and with `If-None-Match`.
//!
//! ```text
//! cargo run --release -p arca-tests --bin bench_helm -- [--charts 100] [--versions-per-chart 100] [--rounds 20] [--timeout-secs 1800]
//! ```
//!
//! One run, everything on `127.0.0.1`:
//!
//! 1. `python3` writes `charts × versions-per-chart` small chart packages (`c0000`…, versions
//!    `1.0.0`…; a `Chart.yaml` with description, appVersion, keywords, a maintainer and a
//!    home URL, a `values.yaml` and a template) into the benchmark's temporary directory.
//! 2. A release `arca-server` (built by the harness, or `ARCA_E2E_BIN_DIR`) starts with the
//!    embedded defaults (SQLite + files) in the same directory, and every package is uploaded
//!    through the ChartMuseum API (`POST /api/demo/charts`, 4 at a time).
//! 3. The server is restarted, so that the first request meets a fresh process.
//! 4. **Baseline** (same process, same run): `GET /v2/org/demo/helm-charts/c0000`, an
//!    authenticated request that reads one record — the floor under any authenticated call.
//! 5. **Cold**: the first `GET /demo/index.yaml` after the restart, then `--rounds` more full
//!    `GET`s (no server-side cache exists: every full answer is built from the metadata store
//!    and rendered). The body is checked: one entry per uploaded version.
//! 6. **Conditional**: `--rounds` `GET`s with `If-None-Match: <ETag>`, each answered 304.
//!
//! The report gives medians (and min/max) in milliseconds and their ratio to the baseline.
//! Nothing asserts on time; the run fails only when an exchange fails or the deadline passes.
//! Every loop is bounded in count and every request in time.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, ensure, Context, Result};
use arca_tests::Server;
use futures::StreamExt;

/// Bound of every single HTTP request.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(120);
/// Uploads in flight at once.
const PARALLEL_UPLOADS: usize = 4;

const USAGE: &str = "usage: bench_helm [--charts N (100)] [--versions-per-chart N (100)] \
                     [--rounds N (20)] [--timeout-secs N (1800)]";

#[derive(Debug, Clone, Copy)]
struct Args {
    charts: usize,
    versions: usize,
    rounds: usize,
    timeout: Duration,
}

fn parse_args() -> Result<Args> {
    let mut args = Args {
        charts: 100,
        versions: 100,
        rounds: 20,
        timeout: Duration::from_secs(1800),
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = |name: &str| -> Result<usize> {
            it.next()
                .ok_or_else(|| anyhow!("{name} needs a value\n{USAGE}"))?
                .parse()
                .with_context(|| format!("{name} takes a number\n{USAGE}"))
        };
        match flag.as_str() {
            "--charts" => args.charts = value("--charts")?,
            "--versions-per-chart" => args.versions = value("--versions-per-chart")?,
            "--rounds" => args.rounds = value("--rounds")?,
            "--timeout-secs" => args.timeout = Duration::from_secs(value("--timeout-secs")? as u64),
            "-h" | "--help" => bail!("{USAGE}"),
            other => bail!("unknown argument {other:?}\n{USAGE}"),
        }
    }
    ensure!(
        (1..=10_000).contains(&args.charts) && (1..=10_000).contains(&args.versions),
        "--charts and --versions-per-chart are 1..=10000\n{USAGE}"
    );
    ensure!((1..=1000).contains(&args.rounds), "--rounds is 1..=1000");
    Ok(args)
}

const MAKE_PACKAGES: &str = r#"
import gzip, io, os, sys, tarfile
out, charts, versions = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
def add(t, path, data):
    info = tarfile.TarInfo(path)
    info.size = len(data)
    info.mode = 0o644
    info.mtime = 1700000000
    t.addfile(info, io.BytesIO(data))
for c in range(charts):
    name = "c%04d" % c
    for v in range(versions):
        version = "1.0.%d" % v
        chart = ("apiVersion: v2\nname: %s\nversion: %s\nappVersion: \"2.%d\"\n"
                 "description: Benchmark chart %s, a web service with a database\n"
                 "type: application\nkeywords:\n- bench\n- web\nhome: https://example.invalid/%s\n"
                 "maintainers:\n- name: Bench Team\n  email: bench@example.invalid\n"
                 % (name, version, v, name, name)).encode()
        buf = io.BytesIO()
        with tarfile.open(fileobj=buf, mode="w") as t:
            add(t, name + "/Chart.yaml", chart)
            add(t, name + "/values.yaml", b"replicaCount: 1\nimage:\n  repository: nginx\n")
            add(t, name + "/templates/deployment.yaml", b"kind: Deployment\n" * 20)
        with open(os.path.join(out, "%s-%s.tgz" % (name, version)), "wb") as f:
            f.write(gzip.compress(buf.getvalue(), mtime=0))
"#;

fn make_packages(dir: &Path, args: &Args) -> Result<()> {
    let out = Command::new("python3")
        .arg("-c")
        .arg(MAKE_PACKAGES)
        .arg(dir)
        .arg(args.charts.to_string())
        .arg(args.versions.to_string())
        .output()
        .context("run python3 to write the packages")?;
    ensure!(
        out.status.success(),
        "writing the packages failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Ok(())
}

struct Bench<'a> {
    server: &'a Server,
    http: reqwest::Client,
    key: String,
    deadline: Instant,
}

impl Bench<'_> {
    fn check_deadline(&self) -> Result<()> {
        ensure!(
            Instant::now() < self.deadline,
            "the run passed --timeout-secs"
        );
        Ok(())
    }

    async fn upload_all(&self, dir: &Path, args: &Args) -> Result<()> {
        let files: Vec<String> = (0..args.charts)
            .flat_map(|c| (0..args.versions).map(move |v| format!("c{c:04}-1.0.{v}.tgz")))
            .collect();
        let total = files.len();
        let mut done = 0usize;
        let mut uploads = futures::stream::iter(files.into_iter().map(|f| async move {
            let body = std::fs::read(dir.join(&f)).with_context(|| format!("read {f}"))?;
            let res = self
                .http
                .post(self.server.url("/api/demo/charts"))
                .basic_auth("$oauthtoken", Some(&self.key))
                .header("Content-Type", "application/gzip")
                .body(body)
                .timeout(REQUEST_TIMEOUT)
                .send()
                .await
                .with_context(|| format!("upload {f}"))?;
            let status = res.status();
            ensure!(
                status.as_u16() == 201,
                "upload {f}: {status} {}",
                res.text().await.unwrap_or_default()
            );
            Ok::<(), anyhow::Error>(())
        }))
        .buffer_unordered(PARALLEL_UPLOADS);
        while let Some(r) = uploads.next().await {
            r?;
            done += 1;
            if done % 1000 == 0 {
                eprintln!("bench_helm: {done}/{total} uploaded");
                self.check_deadline()?;
            }
        }
        Ok(())
    }

    /// One timed GET; returns (milliseconds, status, ETag, body).
    async fn timed_get(
        &self,
        path: &str,
        if_none_match: Option<&str>,
    ) -> Result<(f64, u16, Option<String>, Vec<u8>)> {
        self.check_deadline()?;
        let mut req = self
            .http
            .get(self.server.url(path))
            .basic_auth("$oauthtoken", Some(&self.key))
            .timeout(REQUEST_TIMEOUT);
        if let Some(e) = if_none_match {
            req = req.header("If-None-Match", e);
        }
        let started = Instant::now();
        let res = req.send().await.with_context(|| format!("GET {path}"))?;
        let status = res.status().as_u16();
        let etag = res
            .headers()
            .get("etag")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let body = res.bytes().await.context("read the body")?.to_vec();
        Ok((started.elapsed().as_secs_f64() * 1000.0, status, etag, body))
    }
}

#[derive(Debug, Clone, Copy)]
struct Stats {
    median: f64,
    min: f64,
    max: f64,
}

fn stats(mut xs: Vec<f64>) -> Stats {
    xs.sort_by(|a, b| a.total_cmp(b));
    let n = xs.len();
    let median = if n % 2 == 1 {
        xs[n / 2]
    } else {
        (xs[n / 2 - 1] + xs[n / 2]) / 2.0
    };
    Stats {
        median,
        min: xs[0],
        max: xs[n - 1],
    }
}

struct Report {
    versions: usize,
    charts: usize,
    upload_secs: f64,
    index_bytes: usize,
    first: f64,
    baseline: Stats,
    full: Stats,
    conditional: Stats,
}

impl Report {
    fn print(&self) {
        let b = self.baseline.median;
        println!(
            "## bench_helm: index.yaml with {} chart versions ({} charts)\n",
            self.versions, self.charts
        );
        println!(
            "Seeding: {} ChartMuseum uploads in {:.1} s ({:.0} uploads/s, {PARALLEL_UPLOADS} in flight). \
             index.yaml: {} bytes.\n",
            self.versions,
            self.upload_secs,
            self.versions as f64 / self.upload_secs,
            self.index_bytes
        );
        println!("| request | median ms | min ms | max ms | ratio to baseline |");
        println!("|---|---:|---:|---:|---:|");
        println!(
            "| baseline: GET /v2/org/demo/helm-charts/c0000 | {:.2} | {:.2} | {:.2} | 1.0 |",
            b, self.baseline.min, self.baseline.max
        );
        println!(
            "| index.yaml, first request after restart | {:.2} | | | {:.1} |",
            self.first,
            self.first / b
        );
        println!(
            "| index.yaml, full (200) | {:.2} | {:.2} | {:.2} | {:.1} |",
            self.full.median,
            self.full.min,
            self.full.max,
            self.full.median / b
        );
        println!(
            "| index.yaml, If-None-Match (304) | {:.2} | {:.2} | {:.2} | {:.1} |",
            self.conditional.median,
            self.conditional.min,
            self.conditional.max,
            self.conditional.median / b
        );
    }
}

async fn run(args: Args) -> Result<Report> {
    let deadline = Instant::now() + args.timeout;
    let work = tempfile::Builder::new()
        .prefix("arca-bench-helm-")
        .tempdir()
        .context("create the benchmark's temp dir")?;
    let packages = work.path().join("packages");
    std::fs::create_dir(&packages).context("create the packages dir")?;
    let total = args.charts * args.versions;
    eprintln!("bench_helm: writing {total} packages…");
    make_packages(&packages, &args)?;

    eprintln!("bench_helm: starting the release arca-server…");
    let data = work.path().join("data");
    std::fs::create_dir(&data).context("create the data dir")?;
    let mut server = Server::builder().data_dir(&data).start().await?;
    let key = server
        .try_key()
        .ok_or_else(|| anyhow!("the server printed no arca_pk_ key\n{}", server.describe()))?
        .to_string();
    let http = reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(5))
        .build()
        .context("build the HTTP client")?;

    let upload_secs = {
        let bench = Bench {
            server: &server,
            http: http.clone(),
            key: key.clone(),
            deadline,
        };
        eprintln!("bench_helm: uploading {total} packages…");
        let started = Instant::now();
        bench.upload_all(&packages, &args).await?;
        started.elapsed().as_secs_f64()
    };

    eprintln!("bench_helm: restarting the server…");
    server.restart().await?;
    let bench = Bench {
        server: &server,
        http,
        key,
        deadline,
    };
    let (first, status, etag, body) = bench.timed_get("/demo/index.yaml", None).await?;
    ensure!(status == 200, "index.yaml: {status}");
    let etag = etag.ok_or_else(|| anyhow!("index.yaml has no ETag"))?;
    let text = String::from_utf8_lossy(&body);
    let entries = text
        .lines()
        .filter(|l| l.starts_with("    digest: "))
        .count();
    ensure!(
        entries == total,
        "index.yaml has {entries} entries, {total} were uploaded"
    );
    let index_bytes = body.len();

    let mut baseline = Vec::new();
    let mut full = Vec::new();
    let mut conditional = Vec::new();
    for _ in 0..args.rounds {
        let (ms, status, _, _) = bench
            .timed_get("/v2/org/demo/helm-charts/c0000", None)
            .await?;
        ensure!(status == 200, "baseline: {status}");
        baseline.push(ms);
        let (ms, status, e, body) = bench.timed_get("/demo/index.yaml", None).await?;
        ensure!(
            status == 200 && e.as_deref() == Some(etag.as_str()) && body.len() == index_bytes,
            "full index.yaml changed: {status}"
        );
        full.push(ms);
        let (ms, status, _, body) = bench.timed_get("/demo/index.yaml", Some(&etag)).await?;
        ensure!(
            status == 304 && body.is_empty(),
            "conditional index.yaml: {status}"
        );
        conditional.push(ms);
    }
    drop(server);
    Ok(Report {
        versions: total,
        charts: args.charts,
        upload_secs,
        index_bytes,
        first,
        baseline: stats(baseline),
        full: stats(full),
        conditional: stats(conditional),
    })
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
        Ok(report) => report.print(),
        Err(e) => {
            eprintln!("bench_helm failed: {e:#}");
            std::process::exit(1);
        }
    }
}

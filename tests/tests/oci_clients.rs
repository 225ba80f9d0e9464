//! Real OCI clients against a live `arca-server` over plain HTTP on 127.0.0.1: skopeo (an
//! OCI image and a multi-arch OCI index, in and out with identical digests, inspect, delete),
//! oras-py (an artifact pushed monolithically and in chunks, pulled back byte-identical) and
//! helm (a chart pushed with `helm push` and pulled back byte-identical).
//!
//! The tools come from `scripts/install-test-deps.sh` (Debian's skopeo, oras-py in `.venv`,
//! helm in `.ci-tmp/bin/helm`); a test whose tool is missing fails and says so — none is
//! skipped. Each tool runs with its home, config and cache directories in a temporary
//! directory, and every run is bounded in time.

use std::collections::BTreeMap;
use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use arca_tests::bins::workspace_root;
use arca_tests::process::{run_bounded, Output};
use arca_tests::server::Server;
use serde_json::Value;

/// Bound of one client command.
const TOOL_TIMEOUT: Duration = Duration::from_secs(180);
/// Bound of one HTTP request made by the tests themselves.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// What to run when a tool is missing.
const INSTALL_HINT: &str = "run scripts/install-test-deps.sh (README's test command does)";

// =============================================================================================
// Digests are computed here (sha2), not taken from a tool or the server.
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
// Tools
// =============================================================================================

/// `name` from `PATH`, or a failure saying how to install it.
fn on_path(name: &str) -> PathBuf {
    std::env::var_os("PATH")
        .iter()
        .flat_map(std::env::split_paths)
        .map(|dir| dir.join(name))
        .find(|p| p.is_file())
        .unwrap_or_else(|| panic!("{name} is not installed (not on PATH): {INSTALL_HINT}"))
}

fn skopeo_bin() -> PathBuf {
    on_path("skopeo")
}

/// The repository's `.venv` python, with oras-py importable.
fn oras_python() -> PathBuf {
    let python = workspace_root().join(".venv/bin/python");
    assert!(
        python.is_file(),
        "{} is missing: {INSTALL_HINT}",
        python.display()
    );
    let out = run(
        Command::new(&python).args(["-c", "import oras.client"]),
        "import oras-py",
    );
    assert!(
        out.success(),
        "oras-py is not installed in {}: {INSTALL_HINT}\n{}",
        python.display(),
        out.describe()
    );
    python
}

fn helm_bin() -> PathBuf {
    let helm = workspace_root().join(".ci-tmp/bin/helm");
    assert!(
        helm.is_file(),
        "helm is missing at {}: {INSTALL_HINT}",
        helm.display()
    );
    helm
}

/// Runs a command (bounded), returning its output; a failure to start or a timeout fails.
fn run(cmd: &mut Command, what: &str) -> Output {
    run_bounded(cmd, TOOL_TIMEOUT).unwrap_or_else(|e| panic!("{what}: {e:#}"))
}

/// Runs a command that must succeed.
#[track_caller]
fn run_ok(cmd: &mut Command, what: &str) -> Output {
    let out = run(cmd, what);
    assert!(out.success(), "{what} failed:\n{}", out.describe());
    out
}

/// Writes an OCI image layout with `tests/fixtures/make_oci_layout.py`; returns the digest of
/// its top manifest (or index), tagged `v1`.
fn make_layout(dir: &Path, multiarch: bool) -> String {
    let mut cmd = Command::new("python3");
    cmd.arg(workspace_root().join("tests/fixtures/make_oci_layout.py"))
        .arg(dir)
        .args(["--layer-size", "150000"]);
    if multiarch {
        cmd.arg("--multiarch");
    }
    let out = run_ok(&mut cmd, "make_oci_layout.py");
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
    let manifests = index["manifests"].as_array().expect("manifests");
    let entry = manifests
        .iter()
        .find(|m| m["annotations"]["org.opencontainers.image.ref.name"] == "v1")
        .unwrap_or_else(|| panic!("no v1 in {index}"));
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
        "the copied-out layout has other blobs than the source"
    );
    for (name, data) in &b {
        assert_eq!(
            digest_of(data),
            format!("sha256:{name}"),
            "blob {name} of {} does not hash to its name",
            out.display()
        );
        assert!(a[name] == *data, "blob {name} differs");
    }
}

/// skopeo with an isolated home, `--insecure-policy` (no system policy file needed) and
/// credentials given per command.
struct Skopeo {
    bin: PathBuf,
    home: tempfile::TempDir,
    host: String,
    creds: String,
}

impl Skopeo {
    fn new(server: &Server) -> Skopeo {
        Skopeo {
            bin: skopeo_bin(),
            home: tempfile::tempdir().expect("tempdir"),
            host: server.addr().to_string(),
            creds: format!("$oauthtoken:{}", server.key()),
        }
    }

    fn cmd(&self) -> Command {
        let mut c = Command::new(&self.bin);
        c.env("HOME", self.home.path())
            .env("XDG_RUNTIME_DIR", self.home.path())
            .env("REGISTRY_AUTH_FILE", self.home.path().join("auth.json"))
            .arg("--insecure-policy");
        c
    }

    /// `docker://<host>/<reference>`.
    fn docker(&self, reference: &str) -> String {
        format!("docker://{}/{reference}", self.host)
    }

    /// `skopeo copy` from an OCI layout into the registry.
    fn copy_in(&self, layout: &Path, dest: &str, all: bool) {
        let mut c = self.cmd();
        c.arg("copy").arg("--preserve-digests");
        if all {
            c.arg("--all");
        }
        c.args(["--dest-tls-verify=false", "--dest-creds", &self.creds])
            .arg(format!("oci:{}:v1", layout.display()))
            .arg(self.docker(dest));
        run_ok(&mut c, &format!("skopeo copy into {dest}"));
    }

    /// `skopeo copy` from the registry into an OCI layout.
    fn copy_out(&self, src: &str, layout: &Path, all: bool) {
        let mut c = self.cmd();
        c.arg("copy").arg("--preserve-digests");
        if all {
            c.arg("--all");
        }
        c.args(["--src-tls-verify=false", "--src-creds", &self.creds])
            .arg(self.docker(src))
            .arg(format!("oci:{}:v1", layout.display()));
        run_ok(&mut c, &format!("skopeo copy out of {src}"));
    }

    /// `skopeo inspect --raw`: the manifest bytes, or the failed output.
    fn inspect_raw(&self, reference: &str) -> Result<Vec<u8>, Output> {
        let mut c = self.cmd();
        c.args([
            "inspect",
            "--raw",
            "--tls-verify=false",
            "--creds",
            &self.creds,
        ])
        .arg(self.docker(reference));
        let out = run(&mut c, &format!("skopeo inspect --raw {reference}"));
        if out.success() {
            Ok(out.stdout)
        } else {
            Err(out)
        }
    }

    #[track_caller]
    fn raw_ok(&self, reference: &str) -> Vec<u8> {
        self.inspect_raw(reference).unwrap_or_else(|out| {
            panic!(
                "skopeo inspect --raw {reference} failed:\n{}",
                out.describe()
            )
        })
    }

    /// `skopeo inspect` (the parsed summary), with extra global options.
    fn inspect(&self, global: &[&str], reference: &str) -> Value {
        let mut c = self.cmd();
        c.args(global)
            .args(["inspect", "--tls-verify=false", "--creds", &self.creds])
            .arg(self.docker(reference));
        let out = run_ok(&mut c, &format!("skopeo inspect {reference}"));
        serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("skopeo inspect is not JSON ({e}):\n{}", out.describe()))
    }

    fn list_tags(&self, repo: &str) -> Vec<String> {
        let mut c = self.cmd();
        c.args(["list-tags", "--tls-verify=false", "--creds", &self.creds])
            .arg(self.docker(repo));
        let out = run_ok(&mut c, &format!("skopeo list-tags {repo}"));
        let v: Value = serde_json::from_slice(&out.stdout).expect("list-tags JSON");
        v["Tags"]
            .as_array()
            .unwrap_or_else(|| panic!("no Tags: {v}"))
            .iter()
            .map(|t| t.as_str().expect("tag").to_string())
            .collect()
    }

    fn delete(&self, reference: &str) {
        let mut c = self.cmd();
        c.args(["delete", "--tls-verify=false", "--creds", &self.creds])
            .arg(self.docker(reference));
        run_ok(&mut c, &format!("skopeo delete {reference}"));
    }

    /// Asserts that `reference` can no longer be inspected, for lack of the manifest.
    #[track_caller]
    fn assert_gone(&self, reference: &str) {
        match self.inspect_raw(reference) {
            Ok(raw) => panic!(
                "{reference} is still there after the delete: {}",
                String::from_utf8_lossy(&raw)
            ),
            Err(out) => assert!(
                out.stderr_text()
                    .to_lowercase()
                    .contains("manifest unknown"),
                "{reference} failed for another reason than an unknown manifest:\n{}",
                out.describe()
            ),
        }
    }
}

async fn start() -> Server {
    Server::builder()
        .start()
        .await
        .unwrap_or_else(|e| panic!("start arca-server: {e:#}"))
}

/// A manifest as the registry serves it to the owner (asserting 200).
async fn registry_get(server: &Server, path: &str, accept: &str) -> (String, Vec<u8>) {
    let res = reqwest::Client::new()
        .get(server.url(path))
        .bearer_auth(server.key())
        .header("Accept", accept)
        .timeout(REQUEST_TIMEOUT)
        .send()
        .await
        .unwrap_or_else(|e| panic!("GET {path}: {e:?}"));
    let status = res.status();
    let content_type = res
        .headers()
        .get("Content-Type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    let body = res.bytes().await.expect("body").to_vec();
    assert_eq!(
        status.as_u16(),
        200,
        "GET {path}: {}",
        String::from_utf8_lossy(&body)
    );
    (content_type, body)
}

// =============================================================================================
// skopeo
// =============================================================================================

/// skopeo copies an OCI image (uncompressed layers, `--preserve-digests`) into `demo/app:v1`
/// with `--dest-creds '$oauthtoken:<key>'`; `inspect --raw` gives the source's manifest
/// bytes; `list-tags` and `inspect` agree; a registry-to-registry copy (cross-repository
/// mount) keeps the digest; copying back out to an OCI layout gives the same blobs; `delete`
/// by digest removes the image and leaves the copy.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn skopeo_copies_an_oci_image_in_and_out_and_deletes_it() {
    let server = start().await;
    let skopeo = Skopeo::new(&server);
    let work = tempfile::tempdir().expect("tempdir");
    let src = work.path().join("src");
    let top = make_layout(&src, false);
    let source_manifest = layout_blobs(&src)[top.trim_start_matches("sha256:")].clone();

    skopeo.copy_in(&src, "demo/app:v1", false);
    let raw = skopeo.raw_ok("demo/app:v1");
    assert_eq!(
        digest_of(&raw),
        top,
        "inspect --raw digest differs from the source's"
    );
    assert!(
        raw == source_manifest,
        "the manifest bytes changed on the way"
    );
    let by_digest = skopeo.raw_ok(&format!("demo/app@{top}"));
    assert!(by_digest == raw, "by digest and by tag differ");
    let summary = skopeo.inspect(&[], "demo/app:v1");
    assert_eq!(summary["Digest"], top.as_str(), "{summary}");
    assert_eq!(summary["Architecture"], "amd64", "{summary}");
    assert_eq!(skopeo.list_tags("demo/app"), ["v1"]);
    let (content_type, served) = registry_get(
        &server,
        "/v2/demo/app/manifests/v1",
        "application/vnd.oci.image.manifest.v1+json",
    )
    .await;
    assert_eq!(content_type, "application/vnd.oci.image.manifest.v1+json");
    assert!(served == source_manifest, "the registry serves other bytes");

    // Registry to registry (skopeo mounts the layers from demo/app).
    let mut c = skopeo.cmd();
    c.args([
        "copy",
        "--preserve-digests",
        "--src-tls-verify=false",
        "--dest-tls-verify=false",
    ])
    .args(["--src-creds", &skopeo.creds, "--dest-creds", &skopeo.creds])
    .arg(skopeo.docker("demo/app:v1"))
    .arg(skopeo.docker("demo/copy:v1"));
    run_ok(&mut c, "skopeo copy demo/app:v1 -> demo/copy:v1");
    assert_eq!(digest_of(&skopeo.raw_ok("demo/copy:v1")), top);

    let out = work.path().join("out");
    skopeo.copy_out("demo/app:v1", &out, false);
    assert_eq!(
        layout_top(&out),
        top,
        "the copied-out image has another digest"
    );
    assert_same_blobs(&src, &out);

    skopeo.delete(&format!("demo/app@{top}"));
    skopeo.assert_gone("demo/app:v1");
    skopeo.assert_gone(&format!("demo/app@{top}"));
    assert_eq!(
        digest_of(&skopeo.raw_ok("demo/copy:v1")),
        top,
        "the copy went too"
    );
}

/// skopeo copies a multi-arch OCI index (`--all --preserve-digests`) in; `inspect --raw`
/// gives the index's digest, each platform's manifest is there under its own digest, and
/// platform selection (`--override-arch arm64`) resolves to the arm64 image's layers; `--all` back
/// out gives the same index and blobs; `delete` of the index removes the tag.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn skopeo_copies_a_multiarch_index_in_and_out_and_deletes_it() {
    let server = start().await;
    let skopeo = Skopeo::new(&server);
    let work = tempfile::tempdir().expect("tempdir");
    let src = work.path().join("src");
    let top = make_layout(&src, true);

    skopeo.copy_in(&src, "demo/multi:v1", true);
    let raw = skopeo.raw_ok("demo/multi:v1");
    assert_eq!(
        digest_of(&raw),
        top,
        "the index digest differs from the source's"
    );
    let index: Value = serde_json::from_slice(&raw).expect("index JSON");
    assert_eq!(
        index["mediaType"],
        "application/vnd.oci.image.index.v1+json"
    );
    let children = index["manifests"].as_array().expect("manifests");
    assert_eq!(children.len(), 2, "{index}");
    let mut arm64_layers = None;
    for child in children {
        let d = child["digest"].as_str().expect("digest");
        let child_raw = skopeo.raw_ok(&format!("demo/multi@{d}"));
        assert_eq!(digest_of(&child_raw), d, "platform manifest {d}");
        if child["platform"]["architecture"] == "arm64" {
            let m: Value = serde_json::from_slice(&child_raw).expect("manifest JSON");
            let layers: Vec<Value> = m["layers"]
                .as_array()
                .expect("layers")
                .iter()
                .map(|l| l["digest"].clone())
                .collect();
            arm64_layers = Some(Value::Array(layers));
        }
    }
    let arm64_layers = arm64_layers.unwrap_or_else(|| panic!("no arm64 entry in {index}"));
    // skopeo picks the arm64 image out of the index.
    let summary = skopeo.inspect(
        &[
            "--override-os",
            "linux",
            "--override-arch",
            "arm64",
            "--override-variant",
            "v8",
        ],
        "demo/multi:v1",
    );
    assert_eq!(summary["Architecture"], "arm64", "{summary}");
    assert_eq!(summary["Layers"], arm64_layers, "{summary}");

    let out = work.path().join("out");
    skopeo.copy_out("demo/multi:v1", &out, true);
    assert_eq!(layout_top(&out), top);
    assert_same_blobs(&src, &out);

    skopeo.delete(&format!("demo/multi@{top}"));
    skopeo.assert_gone("demo/multi:v1");
}

// =============================================================================================
// oras-py
// =============================================================================================

/// oras-py (from `.venv`, `insecure=True` for plain HTTP, Basic `$oauthtoken:<key>` to the
/// token service) pushes two files as an artifact — once with monolithic uploads, once in
/// 64 KiB chunks — and pulls them back byte-identical; the registry holds the layers under
/// the files' digests with their titles.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oras_pushes_and_pulls_an_artifact() {
    let python = oras_python();
    let server = start().await;
    let work = tempfile::tempdir().expect("tempdir");
    let files: [(&str, Vec<u8>); 2] = [
        ("model.bin", bytes("oras-model", 300_000)),
        ("meta.json", br#"{"framework":"none","epochs":3}"#.to_vec()),
    ];
    for (name, data) in &files {
        std::fs::write(work.path().join(name), data).expect("write file");
    }
    let pulled_dir = work.path().join("pulled");
    let home = work.path().join("home");
    std::fs::create_dir_all(&home).expect("home");

    let mut cmd = Command::new(&python);
    cmd.arg(workspace_root().join("tests/oras/push_pull.py"))
        .arg(server.addr().to_string())
        .arg("demo/artifact")
        .arg(&pulled_dir)
        .args(files.iter().map(|(name, _)| *name))
        .current_dir(work.path())
        .env("ARCA_KEY", server.key())
        .env("HOME", &home)
        .env("DOCKER_CONFIG", home.join(".docker"));
    let out = run_ok(&mut cmd, "oras-py push/pull");
    let report: Value = serde_json::from_str(out.stdout_text().lines().last().unwrap_or_default())
        .unwrap_or_else(|e| {
            panic!(
                "the script's last line is not JSON ({e}):\n{}",
                out.describe()
            )
        });

    for (mode, repo) in [
        ("monolithic", "demo/artifact"),
        ("chunked", "demo/artifact-chunked"),
    ] {
        let manifest = &report["manifests"][mode];
        let layers = manifest["layers"]
            .as_array()
            .unwrap_or_else(|| panic!("{mode}: no layers in {manifest}"));
        assert_eq!(layers.len(), files.len(), "{mode}: {manifest}");
        for (name, data) in &files {
            let layer = layers
                .iter()
                .find(|l| l["annotations"]["org.opencontainers.image.title"] == *name)
                .unwrap_or_else(|| panic!("{mode}: no layer titled {name} in {manifest}"));
            assert_eq!(layer["digest"], digest_of(data).as_str(), "{mode} {name}");
            assert_eq!(
                layer["size"].as_u64(),
                Some(data.len() as u64),
                "{mode} {name}"
            );

            let pulled = pulled_dir.join(mode).join(name);
            let got = std::fs::read(&pulled)
                .unwrap_or_else(|e| panic!("{mode}: {} was not pulled: {e}", pulled.display()));
            assert!(
                got == *data,
                "{mode}: the pulled {name} differs from the pushed one"
            );

            // The registry itself holds the bytes under that digest.
            let (_, blob) = registry_get(
                &server,
                &format!("/v2/{repo}/blobs/{}", digest_of(data)),
                "*/*",
            )
            .await;
            assert!(blob == *data, "{repo}: the stored {name} differs");
        }
        let (content_type, raw) = registry_get(
            &server,
            &format!("/v2/{repo}/manifests/v1"),
            "application/vnd.oci.image.manifest.v1+json",
        )
        .await;
        assert_eq!(content_type, "application/vnd.oci.image.manifest.v1+json");
        let served: Value = serde_json::from_slice(&raw).expect("manifest JSON");
        assert_eq!(&served, manifest, "{repo}: oras-py read another manifest");
        assert_eq!(served["annotations"]["org.example.mode"], mode);
    }
}

// =============================================================================================
// helm
// =============================================================================================

/// helm (`.ci-tmp/bin/helm`): `helm create` + `helm package`, `helm registry login` with
/// `$oauthtoken` and the key, `helm push … oci://<host>/demo --plain-http`, and `helm pull
/// oci://<host>/demo/demo-chart --version 0.1.0 --plain-http` gives the same `.tgz`, byte for
/// byte; the registry holds it as a Helm chart layer.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn helm_pushes_and_pulls_a_chart() {
    let helm = helm_bin();
    let server = start().await;
    let work = tempfile::tempdir().expect("tempdir");
    let root = work.path();
    let host = server.addr().to_string();
    let helm_cmd = || {
        let mut c = Command::new(&helm);
        c.current_dir(root)
            .env("HOME", root.join("home"))
            .env("HELM_REGISTRY_CONFIG", root.join("registry/config.json"))
            .env("HELM_CACHE_HOME", root.join("cache"))
            .env("HELM_CONFIG_HOME", root.join("config"))
            .env("HELM_DATA_HOME", root.join("data"))
            .env(
                "HELM_REPOSITORY_CONFIG",
                root.join("config/repositories.yaml"),
            )
            .env("HELM_REPOSITORY_CACHE", root.join("cache/repository"))
            .env_remove("KUBECONFIG")
            .env_remove("HELM_DEBUG");
        c
    };

    run_ok(helm_cmd().args(["create", "demo-chart"]), "helm create");
    run_ok(helm_cmd().args(["package", "demo-chart"]), "helm package");
    let tgz = root.join("demo-chart-0.1.0.tgz");
    let chart = std::fs::read(&tgz).unwrap_or_else(|e| panic!("{}: {e}", tgz.display()));

    run_ok(
        helm_cmd()
            .args([
                "registry",
                "login",
                &host,
                "--username",
                "$oauthtoken",
                "--password",
            ])
            .arg(server.key())
            .arg("--insecure"),
        "helm registry login",
    );
    let pushed = run_ok(
        helm_cmd()
            .arg("push")
            .arg(&tgz)
            .arg(format!("oci://{host}/demo"))
            .arg("--plain-http"),
        "helm push",
    );
    let pushed_text = format!("{}{}", pushed.stdout_text(), pushed.stderr_text());
    assert!(
        pushed_text.contains(&format!("{host}/demo/demo-chart:0.1.0")),
        "{}",
        pushed.describe()
    );

    // What the registry holds: a Helm manifest whose chart layer is the .tgz.
    let (content_type, raw) = registry_get(
        &server,
        "/v2/demo/demo-chart/manifests/0.1.0",
        "application/vnd.oci.image.manifest.v1+json",
    )
    .await;
    assert_eq!(content_type, "application/vnd.oci.image.manifest.v1+json");
    let manifest: Value = serde_json::from_slice(&raw).expect("manifest JSON");
    assert_eq!(
        manifest["config"]["mediaType"], "application/vnd.cncf.helm.config.v1+json",
        "{manifest}"
    );
    let layer = manifest["layers"]
        .as_array()
        .and_then(|l| {
            l.iter()
                .find(|l| l["mediaType"] == "application/vnd.cncf.helm.chart.content.v1.tar+gzip")
        })
        .unwrap_or_else(|| panic!("no chart layer in {manifest}"));
    assert_eq!(layer["digest"], digest_of(&chart).as_str(), "{manifest}");
    let manifest_digest = digest_of(&raw);
    assert!(
        pushed_text.contains(&manifest_digest),
        "helm push reported another digest than {manifest_digest}:\n{}",
        pushed.describe()
    );

    let dest = root.join("pulled");
    std::fs::create_dir_all(&dest).expect("pulled dir");
    run_ok(
        helm_cmd()
            .arg("pull")
            .arg(format!("oci://{host}/demo/demo-chart"))
            .args(["--version", "0.1.0", "--plain-http", "-d"])
            .arg(&dest),
        "helm pull",
    );
    let pulled_path = dest.join("demo-chart-0.1.0.tgz");
    let pulled =
        std::fs::read(&pulled_path).unwrap_or_else(|e| panic!("{}: {e}", pulled_path.display()));
    assert!(
        pulled == chart,
        "the pulled chart differs from the pushed one"
    );
}

/// R-OCI-5: a repository an admin marks public is pulled by skopeo without any credential
/// (anonymous token from the token service); before that, and for pushes, anonymous callers
/// are refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn skopeo_pulls_a_public_repository_anonymously() {
    let server = start().await;
    let skopeo = Skopeo::new(&server);
    let work = tempfile::tempdir().expect("tempdir");
    let src = work.path().join("src");
    let top = make_layout(&src, false);
    skopeo.copy_in(&src, "demo/open:v1", false);

    let anonymous_inspect = || {
        let mut c = skopeo.cmd();
        c.args(["inspect", "--raw", "--tls-verify=false", "--no-creds"])
            .arg(skopeo.docker("demo/open:v1"));
        run(&mut c, "anonymous skopeo inspect")
    };
    let before = anonymous_inspect();
    assert!(
        !before.success(),
        "a private repository must not be readable anonymously"
    );

    let resp = server
        .http()
        .patch(server.url("/v2/org/demo/repos/open"))
        .bearer_auth(server.key())
        .json(&serde_json::json!({"isPublic": true}))
        .timeout(REQUEST_TIMEOUT)
        .send()
        .await
        .expect("mark public");
    assert_eq!(resp.status(), 200, "{:?}", resp.text().await);

    let after = anonymous_inspect();
    assert!(after.success(), "public pull failed:\n{}", after.describe());
    assert_eq!(digest_of(after.stdout_text().as_bytes()), top);

    let out = work.path().join("anon-out");
    let mut c = skopeo.cmd();
    c.args([
        "copy",
        "--preserve-digests",
        "--src-tls-verify=false",
        "--src-no-creds",
    ])
    .arg(skopeo.docker("demo/open:v1"))
    .arg(format!("oci:{}:v1", out.display()));
    run_ok(&mut c, "anonymous skopeo copy out");
    assert_eq!(layout_top(&out), top);
    assert_same_blobs(&src, &out);

    let mut c = skopeo.cmd();
    c.args(["copy", "--dest-tls-verify=false", "--dest-no-creds"])
        .arg(format!("oci:{}:v1", src.display()))
        .arg(skopeo.docker("demo/open:v2"));
    let push = run(&mut c, "anonymous skopeo push");
    assert!(!push.success(), "an anonymous push must be refused");
    let tags = server
        .http()
        .get(server.url("/v2/demo/open/tags/list"))
        .bearer_auth(server.key())
        .timeout(REQUEST_TIMEOUT)
        .send()
        .await
        .expect("tags")
        .json::<Value>()
        .await
        .expect("json");
    assert_eq!(
        tags["tags"],
        serde_json::json!(["v1"]),
        "nothing was pushed"
    );
}

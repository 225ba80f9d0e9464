//! Arca's own CLI moves models and resources (issue "models and resources"): create, an upload
//! of a nested directory with a file larger than one 500,000,000-byte part that is killed
//! (SIGKILL) after its first part and resumed by rerunning the same command — the rerun sends
//! only the missing part —, info with files, version list, full and filtered downloads that
//! match byte for byte; the same round trip for a resource with an automatic version id.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, Instant};

use arca_tests::process::{signal, wait_blocking};
use arca_tests::{Cli, Server};
use serde_json::Value;
use sha2::{Digest, Sha256};

const BIG: u64 = 600_000_000;

fn digest_tree(root: &Path) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(&dir).expect("read dir") {
            let p = e.expect("entry").path();
            if p.is_dir() {
                stack.push(p);
            } else {
                let mut h = Sha256::new();
                let mut f = std::fs::File::open(&p).expect("open");
                std::io::copy(&mut f, &mut h).expect("hash");
                let rel = p
                    .strip_prefix(root)
                    .expect("inside")
                    .to_string_lossy()
                    .to_string();
                out.insert(rel, hex::encode(h.finalize()));
            }
        }
    }
    out
}

fn write_tree(root: &Path) {
    std::fs::create_dir_all(root.join("sub/deeper")).expect("mkdir");
    std::fs::write(root.join("README.md"), b"# cli model\n").expect("write");
    std::fs::write(root.join("empty.txt"), b"").expect("write");
    std::fs::write(root.join("sub/config.json"), b"{\"a\":1}\n").expect("write");
    let noise: Vec<u8> = (0..2_000_003u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    std::fs::write(root.join("sub/deeper/weights.bin"), noise).expect("write");
    // A sparse large file with distinct bytes on both sides of the part boundary.
    let f = std::fs::File::create(root.join("big.bin")).expect("create");
    f.set_len(BIG).expect("size");
    use std::os::unix::fs::FileExt;
    f.write_all_at(b"head", 0).expect("write");
    f.write_all_at(b"boundary", 499_999_996).expect("write");
    f.write_all_at(b"tail", BIG - 4).expect("write");
}

fn json_of(out: &arca_tests::process::Output) -> Value {
    serde_json::from_str(&out.stdout_text())
        .unwrap_or_else(|e| panic!("not JSON ({e}):\n{}", out.describe()))
}

/// Waits until the upload journal under the CLI's config dir records part 1 of big.bin.
fn wait_for_first_part(config_dir: &Path, limit: Duration) -> bool {
    let dir = config_dir.join("arca/transfers");
    let started = Instant::now();
    while started.elapsed() < limit {
        if let Ok(rd) = std::fs::read_dir(&dir) {
            for e in rd.flatten() {
                let Ok(text) = std::fs::read_to_string(e.path()) else {
                    continue;
                };
                let Ok(j) = serde_json::from_str::<Value>(&text) else {
                    continue;
                };
                let done = &j["files"]["big.bin"]["done_parts"];
                if done.as_array().is_some_and(|d| d.iter().any(|n| n == 1)) {
                    return true;
                }
            }
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    false
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cli_uploads_resumes_after_kill_and_downloads() {
    let server = Server::start().await.expect("start server");
    let cli = Cli::new()
        .expect("cli")
        .for_server(&server)
        .env("ARCA_ORG", "demo")
        .timeout(Duration::from_secs(300));
    let work = tempfile::tempdir().expect("tempdir");
    let src = work.path().join("src");
    write_tree(&src);
    let want = digest_tree(&src);

    let out = cli
        .run([
            "registry",
            "model",
            "create",
            "demo/cli-model",
            "--application",
            "OTHER",
            "--framework",
            "PyTorch",
            "--format",
            "onnx",
            "--precision",
            "FP16",
            "--short-desc",
            "made by the CLI",
            "--label",
            "vision",
        ])
        .expect("run");
    assert!(out.success(), "{}", out.describe());

    // First attempt: killed once the large file's first part is recorded.
    let src_arg = src.to_string_lossy().to_string();
    let upload = [
        "--format_type",
        "json",
        "registry",
        "model",
        "upload-version",
        "demo/cli-model:1.0",
        "--source",
        &src_arg,
        "--gpu-model",
        "A100",
        "--desc",
        "first",
    ];
    let mut cmd = cli.command().expect("command");
    cmd.args(upload)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null());
    let mut child = cmd.spawn().expect("spawn arca");
    let recorded = wait_for_first_part(cli.config_dir(), Duration::from_secs(240));
    signal(child.id(), libc::SIGKILL).expect("kill");
    let _ = wait_blocking(&mut child, Duration::from_secs(30));
    assert!(
        recorded,
        "the first part of big.bin was never recorded in the journal"
    );

    // The half-uploaded version is invisible to readers but pending for the uploader.
    let info = cli
        .run([
            "--format_type",
            "json",
            "registry",
            "model",
            "info",
            "demo/cli-model:1.0",
        ])
        .expect("run");
    assert!(info.success(), "{}", info.describe());
    assert_eq!(
        json_of(&info)["Status"],
        "UPLOAD_PENDING",
        "{}",
        info.describe()
    );

    // Rerun: only the missing part travels.
    let out = cli.run(upload).expect("run");
    assert!(out.success(), "{}", out.describe());
    let report = json_of(&out);
    assert_eq!(report["Total files uploaded"], 5, "{report}");
    assert_eq!(
        report["Bytes sent in this run"],
        BIG - 500_000_000,
        "the rerun must send only big.bin's second part: {report}"
    );

    let info = cli
        .run([
            "--format_type",
            "json",
            "registry",
            "model",
            "info",
            "demo/cli-model:1.0",
            "--files",
        ])
        .expect("run");
    assert!(info.success(), "{}", info.describe());
    let text = info.stdout_text();
    assert!(text.contains("UPLOAD_COMPLETE"), "{text}");
    assert!(text.contains("sub/deeper/weights.bin"), "{text}");

    let list = cli
        .run([
            "--format_type",
            "json",
            "registry",
            "model",
            "list",
            "demo/cli-model",
        ])
        .expect("run");
    assert!(list.success(), "{}", list.describe());
    assert!(
        list.stdout_text().contains("\"1.0\""),
        "{}",
        list.describe()
    );
    let search = cli
        .run([
            "--format_type",
            "json",
            "registry",
            "model",
            "list",
            "demo/cli-*",
        ])
        .expect("run");
    assert!(search.success(), "{}", search.describe());
    assert!(
        search.stdout_text().contains("cli-model"),
        "{}",
        search.describe()
    );

    // Full download, byte for byte.
    let dest = work.path().join("dl");
    let dest_arg = dest.to_string_lossy().to_string();
    let out = cli
        .run([
            "registry",
            "model",
            "download-version",
            "demo/cli-model:1.0",
            "--dest",
            &dest_arg,
        ])
        .expect("run");
    assert!(out.success(), "{}", out.describe());
    assert_eq!(digest_tree(&dest.join("cli-model_v1.0")), want);

    // Filtered download (latest version): only sub/, minus the weights.
    let dest2 = work.path().join("dl2");
    let dest2_arg = dest2.to_string_lossy().to_string();
    let out = cli
        .run([
            "registry",
            "model",
            "download-version",
            "demo/cli-model",
            "--dest",
            &dest2_arg,
            "--file",
            "sub/*",
            "--exclude",
            "*.bin",
        ])
        .expect("run");
    assert!(out.success(), "{}", out.describe());
    let got = digest_tree(&dest2.join("cli-model_v1.0"));
    assert_eq!(got.keys().collect::<Vec<_>>(), ["sub/config.json"]);

    // A version from a base: inherits big.bin without sending it, replaces README.md, adds a
    // file and leaves empty.txt out; the base is untouched.
    let delta = work.path().join("delta");
    std::fs::create_dir_all(&delta).expect("mkdir");
    std::fs::write(delta.join("README.md"), b"# v1.1\n").expect("write");
    std::fs::write(delta.join("extra.txt"), b"new in 1.1\n").expect("write");
    let delta_arg = delta.to_string_lossy().to_string();
    let out = cli
        .run([
            "--format_type",
            "json",
            "registry",
            "model",
            "upload-version",
            "demo/cli-model:1.1",
            "--source",
            &delta_arg,
            "--base-version",
            "1.0",
            "--remove-file",
            "empty.txt",
        ])
        .expect("run");
    assert!(out.success(), "{}", out.describe());
    assert_eq!(
        json_of(&out)["Bytes sent in this run"],
        7 + 11,
        "{}",
        out.describe()
    );
    let dest3 = work.path().join("dl3");
    let dest3_arg = dest3.to_string_lossy().to_string();
    let out = cli
        .run([
            "registry",
            "model",
            "download-version",
            "demo/cli-model:1.1",
            "--dest",
            &dest3_arg,
            "--exclude",
            "big.bin",
        ])
        .expect("run");
    assert!(out.success(), "{}", out.describe());
    let got = digest_tree(&dest3.join("cli-model_v1.1"));
    assert_eq!(
        got.keys().collect::<Vec<_>>(),
        [
            "README.md",
            "extra.txt",
            "sub/config.json",
            "sub/deeper/weights.bin"
        ]
    );
    assert_ne!(got["README.md"], want["README.md"]);
    // 5 files in 1.0: one removed, one replaced, one added.
    let info = cli
        .run([
            "--format_type",
            "json",
            "registry",
            "model",
            "info",
            "demo/cli-model:1.1",
        ])
        .expect("run");
    assert_eq!(json_of(&info)["Files"], 5, "{}", info.describe());
    let base = cli
        .run([
            "--format_type",
            "csv",
            "registry",
            "model",
            "info",
            "demo/cli-model:1.0",
            "--files",
        ])
        .expect("run");
    let text = base.stdout_text();
    assert!(
        text.contains("empty.txt") && !text.contains("extra.txt"),
        "the base is untouched: {}",
        base.describe()
    );

    // A resource, with the next version picked automatically.
    let out = cli
        .run([
            "registry",
            "resource",
            "create",
            "demo/cli-resource",
            "--application",
            "OTHER",
            "--framework",
            "Other",
            "--format",
            "scripts",
            "--precision",
            "OTHER",
            "--short-desc",
            "scripts",
        ])
        .expect("run");
    assert!(out.success(), "{}", out.describe());
    let rsrc = work.path().join("rsrc");
    std::fs::create_dir_all(rsrc.join("bin")).expect("mkdir");
    std::fs::write(rsrc.join("train.py"), b"print('train')\n").expect("write");
    std::fs::write(rsrc.join("bin/run.sh"), b"#!/bin/sh\n").expect("write");
    let notes = work.path().join("notes.md");
    std::fs::write(&notes, b"# release notes\n").expect("write");
    let rsrc_arg = rsrc.to_string_lossy().to_string();
    let notes_arg = notes.to_string_lossy().to_string();
    let out = cli
        .run([
            "--format_type",
            "json",
            "registry",
            "resource",
            "upload-version",
            "demo/cli-resource",
            "--source",
            &rsrc_arg,
            "--release-notes-filename",
            &notes_arg,
        ])
        .expect("run");
    assert!(out.success(), "{}", out.describe());
    assert_eq!(json_of(&out)["Transfer id"], "demo/cli-resource:1");
    let rdest = work.path().join("rdl");
    let rdest_arg = rdest.to_string_lossy().to_string();
    let out = cli
        .run([
            "registry",
            "resource",
            "download-version",
            "demo/cli-resource:1",
            "--dest",
            &rdest_arg,
        ])
        .expect("run");
    assert!(out.success(), "{}", out.describe());
    assert_eq!(
        digest_tree(&rdest.join("cli-resource_v1")),
        digest_tree(&rsrc)
    );

    // Removal asks for confirmation unless -y; then the version is gone.
    let out = cli
        .run([
            "registry",
            "resource",
            "remove",
            "demo/cli-resource:1",
            "-y",
        ])
        .expect("run");
    assert!(out.success(), "{}", out.describe());
    let out = cli
        .run(["registry", "resource", "info", "demo/cli-resource:1"])
        .expect("run");
    assert!(!out.success(), "{}", out.describe());
}

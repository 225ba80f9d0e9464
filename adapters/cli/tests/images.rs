//! `arca registry image …` against tiny HTTP servers: request shapes of the REST commands, and
//! the OCI request sequences of push (HEAD → POST → PUT) and pull (GET manifest → GET blobs).

mod support;

use std::fs;
use std::path::Path;

use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use support::*;

fn digest(bytes: &[u8]) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(bytes)))
}

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[test]
fn list_without_target_lists_the_team_repositories() {
    let dir = tempfile::tempdir().unwrap();
    let body = json!({"repositories": [{"name": "det", "namespace": "acme/vision",
        "displayName": "Detector", "shortDescription": "finds things", "isPublic": false,
        "latestTag": "1.0", "latestImageSize": 1234, "updatedDate": "2025-01-01T00:00:00Z"}],
        "paginationInfo": {"index": 0, "size": 500, "totalResults": 1, "totalPages": 1}});
    let server = Server::start(vec![("200 OK", body)]);
    let out = run(arca(dir.path(), &server.url).args([
        "registry",
        "image",
        "list",
        "--org",
        "acme",
        "--team",
        "vision",
        "--format_type",
        "json",
    ]));
    assert_success(&out);
    let seen = server.next();
    assert_eq!(seen.route(), "GET /v2/org/acme/team/vision/repos");
    assert_eq!(
        seen.query(),
        pairs(&[("page-size", "500"), ("page-number", "0")])
    );
    seen.assert_cli_headers(Some("acme"));
    let rows = json_out(&out);
    assert_eq!(rows[0]["repository"], "acme/vision/det");
    assert_eq!(rows[0]["latest_tag"], "1.0");
    assert_eq!(rows[0]["image_size"], 1234);
}

#[test]
fn list_with_a_glob_filters_tags() {
    let dir = tempfile::tempdir().unwrap();
    let body = json!({"images": [
        {"tag": "1.0", "digest": "sha256:aa", "size": 10, "architectureVariants": []},
        {"tag": "1.1", "digest": "sha256:bb", "size": 11, "architectureVariants": [
            {"architecture": "arm64", "os": "linux", "variant": "v8", "digest": "sha256:cc",
             "compressedSize": 5}]},
        {"tag": "2.0", "digest": "sha256:dd", "size": 12}]});
    let server = Server::start(vec![("200 OK", body)]);
    let out = run(arca(dir.path(), &server.url).args([
        "registry",
        "image",
        "list",
        "acme/det:1.*",
        "--format_type",
        "json",
    ]));
    assert_success(&out);
    assert_eq!(server.next().route(), "GET /v2/org/acme/repos/det/images");
    let rows = json_out(&out);
    let tags: Vec<&str> = rows
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["tag"].as_str().unwrap())
        .collect();
    assert_eq!(tags, ["1.0", "1.1"]);
    assert_eq!(rows[1]["platforms"], json!(["linux/arm64/v8"]));
}

#[test]
fn info_shows_a_repository_or_an_image_with_its_platforms() {
    let dir = tempfile::tempdir().unwrap();
    let repo = json!({"name": "det", "namespace": "acme", "labels": ["vision"], "tags": ["1.0"],
                      "isMultiArchitecture": true});
    let image = json!({"tag": "1.0", "digest": "sha256:aa", "mediaType": "application/vnd.oci.image.index.v1+json",
        "size": 99, "architectureVariants": [
            {"architecture": "amd64", "os": "linux", "digest": "sha256:bb", "compressedSize": 40},
            {"architecture": "arm64", "os": "linux", "variant": "v8", "digest": "sha256:cc", "compressedSize": 59}]});
    let server = Server::start(vec![
        ("200 OK", repo),
        ("200 OK", image.clone()),
        ("200 OK", image),
    ]);
    let out = run(arca(dir.path(), &server.url).args([
        "registry",
        "image",
        "info",
        "acme/det",
        "--format_type",
        "json",
    ]));
    assert_success(&out);
    assert_eq!(server.next().route(), "GET /v2/org/acme/repos/det");
    assert_eq!(json_out(&out)["labels"], json!(["vision"]));

    let out = run(arca(dir.path(), &server.url).args([
        "registry",
        "image",
        "info",
        "acme/vision/det:1.0",
        "--format_type",
        "json",
    ]));
    assert_success(&out);
    assert_eq!(
        server.next().route(),
        "GET /v2/org/acme/team/vision/repos/det/images/1.0"
    );
    let v = json_out(&out);
    assert_eq!(v["architecture_variants"][1]["variant"], "v8");
    assert_eq!(v["architecture_variants"][0]["compressed_size"], 40);

    let out =
        run(arca(dir.path(), &server.url).args(["registry", "image", "info", "acme/det:1.0"]));
    assert_success(&out);
    server.next();
    let text = stdout(&out);
    assert!(
        text.contains("compressed_size") && text.contains("arm64"),
        "{text}"
    );
}

#[test]
fn update_sends_only_the_given_fields() {
    let dir = tempfile::tempdir().unwrap();
    let overview = dir.path().join("overview.md");
    fs::write(&overview, "# Detector\n").unwrap();
    let server = Server::start(vec![(
        "200 OK",
        json!({"repository": {"name": "det", "shortDescription": "new"}}),
    )]);
    let out = run(arca(dir.path(), &server.url).args([
        "registry",
        "image",
        "update",
        "acme/vision/det",
        "--desc",
        "new",
        "--overview",
        overview.to_str().unwrap(),
        "--label",
        "a",
        "--label",
        "b",
        "--public",
        "true",
        "--built-by",
        "ci",
    ]));
    assert_success(&out);
    let seen = server.next();
    assert_eq!(seen.route(), "PATCH /v2/org/acme/team/vision/repos/det");
    assert_eq!(
        seen.json(),
        json!({"shortDescription": "new", "description": "# Detector\n", "labels": ["a", "b"],
               "builtBy": "ci", "isPublic": true})
    );
    assert!(
        stdout(&out).starts_with("Repository updated."),
        "{}",
        stdout(&out)
    );

    let out = run(arca(dir.path(), &server.url).args(["registry", "image", "update", "acme/det"]));
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("nothing to update"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn remove_confirms_then_deletes_a_tag_or_a_repository() {
    let dir = tempfile::tempdir().unwrap();
    let ok = json!({"requestStatus": {"statusCode": "SUCCESS"}});
    let server = Server::start(vec![
        ("200 OK", ok.clone()),
        ("200 OK", ok),
        (
            "404 Not Found",
            error_body("NOT_FOUND", "repository acme/nope not found"),
        ),
    ]);
    let out =
        run(arca(dir.path(), &server.url).args(["registry", "image", "remove", "acme/det:1.0"]));
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("-y"), "{}", stderr(&out));
    server.assert_idle();

    let out = run(arca(dir.path(), &server.url).args([
        "registry",
        "image",
        "remove",
        "acme/det:1.0",
        "-y",
    ]));
    assert_success(&out);
    assert_eq!(
        server.next().route(),
        "DELETE /v2/org/acme/repos/det/images/1.0"
    );
    let out = run(arca(dir.path(), &server.url).args([
        "registry",
        "image",
        "remove",
        "acme/t/det",
        "-y",
    ]));
    assert_success(&out);
    assert_eq!(
        server.next().route(),
        "DELETE /v2/org/acme/team/t/repos/det"
    );
    let out =
        run(arca(dir.path(), &server.url).args(["registry", "image", "remove", "acme/nope", "-y"]));
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("not found"), "{}", stderr(&out));
}

#[test]
fn invalid_references_are_usage_errors() {
    let dir = tempfile::tempdir().unwrap();
    for bad in [
        &["info", "Acme/det"][..],
        &["push", ".", "acme/det"],
        &["pull", "acme/det", "x"],
    ] {
        let out = run(arca(dir.path(), &dead_url())
            .arg("registry")
            .arg("image")
            .args(bad));
        assert_eq!(out.status.code(), Some(1), "{bad:?}: {}", stderr(&out));
    }
}

const CONFIG: &[u8] = br#"{"architecture":"amd64","os":"linux","rootfs":{"type":"layers"}}"#;
const LAYER: &[u8] = b"pretend this is a gzipped tar layer";

fn manifest_bytes() -> Vec<u8> {
    serde_json::to_vec(&json!({
        "schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                   "digest": digest(CONFIG), "size": CONFIG.len()},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
                    "digest": digest(LAYER), "size": LAYER.len()}]}))
    .unwrap()
}

fn write_layout(root: &Path) -> String {
    let blobs = root.join("blobs/sha256");
    fs::create_dir_all(&blobs).unwrap();
    let manifest = manifest_bytes();
    for bytes in [CONFIG, LAYER, &manifest] {
        fs::write(blobs.join(&digest(bytes)[7..]), bytes).unwrap();
    }
    fs::write(root.join("oci-layout"), r#"{"imageLayoutVersion":"1.0.0"}"#).unwrap();
    let index = json!({"schemaVersion": 2, "manifests": [{
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "digest": digest(&manifest), "size": manifest.len(),
        "annotations": {"org.opencontainers.image.ref.name": "latest"}}]});
    fs::write(root.join("index.json"), index.to_string()).unwrap();
    digest(&manifest)
}

#[test]
fn push_of_an_oci_layout_skips_present_blobs_then_puts_the_manifest() {
    let dir = tempfile::tempdir().unwrap();
    let layout = dir.path().join("layout");
    let manifest_digest = write_layout(&layout);
    let server = RawServer::start(vec![
        Raw::new("200 OK", CONFIG.to_vec()),
        Raw::new(
            "404 Not Found",
            b"{\"errors\":[{\"code\":\"BLOB_UNKNOWN\",\"message\":\"x\"}]}".to_vec(),
        ),
        Raw::new("201 Created", Vec::new()).header("Docker-Content-Digest", digest(LAYER)),
        Raw::new("201 Created", Vec::new())
            .header("Docker-Content-Digest", manifest_digest.clone()),
    ]);
    let out = run(arca(dir.path(), &server.url).args([
        "registry",
        "image",
        "push",
        layout.to_str().unwrap(),
        "acme/vision/det:1.0",
        "--format_type",
        "json",
    ]));
    assert_success(&out);
    let head = server.next();
    assert_eq!(
        head.route(),
        format!("HEAD /v2/acme/vision/det/blobs/{}", digest(CONFIG))
    );
    assert_eq!(
        head.header("authorization"),
        Some(format!("Bearer {KEY}").as_str())
    );
    assert_eq!(
        server.next().route(),
        format!("HEAD /v2/acme/vision/det/blobs/{}", digest(LAYER))
    );
    let post = server.next();
    assert_eq!(post.route(), "POST /v2/acme/vision/det/blobs/uploads/");
    assert_eq!(post.query(), pairs(&[("digest", &digest(LAYER))]));
    assert_eq!(post.body, LAYER);
    let put = server.next();
    assert_eq!(put.route(), "PUT /v2/acme/vision/det/manifests/1.0");
    assert_eq!(
        put.header("content-type"),
        Some("application/vnd.oci.image.manifest.v1+json")
    );
    assert_eq!(put.body, manifest_bytes());
    server.assert_idle();
    let v = json_out(&out);
    assert_eq!(v["digest"], manifest_digest);
    assert_eq!(
        (v["blobs_uploaded"].as_u64(), v["blobs_skipped"].as_u64()),
        (Some(1), Some(1))
    );
}

fn blob_answer(bytes: &[u8]) -> Raw {
    Raw::new("200 OK", bytes.to_vec()).header("Docker-Content-Digest", digest(bytes))
}

#[test]
fn pull_writes_a_verified_oci_layout() {
    let dir = tempfile::tempdir().unwrap();
    let manifest = manifest_bytes();
    let server = RawServer::start(vec![
        blob_answer(&manifest).header("Content-Type", "application/vnd.oci.image.manifest.v1+json"),
        blob_answer(CONFIG),
        blob_answer(LAYER),
    ]);
    let dest = dir.path().join("out");
    let out = run(arca(dir.path(), &server.url).args([
        "registry",
        "image",
        "pull",
        "acme/det:1.0",
        dest.to_str().unwrap(),
    ]));
    assert_success(&out);
    let get = server.next();
    assert_eq!(get.route(), "GET /v2/acme/det/manifests/1.0");
    assert!(get
        .header("accept")
        .is_some_and(|a| a.contains("application/vnd.oci.image.index.v1+json")));
    assert_eq!(
        server.next().route(),
        format!("GET /v2/acme/det/blobs/{}", digest(CONFIG))
    );
    assert_eq!(
        server.next().route(),
        format!("GET /v2/acme/det/blobs/{}", digest(LAYER))
    );
    for bytes in [CONFIG, LAYER, &manifest] {
        let path = dest.join("blobs/sha256").join(&digest(bytes)[7..]);
        assert_eq!(fs::read(&path).unwrap(), bytes);
    }
    let index: Value = serde_json::from_slice(&fs::read(dest.join("index.json")).unwrap()).unwrap();
    assert_eq!(index["manifests"][0]["digest"], digest(&manifest));
    assert_eq!(
        index["manifests"][0]["annotations"]["org.opencontainers.image.ref.name"],
        "1.0"
    );
    assert!(dest.join("oci-layout").is_file());
    assert!(
        stdout(&out).starts_with("Pulled acme/det:1.0"),
        "{}",
        stdout(&out)
    );
}

#[test]
fn pull_rejects_a_corrupt_blob_and_keeps_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let manifest = manifest_bytes();
    let server = RawServer::start(vec![
        blob_answer(&manifest).header("Content-Type", "application/vnd.oci.image.manifest.v1+json"),
        blob_answer(CONFIG),
        Raw::new("200 OK", b"pretend this is a gzipped tar layeR".to_vec()),
    ]);
    let dest = dir.path().join("out");
    let out = run(arca(dir.path(), &server.url).args([
        "registry",
        "image",
        "pull",
        "acme/det:1.0",
        dest.to_str().unwrap(),
    ]));
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("digest"), "{}", stderr(&out));
    let blobs: Vec<_> = fs::read_dir(dest.join("blobs/sha256")).unwrap().collect();
    assert_eq!(blobs.len(), 1, "only the verified config stays");
    assert!(!dest.join("index.json").exists());
}

#[test]
fn push_of_a_docker_save_tarball_builds_a_schema2_manifest() {
    let dir = tempfile::tempdir().unwrap();
    let tar_path = dir.path().join("img.tar");
    let mut b = tar::Builder::new(fs::File::create(&tar_path).unwrap());
    let mut add = |name: &str, data: &[u8]| {
        let mut h = tar::Header::new_gnu();
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        h.set_cksum();
        b.append_data(&mut h, name, data).unwrap();
    };
    add("cfg.json", CONFIG);
    add("abc/layer.tar", LAYER);
    add(
        "manifest.json",
        br#"[{"Config":"cfg.json","RepoTags":["x:1"],"Layers":["abc/layer.tar"]}]"#,
    );
    b.into_inner().unwrap();
    let server = RawServer::start(vec![
        Raw::new("404 Not Found", Vec::new()),
        Raw::new("404 Not Found", Vec::new()),
        Raw::new("201 Created", Vec::new()),
        Raw::new("201 Created", Vec::new()),
        Raw::new("201 Created", Vec::new()),
    ]);
    let out = run(arca(dir.path(), &server.url).args([
        "registry",
        "image",
        "push",
        tar_path.to_str().unwrap(),
        "acme/det:1",
    ]));
    assert_success(&out);
    let seen: Vec<Seen> = (0..5).map(|_| server.next()).collect();
    let routes: Vec<String> = seen.iter().map(Seen::route).collect();
    assert_eq!(
        &routes[..2],
        [
            format!("HEAD /v2/acme/det/blobs/{}", digest(CONFIG)),
            format!("HEAD /v2/acme/det/blobs/{}", digest(LAYER)),
        ]
    );
    assert_eq!(routes[2], "POST /v2/acme/det/blobs/uploads/");
    assert_eq!(seen[2].body, CONFIG);
    assert_eq!(seen[3].body, LAYER);
    assert_eq!(routes[4], "PUT /v2/acme/det/manifests/1");
    let docker = "application/vnd.docker.distribution.manifest.v2+json";
    assert_eq!(seen[4].header("content-type"), Some(docker));
    let m = seen[4].json();
    assert_eq!(m["mediaType"], docker);
    assert_eq!(
        m["config"]["mediaType"],
        "application/vnd.docker.container.image.v1+json"
    );
    assert_eq!(m["config"]["digest"], digest(CONFIG));
    assert_eq!(
        m["layers"][0]["mediaType"],
        "application/vnd.docker.image.rootfs.diff.tar"
    );
    assert_eq!(m["layers"][0]["size"], LAYER.len());
}

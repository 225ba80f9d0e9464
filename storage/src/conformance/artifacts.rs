//! Conformance test functions for the artifact part of [`MetadataStore`] adapters: models,
//! resources and Helm charts, their versions, the files of a version and the blobs an artifact
//! holds.

use super::metadata::{new_org, org_id, team_name};
use super::registry::{at_us, dg, new_team};
use arca_auth::ArtifactKind;
use arca_core::model::{
    Artifact, ArtifactMetadata, ArtifactVersion, KeyValue, MetricsTable, NewArtifact,
    NewArtifactVersion, PublicDataset, VersionFile, VersionMetadata, VersionStatus,
};
use arca_core::names::{ArtifactName, VersionId};
use arca_core::ports::{MetadataStore, MetadataTx, StoreError};
use std::sync::Arc;

/// Runs every artifact test function, each against a fresh store from `make` (also run by
/// [`super::run_metadata_suite`]).
pub async fn run_artifact_suite<F, Fut>(make: &F)
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = Arc<dyn MetadataStore>>,
{
    artifacts(make().await.as_ref()).await;
    artifact_updates(make().await.as_ref()).await;
    artifact_versions(make().await.as_ref()).await;
    org_versions(make().await.as_ref()).await;
    version_files(make().await.as_ref()).await;
    artifact_blobs(make().await.as_ref()).await;
    artifact_deletion_cascades(make().await.as_ref()).await;
    version_deletion_cascades(make().await.as_ref()).await;
    artifact_failed_writes_change_nothing(make().await.as_ref()).await;
    artifact_writes_roll_back(make().await.as_ref()).await;
}

const MODEL: ArtifactKind = ArtifactKind::Model;
const RESOURCE: ArtifactKind = ArtifactKind::Resource;
const CHART: ArtifactKind = ArtifactKind::HelmChart;

fn vid(s: &str) -> VersionId {
    VersionId::new(s).expect("valid version id in the suite")
}

fn new_artifact(kind: ArtifactKind, org: &str, team: Option<&str>, name: &str) -> NewArtifact {
    NewArtifact {
        kind,
        org: org_id(org),
        team: team.map(team_name),
        name: ArtifactName::new(name).expect("valid artifact name in the suite"),
        metadata: ArtifactMetadata::default(),
        public: false,
        created_by: None,
        created_at: at_us(234_567),
    }
}

/// Artifact metadata with every field set (Unicode, Markdown, nested values).
fn full_metadata() -> ArtifactMetadata {
    let s = |v: &str| Some(v.to_string());
    ArtifactMetadata {
        display_name: s("BERT ☃ large"),
        short_description: s("One line, with \"quotes\""),
        description: s("# Overview\n\nMarkdown ✓ with `code`\n"),
        labels: vec!["nlp".into(), "Language Model".into()],
        logo: s("https://example.com/logo.png"),
        publisher: s("ACME"),
        built_by: s("ci"),
        owner_name: s("Ada"),
        application: s("Question Answering"),
        framework: s("PyTorch"),
        model_format: s("ONNX"),
        precision: s("FP16"),
        public_dataset: Some(PublicDataset {
            name: s("SQuAD"),
            link: s("https://example.com/squad"),
            license: s("CC-BY-SA-4.0"),
        }),
        bias: s("bias section"),
        explainability: s("explainability section"),
        privacy: s("privacy section"),
        safety_and_security: s("safety section"),
        advanced: s("advanced guide"),
        performance: s("performance doc"),
        quick_start_guide: s("quick start"),
        setup: s("setup doc"),
        attributes: vec![
            KeyValue {
                key: "k1".into(),
                value: "v1".into(),
            },
            KeyValue {
                key: "empty".into(),
                value: String::new(),
            },
        ],
    }
}

fn kv(key: &str, value: &str) -> KeyValue {
    KeyValue {
        key: key.into(),
        value: value.into(),
    }
}

/// Version metadata with every field set: floats, custom metrics tables and kind-specific JSON.
fn full_version_metadata() -> VersionMetadata {
    let s = |v: &str| Some(v.to_string());
    let extra = serde_json::json!({
        "chart": {
            "apiVersion": "v2",
            "name": "web",
            "version": "1.2.3",
            "dependencies": [{"name": "redis", "version": "17.0.0", "optional": true}],
            "annotations": {"category": "Infrastructure ☃"}
        },
        "packageDigest": dg('e'),
        "score": 1.5,
        "count": 3,
        "negative": -7,
        "nothing": null,
        "list": [1, "two", 3.25, false]
    });
    VersionMetadata {
        description: s("First release ✓"),
        accuracy_reached: Some(0.875),
        batch_size: Some(256),
        gpu_model: s("A100"),
        memory_footprint: s("1.2 GB"),
        number_of_epochs: Some(90),
        link: s("https://example.com/run"),
        link_type: s("Github"),
        owner_name: s("Ada"),
        custom_metrics: vec![
            MetricsTable {
                name: "accuracy".into(),
                attributes: vec![kv("top1", "0.76"), kv("top5", "0.93")],
            },
            MetricsTable {
                name: "latency".into(),
                attributes: vec![kv("p50", "3 ms")],
            },
        ],
        other_contents: vec![kv("dataset", "imagenet")],
        release_notes: s("notes"),
        performance: s("perf"),
        quick_start_guide: s("qsg"),
        setup: s("setup"),
        extra: match extra {
            serde_json::Value::Object(map) => map,
            _ => serde_json::Map::new(),
        },
    }
}

fn new_version(artifact_id: i64, version: &str, micros: i64) -> NewArtifactVersion {
    NewArtifactVersion {
        artifact_id,
        version: vid(version),
        status: VersionStatus::UploadPending,
        metadata: VersionMetadata::default(),
        created_by: None,
        created_at: at_us(micros),
    }
}

fn file(path: &str, digest: char, size: u64, micros: i64) -> VersionFile {
    VersionFile {
        path: path.to_string(),
        digest: dg(digest),
        size,
        created_at: at_us(micros),
    }
}

fn paths_of(artifacts: &[Artifact]) -> Vec<String> {
    artifacts.iter().map(Artifact::path).collect()
}

fn file_paths(files: &[VersionFile]) -> Vec<&str> {
    files.iter().map(|f| f.path.as_str()).collect()
}

/// Creates org `acme` and returns two artifacts in it: models `acme/one` and `acme/two`.
async fn two_models(tx: &mut dyn MetadataTx) -> (Artifact, Artifact) {
    tx.insert_org(&new_org("acme")).await.expect("org");
    let one = tx
        .insert_artifact(&new_artifact(MODEL, "acme", None, "one"))
        .await
        .expect("model one");
    let two = tx
        .insert_artifact(&new_artifact(MODEL, "acme", None, "two"))
        .await
        .expect("model two");
    (one, two)
}

fn assert_distinct(ids: &[i64], what: &str) {
    for (i, a) in ids.iter().enumerate() {
        assert!(
            !ids[i + 1..].contains(a),
            "{what} ids must be distinct: {ids:?}"
        );
    }
}

/// Artifacts: unique per (kind, org, team, name), need their org, round-trip every field,
/// listed per kind with the org level first, then teams by name, then names.
pub async fn artifacts(store: &dyn MetadataStore) {
    let mut tx = store.begin().await.expect("begin");
    assert!(
        matches!(
            tx.insert_artifact(&new_artifact(MODEL, "nope", None, "bert"))
                .await,
            Err(StoreError::NotFound(_))
        ),
        "an artifact needs an existing org"
    );
    // The failed insert left the transaction usable.
    tx.insert_org(&new_org("acme")).await.expect("org");
    tx.insert_org(&new_org("zeta")).await.expect("org");
    for team in ["vision", "audio", "ml"] {
        tx.insert_team(&new_team("acme", team)).await.expect("team");
    }
    let full = NewArtifact {
        metadata: full_metadata(),
        public: true,
        created_by: Some(42),
        ..new_artifact(MODEL, "acme", None, "bert")
    };
    let bert = tx.insert_artifact(&full).await.expect("org-level model");
    let expected = Artifact {
        id: bert.id,
        kind: MODEL,
        org: org_id("acme"),
        team: None,
        name: full.name.clone(),
        metadata: full_metadata(),
        public: true,
        latest_version: None,
        created_by: Some(42),
        created_at: at_us(234_567),
        updated_at: at_us(234_567),
    };
    assert_eq!(
        bert, expected,
        "insert returns every field; a new artifact has no latest version and its updated_at \
         is its created_at"
    );
    assert_eq!(bert.path(), "acme/bert");
    let resource = tx
        .insert_artifact(&new_artifact(RESOURCE, "acme", None, "bert"))
        .await
        .expect("same path, another kind");
    assert!(!resource.public, "a private artifact stays private");
    assert_eq!(resource.metadata, ArtifactMetadata::default());
    assert_eq!(resource.created_by, None);
    let chart = tx
        .insert_artifact(&new_artifact(CHART, "acme", None, "bert"))
        .await
        .expect("same path, a third kind");
    let in_vision = tx
        .insert_artifact(&new_artifact(MODEL, "acme", Some("vision"), "bert"))
        .await
        .expect("same name in a team");
    let in_audio = tx
        .insert_artifact(&new_artifact(MODEL, "acme", Some("audio"), "bert"))
        .await
        .expect("same name in another team");
    let in_zeta = tx
        .insert_artifact(&new_artifact(MODEL, "zeta", None, "bert"))
        .await
        .expect("same name in another org");
    assert_eq!(in_vision.team, Some(team_name("vision")));
    assert_eq!(in_vision.path(), "acme/vision/bert");
    assert_distinct(
        &[
            bert.id,
            resource.id,
            chart.id,
            in_vision.id,
            in_audio.id,
            in_zeta.id,
        ],
        "artifact",
    );
    for (dup, what) in [
        (new_artifact(MODEL, "acme", None, "bert"), "org-level model"),
        (
            new_artifact(MODEL, "acme", Some("vision"), "bert"),
            "team model",
        ),
        (new_artifact(CHART, "acme", None, "bert"), "chart"),
        (new_artifact(RESOURCE, "acme", None, "bert"), "resource"),
    ] {
        assert!(
            matches!(
                tx.insert_artifact(&dup).await,
                Err(StoreError::AlreadyExists(_))
            ),
            "duplicate {what} must be AlreadyExists"
        );
    }
    // Org level first, then teams by name, then names, all in byte order ('-' < '.' < '0').
    for name in ["zz", "a0", "a.b", "a-b"] {
        tx.insert_artifact(&new_artifact(MODEL, "acme", None, name))
            .await
            .expect("insert after a failed insert");
    }
    tx.insert_artifact(&new_artifact(MODEL, "acme", Some("audio"), "c"))
        .await
        .expect("team model");
    tx.insert_artifact(&new_artifact(MODEL, "acme", Some("ml"), "b"))
        .await
        .expect("team model");
    let expected_models = [
        "acme/a-b",
        "acme/a.b",
        "acme/a0",
        "acme/bert",
        "acme/zz",
        "acme/audio/bert",
        "acme/audio/c",
        "acme/ml/b",
        "acme/vision/bert",
    ];
    let acme = org_id("acme");
    assert_eq!(
        paths_of(&tx.list_artifacts(MODEL, &acme).await.expect("list")),
        expected_models,
        "artifacts listed org level first, then by team, then by name"
    );
    tx.commit().await.expect("commit");

    let mut tx = store.begin_read().await.expect("begin");
    let models = tx.list_artifacts(MODEL, &acme).await.expect("list");
    assert_eq!(
        paths_of(&models),
        expected_models,
        "committed artifacts listed in order"
    );
    assert_eq!(models[3], expected, "a listed artifact round-trips");
    assert_eq!(
        tx.list_artifacts(RESOURCE, &acme).await.expect("list"),
        vec![resource.clone()],
        "only artifacts of the kind are listed"
    );
    assert_eq!(
        tx.list_artifacts(CHART, &acme).await.expect("list"),
        vec![chart.clone()]
    );
    assert_eq!(
        tx.list_artifacts(MODEL, &org_id("zeta"))
            .await
            .expect("list"),
        vec![in_zeta.clone()],
        "other org's artifacts are not listed"
    );
    assert!(tx
        .list_artifacts(ArtifactKind::Container, &acme)
        .await
        .expect("list")
        .is_empty());
    assert!(tx
        .list_artifacts(MODEL, &org_id("nope"))
        .await
        .expect("list")
        .is_empty());
    let vision = team_name("vision");
    assert_eq!(
        tx.get_artifact(MODEL, &acme, None, "bert")
            .await
            .expect("get"),
        Some(expected.clone()),
        "an org-level artifact round-trips every field"
    );
    assert_eq!(
        tx.get_artifact(RESOURCE, &acme, None, "bert")
            .await
            .expect("get"),
        Some(resource),
        "the kind selects the artifact"
    );
    assert_eq!(
        tx.get_artifact(CHART, &acme, None, "bert")
            .await
            .expect("get"),
        Some(chart)
    );
    assert_eq!(
        tx.get_artifact(MODEL, &acme, Some(&vision), "bert")
            .await
            .expect("get"),
        Some(in_vision),
        "a team artifact round-trips"
    );
    assert_eq!(
        tx.get_artifact(MODEL, &acme, Some(&team_name("audio")), "bert")
            .await
            .expect("get"),
        Some(in_audio)
    );
    assert_eq!(
        tx.get_artifact(MODEL, &org_id("zeta"), None, "bert")
            .await
            .expect("get"),
        Some(in_zeta)
    );
    assert!(
        tx.get_artifact(MODEL, &acme, None, "c")
            .await
            .expect("get")
            .is_none(),
        "a team artifact is not found at org level"
    );
    assert!(
        tx.get_artifact(MODEL, &acme, Some(&vision), "zz")
            .await
            .expect("get")
            .is_none(),
        "an org-level artifact is not found in a team"
    );
    assert!(
        tx.get_artifact(RESOURCE, &acme, Some(&vision), "bert")
            .await
            .expect("get")
            .is_none(),
        "a model is not found as a resource"
    );
    assert!(tx
        .get_artifact(ArtifactKind::Container, &acme, None, "bert")
        .await
        .expect("get")
        .is_none());
    assert!(tx
        .get_artifact(MODEL, &org_id("nope"), None, "bert")
        .await
        .expect("get")
        .is_none());
}

/// Artifact updates persist the metadata, public flag, latest version and `updated_at` only.
pub async fn artifact_updates(store: &dyn MetadataStore) {
    let mut tx = store.begin().await.expect("begin");
    let (one, two) = two_models(tx.as_mut()).await;
    let mut changed = one.clone();
    changed.metadata = full_metadata();
    changed.public = true;
    changed.latest_version = Some(vid("1.0.0+build.7"));
    changed.updated_at = at_us(86_400_000_001);
    let mut sent = changed.clone();
    sent.created_at = at_us(999);
    sent.created_by = Some(99);
    tx.update_artifact(&sent).await.expect("update");
    let got = tx
        .get_artifact(MODEL, &one.org, None, "one")
        .await
        .expect("get")
        .expect("present");
    assert_eq!(
        got, changed,
        "update must persist metadata, public, latest version and updated_at, and keep \
         created_at and created_by"
    );
    let mut ghost = changed.clone();
    ghost.id = one.id.max(two.id) + 1000;
    assert!(
        matches!(
            tx.update_artifact(&ghost).await,
            Err(StoreError::NotFound(_))
        ),
        "updating an unknown artifact must be NotFound"
    );
    let mut back = changed.clone();
    back.public = false;
    back.latest_version = None;
    back.metadata.labels.clear();
    back.metadata.public_dataset = None;
    back.updated_at = at_us(86_400_000_002);
    tx.update_artifact(&back)
        .await
        .expect("update after a failed update");
    tx.commit().await.expect("commit");

    let mut tx = store.begin_read().await.expect("begin");
    assert_eq!(
        tx.list_artifacts(MODEL, &one.org).await.expect("list"),
        vec![back, two],
        "committed update round-trips; the other artifact is unchanged"
    );
}

/// Versions: unique per artifact, need their artifact, round-trip every field, listed in
/// creation order, updated in their mutable fields only.
pub async fn artifact_versions(store: &dyn MetadataStore) {
    let mut tx = store.begin().await.expect("begin");
    let (one, two) = two_models(tx.as_mut()).await;
    let ghost = one.id.max(two.id) + 1000;
    let full = NewArtifactVersion {
        metadata: full_version_metadata(),
        created_by: Some(42),
        ..new_version(one.id, "2.0.0", 1_000_001)
    };
    let v2 = tx.insert_version(&full).await.expect("insert");
    let expected = ArtifactVersion {
        id: v2.id,
        artifact_id: one.id,
        version: vid("2.0.0"),
        status: VersionStatus::UploadPending,
        metadata: full_version_metadata(),
        file_count: 0,
        total_size: 0,
        created_by: Some(42),
        created_at: at_us(1_000_001),
        updated_at: at_us(1_000_001),
    };
    assert_eq!(
        v2, expected,
        "insert returns every field; a new version has no files and its updated_at is its \
         created_at"
    );
    // Created later but named lower: the listing is in creation order, not name order.
    let v1 = tx
        .insert_version(&new_version(one.id, "1.0.0", 2_000_002))
        .await
        .expect("insert");
    let complete = NewArtifactVersion {
        status: VersionStatus::UploadComplete,
        ..new_version(one.id, "10.0", 500)
    };
    let v10 = tx.insert_version(&complete).await.expect("insert");
    assert_eq!(v10.status, VersionStatus::UploadComplete);
    let other = tx
        .insert_version(&new_version(two.id, "1.0.0", 3))
        .await
        .expect("same version id in another artifact");
    assert_distinct(&[v2.id, v1.id, v10.id, other.id], "version");
    assert!(
        matches!(
            tx.insert_version(&new_version(one.id, "1.0.0", 9)).await,
            Err(StoreError::AlreadyExists(_))
        ),
        "a duplicate version must be AlreadyExists"
    );
    assert!(
        matches!(
            tx.insert_version(&new_version(ghost, "1.0.0", 9)).await,
            Err(StoreError::NotFound(_))
        ),
        "a version of an unknown artifact must be NotFound"
    );
    assert_eq!(
        tx.get_version(one.id, "2.0.0").await.expect("get"),
        Some(expected.clone()),
        "a version round-trips every field (floats, metrics tables, extra JSON)"
    );
    assert_eq!(
        tx.get_version(two.id, "1.0.0").await.expect("get"),
        Some(other.clone()),
        "the artifact selects the version"
    );
    assert!(tx.get_version(one.id, "9").await.expect("get").is_none());
    assert!(tx.get_version(ghost, "1.0.0").await.expect("get").is_none());

    let mut updated = v1.clone();
    updated.status = VersionStatus::UploadComplete;
    updated.metadata = full_version_metadata();
    updated.metadata.accuracy_reached = Some(-0.5);
    updated.file_count = 3;
    updated.total_size = 5_000_000_123;
    updated.updated_at = at_us(86_400_000_003);
    let mut sent = updated.clone();
    sent.created_at = at_us(7);
    sent.created_by = Some(99);
    tx.update_version(&sent).await.expect("update");
    assert_eq!(
        tx.get_version(one.id, "1.0.0").await.expect("get"),
        Some(updated.clone()),
        "update must persist status, metadata, file count, total size and updated_at, and \
         keep created_at and created_by"
    );
    let mut missing = updated.clone();
    missing.id = [v2.id, v1.id, v10.id, other.id]
        .into_iter()
        .max()
        .unwrap_or_default()
        + 1000;
    assert!(
        matches!(
            tx.update_version(&missing).await,
            Err(StoreError::NotFound(_))
        ),
        "updating an unknown version must be NotFound"
    );
    assert_eq!(
        tx.list_versions(one.id).await.expect("list"),
        vec![expected.clone(), updated.clone(), v10.clone()],
        "versions listed in creation order, after a failed update"
    );
    tx.commit().await.expect("commit");

    let mut tx = store.begin_read().await.expect("begin");
    assert_eq!(
        tx.list_versions(one.id).await.expect("list"),
        vec![expected, updated, v10],
        "committed versions listed in creation order"
    );
    assert_eq!(
        tx.list_versions(two.id).await.expect("list"),
        vec![other],
        "only the artifact's versions are listed"
    );
    assert!(tx.list_versions(ghost).await.expect("list").is_empty());
}

/// Every version of an org's artifacts of a kind, ordered by artifact id then creation, in one
/// call.
pub async fn org_versions(store: &dyn MetadataStore) {
    let mut tx = store.begin().await.expect("begin");
    tx.insert_org(&new_org("acme")).await.expect("org");
    tx.insert_org(&new_org("zeta")).await.expect("org");
    tx.insert_team(&new_team("acme", "ml")).await.expect("team");
    // Created first but named last: the order is by artifact id, not by name.
    let zz = tx
        .insert_artifact(&new_artifact(MODEL, "acme", None, "zz"))
        .await
        .expect("model");
    let a = tx
        .insert_artifact(&new_artifact(MODEL, "acme", Some("ml"), "a"))
        .await
        .expect("team model");
    let empty = tx
        .insert_artifact(&new_artifact(MODEL, "acme", None, "empty"))
        .await
        .expect("model without versions");
    let res = tx
        .insert_artifact(&new_artifact(RESOURCE, "acme", None, "zz"))
        .await
        .expect("resource");
    let chart = tx
        .insert_artifact(&new_artifact(CHART, "acme", None, "zz"))
        .await
        .expect("chart");
    let elsewhere = tx
        .insert_artifact(&new_artifact(MODEL, "zeta", None, "zz"))
        .await
        .expect("other org's model");
    // Interleaved creation across artifacts.
    let plan = [
        (a.id, "1"),
        (zz.id, "1"),
        (res.id, "1"),
        (a.id, "2"),
        (chart.id, "1.0.0"),
        (elsewhere.id, "1"),
        (zz.id, "0.9"),
        (a.id, "3"),
    ];
    let mut created = Vec::new();
    for (i, (artifact, version)) in plan.into_iter().enumerate() {
        let v = tx
            .insert_version(&new_version(artifact, version, i as i64 * 1_000))
            .await
            .expect("version");
        created.push(v);
    }
    let pick = |artifact: i64| -> Vec<ArtifactVersion> {
        created
            .iter()
            .filter(|v| v.artifact_id == artifact)
            .cloned()
            .collect()
    };
    let models: Vec<ArtifactVersion> = pick(zz.id).into_iter().chain(pick(a.id)).collect();
    assert_eq!(
        models
            .iter()
            .map(|v| v.version.as_str())
            .collect::<Vec<_>>(),
        ["1", "0.9", "1", "2", "3"]
    );
    let acme = org_id("acme");
    assert_eq!(
        tx.list_org_versions(MODEL, &acme).await.expect("list"),
        models,
        "an org's versions of a kind, by artifact id then creation"
    );
    tx.commit().await.expect("commit");

    let mut tx = store.begin_read().await.expect("begin");
    assert_eq!(
        tx.list_org_versions(MODEL, &acme).await.expect("list"),
        models,
        "committed versions listed by artifact id then creation"
    );
    assert_eq!(
        tx.list_org_versions(RESOURCE, &acme).await.expect("list"),
        pick(res.id),
        "only versions of artifacts of the kind"
    );
    assert_eq!(
        tx.list_org_versions(CHART, &acme).await.expect("list"),
        pick(chart.id)
    );
    assert_eq!(
        tx.list_org_versions(MODEL, &org_id("zeta"))
            .await
            .expect("list"),
        pick(elsewhere.id),
        "only versions of the org's artifacts"
    );
    assert!(tx.list_versions(empty.id).await.expect("list").is_empty());
    assert!(tx
        .list_org_versions(ArtifactKind::Container, &acme)
        .await
        .expect("list")
        .is_empty());
    assert!(tx
        .list_org_versions(MODEL, &org_id("nope"))
        .await
        .expect("list")
        .is_empty());
}

/// Files of a version: listed by path in byte order, replaced at the same path, removed one
/// at a time; a file needs its version.
pub async fn version_files(store: &dyn MetadataStore) {
    let mut tx = store.begin().await.expect("begin");
    let (one, _) = two_models(tx.as_mut()).await;
    let v1 = tx
        .insert_version(&new_version(one.id, "1", 1))
        .await
        .expect("version");
    let v2 = tx
        .insert_version(&new_version(one.id, "2", 2))
        .await
        .expect("version");
    let ghost = v1.id.max(v2.id) + 1000;
    assert!(tx.version_files(v1.id).await.expect("files").is_empty());
    let paths = ["b.txt", "é.txt", "a/c/d", "B.txt", "a.b", "a/b.bin", "a-b"];
    for (i, path) in paths.iter().enumerate() {
        let size = if i == 0 { 5_000_000_000 } else { i as u64 };
        tx.put_version_file(v1.id, &file(path, 'a', size, i as i64))
            .await
            .expect("put");
    }
    let sorted = ["B.txt", "a-b", "a.b", "a/b.bin", "a/c/d", "b.txt", "é.txt"];
    let files = tx.version_files(v1.id).await.expect("files");
    assert_eq!(
        file_paths(&files),
        sorted,
        "files listed by path in byte order"
    );
    assert_eq!(
        files[5],
        file("b.txt", 'a', 5_000_000_000, 0),
        "a file round-trips every field (sizes over 2^32)"
    );
    let in_v2 = file("b.txt", 'c', 11, 100);
    tx.put_version_file(v2.id, &in_v2)
        .await
        .expect("same path in another version");
    let replacement = file("b.txt", 'b', 12, 86_400_000_001);
    tx.put_version_file(v1.id, &replacement)
        .await
        .expect("replace");
    let files = tx.version_files(v1.id).await.expect("files");
    assert_eq!(file_paths(&files), sorted, "replacing adds no path");
    assert_eq!(
        files[5], replacement,
        "a file put at a taken path replaces it (digest, size, created_at)"
    );
    assert!(
        matches!(
            tx.put_version_file(ghost, &file("x", 'a', 1, 0)).await,
            Err(StoreError::NotFound(_))
        ),
        "a file of an unknown version must be NotFound"
    );
    assert!(
        tx.delete_version_file(v1.id, "a.b").await.expect("delete"),
        "deleting a file reports that there was one"
    );
    assert!(
        !tx.delete_version_file(v1.id, "a.b").await.expect("delete"),
        "deleting it again reports that there was none"
    );
    assert!(
        !tx.delete_version_file(v2.id, "a-b").await.expect("delete"),
        "a file of another version is not deleted"
    );
    assert!(!tx.delete_version_file(ghost, "a-b").await.expect("delete"));
    assert!(
        !tx.delete_version_file(v1.id, "a").await.expect("delete"),
        "a directory prefix is not a file"
    );
    tx.commit().await.expect("commit");

    let mut tx = store.begin_read().await.expect("begin");
    let files = tx.version_files(v1.id).await.expect("files");
    assert_eq!(
        file_paths(&files),
        ["B.txt", "a-b", "a/b.bin", "a/c/d", "b.txt", "é.txt"],
        "committed files listed by path"
    );
    assert_eq!(
        files[4], replacement,
        "the committed replacement round-trips"
    );
    assert_eq!(
        tx.version_files(v2.id).await.expect("files"),
        vec![in_v2],
        "only the version's files are listed"
    );
    assert!(tx.version_files(ghost).await.expect("files").is_empty());
}

/// Blobs held by an artifact: idempotent add, per artifact, need their artifact.
pub async fn artifact_blobs(store: &dyn MetadataStore) {
    let big = 5_000_000_000u64;
    let mut tx = store.begin().await.expect("begin");
    let (one, two) = two_models(tx.as_mut()).await;
    let ghost = one.id.max(two.id) + 1000;
    assert_eq!(tx.artifact_blob(one.id, &dg('a')).await.expect("get"), None);
    tx.add_artifact_blob(one.id, &dg('a'), big)
        .await
        .expect("add");
    tx.add_artifact_blob(one.id, &dg('a'), big)
        .await
        .expect("adding twice is idempotent");
    tx.add_artifact_blob(one.id, &dg('b'), 0)
        .await
        .expect("an empty blob");
    assert_eq!(
        tx.artifact_blob(one.id, &dg('a')).await.expect("get"),
        Some(big),
        "the size of a held blob (over 2^32)"
    );
    assert_eq!(
        tx.artifact_blob(one.id, &dg('b')).await.expect("get"),
        Some(0)
    );
    assert_eq!(
        tx.artifact_blob(two.id, &dg('a')).await.expect("get"),
        None,
        "the blobs of one artifact are not another's"
    );
    assert!(
        matches!(
            tx.add_artifact_blob(ghost, &dg('a'), 1).await,
            Err(StoreError::NotFound(_))
        ),
        "a blob of an unknown artifact must be NotFound"
    );
    tx.add_artifact_blob(two.id, &dg('c'), 3)
        .await
        .expect("add after a failed add");
    tx.commit().await.expect("commit");

    let mut tx = store.begin().await.expect("begin");
    tx.add_artifact_blob(one.id, &dg('a'), big)
        .await
        .expect("adding a committed blob again is idempotent");
    tx.commit().await.expect("commit");

    let mut tx = store.begin_read().await.expect("begin");
    assert_eq!(
        tx.artifact_blob(one.id, &dg('a')).await.expect("get"),
        Some(big),
        "committed blob"
    );
    assert_eq!(
        tx.artifact_blob(one.id, &dg('b')).await.expect("get"),
        Some(0)
    );
    assert_eq!(tx.artifact_blob(one.id, &dg('c')).await.expect("get"), None);
    assert_eq!(
        tx.artifact_blob(two.id, &dg('c')).await.expect("get"),
        Some(3)
    );
    assert_eq!(tx.artifact_blob(two.id, &dg('a')).await.expect("get"), None);
    assert_eq!(tx.artifact_blob(ghost, &dg('a')).await.expect("get"), None);
}

/// Fills an artifact with versions `1` and `2`, two files in each and a blob.
async fn fill(tx: &mut dyn MetadataTx, artifact: &Artifact) -> (ArtifactVersion, ArtifactVersion) {
    let v1 = tx
        .insert_version(&new_version(artifact.id, "1", 1))
        .await
        .expect("version");
    let v2 = tx
        .insert_version(&new_version(artifact.id, "2", 2))
        .await
        .expect("version");
    for v in [&v1, &v2] {
        for path in ["model.onnx", "README.md"] {
            tx.put_version_file(v.id, &file(path, 'f', 10, 3))
                .await
                .expect("file");
        }
    }
    tx.add_artifact_blob(artifact.id, &dg('f'), 10)
        .await
        .expect("blob");
    (v1, v2)
}

/// Deleting an artifact deletes its versions, their files and its blobs, and only its own.
pub async fn artifact_deletion_cascades(store: &dyn MetadataStore) {
    let mut tx = store.begin().await.expect("begin");
    let (one, two) = two_models(tx.as_mut()).await;
    let (one_v1, one_v2) = fill(tx.as_mut(), &one).await;
    let (two_v1, two_v2) = fill(tx.as_mut(), &two).await;
    tx.commit().await.expect("commit");

    let mut tx = store.begin().await.expect("begin");
    tx.delete_artifact(one.id).await.expect("delete");
    assert!(
        matches!(
            tx.delete_artifact(one.id).await,
            Err(StoreError::NotFound(_))
        ),
        "deleting a deleted artifact must be NotFound"
    );
    tx.commit().await.expect("commit");

    let mut tx = store.begin().await.expect("begin");
    assert!(tx
        .get_artifact(MODEL, &one.org, None, "one")
        .await
        .expect("get")
        .is_none());
    assert!(
        tx.list_versions(one.id).await.expect("list").is_empty(),
        "deleting an artifact must delete its versions"
    );
    assert!(tx.get_version(one.id, "1").await.expect("get").is_none());
    for v in [&one_v1, &one_v2] {
        assert!(
            tx.version_files(v.id).await.expect("files").is_empty(),
            "deleting an artifact must delete its versions' files"
        );
    }
    assert_eq!(
        tx.artifact_blob(one.id, &dg('f')).await.expect("blob"),
        None,
        "deleting an artifact must delete its blobs"
    );
    assert_eq!(
        tx.list_artifacts(MODEL, &one.org).await.expect("list"),
        vec![two.clone()],
        "the other artifact stays"
    );
    assert_eq!(
        tx.list_org_versions(MODEL, &one.org).await.expect("list"),
        vec![two_v1.clone(), two_v2.clone()],
        "the other artifact's versions stay"
    );
    for v in [&two_v1, &two_v2] {
        assert_eq!(
            file_paths(&tx.version_files(v.id).await.expect("files")),
            ["README.md", "model.onnx"],
            "the other artifact's files stay"
        );
    }
    assert_eq!(
        tx.artifact_blob(two.id, &dg('f')).await.expect("blob"),
        Some(10),
        "the other artifact's blobs stay"
    );
    // The path is free again, and the new artifact starts empty.
    let again = tx
        .insert_artifact(&new_artifact(MODEL, "acme", None, "one"))
        .await
        .expect("the path is free again");
    assert!(tx.list_versions(again.id).await.expect("list").is_empty());
    assert_eq!(
        tx.artifact_blob(again.id, &dg('f')).await.expect("blob"),
        None
    );
    tx.insert_version(&new_version(again.id, "1", 5))
        .await
        .expect("the version id is free again");
    tx.commit().await.expect("commit");
}

/// Deleting a version deletes its files, and keeps the artifact, its other versions and its
/// blobs.
pub async fn version_deletion_cascades(store: &dyn MetadataStore) {
    let mut tx = store.begin().await.expect("begin");
    let (one, two) = two_models(tx.as_mut()).await;
    let (v1, v2) = fill(tx.as_mut(), &one).await;
    let (other, _) = fill(tx.as_mut(), &two).await;
    tx.commit().await.expect("commit");

    let mut tx = store.begin().await.expect("begin");
    tx.delete_version(v1.id).await.expect("delete");
    assert!(
        matches!(tx.delete_version(v1.id).await, Err(StoreError::NotFound(_))),
        "deleting a deleted version must be NotFound"
    );
    tx.commit().await.expect("commit");

    let mut tx = store.begin().await.expect("begin");
    assert!(tx.get_version(one.id, "1").await.expect("get").is_none());
    assert!(
        tx.version_files(v1.id).await.expect("files").is_empty(),
        "deleting a version must delete its files"
    );
    assert_eq!(
        tx.list_versions(one.id).await.expect("list"),
        vec![v2.clone()],
        "the other version stays"
    );
    assert_eq!(
        tx.version_files(v2.id).await.expect("files").len(),
        2,
        "the other version's files stay"
    );
    assert_eq!(
        tx.version_files(other.id).await.expect("files").len(),
        2,
        "another artifact's version with the same id stays"
    );
    assert!(tx.get_version(two.id, "1").await.expect("get").is_some());
    assert_eq!(
        tx.artifact_blob(one.id, &dg('f')).await.expect("blob"),
        Some(10),
        "deleting a version keeps the artifact's blobs"
    );
    assert!(tx
        .get_artifact(MODEL, &one.org, None, "one")
        .await
        .expect("get")
        .is_some());
    let again = tx
        .insert_version(&new_version(one.id, "1", 9))
        .await
        .expect("the version id is free again");
    assert!(tx.version_files(again.id).await.expect("files").is_empty());
    assert_eq!(
        tx.list_versions(one.id).await.expect("list"),
        vec![v2, again],
        "a re-created version is the newest"
    );
    tx.commit().await.expect("commit");
}

/// Failed artifact writes change nothing and leave the transaction usable: a run of failing
/// calls interleaved with successful ones, then a commit that keeps exactly the successes.
pub async fn artifact_failed_writes_change_nothing(store: &dyn MetadataStore) {
    let mut tx = store.begin().await.expect("begin");
    let (one, two) = two_models(tx.as_mut()).await;
    let ghost = one.id.max(two.id) + 1000;
    let is_not_found = |r: Result<(), StoreError>| matches!(r, Err(StoreError::NotFound(_)));
    let v1 = tx
        .insert_version(&new_version(one.id, "1", 1))
        .await
        .expect("version");

    assert!(matches!(
        tx.insert_artifact(&new_artifact(MODEL, "acme", None, "one"))
            .await,
        Err(StoreError::AlreadyExists(_))
    ));
    let v2 = tx
        .insert_version(&new_version(one.id, "2", 2))
        .await
        .expect("version after a failed insert");
    let mut changed = one.clone();
    changed.id = ghost;
    changed.public = true;
    assert!(is_not_found(tx.update_artifact(&changed).await));
    let f = file("weights.bin", 'a', 7, 3);
    tx.put_version_file(v1.id, &f)
        .await
        .expect("file after a failed update");
    assert!(matches!(
        tx.insert_version(&new_version(one.id, "1", 4)).await,
        Err(StoreError::AlreadyExists(_))
    ));
    assert!(matches!(
        tx.insert_version(&new_version(ghost, "1", 4)).await,
        Err(StoreError::NotFound(_))
    ));
    let mut gone = v1.clone();
    gone.id = ghost;
    gone.status = VersionStatus::UploadComplete;
    assert!(is_not_found(tx.update_version(&gone).await));
    assert!(is_not_found(
        tx.put_version_file(ghost, &file("x", 'b', 1, 5)).await
    ));
    assert!(is_not_found(tx.delete_version(ghost).await));
    assert!(is_not_found(tx.delete_artifact(ghost).await));
    assert!(is_not_found(tx.add_artifact_blob(ghost, &dg('b'), 1).await));
    assert!(matches!(
        tx.insert_artifact(&new_artifact(MODEL, "nope", None, "one"))
            .await,
        Err(StoreError::NotFound(_))
    ));
    tx.add_artifact_blob(one.id, &dg('a'), 7)
        .await
        .expect("blob after failed writes");
    tx.commit().await.expect("commit after failed writes");

    let mut tx = store.begin_read().await.expect("begin");
    assert_eq!(
        tx.list_artifacts(MODEL, &one.org).await.expect("list"),
        vec![one.clone(), two.clone()],
        "failed artifact writes changed nothing"
    );
    assert!(tx
        .list_artifacts(MODEL, &org_id("nope"))
        .await
        .expect("list")
        .is_empty());
    assert_eq!(
        tx.list_versions(one.id).await.expect("list"),
        vec![v1.clone(), v2],
        "failed version writes changed nothing"
    );
    assert!(tx.list_versions(ghost).await.expect("list").is_empty());
    assert_eq!(tx.version_files(v1.id).await.expect("files"), vec![f]);
    assert!(tx.version_files(ghost).await.expect("files").is_empty());
    assert_eq!(
        tx.artifact_blob(one.id, &dg('a')).await.expect("blob"),
        Some(7)
    );
    assert_eq!(tx.artifact_blob(ghost, &dg('b')).await.expect("blob"), None);
}

/// Artifact writes are transactional: rolled back or dropped, none is visible (creations,
/// updates and deletions alike); a read transaction refuses them.
pub async fn artifact_writes_roll_back(store: &dyn MetadataStore) {
    let mut tx = store.begin().await.expect("begin");
    tx.insert_org(&new_org("acme")).await.expect("org");
    let kept = tx
        .insert_artifact(&new_artifact(CHART, "acme", None, "kept"))
        .await
        .expect("chart");
    let (kept_v1, kept_v2) = fill(tx.as_mut(), &kept).await;
    tx.commit().await.expect("commit");
    let acme = org_id("acme");

    let mut tx = store.begin().await.expect("begin");
    let model = tx
        .insert_artifact(&new_artifact(MODEL, "acme", None, "one"))
        .await
        .expect("model");
    let v = tx
        .insert_version(&new_version(model.id, "1", 1))
        .await
        .expect("version");
    tx.put_version_file(v.id, &file("a", 'a', 1, 1))
        .await
        .expect("file");
    tx.add_artifact_blob(model.id, &dg('a'), 1)
        .await
        .expect("blob");
    let mut changed = kept.clone();
    changed.public = true;
    changed.latest_version = Some(vid("2"));
    tx.update_artifact(&changed).await.expect("update");
    let mut done = kept_v1.clone();
    done.status = VersionStatus::UploadComplete;
    done.file_count = 2;
    tx.update_version(&done).await.expect("update version");
    tx.put_version_file(kept_v1.id, &file("README.md", 'b', 99, 9))
        .await
        .expect("replace file");
    assert!(tx
        .delete_version_file(kept_v1.id, "model.onnx")
        .await
        .expect("delete file"));
    tx.delete_version(kept_v2.id).await.expect("delete version");
    tx.rollback().await.expect("rollback");

    let mut tx = store.begin().await.expect("begin");
    assert!(
        tx.list_artifacts(MODEL, &acme)
            .await
            .expect("list")
            .is_empty(),
        "rolled-back artifact visible"
    );
    assert!(tx.list_versions(model.id).await.expect("list").is_empty());
    assert!(tx.version_files(v.id).await.expect("files").is_empty());
    assert_eq!(
        tx.artifact_blob(model.id, &dg('a')).await.expect("blob"),
        None
    );
    assert_eq!(
        tx.list_artifacts(CHART, &acme).await.expect("list"),
        vec![kept.clone()],
        "a rolled-back update changed nothing"
    );
    assert_eq!(
        tx.list_org_versions(CHART, &acme).await.expect("list"),
        vec![kept_v1.clone(), kept_v2.clone()],
        "rolled-back version update and deletion changed nothing"
    );
    assert_eq!(
        tx.version_files(kept_v1.id).await.expect("files"),
        vec![
            file("README.md", 'f', 10, 3),
            file("model.onnx", 'f', 10, 3)
        ],
        "rolled-back file writes changed nothing"
    );
    // A dropped transaction is a rollback too, deletions included.
    tx.delete_artifact(kept.id).await.expect("delete");
    tx.insert_artifact(&new_artifact(MODEL, "acme", None, "two"))
        .await
        .expect("model");
    drop(tx);

    let mut tx = store.begin_read().await.expect("begin");
    assert!(tx
        .list_artifacts(MODEL, &acme)
        .await
        .expect("list")
        .is_empty());
    assert_eq!(
        tx.list_artifacts(CHART, &acme).await.expect("list"),
        vec![kept.clone()],
        "a dropped deletion changed nothing"
    );
    assert_eq!(tx.list_versions(kept.id).await.expect("list").len(), 2);
    assert_eq!(tx.version_files(kept_v2.id).await.expect("files").len(), 2);
    assert_eq!(
        tx.artifact_blob(kept.id, &dg('f')).await.expect("blob"),
        Some(10)
    );
    assert!(
        tx.insert_artifact(&new_artifact(MODEL, "acme", None, "one"))
            .await
            .is_err(),
        "insert_artifact through a read-only transaction must fail"
    );
    assert!(
        tx.insert_version(&new_version(kept.id, "3", 1))
            .await
            .is_err(),
        "insert_version through a read-only transaction must fail"
    );
    assert!(
        tx.update_artifact(&changed).await.is_err(),
        "update_artifact through a read-only transaction must fail"
    );
    assert!(
        tx.update_version(&done).await.is_err(),
        "update_version through a read-only transaction must fail"
    );
    assert!(
        tx.put_version_file(kept_v1.id, &file("x", 'a', 1, 1))
            .await
            .is_err(),
        "put_version_file through a read-only transaction must fail"
    );
    assert!(
        tx.delete_version_file(kept_v1.id, "README.md")
            .await
            .is_err(),
        "delete_version_file through a read-only transaction must fail"
    );
    assert!(
        tx.add_artifact_blob(kept.id, &dg('a'), 1).await.is_err(),
        "add_artifact_blob through a read-only transaction must fail"
    );
    assert!(
        tx.delete_version(kept_v1.id).await.is_err(),
        "delete_version through a read-only transaction must fail"
    );
    assert!(
        tx.delete_artifact(kept.id).await.is_err(),
        "delete_artifact through a read-only transaction must fail"
    );
    drop(tx);

    let mut tx = store.begin_read().await.expect("begin");
    assert!(tx
        .list_artifacts(MODEL, &acme)
        .await
        .expect("list")
        .is_empty());
    assert_eq!(
        tx.list_artifacts(CHART, &acme).await.expect("list"),
        vec![kept]
    );
    assert_eq!(
        tx.version_files(kept_v1.id).await.expect("files").len(),
        2,
        "refused writes changed nothing"
    );
    assert_eq!(
        tx.artifact_blob(kept_v1.artifact_id, &dg('a'))
            .await
            .expect("blob"),
        None
    );
}

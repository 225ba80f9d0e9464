//! Conformance test functions for the container-registry part of [`MetadataStore`] adapters:
//! repositories, blob links, manifests, referrers, tags and usage ledgers.

use super::metadata::{new_org, org_id, t0, team_name};
use arca_core::model::{
    ManifestRecord, NewRepository, NewTeam, RepoMetadata, Repository, TagRecord,
};
use arca_core::names::ArtifactName;
use arca_core::ports::{MetadataStore, MetadataTx, StoreError};
use chrono::{DateTime, Duration, Utc};
use std::sync::Arc;

/// Runs every registry test function, each against a fresh store from `make` (also run by
/// [`super::run_metadata_suite`]).
pub async fn run_registry_suite<F, Fut>(make: &F)
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = Arc<dyn MetadataStore>>,
{
    repositories(make().await.as_ref()).await;
    repository_updates(make().await.as_ref()).await;
    repository_deletion_cascades(make().await.as_ref()).await;
    blob_links(make().await.as_ref()).await;
    manifest_records(make().await.as_ref()).await;
    manifest_deletion_removes_its_tags(make().await.as_ref()).await;
    referrers_by_subject(make().await.as_ref()).await;
    tags(make().await.as_ref()).await;
    usage_ledgers(make().await.as_ref()).await;
    registry_failed_writes_change_nothing(make().await.as_ref()).await;
    registry_writes_roll_back(make().await.as_ref()).await;
}

/// An instant with microseconds (the finest resolution every adapter keeps).
pub(super) fn at_us(micros: i64) -> DateTime<Utc> {
    t0() + Duration::microseconds(micros)
}

/// A digest-shaped string made of one repeated hex character.
pub(super) fn dg(c: char) -> String {
    format!("sha256:{}", c.to_string().repeat(64))
}

fn new_repo(org: &str, team: Option<&str>, name: &str) -> NewRepository {
    NewRepository {
        org: org_id(org),
        team: team.map(team_name),
        name: ArtifactName::new(name).expect("valid repository name in the suite"),
        created_at: at_us(123_456),
    }
}

pub(super) fn new_team(org: &str, name: &str) -> NewTeam {
    NewTeam {
        org: org_id(org),
        name: team_name(name),
        description: String::new(),
        created_at: t0(),
    }
}

/// An image manifest of `repo_id` with every field set, created `secs` seconds after t0 (plus
/// microseconds).
fn image(repo_id: i64, digest: &str, secs: i64) -> ManifestRecord {
    ManifestRecord {
        repo_id,
        digest: digest.to_string(),
        media_type: "application/vnd.oci.image.manifest.v1+json".into(),
        size: 5_000_000_123,
        artifact_type: Some("application/vnd.example.sbom".into()),
        subject: None,
        blobs: vec![dg('c'), dg('d')],
        children: vec![],
        blob_bytes: 9_000_000_007,
        annotations: r#"{"org.opencontainers.image.title":"tést ☃"}"#.into(),
        platforms: "[]".into(),
        created_at: at_us(secs * 1_000_000 + 654_321),
    }
}

/// A referrer of `subject` in `repo_id`, created `secs` seconds after t0.
fn referrer(repo_id: i64, digest: &str, subject: &str, secs: i64) -> ManifestRecord {
    ManifestRecord {
        subject: Some(subject.to_string()),
        artifact_type: Some("application/vnd.example.signature".into()),
        ..image(repo_id, digest, secs)
    }
}

fn tag(repo_id: i64, name: &str, digest: &str, micros: i64) -> TagRecord {
    TagRecord {
        repo_id,
        name: name.to_string(),
        digest: digest.to_string(),
        updated_at: at_us(micros),
    }
}

/// Creates org `acme` and returns two repositories in it: `acme/one` and `acme/two`.
async fn two_repos(tx: &mut dyn MetadataTx) -> (Repository, Repository) {
    tx.insert_org(&new_org("acme")).await.expect("org");
    let one = tx
        .insert_repo(&new_repo("acme", None, "one"))
        .await
        .expect("repo one");
    let two = tx
        .insert_repo(&new_repo("acme", None, "two"))
        .await
        .expect("repo two");
    (one, two)
}

async fn tag_names(tx: &mut dyn MetadataTx, repo_id: i64) -> Vec<String> {
    tx.list_tags(repo_id, None, None)
        .await
        .expect("list tags")
        .into_iter()
        .map(|t| t.name)
        .collect()
}

fn names_of(tags: &[TagRecord]) -> Vec<&str> {
    tags.iter().map(|t| t.name.as_str()).collect()
}

fn paths_of(repos: &[Repository]) -> Vec<String> {
    repos.iter().map(Repository::path).collect()
}

/// Repositories: unique per (org, team, name), need their org, listed by path.
pub async fn repositories(store: &dyn MetadataStore) {
    let mut tx = store.begin().await.expect("begin");
    assert!(
        matches!(
            tx.insert_repo(&new_repo("nope", None, "base")).await,
            Err(StoreError::NotFound(_))
        ),
        "a repository needs an existing org"
    );
    // The failed insert left the transaction usable.
    tx.insert_org(&new_org("acme")).await.expect("org");
    tx.insert_org(&new_org("zeta")).await.expect("org");
    for team in ["vision", "audio", "ml"] {
        tx.insert_team(&new_team("acme", team)).await.expect("team");
    }
    let base = tx
        .insert_repo(&new_repo("acme", None, "base"))
        .await
        .expect("org-level repo");
    assert_eq!(base.path(), "acme/base");
    assert!(!base.public, "a new repository is private");
    assert_eq!(
        base.metadata,
        RepoMetadata::default(),
        "a new repository has empty metadata"
    );
    assert_eq!(
        base.created_at,
        at_us(123_456),
        "created_at must round-trip to the microsecond"
    );
    assert_eq!(
        base.updated_at, base.created_at,
        "a new repository's updated_at is its created_at"
    );
    let in_vision = tx
        .insert_repo(&new_repo("acme", Some("vision"), "base"))
        .await
        .expect("same name in a team");
    let in_audio = tx
        .insert_repo(&new_repo("acme", Some("audio"), "base"))
        .await
        .expect("same name in another team");
    let in_zeta = tx
        .insert_repo(&new_repo("zeta", None, "base"))
        .await
        .expect("same name in another org");
    let ids = [base.id, in_vision.id, in_audio.id, in_zeta.id];
    for (i, a) in ids.iter().enumerate() {
        assert!(
            !ids[i + 1..].contains(a),
            "repository ids must be distinct: {ids:?}"
        );
    }
    assert_eq!(in_vision.team, Some(team_name("vision")));
    assert_eq!(in_vision.path(), "acme/vision/base");
    assert!(
        matches!(
            tx.insert_repo(&new_repo("acme", None, "base")).await,
            Err(StoreError::AlreadyExists(_))
        ),
        "duplicate org-level repository must be AlreadyExists"
    );
    assert!(
        matches!(
            tx.insert_repo(&new_repo("acme", Some("vision"), "base"))
                .await,
            Err(StoreError::AlreadyExists(_))
        ),
        "duplicate team repository must be AlreadyExists"
    );
    // Path order is byte order of `org/name` and `org/team/name`: '-' and '.' sort before '/',
    // digits after it, so it is not the order of (team, name).
    for name in ["ml0", "ml.c", "ml-b"] {
        tx.insert_repo(&new_repo("acme", None, name))
            .await
            .expect("insert after a failed insert");
    }
    tx.insert_repo(&new_repo("acme", Some("ml"), "a"))
        .await
        .expect("team repo");
    let expected = [
        "acme/audio/base",
        "acme/base",
        "acme/ml-b",
        "acme/ml.c",
        "acme/ml/a",
        "acme/ml0",
        "acme/vision/base",
    ];
    let listed = tx.list_repos(&org_id("acme")).await.expect("list");
    assert_eq!(
        paths_of(&listed),
        expected,
        "repositories listed by path, in byte order, org level and teams together"
    );
    tx.commit().await.expect("commit");

    let mut tx = store.begin_read().await.expect("begin");
    assert_eq!(
        paths_of(&tx.list_repos(&org_id("acme")).await.expect("list")),
        expected,
        "committed repositories listed by path"
    );
    assert_eq!(
        tx.list_repos(&org_id("zeta")).await.expect("list"),
        vec![in_zeta.clone()],
        "other org's repositories are not listed"
    );
    assert!(tx
        .list_repos(&org_id("nope"))
        .await
        .expect("list")
        .is_empty());
    let acme = org_id("acme");
    assert_eq!(
        tx.get_repo(&acme, None, "base").await.expect("get"),
        Some(base.clone()),
        "org-level repository round-trips"
    );
    assert_eq!(
        tx.get_repo(&acme, Some(&team_name("vision")), "base")
            .await
            .expect("get"),
        Some(in_vision),
        "team repository round-trips"
    );
    assert_eq!(
        tx.get_repo(&org_id("zeta"), None, "base")
            .await
            .expect("get"),
        Some(in_zeta)
    );
    assert!(
        tx.get_repo(&acme, None, "a").await.expect("get").is_none(),
        "a team repository is not found at org level"
    );
    assert!(
        tx.get_repo(&acme, Some(&team_name("vision")), "ml0")
            .await
            .expect("get")
            .is_none(),
        "an org-level repository is not found in a team"
    );
    assert!(tx
        .get_repo(&acme, Some(&team_name("ml")), "b")
        .await
        .expect("get")
        .is_none());
}

/// Repository updates persist the public flag, metadata and `updated_at` only.
pub async fn repository_updates(store: &dyn MetadataStore) {
    let mut tx = store.begin().await.expect("begin");
    let (one, two) = two_repos(tx.as_mut()).await;
    let mut changed = one.clone();
    changed.public = true;
    changed.updated_at = at_us(86_400_000_001);
    changed.metadata = RepoMetadata {
        short_description: "One line".into(),
        description: "# Overview\n\nMarkdown ✓".into(),
        labels: vec!["nlp".into(), "vision".into()],
        logo: Some("https://example.com/logo.png".into()),
        publisher: Some("ACME".into()),
        built_by: Some("ci".into()),
        display_name: None,
    };
    let mut sent = changed.clone();
    sent.created_at = at_us(999);
    tx.update_repo(&sent).await.expect("update");
    let got = tx
        .get_repo(&one.org, None, "one")
        .await
        .expect("get")
        .expect("present");
    assert_eq!(
        got, changed,
        "update must persist public, metadata and updated_at, and keep created_at"
    );
    let mut ghost = changed.clone();
    ghost.id = one.id.max(two.id) + 1000;
    assert!(
        matches!(tx.update_repo(&ghost).await, Err(StoreError::NotFound(_))),
        "updating an unknown repository must be NotFound"
    );
    let mut back = changed.clone();
    back.public = false;
    back.metadata.labels.clear();
    back.updated_at = at_us(86_400_000_002);
    tx.update_repo(&back)
        .await
        .expect("update after a failed update");
    tx.commit().await.expect("commit");

    let mut tx = store.begin_read().await.expect("begin");
    let repos = tx.list_repos(&one.org).await.expect("list");
    assert_eq!(repos, vec![back, two], "committed update round-trips");
}

/// Deleting a repository deletes its manifests, tags and blob links, and only its own.
pub async fn repository_deletion_cascades(store: &dyn MetadataStore) {
    let mut tx = store.begin().await.expect("begin");
    let (one, two) = two_repos(tx.as_mut()).await;
    for repo in [&one, &two] {
        tx.link_blob(repo.id, &dg('b')).await.expect("link");
        tx.put_manifest(&image(repo.id, &dg('1'), 1))
            .await
            .expect("manifest");
        tx.put_manifest(&referrer(repo.id, &dg('2'), &dg('1'), 2))
            .await
            .expect("referrer");
        tx.put_tag(&tag(repo.id, "latest", &dg('1'), 5))
            .await
            .expect("tag");
    }
    tx.commit().await.expect("commit");

    let mut tx = store.begin().await.expect("begin");
    tx.delete_repo(one.id).await.expect("delete");
    assert!(
        matches!(tx.delete_repo(one.id).await, Err(StoreError::NotFound(_))),
        "deleting a deleted repository must be NotFound"
    );
    tx.commit().await.expect("commit");

    let mut tx = store.begin().await.expect("begin");
    assert!(tx
        .get_repo(&one.org, None, "one")
        .await
        .expect("get")
        .is_none());
    assert!(
        tx.list_manifests(one.id).await.expect("list").is_empty(),
        "deleting a repository must delete its manifests"
    );
    assert!(tx
        .get_manifest(one.id, &dg('1'))
        .await
        .expect("get")
        .is_none());
    assert!(tx
        .referrers(one.id, &dg('1'))
        .await
        .expect("ref")
        .is_empty());
    assert!(
        tx.list_tags(one.id, None, None)
            .await
            .expect("tags")
            .is_empty(),
        "deleting a repository must delete its tags"
    );
    assert!(tx.get_tag(one.id, "latest").await.expect("tag").is_none());
    assert!(
        !tx.blob_linked(one.id, &dg('b')).await.expect("linked"),
        "deleting a repository must delete its blob links"
    );
    assert_eq!(
        tx.list_repos(&one.org).await.expect("list"),
        vec![two.clone()],
        "the other repository stays"
    );
    assert_eq!(
        tx.list_manifests(two.id).await.expect("list").len(),
        2,
        "the other repository's manifests stay"
    );
    assert_eq!(
        tag_names(tx.as_mut(), two.id).await,
        ["latest"],
        "the other repository's tags stay"
    );
    assert!(
        tx.blob_linked(two.id, &dg('b')).await.expect("linked"),
        "the other repository's blob links stay"
    );
    // The path is free again, and the new repository starts empty.
    let again = tx
        .insert_repo(&new_repo("acme", None, "one"))
        .await
        .expect("the path is free again");
    assert!(tx.list_manifests(again.id).await.expect("list").is_empty());
    assert!(tx
        .list_tags(again.id, None, None)
        .await
        .expect("tags")
        .is_empty());
    assert!(!tx.blob_linked(again.id, &dg('b')).await.expect("linked"));
    tx.commit().await.expect("commit");
}

/// Blob links: idempotent link, per repository, unlink `NotFound` when not linked.
pub async fn blob_links(store: &dyn MetadataStore) {
    let mut tx = store.begin().await.expect("begin");
    let (one, two) = two_repos(tx.as_mut()).await;
    assert!(!tx.blob_linked(one.id, &dg('a')).await.expect("linked"));
    tx.link_blob(one.id, &dg('a')).await.expect("link");
    tx.link_blob(one.id, &dg('a'))
        .await
        .expect("linking twice is idempotent");
    tx.link_blob(one.id, &dg('b')).await.expect("link");
    assert!(tx.blob_linked(one.id, &dg('a')).await.expect("linked"));
    assert!(
        !tx.blob_linked(two.id, &dg('a')).await.expect("linked"),
        "a link belongs to one repository"
    );
    assert!(!tx.blob_linked(one.id, &dg('c')).await.expect("linked"));
    assert!(
        matches!(
            tx.link_blob(one.id.max(two.id) + 1000, &dg('a')).await,
            Err(StoreError::NotFound(_))
        ),
        "linking into an unknown repository must be NotFound"
    );
    assert!(
        matches!(
            tx.unlink_blob(two.id, &dg('a')).await,
            Err(StoreError::NotFound(_))
        ),
        "unlinking a blob that is not linked must be NotFound"
    );
    tx.link_blob(two.id, &dg('a'))
        .await
        .expect("link after a failed unlink");
    tx.commit().await.expect("commit");

    let mut tx = store.begin().await.expect("begin");
    assert!(
        tx.blob_linked(one.id, &dg('a')).await.expect("linked"),
        "committed link"
    );
    tx.unlink_blob(one.id, &dg('a')).await.expect("unlink");
    assert!(!tx.blob_linked(one.id, &dg('a')).await.expect("linked"));
    assert!(
        tx.blob_linked(one.id, &dg('b')).await.expect("linked"),
        "unlink removes only that blob"
    );
    assert!(
        tx.blob_linked(two.id, &dg('a')).await.expect("linked"),
        "unlink removes only that repository's link"
    );
    assert!(
        matches!(
            tx.unlink_blob(one.id, &dg('a')).await,
            Err(StoreError::NotFound(_))
        ),
        "unlinking twice must be NotFound"
    );
    tx.commit().await.expect("commit");

    let mut tx = store.begin_read().await.expect("begin");
    assert!(!tx.blob_linked(one.id, &dg('a')).await.expect("linked"));
    assert!(tx.blob_linked(one.id, &dg('b')).await.expect("linked"));
    assert!(tx.blob_linked(two.id, &dg('a')).await.expect("linked"));
}

/// Manifest records: every field round-trips, `put` keeps the first record, listing is newest
/// first.
pub async fn manifest_records(store: &dyn MetadataStore) {
    let mut tx = store.begin().await.expect("begin");
    let (one, two) = two_repos(tx.as_mut()).await;
    let img = image(one.id, &dg('1'), 1);
    let index = ManifestRecord {
        repo_id: one.id,
        digest: dg('2'),
        media_type: "application/vnd.oci.image.index.v1+json".into(),
        size: 311,
        artifact_type: None,
        subject: None,
        blobs: vec![],
        children: vec![dg('1'), dg('3')],
        blob_bytes: 0,
        annotations: "{}".into(),
        platforms: r#"[{"os":"linux","architecture":"arm64","digest":"x"}]"#.into(),
        created_at: at_us(3_000_001),
    };
    let sig = referrer(one.id, &dg('4'), &dg('1'), 2);
    for m in [&img, &index, &sig] {
        tx.put_manifest(m).await.expect("put");
    }
    assert_eq!(
        tx.get_manifest(one.id, &dg('1')).await.expect("get"),
        Some(img.clone()),
        "a manifest record round-trips every field (sizes over 2^32, lists, options)"
    );
    assert_eq!(
        tx.get_manifest(one.id, &dg('2')).await.expect("get"),
        Some(index.clone()),
        "an index record round-trips (empty blobs, children, no options)"
    );
    let mut other = img.clone();
    other.media_type = "application/vnd.docker.distribution.manifest.v2+json".into();
    other.size = 7;
    other.blobs = vec![];
    other.created_at = at_us(9_000_000);
    tx.put_manifest(&other)
        .await
        .expect("putting a known digest is idempotent");
    assert_eq!(
        tx.get_manifest(one.id, &dg('1')).await.expect("get"),
        Some(img.clone()),
        "the first record is kept"
    );
    assert!(
        tx.get_manifest(two.id, &dg('1'))
            .await
            .expect("get")
            .is_none(),
        "a manifest belongs to one repository"
    );
    assert!(
        matches!(
            tx.put_manifest(&image(one.id.max(two.id) + 1000, &dg('5'), 1))
                .await,
            Err(StoreError::NotFound(_))
        ),
        "a manifest in an unknown repository must be NotFound"
    );
    let copy = image(two.id, &dg('1'), 4);
    tx.put_manifest(&copy)
        .await
        .expect("same digest in another repository, after a failed put");
    tx.commit().await.expect("commit");

    let mut tx = store.begin_read().await.expect("begin");
    assert_eq!(
        tx.get_manifest(one.id, &dg('1')).await.expect("get"),
        Some(img.clone()),
        "a committed manifest record round-trips"
    );
    assert_eq!(
        tx.list_manifests(one.id).await.expect("list"),
        vec![index, sig, img],
        "manifests listed newest first"
    );
    assert_eq!(
        tx.list_manifests(two.id).await.expect("list"),
        vec![copy],
        "only the repository's manifests are listed"
    );
}

/// Deleting a manifest deletes the tags pointing at it, and no other tag.
pub async fn manifest_deletion_removes_its_tags(store: &dyn MetadataStore) {
    let mut tx = store.begin().await.expect("begin");
    let (one, two) = two_repos(tx.as_mut()).await;
    for repo in [one.id, two.id] {
        tx.put_manifest(&image(repo, &dg('1'), 1))
            .await
            .expect("put");
        tx.put_manifest(&image(repo, &dg('2'), 2))
            .await
            .expect("put");
        tx.put_tag(&tag(repo, "latest", &dg('1'), 1))
            .await
            .expect("tag");
        tx.put_tag(&tag(repo, "v1", &dg('1'), 2))
            .await
            .expect("tag");
        tx.put_tag(&tag(repo, "v2", &dg('2'), 3))
            .await
            .expect("tag");
    }
    tx.commit().await.expect("commit");

    let mut tx = store.begin().await.expect("begin");
    tx.delete_manifest(one.id, &dg('1')).await.expect("delete");
    assert!(tx
        .get_manifest(one.id, &dg('1'))
        .await
        .expect("get")
        .is_none());
    assert_eq!(
        tag_names(tx.as_mut(), one.id).await,
        ["v2"],
        "deleting a manifest deletes the tags pointing at it, and only those"
    );
    assert!(
        matches!(
            tx.delete_manifest(one.id, &dg('1')).await,
            Err(StoreError::NotFound(_))
        ),
        "deleting a deleted manifest must be NotFound"
    );
    assert!(matches!(
        tx.delete_manifest(one.id, &dg('9')).await,
        Err(StoreError::NotFound(_))
    ));
    tx.put_tag(&tag(one.id, "v3", &dg('2'), 4))
        .await
        .expect("tag after a failed delete");
    tx.commit().await.expect("commit");

    let mut tx = store.begin_read().await.expect("begin");
    assert_eq!(tag_names(tx.as_mut(), one.id).await, ["v2", "v3"]);
    assert_eq!(
        tx.list_manifests(one.id).await.expect("list").len(),
        1,
        "the other manifest stays"
    );
    assert_eq!(
        tag_names(tx.as_mut(), two.id).await,
        ["latest", "v1", "v2"],
        "the same digest's tags in another repository stay"
    );
    assert!(
        tx.get_manifest(two.id, &dg('1'))
            .await
            .expect("get")
            .is_some(),
        "the same digest in another repository stays"
    );
}

/// Referrers: manifests of one repository with a given subject, oldest first.
pub async fn referrers_by_subject(store: &dyn MetadataStore) {
    let mut tx = store.begin().await.expect("begin");
    let (one, two) = two_repos(tx.as_mut()).await;
    let subject = dg('1');
    tx.put_manifest(&image(one.id, &subject, 1))
        .await
        .expect("subject");
    let newer = referrer(one.id, &dg('a'), &subject, 30);
    let older = referrer(one.id, &dg('b'), &subject, 20);
    let of_other = referrer(one.id, &dg('c'), &dg('2'), 10);
    let elsewhere = referrer(two.id, &dg('d'), &subject, 5);
    for m in [&newer, &older, &of_other, &elsewhere] {
        tx.put_manifest(m).await.expect("put");
    }
    assert_eq!(
        tx.referrers(one.id, &subject).await.expect("referrers"),
        vec![older.clone(), newer.clone()],
        "referrers filtered by subject and repository, oldest first"
    );
    tx.commit().await.expect("commit");

    let mut tx = store.begin_read().await.expect("begin");
    assert_eq!(
        tx.referrers(one.id, &subject).await.expect("referrers"),
        vec![older, newer]
    );
    assert_eq!(
        tx.referrers(one.id, &dg('2')).await.expect("referrers"),
        vec![of_other]
    );
    assert_eq!(
        tx.referrers(two.id, &subject).await.expect("referrers"),
        vec![elsewhere]
    );
    assert!(
        tx.referrers(one.id, &dg('9'))
            .await
            .expect("referrers")
            .is_empty(),
        "no referrers of an unknown subject"
    );
}

/// Tags: created and moved by `put_tag` (which needs the manifest in the repository), listed
/// in byte order with `last`/`limit` pagination, deleted one at a time.
pub async fn tags(store: &dyn MetadataStore) {
    let mut tx = store.begin().await.expect("begin");
    let (one, two) = two_repos(tx.as_mut()).await;
    tx.put_manifest(&image(one.id, &dg('1'), 1))
        .await
        .expect("put");
    tx.put_manifest(&image(one.id, &dg('2'), 2))
        .await
        .expect("put");
    tx.put_manifest(&image(two.id, &dg('3'), 3))
        .await
        .expect("put");
    assert!(
        matches!(
            tx.put_tag(&tag(one.id, "latest", &dg('9'), 0)).await,
            Err(StoreError::NotFound(_))
        ),
        "a tag needs its manifest"
    );
    assert!(
        matches!(
            tx.put_tag(&tag(one.id, "latest", &dg('3'), 0)).await,
            Err(StoreError::NotFound(_))
        ),
        "a tag needs its manifest in the same repository"
    );
    assert!(tx.get_tag(one.id, "latest").await.expect("get").is_none());
    for (i, name) in ["v1.0", "latest", "b2", "b10", "B", "a"].iter().enumerate() {
        tx.put_tag(&tag(one.id, name, &dg('1'), i as i64))
            .await
            .expect("create tag");
    }
    tx.put_tag(&tag(two.id, "latest", &dg('3'), 7))
        .await
        .expect("same tag name in another repository");
    let moved = tag(one.id, "latest", &dg('2'), 4_000_000_017);
    tx.put_tag(&moved).await.expect("move tag");
    assert_eq!(
        tx.get_tag(one.id, "latest").await.expect("get"),
        Some(moved.clone()),
        "put_tag moves an existing tag (digest and updated_at)"
    );
    tx.commit().await.expect("commit");

    let mut tx = store.begin().await.expect("begin");
    let all = ["B", "a", "b10", "b2", "latest", "v1.0"];
    assert_eq!(
        tag_names(tx.as_mut(), one.id).await,
        all,
        "tags listed in byte order"
    );
    assert_eq!(
        tx.get_tag(one.id, "v1.0").await.expect("get"),
        Some(tag(one.id, "v1.0", &dg('1'), 0)),
        "a tag record round-trips"
    );
    assert_eq!(
        tx.get_tag(one.id, "latest").await.expect("get"),
        Some(moved),
        "a committed move round-trips"
    );
    assert_eq!(
        tx.get_tag(two.id, "latest").await.expect("get"),
        Some(tag(two.id, "latest", &dg('3'), 7)),
        "moving a tag leaves the same name in another repository alone"
    );
    let cases: [(Option<&str>, Option<usize>, &[&str]); 8] = [
        (None, Some(2), &["B", "a"]),
        (Some("a"), Some(2), &["b10", "b2"]),
        (Some("b2"), None, &["latest", "v1.0"]),
        (Some("b2"), Some(10), &["latest", "v1.0"]),
        (Some("v1.0"), None, &[]),
        (Some("c"), Some(1), &["latest"]),
        (Some("A"), Some(1), &["B"]),
        (None, Some(0), &[]),
    ];
    for (last, limit, expected) in cases {
        let got = tx.list_tags(one.id, last, limit).await.expect("list");
        assert_eq!(
            names_of(&got),
            expected,
            "tags after {last:?}, at most {limit:?}"
        );
    }
    assert_eq!(
        tag_names(tx.as_mut(), two.id).await,
        ["latest"],
        "only the repository's tags are listed"
    );

    tx.delete_tag(one.id, "b2").await.expect("delete");
    assert!(tx.get_tag(one.id, "b2").await.expect("get").is_none());
    assert!(
        matches!(
            tx.delete_tag(one.id, "b2").await,
            Err(StoreError::NotFound(_))
        ),
        "deleting an absent tag must be NotFound"
    );
    assert!(
        tx.get_manifest(one.id, &dg('1'))
            .await
            .expect("get")
            .is_some(),
        "deleting a tag keeps its manifest"
    );
    tx.delete_tag(one.id, "latest")
        .await
        .expect("delete after a failed delete");
    tx.commit().await.expect("commit");

    let mut tx = store.begin_read().await.expect("begin");
    assert_eq!(
        tag_names(tx.as_mut(), one.id).await,
        ["B", "a", "b10", "v1.0"],
        "delete_tag deletes only that tag"
    );
    assert_eq!(
        tag_names(tx.as_mut(), two.id).await,
        ["latest"],
        "deleting a tag leaves the same name in another repository"
    );
}

/// Usage ledgers: a digest counts once per (org, ledger); sums are per org and ledger.
pub async fn usage_ledgers(store: &dyn MetadataStore) {
    let big = 5_000_000_000u64;
    let mut tx = store.begin().await.expect("begin");
    tx.insert_org(&new_org("acme")).await.expect("org");
    tx.insert_org(&new_org("zeta")).await.expect("org");
    let acme = org_id("acme");
    let zeta = org_id("zeta");
    assert_eq!(tx.usage(&acme, "images").await.expect("usage"), 0);
    assert!(!tx
        .usage_holds(&acme, "images", &dg('1'))
        .await
        .expect("holds"));
    assert!(
        tx.add_usage(&acme, "images", &dg('1'), big)
            .await
            .expect("add"),
        "a new digest is newly counted"
    );
    assert!(
        !tx.add_usage(&acme, "images", &dg('1'), big)
            .await
            .expect("add"),
        "a digest counts once per org and ledger"
    );
    assert!(
        !tx.add_usage(&acme, "images", &dg('1'), 7)
            .await
            .expect("add"),
        "a counted digest stays counted at its first size"
    );
    assert!(tx
        .add_usage(&acme, "images", &dg('2'), 100)
        .await
        .expect("add"));
    assert!(
        tx.add_usage(&acme, "models", &dg('1'), big)
            .await
            .expect("add"),
        "the same digest counts again in another ledger"
    );
    assert!(
        tx.add_usage(&zeta, "images", &dg('1'), 3)
            .await
            .expect("add"),
        "the same digest counts again in another org"
    );
    assert!(
        tx.usage_holds(&acme, "images", &dg('1'))
            .await
            .expect("holds")
            && !tx
                .usage_holds(&acme, "images", &dg('3'))
                .await
                .expect("holds")
            && !tx
                .usage_holds(&zeta, "models", &dg('1'))
                .await
                .expect("holds"),
        "usage_holds sees exactly what is counted, per org and ledger"
    );
    assert_eq!(
        tx.usage(&acme, "images").await.expect("usage"),
        big + 100,
        "usage sums the org's ledger"
    );
    tx.commit().await.expect("commit");

    let mut tx = store.begin().await.expect("begin");
    assert!(
        !tx.add_usage(&acme, "images", &dg('2'), 100)
            .await
            .expect("add"),
        "a committed count stays counted"
    );
    assert_eq!(tx.usage(&acme, "images").await.expect("usage"), big + 100);
    assert_eq!(tx.usage(&acme, "models").await.expect("usage"), big);
    assert_eq!(tx.usage(&zeta, "images").await.expect("usage"), 3);
    assert_eq!(
        tx.usage(&zeta, "models").await.expect("usage"),
        0,
        "an empty ledger is 0"
    );
    assert_eq!(tx.usage(&org_id("nope"), "images").await.expect("usage"), 0);
    tx.commit().await.expect("commit");
}

/// Failed registry writes change nothing and leave the transaction usable: a run of failing
/// calls interleaved with successful ones, then a commit that keeps exactly the successes.
pub async fn registry_failed_writes_change_nothing(store: &dyn MetadataStore) {
    let mut tx = store.begin().await.expect("begin");
    let (one, two) = two_repos(tx.as_mut()).await;
    let ghost = one.id.max(two.id) + 1000;
    let is_not_found = |r: Result<(), StoreError>| matches!(r, Err(StoreError::NotFound(_)));

    assert!(matches!(
        tx.insert_repo(&new_repo("acme", None, "one")).await,
        Err(StoreError::AlreadyExists(_))
    ));
    tx.put_manifest(&image(one.id, &dg('1'), 1))
        .await
        .expect("put after a failed insert");
    let mut changed = one.clone();
    changed.id = ghost;
    changed.public = true;
    assert!(is_not_found(tx.update_repo(&changed).await));
    tx.put_tag(&tag(one.id, "latest", &dg('1'), 1))
        .await
        .expect("tag after a failed update");
    assert!(is_not_found(
        tx.put_tag(&tag(one.id, "latest", &dg('9'), 2)).await
    ));
    assert!(is_not_found(tx.delete_repo(ghost).await));
    tx.link_blob(one.id, &dg('b'))
        .await
        .expect("link after a failed delete");
    assert!(is_not_found(tx.link_blob(ghost, &dg('c')).await));
    assert!(is_not_found(tx.unlink_blob(one.id, &dg('c')).await));
    assert!(is_not_found(
        tx.put_manifest(&image(ghost, &dg('2'), 2)).await
    ));
    assert!(is_not_found(tx.delete_manifest(one.id, &dg('2')).await));
    assert!(is_not_found(tx.delete_tag(one.id, "nope").await));
    assert!(is_not_found(tx.delete_tag(two.id, "latest").await));
    assert!(tx
        .add_usage(&one.org, "images", &dg('b'), 10)
        .await
        .expect("usage after failed writes"));
    tx.commit().await.expect("commit after failed writes");

    let mut tx = store.begin_read().await.expect("begin");
    assert_eq!(
        tx.list_repos(&one.org).await.expect("list"),
        vec![one.clone(), two.clone()],
        "failed repository writes changed nothing"
    );
    assert_eq!(
        tx.get_tag(one.id, "latest").await.expect("get"),
        Some(tag(one.id, "latest", &dg('1'), 1)),
        "a failed tag move left the tag where it was"
    );
    assert_eq!(
        tx.list_manifests(one.id).await.expect("list"),
        vec![image(one.id, &dg('1'), 1)]
    );
    assert!(tx.list_manifests(two.id).await.expect("list").is_empty());
    assert!(tx.list_manifests(ghost).await.expect("list").is_empty());
    assert!(tx.blob_linked(one.id, &dg('b')).await.expect("linked"));
    assert!(!tx.blob_linked(ghost, &dg('c')).await.expect("linked"));
    assert_eq!(tx.usage(&one.org, "images").await.expect("usage"), 10);
}

/// Registry writes are transactional: rolled back, none is visible; a read transaction refuses
/// them.
pub async fn registry_writes_roll_back(store: &dyn MetadataStore) {
    let mut tx = store.begin().await.expect("begin");
    tx.insert_org(&new_org("acme")).await.expect("org");
    tx.commit().await.expect("commit");
    let acme = org_id("acme");

    let mut tx = store.begin().await.expect("begin");
    let repo = tx
        .insert_repo(&new_repo("acme", None, "one"))
        .await
        .expect("repo");
    tx.link_blob(repo.id, &dg('b')).await.expect("link");
    tx.put_manifest(&image(repo.id, &dg('1'), 1))
        .await
        .expect("put");
    tx.put_tag(&tag(repo.id, "latest", &dg('1'), 1))
        .await
        .expect("tag");
    tx.add_usage(&acme, "images", &dg('b'), 10)
        .await
        .expect("usage");
    tx.rollback().await.expect("rollback");

    let mut tx = store.begin_read().await.expect("begin");
    assert!(
        tx.list_repos(&acme).await.expect("list").is_empty(),
        "rolled-back repository visible"
    );
    assert!(tx.list_manifests(repo.id).await.expect("list").is_empty());
    assert!(tx.get_tag(repo.id, "latest").await.expect("get").is_none());
    assert!(!tx.blob_linked(repo.id, &dg('b')).await.expect("linked"));
    assert_eq!(
        tx.usage(&acme, "images").await.expect("usage"),
        0,
        "rolled-back usage counted"
    );
    assert!(
        tx.insert_repo(&new_repo("acme", None, "one"))
            .await
            .is_err(),
        "insert_repo through a read-only transaction must fail"
    );
    assert!(
        tx.add_usage(&acme, "images", &dg('b'), 10).await.is_err(),
        "add_usage through a read-only transaction must fail"
    );
    drop(tx);

    let mut tx = store.begin_read().await.expect("begin");
    assert!(tx.list_repos(&acme).await.expect("list").is_empty());
    assert_eq!(tx.usage(&acme, "images").await.expect("usage"), 0);
}

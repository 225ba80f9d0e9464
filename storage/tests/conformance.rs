//! Every adapter runs the same conformance suite; deliberately broken adapters show that the
//! suite catches what it claims to.

use arca_core::model::UploadPart;
use arca_core::ports::{
    BlobError, BlobRead, BlobStore, ByteRange, ByteStream, MetadataStore, MetadataTx, PartReceipt,
    StoreError, StoredBlob,
};
use arca_oci::Digest;
use arca_storage::conformance;
use arca_storage::fs::FsBlobStore;
use arca_storage::memory::{MemoryBlobStore, MemoryMetadataStore};
use arca_storage::sqlite::SqliteMetadataStore;
use async_trait::async_trait;
use futures::FutureExt;
use std::panic::AssertUnwindSafe;
use std::sync::{Arc, Mutex};
use tempfile::TempDir;
use uuid::Uuid;

/// Keeps temp dirs alive for the whole test.
#[derive(Default)]
struct Dirs(Mutex<Vec<TempDir>>);

impl Dirs {
    fn new_dir(&self) -> std::path::PathBuf {
        let d = tempfile::tempdir().expect("tempdir");
        let p = d.path().to_path_buf();
        self.0.lock().expect("lock").push(d);
        p
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn memory_metadata_store_conforms() {
    conformance::run_metadata_suite(|| async {
        Arc::new(MemoryMetadataStore::new()) as Arc<dyn MetadataStore>
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sqlite_metadata_store_conforms() {
    let dirs = Dirs::default();
    conformance::run_metadata_suite(|| async {
        let dir = dirs.new_dir();
        Arc::new(
            SqliteMetadataStore::open(&dir.join("arca.db"))
                .await
                .expect("open sqlite"),
        ) as Arc<dyn MetadataStore>
    })
    .await;
}

#[tokio::test]
async fn sqlite_survives_reopen() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("arca.db");
    {
        let store = SqliteMetadataStore::open(&path).await.expect("open");
        let mut tx = store.begin().await.expect("begin");
        tx.put_setting_if_absent("k", "v").await.expect("put");
        tx.commit().await.expect("commit");
    }
    let store = SqliteMetadataStore::open(&path)
        .await
        .expect("reopen (migrations idempotent)");
    let mut tx = store.begin_read().await.expect("begin");
    assert_eq!(
        tx.get_setting("k").await.expect("get").as_deref(),
        Some("v")
    );
}

#[tokio::test]
async fn memory_blob_store_conforms() {
    conformance::run_blob_suite(|| async {
        Arc::new(MemoryBlobStore::new()) as Arc<dyn BlobStore>
    })
    .await;
}

#[tokio::test]
async fn fs_blob_store_conforms() {
    let dirs = Dirs::default();
    conformance::run_blob_suite(|| async {
        Arc::new(FsBlobStore::open(dirs.new_dir()).await.expect("open fs")) as Arc<dyn BlobStore>
    })
    .await;
}

#[tokio::test]
async fn fs_blob_store_leaves_no_temp_files() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = FsBlobStore::open(dir.path()).await.expect("open");
    conformance::digest_mismatch_stores_nothing(&store).await;
    conformance::failed_body_stores_nothing(&store).await;
    conformance::too_large_stores_nothing(&store).await;
    let leftovers = std::fs::read_dir(dir.path().join("tmp"))
        .expect("tmp")
        .count();
    assert_eq!(leftovers, 0, "failed writes must clean up their temp files");
}

// ---- deliberately broken adapters -------------------------------------------------------------

/// A blob store that trusts the announced digest instead of verifying it.
struct TrustingBlobStore(
    MemoryBlobStore,
    Mutex<std::collections::HashMap<String, u64>>,
);

#[async_trait]
impl BlobStore for TrustingBlobStore {
    async fn put(
        &self,
        expected: Option<&Digest>,
        max_size: Option<u64>,
        body: ByteStream,
    ) -> Result<StoredBlob, BlobError> {
        let stored = self.0.put(None, max_size, body).await?;
        // BUG: makes the bytes visible under the announced digest without checking it.
        if let Some(e) = expected {
            self.1
                .lock()
                .expect("lock")
                .insert(e.to_string(), stored.size);
            return Ok(StoredBlob {
                digest: e.clone(),
                size: stored.size,
            });
        }
        Ok(stored)
    }
    async fn get(&self, d: &Digest, r: Option<ByteRange>) -> Result<BlobRead, BlobError> {
        self.0.get(d, r).await
    }
    async fn stat(&self, d: &Digest) -> Result<Option<u64>, BlobError> {
        if let Some(size) = self.1.lock().expect("lock").get(&d.to_string()) {
            return Ok(Some(*size));
        }
        self.0.stat(d).await
    }
    async fn delete(&self, d: &Digest) -> Result<bool, BlobError> {
        self.0.delete(d).await
    }
    async fn create_upload(&self, id: Uuid) -> Result<String, BlobError> {
        self.0.create_upload(id).await
    }
    async fn put_part(
        &self,
        id: Uuid,
        s: &str,
        n: u32,
        body: ByteStream,
    ) -> Result<PartReceipt, BlobError> {
        self.0.put_part(id, s, n, body).await
    }
    async fn complete_upload(
        &self,
        id: Uuid,
        s: &str,
        parts: &[UploadPart],
        e: Option<&Digest>,
    ) -> Result<StoredBlob, BlobError> {
        self.0.complete_upload(id, s, parts, e).await
    }
    async fn abort_upload(&self, id: Uuid, s: &str) -> Result<(), BlobError> {
        self.0.abort_upload(id, s).await
    }
    async fn ping(&self) -> Result<(), BlobError> {
        Ok(())
    }
}

#[tokio::test]
async fn suite_catches_a_blob_store_that_skips_verification() {
    let broken = TrustingBlobStore(MemoryBlobStore::new(), Mutex::default());
    let outcome = AssertUnwindSafe(conformance::digest_mismatch_stores_nothing(&broken))
        .catch_unwind()
        .await;
    assert!(
        outcome.is_err(),
        "the suite must fail a store that skips digest checks"
    );
    // The healthy store passes the same function.
    conformance::digest_mismatch_stores_nothing(&MemoryBlobStore::new()).await;
}

/// A metadata store whose rollback commits.
struct LeakyRollbackStore(MemoryMetadataStore);

struct LeakyTx(Box<dyn MetadataTx>);

#[async_trait]
impl MetadataStore for LeakyRollbackStore {
    async fn begin(&self) -> Result<Box<dyn MetadataTx>, StoreError> {
        Ok(Box::new(LeakyTx(self.0.begin().await?)))
    }
    async fn begin_read(&self) -> Result<Box<dyn MetadataTx>, StoreError> {
        self.0.begin_read().await
    }
    async fn ping(&self) -> Result<(), StoreError> {
        Ok(())
    }
}

macro_rules! leaky_tx {
    ($( fn $name:ident(&mut self $(, $arg:ident : $ty:ty)*) -> $ret:ty; )*) => {
        #[async_trait]
        impl MetadataTx for LeakyTx {
            async fn commit(self: Box<Self>) -> Result<(), StoreError> {
                self.0.commit().await
            }
            async fn rollback(self: Box<Self>) -> Result<(), StoreError> {
                // BUG: keeps the writes.
                self.0.commit().await
            }
            $( async fn $name(&mut self $(, $arg: $ty)*) -> $ret { self.0.$name($($arg),*).await } )*
        }
    };
}

leaky_tx! {
        fn get_setting(&mut self, key: &str) -> Result<Option<String>, StoreError>;
        fn put_setting_if_absent(&mut self, key: &str, value: &str) -> Result<String, StoreError>;
        fn insert_org(&mut self, org: &arca_core::model::NewOrg) -> Result<arca_core::model::Org, StoreError>;
        fn get_org(&mut self, name: &arca_core::names::OrgId) -> Result<Option<arca_core::model::Org>, StoreError>;
        fn list_orgs(&mut self) -> Result<Vec<arca_core::model::Org>, StoreError>;
        fn update_org(&mut self, org: &arca_core::model::Org) -> Result<(), StoreError>;
        fn insert_team(&mut self, team: &arca_core::model::NewTeam) -> Result<arca_core::model::Team, StoreError>;
        fn get_team(&mut self, org: &arca_core::names::OrgId, name: &arca_core::names::TeamName) -> Result<Option<arca_core::model::Team>, StoreError>;
        fn list_teams(&mut self, org: &arca_core::names::OrgId) -> Result<Vec<arca_core::model::Team>, StoreError>;
        fn update_team(&mut self, team: &arca_core::model::Team) -> Result<(), StoreError>;
        fn delete_team(&mut self, org: &arca_core::names::OrgId, name: &arca_core::names::TeamName) -> Result<(), StoreError>;
        fn insert_user(&mut self, user: &arca_core::model::NewUser) -> Result<arca_core::model::User, StoreError>;
        fn get_user(&mut self, id: i64) -> Result<Option<arca_core::model::User>, StoreError>;
        fn get_user_by_email(&mut self, email: &arca_core::names::Email) -> Result<Option<arca_core::model::User>, StoreError>;
        fn update_user(&mut self, user: &arca_core::model::User) -> Result<(), StoreError>;
        fn set_roles(&mut self, user_id: i64, org: &arca_core::names::OrgId, team: Option<&arca_core::names::TeamName>, roles: &[arca_auth::Role]) -> Result<(), StoreError>;
        fn grants_of_user(&mut self, user_id: i64) -> Result<Vec<arca_core::model::RoleGrant>, StoreError>;
        fn grants_in_org(&mut self, org: &arca_core::names::OrgId) -> Result<Vec<arca_core::model::RoleGrant>, StoreError>;
        fn remove_user_from_org(&mut self, user_id: i64, org: &arca_core::names::OrgId) -> Result<(), StoreError>;
        fn insert_key(&mut self, key: &arca_core::model::ApiKey) -> Result<(), StoreError>;
        fn get_key(&mut self, id: Uuid) -> Result<Option<arca_core::model::ApiKey>, StoreError>;
        fn find_key_by_hash(&mut self, secret_hash: &str) -> Result<Option<arca_core::model::ApiKey>, StoreError>;
        fn list_keys(&mut self, org: &arca_core::names::OrgId, user_id: Option<Option<i64>>) -> Result<Vec<arca_core::model::ApiKey>, StoreError>;
        fn update_key(&mut self, key: &arca_core::model::ApiKey) -> Result<(), StoreError>;
        fn delete_key(&mut self, id: Uuid) -> Result<(), StoreError>;
        fn delete_keys_of_user(&mut self, user_id: i64, org: &arca_core::names::OrgId) -> Result<u64, StoreError>;
        fn insert_blob(&mut self, blob: &arca_core::model::BlobRecord) -> Result<arca_core::model::BlobRecord, StoreError>;
        fn get_blob(&mut self, digest: &str) -> Result<Option<arca_core::model::BlobRecord>, StoreError>;
        fn insert_upload(&mut self, upload: &arca_core::model::UploadSession) -> Result<(), StoreError>;
        fn get_upload(&mut self, id: Uuid) -> Result<Option<arca_core::model::UploadSession>, StoreError>;
        fn add_upload_part(&mut self, id: Uuid, part: &UploadPart, now: chrono::DateTime<chrono::Utc>) -> Result<arca_core::model::UploadSession, StoreError>;
        fn upload_parts(&mut self, id: Uuid) -> Result<Vec<UploadPart>, StoreError>;
        fn delete_upload(&mut self, id: Uuid) -> Result<(), StoreError>;
        fn stale_uploads(&mut self, before: chrono::DateTime<chrono::Utc>) -> Result<Vec<arca_core::model::UploadSession>, StoreError>;
        fn insert_repo(&mut self, repo: &arca_core::model::NewRepository) -> Result<arca_core::model::Repository, StoreError>;
        fn get_repo(&mut self, org: &arca_core::names::OrgId, team: Option<&arca_core::names::TeamName>, name: &str) -> Result<Option<arca_core::model::Repository>, StoreError>;
        fn list_repos(&mut self, org: &arca_core::names::OrgId) -> Result<Vec<arca_core::model::Repository>, StoreError>;
        fn update_repo(&mut self, repo: &arca_core::model::Repository) -> Result<(), StoreError>;
        fn delete_repo(&mut self, repo_id: i64) -> Result<(), StoreError>;
        fn link_blob(&mut self, repo_id: i64, digest: &str) -> Result<(), StoreError>;
        fn blob_linked(&mut self, repo_id: i64, digest: &str) -> Result<bool, StoreError>;
        fn unlink_blob(&mut self, repo_id: i64, digest: &str) -> Result<(), StoreError>;
        fn put_manifest(&mut self, manifest: &arca_core::model::ManifestRecord) -> Result<(), StoreError>;
        fn get_manifest(&mut self, repo_id: i64, digest: &str) -> Result<Option<arca_core::model::ManifestRecord>, StoreError>;
        fn list_manifests(&mut self, repo_id: i64) -> Result<Vec<arca_core::model::ManifestRecord>, StoreError>;
        fn delete_manifest(&mut self, repo_id: i64, digest: &str) -> Result<(), StoreError>;
        fn referrers(&mut self, repo_id: i64, subject: &str) -> Result<Vec<arca_core::model::ManifestRecord>, StoreError>;
        fn put_tag(&mut self, tag: &arca_core::model::TagRecord) -> Result<(), StoreError>;
        fn get_tag(&mut self, repo_id: i64, name: &str) -> Result<Option<arca_core::model::TagRecord>, StoreError>;
        fn list_tags(&mut self, repo_id: i64, last: Option<&str>, limit: Option<usize>) -> Result<Vec<arca_core::model::TagRecord>, StoreError>;
        fn delete_tag(&mut self, repo_id: i64, name: &str) -> Result<(), StoreError>;
        fn add_usage(&mut self, org: &arca_core::names::OrgId, ledger: &str, digest: &str, size: u64) -> Result<bool, StoreError>;
        fn usage(&mut self, org: &arca_core::names::OrgId, ledger: &str) -> Result<u64, StoreError>;
        fn usage_holds(&mut self, org: &arca_core::names::OrgId, ledger: &str, digest: &str) -> Result<bool, StoreError>;
        fn insert_artifact(&mut self, artifact: &arca_core::model::NewArtifact) -> Result<arca_core::model::Artifact, StoreError>;
        fn get_artifact(&mut self, kind: arca_auth::ArtifactKind, org: &arca_core::names::OrgId, team: Option<&arca_core::names::TeamName>, name: &str) -> Result<Option<arca_core::model::Artifact>, StoreError>;
        fn list_artifacts(&mut self, kind: arca_auth::ArtifactKind, org: &arca_core::names::OrgId) -> Result<Vec<arca_core::model::Artifact>, StoreError>;
        fn update_artifact(&mut self, artifact: &arca_core::model::Artifact) -> Result<(), StoreError>;
        fn delete_artifact(&mut self, artifact_id: i64) -> Result<(), StoreError>;
        fn insert_version(&mut self, version: &arca_core::model::NewArtifactVersion) -> Result<arca_core::model::ArtifactVersion, StoreError>;
        fn get_version(&mut self, artifact_id: i64, version: &str) -> Result<Option<arca_core::model::ArtifactVersion>, StoreError>;
        fn list_versions(&mut self, artifact_id: i64) -> Result<Vec<arca_core::model::ArtifactVersion>, StoreError>;
        fn list_org_versions(&mut self, kind: arca_auth::ArtifactKind, org: &arca_core::names::OrgId) -> Result<Vec<arca_core::model::ArtifactVersion>, StoreError>;
        fn update_version(&mut self, version: &arca_core::model::ArtifactVersion) -> Result<(), StoreError>;
        fn delete_version(&mut self, version_id: i64) -> Result<(), StoreError>;
        fn put_version_file(&mut self, version_id: i64, file: &arca_core::model::VersionFile) -> Result<(), StoreError>;
        fn delete_version_file(&mut self, version_id: i64, path: &str) -> Result<bool, StoreError>;
        fn version_files(&mut self, version_id: i64) -> Result<Vec<arca_core::model::VersionFile>, StoreError>;
        fn add_artifact_blob(&mut self, artifact_id: i64, digest: &str, size: u64) -> Result<(), StoreError>;
        fn artifact_blob(&mut self, artifact_id: i64, digest: &str) -> Result<Option<u64>, StoreError>;
}

#[tokio::test]
async fn suite_catches_a_metadata_store_whose_rollback_commits() {
    let broken = LeakyRollbackStore(MemoryMetadataStore::new());
    let outcome = AssertUnwindSafe(conformance::rollback_discards_everything(&broken))
        .catch_unwind()
        .await;
    assert!(
        outcome.is_err(),
        "the suite must fail a store whose rollback keeps writes"
    );
    conformance::rollback_discards_everything(&MemoryMetadataStore::new()).await;
}

#[tokio::test]
async fn suite_catches_artifact_writes_that_survive_a_rollback() {
    let broken = LeakyRollbackStore(MemoryMetadataStore::new());
    let outcome = AssertUnwindSafe(conformance::artifact_writes_roll_back(&broken))
        .catch_unwind()
        .await;
    assert!(
        outcome.is_err(),
        "the suite must fail a store whose rollback keeps artifact writes"
    );
    conformance::artifact_writes_roll_back(&MemoryMetadataStore::new()).await;
}

// Adapters backed by services (PostgreSQL, S3): see the module.
#[path = "conformance/service_backed.rs"]
mod service_backed;

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
use arca_storage::postgres::PostgresMetadataStore;
use arca_storage::s3::S3BlobStore;
use arca_storage::sqlite::SqliteMetadataStore;
use async_trait::async_trait;
use futures::{FutureExt, StreamExt};
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

// ---- adapters backed by services (PostgreSQL, S3) ----------------------------------------------
//
// `scripts/services.sh` starts the services and writes `.ci-tmp/services.env`; these tests fail,
// never skip, when its variables are missing.

fn service_env(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| {
        panic!(
            "{name} is not set: run `bash scripts/services.sh`, then \
             `set -a; source .ci-tmp/services.env; set +a` (or `source scripts/services.sh`) \
             in the repository root before `cargo test`"
        )
    })
}

/// Fresh PostgreSQL schemas, one per store, dropped by [`PgSchemas::drop_all`].
struct PgSchemas {
    admin: sqlx::PgPool,
    base_url: String,
    names: Mutex<Vec<String>>,
}

impl PgSchemas {
    async fn new() -> Self {
        let base_url = service_env("ARCA_TEST_POSTGRES_URL");
        let admin = sqlx::postgres::PgPoolOptions::new()
            .max_connections(2)
            .connect(&base_url)
            .await
            .expect("connect to ARCA_TEST_POSTGRES_URL");
        Self {
            admin,
            base_url,
            names: Mutex::default(),
        }
    }

    /// A URL whose connections use a new, empty schema.
    async fn fresh_url(&self) -> String {
        let name = format!("arca_test_{}", Uuid::new_v4().simple());
        sqlx::query(&format!("CREATE SCHEMA {name}"))
            .execute(&self.admin)
            .await
            .expect("create schema");
        self.names.lock().expect("lock").push(name.clone());
        let sep = if self.base_url.contains('?') { '&' } else { '?' };
        format!("{}{sep}options%5Bsearch_path%5D={name}", self.base_url)
    }

    async fn fresh_store(&self) -> PostgresMetadataStore {
        PostgresMetadataStore::connect_with_pool_size(&self.fresh_url().await, 8)
            .await
            .expect("connect and migrate")
    }

    async fn drop_all(&self) {
        let names = std::mem::take(&mut *self.names.lock().expect("lock"));
        for name in names {
            sqlx::query(&format!("DROP SCHEMA IF EXISTS {name} CASCADE"))
                .execute(&self.admin)
                .await
                .expect("drop schema");
        }
    }

    /// Runs `test`, then drops the schemas whatever its outcome.
    async fn run<F: std::future::Future<Output = ()>>(&self, test: F) {
        let outcome = AssertUnwindSafe(test).catch_unwind().await;
        self.drop_all().await;
        if let Err(panic) = outcome {
            std::panic::resume_unwind(panic);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_metadata_store_conforms() {
    let schemas = PgSchemas::new().await;
    schemas
        .run(conformance::run_metadata_suite(|| async {
            Arc::new(schemas.fresh_store().await) as Arc<dyn MetadataStore>
        }))
        .await;
}

#[tokio::test]
async fn postgres_survives_reconnect() {
    let schemas = PgSchemas::new().await;
    schemas
        .run(async {
            let url = schemas.fresh_url().await;
            {
                let store = PostgresMetadataStore::connect(&url).await.expect("connect");
                let mut tx = store.begin().await.expect("begin");
                tx.put_setting_if_absent("k", "v").await.expect("put");
                tx.commit().await.expect("commit");
                store.close().await;
            }
            let store = PostgresMetadataStore::connect(&url)
                .await
                .expect("reconnect (migrations idempotent)");
            let mut tx = store.begin_read().await.expect("begin");
            assert_eq!(
                tx.get_setting("k").await.expect("get").as_deref(),
                Some("v")
            );
            drop(tx);
            store.close().await;
        })
        .await;
}

#[tokio::test]
async fn postgres_connect_errors_hide_the_password() {
    let base = service_env("ARCA_TEST_POSTGRES_URL");
    let wrong = base.replacen("arca:arca@", "arca:not-the-password-4711@", 1);
    let err = PostgresMetadataStore::connect(&wrong)
        .await
        .expect_err("wrong password must fail");
    let text = err.to_string();
    assert!(!text.contains("not-the-password-4711"), "{text}");
    assert!(text.contains("arca@127.0.0.1"), "names the target: {text}");
}

/// Both SQL stores keep microseconds exactly and drop what is finer, the same way.
#[tokio::test]
async fn sql_stores_round_trip_microsecond_timestamps() {
    let at = chrono::DateTime::from_timestamp(1_767_323_045, 123_456_789).expect("instant");
    let stored = chrono::DateTime::from_timestamp(1_767_323_045, 123_456_000).expect("instant");
    let org = arca_core::model::NewOrg {
        name: arca_core::names::OrgId::new("acme").expect("org id"),
        display_name: String::new(),
        description: String::new(),
        quota: Default::default(),
        created_at: at,
    };
    let check = |store: Arc<dyn MetadataStore>| {
        let org = org.clone();
        async move {
            let mut tx = store.begin().await.expect("begin");
            let inserted = tx.insert_org(&org).await.expect("insert");
            tx.commit().await.expect("commit");
            let mut tx = store.begin_read().await.expect("begin");
            let read = tx.get_org(&org.name).await.expect("get").expect("present");
            assert_eq!(inserted.created_at, stored);
            assert_eq!(read.created_at, stored);
        }
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let sqlite = SqliteMetadataStore::open(&dir.path().join("arca.db"))
        .await
        .expect("open");
    check(Arc::new(sqlite)).await;
    let schemas = PgSchemas::new().await;
    schemas
        .run(async { check(Arc::new(schemas.fresh_store().await)).await })
        .await;
}

/// A fresh S3 store under a random prefix of ARCA_TEST_S3_URL, and that prefix.
fn fresh_s3() -> (S3BlobStore, String) {
    let url = format!(
        "{}/{}",
        service_env("ARCA_TEST_S3_URL").trim_end_matches('/'),
        Uuid::new_v4().simple()
    );
    (S3BlobStore::from_url(&url).expect("S3 store"), url)
}

/// Every object key under an S3 URL's prefix (tests may list; the store never does).
async fn s3_keys(url: &str) -> Vec<String> {
    let rest = url.strip_prefix("s3://").expect("s3 URL");
    let (bucket, prefix) = rest.split_once('/').expect("prefix");
    let store = object_store::aws::AmazonS3Builder::from_env()
        .with_bucket_name(bucket)
        .build()
        .expect("S3 client");
    let prefix = object_store::path::Path::from(prefix);
    use futures::TryStreamExt;
    object_store::ObjectStore::list(&store, Some(&prefix))
        .map_ok(|m| m.location.to_string())
        .try_collect()
        .await
        .expect("list")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn s3_blob_store_conforms() {
    conformance::run_blob_suite(|| async { Arc::new(fresh_s3().0) as Arc<dyn BlobStore> }).await;
}

/// The same suite with every blob over 1 MiB promoted by streaming instead of a server-side
/// copy (the path taken by blobs over S3's 5 GiB copy limit).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn s3_blob_store_conforms_with_streamed_promotion() {
    conformance::run_blob_suite(|| async {
        Arc::new(fresh_s3().0.with_copy_limit(1024 * 1024)) as Arc<dyn BlobStore>
    })
    .await;
}

#[tokio::test]
async fn s3_failed_writes_leave_nothing() {
    let (store, url) = fresh_s3();
    conformance::digest_mismatch_stores_nothing(&store).await;
    conformance::failed_body_stores_nothing(&store).await;
    let data = vec![7u8; 100];
    let err = store
        .put(None, Some(99), futures::stream::iter([Ok(bytes::Bytes::from(data))]).boxed())
        .await;
    assert!(matches!(err, Err(BlobError::TooLarge { limit: 99 })));
    assert_eq!(s3_keys(&url).await, Vec::<String>::new(), "no object left");
}

/// 1 MiB chunks of a deterministic pattern, made on the fly (never the whole body in memory).
fn generated_body(chunks: usize) -> ByteStream {
    futures::stream::iter(0..chunks)
        .map(|i| {
            let chunk: Vec<u8> = (0..1024 * 1024).map(|j| ((i * 7 + j) % 251) as u8).collect();
            Ok(bytes::Bytes::from(chunk))
        })
        .boxed()
}

async fn sha256_of(mut body: ByteStream) -> (Digest, u64) {
    use sha2::Digest as _;
    let mut hasher = sha2::Sha256::new();
    let mut size = 0u64;
    while let Some(chunk) = body.next().await {
        let chunk = chunk.expect("chunk");
        size += chunk.len() as u64;
        hasher.update(&chunk);
    }
    let digest = format!("sha256:{}", hex::encode(hasher.finalize()));
    (digest.parse().expect("digest"), size)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn s3_put_streams_a_64_mib_body() {
    let (store, url) = fresh_s3();
    let (digest, size) = sha256_of(generated_body(64)).await;
    assert_eq!(size, 64 * 1024 * 1024);
    let stored = store
        .put(Some(&digest), Some(size), generated_body(64))
        .await
        .expect("put 64 MiB");
    assert_eq!((stored.digest.clone(), stored.size), (digest.clone(), size));
    assert_eq!(store.stat(&digest).await.expect("stat"), Some(size));
    let read = store.get(&digest, None).await.expect("get");
    assert_eq!(sha256_of(read.body).await, (digest.clone(), size));
    let tail = ByteRange {
        start: size - 10,
        end: size - 1,
    };
    let (tail_digest, tail_len) = sha256_of(store.get(&digest, Some(tail)).await.expect("range").body).await;
    assert_eq!(tail_len, 10);
    let last_chunk: Vec<u8> = (0..1024 * 1024).map(|j| ((63 * 7 + j) % 251) as u8).collect();
    let expected_tail = futures::stream::iter([Ok(bytes::Bytes::copy_from_slice(
        &last_chunk[last_chunk.len() - 10..],
    ))])
    .boxed();
    assert_eq!(sha256_of(expected_tail).await.0, tail_digest);
    let keys = s3_keys(&url).await;
    assert_eq!(keys.len(), 1, "only the blob, no staging left: {keys:?}");
}

/// An upload begun on one replica completes on another: the only state is what the metadata
/// store keeps (backend_state and the part receipts).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn s3_upload_completes_on_a_second_instance() {
    let (first, url) = fresh_s3();
    let id = Uuid::new_v4();
    let state = first.create_upload(id).await.expect("create");
    let part1 = first
        .put_part(id, &state, 1, generated_body(5))
        .await
        .expect("part 1");
    let part2 = first
        .put_part(id, &state, 2, generated_body(2))
        .await
        .expect("part 2");
    let recorded = vec![
        UploadPart {
            number: 1,
            offset: 0,
            size: part1.size,
            etag: part1.etag,
        },
        UploadPart {
            number: 2,
            offset: part1.size,
            size: part2.size,
            etag: part2.etag,
        },
    ];
    drop(first);
    let second = S3BlobStore::from_url(&url).expect("second instance");
    let whole = generated_body(5).chain(generated_body(2)).boxed();
    let (digest, size) = sha256_of(whole).await;
    let stored = second
        .complete_upload(id, &state, &recorded, Some(&digest))
        .await
        .expect("complete on the second instance");
    assert_eq!((stored.digest.clone(), stored.size), (digest.clone(), size));
    let read = second.get(&digest, None).await.expect("get");
    assert_eq!(sha256_of(read.body).await, (digest, size));
    let keys = s3_keys(&url).await;
    assert_eq!(keys.len(), 1, "only the blob, no staging left: {keys:?}");
}

//! The adapters backed by services, PostgreSQL and S3, against the same conformance suite,
//! plus what only they can get wrong (schemas and reconnects, streaming, restarts).
//!
//! `scripts/services.sh` starts the services and writes `.ci-tmp/services.env`; these tests fail,
//! never skip, when its variables are missing.

use arca_core::model::UploadPart;
use arca_core::ports::{BlobError, BlobStore, ByteRange, ByteStream, MetadataStore, PartReceipt};
use arca_oci::Digest;
use arca_storage::conformance;
use arca_storage::postgres::PostgresMetadataStore;
use arca_storage::s3::S3BlobStore;
use arca_storage::sqlite::SqliteMetadataStore;
use futures::{FutureExt, StreamExt};
use std::panic::AssertUnwindSafe;
use std::sync::{Arc, Mutex};
use uuid::Uuid;

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
        let sep = if self.base_url.contains('?') {
            '&'
        } else {
            '?'
        };
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

/// Fresh S3 stores, each under a random prefix of ARCA_TEST_S3_URL; [`S3Prefixes::run`] deletes
/// what they stored (tests may list; the store never does).
#[derive(Default)]
struct S3Prefixes(Mutex<Vec<String>>);

impl S3Prefixes {
    /// A new store and its URL.
    fn fresh(&self) -> (S3BlobStore, String) {
        let url = format!(
            "{}/{}",
            service_env("ARCA_TEST_S3_URL").trim_end_matches('/'),
            Uuid::new_v4().simple()
        );
        self.0.lock().expect("lock").push(url.clone());
        (S3BlobStore::from_url(&url).expect("S3 store"), url)
    }

    /// Runs `test`, then deletes every object under the prefixes whatever its outcome.
    async fn run<F: std::future::Future<Output = ()>>(&self, test: F) {
        let outcome = AssertUnwindSafe(test).catch_unwind().await;
        let urls = std::mem::take(&mut *self.0.lock().expect("lock"));
        for url in urls {
            let (store, _) = raw_s3(&url);
            for key in s3_keys(&url).await {
                let _ = object_store::ObjectStore::delete(&store, &key.into()).await;
            }
        }
        if let Err(panic) = outcome {
            std::panic::resume_unwind(panic);
        }
    }
}

/// A plain object_store client for the bucket of an S3 URL, and the URL's prefix.
fn raw_s3(url: &str) -> (object_store::aws::AmazonS3, object_store::path::Path) {
    let rest = url.strip_prefix("s3://").expect("s3 URL");
    let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
    let store = object_store::aws::AmazonS3Builder::from_env()
        .with_bucket_name(bucket)
        .build()
        .expect("S3 client");
    (store, object_store::path::Path::from(prefix))
}

/// Every object key under an S3 URL's prefix.
async fn s3_keys(url: &str) -> Vec<String> {
    use futures::TryStreamExt;
    let (store, prefix) = raw_s3(url);
    object_store::ObjectStore::list(&store, Some(&prefix))
        .map_ok(|m| m.location.to_string())
        .try_collect()
        .await
        .expect("list")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn s3_blob_store_conforms() {
    let s3 = S3Prefixes::default();
    s3.run(conformance::run_blob_suite(|| async {
        Arc::new(s3.fresh().0) as Arc<dyn BlobStore>
    }))
    .await;
}

/// The same suite with every blob over 1 MiB promoted by streaming instead of a server-side
/// copy (the path taken by blobs over S3's 5 GiB copy limit).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn s3_blob_store_conforms_with_streamed_promotion() {
    let s3 = S3Prefixes::default();
    s3.run(conformance::run_blob_suite(|| async {
        Arc::new(s3.fresh().0.with_copy_limit(1024 * 1024)) as Arc<dyn BlobStore>
    }))
    .await;
}

#[tokio::test]
async fn s3_failed_writes_leave_nothing() {
    let s3 = S3Prefixes::default();
    s3.run(async {
        let (store, url) = s3.fresh();
        conformance::digest_mismatch_stores_nothing(&store).await;
        conformance::failed_body_stores_nothing(&store).await;
        let body = futures::stream::iter([Ok(bytes::Bytes::from(vec![7u8; 100]))]).boxed();
        let err = store.put(None, Some(99), body).await;
        assert!(matches!(err, Err(BlobError::TooLarge { limit: 99 })));
        assert_eq!(s3_keys(&url).await, Vec::<String>::new(), "no object left");
    })
    .await;
}

#[tokio::test]
async fn s3_ping_checks_the_bucket() {
    let s3 = S3Prefixes::default();
    s3.run(async {
        s3.fresh().0.ping().await.expect("ping");
        let missing = S3BlobStore::from_url(&format!("s3://no-such-bucket-{}/x", Uuid::new_v4()))
            .expect("store");
        assert!(
            missing.ping().await.is_err(),
            "a missing bucket is not ready"
        );
    })
    .await;
}

/// 1 MiB chunk number `i` of a deterministic pattern.
fn chunk(i: usize) -> Vec<u8> {
    (0..1024 * 1024)
        .map(|j| ((i * 7 + j) % 251) as u8)
        .collect()
}

/// `n` chunks made on the fly, starting at chunk `from` (never the whole body in memory).
fn generated_body(from: usize, n: usize) -> ByteStream {
    futures::stream::iter(from..from + n)
        .map(|i| Ok(bytes::Bytes::from(chunk(i))))
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
    let s3 = S3Prefixes::default();
    s3.run(async {
        let (store, url) = s3.fresh();
        let (digest, size) = sha256_of(generated_body(0, 64)).await;
        assert_eq!(size, 64 * 1024 * 1024);
        let stored = store
            .put(Some(&digest), Some(size), generated_body(0, 64))
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
        let read = store.get(&digest, Some(tail)).await.expect("range");
        assert_eq!((read.size, read.range), (size, Some(tail)));
        let bytes: Vec<bytes::Bytes> = read.body.map(|c| c.expect("chunk")).collect().await;
        assert_eq!(bytes.concat(), chunk(63)[1024 * 1024 - 10..]);
        let keys = s3_keys(&url).await;
        assert_eq!(keys.len(), 1, "only the blob, no staging left: {keys:?}");
    })
    .await;
}

fn recorded(parts: &[(u32, PartReceipt)]) -> Vec<UploadPart> {
    let mut offset = 0;
    parts
        .iter()
        .map(|(number, r)| {
            let part = UploadPart {
                number: *number,
                offset,
                size: r.size,
                etag: r.etag.clone(),
            };
            offset += r.size;
            part
        })
        .collect()
}

/// An upload begun on one replica completes on another: the only state is what the metadata
/// store keeps (backend_state and the part receipts).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn s3_upload_completes_on_a_second_instance() {
    let s3 = S3Prefixes::default();
    s3.run(async {
        let (first, url) = s3.fresh();
        let id = Uuid::new_v4();
        let state = first.create_upload(id).await.expect("create");
        let p1 = first.put_part(id, &state, 1, generated_body(0, 5)).await;
        let p2 = first.put_part(id, &state, 2, generated_body(5, 2)).await;
        let parts = recorded(&[(1, p1.expect("part 1")), (2, p2.expect("part 2"))]);
        drop(first);
        let second = S3BlobStore::from_url(&url).expect("second instance");
        let (digest, size) = sha256_of(generated_body(0, 7)).await;
        let stored = second
            .complete_upload(id, &state, &parts, Some(&digest))
            .await
            .expect("complete on the second instance");
        assert_eq!((stored.digest.clone(), stored.size), (digest.clone(), size));
        let read = second.get(&digest, None).await.expect("get");
        assert_eq!(sha256_of(read.body).await, (digest, size));
        let keys = s3_keys(&url).await;
        assert_eq!(keys.len(), 1, "only the blob, no staging left: {keys:?}");
    })
    .await;
}

/// A part replaced after its receipt was recorded is refused at completion (S3 checks the
/// recorded ETag), and the upload stays usable with the right receipt.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn s3_complete_refuses_a_part_replaced_after_it_was_recorded() {
    let s3 = S3Prefixes::default();
    s3.run(async {
        let (store, _) = s3.fresh();
        let id = Uuid::new_v4();
        let state = store.create_upload(id).await.expect("create");
        let old = store.put_part(id, &state, 1, generated_body(0, 1)).await;
        let new = store.put_part(id, &state, 1, generated_body(1, 1)).await;
        let (old, new) = (old.expect("part"), new.expect("retry"));
        assert_eq!(old.size, new.size);
        assert_ne!(old.etag, new.etag, "a replaced part gets a new receipt");
        let err = store
            .complete_upload(id, &state, &recorded(&[(1, old)]), None)
            .await;
        assert!(
            matches!(err, Err(BlobError::UploadUnknown(_))),
            "stale receipt must be refused: {:?}",
            err.map(|s| s.digest.to_string())
        );
        let gap = recorded(&[(2, new.clone())]);
        assert!(matches!(
            store.complete_upload(id, &state, &gap, None).await,
            Err(BlobError::UploadUnknown(_))
        ));
        let stored = store
            .complete_upload(id, &state, &recorded(&[(1, new)]), None)
            .await
            .expect("complete with the current receipt");
        assert_eq!(stored.digest, sha256_of(generated_body(1, 1)).await.0);
    })
    .await;
}

/// R-KEY-1 under real concurrency on PostgreSQL, through the core use case: 32 concurrent
/// requests for a personal key, with 1 of the 8 allowed already taken by the bootstrap key:
/// exactly 7 succeed, every other one is refused for the limit (never a conflict error).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_concurrent_key_creation_respects_the_limit() {
    use arca_core::keys::PersonalKeyRequest;
    use arca_core::service::BootstrapRequest;
    use arca_core::{Arca, CoreError};
    let schemas = PgSchemas::new().await;
    schemas
        .run(async {
            let store = schemas.fresh_store().await;
            let arca = Arca::new(
                Arc::new(store),
                Arc::new(arca_storage::memory::MemoryBlobStore::new()),
                Arc::new(arca_storage::system::SystemClock),
                Arc::new(arca_storage::system::OsRandom),
            );
            let boot = arca
                .bootstrap(BootstrapRequest {
                    org: arca_core::names::OrgId::new("acme").expect("org"),
                    display_name: None,
                    owner_email: arca_core::names::Email::new("o@acme.io").expect("email"),
                })
                .await
                .expect("bootstrap");
            let p = arca
                .authenticate_bearer(boot.secret.expose_secret())
                .await
                .expect("login");
            let mut tasks = Vec::new();
            for i in 0..32 {
                let arca = arca.clone();
                let p = p.clone();
                tasks.push(tokio::spawn(async move {
                    arca.create_personal_key(
                        &p,
                        PersonalKeyRequest {
                            name: format!("k{i}"),
                            expiry: arca_auth::ExpiryChoice::Never,
                            services: vec![],
                        },
                    )
                    .await
                }));
            }
            let mut ok = 0;
            for t in tasks {
                match t.await.expect("task") {
                    Ok(_) => ok += 1,
                    Err(CoreError::LimitReached(_)) => {}
                    Err(other) => panic!("unexpected error under concurrency: {other}"),
                }
            }
            assert_eq!(ok, 7, "exactly the allowed number of keys may be created");
        })
        .await;
}

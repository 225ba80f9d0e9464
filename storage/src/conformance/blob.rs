//! Conformance test functions for [`BlobStore`] adapters.

use arca_core::model::UploadPart;
use arca_core::ports::{BlobError, BlobStore, ByteRange, ByteStream};
use arca_oci::Digest;
use bytes::Bytes;
use futures::StreamExt;
use sha2::{Digest as _, Sha256};
use std::sync::Arc;
use uuid::Uuid;

// ---------------------------------------------------------------------------------------------

fn digest_of(data: &[u8]) -> Digest {
    format!("sha256:{}", hex::encode(Sha256::digest(data)))
        .parse()
        .expect("valid digest")
}

fn chunks(data: &[u8], size: usize) -> ByteStream {
    let v: Vec<Result<Bytes, std::io::Error>> = data
        .chunks(size.max(1))
        .map(|c| Ok(Bytes::copy_from_slice(c)))
        .collect();
    futures::stream::iter(v).boxed()
}

async fn read_all(body: ByteStream) -> Vec<u8> {
    let parts: Vec<Bytes> = body.map(|c| c.expect("read chunk")).collect().await;
    parts.concat()
}

fn pattern(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 31 % 251) as u8).collect()
}

/// Runs every blob-store test function, each against a fresh store from `make`.
pub async fn run_blob_suite<F, Fut>(make: F)
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = Arc<dyn BlobStore>>,
{
    put_get_ranges(make().await.as_ref()).await;
    empty_blob(make().await.as_ref()).await;
    digest_mismatch_stores_nothing(make().await.as_ref()).await;
    too_large_stores_nothing(make().await.as_ref()).await;
    failed_body_stores_nothing(make().await.as_ref()).await;
    put_is_idempotent_and_delete(make().await.as_ref()).await;
    multipart_upload(make().await.as_ref()).await;
    multipart_mismatch_and_abort(make().await.as_ref()).await;
}

/// Put with and without an expected digest, stat, full and ranged reads.
pub async fn put_get_ranges(store: &dyn BlobStore) {
    let data = pattern(3 * 1024 * 1024 + 17);
    let d = digest_of(&data);
    let stored = store
        .put(Some(&d), None, chunks(&data, 64 * 1024))
        .await
        .expect("put");
    assert_eq!(stored.digest, d);
    assert_eq!(stored.size, data.len() as u64);
    assert_eq!(store.stat(&d).await.expect("stat"), Some(data.len() as u64));
    let whole = store.get(&d, None).await.expect("get");
    assert_eq!(whole.size, data.len() as u64);
    assert!(read_all(whole.body).await == data, "full read differs");
    let r = ByteRange {
        start: 100,
        end: 70_000,
    };
    let part = store.get(&d, Some(r)).await.expect("range");
    assert_eq!(part.range, Some(r));
    assert!(
        read_all(part.body).await == data[100..=70_000],
        "range read differs"
    );
    let last = ByteRange {
        start: data.len() as u64 - 1,
        end: data.len() as u64 - 1,
    };
    assert_eq!(
        read_all(store.get(&d, Some(last)).await.expect("last").body).await,
        [data[data.len() - 1]]
    );
    let beyond = ByteRange {
        start: 0,
        end: data.len() as u64,
    };
    assert!(matches!(
        store.get(&d, Some(beyond)).await,
        Err(BlobError::RangeNotSatisfiable { .. })
    ));
    let other = pattern(10);
    let computed = store
        .put(None, None, chunks(&other, 3))
        .await
        .expect("put without digest");
    assert_eq!(
        computed.digest,
        digest_of(&other),
        "digest computed while streaming"
    );
    let unknown = digest_of(b"never stored");
    assert!(matches!(
        store.get(&unknown, None).await,
        Err(BlobError::NotFound(_))
    ));
    assert_eq!(store.stat(&unknown).await.expect("stat"), None);
}

/// The empty blob is a blob like any other.
pub async fn empty_blob(store: &dyn BlobStore) {
    let d = digest_of(b"");
    let s = store
        .put(Some(&d), None, futures::stream::empty().boxed())
        .await
        .expect("put empty");
    assert_eq!(s.size, 0);
    let r = store.get(&d, None).await.expect("get empty");
    assert_eq!(r.size, 0);
    assert!(read_all(r.body).await.is_empty());
}

/// Bytes that do not hash to the announced digest are rejected and stored under no digest.
pub async fn digest_mismatch_stores_nothing(store: &dyn BlobStore) {
    let data = pattern(100_000);
    let wrong = digest_of(b"something else");
    let err = store.put(Some(&wrong), None, chunks(&data, 4096)).await;
    assert!(
        matches!(err, Err(BlobError::DigestMismatch { .. })),
        "mismatch must be reported, got {:?}",
        err.map(|s| s.digest.to_string())
    );
    assert_eq!(
        store.stat(&wrong).await.expect("stat"),
        None,
        "nothing under the announced digest"
    );
    assert_eq!(
        store.stat(&digest_of(&data)).await.expect("stat"),
        None,
        "nothing under the computed digest"
    );
}

/// A body that grows beyond `max_size` is cut off and nothing is stored.
pub async fn too_large_stores_nothing(store: &dyn BlobStore) {
    let data = pattern(10_000);
    let err = store.put(None, Some(9_999), chunks(&data, 1000)).await;
    assert!(matches!(err, Err(BlobError::TooLarge { limit: 9_999 })));
    assert_eq!(store.stat(&digest_of(&data)).await.expect("stat"), None);
    store
        .put(None, Some(10_000), chunks(&data, 1000))
        .await
        .expect("at the limit is fine");
}

/// A body stream that fails midway stores nothing.
pub async fn failed_body_stores_nothing(store: &dyn BlobStore) {
    let data = pattern(5000);
    let body = futures::stream::iter(vec![
        Ok(Bytes::copy_from_slice(&data[..2000])),
        Err(std::io::Error::new(
            std::io::ErrorKind::ConnectionReset,
            "client went away",
        )),
    ])
    .boxed();
    let err = store.put(None, None, body).await;
    assert!(matches!(err, Err(BlobError::Body(_))));
    assert_eq!(
        store.stat(&digest_of(&data[..2000])).await.expect("stat"),
        None
    );
}

/// Storing the same bytes twice is harmless; delete removes.
pub async fn put_is_idempotent_and_delete(store: &dyn BlobStore) {
    let data = pattern(1000);
    let d = digest_of(&data);
    store
        .put(Some(&d), None, chunks(&data, 100))
        .await
        .expect("put");
    store
        .put(Some(&d), None, chunks(&data, 7))
        .await
        .expect("put again");
    assert!(read_all(store.get(&d, None).await.expect("get").body).await == data);
    assert!(store.delete(&d).await.expect("delete"));
    assert!(!store.delete(&d).await.expect("delete again"));
    assert_eq!(store.stat(&d).await.expect("stat"), None);
}

/// Parts in any order, a retried part replaces the first try, complete in part order.
/// Parts are 5 MiB (S3's minimum for all but the last part).
pub async fn multipart_upload(store: &dyn BlobStore) {
    const P: usize = 5 * 1024 * 1024;
    let data = pattern(2 * P + 12_345);
    let id = Uuid::new_v4();
    let state = store.create_upload(id).await.expect("create");
    let (a, b, c) = (&data[..P], &data[P..2 * P], &data[2 * P..]);
    let r3 = store
        .put_part(id, &state, 3, chunks(c, 65536))
        .await
        .expect("part 3");
    let _bad = store
        .put_part(id, &state, 1, chunks(b"garbage", 3))
        .await
        .expect("first try");
    let r1 = store
        .put_part(id, &state, 1, chunks(a, 65536))
        .await
        .expect("part 1 retry");
    let r2 = store
        .put_part(id, &state, 2, chunks(b, 65536))
        .await
        .expect("part 2");
    assert_eq!((r1.size, r2.size, r3.size), (P as u64, P as u64, 12_345));
    let parts: Vec<UploadPart> = [(1, 0, r1), (2, P as u64, r2), (3, 2 * P as u64, r3)]
        .into_iter()
        .map(|(n, off, r)| UploadPart {
            number: n,
            offset: off,
            size: r.size,
            etag: r.etag,
        })
        .collect();
    let mut wrong = parts.clone();
    wrong[2].size += 1;
    assert!(
        matches!(
            store.complete_upload(id, &state, &wrong, None).await,
            Err(BlobError::UploadUnknown(_))
        ),
        "a part whose size differs from the record must be refused"
    );
    let d = digest_of(&data);
    let stored = store
        .complete_upload(id, &state, &parts, Some(&d))
        .await
        .expect("complete");
    assert_eq!(stored.digest, d);
    assert_eq!(stored.size, data.len() as u64);
    assert!(read_all(store.get(&d, None).await.expect("get").body).await == data);
    assert!(
        store
            .complete_upload(id, &state, &parts, Some(&d))
            .await
            .is_err(),
        "a completed upload's parts are gone"
    );
}

/// A mismatched completion makes nothing visible; abort removes the parts.
pub async fn multipart_mismatch_and_abort(store: &dyn BlobStore) {
    let data = pattern(200_000);
    let id = Uuid::new_v4();
    let state = store.create_upload(id).await.expect("create");
    let r = store
        .put_part(id, &state, 1, chunks(&data, 10_000))
        .await
        .expect("part");
    let parts = vec![UploadPart {
        number: 1,
        offset: 0,
        size: r.size,
        etag: r.etag,
    }];
    let wrong = digest_of(b"x");
    assert!(matches!(
        store
            .complete_upload(id, &state, &parts, Some(&wrong))
            .await,
        Err(BlobError::DigestMismatch { .. })
    ));
    assert_eq!(store.stat(&wrong).await.expect("stat"), None);
    assert_eq!(
        store.stat(&digest_of(&data)).await.expect("stat"),
        None,
        "nothing visible after a mismatch"
    );
    store.abort_upload(id, &state).await.expect("abort");
    assert!(
        store
            .complete_upload(id, &state, &parts, None)
            .await
            .is_err(),
        "aborted parts are gone"
    );
    store
        .abort_upload(id, &state)
        .await
        .expect("abort is idempotent");
}

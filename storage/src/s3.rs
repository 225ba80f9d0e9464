//! S3 [`BlobStore`] (AWS S3 or any S3-compatible object store), through the `object_store`
//! crate: the shared blob store of a multi-replica deployment.
//!
//! **Configuration** comes from the URL `s3://<bucket>/<prefix>` and, as for the AWS tools, from
//! the environment: `AWS_ENDPOINT_URL` (for S3-compatible stores), `AWS_REGION` (default
//! `us-east-1`), `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`,
//! `AWS_ALLOW_HTTP`, and the other `AWS_*` variables `object_store` knows (web identity,
//! container credentials, instance metadata). Credentials never appear in errors or logs.
//!
//! **Layout** under the prefix:
//! - `blobs/<algorithm>/<hex>`: verified, immutable blobs, under their digest;
//! - `uploads/<id>`: staging objects. A [`BlobStore::put`] streams into `uploads/<random id>`; a
//!   multi-part upload is an S3 multipart upload on `uploads/<upload id>`, completed into that
//!   key.
//!
//! **Visibility.** Bytes are hashed while they stream into the staging object; only when the
//! digest matches is the object copied to its content address (server-side `CopyObject` up to
//! [`S3BlobStore::with_copy_limit`], 5 GiB by default, S3's limit; larger objects are copied by
//! streaming them, hashed once more, into a multipart upload that is completed only if the
//! digest still matches). So a key under `blobs/` holds verified bytes or does not exist; a
//! mismatch, a body error or an oversized body leaves nothing there. Copying onto an existing
//! blob is skipped (same address, same bytes).
//!
//! **Multi-part uploads** keep no state in the bucket that Arca needs to list: the multipart
//! upload id is the session's `backend_state`, and each [`PartReceipt::etag`] is
//! `<size>:<S3 ETag>`, kept in the metadata store. Completion checks that the recorded sizes
//! match the receipts and that the parts are numbered `1..=N` in order (S3 concatenates parts
//! by number), lets S3 check every ETag (a part replaced after it was recorded fails), checks
//! the completed object's size, then hashes it. On a digest mismatch the completed staging
//! object is kept, so a later completion with the right digest still works; an abort removes
//! it. Nothing ever lists multipart uploads.
//!
//! **Memory.** Bodies stream: `put` holds at most a few parts of [`PUT_PART_SIZE`] (larger
//! parts when `max_size` needs more than S3's 10,000 parts; without `max_size` a body can reach
//! about 97 GiB). An upload part must be sent to S3 with
//! its length, so [`BlobStore::put_part`] buffers one part, refusing parts larger than
//! [`S3BlobStore::with_max_part_size`] (64 MiB by default) with [`BlobError::TooLarge`].
//!
//! **Retries.** Throttling (`SlowDown`, 503), 5xx answers and connection errors are retried with
//! exponential backoff (100 ms doubling to 15 s, at most 10 times, within 3 minutes), and
//! interrupted downloads resume where they stopped. Writes time out after 5 minutes; reads
//! have no overall timeout, since a blob download lasts as long as the client reading it.
//!
//! **Housekeeping.** A crash can leave staging objects and incomplete multipart uploads under
//! `uploads/`; configure the bucket's lifecycle rules to expire `uploads/` objects and abort
//! incomplete multipart uploads after a few days (longer than the upload-session expiry).

use crate::blob_common::{hash_stream, slice_range, verify, ChunkSink, HashedBytes};
use arca_core::model::UploadPart;
use arca_core::ports::{
    BlobError, BlobRead, BlobStore, ByteRange, ByteStream, PartReceipt, StoredBlob,
};
use arca_oci::Digest;
use async_trait::async_trait;
use bytes::Bytes;
use futures::{StreamExt, TryStreamExt};
use object_store::aws::{AmazonS3, AmazonS3Builder, AmazonS3ConfigKey};
use object_store::buffered::BufWriter;
use object_store::list::{PaginatedListOptions, PaginatedListStore};
use object_store::multipart::{MultipartStore, PartId};
use object_store::path::Path;
use object_store::{
    BackoffConfig, ClientConfigKey, ClientOptions, GetOptions, GetRange, ObjectStore, PutPayload,
    RetryConfig,
};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::AsyncWriteExt;
use uuid::Uuid;

const MIB: u64 = 1024 * 1024;
/// The smallest part S3 accepts for any part but the last.
pub const MIN_PART_SIZE: u64 = 5 * MIB;
/// Part size of the multipart uploads [`BlobStore::put`] streams into.
pub const PUT_PART_SIZE: u64 = 10 * MIB;
/// Largest object S3 copies server-side in one request (`CopyObject`).
pub const DEFAULT_COPY_LIMIT: u64 = 5 * 1024 * MIB;
/// Largest part [`BlobStore::put_part`] accepts by default (it buffers one part in memory).
pub const DEFAULT_MAX_PART_SIZE: u64 = 64 * MIB;
/// S3's limit on the number of parts of a multipart upload.
const MAX_PARTS: u64 = 10_000;
/// Parts of one `put` in flight at once.
const PUT_CONCURRENCY: usize = 2;

/// A [`BlobStore`] in an S3 bucket, under a key prefix.
#[derive(Clone)]
pub struct S3BlobStore {
    /// For writes and metadata requests (with a request timeout).
    s3: Arc<AmazonS3>,
    /// For streaming reads (no overall timeout).
    reader: Arc<AmazonS3>,
    bucket: String,
    prefix: Path,
    copy_limit: u64,
    max_part_size: u64,
}

impl std::fmt::Debug for S3BlobStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("S3BlobStore")
            .field("bucket", &self.bucket)
            .field("prefix", &self.prefix.as_ref())
            .finish_non_exhaustive()
    }
}

/// An error's text without what S3 echoes of the caller's credentials (a failed signature
/// check answers with the access key id and the signature).
fn describe(e: &dyn std::fmt::Display) -> String {
    let mut text = e.to_string();
    for tag in [
        "AWSAccessKeyId",
        "SignatureProvided",
        "StringToSign",
        "CanonicalRequest",
    ] {
        let (open, close) = (format!("<{tag}>"), format!("</{tag}>"));
        let mut from = 0;
        while let Some(start) = text[from..].find(&open).map(|i| from + i + open.len()) {
            let Some(end) = text[start..].find(&close).map(|i| start + i) else {
                text.truncate(start);
                text.push_str("[redacted]");
                break;
            };
            text.replace_range(start..end, "[redacted]");
            from = start + "[redacted]".len() + close.len();
        }
    }
    text
}

fn backend(e: object_store::Error) -> BlobError {
    BlobError::Backend(describe(&e))
}

fn is_not_found(e: &object_store::Error) -> bool {
    matches!(e, object_store::Error::NotFound { .. })
}

/// Errors of multipart requests: a missing upload or a part S3 does not know is
/// [`BlobError::UploadUnknown`]; anything else is a backend failure.
fn multipart_err(e: object_store::Error, what: &str) -> BlobError {
    let text = describe(&e);
    if is_not_found(&e) || text.contains("NoSuchUpload") || text.contains("InvalidPart") {
        BlobError::UploadUnknown(format!("{what}: {text}"))
    } else if text.contains("EntityTooSmall") {
        BlobError::UploadUnknown(format!(
            "{what}: a part other than the last is smaller than {MIN_PART_SIZE} bytes"
        ))
    } else {
        BlobError::Backend(text)
    }
}

/// Parses `s3://bucket[/prefix]`.
fn parse_url(url: &str) -> Result<(String, String), BlobError> {
    let rest = url
        .strip_prefix("s3://")
        .ok_or_else(|| BlobError::Backend(format!("not an s3:// URL: {url:?}")))?;
    let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
    if bucket.is_empty() {
        return Err(BlobError::Backend(format!("no bucket in {url:?}")));
    }
    Ok((bucket.to_string(), prefix.trim_matches('/').to_string()))
}

/// Part size for streaming `max_size` bytes (or an unknown size) in at most [`MAX_PARTS`] parts.
fn put_part_size(max_size: Option<u64>) -> usize {
    let needed = max_size.map_or(0, |m| m.div_ceil(MAX_PARTS).div_ceil(MIB) * MIB);
    usize::try_from(needed.clamp(PUT_PART_SIZE, DEFAULT_COPY_LIMIT)).unwrap_or(usize::MAX)
}

/// Sends hashed chunks to a buffered (multipart) upload.
struct WriterSink(BufWriter);

#[async_trait]
impl ChunkSink for WriterSink {
    async fn write(&mut self, chunk: &Bytes) -> Result<(), BlobError> {
        self.0.put(chunk.clone()).await.map_err(backend)
    }
}

/// Drops chunks: for hashing an object that is already stored.
struct Discard;

#[async_trait]
impl ChunkSink for Discard {
    async fn write(&mut self, _chunk: &Bytes) -> Result<(), BlobError> {
        Ok(())
    }
}

impl S3BlobStore {
    /// A store in `url` = `s3://<bucket>/<prefix>` (the prefix may be empty), configured from
    /// the `AWS_*` environment variables (see the module docs). Nothing is contacted yet; use
    /// [`BlobStore::ping`] to check the bucket answers.
    pub fn from_url(url: &str) -> Result<Self, BlobError> {
        let (bucket, prefix) = parse_url(url)?;
        let retry = RetryConfig {
            backoff: BackoffConfig {
                init_backoff: Duration::from_millis(100),
                max_backoff: Duration::from_secs(15),
                base: 2.0,
            },
            max_retries: 10,
            retry_timeout: Duration::from_secs(180),
        };
        let build = |timeout: Option<Duration>| {
            let base = AmazonS3Builder::from_env().with_bucket_name(&bucket);
            let mut options = ClientOptions::new().with_connect_timeout(Duration::from_secs(10));
            options = match timeout {
                Some(t) => options.with_timeout(t),
                None => options.with_timeout_disabled(),
            };
            // Client options set wholesale replace the ones read from the environment.
            let allow_http = AmazonS3ConfigKey::Client(ClientConfigKey::AllowHttp);
            if let Some(v) = base.get_config_value(&allow_http) {
                options = options.with_config(ClientConfigKey::AllowHttp, v);
            }
            base.with_client_options(options)
                .with_retry(retry.clone())
                .build()
                .map(Arc::new)
                .map_err(|e| BlobError::Backend(format!("S3 configuration: {e}")))
        };
        Ok(Self {
            s3: build(Some(Duration::from_secs(300)))?,
            reader: build(None)?,
            bucket,
            prefix: Path::from(prefix),
            copy_limit: DEFAULT_COPY_LIMIT,
            max_part_size: DEFAULT_MAX_PART_SIZE,
        })
    }

    /// Blobs larger than `bytes` are copied to their content address by streaming them through
    /// this process instead of by a server-side copy (for stores with a smaller copy limit, or
    /// none: 0 streams every blob). Default [`DEFAULT_COPY_LIMIT`].
    pub fn with_copy_limit(mut self, bytes: u64) -> Self {
        self.copy_limit = bytes;
        self
    }

    /// The largest part [`BlobStore::put_part`] accepts (it holds one part in memory; S3 allows
    /// up to 5 GiB). Default [`DEFAULT_MAX_PART_SIZE`].
    pub fn with_max_part_size(mut self, bytes: u64) -> Self {
        self.max_part_size = bytes.max(MIN_PART_SIZE);
        self
    }

    /// The largest part [`BlobStore::put_part`] accepts.
    pub fn max_part_size(&self) -> u64 {
        self.max_part_size
    }

    fn blob_path(&self, digest: &Digest) -> Path {
        let s = digest.to_string();
        let (alg, hex) = s.split_once(':').unwrap_or(("unknown", s.as_str()));
        self.prefix.child("blobs").child(alg).child(hex)
    }

    fn staging_path(&self, id: Uuid) -> Path {
        self.prefix.child("uploads").child(id.to_string())
    }

    /// Streams `body` into the object at `path`, hashing it; the object is written only when
    /// the whole body arrived (otherwise the upload is aborted and nothing is written).
    async fn write_hashed(
        &self,
        path: &Path,
        body: ByteStream,
        max_size: Option<u64>,
        expected: Option<&Digest>,
    ) -> Result<HashedBytes, BlobError> {
        let store: Arc<dyn ObjectStore> = self.s3.clone();
        let writer = BufWriter::with_capacity(store, path.clone(), put_part_size(max_size))
            .with_max_concurrency(PUT_CONCURRENCY);
        let mut sink = WriterSink(writer);
        let hashed = hash_stream(body, max_size, &mut sink)
            .await
            .and_then(|h| verify(expected, &h.digest).map(|_| h));
        match hashed {
            Ok(h) => {
                sink.0
                    .shutdown()
                    .await
                    .map_err(|e| BlobError::Backend(describe(&e)))?;
                Ok(h)
            }
            Err(e) => {
                if let Err(abort) = sink.0.abort().await {
                    let error = describe(&abort);
                    tracing::warn!(path = %path, %error, "aborting an S3 upload failed");
                }
                Err(e)
            }
        }
    }

    /// Reads the object at `path` through the hasher; `expected_size`, if given, must match the
    /// object's size (checked before reading, else [`BlobError::UploadUnknown`]).
    async fn hash_object(
        &self,
        path: &Path,
        expected_size: Option<u64>,
    ) -> Result<HashedBytes, BlobError> {
        let (size, stream) = self.read_stream(path, None).await.map_err(backend)?;
        if let Some(expected) = expected_size.filter(|e| *e != size) {
            return Err(BlobError::UploadUnknown(format!(
                "{path}: stored {size} bytes, the parts record {expected}"
            )));
        }
        let hashed = hash_stream(stream, None, &mut Discard)
            .await
            .map_err(|e| match e {
                BlobError::Body(m) => BlobError::Backend(m),
                other => other,
            })?;
        if hashed.size != size {
            return Err(BlobError::Backend(format!(
                "{path}: read {} of {size} bytes",
                hashed.size
            )));
        }
        Ok(hashed)
    }

    /// Opens a streaming read of `path` (a byte range of it); returns the object's size too.
    async fn read_stream(
        &self,
        path: &Path,
        range: Option<GetRange>,
    ) -> Result<(u64, ByteStream), object_store::Error> {
        let options = GetOptions {
            range,
            ..Default::default()
        };
        let result = self.reader.get_opts(path, options).await?;
        let size = result.meta.size;
        let body = result
            .into_stream()
            .map_err(|e| std::io::Error::other(describe(&e)))
            .boxed();
        Ok((size, body))
    }

    /// Makes the verified staging object visible at its content address.
    async fn promote(&self, staging: &Path, hashed: &HashedBytes) -> Result<(), BlobError> {
        let target = self.blob_path(&hashed.digest);
        match self.s3.head(&target).await {
            Ok(meta) if meta.size == hashed.size => return Ok(()),
            Ok(_) => {}
            Err(e) if is_not_found(&e) => {}
            Err(e) => return Err(backend(e)),
        }
        if hashed.size <= self.copy_limit {
            return self.s3.copy(staging, &target).await.map_err(backend);
        }
        let (_, body) = self.read_stream(staging, None).await.map_err(backend)?;
        self.write_hashed(&target, body, Some(hashed.size), Some(&hashed.digest))
            .await
            .map(|_| ())
            .map_err(|e| match e {
                BlobError::DigestMismatch { .. } | BlobError::Body(_) => {
                    BlobError::Backend(format!("staging object {staging} changed: {e}"))
                }
                other => other,
            })
    }

    /// Deletes a staging object, best effort (leftovers are garbage for the lifecycle rules).
    async fn discard(&self, path: &Path) {
        if let Err(e) = self.s3.delete(path).await {
            if !is_not_found(&e) {
                let error = describe(&e);
                tracing::warn!(path = %path, %error, "deleting an S3 staging object failed");
            }
        }
    }

    /// The S3 part ids of `parts`, after checking their numbering and recorded sizes.
    fn part_ids(&self, upload_id: Uuid, parts: &[UploadPart]) -> Result<Vec<PartId>, BlobError> {
        parts
            .iter()
            .enumerate()
            .map(|(i, p)| {
                let unknown = |why: &str| {
                    BlobError::UploadUnknown(format!(
                        "part {} of upload {upload_id}: {why}",
                        p.number
                    ))
                };
                if u64::from(p.number) != i as u64 + 1 {
                    return Err(unknown("S3 needs parts numbered 1..=N, in order"));
                }
                let (size, etag) = p
                    .etag
                    .split_once(':')
                    .and_then(|(s, e)| Some((s.parse::<u64>().ok()?, e)))
                    .ok_or_else(|| unknown("not an S3 part receipt"))?;
                if size != p.size {
                    return Err(unknown("recorded size differs from the stored part"));
                }
                Ok(PartId {
                    content_id: etag.to_string(),
                })
            })
            .collect()
    }
}

#[async_trait]
impl BlobStore for S3BlobStore {
    async fn put(
        &self,
        expected: Option<&Digest>,
        max_size: Option<u64>,
        body: ByteStream,
    ) -> Result<StoredBlob, BlobError> {
        let staging = self.staging_path(Uuid::new_v4());
        let hashed = self.write_hashed(&staging, body, max_size, None).await?;
        let result = match verify(expected, &hashed.digest) {
            Ok(()) => self.promote(&staging, &hashed).await,
            Err(e) => Err(e),
        };
        self.discard(&staging).await;
        result.map(|()| StoredBlob {
            digest: hashed.digest,
            size: hashed.size,
        })
    }

    async fn get(&self, digest: &Digest, range: Option<ByteRange>) -> Result<BlobRead, BlobError> {
        let path = self.blob_path(digest);
        let not_found = |e: object_store::Error| {
            if is_not_found(&e) {
                BlobError::NotFound(digest.to_string())
            } else {
                backend(e)
            }
        };
        let get_range = match range {
            None => None,
            Some(r) => {
                let size = self.s3.head(&path).await.map_err(not_found)?.size;
                let (start, len) = slice_range(size, Some(r))?;
                Some(GetRange::Bounded(start..start + len))
            }
        };
        let (size, body) = self
            .read_stream(&path, get_range)
            .await
            .map_err(not_found)?;
        Ok(BlobRead { size, range, body })
    }

    async fn stat(&self, digest: &Digest) -> Result<Option<u64>, BlobError> {
        match self.s3.head(&self.blob_path(digest)).await {
            Ok(meta) => Ok(Some(meta.size)),
            Err(e) if is_not_found(&e) => Ok(None),
            Err(e) => Err(backend(e)),
        }
    }

    async fn delete(&self, digest: &Digest) -> Result<bool, BlobError> {
        // S3 deletes are silent about absent keys; ask first to report presence.
        if self.stat(digest).await?.is_none() {
            return Ok(false);
        }
        match self.s3.delete(&self.blob_path(digest)).await {
            Ok(()) => Ok(true),
            Err(e) if is_not_found(&e) => Ok(false),
            Err(e) => Err(backend(e)),
        }
    }

    async fn create_upload(&self, upload_id: Uuid) -> Result<String, BlobError> {
        self.s3
            .create_multipart(&self.staging_path(upload_id))
            .await
            .map_err(backend)
    }

    async fn put_part(
        &self,
        upload_id: Uuid,
        backend_state: &str,
        part_number: u32,
        mut body: ByteStream,
    ) -> Result<PartReceipt, BlobError> {
        if !(1..=MAX_PARTS).contains(&u64::from(part_number)) {
            return Err(BlobError::UploadUnknown(format!(
                "part {part_number} of upload {upload_id}: S3 parts are numbered 1..={MAX_PARTS}"
            )));
        }
        // S3 needs the part's length up front: buffer it (bounded by max_part_size).
        let mut chunks = Vec::new();
        let mut size = 0u64;
        while let Some(chunk) = body.next().await {
            let chunk = chunk.map_err(|e| BlobError::Body(e.to_string()))?;
            size += chunk.len() as u64;
            if size > self.max_part_size {
                return Err(BlobError::TooLarge {
                    limit: self.max_part_size,
                });
            }
            chunks.push(chunk);
        }
        let payload: PutPayload = chunks.into_iter().collect();
        let index = part_number as usize - 1;
        let id = backend_state.to_string();
        let part = self
            .s3
            .put_part(&self.staging_path(upload_id), &id, index, payload)
            .await
            .map_err(|e| multipart_err(e, &format!("part {part_number} of upload {upload_id}")))?;
        Ok(PartReceipt {
            size,
            etag: format!("{size}:{}", part.content_id),
        })
    }

    async fn complete_upload(
        &self,
        upload_id: Uuid,
        backend_state: &str,
        parts: &[UploadPart],
        expected: Option<&Digest>,
    ) -> Result<StoredBlob, BlobError> {
        let staging = self.staging_path(upload_id);
        let ids = self.part_ids(upload_id, parts)?;
        let what = format!("upload {upload_id}");
        let id = backend_state.to_string();
        if let Err(e) = self.s3.complete_multipart(&staging, &id, ids).await {
            match multipart_err(e, &what) {
                // Gone: aborted, or completed by an earlier call (a digest mismatch, or a crash
                // before promotion), in which case the staging object holds the bytes.
                BlobError::UploadUnknown(m) => match self.s3.head(&staging).await {
                    Ok(_) => tracing::debug!(%upload_id, "completing from the staging object"),
                    Err(e) if is_not_found(&e) => return Err(BlobError::UploadUnknown(m)),
                    Err(e) => return Err(backend(e)),
                },
                other => return Err(other),
            }
        }
        let recorded: u64 = parts.iter().map(|p| p.size).sum();
        let hashed = self.hash_object(&staging, Some(recorded)).await?;
        // On a mismatch the staging object stays, as parts would: abort_upload removes it.
        verify(expected, &hashed.digest)?;
        self.promote(&staging, &hashed).await?;
        self.discard(&staging).await;
        Ok(StoredBlob {
            digest: hashed.digest,
            size: hashed.size,
        })
    }

    fn min_part_size(&self) -> u64 {
        MIN_PART_SIZE
    }

    async fn abort_upload(&self, upload_id: Uuid, backend_state: &str) -> Result<(), BlobError> {
        let staging = self.staging_path(upload_id);
        let id = backend_state.to_string();
        match self.s3.abort_multipart(&staging, &id).await {
            Ok(()) => {}
            Err(e) => match multipart_err(e, "abort") {
                BlobError::UploadUnknown(_) => {}
                other => return Err(other),
            },
        }
        match self.s3.delete(&staging).await {
            Ok(()) => Ok(()),
            Err(e) if is_not_found(&e) => Ok(()),
            Err(e) => Err(backend(e)),
        }
    }

    async fn ping(&self) -> Result<(), BlobError> {
        let options = PaginatedListOptions {
            max_keys: Some(1),
            ..Default::default()
        };
        let prefix = format!("{}/", self.prefix.as_ref());
        let prefix = (prefix != "/").then_some(prefix);
        self.s3
            .list_paginated(prefix.as_deref(), options)
            .await
            .map(|_| ())
            .map_err(backend)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_name_a_bucket_and_an_optional_prefix() {
        let parsed = |u: &str| parse_url(u).ok();
        assert_eq!(parsed("s3://b/p/q/"), Some(("b".into(), "p/q".into())));
        assert_eq!(parsed("s3://b"), Some(("b".into(), String::new())));
        assert_eq!(parsed("s3://b/"), Some(("b".into(), String::new())));
        assert_eq!(parsed("s3:///p"), None);
        assert_eq!(parsed("https://b/p"), None);
    }

    #[test]
    fn errors_do_not_echo_credentials() {
        let body = "403: <Error><Code>SignatureDoesNotMatch</Code>\
            <AWSAccessKeyId>AKIAEXAMPLE</AWSAccessKeyId><StringToSign>AWS4 x</StringToSign>\
            <SignatureProvided>abc123</SignatureProvided><AWSAccessKeyId>AKIA2";
        let text = describe(&body);
        for secret in ["AKIAEXAMPLE", "AWS4 x", "abc123", "AKIA2"] {
            assert!(!text.contains(secret), "{text}");
        }
        assert!(text.contains("SignatureDoesNotMatch"), "{text}");
    }

    #[test]
    fn put_parts_fit_s3s_part_count() {
        assert_eq!(put_part_size(None), PUT_PART_SIZE as usize);
        assert_eq!(put_part_size(Some(1)), PUT_PART_SIZE as usize);
        let five_tb = 5 * 1024 * 1024 * MIB;
        let part = put_part_size(Some(five_tb)) as u64;
        assert!(part * MAX_PARTS >= five_tb && part % MIB == 0, "{part}");
    }
}

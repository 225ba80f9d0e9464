//! Pieces shared by the blob store adapters: hashing a body while it streams, and range maths.

use arca_core::ports::{BlobError, ByteRange, ByteStream};
use arca_oci::Digest;
use async_trait::async_trait;
use bytes::Bytes;
use futures::StreamExt;
use sha2::{Digest as _, Sha256};

/// The digest and size of a body that was streamed somewhere.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct HashedBytes {
    pub digest: Digest,
    pub size: u64,
}

/// Where a hashed body's chunks go.
#[async_trait]
pub(crate) trait ChunkSink: Send {
    async fn write(&mut self, chunk: &Bytes) -> Result<(), BlobError>;
}

#[async_trait]
impl ChunkSink for Vec<u8> {
    async fn write(&mut self, chunk: &Bytes) -> Result<(), BlobError> {
        self.extend_from_slice(chunk);
        Ok(())
    }
}

/// Builds a sha256 [`Digest`] from raw hash bytes.
pub(crate) fn sha256_digest(hash: &[u8]) -> Result<Digest, BlobError> {
    format!("sha256:{}", hex::encode(hash))
        .parse()
        .map_err(|e| BlobError::Backend(format!("internal digest error: {e}")))
}

/// Streams `body` into `sink`, hashing every byte on the way; fails with
/// [`BlobError::TooLarge`] as soon as more than `max_size` bytes arrive.
pub(crate) async fn hash_stream(
    mut body: ByteStream,
    max_size: Option<u64>,
    sink: &mut dyn ChunkSink,
) -> Result<HashedBytes, BlobError> {
    let mut hasher = Sha256::new();
    let mut size = 0u64;
    while let Some(chunk) = body.next().await {
        let chunk = chunk.map_err(|e| BlobError::Body(e.to_string()))?;
        size = size.saturating_add(chunk.len() as u64);
        if let Some(limit) = max_size {
            if size > limit {
                return Err(BlobError::TooLarge { limit });
            }
        }
        hasher.update(&chunk);
        sink.write(&chunk).await?;
    }
    Ok(HashedBytes {
        digest: sha256_digest(&hasher.finalize())?,
        size,
    })
}

/// Start offset and length of `range` within a blob of `size` bytes.
pub(crate) fn slice_range(size: u64, range: Option<ByteRange>) -> Result<(u64, u64), BlobError> {
    match range {
        None => Ok((0, size)),
        Some(r) if r.start <= r.end && r.end < size => Ok((r.start, r.end - r.start + 1)),
        Some(_) => Err(BlobError::RangeNotSatisfiable { size }),
    }
}

/// Checks a computed digest against the expected one.
pub(crate) fn verify(expected: Option<&Digest>, computed: &Digest) -> Result<(), BlobError> {
    match expected {
        Some(e) if e != computed => Err(BlobError::DigestMismatch {
            expected: e.to_string(),
            computed: computed.to_string(),
        }),
        _ => Ok(()),
    }
}

/// A one-chunk byte stream.
pub(crate) fn once(b: Bytes) -> ByteStream {
    futures::stream::once(async move { Ok(b) }).boxed()
}

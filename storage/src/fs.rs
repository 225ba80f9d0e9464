//! Local-filesystem [`BlobStore`]: the embedded default.
//!
//! Layout under the root directory:
//! - `blobs/<algorithm>/<first two hex>/<hex>`: finished, verified blobs (immutable);
//! - `uploads/<upload id>/<part number>`: parts of multi-part uploads;
//! - `tmp/`: files being written.
//!
//! **fsync policy.** A blob is written to a fresh file in `tmp/` while it is hashed; after the last
//! byte the file is `fsync`ed, the digest is checked, the file is renamed into `blobs/` and the
//! target directory is `fsync`ed. So a blob path either does not exist or holds the complete,
//! verified, durable bytes, whatever moment a crash (kill -9, power loss) strikes. Upload parts
//! follow the same pattern (tmp file, fsync, rename), so a recorded part is durable before the
//! metadata store records it. Leftovers in `tmp/` after a crash are garbage and are removed at
//! open.

use crate::blob_common::{hash_stream, slice_range, verify, ChunkSink, HashedBytes};
use arca_core::model::UploadPart;
use arca_core::ports::{
    BlobError, BlobRead, BlobStore, ByteRange, ByteStream, PartReceipt, StoredBlob,
};
use arca_oci::Digest;
use async_trait::async_trait;
use bytes::Bytes;
use futures::{StreamExt, TryStreamExt};
use std::path::{Path, PathBuf};
use tokio::io::{AsyncReadExt, AsyncSeekExt, AsyncWriteExt};
use tokio_util::io::ReaderStream;
use uuid::Uuid;

/// A blob store in a local directory.
#[derive(Debug, Clone)]
pub struct FsBlobStore {
    root: PathBuf,
}

fn io(e: std::io::Error) -> BlobError {
    BlobError::Backend(e.to_string())
}

struct FileSink(tokio::fs::File);

#[async_trait]
impl ChunkSink for FileSink {
    async fn write(&mut self, chunk: &Bytes) -> Result<(), BlobError> {
        self.0.write_all(chunk).await.map_err(io)
    }
}

async fn sync_dir(dir: &Path) -> Result<(), BlobError> {
    let d = tokio::fs::File::open(dir).await.map_err(io)?;
    d.sync_all().await.map_err(io)
}

impl FsBlobStore {
    async fn concat_parts(
        &self,
        upload_id: Uuid,
        _backend_state: &str,
        parts: &[UploadPart],
    ) -> Result<ByteStream, BlobError> {
        // Sizes are checked up front without holding descriptors; files are opened one at a
        // time while streaming, so an upload of thousands of chunks never exhausts the
        // process's file descriptors.
        let mut paths = Vec::with_capacity(parts.len());
        for p in parts {
            let path = self.part_path(upload_id, p.number);
            let unknown =
                || BlobError::UploadUnknown(format!("part {} of upload {upload_id}", p.number));
            let meta = tokio::fs::metadata(&path).await.map_err(|e| {
                if e.kind() == std::io::ErrorKind::NotFound {
                    unknown()
                } else {
                    io(e)
                }
            })?;
            if meta.len() != p.size {
                return Err(unknown());
            }
            paths.push(path);
        }
        Ok(futures::stream::iter(paths)
            .then(tokio::fs::File::open)
            .map_ok(|f| ReaderStream::with_capacity(f, 256 * 1024))
            .try_flatten()
            .boxed())
    }

    /// Opens (creating if needed) a blob store rooted at `root`, and clears leftovers of
    /// interrupted writes from `tmp/`.
    pub async fn open(root: impl Into<PathBuf>) -> Result<Self, BlobError> {
        let root = root.into();
        for sub in ["blobs", "uploads", "tmp"] {
            tokio::fs::create_dir_all(root.join(sub))
                .await
                .map_err(io)?;
        }
        let store = Self { root };
        let mut entries = tokio::fs::read_dir(store.root.join("tmp"))
            .await
            .map_err(io)?;
        while let Some(e) = entries.next_entry().await.map_err(io)? {
            let _ = tokio::fs::remove_file(e.path()).await;
        }
        Ok(store)
    }

    fn blob_path(&self, digest: &Digest) -> PathBuf {
        let s = digest.to_string();
        let (alg, hex) = s.split_once(':').unwrap_or(("unknown", s.as_str()));
        let prefix = hex.get(..2).unwrap_or("00");
        self.root.join("blobs").join(alg).join(prefix).join(hex)
    }

    fn upload_dir(&self, upload_id: Uuid) -> PathBuf {
        self.root.join("uploads").join(upload_id.to_string())
    }

    fn tmp_path(&self) -> PathBuf {
        self.root.join("tmp").join(Uuid::new_v4().to_string())
    }

    /// Writes `body` to a new temp file, hashing it; returns the durable temp file's path.
    async fn write_tmp(
        &self,
        body: ByteStream,
        max_size: Option<u64>,
    ) -> Result<(PathBuf, HashedBytes), BlobError> {
        let tmp = self.tmp_path();
        let file = tokio::fs::File::create(&tmp).await.map_err(io)?;
        let mut sink = FileSink(file);
        let result = async {
            let hashed = hash_stream(body, max_size, &mut sink).await?;
            sink.0.flush().await.map_err(io)?;
            sink.0.sync_all().await.map_err(io)?;
            Ok::<_, BlobError>(hashed)
        }
        .await;
        match result {
            Ok(h) => Ok((tmp, h)),
            Err(e) => {
                let _ = tokio::fs::remove_file(&tmp).await;
                Err(e)
            }
        }
    }

    /// Verifies and moves a temp file into its content address.
    async fn publish(
        &self,
        tmp: PathBuf,
        hashed: HashedBytes,
        expected: Option<&Digest>,
    ) -> Result<StoredBlob, BlobError> {
        if let Err(e) = verify(expected, &hashed.digest) {
            let _ = tokio::fs::remove_file(&tmp).await;
            return Err(e);
        }
        let target = self.blob_path(&hashed.digest);
        let dir = target
            .parent()
            .ok_or_else(|| BlobError::Backend("blob path has no parent".into()))?
            .to_path_buf();
        tokio::fs::create_dir_all(&dir).await.map_err(io)?;
        if tokio::fs::try_exists(&target).await.map_err(io)? {
            // Same content already stored: identical bytes by construction.
            let _ = tokio::fs::remove_file(&tmp).await;
        } else {
            tokio::fs::rename(&tmp, &target).await.map_err(io)?;
            sync_dir(&dir).await?;
        }
        Ok(StoredBlob {
            digest: hashed.digest,
            size: hashed.size,
        })
    }

    fn part_path(&self, upload_id: Uuid, number: u32) -> PathBuf {
        self.upload_dir(upload_id).join(number.to_string())
    }
}

#[async_trait]
impl BlobStore for FsBlobStore {
    async fn put(
        &self,
        expected: Option<&Digest>,
        max_size: Option<u64>,
        body: ByteStream,
    ) -> Result<StoredBlob, BlobError> {
        let (tmp, hashed) = self.write_tmp(body, max_size).await?;
        self.publish(tmp, hashed, expected).await
    }

    async fn get(&self, digest: &Digest, range: Option<ByteRange>) -> Result<BlobRead, BlobError> {
        let path = self.blob_path(digest);
        let mut file = match tokio::fs::File::open(&path).await {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(BlobError::NotFound(digest.to_string()))
            }
            Err(e) => return Err(io(e)),
        };
        let size = file.metadata().await.map_err(io)?.len();
        let (start, len) = slice_range(size, range)?;
        if start > 0 {
            file.seek(std::io::SeekFrom::Start(start))
                .await
                .map_err(io)?;
        }
        let body = ReaderStream::with_capacity(file.take(len), 256 * 1024).boxed();
        Ok(BlobRead { size, range, body })
    }

    async fn stat(&self, digest: &Digest) -> Result<Option<u64>, BlobError> {
        match tokio::fs::metadata(self.blob_path(digest)).await {
            Ok(m) => Ok(Some(m.len())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(io(e)),
        }
    }

    async fn delete(&self, digest: &Digest) -> Result<bool, BlobError> {
        match tokio::fs::remove_file(self.blob_path(digest)).await {
            Ok(()) => Ok(true),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
            Err(e) => Err(io(e)),
        }
    }

    async fn create_upload(&self, upload_id: Uuid) -> Result<String, BlobError> {
        tokio::fs::create_dir_all(self.upload_dir(upload_id))
            .await
            .map_err(io)?;
        Ok(String::new())
    }

    async fn put_part(
        &self,
        upload_id: Uuid,
        _backend_state: &str,
        part_number: u32,
        body: ByteStream,
    ) -> Result<PartReceipt, BlobError> {
        let dir = self.upload_dir(upload_id);
        if !tokio::fs::try_exists(&dir).await.map_err(io)? {
            return Err(BlobError::UploadUnknown(upload_id.to_string()));
        }
        let (tmp, hashed) = self.write_tmp(body, None).await?;
        tokio::fs::rename(&tmp, self.part_path(upload_id, part_number))
            .await
            .map_err(io)?;
        sync_dir(&dir).await?;
        Ok(PartReceipt {
            size: hashed.size,
            etag: hashed.digest.to_string(),
        })
    }

    async fn complete_upload(
        &self,
        upload_id: Uuid,
        backend_state: &str,
        parts: &[UploadPart],
        expected: Option<&Digest>,
    ) -> Result<StoredBlob, BlobError> {
        let body = self.concat_parts(upload_id, backend_state, parts).await?;
        let (tmp, hashed) = self.write_tmp(body, None).await?;
        let stored = self.publish(tmp, hashed, expected).await?;
        self.abort_upload(upload_id, backend_state).await?;
        Ok(stored)
    }

    async fn abort_upload(&self, upload_id: Uuid, _backend_state: &str) -> Result<(), BlobError> {
        match tokio::fs::remove_dir_all(self.upload_dir(upload_id)).await {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(io(e)),
        }
    }

    async fn ping(&self) -> Result<(), BlobError> {
        tokio::fs::metadata(self.root.join("blobs"))
            .await
            .map(|_| ())
            .map_err(io)
    }
}

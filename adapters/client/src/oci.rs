//! A small client of the OCI Distribution API that Arca serves under `/v2/<name>/…`, where
//! `<name>` is `org/[team/]repo`. The API key is sent as `Authorization: Bearer <key>`, which
//! Arca accepts directly (no token exchange).
//!
//! Blobs are streamed both ways and never held whole in memory; every byte read from the
//! server is checked against its digest (and size, when known) before it is trusted.
//!
//! ```no_run
//! # async fn run(client: arca_client::ArcaClient) -> arca_client::Result<()> {
//! use arca_client::oci;
//! let m = client.get_manifest("acme/vision/det", "1.0").await?;
//! println!("{} {} ({} bytes)", m.media_type, m.digest, m.bytes.len());
//! # Ok(()) }
//! ```

use std::io::SeekFrom;
use std::path::Path;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use futures::{Stream, StreamExt, TryStreamExt};
use reqwest::header::{HeaderMap, ACCEPT, CONTENT_LENGTH, CONTENT_TYPE, LOCATION};
use reqwest::{Body, Method, StatusCode};
use sha2::{Digest as _, Sha256};
use tokio::io::{AsyncReadExt, AsyncSeekExt, AsyncWriteExt};
use tokio_util::io::ReaderStream;

use crate::client::{ArcaClient, Result};
use crate::endpoint::Endpoint;
use crate::error::ClientError;

/// OCI image manifest.
pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
/// OCI image index.
pub const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
/// OCI image config.
pub const OCI_CONFIG: &str = "application/vnd.oci.image.config.v1+json";
/// Docker schema-2 manifest.
pub const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
/// Docker manifest list.
pub const DOCKER_MANIFEST_LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";
/// Docker image config.
pub const DOCKER_CONFIG: &str = "application/vnd.docker.container.image.v1+json";
/// Docker uncompressed layer.
pub const DOCKER_LAYER: &str = "application/vnd.docker.image.rootfs.diff.tar";
/// Docker gzip layer.
pub const DOCKER_LAYER_GZIP: &str = "application/vnd.docker.image.rootfs.diff.tar.gzip";
/// The `Accept` header of manifest requests: every manifest and index type this client reads.
pub const MANIFEST_ACCEPT: &str = "application/vnd.oci.image.index.v1+json, \
application/vnd.oci.image.manifest.v1+json, \
application/vnd.docker.distribution.manifest.list.v2+json, \
application/vnd.docker.distribution.manifest.v2+json";

/// The largest manifest accepted (as registries commonly limit them).
pub const MAX_MANIFEST_BYTES: usize = 4 * 1024 * 1024;

/// Called with the number of bytes moved since the last call (for progress bars).
pub type Progress = Arc<dyn Fn(u64) + Send + Sync>;

/// A manifest as fetched: its media type, its verified digest and its bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FetchedManifest {
    /// The `Content-Type` the server gave (or the `mediaType` field of the JSON).
    pub media_type: String,
    /// `sha256:<hex>` of `bytes`.
    pub digest: String,
    /// The manifest exactly as served.
    pub bytes: Bytes,
}

/// `sha256:<hex>` of `bytes`.
pub fn sha256_digest(bytes: &[u8]) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(bytes)))
}

/// Checks that `digest` is `sha256:` and 64 lowercase hex digits (the only algorithm spoken).
///
/// # Errors
///
/// [`ClientError::Integrity`] naming the digest.
pub fn check_digest(digest: &str) -> Result<()> {
    let ok = digest.strip_prefix("sha256:").is_some_and(|h| {
        h.len() == 64
            && h.bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    });
    if ok {
        Ok(())
    } else {
        Err(ClientError::Integrity(format!(
            "unsupported or malformed digest {digest:?}: expected sha256:<64 hex digits>"
        )))
    }
}

/// `/v2/<name>/<tail…>`, each part of `name` checked and encoded. The `:` of digests is sent
/// as it is (`/blobs/sha256:…`), as registries expect.
fn oci_endpoint(name: &str, tail: &[&str]) -> Result<Endpoint> {
    let mut segments = vec!["v2"];
    segments.extend(name.split('/'));
    segments.extend_from_slice(tail);
    let encoded = Endpoint::from_segments(segments)?;
    // `%` itself is encoded as `%25`, so `%3A` can only come from a `:`.
    Ok(Endpoint::new(encoded.path().replace("%3A", ":")))
}

pub(crate) fn io_error(context: String) -> impl FnOnce(std::io::Error) -> ClientError {
    move |source| ClientError::Io { context, source }
}

fn header_digest(headers: &HeaderMap) -> Option<String> {
    headers
        .get("docker-content-digest")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

/// A body that reads `size` bytes of `path` from `offset`, reporting progress.
pub(crate) async fn file_body(
    path: &Path,
    offset: u64,
    size: u64,
    progress: Option<Progress>,
) -> Result<Body> {
    let shown = path.display().to_string();
    let mut file = tokio::fs::File::open(path)
        .await
        .map_err(io_error(format!("cannot open {shown}")))?;
    file.seek(SeekFrom::Start(offset))
        .await
        .map_err(io_error(format!("cannot read {shown}")))?;
    let stream = ReaderStream::with_capacity(file.take(size), 256 * 1024).inspect_ok(move |b| {
        if let Some(p) = &progress {
            p(b.len() as u64);
        }
    });
    Ok(Body::wrap_stream(stream))
}

impl ArcaClient {
    /// `HEAD /v2/<name>/blobs/<digest>`: the blob's size if the registry has it, `None` on 404.
    ///
    /// # Errors
    ///
    /// [`ClientError::Transport`], [`ClientError::Api`] for statuses other than 2xx and 404,
    /// [`ClientError::InvalidUrl`] for a bad name.
    pub async fn head_blob(&self, name: &str, digest: &str) -> Result<Option<u64>> {
        check_digest(digest)?;
        let request = self.request(Method::HEAD, oci_endpoint(name, &["blobs", digest])?);
        match self.send(request).await {
            Ok(response) => Ok(Some(
                response
                    .headers()
                    .get(CONTENT_LENGTH)
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.parse().ok())
                    .unwrap_or(0),
            )),
            Err(e) if e.is_not_found() => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Monolithic upload: `POST /v2/<name>/blobs/uploads/?digest=<digest>` with `size` bytes
    /// of `body` (sent with a `Content-Length`). If the registry answers 202 instead of 201
    /// (it opened an upload session rather than taking the bytes), this fails: use
    /// [`ArcaClient::upload_file_range`], which then completes the session with a `PUT`.
    ///
    /// # Errors
    ///
    /// As [`ArcaClient::head_blob`]; the server answers 400 when the bytes do not match the
    /// digest.
    pub async fn upload_blob<S>(&self, name: &str, digest: &str, size: u64, body: S) -> Result<()>
    where
        S: Stream<Item = std::io::Result<Bytes>> + Send + Sync + 'static,
    {
        match self
            .post_blob(name, digest, size, Body::wrap_stream(body))
            .await?
        {
            None => Ok(()),
            Some(_) => Err(ClientError::Integrity(format!(
                "the registry did not take blob {digest} in one request (202 Accepted)"
            ))),
        }
    }

    /// Uploads `size` bytes of the file `path` from `offset` (a whole file, or a layer inside a
    /// tarball) as blob `digest`: one `POST …/blobs/uploads/?digest=` with the bytes, or, if the
    /// registry opens a session instead (202), a `PUT <location>?digest=` with them.
    ///
    /// # Errors
    ///
    /// As [`ArcaClient::upload_blob`]; [`ClientError::Io`] if the file cannot be read.
    pub async fn upload_file_range(
        &self,
        name: &str,
        digest: &str,
        path: &Path,
        offset: u64,
        size: u64,
        progress: Option<Progress>,
    ) -> Result<()> {
        let body = file_body(path, offset, size, progress.clone()).await?;
        let Some(location) = self.post_blob(name, digest, size, body).await? else {
            return Ok(());
        };
        let mut url = self
            .base_url
            .join(&location)
            .map_err(|e| ClientError::InvalidUrl {
                url: location.clone(),
                reason: e.to_string(),
            })?;
        if url.origin() != self.base_url.origin() {
            return Err(ClientError::InvalidUrl {
                url: location,
                reason: "the upload location is on another server".into(),
            });
        }
        url.query_pairs_mut().append_pair("digest", digest);
        let body = file_body(path, offset, size, progress).await?;
        let mut request = self.http.request(Method::PUT, url).body(body);
        request = request
            .header(CONTENT_LENGTH, size)
            .header(CONTENT_TYPE, "application/octet-stream");
        if let Some(auth) = &self.auth {
            request = request.header(reqwest::header::AUTHORIZATION, auth.clone());
        }
        self.send(request).await?;
        Ok(())
    }

    /// POSTs the blob; `Some(location)` when the registry answered 202 with a session.
    async fn post_blob(
        &self,
        name: &str,
        digest: &str,
        size: u64,
        body: Body,
    ) -> Result<Option<String>> {
        check_digest(digest)?;
        // `from_segments` refuses an empty last segment: the trailing slash is added here.
        let path = oci_endpoint(name, &["blobs", "uploads"])?
            .path()
            .to_string();
        let endpoint = Endpoint::new(format!("{path}/")).query("digest", digest);
        let request = self
            .request(Method::POST, endpoint)
            .header(CONTENT_LENGTH, size)
            .header(CONTENT_TYPE, "application/octet-stream")
            .body(body);
        let response = self.send(request).await?;
        if response.status() == StatusCode::ACCEPTED {
            let location = response
                .headers()
                .get(LOCATION)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
                .ok_or_else(|| {
                    ClientError::Integrity("the registry answered 202 without a Location".into())
                })?;
            return Ok(Some(location));
        }
        Ok(None)
    }

    /// `PUT /v2/<name>/manifests/<reference>` with `Content-Type: media_type`; returns the
    /// digest of `bytes` (checked against the `Docker-Content-Digest` the server returns).
    ///
    /// # Errors
    ///
    /// As [`ArcaClient::head_blob`]; the server answers 400 (`MANIFEST_BLOB_UNKNOWN`, …) when
    /// a referenced blob or manifest is missing.
    pub async fn put_manifest(
        &self,
        name: &str,
        reference: &str,
        media_type: &str,
        bytes: Bytes,
    ) -> Result<String> {
        let digest = sha256_digest(&bytes);
        let request = self
            .request(Method::PUT, oci_endpoint(name, &["manifests", reference])?)
            .header(CONTENT_TYPE, media_type)
            .body(bytes);
        let response = self.send(request).await?;
        if let Some(said) = header_digest(response.headers()) {
            if said != digest {
                return Err(ClientError::Integrity(format!(
                    "the registry stored manifest {said}, but {digest} was sent"
                )));
            }
        }
        Ok(digest)
    }

    /// `GET /v2/<name>/manifests/<reference>` accepting OCI and Docker manifests and indexes.
    /// The digest of the bytes is checked against `reference` when it is a digest, and against
    /// the `Docker-Content-Digest` header when there is one.
    ///
    /// # Errors
    ///
    /// As [`ArcaClient::head_blob`]; [`ClientError::Integrity`] on a digest mismatch or a
    /// manifest over [`MAX_MANIFEST_BYTES`].
    pub async fn get_manifest(&self, name: &str, reference: &str) -> Result<FetchedManifest> {
        let request = self
            .request(Method::GET, oci_endpoint(name, &["manifests", reference])?)
            .header(ACCEPT, MANIFEST_ACCEPT);
        let response = self.send(request).await?;
        let url = response.url().to_string();
        let said = header_digest(response.headers());
        let content_type = response
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(|v| v.split(';').next().unwrap_or(v).trim().to_string());
        let mut bytes = Vec::new();
        let mut stream = response.bytes_stream();
        while let Some(chunk) = stream.next().await {
            let chunk =
                chunk.map_err(|e| ClientError::Integrity(format!("cannot read {url}: {e}")))?;
            if bytes.len() + chunk.len() > MAX_MANIFEST_BYTES {
                return Err(ClientError::Integrity(format!(
                    "the manifest at {url} is larger than {MAX_MANIFEST_BYTES} bytes"
                )));
            }
            bytes.extend_from_slice(&chunk);
        }
        let digest = sha256_digest(&bytes);
        let expected = reference
            .contains(':')
            .then(|| reference.to_string())
            .into_iter()
            .chain(said);
        for wanted in expected {
            if wanted != digest {
                return Err(ClientError::Integrity(format!(
                    "manifest {reference} of {name} has digest {digest}, expected {wanted}"
                )));
            }
        }
        let media_type = match content_type {
            Some(t) if t.contains("manifest") || t.contains("index") => t,
            _ => serde_json::from_slice::<serde_json::Value>(&bytes)
                .ok()
                .and_then(|v| v.get("mediaType")?.as_str().map(str::to_string))
                .unwrap_or_else(|| OCI_MANIFEST.to_string()),
        };
        Ok(FetchedManifest {
            media_type,
            digest,
            bytes: Bytes::from(bytes),
        })
    }

    /// `GET /v2/<name>/blobs/<digest>` as a stream of chunks that is checked as it flows: it
    /// ends with [`ClientError::Integrity`] instead of its last chunk if the bytes do not
    /// match `digest` or `size` (when given). Consumers must not trust data before the end.
    ///
    /// # Errors
    ///
    /// As [`ArcaClient::head_blob`] for the request itself.
    pub async fn get_blob(
        &self,
        name: &str,
        digest: &str,
        size: Option<u64>,
    ) -> Result<BlobStream> {
        check_digest(digest)?;
        let request = self.request(Method::GET, oci_endpoint(name, &["blobs", digest])?);
        let response = self.send(request).await?;
        let url = response.url().to_string();
        let inner = response
            .bytes_stream()
            .map_err(move |e| ClientError::Integrity(format!("cannot read {url}: {e}")))
            .boxed();
        Ok(BlobStream {
            inner,
            hasher: Some(Sha256::new()),
            seen: 0,
            digest: digest.to_string(),
            size,
        })
    }

    /// Streams blob `digest` into the file `dest` (through `dest.partial`, renamed once the
    /// digest and size are verified). Returns the size.
    ///
    /// # Errors
    ///
    /// As [`ArcaClient::get_blob`]; [`ClientError::Io`] if the file cannot be written.
    pub async fn download_blob(
        &self,
        name: &str,
        digest: &str,
        size: Option<u64>,
        dest: &Path,
        progress: Option<Progress>,
    ) -> Result<u64> {
        let mut stream = self.get_blob(name, digest, size).await?;
        let mut partial = dest.as_os_str().to_owned();
        partial.push(".partial");
        let partial = std::path::PathBuf::from(partial);
        let shown = partial.display().to_string();
        let mut file = tokio::fs::File::create(&partial)
            .await
            .map_err(io_error(format!("cannot create {shown}")))?;
        let mut total = 0u64;
        let result = async {
            while let Some(chunk) = stream.next().await {
                let chunk = chunk?;
                file.write_all(&chunk)
                    .await
                    .map_err(io_error(format!("cannot write {shown}")))?;
                total += chunk.len() as u64;
                if let Some(p) = &progress {
                    p(chunk.len() as u64);
                }
            }
            file.flush()
                .await
                .map_err(io_error(format!("cannot write {shown}")))?;
            Ok::<_, ClientError>(())
        }
        .await;
        drop(file);
        if let Err(e) = result {
            let _ = tokio::fs::remove_file(&partial).await;
            return Err(e);
        }
        tokio::fs::rename(&partial, dest)
            .await
            .map_err(io_error(format!("cannot rename {shown}")))?;
        Ok(total)
    }
}

/// The verifying blob stream of [`ArcaClient::get_blob`].
pub struct BlobStream {
    inner: futures::stream::BoxStream<'static, Result<Bytes>>,
    hasher: Option<Sha256>,
    seen: u64,
    digest: String,
    size: Option<u64>,
}

impl std::fmt::Debug for BlobStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BlobStream")
            .field("digest", &self.digest)
            .field("seen", &self.seen)
            .finish_non_exhaustive()
    }
}

impl Stream for BlobStream {
    type Item = Result<Bytes>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        let Some(hasher) = this.hasher.as_mut() else {
            return Poll::Ready(None);
        };
        match this.inner.poll_next_unpin(cx) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(Some(Ok(chunk))) => {
                hasher.update(&chunk);
                this.seen += chunk.len() as u64;
                if this.size.is_some_and(|s| this.seen > s) {
                    this.hasher = None;
                    return Poll::Ready(Some(Err(ClientError::Integrity(format!(
                        "blob {} is longer than its announced {} bytes",
                        this.digest,
                        this.size.unwrap_or_default()
                    )))));
                }
                Poll::Ready(Some(Ok(chunk)))
            }
            Poll::Ready(Some(Err(e))) => {
                this.hasher = None;
                Poll::Ready(Some(Err(e)))
            }
            Poll::Ready(None) => {
                let got = format!("sha256:{}", hex::encode(hasher.clone().finalize()));
                this.hasher = None;
                if let Some(size) = this.size.filter(|s| *s != this.seen) {
                    return Poll::Ready(Some(Err(ClientError::Integrity(format!(
                        "blob {} has {} bytes, expected {size}",
                        this.digest, this.seen
                    )))));
                }
                if got != this.digest {
                    return Poll::Ready(Some(Err(ClientError::Integrity(format!(
                        "blob content has digest {got}, expected {}",
                        this.digest
                    )))));
                }
                Poll::Ready(None)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digests_are_checked_and_computed() {
        let d = sha256_digest(b"");
        assert_eq!(
            d,
            "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        assert!(check_digest(&d).is_ok());
        for bad in ["sha256:abc", "sha512:00", "e3b0", &d.to_uppercase()] {
            assert!(check_digest(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn oci_paths_keep_the_namespace() {
        let d = sha256_digest(b"x");
        assert_eq!(
            oci_endpoint("acme/det", &["blobs", &d]).unwrap().path(),
            format!("/v2/acme/det/blobs/{d}")
        );
        assert_eq!(
            oci_endpoint("acme/vision/det", &["manifests", "1.0"])
                .unwrap()
                .path(),
            "/v2/acme/vision/det/manifests/1.0"
        );
        assert!(oci_endpoint("acme//det", &["blobs"]).is_err());
        assert!(oci_endpoint("acme/../det", &["blobs"]).is_err());
    }

    #[tokio::test]
    async fn blob_stream_rejects_wrong_content() {
        let chunks = |parts: Vec<&'static [u8]>| {
            futures::stream::iter(parts.into_iter().map(|p| Ok(Bytes::from_static(p)))).boxed()
        };
        let make = |parts, size| BlobStream {
            inner: chunks(parts),
            hasher: Some(Sha256::new()),
            seen: 0,
            digest: sha256_digest(b"hello"),
            size,
        };
        let ok: Vec<_> = make(vec![b"he", b"llo"], Some(5)).collect().await;
        assert!(ok.iter().all(|r| r.is_ok()) && ok.len() == 2);
        let bad: Vec<_> = make(vec![b"hellx"], None).collect().await;
        assert!(matches!(bad.last(), Some(Err(ClientError::Integrity(_)))));
        let long: Vec<_> = make(vec![b"hello", b"!"], Some(5)).collect().await;
        assert!(matches!(long.last(), Some(Err(ClientError::Integrity(_)))));
        let short: Vec<_> = make(vec![b"hello"], Some(6)).collect().await;
        assert!(matches!(short.last(), Some(Err(ClientError::Integrity(_)))));
    }
}

//! Container registry use cases (OCI Distribution v1.1, R-OCI-1..5, R-QUO-1..2): blob uploads
//! (monolithic, chunked, streamed, cross-repository mount), blobs, manifests, tags, catalog and
//! referrers, all authorized by [`decide`] and recorded in the metadata store.
//!
//! Upload sessions live in the metadata store and their bytes in the blob store's multi-part
//! uploads, so an upload survives a restart and continues on any replica. Each chunk is stored
//! as one or more parts; completion concatenates them, hashing every byte, and makes the blob
//! visible only when the digest matches.

use crate::authz::{decide, Action, Decision, Principal, Target};
use crate::error::CoreError;
use crate::model::{
    BlobRecord, ManifestRecord, NewRepository, Repository, TagRecord, UploadPart, UploadSession,
};
use crate::names::{ArtifactName, OrgId, TeamName};
use crate::ports::{
    BlobError, BlobRead, BlobStore, ByteRange, ByteStream, MetadataTx, PartReceipt, StoredBlob,
};
use crate::quota;
use crate::service::retry_conflicts;
use crate::Arca;
use arca_auth::{ArtifactAction, ArtifactKind};
use arca_oci::{Digest, ErrorCode, ParsedManifest, Reference};
use bytes::Bytes;
use futures::StreamExt;
use uuid::Uuid;

/// The usage ledger of container images.
pub const IMAGES_LEDGER: &str = "images";

/// Largest manifest accepted (bytes).
pub const MAX_MANIFEST_BYTES: usize = 4 * 1024 * 1024;

/// Largest part stored per write to the blob store; longer chunks are split.
pub const MAX_PART_BYTES: u64 = 64 * 1024 * 1024;

/// Largest part on backends with a minimum part size (S3), which hold a part in memory before
/// sending it: an upload holds at most this much (bench_backends measured 161 MiB peaks with
/// 64 MiB parts, 64 MiB with these).
pub const MAX_BUFFERED_PART_BYTES: u64 = 16 * 1024 * 1024;

/// A repository reference: `org/name` or `org/team/name` (R-TEN-7).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RepoRef {
    /// Org.
    pub org: OrgId,
    /// Team, for team repositories.
    pub team: Option<TeamName>,
    /// Name.
    pub name: ArtifactName,
}

impl RepoRef {
    /// Parses a repository name from a `/v2/<name>/…` path: the OCI grammar, then Arca's rule
    /// of two or three components. Errors are `NAME_INVALID`.
    pub fn parse(name: &str) -> Result<Self, CoreError> {
        let invalid = |why: String| CoreError::registry(ErrorCode::NameInvalid, why);
        arca_oci::RepositoryName::parse(name).map_err(|e| invalid(e.to_string()))?;
        let parts: Vec<&str> = name.split('/').collect();
        let (org, team, repo) = match parts.as_slice() {
            [o, r] => (*o, None, *r),
            [o, t, r] => (*o, Some(*t), *r),
            _ => {
                return Err(invalid(format!(
                    "repository name '{name}' must be org/name or org/team/name"
                )))
            }
        };
        Ok(Self {
            org: OrgId::new(org).map_err(|e| invalid(e.to_string()))?,
            team: team
                .map(TeamName::new)
                .transpose()
                .map_err(|e| invalid(e.to_string()))?,
            name: ArtifactName::new(repo).map_err(|e| invalid(e.to_string()))?,
        })
    }

    fn target(&self) -> Target<'_> {
        Target::Artifact {
            kind: ArtifactKind::Container,
            org: &self.org,
            team: self.team.as_ref(),
            name: Some(self.name.as_str()),
        }
    }

    /// `org/[team/]name`.
    pub fn path(&self) -> String {
        match &self.team {
            Some(t) => format!("{}/{}/{}", self.org, t, self.name),
            None => format!("{}/{}", self.org, self.name),
        }
    }
}

/// The outcome of a manifest push.
#[derive(Debug, Clone)]
pub struct PushedManifest {
    /// Its digest.
    pub digest: Digest,
    /// Its subject's digest, for the `OCI-Subject` header.
    pub subject: Option<String>,
}

/// A manifest to serve.
#[derive(Debug, Clone)]
pub struct ManifestContent {
    /// Its record.
    pub record: ManifestRecord,
    /// Its bytes.
    pub body: Bytes,
}

fn name_unknown(r: &RepoRef) -> CoreError {
    CoreError::registry(
        ErrorCode::NameUnknown,
        format!("repository {} is not known to the registry", r.path()),
    )
}

fn upload_unknown() -> CoreError {
    CoreError::registry(
        ErrorCode::BlobUploadUnknown,
        "blob upload unknown to the registry",
    )
}

fn blob_unknown(d: &Digest) -> CoreError {
    CoreError::registry(
        ErrorCode::BlobUnknown,
        format!("blob {d} unknown to the registry"),
    )
}

fn purpose(r: &RepoRef) -> String {
    format!("oci:{}", r.path())
}

/// The part size for a chunk of `length` bytes: equal parts of at most `max`, so
/// that a chunk a little over a multiple of it does not leave a tiny last part (which a backend
/// with a minimum part size could not concatenate with the next chunk).
fn even_part_size(length: Option<u64>, max: u64) -> u64 {
    match length {
        Some(len) if len > max => len.div_ceil(len.div_ceil(max)),
        _ => max,
    }
}

/// Cuts a body into consecutive parts of at most `max` bytes, each fed to the blob store while
/// it is read (memory stays bounded by the channel, whatever the body's size).
pub(crate) struct PartSplitter {
    body: ByteStream,
    carry: Option<Bytes>,
    max: u64,
}

impl PartSplitter {
    /// Splits `body` into parts of at most `max` bytes.
    pub(crate) fn new(body: ByteStream, max: u64) -> Self {
        Self {
            body,
            carry: None,
            max,
        }
    }

    /// The first non-empty chunk of the next part, or `None` at the end of the body.
    pub(crate) async fn first(&mut self) -> Option<Result<Bytes, std::io::Error>> {
        if let Some(b) = self.carry.take() {
            return Some(Ok(b));
        }
        loop {
            match self.body.next().await {
                Some(Ok(b)) if b.is_empty() => continue,
                other => return other,
            }
        }
    }

    /// Streams the next part, which starts with `first`, into the blob store as part `number`
    /// of upload `upload`, while it is read from the body.
    pub(crate) async fn put_next(
        &mut self,
        blobs: &dyn BlobStore,
        upload: Uuid,
        backend_state: &str,
        number: u32,
        first: Bytes,
    ) -> Result<PartReceipt, BlobError> {
        let (tx, rx) = futures::channel::mpsc::channel(2);
        let (receipt, ()) = futures::join!(
            blobs.put_part(upload, backend_state, number, rx.boxed()),
            self.feed(first, tx)
        );
        receipt
    }

    /// Sends `first` and following chunks to `tx` until the part holds `max` bytes; keeps the
    /// excess for the next part.
    async fn feed(
        &mut self,
        first: Bytes,
        mut tx: futures::channel::mpsc::Sender<Result<Bytes, std::io::Error>>,
    ) {
        use futures::SinkExt;
        let mut sent = 0u64;
        let mut chunk = first;
        loop {
            let room = self.max - sent;
            if chunk.len() as u64 > room {
                self.carry = Some(chunk.split_off(room as usize));
            }
            sent += chunk.len() as u64;
            if tx.send(Ok(chunk)).await.is_err() || sent >= self.max || self.carry.is_some() {
                return;
            }
            match self.body.next().await {
                Some(Ok(c)) => chunk = c,
                Some(Err(e)) => {
                    let _ = tx.send(Err(e)).await;
                    return;
                }
                None => return,
            }
        }
    }
}

impl Arca {
    /// Decides `action` on `r`. Anonymous callers may pull public repositories (R-OCI-5).
    pub(crate) fn allow(
        &self,
        p: &Principal,
        r: &RepoRef,
        action: ArtifactAction,
        repo: Option<&Repository>,
    ) -> Result<(), CoreError> {
        if matches!(p, Principal::Anonymous)
            && repo.is_some_and(|r| r.public)
            && matches!(action, ArtifactAction::Download | ArtifactAction::View)
        {
            return Ok(());
        }
        match decide(p, Action::Artifact(action), &r.target()) {
            Decision::Allowed => Ok(()),
            Decision::Unauthenticated => Err(CoreError::registry(
                ErrorCode::Unauthorized,
                "authentication required",
            )),
            Decision::Hidden => Err(name_unknown(r)),
            Decision::Denied(why) => Err(CoreError::registry(ErrorCode::Denied, why)),
        }
    }

    async fn find_repo(
        tx: &mut dyn MetadataTx,
        r: &RepoRef,
    ) -> Result<Option<Repository>, CoreError> {
        Ok(tx
            .get_repo(&r.org, r.team.as_ref(), r.name.as_str())
            .await?)
    }

    /// Loads a repository the caller may do `action` on; `NAME_UNKNOWN` if it does not exist.
    pub(crate) async fn readable_repo(
        &self,
        p: &Principal,
        r: &RepoRef,
        action: ArtifactAction,
    ) -> Result<Repository, CoreError> {
        let repo = {
            let mut tx = self.meta.begin_read().await?;
            Self::find_repo(tx.as_mut(), r).await?
        };
        self.allow(p, r, action, repo.as_ref())?;
        repo.ok_or_else(|| name_unknown(r))
    }

    /// Checks push rights: `Upload`, and `Create` too when the repository does not exist yet.
    async fn check_push(&self, p: &Principal, r: &RepoRef) -> Result<(), CoreError> {
        let exists = {
            let mut tx = self.meta.begin_read().await?;
            Self::find_repo(tx.as_mut(), r).await?.is_some()
        };
        self.allow(p, r, ArtifactAction::Upload, None)?;
        if !exists {
            self.allow(p, r, ArtifactAction::Create, None)?;
        }
        Ok(())
    }

    /// The repository, created on first push (its team must exist).
    pub(crate) async fn repo_for_push(
        &self,
        tx: &mut dyn MetadataTx,
        r: &RepoRef,
    ) -> Result<Repository, CoreError> {
        if let Some(repo) = Self::find_repo(tx, r).await? {
            return Ok(repo);
        }
        if tx.get_org(&r.org).await?.is_none() {
            return Err(name_unknown(r));
        }
        if let Some(t) = &r.team {
            if tx.get_team(&r.org, t).await?.is_none() {
                return Err(CoreError::registry(
                    ErrorCode::NameUnknown,
                    format!("team {}/{} does not exist", r.org, t),
                ));
            }
        }
        Ok(tx
            .insert_repo(&NewRepository {
                org: r.org.clone(),
                team: r.team.clone(),
                name: r.name.clone(),
                created_at: self.clock.now(),
            })
            .await?)
    }

    async fn org_quota(&self, org: &OrgId) -> Result<quota::QuotaLimits, CoreError> {
        let mut tx = self.meta.begin_read().await?;
        Ok(tx.get_org(org).await?.map(|o| o.quota).unwrap_or_default())
    }

    /// Starts a blob upload (`POST /v2/<name>/blobs/uploads/`). A size announced in advance
    /// is checked against the layer limit at once.
    pub async fn start_blob_upload(
        &self,
        p: &Principal,
        r: &RepoRef,
        expected_size: Option<u64>,
    ) -> Result<UploadSession, CoreError> {
        self.check_push(p, r).await?;
        if let Some(size) = expected_size {
            quota::check_layer(&self.org_quota(&r.org).await?, size)?;
        }
        let id = Uuid::from_bytes(crate::service::uuid_bytes(self.random_32()));
        let backend_state = self.blobs.create_upload(id).await?;
        let now = self.clock.now();
        let session = UploadSession {
            id,
            org: r.org.clone(),
            purpose: purpose(r),
            backend_state,
            received: 0,
            expected_size,
            created_at: now,
            updated_at: now,
        };
        retry_conflicts(|| async {
            let mut tx = self.meta.begin().await?;
            tx.insert_upload(&session).await?;
            tx.commit().await?;
            Ok(())
        })
        .await?;
        Ok(session)
    }

    /// Mounts a blob from another repository the caller may pull from
    /// (`POST …/uploads/?mount=&from=`). `Ok(None)` when it cannot be mounted (the caller then
    /// starts a regular upload, as the specification says).
    pub async fn mount_blob(
        &self,
        p: &Principal,
        r: &RepoRef,
        digest: &Digest,
        from: &RepoRef,
    ) -> Result<Option<u64>, CoreError> {
        self.check_push(p, r).await?;
        let Ok(source) = self.readable_repo(p, from, ArtifactAction::Download).await else {
            return Ok(None);
        };
        let d = digest.to_string();
        retry_conflicts(|| async {
            let mut tx = self.meta.begin().await?;
            if !tx.blob_linked(source.id, &d).await? {
                return Ok(None);
            }
            let Some(blob) = tx.get_blob(&d).await? else {
                return Ok(None);
            };
            let repo = self.repo_for_push(tx.as_mut(), r).await?;
            self.count_image_bytes(tx.as_mut(), &r.org, &d, blob.size)
                .await?;
            tx.link_blob(repo.id, &d).await?;
            tx.commit().await?;
            Ok(Some(blob.size))
        })
        .await
    }

    /// Counts a blob against the org's image ledger, atomically checking the total (R-QUO-1).
    pub(crate) async fn count_image_bytes(
        &self,
        tx: &mut dyn MetadataTx,
        org: &OrgId,
        digest: &str,
        size: u64,
    ) -> Result<(), CoreError> {
        // Only a blob new to the org costs anything; the ledger's total is read only then.
        if tx.add_usage(org, IMAGES_LEDGER, digest, size).await? {
            let limits = tx.get_org(org).await?.map(|o| o.quota).unwrap_or_default();
            let used = tx.usage(org, IMAGES_LEDGER).await?.saturating_sub(size);
            quota::check_images(&limits, used, size)?;
        }
        Ok(())
    }

    /// The session of an upload to `r`; `BLOB_UPLOAD_UNKNOWN` if absent or for another repo.
    async fn session(&self, r: &RepoRef, id: Uuid) -> Result<UploadSession, CoreError> {
        let mut tx = self.meta.begin_read().await?;
        match tx.get_upload(id).await? {
            Some(s) if s.purpose == purpose(r) => Ok(s),
            _ => Err(upload_unknown()),
        }
    }

    /// The state of an upload (`GET …/uploads/<id>`).
    pub async fn upload_status(
        &self,
        p: &Principal,
        r: &RepoRef,
        id: Uuid,
    ) -> Result<UploadSession, CoreError> {
        self.allow(p, r, ArtifactAction::Upload, None)?;
        self.session(r, id).await
    }

    /// Appends a chunk (`PATCH`, or the body of the final `PUT`). `start` is the first byte's
    /// offset from `Content-Range`; it must equal the bytes received so far (else 416).
    pub async fn append_blob_chunk(
        &self,
        p: &Principal,
        r: &RepoRef,
        id: Uuid,
        start: Option<u64>,
        length: Option<u64>,
        body: ByteStream,
    ) -> Result<UploadSession, CoreError> {
        self.allow(p, r, ArtifactAction::Upload, None)?;
        let session = self.session(r, id).await?;
        if let Some(s) = start {
            if s != session.received {
                return Err(CoreError::Registry(arca_oci::ApiError::chunk_out_of_order(
                    session.received,
                    s,
                )));
            }
        }
        let limits = self.org_quota(&r.org).await?;
        let room = limits.max_layer_bytes.saturating_sub(session.received);
        if let Some(len) = length {
            quota::check_layer(&limits, session.received.saturating_add(len))?;
        }
        let mut offset = session.received;
        let recorded = {
            let mut tx = self.meta.begin_read().await?;
            tx.upload_parts(id).await?
        };
        // Backends that need a minimum part size (S3: 5 MiB) cannot concatenate a short
        // part that is followed by more: a chunk that brings bytes after a short one is
        // refused, with the reason, before any of them is stored (rather than failing at
        // completion). An empty final body is fine.
        let min = self.blobs.min_part_size();
        let short_tail = recorded
            .last()
            .filter(|p| min > 0 && p.size < min)
            .map(|p| p.size);
        let mut number = recorded.len() as u32;
        let mut written_total = 0u64;
        let mut last = session.clone();
        let max_part = if min > 0 {
            MAX_BUFFERED_PART_BYTES
        } else {
            MAX_PART_BYTES
        };
        let mut parts = PartSplitter::new(body, even_part_size(length, max_part));
        while let Some(first) = parts.first().await {
            let first = first.map_err(|e| CoreError::Blob(BlobError::Body(e.to_string())))?;
            if let Some(short) = short_tail {
                return Err(CoreError::registry(
                    ErrorCode::BlobUploadInvalid,
                    format!(
                        "this registry's storage needs every chunk but the last to be at least \
                         {min} bytes; the previous chunk was {short} bytes. Restart the upload \
                         with larger chunks (or one PATCH)"
                    ),
                ));
            }
            number += 1;
            let receipt = parts
                .put_next(
                    self.blobs.as_ref(),
                    id,
                    &session.backend_state,
                    number,
                    first,
                )
                .await?;
            written_total += receipt.size;
            if written_total > room {
                // The refused part is never recorded; overwrite its bytes with nothing so the
                // session keeps exactly what was accepted before (and can still be resumed).
                let _ = self
                    .blobs
                    .put_part(
                        id,
                        &session.backend_state,
                        number,
                        futures::stream::empty().boxed(),
                    )
                    .await;
                return Err(CoreError::Quota(quota::QuotaExceeded {
                    kind: quota::QuotaKind::Layer,
                    limit: limits.max_layer_bytes,
                    used: 0,
                    requested: offset + receipt.size,
                    excess: (offset + receipt.size).saturating_sub(limits.max_layer_bytes),
                }));
            }
            let rec = UploadPart {
                number,
                offset,
                size: receipt.size,
                etag: receipt.etag,
            };
            offset += receipt.size;
            // The part is durable in the blob store; recording it may be retried safely.
            last = retry_conflicts(|| async {
                let mut tx = self.meta.begin().await?;
                let s = tx.add_upload_part(id, &rec, self.clock.now()).await?;
                tx.commit().await?;
                Ok(s)
            })
            .await?;
        }
        if let Some(len) = length {
            if written_total != len {
                return Err(CoreError::registry(
                    ErrorCode::SizeInvalid,
                    format!("Content-Length was {len} but {written_total} bytes arrived"),
                ));
            }
        }
        Ok(last)
    }

    /// Completes an upload (`PUT …/uploads/<id>?digest=`): verifies the digest while
    /// concatenating, makes the blob visible, links it to the repository and counts it (quota
    /// checked atomically). On a mismatch nothing becomes visible.
    pub async fn finish_blob_upload(
        &self,
        p: &Principal,
        r: &RepoRef,
        id: Uuid,
        digest: &Digest,
    ) -> Result<StoredBlob, CoreError> {
        self.allow(p, r, ArtifactAction::Upload, None)?;
        let session = self.session(r, id).await?;
        let parts = {
            let mut tx = self.meta.begin_read().await?;
            tx.upload_parts(id).await?
        };
        // Check the org total before assembling (the exact, atomic check follows at commit);
        // a rejected upload stores nothing.
        {
            let limits = self.org_quota(&r.org).await?;
            let mut tx = self.meta.begin_read().await?;
            let used = tx.usage(&r.org, IMAGES_LEDGER).await?;
            let known = tx.get_blob(digest.as_ref()).await?.is_some();
            drop(tx);
            if !known {
                if let Err(e) = quota::check_images(&limits, used, session.received) {
                    self.discard_upload(id, &session.backend_state).await;
                    return Err(e.into());
                }
            }
        }
        let stored = if parts.is_empty() {
            self.blobs
                .put(Some(digest), Some(0), futures::stream::empty().boxed())
                .await
        } else {
            self.blobs
                .complete_upload(id, &session.backend_state, &parts, Some(digest))
                .await
        }
        .map_err(|e| match e {
            crate::ports::BlobError::DigestMismatch { expected, computed } => CoreError::registry(
                ErrorCode::DigestInvalid,
                format!("the uploaded bytes hash to {computed}, not {expected}"),
            ),
            crate::ports::BlobError::UploadUnknown(_) => upload_unknown(),
            other => other.into(),
        })?;
        let d = stored.digest.to_string();
        let now = self.clock.now();
        let result = retry_conflicts(|| async {
            let mut tx = self.meta.begin().await?;
            let repo = self.repo_for_push(tx.as_mut(), r).await?;
            tx.insert_blob(&BlobRecord {
                digest: d.clone(),
                size: stored.size,
                created_at: now,
            })
            .await?;
            self.count_image_bytes(tx.as_mut(), &r.org, &d, stored.size)
                .await?;
            tx.link_blob(repo.id, &d).await?;
            if tx.get_upload(id).await?.is_some() {
                tx.delete_upload(id).await?;
            }
            tx.commit().await?;
            Ok(())
        })
        .await;
        match result {
            Ok(()) => Ok(stored),
            Err(e) => {
                self.after_failed_completion(&e, id, &session.backend_state, &stored.digest)
                    .await?;
                Err(e)
            }
        }
    }

    /// Cleans up after a completed upload whose bytes could not be recorded: a quota refusal
    /// drops the upload, and bytes nothing references are removed, unless another upload made
    /// the same blob known meanwhile.
    pub(crate) async fn after_failed_completion(
        &self,
        e: &CoreError,
        id: Uuid,
        backend_state: &str,
        digest: &Digest,
    ) -> Result<(), CoreError> {
        if matches!(e, CoreError::Quota(_)) {
            self.discard_upload(id, backend_state).await;
        }
        let mut tx = self.meta.begin_read().await?;
        if tx.get_blob(digest.as_ref()).await?.is_none() {
            let _ = self.blobs.delete(digest).await;
        }
        Ok(())
    }

    /// Drops an upload's parts and session, ignoring failures (best effort: the sweeper
    /// removes whatever is left).
    pub(crate) async fn discard_upload(&self, id: Uuid, backend_state: &str) {
        let _ = self.blobs.abort_upload(id, backend_state).await;
        let _ = retry_conflicts(|| async {
            let mut tx = self.meta.begin().await?;
            if tx.get_upload(id).await?.is_some() {
                tx.delete_upload(id).await?;
            }
            tx.commit().await?;
            Ok(())
        })
        .await;
    }

    /// Aborts uploads not touched since `before` (abandoned by their clients) and forgets
    /// them; safe to run on every replica. Returns how many were removed.
    pub async fn sweep_stale_uploads(
        &self,
        before: chrono::DateTime<chrono::Utc>,
    ) -> Result<usize, CoreError> {
        let stale = {
            let mut tx = self.meta.begin_read().await?;
            tx.stale_uploads(before).await?
        };
        for s in &stale {
            self.discard_upload(s.id, &s.backend_state).await;
        }
        Ok(stale.len())
    }

    /// Cancels an upload (`DELETE …/uploads/<id>`).
    pub async fn cancel_blob_upload(
        &self,
        p: &Principal,
        r: &RepoRef,
        id: Uuid,
    ) -> Result<(), CoreError> {
        self.allow(p, r, ArtifactAction::Upload, None)?;
        let session = self.session(r, id).await?;
        self.blobs.abort_upload(id, &session.backend_state).await?;
        retry_conflicts(|| async {
            let mut tx = self.meta.begin().await?;
            if tx.get_upload(id).await?.is_some() {
                tx.delete_upload(id).await?;
            }
            tx.commit().await?;
            Ok(())
        })
        .await
    }

    /// A blob's size, if it is part of the repository (`HEAD …/blobs/<digest>`).
    pub async fn blob_size(
        &self,
        p: &Principal,
        r: &RepoRef,
        digest: &Digest,
    ) -> Result<u64, CoreError> {
        let repo = self.readable_repo(p, r, ArtifactAction::Download).await?;
        let mut tx = self.meta.begin_read().await?;
        let d = digest.to_string();
        if !tx.blob_linked(repo.id, &d).await? {
            return Err(blob_unknown(digest));
        }
        tx.get_blob(&d)
            .await?
            .map(|b| b.size)
            .ok_or_else(|| blob_unknown(digest))
    }

    /// Reads a blob of the repository, or a range of it (`GET …/blobs/<digest>`).
    pub async fn read_blob(
        &self,
        p: &Principal,
        r: &RepoRef,
        digest: &Digest,
        range: Option<ByteRange>,
    ) -> Result<BlobRead, CoreError> {
        self.blob_size(p, r, digest).await?;
        self.blobs.get(digest, range).await.map_err(|e| match e {
            crate::ports::BlobError::NotFound(_) => blob_unknown(digest),
            other => other.into(),
        })
    }

    /// Removes a blob from a repository (`DELETE …/blobs/<digest>`).
    pub async fn delete_blob(
        &self,
        p: &Principal,
        r: &RepoRef,
        digest: &Digest,
    ) -> Result<(), CoreError> {
        let repo = self.readable_repo(p, r, ArtifactAction::Delete).await?;
        let mut tx = self.meta.begin().await?;
        tx.unlink_blob(repo.id, digest.as_ref())
            .await
            .map_err(|_| blob_unknown(digest))?;
        tx.commit().await?;
        Ok(())
    }

    /// Stores a manifest under a tag or its digest (`PUT …/manifests/<reference>`): parses
    /// it, checks the digest and that every blob and child manifest it names is in the
    /// repository (`MANIFEST_BLOB_UNKNOWN`), stores the bytes content-addressed and records
    /// it, moving the tag, in one transaction.
    pub async fn put_manifest(
        &self,
        p: &Principal,
        r: &RepoRef,
        reference: &Reference,
        content_type: Option<&str>,
        body: Bytes,
    ) -> Result<PushedManifest, CoreError> {
        self.check_push(p, r).await?;
        if body.len() > MAX_MANIFEST_BYTES {
            return Err(CoreError::registry(
                ErrorCode::SizeInvalid,
                format!("manifest larger than {MAX_MANIFEST_BYTES} bytes"),
            )
            .with_status(413));
        }
        let parsed = ParsedManifest::parse(content_type, &body).map_err(|e| {
            CoreError::Registry(
                arca_oci::ApiError::new(e.error_code(), e.to_string()).with_status(e.status()),
            )
        })?;
        let digest = Digest::sha256_of(&body);
        if let Reference::Digest(d) = reference {
            if d != &digest {
                return Err(CoreError::registry(
                    ErrorCode::DigestInvalid,
                    format!("the manifest's digest is {digest}, not {d}"),
                ));
            }
        }
        let d = digest.to_string();
        let blobs: Vec<(String, u64)> = parsed
            .referenced_blobs()
            .iter()
            .map(|b| (b.digest().to_string(), b.size()))
            .collect();
        let children: Vec<String> = parsed
            .child_manifests()
            .iter()
            .map(|c| c.digest().to_string())
            .collect();
        let platforms = serde_json::to_string(&parsed.platform_rows())
            .map_err(|e| CoreError::Invalid(e.to_string()))?;
        let annotations = serde_json::to_string(&parsed.annotations())
            .map_err(|e| CoreError::Invalid(e.to_string()))?;
        let size = body.len() as u64;
        // A Helm chart is also recorded as a chart version (crate::charts::oci).
        let chart = self
            .helm_chart_of_manifest(p, r, reference, &parsed)
            .await?;
        self.blobs
            .put(
                Some(&digest),
                Some(size),
                crate::ports::once_stream(body.clone()),
            )
            .await?;
        let now = self.clock.now();
        let record_template = ManifestRecord {
            repo_id: 0,
            digest: d.clone(),
            media_type: parsed.media_type().to_string(),
            size,
            artifact_type: parsed.artifact_type().map(str::to_string),
            subject: parsed.subject().map(|s| s.digest().to_string()),
            blobs: blobs.iter().map(|(b, _)| b.clone()).collect(),
            children: children.clone(),
            blob_bytes: blobs.iter().map(|(_, s)| *s).sum(),
            annotations,
            platforms,
            created_at: now,
        };
        retry_conflicts(|| async {
            let mut tx = self.meta.begin().await?;
            let mut repo = self.repo_for_push(tx.as_mut(), r).await?;
            for (b, _) in &blobs {
                if !tx.blob_linked(repo.id, b).await? {
                    return Err(CoreError::registry(
                        ErrorCode::ManifestBlobUnknown,
                        format!("blob {b} is not in repository {}", r.path()),
                    ));
                }
            }
            for c in &children {
                if tx.get_manifest(repo.id, c).await?.is_none() {
                    return Err(CoreError::registry(
                        ErrorCode::ManifestBlobUnknown,
                        format!("manifest {c} is not in repository {}", r.path()),
                    ));
                }
            }
            tx.insert_blob(&BlobRecord {
                digest: d.clone(),
                size,
                created_at: now,
            })
            .await?;
            self.count_image_bytes(tx.as_mut(), &r.org, &d, size)
                .await?;
            let mut record = record_template.clone();
            record.repo_id = repo.id;
            tx.put_manifest(&record).await?;
            if let Reference::Tag(tag) = reference {
                tx.put_tag(&TagRecord {
                    repo_id: repo.id,
                    name: tag.as_str().to_string(),
                    digest: d.clone(),
                    updated_at: now,
                })
                .await?;
            }
            repo.updated_at = now;
            tx.update_repo(&repo).await?;
            if let Some(chart) = &chart {
                self.record_oci_chart(tx.as_mut(), chart, now).await?;
            }
            tx.commit().await?;
            Ok(())
        })
        .await?;
        Ok(PushedManifest {
            digest,
            subject: record_template.subject,
        })
    }

    /// Resolves a tag or digest to a manifest of the repository.
    async fn resolve(
        &self,
        tx: &mut dyn MetadataTx,
        repo: &Repository,
        reference: &Reference,
    ) -> Result<ManifestRecord, CoreError> {
        let unknown = || {
            CoreError::registry(
                ErrorCode::ManifestUnknown,
                format!(
                    "manifest {} unknown to repository {}",
                    reference.as_str(),
                    repo.path()
                ),
            )
        };
        let digest = match reference {
            Reference::Digest(d) => d.to_string(),
            Reference::Tag(t) => {
                tx.get_tag(repo.id, t.as_str())
                    .await?
                    .ok_or_else(unknown)?
                    .digest
            }
        };
        tx.get_manifest(repo.id, &digest).await?.ok_or_else(unknown)
    }

    /// Fetches a manifest by tag or digest (`GET`/`HEAD …/manifests/<reference>`).
    pub async fn get_manifest(
        &self,
        p: &Principal,
        r: &RepoRef,
        reference: &Reference,
    ) -> Result<ManifestContent, CoreError> {
        let repo = self.readable_repo(p, r, ArtifactAction::Download).await?;
        let record = {
            let mut tx = self.meta.begin_read().await?;
            self.resolve(tx.as_mut(), &repo, reference).await?
        };
        if let Some(body) = self.manifest_cache.get(&record.digest) {
            return Ok(ManifestContent { record, body });
        }
        let digest = Digest::parse(&record.digest)
            .map_err(|e| CoreError::Invalid(format!("stored digest: {e}")))?;
        let read = self.blobs.get(&digest, None).await?;
        let parts: Vec<Bytes> = read
            .body
            .map(|c| {
                c.map_err(|e| CoreError::Blob(crate::ports::BlobError::Backend(e.to_string())))
            })
            .collect::<Vec<_>>()
            .await
            .into_iter()
            .collect::<Result<_, _>>()?;
        let body = Bytes::from(parts.concat());
        // Only bytes that hash to their digest are kept (the store verified them when they
        // were written; this guards the cache against a corrupted read).
        if digest.matches(&body) {
            self.manifest_cache.put(&record.digest, body.clone());
        }
        Ok(ManifestContent { record, body })
    }

    /// Deletes a manifest by digest (with its tags), or only a tag (`DELETE
    /// …/manifests/<reference>`, P5: deleting a tag never deletes other tags).
    pub async fn delete_manifest(
        &self,
        p: &Principal,
        r: &RepoRef,
        reference: &Reference,
    ) -> Result<(), CoreError> {
        let repo = self.readable_repo(p, r, ArtifactAction::Delete).await?;
        let mut tx = self.meta.begin().await?;
        match reference {
            Reference::Tag(t) => tx.delete_tag(repo.id, t.as_str()).await.map_err(|_| {
                CoreError::registry(
                    ErrorCode::ManifestUnknown,
                    format!("tag {} unknown", t.as_str()),
                )
            })?,
            Reference::Digest(d) => {
                let unknown = || {
                    CoreError::registry(ErrorCode::ManifestUnknown, format!("manifest {d} unknown"))
                };
                let record = tx
                    .get_manifest(repo.id, d.as_ref())
                    .await?
                    .ok_or_else(unknown)?;
                tx.delete_manifest(repo.id, d.as_ref())
                    .await
                    .map_err(|_| unknown())?;
                // A Helm chart's manifest takes its chart version along (crate::charts::oci).
                self.forget_charts_of_manifest(tx.as_mut(), r, repo.id, &record)
                    .await?;
            }
        }
        tx.commit().await?;
        Ok(())
    }

    /// Tags of a repository in byte order, after `last`, at most `n` (`GET …/tags/list`).
    pub async fn list_tags(
        &self,
        p: &Principal,
        r: &RepoRef,
        last: Option<&str>,
        n: Option<usize>,
    ) -> Result<Vec<String>, CoreError> {
        let repo = self.readable_repo(p, r, ArtifactAction::View).await?;
        let mut tx = self.meta.begin_read().await?;
        Ok(tx
            .list_tags(repo.id, last, n)
            .await?
            .into_iter()
            .map(|t| t.name)
            .collect())
    }

    /// Repository names the caller may see, in order, after `last`, at most `n`
    /// (`GET /v2/_catalog`): never a name the caller cannot see (R-TEN-7).
    pub async fn catalog(
        &self,
        p: &Principal,
        last: Option<&str>,
        n: Option<usize>,
    ) -> Result<Vec<String>, CoreError> {
        let org = match p {
            Principal::Key(k) => k.key.org.clone(),
            Principal::Anonymous => {
                return Err(CoreError::registry(
                    ErrorCode::Unauthorized,
                    "authentication required",
                ))
            }
        };
        let repos = {
            let mut tx = self.meta.begin_read().await?;
            tx.list_repos(&org).await?
        };
        let mut names: Vec<String> = repos
            .iter()
            .filter(|repo| {
                let target = Target::Artifact {
                    kind: ArtifactKind::Container,
                    org: &repo.org,
                    team: repo.team.as_ref(),
                    name: Some(repo.name.as_str()),
                };
                decide(p, Action::Artifact(ArtifactAction::List), &target).is_allowed()
            })
            .map(Repository::path)
            .filter(|path| last.map_or(true, |l| path.as_str() > l))
            .collect();
        names.sort();
        names.truncate(n.unwrap_or(usize::MAX));
        Ok(names)
    }

    /// The referrers of a manifest as an OCI image index (`GET …/referrers/<digest>`),
    /// optionally filtered by `artifactType`; returns the JSON and whether a filter applied.
    pub async fn referrers(
        &self,
        p: &Principal,
        r: &RepoRef,
        digest: &Digest,
        artifact_type: Option<&str>,
    ) -> Result<(String, bool), CoreError> {
        let repo = self.readable_repo(p, r, ArtifactAction::View).await?;
        let records = {
            let mut tx = self.meta.begin_read().await?;
            tx.referrers(repo.id, digest.as_ref()).await?
        };
        let mut descriptors = Vec::with_capacity(records.len());
        for m in records {
            let d = Digest::parse(&m.digest)
                .map_err(|e| CoreError::Invalid(format!("stored digest: {e}")))?;
            let mut desc = arca_oci::oci_spec::image::Descriptor::new(
                arca_oci::oci_spec::image::MediaType::from(m.media_type.as_str()),
                m.size,
                d.to_oci(),
            );
            desc.set_artifact_type(
                m.artifact_type
                    .as_deref()
                    .map(arca_oci::oci_spec::image::MediaType::from),
            );
            let annotations: Option<std::collections::HashMap<String, String>> =
                serde_json::from_str(&m.annotations).unwrap_or(None);
            desc.set_annotations(annotations);
            descriptors.push(desc);
        }
        let response = arca_oci::ReferrersResponse::build(descriptors, artifact_type);
        let json = response
            .to_json()
            .map_err(|e| CoreError::Invalid(e.to_string()))?;
        Ok((json, response.filters_applied().is_some()))
    }
}

impl CoreError {
    /// Overrides the HTTP status of a registry error.
    pub fn with_status(self, status: u16) -> Self {
        match self {
            CoreError::Registry(e) => CoreError::Registry(e.with_status(status)),
            other => other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repository_names() {
        let r = RepoRef::parse("demo/vision/resnet").unwrap();
        assert_eq!(r.path(), "demo/vision/resnet");
        assert!(RepoRef::parse("demo/app").unwrap().team.is_none());
        for bad in [
            "demo",
            "a/b/c/d",
            "Demo/app",
            "demo//x",
            "",
            "demo/app/",
            "v2/app",
        ] {
            assert!(
                matches!(RepoRef::parse(bad), Err(CoreError::Registry(_))),
                "{bad}"
            );
        }
    }

    #[test]
    fn chunks_are_cut_into_even_parts_without_a_tiny_tail() {
        const M: u64 = 1024 * 1024;
        for max in [MAX_PART_BYTES, MAX_BUFFERED_PART_BYTES] {
            assert_eq!(even_part_size(None, max), max);
            assert_eq!(even_part_size(Some(max - 1), max), max);
            assert_eq!(even_part_size(Some(max), max), max);
            // A little over one part: two equal halves, not a full part and a sliver.
            assert_eq!(even_part_size(Some(max + 2 * M), max), max / 2 + M);
            for len in [max + 1, 129 * M, 1000 * M + 7, 10_000 * M] {
                let part = even_part_size(Some(len), max);
                let n = len.div_ceil(part);
                let last = len - (n - 1) * part;
                assert!(part <= max && last >= 5 * M, "{len}: {part} {last}");
            }
        }
    }
}

//! Transfers of model and resource version files (R-MOD-3, R-MOD-4, R-QUO-1), with the protocol
//! NGC's `ngcsdk` speaks (see `shared/research/ngc-rest-protocol.md` §6):
//!
//! 1. the client asks which file hashes the artifact already holds ([`Arca::files_known`]);
//! 2. per missing file it asks for part URLs ([`Arca::start_file_upload`]): parts of
//!    [`PART_SIZE`] bytes, each PUT to a URL that Arca signs with an expiry — the URL is the
//!    only credential ([`Arca::put_file_part`]);
//! 3. it completes each file ([`Arca::complete_file_upload`]): the parts are concatenated and
//!    hashed, the content is stored once per digest and counted once per org against the
//!    models-and-resources quota, atomically;
//! 4. it commits the file list to the version ([`Arca::commit_files`]), optionally starting from
//!    a base version whose files are referenced, not copied;
//! 5. it marks the version `UPLOAD_COMPLETE` ([`Arca::update_version`]); only then do readers
//!    see it.
//!
//! Upload sessions and their parts live in the metadata store and the bytes in the blob store's
//! multi-part uploads, so an interrupted upload continues on rerun, on any replica, from the
//! parts already received. Downloads use signed URLs too ([`Arca::download_urls`],
//! [`Arca::read_signed_file`]) and support byte ranges.

use crate::artifacts::{kind_noun, ArtifactRef};
use crate::authz::Principal;
use crate::error::CoreError;
use crate::model::{
    Artifact, ArtifactVersion, BlobRecord, UploadPart, UploadSession, VersionFile, VersionStatus,
};
use crate::names::VersionId;
use crate::ports::{BlobError, BlobRead, ByteRange, ByteStream, MetadataTx, StoreError};
use crate::quota;
use crate::registry::PartSplitter;
use crate::service::retry_conflicts;
use crate::Arca;
use arca_auth::{ArtifactAction, ArtifactKind};
use arca_oci::Digest;
use futures::StreamExt;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Size of every part but the last, as ngcsdk cuts files ("a contractual constant").
pub const PART_SIZE: u64 = 500_000_000;
/// Most blob-store parts one client part is cut into, so that a backend that buffers a part
/// (S3 needs its length up front) holds at most 62.5 MB of it.
const MAX_SLOTS_PER_PART: u32 = 8;
/// S3 allows 10,000 parts per multipart upload; very large files use fewer, larger slots.
const MAX_BACKEND_PARTS: u32 = 10_000;

/// How many blob-store parts (slots) each client part of a file of `size` bytes is cut into:
/// 8 up to 1,250 client parts (625 GB), fewer above so that the file stays within S3's
/// 10,000 parts (a 1 TiB file: 2,200 parts of 4 slots).
fn slots_per_part(size: u64) -> u32 {
    (MAX_BACKEND_PARTS / part_count(size)).clamp(1, MAX_SLOTS_PER_PART)
}

/// Size of the blob-store parts a client part is cut into (≥ S3's 5 MiB minimum).
fn sub_part_size(size: u64) -> u64 {
    PART_SIZE.div_ceil(u64::from(slots_per_part(size)))
}
/// Largest file accepted (ngcsdk's own pre-upload limit is 1 TiB). With S3 this needs
/// 2,200 parts × 4 slots = 8,800 backend parts, under S3's 10,000.
pub const MAX_FILE_SIZE: u64 = 1 << 40;
/// Longest file path inside a version.
pub const MAX_PATH_LEN: usize = 4096;
/// How long a part-upload URL works (ngcsdk keeps its resume journal for 24 hours).
pub const UPLOAD_URL_TTL: chrono::Duration = chrono::Duration::hours(24);
/// How long a download URL works.
pub const DOWNLOAD_URL_TTL: chrono::Duration = chrono::Duration::hours(12);
/// Most files one commit call may name (ngcsdk sends batches of 4,000).
pub const MAX_COMMIT_FILES: usize = 10_000;

/// The usage ledger of models and resources (they share one limit, guide chapter 7).
pub use crate::admin::MODELS_LEDGER;

/// Checks a file path inside a version: relative, `/`-separated, no empty, `.` or `..`
/// component, no backslash or control character.
pub fn validate_file_path(path: &str) -> Result<(), CoreError> {
    let bad = |why: &str| {
        Err(CoreError::Invalid(format!(
            "file path '{}' {why}",
            crate::names::shown(path)
        )))
    };
    if path.is_empty() {
        return bad("is empty");
    }
    if path.len() > MAX_PATH_LEN {
        return bad(&format!("is longer than {MAX_PATH_LEN} bytes"));
    }
    if path.starts_with('/') {
        return bad("must be relative (no leading '/')");
    }
    if path.chars().any(|c| c.is_control() || c == '\\') {
        return bad("contains a control character or a backslash");
    }
    if path
        .split('/')
        .any(|seg| seg.is_empty() || seg == "." || seg == "..")
    {
        return bad("has an empty, '.' or '..' component");
    }
    Ok(())
}

/// Reads a SHA-256 as ngcsdk sends it: standard base64 (padding optional) of the 32 bytes.
pub fn parse_sha256_b64(value: &str) -> Result<Digest, CoreError> {
    use base64::Engine;
    let engine = base64::engine::general_purpose::GeneralPurpose::new(
        &base64::alphabet::STANDARD,
        base64::engine::general_purpose::GeneralPurposeConfig::new()
            .with_decode_padding_mode(base64::engine::DecodePaddingMode::Indifferent),
    );
    let bytes = engine.decode(value.trim()).map_err(|_| {
        CoreError::Invalid(format!(
            "sha256 '{}' is not base64",
            crate::names::shown(value)
        ))
    })?;
    if bytes.len() != 32 {
        return Err(CoreError::Invalid(format!(
            "sha256 '{}' decodes to {} bytes, not 32",
            crate::names::shown(value),
            bytes.len()
        )));
    }
    Digest::parse(&format!("sha256:{}", hex::encode(bytes)))
        .map_err(|e| CoreError::Invalid(e.to_string()))
}

/// The standard base64 form of a `sha256:<hex>` digest (what ngcsdk compares).
pub fn sha256_b64(digest: &str) -> String {
    use base64::Engine;
    let hex_part = digest.strip_prefix("sha256:").unwrap_or(digest);
    match hex::decode(hex_part) {
        Ok(b) => base64::engine::general_purpose::STANDARD.encode(b),
        Err(_) => String::new(),
    }
}

/// Number of parts of a file of `size` bytes (an empty file is one empty part).
pub fn part_count(size: u64) -> u32 {
    size.div_ceil(PART_SIZE).max(1) as u32
}

/// The exact length of part `n` (from 1) of a file of `size` bytes.
pub fn part_len(size: u64, n: u32) -> u64 {
    let start = u64::from(n - 1) * PART_SIZE;
    size.saturating_sub(start).min(PART_SIZE)
}

/// What an upload session of a version file is for (kept, as JSON, in the session's purpose).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct FilePurpose {
    artifact: i64,
    version: String,
    path: String,
    digest: String,
    size: u64,
}

const PURPOSE_PREFIX: &str = "file:";

impl FilePurpose {
    fn encode(&self) -> String {
        format!(
            "{PURPOSE_PREFIX}{}",
            serde_json::to_string(self).unwrap_or_default()
        )
    }
    fn decode(s: &str) -> Option<Self> {
        serde_json::from_str(s.strip_prefix(PURPOSE_PREFIX)?).ok()
    }
}

/// A request for part URLs (`POST /v2/{ot}/files/multipart`).
#[derive(Debug, Clone)]
pub struct FileUploadRequest {
    /// Version id.
    pub version: VersionId,
    /// Path of the file inside the version.
    pub path: String,
    /// Size in bytes.
    pub size: u64,
    /// Its SHA-256.
    pub digest: Digest,
    /// On resume: the upload to continue.
    pub upload_id: Option<Uuid>,
    /// On resume: the parts (from 1) still to send; `None` means all.
    pub parts: Option<Vec<u32>>,
}

/// The answer to a [`FileUploadRequest`]: the upload id and one signed URL per requested part,
/// in the order requested (paths relative to the server's base URL).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileUploadGrant {
    /// Upload id.
    pub upload_id: Uuid,
    /// URLs, in order.
    pub urls: Vec<String>,
}

/// One change of a commit (`POST /v2/{ot}/files/commit`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileChange {
    /// Adds (or replaces) the file at `path` with content the artifact already holds.
    Add {
        /// Path.
        path: String,
        /// Content digest.
        digest: Digest,
    },
    /// Removes the file at `path` (e.g. one inherited from the base version).
    Remove {
        /// Path.
        path: String,
    },
}

fn expired() -> CoreError {
    CoreError::Forbidden("this signed URL has expired; request a new one".into())
}

fn bad_signature() -> CoreError {
    CoreError::Forbidden("this URL's signature is not valid".into())
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

impl Arca {
    async fn url_signature(&self, payload: &str) -> Result<String, CoreError> {
        let key = self.signing_key().await?;
        Ok(hex::encode(crate::authn::sign(
            &key,
            &format!("arca-url-v1\n{payload}"),
        )?))
    }

    async fn check_signature(
        &self,
        payload: &str,
        expires: i64,
        signature: &str,
    ) -> Result<(), CoreError> {
        let want = self.url_signature(payload).await?;
        if !constant_time_eq(want.as_bytes(), signature.as_bytes()) {
            return Err(bad_signature());
        }
        if self.clock.now().timestamp() > expires {
            return Err(expired());
        }
        Ok(())
    }

    async fn part_url(&self, upload: Uuid, part: u32, expires: i64) -> Result<String, CoreError> {
        let sig = self
            .url_signature(&format!("part\n{upload}\n{part}\n{expires}"))
            .await?;
        Ok(format!(
            "/transfer/parts/{upload}/{part}?expires={expires}&signature={sig}"
        ))
    }

    async fn file_url(&self, digest: &Digest, expires: i64) -> Result<String, CoreError> {
        let hex = digest.hex();
        let sig = self
            .url_signature(&format!("file\n{hex}\n{expires}"))
            .await?;
        Ok(format!(
            "/transfer/files/{hex}?expires={expires}&signature={sig}"
        ))
    }

    /// A pending version of `r` that the caller may upload to.
    async fn pending_version(
        &self,
        p: &Principal,
        r: &ArtifactRef,
        v: &VersionId,
    ) -> Result<(Artifact, ArtifactVersion), CoreError> {
        let artifact = self.artifact_for(p, r, ArtifactAction::Upload).await?;
        let version = {
            let mut tx = self.meta.begin_read().await?;
            tx.get_version(artifact.id, v.as_str()).await?
        }
        .ok_or_else(|| {
            CoreError::NotFound(format!(
                "version {}:{v} (create the version before uploading files)",
                r.path()
            ))
        })?;
        if version.status != VersionStatus::UploadPending {
            return Err(CoreError::Conflict(format!(
                "version {}:{v} is already complete; upload a new version instead",
                r.path()
            )));
        }
        Ok((artifact, version))
    }

    /// Which of `digests` the artifact already holds (so the client skips those files).
    pub async fn files_known(
        &self,
        p: &Principal,
        r: &ArtifactRef,
        digests: &[Digest],
    ) -> Result<Vec<bool>, CoreError> {
        let artifact = self.artifact_for(p, r, ArtifactAction::Upload).await?;
        let mut tx = self.meta.begin_read().await?;
        let mut out = Vec::with_capacity(digests.len());
        for d in digests {
            out.push(tx.artifact_blob(artifact.id, d.as_ref()).await?.is_some());
        }
        Ok(out)
    }

    /// Starts (or, with `upload_id`, continues) the upload of one file and signs one URL per
    /// part to send. The org's models-and-resources quota is checked here already, so that an
    /// upload that cannot fit is refused before any byte travels.
    pub async fn start_file_upload(
        &self,
        p: &Principal,
        r: &ArtifactRef,
        req: &FileUploadRequest,
    ) -> Result<FileUploadGrant, CoreError> {
        validate_file_path(&req.path)?;
        if req.size > MAX_FILE_SIZE {
            return Err(CoreError::Invalid(format!(
                "file {} is {} bytes; at most {MAX_FILE_SIZE} bytes per file are accepted",
                req.path, req.size
            )));
        }
        let (artifact, version) = self.pending_version(p, r, &req.version).await?;
        let purpose = FilePurpose {
            artifact: artifact.id,
            version: version.version.to_string(),
            path: req.path.clone(),
            digest: req.digest.to_string(),
            size: req.size,
        };
        let count = part_count(req.size);
        let wanted: Vec<u32> = match &req.parts {
            Some(list) => {
                if let Some(bad) = list.iter().find(|n| **n == 0 || **n > count) {
                    return Err(CoreError::Invalid(format!(
                        "part {bad} does not exist: a file of {} bytes has parts 1..={count}",
                        req.size
                    )));
                }
                list.clone()
            }
            None => (1..=count).collect(),
        };
        self.precheck_models_quota(&r.org, &req.digest, req.size)
            .await?;
        let existing = match req.upload_id {
            Some(id) => {
                let mut tx = self.meta.begin_read().await?;
                match tx.get_upload(id).await? {
                    Some(s) if FilePurpose::decode(&s.purpose).as_ref() == Some(&purpose) => {
                        Some(s)
                    }
                    Some(_) => {
                        return Err(CoreError::Invalid(format!(
                            "upload {id} is for another file; start a new upload without \
                             uploadID"
                        )))
                    }
                    None => {
                        return Err(CoreError::NotFound(format!(
                            "upload {id} (it was completed, cancelled, or abandoned for more \
                             than a day); start this file again without uploadID"
                        )))
                    }
                }
            }
            None => None,
        };
        let session = match existing {
            Some(s) => s,
            None => {
                let id = Uuid::from_bytes(crate::service::uuid_bytes(self.random_32()));
                let backend_state = self.blobs.create_upload(id).await?;
                let now = self.clock.now();
                let session = UploadSession {
                    id,
                    org: r.org.clone(),
                    purpose: purpose.encode(),
                    backend_state,
                    received: 0,
                    expected_size: Some(req.size),
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
                session
            }
        };
        let expires = (self.clock.now() + UPLOAD_URL_TTL).timestamp();
        let mut urls = Vec::with_capacity(wanted.len());
        for n in wanted {
            urls.push(self.part_url(session.id, n, expires).await?);
        }
        Ok(FileUploadGrant {
            upload_id: session.id,
            urls,
        })
    }

    async fn precheck_models_quota(
        &self,
        org: &crate::names::OrgId,
        digest: &Digest,
        size: u64,
    ) -> Result<(), CoreError> {
        let mut tx = self.meta.begin_read().await?;
        let limits = tx.get_org(org).await?.map(|o| o.quota).unwrap_or_default();
        let used = tx.usage(org, MODELS_LEDGER).await?;
        // A digest the org already stores costs nothing (counted once per org).
        let known = tx.usage_holds(org, MODELS_LEDGER, digest.as_ref()).await?;
        if !known {
            quota::check_models_resources(&limits, used, size)?;
        }
        Ok(())
    }

    /// Stores one part sent to a signed URL. The body must be exactly the part's length. A
    /// part received whole before is kept: a re-send is only checked for its length, so that a
    /// failed or different retry never replaces stored bytes.
    pub async fn put_file_part(
        &self,
        upload_id: Uuid,
        part: u32,
        expires: i64,
        signature: &str,
        content_length: Option<u64>,
        body: ByteStream,
    ) -> Result<(), CoreError> {
        self.check_signature(
            &format!("part\n{upload_id}\n{part}\n{expires}"),
            expires,
            signature,
        )
        .await?;
        let session = {
            let mut tx = self.meta.begin_read().await?;
            tx.get_upload(upload_id).await?
        }
        .ok_or_else(|| {
            CoreError::NotFound(format!(
                "upload {upload_id} (it was completed, cancelled or abandoned)"
            ))
        })?;
        let purpose = FilePurpose::decode(&session.purpose)
            .ok_or_else(|| CoreError::NotFound(format!("upload {upload_id}")))?;
        let count = part_count(purpose.size);
        if part == 0 || part > count {
            return Err(CoreError::Invalid(format!(
                "part {part} does not exist: this file has parts 1..={count}"
            )));
        }
        let expected = part_len(purpose.size, part);
        if let Some(len) = content_length {
            if len != expected {
                return Err(CoreError::Invalid(format!(
                    "part {part} must be exactly {expected} bytes; Content-Length says {len}"
                )));
            }
        }
        let recorded: Vec<UploadPart> = {
            let mut tx = self.meta.begin_read().await?;
            tx.upload_parts(upload_id).await?
        };
        let slots = slots_per_part(purpose.size);
        let first_slot = (part - 1) * slots + 1;
        let base_offset = u64::from(part - 1) * PART_SIZE;
        let have: u64 = recorded
            .iter()
            .filter(|x| (first_slot..first_slot + slots).contains(&x.number))
            .map(|x| x.size)
            .sum();
        if expected > 0 && have == expected {
            // A re-send (a retry whose answer was lost): writing it would replace the stored
            // slots before their receipts could be compared, and a short or different body
            // would then spoil a good part. The file's sha256 is verified at completion.
            let mut body = body;
            let mut n = 0u64;
            while let Some(chunk) = body.next().await {
                let chunk = chunk.map_err(|e| CoreError::Blob(BlobError::Body(e.to_string())))?;
                n += chunk.len() as u64;
                if n > expected {
                    return Err(CoreError::Invalid(format!(
                        "part {part} must be exactly {expected} bytes; more arrived"
                    )));
                }
            }
            if n != expected {
                return Err(CoreError::Invalid(format!(
                    "part {part} must be exactly {expected} bytes; {n} arrived"
                )));
            }
            return Ok(());
        }
        if expected == 0 {
            // An empty file: nothing to store; completion writes the empty blob.
            let mut body = body;
            if let Some(chunk) = body.next().await {
                let chunk = chunk.map_err(|e| CoreError::Blob(BlobError::Body(e.to_string())))?;
                if !chunk.is_empty() {
                    return Err(CoreError::Invalid(format!(
                        "part {part} must be exactly 0 bytes"
                    )));
                }
            }
            return Ok(());
        }
        let mut splitter = PartSplitter::new(body, sub_part_size(purpose.size));
        let mut slot = first_slot;
        let mut received = 0u64;
        let mut receipts = Vec::new();
        while let Some(first) = splitter.first().await {
            let first = first.map_err(|e| CoreError::Blob(BlobError::Body(e.to_string())))?;
            if slot >= first_slot + slots || received + first.len() as u64 > expected {
                return Err(CoreError::Invalid(format!(
                    "part {part} must be exactly {expected} bytes; more arrived"
                )));
            }
            let receipt = splitter
                .put_next(
                    self.blobs.as_ref(),
                    upload_id,
                    &session.backend_state,
                    slot,
                    first,
                )
                .await?;
            let rec = UploadPart {
                number: slot,
                offset: base_offset + received,
                size: receipt.size,
                etag: receipt.etag,
            };
            received += receipt.size;
            if received > expected {
                return Err(CoreError::Invalid(format!(
                    "part {part} must be exactly {expected} bytes; more arrived"
                )));
            }
            receipts.push(rec);
            slot += 1;
        }
        if received != expected {
            return Err(CoreError::Invalid(format!(
                "part {part} must be exactly {expected} bytes; {received} arrived"
            )));
        }
        // Record the slots; a retry of the same bytes finds identical records.
        for rec in receipts {
            let prior = recorded.iter().find(|x| x.number == rec.number);
            match prior {
                Some(x) if x.size == rec.size && x.etag == rec.etag => continue,
                Some(_) => {
                    return Err(CoreError::Conflict(format!(
                        "part {part} of upload {upload_id} was already received with other \
                         content"
                    )))
                }
                None => {}
            }
            retry_conflicts(|| async {
                let mut tx = self.meta.begin().await?;
                match tx.add_upload_part(upload_id, &rec, self.clock.now()).await {
                    Ok(_) => {}
                    // A concurrent retry recorded it first.
                    Err(StoreError::AlreadyExists(_)) => {}
                    Err(e) => return Err(e.into()),
                }
                tx.commit().await?;
                Ok(())
            })
            .await?;
        }
        Ok(())
    }

    /// Completes one file (`PUT /v2/{ot}/files/multipart`): assembles its parts, verifies the
    /// SHA-256, makes the content known to the artifact and counts it against the org's quota
    /// (once per digest, atomically). A file whose upload is gone but whose content the
    /// artifact holds is already complete.
    pub async fn complete_file_upload(
        &self,
        p: &Principal,
        r: &ArtifactRef,
        version: &VersionId,
        path: &str,
        upload_id: Uuid,
        digest: &Digest,
    ) -> Result<(), CoreError> {
        validate_file_path(path)?;
        let (artifact, _) = self.pending_version(p, r, version).await?;
        let session = {
            let mut tx = self.meta.begin_read().await?;
            tx.get_upload(upload_id).await?
        };
        let Some(session) = session else {
            let mut tx = self.meta.begin_read().await?;
            if tx
                .artifact_blob(artifact.id, digest.as_ref())
                .await?
                .is_some()
            {
                return Ok(());
            }
            return Err(CoreError::NotFound(format!("upload {upload_id}")));
        };
        let purpose = FilePurpose::decode(&session.purpose)
            .filter(|x| x.artifact == artifact.id && x.version == version.as_str())
            .ok_or_else(|| CoreError::NotFound(format!("upload {upload_id}")))?;
        if purpose.digest != digest.as_ref() || purpose.path != path {
            return Err(CoreError::Invalid(format!(
                "upload {upload_id} was started for {} with another sha256; complete it with \
                 the same file",
                purpose.path
            )));
        }
        let parts = {
            let mut tx = self.meta.begin_read().await?;
            tx.upload_parts(upload_id).await?
        };
        let received: u64 = parts.iter().map(|x| x.size).sum();
        let missing: Vec<u32> = (1..=part_count(purpose.size))
            .filter(|n| {
                let want = part_len(purpose.size, *n);
                let slots = slots_per_part(purpose.size);
                let lo = (n - 1) * slots + 1;
                let got: u64 = parts
                    .iter()
                    .filter(|x| (lo..lo + slots).contains(&x.number))
                    .map(|x| x.size)
                    .sum();
                got != want
            })
            .collect();
        if !missing.is_empty() || received != purpose.size {
            return Err(CoreError::Invalid(format!(
                "file {path} is incomplete: parts {missing:?} have not been received; send them \
                 and complete again"
            )));
        }
        // Quota before assembling; the exact check follows atomically at commit.
        if let Err(e) = self
            .precheck_models_quota(&r.org, digest, purpose.size)
            .await
        {
            self.discard_upload(upload_id, &session.backend_state).await;
            return Err(e);
        }
        let stored = if purpose.size == 0 {
            self.blobs
                .put(Some(digest), Some(0), futures::stream::empty().boxed())
                .await
        } else {
            self.blobs
                .complete_upload(upload_id, &session.backend_state, &parts, Some(digest))
                .await
        };
        let stored = match stored {
            Ok(s) => s,
            Err(BlobError::DigestMismatch { computed, .. }) => {
                self.discard_upload(upload_id, &session.backend_state).await;
                return Err(CoreError::Conflict(format!(
                    "integrity error: the bytes received for {path} hash to {computed}, not to \
                     the announced sha256; upload the file again"
                )));
            }
            Err(e) => return Err(e.into()),
        };
        let d = stored.digest.to_string();
        let now = self.clock.now();
        let result = retry_conflicts(|| async {
            let mut tx = self.meta.begin().await?;
            tx.insert_blob(&BlobRecord {
                digest: d.clone(),
                size: stored.size,
                created_at: now,
            })
            .await?;
            count_models_bytes(tx.as_mut(), &r.org, &d, stored.size).await?;
            tx.add_artifact_blob(artifact.id, &d, stored.size).await?;
            if tx.get_upload(upload_id).await?.is_some() {
                tx.delete_upload(upload_id).await?;
            }
            tx.commit().await?;
            Ok(())
        })
        .await;
        match result {
            Ok(()) => Ok(()),
            Err(e) => {
                self.after_failed_completion(&e, upload_id, &session.backend_state, &stored.digest)
                    .await?;
                Err(e)
            }
        }
    }

    /// Commits files to a pending version (`POST /v2/{ot}/files/commit`), all or nothing:
    /// with `base`, the base version's files are referenced first (no byte is copied; paths the
    /// version already has are kept); then each change applies. An added file's content must
    /// be held by the artifact (uploaded, or part of one of its versions).
    pub async fn commit_files(
        &self,
        p: &Principal,
        r: &ArtifactRef,
        version: &VersionId,
        base: Option<&VersionId>,
        changes: &[FileChange],
    ) -> Result<(), CoreError> {
        if changes.len() > MAX_COMMIT_FILES {
            return Err(CoreError::Invalid(format!(
                "{} files in one commit; send at most {MAX_COMMIT_FILES} per call",
                changes.len()
            )));
        }
        for c in changes {
            match c {
                FileChange::Add { path, .. } | FileChange::Remove { path } => {
                    validate_file_path(path)?
                }
            }
        }
        let (artifact, _) = self.pending_version(p, r, version).await?;
        let now = self.clock.now();
        retry_conflicts(|| async {
            let mut tx = self.meta.begin().await?;
            let v = tx
                .get_version(artifact.id, version.as_str())
                .await?
                .filter(|v| v.status == VersionStatus::UploadPending)
                .ok_or_else(|| {
                    CoreError::NotFound(format!("pending version {}:{version}", r.path()))
                })?;
            if let Some(b) = base {
                let bv = tx
                    .get_version(artifact.id, b.as_str())
                    .await?
                    .filter(|x| x.status == VersionStatus::UploadComplete)
                    .ok_or_else(|| {
                        CoreError::NotFound(format!("complete base version {}:{b}", r.path()))
                    })?;
                let have: std::collections::HashSet<String> = tx
                    .version_files(v.id)
                    .await?
                    .into_iter()
                    .map(|f| f.path)
                    .collect();
                for f in tx.version_files(bv.id).await? {
                    if !have.contains(&f.path) {
                        tx.put_version_file(v.id, &f).await?;
                    }
                }
            }
            for c in changes {
                match c {
                    FileChange::Add { path, digest } => {
                        let size = tx
                            .artifact_blob(artifact.id, digest.as_ref())
                            .await?
                            .ok_or_else(|| {
                                CoreError::Invalid(format!(
                                    "file {path}: its content (sha256 {}) was never uploaded \
                                     to this {}; upload the file before committing it",
                                    sha256_b64(digest.as_ref()),
                                    kind_noun(r.kind)
                                ))
                            })?;
                        tx.put_version_file(
                            v.id,
                            &VersionFile {
                                path: path.clone(),
                                digest: digest.to_string(),
                                size,
                                created_at: now,
                            },
                        )
                        .await?;
                    }
                    FileChange::Remove { path } => {
                        if !tx.delete_version_file(v.id, path).await? {
                            return Err(CoreError::Invalid(format!(
                                "file {path} cannot be removed: the version has no such file"
                            )));
                        }
                    }
                }
            }
            tx.commit().await?;
            Ok(())
        })
        .await
    }

    /// Checks that a version's files form a tree that can be written to disk (no file is also
    /// a directory of another) and that there is at least one file.
    pub(crate) async fn check_committable(
        &self,
        tx: &mut dyn MetadataTx,
        kind: ArtifactKind,
        version: &ArtifactVersion,
    ) -> Result<(), CoreError> {
        if !matches!(kind, ArtifactKind::Model | ArtifactKind::Resource) {
            return Ok(());
        }
        let files = tx.version_files(version.id).await?;
        if files.is_empty() {
            return Err(CoreError::Invalid(format!(
                "version {} has no files; commit files before marking it UPLOAD_COMPLETE",
                version.version
            )));
        }
        let paths: std::collections::HashSet<&str> =
            files.iter().map(|f| f.path.as_str()).collect();
        for f in &files {
            let mut dir = f.path.as_str();
            while let Some((parent, _)) = dir.rsplit_once('/') {
                if paths.contains(parent) {
                    return Err(CoreError::Invalid(format!(
                        "{parent} is both a file and the directory of {}",
                        f.path
                    )));
                }
                dir = parent;
            }
        }
        Ok(())
    }

    /// Signed download URLs for a complete version's files (all, or the one at `path`).
    pub async fn download_urls(
        &self,
        p: &Principal,
        r: &ArtifactRef,
        v: &VersionId,
        path: Option<&str>,
    ) -> Result<Vec<(VersionFile, String)>, CoreError> {
        let (view, files) = self.version_files(p, r, v).await?;
        self.allow_on(p, r, ArtifactAction::Download, Some(&view.artifact))?;
        if view.version.status != VersionStatus::UploadComplete {
            return Err(CoreError::Invalid(format!(
                "version {}:{v} is still being uploaded (UPLOAD_PENDING); it can be downloaded \
                 once complete",
                r.path()
            )));
        }
        let files: Vec<VersionFile> = match path {
            Some(want) => {
                let f = files.into_iter().find(|f| f.path == want).ok_or_else(|| {
                    CoreError::NotFound(format!("file {want} in {}:{v}", r.path()))
                })?;
                vec![f]
            }
            None => files,
        };
        let expires = (self.clock.now() + DOWNLOAD_URL_TTL).timestamp();
        let mut out = Vec::with_capacity(files.len());
        for f in files {
            let d = Digest::parse(&f.digest)
                .map_err(|e| CoreError::Store(StoreError::Corrupt(e.to_string())))?;
            let url = self.file_url(&d, expires).await?;
            out.push((f, url));
        }
        Ok(out)
    }

    /// Reads file content through a signed download URL, whole or a range.
    pub async fn read_signed_file(
        &self,
        hex: &str,
        expires: i64,
        signature: &str,
        range: Option<ByteRange>,
    ) -> Result<BlobRead, CoreError> {
        self.check_signature(&format!("file\n{hex}\n{expires}"), expires, signature)
            .await?;
        let digest = Digest::parse(&format!("sha256:{hex}"))
            .map_err(|_| CoreError::NotFound("file".into()))?;
        self.blobs.get(&digest, range).await.map_err(|e| match e {
            BlobError::NotFound(_) => CoreError::NotFound(format!("file {digest}")),
            other => other.into(),
        })
    }

    /// The size of the content behind a signed download URL (for `HEAD`).
    pub async fn signed_file_size(
        &self,
        hex: &str,
        expires: i64,
        signature: &str,
    ) -> Result<u64, CoreError> {
        self.check_signature(&format!("file\n{hex}\n{expires}"), expires, signature)
            .await?;
        let digest = Digest::parse(&format!("sha256:{hex}"))
            .map_err(|_| CoreError::NotFound("file".into()))?;
        self.blobs
            .stat(&digest)
            .await?
            .ok_or_else(|| CoreError::NotFound(format!("file {digest}")))
    }
}

/// Counts content against the org's models-and-resources ledger, once per digest; fails (and
/// the caller's transaction rolls back) if that would exceed the limit.
async fn count_models_bytes(
    tx: &mut dyn MetadataTx,
    org: &crate::names::OrgId,
    digest: &str,
    size: u64,
) -> Result<(), CoreError> {
    if tx.add_usage(org, MODELS_LEDGER, digest, size).await? {
        let limits = tx.get_org(org).await?.map(|o| o.quota).unwrap_or_default();
        let used = tx.usage(org, MODELS_LEDGER).await?.saturating_sub(size);
        quota::check_models_resources(&limits, used, size)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_are_500_mb_and_an_empty_file_has_one() {
        assert_eq!(part_count(0), 1);
        assert_eq!(part_len(0, 1), 0);
        assert_eq!(part_count(PART_SIZE), 1);
        assert_eq!(part_count(PART_SIZE + 1), 2);
        assert_eq!(part_len(520_000_000, 1), PART_SIZE);
        assert_eq!(part_len(520_000_000, 2), 20_000_000);
        // Every file up to the limit fits S3's 10,000 parts, with slots of at most 125 MB.
        for size in [
            0,
            1,
            PART_SIZE,
            625_000_000_000,
            625_000_000_001,
            MAX_FILE_SIZE,
        ] {
            let parts = part_count(size) * slots_per_part(size);
            assert!(parts <= MAX_BACKEND_PARTS, "{size}: {parts}");
            assert!(sub_part_size(size) <= 125_000_000, "{size}");
            assert!(sub_part_size(size) >= 5 * 1024 * 1024, "{size}");
        }
        assert_eq!(slots_per_part(PART_SIZE), 8);
        assert_eq!(slots_per_part(MAX_FILE_SIZE), 4);
    }

    #[test]
    fn file_paths_stay_inside_the_version() {
        for ok in ["a", "sub/dir/file.bin", "a b/c", "x..y"] {
            assert!(validate_file_path(ok).is_ok(), "{ok}");
        }
        for bad in [
            "", "/abs", "a//b", "./a", "a/../b", "..", "a\\b", "a/\u{0}b", "a/",
        ] {
            assert!(validate_file_path(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn sha256_base64_round_trips() {
        let empty = "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=";
        let d = parse_sha256_b64(empty).unwrap();
        assert_eq!(
            d.to_string(),
            "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        assert_eq!(sha256_b64(d.as_ref()), empty);
        assert!(parse_sha256_b64(empty.trim_end_matches('=')).is_ok());
        assert!(parse_sha256_b64("not base64!").is_err());
        assert!(parse_sha256_b64("AAAA").is_err());
    }
}

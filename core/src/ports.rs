//! Ports: the traits through which the domain reaches storage, time and randomness.
//!
//! Adapters live in `arca-storage` (memory, SQLite, filesystem, PostgreSQL, S3); every
//! adapter passes the same conformance suite (`arca_storage::conformance`).

use crate::model::{
    ApiKey, Artifact, ArtifactVersion, BlobRecord, ManifestRecord, NewArtifact, NewArtifactVersion,
    NewOrg, NewRepository, NewTeam, NewUser, Org, Repository, RoleGrant, TagRecord, Team,
    UploadPart, UploadSession, User, VersionFile,
};
use crate::names::{Email, OrgId, TeamName};
use arca_auth::ArtifactKind;
use arca_oci::Digest;
use async_trait::async_trait;
use bytes::Bytes;
use chrono::{DateTime, Utc};
use futures::stream::BoxStream;
use uuid::Uuid;

/// Errors of the metadata store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A unique constraint would be violated (the thing already exists).
    #[error("already exists: {0}")]
    AlreadyExists(String),
    /// The row to change does not exist.
    #[error("not found: {0}")]
    NotFound(String),
    /// A concurrent transaction conflicted; the whole transaction may be retried.
    #[error("transaction conflict, retry: {0}")]
    Conflict(String),
    /// The stored data could not be decoded (corruption or a bug).
    #[error("corrupt stored data: {0}")]
    Corrupt(String),
    /// The backend failed (I/O, connection, ...).
    #[error("metadata store unavailable: {0}")]
    Backend(String),
}

/// A transactional metadata store: the source of truth for everything but blob bytes.
///
/// A use case that changes several rows opens one transaction with [`MetadataStore::begin`],
/// makes its reads and writes, and commits; dropping an uncommitted transaction rolls it back.
/// Write transactions are serializable: adapters either serialize writers (SQLite, memory) or
/// report [`StoreError::Conflict`] so that the caller retries (PostgreSQL).
#[async_trait]
pub trait MetadataStore: Send + Sync {
    /// Opens a read-write transaction.
    async fn begin(&self) -> Result<Box<dyn MetadataTx>, StoreError>;
    /// Opens a read-only transaction (a consistent snapshot; writes through it are errors).
    async fn begin_read(&self) -> Result<Box<dyn MetadataTx>, StoreError>;
    /// Checks that the store answers (readiness).
    async fn ping(&self) -> Result<(), StoreError>;
}

/// One transaction on the metadata store. All reads see the transaction's own writes. A method
/// that fails changes nothing and leaves the transaction usable (adapters whose database aborts
/// a transaction on error use savepoints).
#[async_trait]
pub trait MetadataTx: Send {
    /// Makes every write of the transaction durable and visible, atomically.
    async fn commit(self: Box<Self>) -> Result<(), StoreError>;
    /// Discards every write of the transaction.
    async fn rollback(self: Box<Self>) -> Result<(), StoreError>;

    // ---- settings (small server-wide values, e.g. the token signing secret) ----
    /// Reads a setting.
    async fn get_setting(&mut self, key: &str) -> Result<Option<String>, StoreError>;
    /// Inserts a setting if it is absent; returns the value that is stored afterwards.
    async fn put_setting_if_absent(&mut self, key: &str, value: &str)
        -> Result<String, StoreError>;

    // ---- orgs ----
    /// Creates an org; `AlreadyExists` if the name is taken.
    async fn insert_org(&mut self, org: &NewOrg) -> Result<Org, StoreError>;
    /// Reads an org by name.
    async fn get_org(&mut self, name: &OrgId) -> Result<Option<Org>, StoreError>;
    /// Lists all orgs, ordered by name.
    async fn list_orgs(&mut self) -> Result<Vec<Org>, StoreError>;
    /// Replaces an org's mutable fields (display name, description, quota); `NotFound` if absent.
    async fn update_org(&mut self, org: &Org) -> Result<(), StoreError>;

    // ---- teams ----
    /// Creates a team; `AlreadyExists` if the org has a team of that name, `NotFound` if the
    /// org does not exist.
    async fn insert_team(&mut self, team: &NewTeam) -> Result<Team, StoreError>;
    /// Reads a team.
    async fn get_team(&mut self, org: &OrgId, name: &TeamName) -> Result<Option<Team>, StoreError>;
    /// Lists the teams of an org, ordered by name.
    async fn list_teams(&mut self, org: &OrgId) -> Result<Vec<Team>, StoreError>;
    /// Replaces a team's description; `NotFound` if absent.
    async fn update_team(&mut self, team: &Team) -> Result<(), StoreError>;
    /// Deletes a team and every role grant in it; `NotFound` if absent.
    async fn delete_team(&mut self, org: &OrgId, name: &TeamName) -> Result<(), StoreError>;

    // ---- users ----
    /// Creates a user; `AlreadyExists` if the email is taken.
    async fn insert_user(&mut self, user: &NewUser) -> Result<User, StoreError>;
    /// Reads a user by id.
    async fn get_user(&mut self, id: i64) -> Result<Option<User>, StoreError>;
    /// Reads a user by email.
    async fn get_user_by_email(&mut self, email: &Email) -> Result<Option<User>, StoreError>;
    /// Replaces a user's display name; `NotFound` if absent.
    async fn update_user(&mut self, user: &User) -> Result<(), StoreError>;

    // ---- role grants ----
    /// Replaces the roles of `user_id` in one context (org when `team` is `None`). An empty
    /// `roles` removes the user from that context.
    async fn set_roles(
        &mut self,
        user_id: i64,
        org: &OrgId,
        team: Option<&TeamName>,
        roles: &[arca_auth::Role],
    ) -> Result<(), StoreError>;
    /// Every grant a user holds, in every org and team, ordered.
    async fn grants_of_user(&mut self, user_id: i64) -> Result<Vec<RoleGrant>, StoreError>;
    /// Every grant in an org (org level and all its teams), ordered.
    async fn grants_in_org(&mut self, org: &OrgId) -> Result<Vec<RoleGrant>, StoreError>;
    /// Removes every grant of a user in an org, its teams included.
    async fn remove_user_from_org(&mut self, user_id: i64, org: &OrgId) -> Result<(), StoreError>;

    // ---- API keys ----
    /// Stores a new key; `AlreadyExists` on a duplicate id, secret hash, or name in its scope
    /// (per user and org for personal and legacy keys, per org for service keys).
    async fn insert_key(&mut self, key: &ApiKey) -> Result<(), StoreError>;
    /// Reads a key by id.
    async fn get_key(&mut self, id: Uuid) -> Result<Option<ApiKey>, StoreError>;
    /// Finds the key whose secret hashes to `secret_hash`.
    async fn find_key_by_hash(&mut self, secret_hash: &str) -> Result<Option<ApiKey>, StoreError>;
    /// Lists keys of an org; `user_id` restricts to one user's keys (`Some(None)` means service
    /// keys only).
    async fn list_keys(
        &mut self,
        org: &OrgId,
        user_id: Option<Option<i64>>,
    ) -> Result<Vec<ApiKey>, StoreError>;
    /// Replaces a key's mutable fields (secret hash, hint, active, expiry, services, scopes,
    /// rotated/used times); `NotFound` if absent.
    async fn update_key(&mut self, key: &ApiKey) -> Result<(), StoreError>;
    /// Deletes a key; `NotFound` if absent.
    async fn delete_key(&mut self, id: Uuid) -> Result<(), StoreError>;
    /// Deletes every key of a user in an org (R-TEN-8); returns how many.
    async fn delete_keys_of_user(&mut self, user_id: i64, org: &OrgId) -> Result<u64, StoreError>;

    // ---- blobs ----
    /// Records a blob if it is not yet known; returns the stored record either way.
    async fn insert_blob(&mut self, blob: &BlobRecord) -> Result<BlobRecord, StoreError>;
    /// Reads a blob record.
    async fn get_blob(&mut self, digest: &str) -> Result<Option<BlobRecord>, StoreError>;

    // ---- container repositories ----
    /// Creates a repository; `AlreadyExists` if the path is taken.
    async fn insert_repo(&mut self, repo: &NewRepository) -> Result<Repository, StoreError>;
    /// Reads a repository by path.
    async fn get_repo(
        &mut self,
        org: &OrgId,
        team: Option<&TeamName>,
        name: &str,
    ) -> Result<Option<Repository>, StoreError>;
    /// Every repository of an org (org level and teams), ordered by path.
    async fn list_repos(&mut self, org: &OrgId) -> Result<Vec<Repository>, StoreError>;
    /// Replaces a repository's public flag, metadata and `updated_at`; `NotFound` if absent.
    async fn update_repo(&mut self, repo: &Repository) -> Result<(), StoreError>;
    /// Deletes a repository with its manifests, tags and blob links; `NotFound` if absent.
    async fn delete_repo(&mut self, repo_id: i64) -> Result<(), StoreError>;
    /// Makes a blob part of a repository (idempotent).
    async fn link_blob(&mut self, repo_id: i64, digest: &str) -> Result<(), StoreError>;
    /// Whether a blob is part of a repository.
    async fn blob_linked(&mut self, repo_id: i64, digest: &str) -> Result<bool, StoreError>;
    /// Removes a blob from a repository; `NotFound` if it was not linked.
    async fn unlink_blob(&mut self, repo_id: i64, digest: &str) -> Result<(), StoreError>;
    /// Stores a manifest record (idempotent: an existing record with that digest is kept).
    async fn put_manifest(&mut self, manifest: &ManifestRecord) -> Result<(), StoreError>;
    /// Reads a manifest record.
    async fn get_manifest(
        &mut self,
        repo_id: i64,
        digest: &str,
    ) -> Result<Option<ManifestRecord>, StoreError>;
    /// Every manifest of a repository, newest first.
    async fn list_manifests(&mut self, repo_id: i64) -> Result<Vec<ManifestRecord>, StoreError>;
    /// Deletes a manifest and every tag pointing at it; `NotFound` if absent.
    async fn delete_manifest(&mut self, repo_id: i64, digest: &str) -> Result<(), StoreError>;
    /// Manifests of a repository whose subject is `subject`, oldest first.
    async fn referrers(
        &mut self,
        repo_id: i64,
        subject: &str,
    ) -> Result<Vec<ManifestRecord>, StoreError>;
    /// Points a tag at a manifest (creates or moves it).
    async fn put_tag(&mut self, tag: &TagRecord) -> Result<(), StoreError>;
    /// Reads a tag.
    async fn get_tag(&mut self, repo_id: i64, name: &str) -> Result<Option<TagRecord>, StoreError>;
    /// Tags of a repository ordered by name (byte order), after `last` if given, at most
    /// `limit` if given.
    async fn list_tags(
        &mut self,
        repo_id: i64,
        last: Option<&str>,
        limit: Option<usize>,
    ) -> Result<Vec<TagRecord>, StoreError>;
    /// Deletes a tag only; `NotFound` if absent.
    async fn delete_tag(&mut self, repo_id: i64, name: &str) -> Result<(), StoreError>;

    // ---- usage (R-QUO-2: a blob counts once per org and ledger) ----
    /// Counts a blob against an org's ledger (`images` or `models`) if not yet counted;
    /// returns whether it was newly counted.
    async fn add_usage(
        &mut self,
        org: &OrgId,
        ledger: &str,
        digest: &str,
        size: u64,
    ) -> Result<bool, StoreError>;
    /// Bytes counted against an org's ledger.
    async fn usage(&mut self, org: &OrgId, ledger: &str) -> Result<u64, StoreError>;
    /// Whether a blob is already counted against an org's ledger (read-only).
    async fn usage_holds(
        &mut self,
        org: &OrgId,
        ledger: &str,
        digest: &str,
    ) -> Result<bool, StoreError>;

    // ---- upload sessions ----
    /// Creates an upload session.
    async fn insert_upload(&mut self, upload: &UploadSession) -> Result<(), StoreError>;
    /// Reads an upload session.
    async fn get_upload(&mut self, id: Uuid) -> Result<Option<UploadSession>, StoreError>;
    /// Records a part and updates the session's `received` and `updated_at`; `AlreadyExists`
    /// if the part number is taken, `NotFound` if the session is gone.
    async fn add_upload_part(
        &mut self,
        id: Uuid,
        part: &UploadPart,
        now: DateTime<Utc>,
    ) -> Result<UploadSession, StoreError>;
    /// The parts of an upload, ordered by number.
    async fn upload_parts(&mut self, id: Uuid) -> Result<Vec<UploadPart>, StoreError>;
    /// Deletes an upload session and its parts; `NotFound` if absent.
    async fn delete_upload(&mut self, id: Uuid) -> Result<(), StoreError>;
    /// Sessions not updated since `before` (for the sweeper).
    async fn stale_uploads(
        &mut self,
        before: DateTime<Utc>,
    ) -> Result<Vec<UploadSession>, StoreError>;

    // ---- artifacts: models, resources, Helm charts (R-MOD, R-HELM) ----
    /// Creates an artifact; `AlreadyExists` if its kind already has that path, `NotFound` if
    /// the org does not exist.
    async fn insert_artifact(&mut self, artifact: &NewArtifact) -> Result<Artifact, StoreError>;
    /// Reads an artifact by kind and path.
    async fn get_artifact(
        &mut self,
        kind: ArtifactKind,
        org: &OrgId,
        team: Option<&TeamName>,
        name: &str,
    ) -> Result<Option<Artifact>, StoreError>;
    /// Every artifact of a kind in an org (org level and all teams), ordered by team (org
    /// level first) then name.
    async fn list_artifacts(
        &mut self,
        kind: ArtifactKind,
        org: &OrgId,
    ) -> Result<Vec<Artifact>, StoreError>;
    /// Replaces an artifact's metadata, public flag, latest version and `updated_at`;
    /// `NotFound` if absent.
    async fn update_artifact(&mut self, artifact: &Artifact) -> Result<(), StoreError>;
    /// Deletes an artifact with its versions, their files and its blob links; `NotFound` if
    /// absent.
    async fn delete_artifact(&mut self, artifact_id: i64) -> Result<(), StoreError>;

    /// Creates a version; `AlreadyExists` if the artifact has that version id, `NotFound` if
    /// the artifact is gone.
    async fn insert_version(
        &mut self,
        version: &NewArtifactVersion,
    ) -> Result<ArtifactVersion, StoreError>;
    /// Reads a version by artifact and version id.
    async fn get_version(
        &mut self,
        artifact_id: i64,
        version: &str,
    ) -> Result<Option<ArtifactVersion>, StoreError>;
    /// Every version of an artifact, in creation order (oldest first).
    async fn list_versions(&mut self, artifact_id: i64)
        -> Result<Vec<ArtifactVersion>, StoreError>;
    /// Every version of every artifact of a kind in an org, ordered by artifact id then
    /// creation (for listings such as a Helm `index.yaml`, without one query per artifact).
    async fn list_org_versions(
        &mut self,
        kind: ArtifactKind,
        org: &OrgId,
    ) -> Result<Vec<ArtifactVersion>, StoreError>;
    /// Replaces a version's status, metadata, file count, total size and `updated_at`;
    /// `NotFound` if absent.
    async fn update_version(&mut self, version: &ArtifactVersion) -> Result<(), StoreError>;
    /// Deletes a version and its file rows; `NotFound` if absent.
    async fn delete_version(&mut self, version_id: i64) -> Result<(), StoreError>;

    /// Adds a file to a version, replacing the file at the same path; `NotFound` if the
    /// version is gone.
    async fn put_version_file(
        &mut self,
        version_id: i64,
        file: &VersionFile,
    ) -> Result<(), StoreError>;
    /// Removes the file at `path` from a version; returns whether there was one.
    async fn delete_version_file(
        &mut self,
        version_id: i64,
        path: &str,
    ) -> Result<bool, StoreError>;
    /// The files of a version, ordered by path (byte order).
    async fn version_files(&mut self, version_id: i64) -> Result<Vec<VersionFile>, StoreError>;

    /// Records that an artifact holds a blob (uploaded for it, or referenced by one of its
    /// versions); idempotent. `NotFound` if the artifact is gone.
    async fn add_artifact_blob(
        &mut self,
        artifact_id: i64,
        digest: &str,
        size: u64,
    ) -> Result<(), StoreError>;
    /// The size of a blob the artifact holds, if it holds it.
    async fn artifact_blob(
        &mut self,
        artifact_id: i64,
        digest: &str,
    ) -> Result<Option<u64>, StoreError>;
}

/// A stream of bytes, as bodies travel between the server and the blob store.
pub type ByteStream = BoxStream<'static, Result<Bytes, std::io::Error>>;

/// A one-chunk [`ByteStream`].
pub fn once_stream(b: Bytes) -> ByteStream {
    use futures::StreamExt;
    futures::stream::once(async move { Ok(b) }).boxed()
}

/// Errors of the blob store.
#[derive(Debug, thiserror::Error)]
pub enum BlobError {
    /// No blob with that digest.
    #[error("blob unknown: {0}")]
    NotFound(String),
    /// The bytes did not hash to the expected digest; nothing was stored.
    #[error("digest mismatch: expected {expected}, computed {computed}")]
    DigestMismatch {
        /// The digest the caller announced.
        expected: String,
        /// The digest of the bytes received.
        computed: String,
    },
    /// The requested range lies outside the blob.
    #[error("range not satisfiable for a blob of {size} bytes")]
    RangeNotSatisfiable {
        /// The blob's size.
        size: u64,
    },
    /// The body stream failed (client disconnect, ...); nothing was stored.
    #[error("body stream failed: {0}")]
    Body(String),
    /// An upload part or session is not known to the backend.
    #[error("upload unknown: {0}")]
    UploadUnknown(String),
    /// The body exceeded the allowed size; nothing was stored.
    #[error("body larger than the allowed {limit} bytes")]
    TooLarge {
        /// The limit.
        limit: u64,
    },
    /// The backend failed.
    #[error("blob store unavailable: {0}")]
    Backend(String),
}

/// A byte range `start..=end` (inclusive, as in HTTP).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ByteRange {
    /// First byte.
    pub start: u64,
    /// Last byte, inclusive.
    pub end: u64,
}

/// The result of a blob read.
pub struct BlobRead {
    /// The blob's full size.
    pub size: u64,
    /// The range being returned (`None`: the whole blob).
    pub range: Option<ByteRange>,
    /// The bytes.
    pub body: ByteStream,
}

/// The blob store's receipt for one stored part of an upload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartReceipt {
    /// Size of the part in bytes.
    pub size: u64,
    /// Backend tag identifying the stored part (an S3 ETag, or the part's SHA-256).
    pub etag: String,
}

/// Outcome of storing a blob.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredBlob {
    /// The verified digest.
    pub digest: Digest,
    /// Size in bytes.
    pub size: u64,
}

/// A content-addressed, immutable blob store.
///
/// A blob becomes visible under its digest only after the bytes were hashed while being written
/// and the digest matched; a failed or mismatched write leaves nothing visible. Multi-part
/// uploads keep their bookkeeping (part numbers, receipts) in the *metadata* store; the blob store
/// only holds the bytes, so any replica can continue an upload.
#[async_trait]
pub trait BlobStore: Send + Sync {
    /// Streams `body` into the store. With `expected`, a mismatch stores nothing and fails with
    /// [`BlobError::DigestMismatch`]. `max_size` cuts off bodies that grow beyond it.
    async fn put(
        &self,
        expected: Option<&Digest>,
        max_size: Option<u64>,
        body: ByteStream,
    ) -> Result<StoredBlob, BlobError>;
    /// Reads a blob, or a range of it.
    async fn get(&self, digest: &Digest, range: Option<ByteRange>) -> Result<BlobRead, BlobError>;
    /// The size of a blob, if present.
    async fn stat(&self, digest: &Digest) -> Result<Option<u64>, BlobError>;
    /// Deletes a blob; `Ok(false)` if it was absent.
    async fn delete(&self, digest: &Digest) -> Result<bool, BlobError>;

    /// Starts a multi-part upload; returns the backend's opaque state to keep in the session.
    async fn create_upload(&self, upload_id: Uuid) -> Result<String, BlobError>;
    /// Stores one part (any order, may be replaced by a retry); returns its receipt (ETag).
    /// Backends may require a minimum size for every part but the last (S3: 5 MiB); see
    /// [`BlobStore::min_part_size`].
    async fn put_part(
        &self,
        upload_id: Uuid,
        backend_state: &str,
        part_number: u32,
        body: ByteStream,
    ) -> Result<PartReceipt, BlobError>;
    /// Concatenates the parts (in the order given), hashing every byte, verifies the digest and
    /// makes the blob visible; on mismatch nothing becomes visible and the parts are kept (the
    /// caller decides to abort). A part missing from the backend, or whose size differs from the
    /// record, is [`BlobError::UploadUnknown`]. After success the parts are gone.
    async fn complete_upload(
        &self,
        upload_id: Uuid,
        backend_state: &str,
        parts: &[UploadPart],
        expected: Option<&Digest>,
    ) -> Result<StoredBlob, BlobError>;
    /// The smallest part the backend accepts for any part but the last (0: no minimum).
    fn min_part_size(&self) -> u64 {
        0
    }
    /// Discards an upload's parts.
    async fn abort_upload(&self, upload_id: Uuid, backend_state: &str) -> Result<(), BlobError>;
    /// Checks that the store answers (readiness).
    async fn ping(&self) -> Result<(), BlobError>;
}

/// The source of the current time.
pub trait Clock: Send + Sync {
    /// Now, in UTC.
    fn now(&self) -> DateTime<Utc>;
}

/// The source of random bytes (key secrets, ids, signing secrets).
pub trait RandomSource: Send + Sync {
    /// Fills `buf` with cryptographically secure random bytes.
    fn fill(&self, buf: &mut [u8]);
}

/// A clock for tests: starts at a given instant and moves only when told.
#[derive(Debug)]
pub struct ManualClock(std::sync::Mutex<DateTime<Utc>>);

impl ManualClock {
    /// A clock standing at `at`.
    pub fn new(at: DateTime<Utc>) -> Self {
        Self(std::sync::Mutex::new(at))
    }
    /// Moves the clock forward.
    pub fn advance(&self, by: chrono::Duration) {
        let mut t = self.0.lock().unwrap_or_else(|p| p.into_inner());
        *t += by;
    }
    /// Sets the clock.
    pub fn set(&self, at: DateTime<Utc>) {
        *self.0.lock().unwrap_or_else(|p| p.into_inner()) = at;
    }
}

impl Clock for ManualClock {
    fn now(&self) -> DateTime<Utc> {
        *self.0.lock().unwrap_or_else(|p| p.into_inner())
    }
}

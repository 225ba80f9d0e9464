//! Records the metadata store keeps: orgs, teams, users, role grants, API keys, blobs and upload
//! sessions. They are plain data; rules live in the services and in `arca-auth`.

use crate::names::{Email, OrgId, TeamName};
use crate::quota::QuotaLimits;
use arca_auth::{ArtifactKind, EntityFilter, KeyKind, KeyService, Role, ServiceKeyScope};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// An organization: the namespace every artifact path starts with (R-TEN-1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Org {
    /// Numeric id (NGC clients expect integers).
    pub id: i64,
    /// Unique lowercase identifier.
    pub name: OrgId,
    /// Human-readable name.
    pub display_name: String,
    /// Free-text description.
    pub description: String,
    /// Storage limits of this org (R-QUO-1).
    pub quota: QuotaLimits,
    /// When the org was created.
    pub created_at: DateTime<Utc>,
}

/// Fields of an org to be created; the store assigns the id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewOrg {
    /// Unique lowercase identifier.
    pub name: OrgId,
    /// Human-readable name.
    pub display_name: String,
    /// Free-text description.
    pub description: String,
    /// Storage limits.
    pub quota: QuotaLimits,
    /// Creation time.
    pub created_at: DateTime<Utc>,
}

/// A team inside an org (R-TEN-2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Team {
    /// Numeric id.
    pub id: i64,
    /// The org it belongs to.
    pub org: OrgId,
    /// Lowercase name, unique in the org.
    pub name: TeamName,
    /// Description.
    pub description: String,
    /// When the team was created.
    pub created_at: DateTime<Utc>,
}

/// Fields of a team to be created.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewTeam {
    /// The org it belongs to.
    pub org: OrgId,
    /// Lowercase name.
    pub name: TeamName,
    /// Description.
    pub description: String,
    /// Creation time.
    pub created_at: DateTime<Utc>,
}

/// A user, identified by email (R-TEN-3).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    /// Numeric id.
    pub id: i64,
    /// Unique email, lower case.
    pub email: Email,
    /// Display name.
    pub display_name: String,
    /// When the user was created.
    pub created_at: DateTime<Utc>,
}

/// Fields of a user to be created.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewUser {
    /// Unique email.
    pub email: Email,
    /// Display name.
    pub display_name: String,
    /// Creation time.
    pub created_at: DateTime<Utc>,
}

/// One role held by one user in one context: an org, or a team of that org (R-TEN-4).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct RoleGrant {
    /// The user.
    pub user_id: i64,
    /// The org.
    pub org: OrgId,
    /// The team, for a team-level grant.
    pub team: Option<TeamName>,
    /// The role.
    pub role: Role,
}

/// An API key as stored: never the secret, only its hash (R-KEY-5).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiKey {
    /// Stable id (survives rotation).
    pub id: Uuid,
    /// Personal, service or legacy.
    pub kind: KeyKind,
    /// The org the key works in.
    pub org: OrgId,
    /// The user a personal or legacy key belongs to; `None` for service keys.
    pub user_id: Option<i64>,
    /// Unique name (per user and org for personal keys, per org for service keys).
    pub name: String,
    /// Hex SHA-256 of the secret.
    pub secret_hash: String,
    /// The last characters of the secret, to help people recognize a key.
    pub hint: String,
    /// Services the key may be used for.
    pub services: Vec<KeyService>,
    /// Scopes of a service key (empty for other kinds).
    pub scopes: Vec<ServiceKeyScope>,
    /// Entity filter of a service key.
    pub entity: Option<EntityFilter>,
    /// Whether the key is active (deactivated keys are rejected).
    pub active: bool,
    /// Expiry instant; `None` never expires.
    pub expires_at: Option<DateTime<Utc>>,
    /// When the key was created.
    pub created_at: DateTime<Utc>,
    /// When the secret was last rotated.
    pub rotated_at: Option<DateTime<Utc>>,
    /// When the key was last used successfully.
    pub last_used_at: Option<DateTime<Utc>>,
}

impl std::fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApiKey")
            .field("id", &self.id)
            .field("kind", &self.kind)
            .field("org", &self.org)
            .field("user_id", &self.user_id)
            .field("name", &self.name)
            .field("secret_hash", &"<redacted>")
            .field("active", &self.active)
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
    }
}

/// A blob known to the metadata store: content-addressed bytes in the blob store.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlobRecord {
    /// `algorithm:hex` digest.
    pub digest: String,
    /// Size in bytes.
    pub size: u64,
    /// When it was first stored.
    pub created_at: DateTime<Utc>,
}

/// State of a multi-part upload, kept in the metadata store so that any replica can continue it
/// after a restart.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UploadSession {
    /// Upload id (appears in upload URLs).
    pub id: Uuid,
    /// The org the upload counts against.
    pub org: OrgId,
    /// What the upload is for, e.g. `oci:demo/team/repo` or `model:demo/m:1.0/path`.
    pub purpose: String,
    /// Opaque state of the blob store for this upload (e.g. an S3 multipart upload id).
    pub backend_state: String,
    /// Bytes received so far (sum of the recorded parts).
    pub received: u64,
    /// The total size if announced in advance.
    pub expected_size: Option<u64>,
    /// When the upload began.
    pub created_at: DateTime<Utc>,
    /// When a part was last recorded.
    pub updated_at: DateTime<Utc>,
}

/// One stored part of an upload session.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UploadPart {
    /// Part number, from 1.
    pub number: u32,
    /// Byte offset of the part within the whole upload.
    pub offset: u64,
    /// Size in bytes.
    pub size: u64,
    /// The blob store's receipt for the part (ETag or similar).
    pub etag: String,
}

/// Descriptive metadata of a container repository (R-OCI-4), as the NGC repository page shows.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RepoMetadata {
    /// One-line description.
    #[serde(default)]
    pub short_description: String,
    /// Overview, in Markdown.
    #[serde(default)]
    pub description: String,
    /// Labels.
    #[serde(default)]
    pub labels: Vec<String>,
    /// Logo URL.
    #[serde(default)]
    pub logo: Option<String>,
    /// Publisher.
    #[serde(default)]
    pub publisher: Option<String>,
    /// Built by.
    #[serde(default)]
    pub built_by: Option<String>,
    /// Display name.
    #[serde(default)]
    pub display_name: Option<String>,
}

/// A container repository: `org/name` or `org/team/name` (R-TEN-7).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Repository {
    /// Numeric id.
    pub id: i64,
    /// Owning org.
    pub org: OrgId,
    /// Owning team, if any.
    pub team: Option<TeamName>,
    /// Name within the org or team.
    pub name: crate::names::ArtifactName,
    /// Whether anonymous callers may pull (R-OCI-5).
    pub public: bool,
    /// Descriptive metadata.
    pub metadata: RepoMetadata,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Last change (push, tag move, metadata edit).
    pub updated_at: DateTime<Utc>,
}

impl Repository {
    /// The repository's full name, as in image references.
    pub fn path(&self) -> String {
        match &self.team {
            Some(t) => format!("{}/{}/{}", self.org, t, self.name),
            None => format!("{}/{}", self.org, self.name),
        }
    }
}

/// Fields of a repository to be created.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewRepository {
    /// Owning org.
    pub org: OrgId,
    /// Owning team.
    pub team: Option<TeamName>,
    /// Name.
    pub name: crate::names::ArtifactName,
    /// Creation time.
    pub created_at: DateTime<Utc>,
}

/// A manifest stored in a repository. Its bytes live in the blob store under `digest`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManifestRecord {
    /// The repository.
    pub repo_id: i64,
    /// Digest of the manifest bytes.
    pub digest: String,
    /// Media type.
    pub media_type: String,
    /// Size of the manifest bytes.
    pub size: u64,
    /// Artifact type (referrers API).
    pub artifact_type: Option<String>,
    /// Digest of the subject manifest, if any (referrers API).
    pub subject: Option<String>,
    /// Digests of the blobs it references (config and layers).
    pub blobs: Vec<String>,
    /// Digests of the manifests it references (index children).
    pub children: Vec<String>,
    /// Sum of the referenced blobs' sizes.
    pub blob_bytes: u64,
    /// Annotations, as a JSON object.
    pub annotations: String,
    /// Multi-arch rows for an index, as JSON.
    pub platforms: String,
    /// When it was pushed.
    pub created_at: DateTime<Utc>,
}

/// A tag: a movable name for a manifest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TagRecord {
    /// The repository.
    pub repo_id: i64,
    /// Tag name.
    pub name: String,
    /// Manifest digest.
    pub digest: String,
    /// When the tag last moved.
    pub updated_at: DateTime<Utc>,
}

/// A key/value pair, as NGC's attribute lists and metrics tables carry them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyValue {
    /// Key.
    pub key: String,
    /// Value.
    pub value: String,
}

/// One custom metrics table of a model or resource version (R-MOD-2: at most 3 tables of at
/// most 12 pairs; the limits are checked by the use cases).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct MetricsTable {
    /// Table name.
    pub name: String,
    /// Key/value rows.
    pub attributes: Vec<KeyValue>,
}

/// The public dataset a model was trained on (R-MOD-1).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct PublicDataset {
    /// Dataset name.
    pub name: Option<String>,
    /// Link to the dataset.
    pub link: Option<String>,
    /// Its license.
    pub license: Option<String>,
}

/// Descriptive metadata of a model, resource or Helm chart, with NGC's field names. One
/// superset for the three kinds: fields a kind does not use stay empty.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ArtifactMetadata {
    /// Display name.
    pub display_name: Option<String>,
    /// One-line description.
    pub short_description: Option<String>,
    /// Overview, in Markdown.
    pub description: Option<String>,
    /// Labels.
    pub labels: Vec<String>,
    /// Logo URL.
    pub logo: Option<String>,
    /// Publisher.
    pub publisher: Option<String>,
    /// Built by.
    pub built_by: Option<String>,
    /// Owner name.
    pub owner_name: Option<String>,
    /// Application (models, resources).
    pub application: Option<String>,
    /// Training framework (models, resources).
    pub framework: Option<String>,
    /// Model format (models, resources).
    pub model_format: Option<String>,
    /// Precision (models, resources).
    pub precision: Option<String>,
    /// Public dataset used (models, resources).
    pub public_dataset: Option<PublicDataset>,
    /// Model card sections (models).
    pub bias: Option<String>,
    /// Model card: explainability.
    pub explainability: Option<String>,
    /// Model card: privacy.
    pub privacy: Option<String>,
    /// Model card: safety and security.
    pub safety_and_security: Option<String>,
    /// Resource documents (Markdown): advanced guide.
    pub advanced: Option<String>,
    /// Resource documents: performance.
    pub performance: Option<String>,
    /// Resource documents: quick start guide.
    pub quick_start_guide: Option<String>,
    /// Resource documents: setup.
    pub setup: Option<String>,
    /// Free attributes (charts, guide §6.5.1).
    pub attributes: Vec<KeyValue>,
}

/// Metadata of one version of a model, resource or chart, with NGC's field names.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct VersionMetadata {
    /// Description.
    pub description: Option<String>,
    /// Accuracy reached.
    pub accuracy_reached: Option<f64>,
    /// Batch size.
    pub batch_size: Option<i64>,
    /// GPU model.
    pub gpu_model: Option<String>,
    /// Memory footprint.
    pub memory_footprint: Option<String>,
    /// Number of epochs.
    pub number_of_epochs: Option<i64>,
    /// Link.
    pub link: Option<String>,
    /// Link type (`NGC`, `Github`, `Other`).
    pub link_type: Option<String>,
    /// Owner name.
    pub owner_name: Option<String>,
    /// Custom metrics tables.
    pub custom_metrics: Vec<MetricsTable>,
    /// Other contents (key/value).
    pub other_contents: Vec<KeyValue>,
    /// Resource version documents (Markdown): release notes.
    pub release_notes: Option<String>,
    /// Resource version documents: performance.
    pub performance: Option<String>,
    /// Resource version documents: quick start guide.
    pub quick_start_guide: Option<String>,
    /// Resource version documents: setup.
    pub setup: Option<String>,
    /// Kind-specific data kept as JSON (e.g. a chart version's `Chart.yaml` and package digest).
    pub extra: serde_json::Map<String, serde_json::Value>,
}

/// A model, resource or Helm chart record: `org/[team/]name` of one kind (R-MOD, R-HELM).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Artifact {
    /// Numeric id.
    pub id: i64,
    /// `Model`, `Resource` or `HelmChart`.
    pub kind: ArtifactKind,
    /// Owning org.
    pub org: OrgId,
    /// Owning team, if any.
    pub team: Option<TeamName>,
    /// Name, unique per kind in its org or team.
    pub name: crate::names::ArtifactName,
    /// Descriptive metadata.
    pub metadata: ArtifactMetadata,
    /// Whether anonymous callers may read it.
    pub public: bool,
    /// The version marked latest (the last completed, unless set explicitly).
    pub latest_version: Option<crate::names::VersionId>,
    /// The user who created it (R-MOD-5: creators may delete resources).
    pub created_by: Option<i64>,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

impl Artifact {
    /// `org/[team/]name`.
    pub fn path(&self) -> String {
        match &self.team {
            Some(t) => format!("{}/{}/{}", self.org, t, self.name),
            None => format!("{}/{}", self.org, self.name),
        }
    }
}

/// Fields of an artifact to be created.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewArtifact {
    /// Kind.
    pub kind: ArtifactKind,
    /// Owning org.
    pub org: OrgId,
    /// Owning team.
    pub team: Option<TeamName>,
    /// Name.
    pub name: crate::names::ArtifactName,
    /// Metadata.
    pub metadata: ArtifactMetadata,
    /// Public flag.
    pub public: bool,
    /// Creator.
    pub created_by: Option<i64>,
    /// Creation time (also the first `updated_at`).
    pub created_at: DateTime<Utc>,
}

/// Whether a version's files are all there (R-MOD-3: only complete versions are visible to
/// readers).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum VersionStatus {
    /// Files are being uploaded; readers do not see the version.
    UploadPending,
    /// Committed and visible.
    UploadComplete,
}

impl VersionStatus {
    /// The wire name (`UPLOAD_PENDING`, `UPLOAD_COMPLETE`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::UploadPending => "UPLOAD_PENDING",
            Self::UploadComplete => "UPLOAD_COMPLETE",
        }
    }
    /// Parses the wire name.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "UPLOAD_PENDING" => Some(Self::UploadPending),
            "UPLOAD_COMPLETE" => Some(Self::UploadComplete),
            _ => None,
        }
    }
}

/// One version of an artifact.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ArtifactVersion {
    /// Numeric id, unique across artifacts (NGC's integer `latestVersionId`).
    pub id: i64,
    /// The artifact.
    pub artifact_id: i64,
    /// Version id, unique per artifact.
    pub version: crate::names::VersionId,
    /// Upload status.
    pub status: VersionStatus,
    /// Metadata.
    pub metadata: VersionMetadata,
    /// Number of files (set when the version completes).
    pub file_count: u64,
    /// Total bytes of its files (set when the version completes).
    pub total_size: u64,
    /// The user who created it.
    pub created_by: Option<i64>,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

/// Fields of a version to be created.
#[derive(Debug, Clone, PartialEq)]
pub struct NewArtifactVersion {
    /// The artifact.
    pub artifact_id: i64,
    /// Version id.
    pub version: crate::names::VersionId,
    /// Initial status.
    pub status: VersionStatus,
    /// Metadata.
    pub metadata: VersionMetadata,
    /// Creator.
    pub created_by: Option<i64>,
    /// Creation time (also the first `updated_at`).
    pub created_at: DateTime<Utc>,
}

/// One file of a version: a path and the content-addressed blob it holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VersionFile {
    /// Relative POSIX path inside the version (validated by the use cases).
    pub path: String,
    /// `sha256:<hex>` digest of the content (a blob in the blob store).
    pub digest: String,
    /// Size in bytes.
    pub size: u64,
    /// When the file was added to the version.
    pub created_at: DateTime<Utc>,
}

//! Encoding helpers and record decoders shared by the SQL adapters (SQLite, PostgreSQL).

use arca_core::model::{ApiKey, BlobRecord, Org, RoleGrant, Team, UploadPart, UploadSession, User};
use arca_core::ports::StoreError;
use chrono::{DateTime, NaiveDateTime, Utc};
use serde::de::DeserializeOwned;
use serde::Serialize;
use uuid::Uuid;

/// Timestamps are stored as fixed-width RFC 3339 text with microseconds, so that text order is
/// time order.
pub(crate) fn ts(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
}

pub(crate) fn opt_ts(t: Option<DateTime<Utc>>) -> Option<String> {
    t.map(ts)
}

pub(crate) fn parse_ts(s: &str) -> Result<DateTime<Utc>, StoreError> {
    NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.fZ")
        .map(|n| n.and_utc())
        .map_err(|e| StoreError::Corrupt(format!("timestamp {s:?}: {e}")))
}

pub(crate) fn parse_opt_ts(s: Option<String>) -> Result<Option<DateTime<Utc>>, StoreError> {
    s.as_deref().map(parse_ts).transpose()
}

pub(crate) fn to_json<T: Serialize>(v: &T) -> Result<String, StoreError> {
    serde_json::to_string(v).map_err(|e| StoreError::Corrupt(e.to_string()))
}

pub(crate) fn from_json<T: DeserializeOwned>(s: &str) -> Result<T, StoreError> {
    serde_json::from_str(s).map_err(|e| StoreError::Corrupt(format!("{e}: {s:.80}")))
}

pub(crate) fn parse<T: std::str::FromStr>(s: &str, what: &str) -> Result<T, StoreError>
where
    T::Err: std::fmt::Display,
{
    s.parse()
        .map_err(|e| StoreError::Corrupt(format!("{what} {s:?}: {e}")))
}

pub(crate) fn u64_of(v: i64, what: &str) -> Result<u64, StoreError> {
    u64::try_from(v).map_err(|_| StoreError::Corrupt(format!("negative {what}: {v}")))
}

pub(crate) fn i64_of(v: u64, what: &str) -> Result<i64, StoreError> {
    i64::try_from(v).map_err(|_| StoreError::Backend(format!("{what} too large: {v}")))
}

/// Maps a sqlx error to the port's error, naming `what` for constraint violations.
pub(crate) fn map_err(e: sqlx::Error, what: &str) -> StoreError {
    if let sqlx::Error::Database(db) = &e {
        match db.kind() {
            sqlx::error::ErrorKind::UniqueViolation => {
                return StoreError::AlreadyExists(what.to_string())
            }
            sqlx::error::ErrorKind::ForeignKeyViolation => {
                return StoreError::NotFound(format!("{what}: a referenced row"))
            }
            _ => {}
        }
        let code = db.code().unwrap_or_default();
        // SQLite BUSY/LOCKED, PostgreSQL serialization_failure / deadlock_detected.
        if matches!(code.as_ref(), "5" | "6" | "517" | "40001" | "40P01") {
            return StoreError::Conflict(db.message().to_string());
        }
    }
    StoreError::Backend(e.to_string())
}

/// Typed column access: the part of row decoding that differs between the SQL databases (how
/// timestamps, booleans and ids are stored). The record decoders below are shared.
pub(crate) trait SqlRow {
    /// A non-null text column.
    fn text(&self, col: &str) -> Result<String, StoreError>;
    /// A nullable text column.
    fn opt_text(&self, col: &str) -> Result<Option<String>, StoreError>;
    /// A non-null 64-bit integer column.
    fn int(&self, col: &str) -> Result<i64, StoreError>;
    /// A nullable 64-bit integer column.
    fn opt_int(&self, col: &str) -> Result<Option<i64>, StoreError>;
    /// A non-null timestamp column.
    fn time(&self, col: &str) -> Result<DateTime<Utc>, StoreError>;
    /// A nullable timestamp column.
    fn opt_time(&self, col: &str) -> Result<Option<DateTime<Utc>>, StoreError>;
    /// A boolean column.
    fn flag(&self, col: &str) -> Result<bool, StoreError>;
    /// A UUID column.
    fn uuid(&self, col: &str) -> Result<Uuid, StoreError>;
}

pub(crate) fn org_row(r: &impl SqlRow) -> Result<Org, StoreError> {
    Ok(Org {
        id: r.int("id")?,
        name: parse(&r.text("name")?, "org id")?,
        display_name: r.text("display_name")?,
        description: r.text("description")?,
        quota: from_json(&r.text("quota")?)?,
        created_at: r.time("created_at")?,
    })
}

pub(crate) fn team_row(r: &impl SqlRow) -> Result<Team, StoreError> {
    Ok(Team {
        id: r.int("id")?,
        org: parse(&r.text("org")?, "org id")?,
        name: parse(&r.text("name")?, "team name")?,
        description: r.text("description")?,
        created_at: r.time("created_at")?,
    })
}

pub(crate) fn user_row(r: &impl SqlRow) -> Result<User, StoreError> {
    Ok(User {
        id: r.int("id")?,
        email: parse(&r.text("email")?, "email")?,
        display_name: r.text("display_name")?,
        created_at: r.time("created_at")?,
    })
}

/// Decodes a role grant; `team = ''` marks an org-level grant.
pub(crate) fn grant_row(r: &impl SqlRow) -> Result<RoleGrant, StoreError> {
    let team = r.text("team")?;
    Ok(RoleGrant {
        user_id: r.int("user_id")?,
        org: parse(&r.text("org")?, "org id")?,
        team: if team.is_empty() {
            None
        } else {
            Some(parse(&team, "team name")?)
        },
        role: parse(&r.text("role")?, "role")?,
    })
}

pub(crate) fn key_row(r: &impl SqlRow) -> Result<ApiKey, StoreError> {
    Ok(ApiKey {
        id: r.uuid("id")?,
        kind: from_json(&r.text("kind")?)?,
        org: parse(&r.text("org")?, "org id")?,
        user_id: r.opt_int("user_id")?,
        name: r.text("name")?,
        secret_hash: r.text("secret_hash")?,
        hint: r.text("hint")?,
        services: from_json(&r.text("services")?)?,
        scopes: from_json(&r.text("scopes")?)?,
        entity: r
            .opt_text("entity")?
            .as_deref()
            .map(from_json)
            .transpose()?,
        active: r.flag("active")?,
        expires_at: r.opt_time("expires_at")?,
        created_at: r.time("created_at")?,
        rotated_at: r.opt_time("rotated_at")?,
        last_used_at: r.opt_time("last_used_at")?,
    })
}

pub(crate) fn upload_row(r: &impl SqlRow) -> Result<UploadSession, StoreError> {
    Ok(UploadSession {
        id: r.uuid("id")?,
        org: parse(&r.text("org")?, "org id")?,
        purpose: r.text("purpose")?,
        backend_state: r.text("backend_state")?,
        received: u64_of(r.int("received")?, "received")?,
        expected_size: r
            .opt_int("expected_size")?
            .map(|v| u64_of(v, "expected size"))
            .transpose()?,
        created_at: r.time("created_at")?,
        updated_at: r.time("updated_at")?,
    })
}

pub(crate) fn part_row(r: &impl SqlRow) -> Result<UploadPart, StoreError> {
    Ok(UploadPart {
        number: u32::try_from(r.int("number")?)
            .map_err(|_| StoreError::Corrupt("part number".into()))?,
        offset: u64_of(r.int("byte_offset")?, "offset")?,
        size: u64_of(r.int("size")?, "size")?,
        etag: r.text("etag")?,
    })
}

pub(crate) fn blob_row(r: &impl SqlRow) -> Result<BlobRecord, StoreError> {
    Ok(BlobRecord {
        digest: r.text("digest")?,
        size: u64_of(r.int("size")?, "size")?,
        created_at: r.time("created_at")?,
    })
}

/// The `owner` column of a key: the user id as text for personal and legacy keys, `''` for
/// service keys (key names are unique per org and owner).
pub(crate) fn owner_of(key: &ApiKey) -> String {
    owner_of_user(key.user_id)
}

/// The `owner` column value for keys of `user_id` (`None`: service keys).
pub(crate) fn owner_of_user(user_id: Option<i64>) -> String {
    user_id.map(|u| u.to_string()).unwrap_or_default()
}

/// The `team` column value: the team name, or `''` at org level.
pub(crate) fn team_col(team: Option<&arca_core::names::TeamName>) -> &str {
    team.map(|t| t.as_str()).unwrap_or("")
}

pub(crate) fn repo_row(r: &impl SqlRow) -> Result<arca_core::model::Repository, StoreError> {
    let team = r.text("team")?;
    Ok(arca_core::model::Repository {
        id: r.int("id")?,
        org: parse(&r.text("org")?, "org id")?,
        team: if team.is_empty() {
            None
        } else {
            Some(parse(&team, "team name")?)
        },
        name: parse(&r.text("name")?, "repository name")?,
        public: r.flag("public")?,
        metadata: from_json(&r.text("metadata")?)?,
        created_at: r.time("created_at")?,
        updated_at: r.time("updated_at")?,
    })
}

pub(crate) fn manifest_row(
    r: &impl SqlRow,
) -> Result<arca_core::model::ManifestRecord, StoreError> {
    Ok(arca_core::model::ManifestRecord {
        repo_id: r.int("repo_id")?,
        digest: r.text("digest")?,
        media_type: r.text("media_type")?,
        size: u64_of(r.int("size")?, "size")?,
        artifact_type: r.opt_text("artifact_type")?,
        subject: r.opt_text("subject")?,
        blobs: from_json(&r.text("blobs")?)?,
        children: from_json(&r.text("children")?)?,
        blob_bytes: u64_of(r.int("blob_bytes")?, "blob bytes")?,
        annotations: r.text("annotations")?,
        platforms: r.text("platforms")?,
        created_at: r.time("created_at")?,
    })
}

pub(crate) fn tag_row(r: &impl SqlRow) -> Result<arca_core::model::TagRecord, StoreError> {
    Ok(arca_core::model::TagRecord {
        repo_id: r.int("repo_id")?,
        name: r.text("name")?,
        digest: r.text("digest")?,
        updated_at: r.time("updated_at")?,
    })
}

/// Decodes the `team` column: `''` marks the org level.
fn opt_team(team: String) -> Result<Option<arca_core::names::TeamName>, StoreError> {
    if team.is_empty() {
        Ok(None)
    } else {
        Ok(Some(parse(&team, "team name")?))
    }
}

/// Decodes an artifact (model, resource, Helm chart); `kind` is the wire name, `team = ''`
/// marks an org-level artifact, `metadata` is JSON.
pub(crate) fn artifact_row(r: &impl SqlRow) -> Result<arca_core::model::Artifact, StoreError> {
    Ok(arca_core::model::Artifact {
        id: r.int("id")?,
        kind: parse(&r.text("kind")?, "artifact kind")?,
        org: parse(&r.text("org")?, "org id")?,
        team: opt_team(r.text("team")?)?,
        name: parse(&r.text("name")?, "artifact name")?,
        metadata: from_json(&r.text("metadata")?)?,
        public: r.flag("public")?,
        latest_version: r
            .opt_text("latest_version")?
            .map(|v| parse(&v, "version id"))
            .transpose()?,
        created_by: r.opt_int("created_by")?,
        created_at: r.time("created_at")?,
        updated_at: r.time("updated_at")?,
    })
}

/// Decodes an artifact version; `status` is the wire name, `metadata` is JSON.
pub(crate) fn version_row(
    r: &impl SqlRow,
) -> Result<arca_core::model::ArtifactVersion, StoreError> {
    let status = r.text("status")?;
    Ok(arca_core::model::ArtifactVersion {
        id: r.int("id")?,
        artifact_id: r.int("artifact_id")?,
        version: parse(&r.text("version")?, "version id")?,
        status: arca_core::model::VersionStatus::parse(&status)
            .ok_or_else(|| StoreError::Corrupt(format!("version status {status:?}")))?,
        metadata: from_json(&r.text("metadata")?)?,
        file_count: u64_of(r.int("file_count")?, "file count")?,
        total_size: u64_of(r.int("total_size")?, "total size")?,
        created_by: r.opt_int("created_by")?,
        created_at: r.time("created_at")?,
        updated_at: r.time("updated_at")?,
    })
}

/// Decodes one file of a version.
pub(crate) fn version_file_row(
    r: &impl SqlRow,
) -> Result<arca_core::model::VersionFile, StoreError> {
    Ok(arca_core::model::VersionFile {
        path: r.text("path")?,
        digest: r.text("digest")?,
        size: u64_of(r.int("size")?, "size")?,
        created_at: r.time("created_at")?,
    })
}

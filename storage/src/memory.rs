//! In-memory adapters of the metadata and blob ports, for tests and embedding.
//!
//! Write transactions hold the store's lock for their whole life and work on a copy of the state,
//! which replaces the state on commit: writers are serialized and a dropped transaction leaves
//! nothing behind. Read transactions work on a snapshot.

use crate::blob_common::{hash_stream, once, slice_range, verify, HashedBytes};
use arca_auth::ArtifactKind;
use arca_core::model::{
    ApiKey, Artifact, ArtifactVersion, BlobRecord, ManifestRecord, NewArtifact, NewArtifactVersion,
    NewOrg, NewRepository, NewTeam, NewUser, Org, Repository, RoleGrant, TagRecord, Team,
    UploadPart, UploadSession, User, VersionFile,
};
use arca_core::names::{Email, OrgId, TeamName};
use arca_core::ports::{
    BlobError, BlobRead, BlobStore, ByteRange, ByteStream, MetadataStore, MetadataTx, PartReceipt,
    StoreError, StoredBlob,
};
use arca_oci::Digest;
use async_trait::async_trait;
use bytes::Bytes;
use chrono::{DateTime, Utc};
use futures::StreamExt;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, Mutex};
use tokio::sync::{Mutex as AsyncMutex, OwnedMutexGuard};
use uuid::Uuid;

#[derive(Debug, Clone, Default)]
struct State {
    next_id: i64,
    settings: BTreeMap<String, String>,
    orgs: BTreeMap<String, Org>,
    teams: BTreeMap<(String, String), Team>,
    users: BTreeMap<i64, User>,
    grants: BTreeSet<RoleGrant>,
    keys: BTreeMap<Uuid, ApiKey>,
    blobs: BTreeMap<String, BlobRecord>,
    uploads: BTreeMap<Uuid, UploadSession>,
    parts: BTreeMap<(Uuid, u32), UploadPart>,
    repos: BTreeMap<i64, Repository>,
    repo_blobs: BTreeSet<(i64, String)>,
    manifests: BTreeMap<(i64, String), ManifestRecord>,
    tags: BTreeMap<(i64, String), TagRecord>,
    usage: BTreeMap<(String, String, String), u64>,
    artifacts: BTreeMap<i64, Artifact>,
    /// Versions by id (ids grow with creation).
    versions: BTreeMap<i64, ArtifactVersion>,
    /// Files by (version id, path); `String` order is byte order.
    version_files: BTreeMap<(i64, String), VersionFile>,
    /// Blob sizes by (artifact id, digest).
    artifact_blobs: BTreeMap<(i64, String), u64>,
}

impl State {
    fn next_id(&mut self) -> i64 {
        self.next_id += 1;
        self.next_id
    }
}

/// An in-memory [`MetadataStore`].
#[derive(Debug, Clone, Default)]
pub struct MemoryMetadataStore {
    state: Arc<AsyncMutex<State>>,
}

impl MemoryMetadataStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }
}

struct MemoryTx {
    guard: Option<OwnedMutexGuard<State>>,
    work: State,
}

impl MemoryTx {
    fn writable(&mut self) -> Result<&mut State, StoreError> {
        if self.guard.is_none() {
            return Err(StoreError::Backend(
                "write attempted in a read-only transaction".into(),
            ));
        }
        Ok(&mut self.work)
    }
}

#[async_trait]
impl MetadataStore for MemoryMetadataStore {
    async fn begin(&self) -> Result<Box<dyn MetadataTx>, StoreError> {
        let guard = self.state.clone().lock_owned().await;
        let work = guard.clone();
        Ok(Box::new(MemoryTx {
            guard: Some(guard),
            work,
        }))
    }

    async fn begin_read(&self) -> Result<Box<dyn MetadataTx>, StoreError> {
        let work = self.state.lock().await.clone();
        Ok(Box::new(MemoryTx { guard: None, work }))
    }

    async fn ping(&self) -> Result<(), StoreError> {
        Ok(())
    }
}

fn key_scope_conflict(a: &ApiKey, b: &ApiKey) -> bool {
    a.org == b.org && a.user_id == b.user_id && a.name == b.name
}

/// `kind org/[team/]name`, for messages.
fn artifact_what(kind: ArtifactKind, org: &OrgId, team: Option<&TeamName>, name: &str) -> String {
    match team {
        Some(t) => format!("{kind} {org}/{t}/{name}"),
        None => format!("{kind} {org}/{name}"),
    }
}

#[async_trait]
impl MetadataTx for MemoryTx {
    async fn commit(mut self: Box<Self>) -> Result<(), StoreError> {
        if let Some(mut guard) = self.guard.take() {
            *guard = std::mem::take(&mut self.work);
        }
        Ok(())
    }

    async fn rollback(self: Box<Self>) -> Result<(), StoreError> {
        Ok(())
    }

    async fn get_setting(&mut self, key: &str) -> Result<Option<String>, StoreError> {
        Ok(self.work.settings.get(key).cloned())
    }

    async fn put_setting_if_absent(
        &mut self,
        key: &str,
        value: &str,
    ) -> Result<String, StoreError> {
        let s = self.writable()?;
        Ok(s.settings
            .entry(key.to_string())
            .or_insert_with(|| value.to_string())
            .clone())
    }

    async fn insert_org(&mut self, org: &NewOrg) -> Result<Org, StoreError> {
        let s = self.writable()?;
        if s.orgs.contains_key(org.name.as_str()) {
            return Err(StoreError::AlreadyExists(format!("org {}", org.name)));
        }
        let record = Org {
            id: s.next_id(),
            name: org.name.clone(),
            display_name: org.display_name.clone(),
            description: org.description.clone(),
            quota: org.quota,
            created_at: org.created_at,
        };
        s.orgs.insert(org.name.to_string(), record.clone());
        Ok(record)
    }

    async fn get_org(&mut self, name: &OrgId) -> Result<Option<Org>, StoreError> {
        Ok(self.work.orgs.get(name.as_str()).cloned())
    }

    async fn list_orgs(&mut self) -> Result<Vec<Org>, StoreError> {
        Ok(self.work.orgs.values().cloned().collect())
    }

    async fn update_org(&mut self, org: &Org) -> Result<(), StoreError> {
        let s = self.writable()?;
        let existing = s
            .orgs
            .get_mut(org.name.as_str())
            .ok_or_else(|| StoreError::NotFound(format!("org {}", org.name)))?;
        existing.display_name = org.display_name.clone();
        existing.description = org.description.clone();
        existing.quota = org.quota;
        Ok(())
    }

    async fn insert_team(&mut self, team: &NewTeam) -> Result<Team, StoreError> {
        let s = self.writable()?;
        if !s.orgs.contains_key(team.org.as_str()) {
            return Err(StoreError::NotFound(format!("org {}", team.org)));
        }
        let k = (team.org.to_string(), team.name.to_string());
        if s.teams.contains_key(&k) {
            return Err(StoreError::AlreadyExists(format!(
                "team {}/{}",
                team.org, team.name
            )));
        }
        let record = Team {
            id: s.next_id(),
            org: team.org.clone(),
            name: team.name.clone(),
            description: team.description.clone(),
            created_at: team.created_at,
        };
        s.teams.insert(k, record.clone());
        Ok(record)
    }

    async fn get_team(&mut self, org: &OrgId, name: &TeamName) -> Result<Option<Team>, StoreError> {
        Ok(self
            .work
            .teams
            .get(&(org.to_string(), name.to_string()))
            .cloned())
    }

    async fn list_teams(&mut self, org: &OrgId) -> Result<Vec<Team>, StoreError> {
        Ok(self
            .work
            .teams
            .values()
            .filter(|t| &t.org == org)
            .cloned()
            .collect())
    }

    async fn update_team(&mut self, team: &Team) -> Result<(), StoreError> {
        let s = self.writable()?;
        let existing = s
            .teams
            .get_mut(&(team.org.to_string(), team.name.to_string()))
            .ok_or_else(|| StoreError::NotFound(format!("team {}/{}", team.org, team.name)))?;
        existing.description = team.description.clone();
        Ok(())
    }

    async fn delete_team(&mut self, org: &OrgId, name: &TeamName) -> Result<(), StoreError> {
        let s = self.writable()?;
        s.teams
            .remove(&(org.to_string(), name.to_string()))
            .ok_or_else(|| StoreError::NotFound(format!("team {org}/{name}")))?;
        s.grants
            .retain(|g| !(&g.org == org && g.team.as_ref() == Some(name)));
        Ok(())
    }

    async fn insert_user(&mut self, user: &NewUser) -> Result<User, StoreError> {
        let s = self.writable()?;
        if s.users.values().any(|u| u.email == user.email) {
            return Err(StoreError::AlreadyExists(format!("user {}", user.email)));
        }
        let record = User {
            id: s.next_id(),
            email: user.email.clone(),
            display_name: user.display_name.clone(),
            created_at: user.created_at,
        };
        s.users.insert(record.id, record.clone());
        Ok(record)
    }

    async fn get_user(&mut self, id: i64) -> Result<Option<User>, StoreError> {
        Ok(self.work.users.get(&id).cloned())
    }

    async fn get_user_by_email(&mut self, email: &Email) -> Result<Option<User>, StoreError> {
        Ok(self
            .work
            .users
            .values()
            .find(|u| &u.email == email)
            .cloned())
    }

    async fn update_user(&mut self, user: &User) -> Result<(), StoreError> {
        let s = self.writable()?;
        let existing = s
            .users
            .get_mut(&user.id)
            .ok_or_else(|| StoreError::NotFound(format!("user {}", user.id)))?;
        existing.display_name = user.display_name.clone();
        Ok(())
    }

    async fn set_roles(
        &mut self,
        user_id: i64,
        org: &OrgId,
        team: Option<&TeamName>,
        roles: &[arca_auth::Role],
    ) -> Result<(), StoreError> {
        let s = self.writable()?;
        if !s.users.contains_key(&user_id) {
            return Err(StoreError::NotFound(format!("user {user_id}")));
        }
        if !s.orgs.contains_key(org.as_str()) {
            return Err(StoreError::NotFound(format!("org {org}")));
        }
        if let Some(t) = team {
            if !s.teams.contains_key(&(org.to_string(), t.to_string())) {
                return Err(StoreError::NotFound(format!("team {org}/{t}")));
            }
        }
        s.grants
            .retain(|g| !(g.user_id == user_id && &g.org == org && g.team.as_ref() == team));
        for role in roles {
            s.grants.insert(RoleGrant {
                user_id,
                org: org.clone(),
                team: team.cloned(),
                role: *role,
            });
        }
        Ok(())
    }

    async fn grants_of_user(&mut self, user_id: i64) -> Result<Vec<RoleGrant>, StoreError> {
        let mut v: Vec<RoleGrant> = self
            .work
            .grants
            .iter()
            .filter(|g| g.user_id == user_id)
            .cloned()
            .collect();
        v.sort();
        Ok(v)
    }

    async fn grants_in_org(&mut self, org: &OrgId) -> Result<Vec<RoleGrant>, StoreError> {
        let mut v: Vec<RoleGrant> = self
            .work
            .grants
            .iter()
            .filter(|g| &g.org == org)
            .cloned()
            .collect();
        v.sort();
        Ok(v)
    }

    async fn remove_user_from_org(&mut self, user_id: i64, org: &OrgId) -> Result<(), StoreError> {
        let s = self.writable()?;
        s.grants
            .retain(|g| !(g.user_id == user_id && &g.org == org));
        Ok(())
    }

    async fn insert_key(&mut self, key: &ApiKey) -> Result<(), StoreError> {
        let s = self.writable()?;
        if s.keys.contains_key(&key.id) {
            return Err(StoreError::AlreadyExists(format!("key {}", key.id)));
        }
        if s.keys.values().any(|k| k.secret_hash == key.secret_hash) {
            return Err(StoreError::AlreadyExists("key secret".into()));
        }
        if s.keys.values().any(|k| key_scope_conflict(k, key)) {
            return Err(StoreError::AlreadyExists(format!("key named {}", key.name)));
        }
        s.keys.insert(key.id, key.clone());
        Ok(())
    }

    async fn get_key(&mut self, id: Uuid) -> Result<Option<ApiKey>, StoreError> {
        Ok(self.work.keys.get(&id).cloned())
    }

    async fn find_key_by_hash(&mut self, secret_hash: &str) -> Result<Option<ApiKey>, StoreError> {
        Ok(self
            .work
            .keys
            .values()
            .find(|k| k.secret_hash == secret_hash)
            .cloned())
    }

    async fn list_keys(
        &mut self,
        org: &OrgId,
        user_id: Option<Option<i64>>,
    ) -> Result<Vec<ApiKey>, StoreError> {
        let mut v: Vec<ApiKey> = self
            .work
            .keys
            .values()
            .filter(|k| &k.org == org && user_id.map_or(true, |u| k.user_id == u))
            .cloned()
            .collect();
        v.sort_by_key(|k| (k.created_at, k.id));
        Ok(v)
    }

    async fn update_key(&mut self, key: &ApiKey) -> Result<(), StoreError> {
        let s = self.writable()?;
        if s.keys
            .values()
            .any(|k| k.id != key.id && k.secret_hash == key.secret_hash)
        {
            return Err(StoreError::AlreadyExists("key secret".into()));
        }
        let existing = s
            .keys
            .get_mut(&key.id)
            .ok_or_else(|| StoreError::NotFound(format!("key {}", key.id)))?;
        existing.secret_hash = key.secret_hash.clone();
        existing.hint = key.hint.clone();
        existing.active = key.active;
        existing.expires_at = key.expires_at;
        existing.services = key.services.clone();
        existing.scopes = key.scopes.clone();
        existing.entity = key.entity.clone();
        existing.rotated_at = key.rotated_at;
        existing.last_used_at = key.last_used_at;
        Ok(())
    }

    async fn delete_key(&mut self, id: Uuid) -> Result<(), StoreError> {
        let s = self.writable()?;
        s.keys
            .remove(&id)
            .map(|_| ())
            .ok_or_else(|| StoreError::NotFound(format!("key {id}")))
    }

    async fn delete_keys_of_user(&mut self, user_id: i64, org: &OrgId) -> Result<u64, StoreError> {
        let s = self.writable()?;
        let before = s.keys.len();
        s.keys
            .retain(|_, k| !(k.user_id == Some(user_id) && &k.org == org));
        Ok((before - s.keys.len()) as u64)
    }

    async fn insert_blob(&mut self, blob: &BlobRecord) -> Result<BlobRecord, StoreError> {
        let s = self.writable()?;
        Ok(s.blobs
            .entry(blob.digest.clone())
            .or_insert_with(|| blob.clone())
            .clone())
    }

    async fn get_blob(&mut self, digest: &str) -> Result<Option<BlobRecord>, StoreError> {
        Ok(self.work.blobs.get(digest).cloned())
    }

    async fn insert_repo(&mut self, repo: &NewRepository) -> Result<Repository, StoreError> {
        let s = self.writable()?;
        if s.repos
            .values()
            .any(|r| r.org == repo.org && r.team == repo.team && r.name == repo.name)
        {
            return Err(StoreError::AlreadyExists(format!(
                "repository {}",
                repo.name
            )));
        }
        if !s.orgs.contains_key(repo.org.as_str()) {
            return Err(StoreError::NotFound(format!("org {}", repo.org)));
        }
        let record = Repository {
            id: s.next_id(),
            org: repo.org.clone(),
            team: repo.team.clone(),
            name: repo.name.clone(),
            public: false,
            metadata: Default::default(),
            created_at: repo.created_at,
            updated_at: repo.created_at,
        };
        s.repos.insert(record.id, record.clone());
        Ok(record)
    }

    async fn get_repo(
        &mut self,
        org: &OrgId,
        team: Option<&TeamName>,
        name: &str,
    ) -> Result<Option<Repository>, StoreError> {
        Ok(self
            .work
            .repos
            .values()
            .find(|r| &r.org == org && r.team.as_ref() == team && r.name.as_str() == name)
            .cloned())
    }

    async fn list_repos(&mut self, org: &OrgId) -> Result<Vec<Repository>, StoreError> {
        let mut v: Vec<Repository> = self
            .work
            .repos
            .values()
            .filter(|r| &r.org == org)
            .cloned()
            .collect();
        v.sort_by_key(|r| r.path());
        Ok(v)
    }

    async fn update_repo(&mut self, repo: &Repository) -> Result<(), StoreError> {
        let s = self.writable()?;
        let r = s
            .repos
            .get_mut(&repo.id)
            .ok_or_else(|| StoreError::NotFound(format!("repository {}", repo.id)))?;
        r.public = repo.public;
        r.metadata = repo.metadata.clone();
        r.updated_at = repo.updated_at;
        Ok(())
    }

    async fn delete_repo(&mut self, repo_id: i64) -> Result<(), StoreError> {
        let s = self.writable()?;
        s.repos
            .remove(&repo_id)
            .ok_or_else(|| StoreError::NotFound(format!("repository {repo_id}")))?;
        s.repo_blobs.retain(|(r, _)| *r != repo_id);
        s.manifests.retain(|(r, _), _| *r != repo_id);
        s.tags.retain(|(r, _), _| *r != repo_id);
        Ok(())
    }

    async fn link_blob(&mut self, repo_id: i64, digest: &str) -> Result<(), StoreError> {
        let s = self.writable()?;
        if !s.repos.contains_key(&repo_id) {
            return Err(StoreError::NotFound(format!("repository {repo_id}")));
        }
        s.repo_blobs.insert((repo_id, digest.to_string()));
        Ok(())
    }

    async fn blob_linked(&mut self, repo_id: i64, digest: &str) -> Result<bool, StoreError> {
        Ok(self
            .work
            .repo_blobs
            .contains(&(repo_id, digest.to_string())))
    }

    async fn unlink_blob(&mut self, repo_id: i64, digest: &str) -> Result<(), StoreError> {
        let s = self.writable()?;
        if s.repo_blobs.remove(&(repo_id, digest.to_string())) {
            Ok(())
        } else {
            Err(StoreError::NotFound(format!("blob {digest}")))
        }
    }

    async fn put_manifest(&mut self, manifest: &ManifestRecord) -> Result<(), StoreError> {
        let s = self.writable()?;
        if !s.repos.contains_key(&manifest.repo_id) {
            return Err(StoreError::NotFound(format!(
                "repository {}",
                manifest.repo_id
            )));
        }
        s.manifests
            .entry((manifest.repo_id, manifest.digest.clone()))
            .or_insert_with(|| manifest.clone());
        Ok(())
    }

    async fn get_manifest(
        &mut self,
        repo_id: i64,
        digest: &str,
    ) -> Result<Option<ManifestRecord>, StoreError> {
        Ok(self
            .work
            .manifests
            .get(&(repo_id, digest.to_string()))
            .cloned())
    }

    async fn list_manifests(&mut self, repo_id: i64) -> Result<Vec<ManifestRecord>, StoreError> {
        let mut v: Vec<ManifestRecord> = self
            .work
            .manifests
            .values()
            .filter(|m| m.repo_id == repo_id)
            .cloned()
            .collect();
        v.sort_by(|a, b| {
            b.created_at
                .cmp(&a.created_at)
                .then(a.digest.cmp(&b.digest))
        });
        Ok(v)
    }

    async fn delete_manifest(&mut self, repo_id: i64, digest: &str) -> Result<(), StoreError> {
        let s = self.writable()?;
        s.manifests
            .remove(&(repo_id, digest.to_string()))
            .ok_or_else(|| StoreError::NotFound(format!("manifest {digest}")))?;
        s.tags
            .retain(|(r, _), t| !(*r == repo_id && t.digest == digest));
        Ok(())
    }

    async fn referrers(
        &mut self,
        repo_id: i64,
        subject: &str,
    ) -> Result<Vec<ManifestRecord>, StoreError> {
        let mut v: Vec<ManifestRecord> = self
            .work
            .manifests
            .values()
            .filter(|m| m.repo_id == repo_id && m.subject.as_deref() == Some(subject))
            .cloned()
            .collect();
        v.sort_by(|a, b| {
            a.created_at
                .cmp(&b.created_at)
                .then(a.digest.cmp(&b.digest))
        });
        Ok(v)
    }

    async fn put_tag(&mut self, tag: &TagRecord) -> Result<(), StoreError> {
        let s = self.writable()?;
        if !s.manifests.contains_key(&(tag.repo_id, tag.digest.clone())) {
            return Err(StoreError::NotFound(format!("manifest {}", tag.digest)));
        }
        s.tags.insert((tag.repo_id, tag.name.clone()), tag.clone());
        Ok(())
    }

    async fn get_tag(&mut self, repo_id: i64, name: &str) -> Result<Option<TagRecord>, StoreError> {
        Ok(self.work.tags.get(&(repo_id, name.to_string())).cloned())
    }

    async fn list_tags(
        &mut self,
        repo_id: i64,
        last: Option<&str>,
        limit: Option<usize>,
    ) -> Result<Vec<TagRecord>, StoreError> {
        Ok(self
            .work
            .tags
            .range((repo_id, String::new())..)
            .take_while(|((r, _), _)| *r == repo_id)
            .filter(|((_, name), _)| last.map_or(true, |l| name.as_str() > l))
            .take(limit.unwrap_or(usize::MAX))
            .map(|(_, t)| t.clone())
            .collect())
    }

    async fn delete_tag(&mut self, repo_id: i64, name: &str) -> Result<(), StoreError> {
        let s = self.writable()?;
        s.tags
            .remove(&(repo_id, name.to_string()))
            .map(|_| ())
            .ok_or_else(|| StoreError::NotFound(format!("tag {name}")))
    }

    async fn add_usage(
        &mut self,
        org: &OrgId,
        ledger: &str,
        digest: &str,
        size: u64,
    ) -> Result<bool, StoreError> {
        let s = self.writable()?;
        let k = (org.to_string(), ledger.to_string(), digest.to_string());
        if s.usage.contains_key(&k) {
            return Ok(false);
        }
        s.usage.insert(k, size);
        Ok(true)
    }

    async fn usage_holds(
        &mut self,
        org: &OrgId,
        ledger: &str,
        digest: &str,
    ) -> Result<bool, StoreError> {
        let k = (org.to_string(), ledger.to_string(), digest.to_string());
        Ok(self.work.usage.contains_key(&k))
    }

    async fn usage(&mut self, org: &OrgId, ledger: &str) -> Result<u64, StoreError> {
        Ok(self
            .work
            .usage
            .iter()
            .filter(|((o, l, _), _)| o == org.as_str() && l == ledger)
            .fold(0u64, |acc, (_, size)| acc.saturating_add(*size)))
    }

    async fn insert_upload(&mut self, upload: &UploadSession) -> Result<(), StoreError> {
        let s = self.writable()?;
        if s.uploads.contains_key(&upload.id) {
            return Err(StoreError::AlreadyExists(format!("upload {}", upload.id)));
        }
        s.uploads.insert(upload.id, upload.clone());
        Ok(())
    }

    async fn get_upload(&mut self, id: Uuid) -> Result<Option<UploadSession>, StoreError> {
        Ok(self.work.uploads.get(&id).cloned())
    }

    async fn add_upload_part(
        &mut self,
        id: Uuid,
        part: &UploadPart,
        now: DateTime<Utc>,
    ) -> Result<UploadSession, StoreError> {
        let s = self.writable()?;
        if !s.uploads.contains_key(&id) {
            return Err(StoreError::NotFound(format!("upload {id}")));
        }
        if s.parts.contains_key(&(id, part.number)) {
            return Err(StoreError::AlreadyExists(format!(
                "part {} of upload {id}",
                part.number
            )));
        }
        s.parts.insert((id, part.number), part.clone());
        let session = s
            .uploads
            .get_mut(&id)
            .ok_or_else(|| StoreError::NotFound(format!("upload {id}")))?;
        session.received += part.size;
        session.updated_at = now;
        Ok(session.clone())
    }

    async fn upload_parts(&mut self, id: Uuid) -> Result<Vec<UploadPart>, StoreError> {
        Ok(self
            .work
            .parts
            .range((id, 0)..=(id, u32::MAX))
            .map(|(_, p)| p.clone())
            .collect())
    }

    async fn delete_upload(&mut self, id: Uuid) -> Result<(), StoreError> {
        let s = self.writable()?;
        s.uploads
            .remove(&id)
            .ok_or_else(|| StoreError::NotFound(format!("upload {id}")))?;
        s.parts.retain(|(u, _), _| *u != id);
        Ok(())
    }

    async fn stale_uploads(
        &mut self,
        before: DateTime<Utc>,
    ) -> Result<Vec<UploadSession>, StoreError> {
        let mut v: Vec<UploadSession> = self
            .work
            .uploads
            .values()
            .filter(|u| u.updated_at < before)
            .cloned()
            .collect();
        v.sort_by_key(|u| (u.updated_at, u.id));
        Ok(v)
    }

    async fn insert_artifact(&mut self, artifact: &NewArtifact) -> Result<Artifact, StoreError> {
        let s = self.writable()?;
        if !s.orgs.contains_key(artifact.org.as_str()) {
            return Err(StoreError::NotFound(format!("org {}", artifact.org)));
        }
        if s.artifacts.values().any(|a| {
            a.kind == artifact.kind
                && a.org == artifact.org
                && a.team == artifact.team
                && a.name == artifact.name
        }) {
            return Err(StoreError::AlreadyExists(artifact_what(
                artifact.kind,
                &artifact.org,
                artifact.team.as_ref(),
                artifact.name.as_str(),
            )));
        }
        let record = Artifact {
            id: s.next_id(),
            kind: artifact.kind,
            org: artifact.org.clone(),
            team: artifact.team.clone(),
            name: artifact.name.clone(),
            metadata: artifact.metadata.clone(),
            public: artifact.public,
            latest_version: None,
            created_by: artifact.created_by,
            created_at: artifact.created_at,
            updated_at: artifact.created_at,
        };
        s.artifacts.insert(record.id, record.clone());
        Ok(record)
    }

    async fn get_artifact(
        &mut self,
        kind: ArtifactKind,
        org: &OrgId,
        team: Option<&TeamName>,
        name: &str,
    ) -> Result<Option<Artifact>, StoreError> {
        Ok(self
            .work
            .artifacts
            .values()
            .find(|a| {
                a.kind == kind
                    && &a.org == org
                    && a.team.as_ref() == team
                    && a.name.as_str() == name
            })
            .cloned())
    }

    async fn list_artifacts(
        &mut self,
        kind: ArtifactKind,
        org: &OrgId,
    ) -> Result<Vec<Artifact>, StoreError> {
        let mut v: Vec<Artifact> = self
            .work
            .artifacts
            .values()
            .filter(|a| a.kind == kind && &a.org == org)
            .cloned()
            .collect();
        // `None` (org level) sorts before every team; names compare bytewise.
        v.sort_by(|a, b| (&a.team, &a.name).cmp(&(&b.team, &b.name)));
        Ok(v)
    }

    async fn update_artifact(&mut self, artifact: &Artifact) -> Result<(), StoreError> {
        let s = self.writable()?;
        let a = s
            .artifacts
            .get_mut(&artifact.id)
            .ok_or_else(|| StoreError::NotFound(format!("artifact {}", artifact.id)))?;
        a.metadata = artifact.metadata.clone();
        a.public = artifact.public;
        a.latest_version = artifact.latest_version.clone();
        a.updated_at = artifact.updated_at;
        Ok(())
    }

    async fn delete_artifact(&mut self, artifact_id: i64) -> Result<(), StoreError> {
        let s = self.writable()?;
        s.artifacts
            .remove(&artifact_id)
            .ok_or_else(|| StoreError::NotFound(format!("artifact {artifact_id}")))?;
        let versions: BTreeSet<i64> = s
            .versions
            .values()
            .filter(|v| v.artifact_id == artifact_id)
            .map(|v| v.id)
            .collect();
        s.versions.retain(|id, _| !versions.contains(id));
        s.version_files.retain(|(v, _), _| !versions.contains(v));
        s.artifact_blobs.retain(|(a, _), _| *a != artifact_id);
        Ok(())
    }

    async fn insert_version(
        &mut self,
        version: &NewArtifactVersion,
    ) -> Result<ArtifactVersion, StoreError> {
        let s = self.writable()?;
        if !s.artifacts.contains_key(&version.artifact_id) {
            return Err(StoreError::NotFound(format!(
                "artifact {}",
                version.artifact_id
            )));
        }
        if s.versions
            .values()
            .any(|v| v.artifact_id == version.artifact_id && v.version == version.version)
        {
            return Err(StoreError::AlreadyExists(format!(
                "version {} of artifact {}",
                version.version, version.artifact_id
            )));
        }
        let record = ArtifactVersion {
            id: s.next_id(),
            artifact_id: version.artifact_id,
            version: version.version.clone(),
            status: version.status,
            metadata: version.metadata.clone(),
            file_count: 0,
            total_size: 0,
            created_by: version.created_by,
            created_at: version.created_at,
            updated_at: version.created_at,
        };
        s.versions.insert(record.id, record.clone());
        Ok(record)
    }

    async fn get_version(
        &mut self,
        artifact_id: i64,
        version: &str,
    ) -> Result<Option<ArtifactVersion>, StoreError> {
        Ok(self
            .work
            .versions
            .values()
            .find(|v| v.artifact_id == artifact_id && v.version.as_str() == version)
            .cloned())
    }

    async fn list_versions(
        &mut self,
        artifact_id: i64,
    ) -> Result<Vec<ArtifactVersion>, StoreError> {
        // `versions` iterates by id: creation order.
        Ok(self
            .work
            .versions
            .values()
            .filter(|v| v.artifact_id == artifact_id)
            .cloned()
            .collect())
    }

    async fn list_org_versions(
        &mut self,
        kind: ArtifactKind,
        org: &OrgId,
    ) -> Result<Vec<ArtifactVersion>, StoreError> {
        let artifacts: BTreeSet<i64> = self
            .work
            .artifacts
            .values()
            .filter(|a| a.kind == kind && &a.org == org)
            .map(|a| a.id)
            .collect();
        let mut v: Vec<ArtifactVersion> = self
            .work
            .versions
            .values()
            .filter(|v| artifacts.contains(&v.artifact_id))
            .cloned()
            .collect();
        v.sort_by_key(|v| (v.artifact_id, v.id));
        Ok(v)
    }

    async fn update_version(&mut self, version: &ArtifactVersion) -> Result<(), StoreError> {
        let s = self.writable()?;
        let v = s
            .versions
            .get_mut(&version.id)
            .ok_or_else(|| StoreError::NotFound(format!("version {}", version.id)))?;
        v.status = version.status;
        v.metadata = version.metadata.clone();
        v.file_count = version.file_count;
        v.total_size = version.total_size;
        v.updated_at = version.updated_at;
        Ok(())
    }

    async fn delete_version(&mut self, version_id: i64) -> Result<(), StoreError> {
        let s = self.writable()?;
        s.versions
            .remove(&version_id)
            .ok_or_else(|| StoreError::NotFound(format!("version {version_id}")))?;
        s.version_files.retain(|(v, _), _| *v != version_id);
        Ok(())
    }

    async fn put_version_file(
        &mut self,
        version_id: i64,
        file: &VersionFile,
    ) -> Result<(), StoreError> {
        let s = self.writable()?;
        if !s.versions.contains_key(&version_id) {
            return Err(StoreError::NotFound(format!("version {version_id}")));
        }
        s.version_files
            .insert((version_id, file.path.clone()), file.clone());
        Ok(())
    }

    async fn delete_version_file(
        &mut self,
        version_id: i64,
        path: &str,
    ) -> Result<bool, StoreError> {
        let s = self.writable()?;
        Ok(s.version_files
            .remove(&(version_id, path.to_string()))
            .is_some())
    }

    async fn version_files(&mut self, version_id: i64) -> Result<Vec<VersionFile>, StoreError> {
        Ok(self
            .work
            .version_files
            .range((version_id, String::new())..)
            .take_while(|((v, _), _)| *v == version_id)
            .map(|(_, f)| f.clone())
            .collect())
    }

    async fn add_artifact_blob(
        &mut self,
        artifact_id: i64,
        digest: &str,
        size: u64,
    ) -> Result<(), StoreError> {
        let s = self.writable()?;
        if !s.artifacts.contains_key(&artifact_id) {
            return Err(StoreError::NotFound(format!("artifact {artifact_id}")));
        }
        s.artifact_blobs
            .entry((artifact_id, digest.to_string()))
            .or_insert(size);
        Ok(())
    }

    async fn artifact_blob(
        &mut self,
        artifact_id: i64,
        digest: &str,
    ) -> Result<Option<u64>, StoreError> {
        Ok(self
            .work
            .artifact_blobs
            .get(&(artifact_id, digest.to_string()))
            .copied())
    }
}

/// An in-memory [`BlobStore`].
#[derive(Debug, Clone, Default)]
pub struct MemoryBlobStore {
    blobs: Arc<Mutex<HashMap<String, Bytes>>>,
    parts: Arc<Mutex<HashMap<(Uuid, u32), Bytes>>>,
}

impl MemoryBlobStore {
    async fn concat_parts(
        &self,
        upload_id: Uuid,
        _backend_state: &str,
        parts: &[UploadPart],
    ) -> Result<ByteStream, BlobError> {
        let map = self.parts.lock().unwrap_or_else(|p| p.into_inner());
        let mut chunks = Vec::with_capacity(parts.len());
        for p in parts {
            let b = map
                .get(&(upload_id, p.number))
                .filter(|b| b.len() as u64 == p.size)
                .ok_or_else(|| {
                    BlobError::UploadUnknown(format!("part {} of upload {upload_id}", p.number))
                })?;
            chunks.push(Ok(b.clone()));
        }
        Ok(futures::stream::iter(chunks).boxed())
    }

    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    fn blob(&self, digest: &Digest) -> Option<Bytes> {
        self.blobs
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&digest.to_string())
            .cloned()
    }

    async fn store(
        &self,
        expected: Option<&Digest>,
        max_size: Option<u64>,
        body: ByteStream,
    ) -> Result<StoredBlob, BlobError> {
        let mut buf = Vec::new();
        let HashedBytes { digest, size } = hash_stream(body, max_size, &mut buf).await?;
        verify(expected, &digest)?;
        self.blobs
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .entry(digest.to_string())
            .or_insert_with(|| Bytes::from(buf));
        Ok(StoredBlob { digest, size })
    }
}

#[async_trait]
impl BlobStore for MemoryBlobStore {
    async fn put(
        &self,
        expected: Option<&Digest>,
        max_size: Option<u64>,
        body: ByteStream,
    ) -> Result<StoredBlob, BlobError> {
        self.store(expected, max_size, body).await
    }

    async fn get(&self, digest: &Digest, range: Option<ByteRange>) -> Result<BlobRead, BlobError> {
        let data = self
            .blob(digest)
            .ok_or_else(|| BlobError::NotFound(digest.to_string()))?;
        let size = data.len() as u64;
        let (start, len) = slice_range(size, range)?;
        let part = data.slice(start as usize..(start + len) as usize);
        Ok(BlobRead {
            size,
            range,
            body: once(part),
        })
    }

    async fn stat(&self, digest: &Digest) -> Result<Option<u64>, BlobError> {
        Ok(self.blob(digest).map(|b| b.len() as u64))
    }

    async fn delete(&self, digest: &Digest) -> Result<bool, BlobError> {
        Ok(self
            .blobs
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&digest.to_string())
            .is_some())
    }

    async fn create_upload(&self, _upload_id: Uuid) -> Result<String, BlobError> {
        Ok(String::new())
    }

    async fn put_part(
        &self,
        upload_id: Uuid,
        _backend_state: &str,
        part_number: u32,
        body: ByteStream,
    ) -> Result<PartReceipt, BlobError> {
        let mut buf = Vec::new();
        let hashed = hash_stream(body, None, &mut buf).await?;
        self.parts
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert((upload_id, part_number), Bytes::from(buf));
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
        let stored = self.store(expected, None, body).await?;
        self.abort_upload(upload_id, backend_state).await?;
        Ok(stored)
    }

    async fn abort_upload(&self, upload_id: Uuid, _backend_state: &str) -> Result<(), BlobError> {
        self.parts
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .retain(|(u, _), _| *u != upload_id);
        Ok(())
    }

    async fn ping(&self) -> Result<(), BlobError> {
        Ok(())
    }
}

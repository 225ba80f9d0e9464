//! Container repository metadata (R-OCI-4, R-OCI-5): the NGC-style view of repositories,
//! images (tags) and their multi-arch tables, metadata edits, public flag, removals.

use crate::authz::Principal;
use crate::error::CoreError;
use crate::model::{ManifestRecord, RepoMetadata, Repository, TagRecord};
use crate::ports::MetadataTx;
use crate::registry::RepoRef;
use crate::Arca;
use arca_auth::ArtifactAction;
use arca_oci::ErrorCode;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// One platform of a multi-arch image (R-OCI-2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ArchitectureVariant {
    /// CPU architecture.
    pub architecture: String,
    /// Operating system.
    pub os: String,
    /// Variant (e.g. `v8`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub variant: Option<String>,
    /// The platform manifest's digest.
    pub digest: String,
    /// Compressed size: the sum of the platform image's blobs.
    pub compressed_size: u64,
}

/// An image: a tag with what it points at.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ImageInfo {
    /// Tag.
    pub tag: String,
    /// Manifest digest.
    pub digest: String,
    /// Manifest media type.
    pub media_type: String,
    /// Compressed size of all its blobs (all platforms for an index).
    pub size: u64,
    /// When the tag last moved.
    pub updated_date: DateTime<Utc>,
    /// When the manifest was pushed.
    pub pushed_date: DateTime<Utc>,
    /// Platforms, for an index or manifest list.
    pub architecture_variants: Vec<ArchitectureVariant>,
    /// Manifest schema version.
    pub schema_version: u32,
}

/// A repository with its images.
#[derive(Debug, Clone)]
pub struct RepoInfo {
    /// The repository.
    pub repo: Repository,
    /// Its images, most recently updated first.
    pub images: Vec<ImageInfo>,
}

impl RepoInfo {
    /// The most recently updated image.
    pub fn latest(&self) -> Option<&ImageInfo> {
        self.images.first()
    }
}

/// A partial update of repository metadata: `None` fields are left as they are.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RepoMetadataPatch {
    /// One-line description.
    pub short_description: Option<String>,
    /// Overview (Markdown).
    pub description: Option<String>,
    /// Display name.
    pub display_name: Option<String>,
    /// Labels (replaces the list).
    pub labels: Option<Vec<String>>,
    /// NGC clients send labels as `labelsV2`.
    #[serde(rename = "labelsV2")]
    pub labels_v2: Option<Vec<serde_json::Value>>,
    /// Logo URL.
    pub logo: Option<String>,
    /// Publisher.
    pub publisher: Option<String>,
    /// Built by.
    pub built_by: Option<String>,
    /// Anonymous pulls (admins only).
    pub is_public: Option<bool>,
}

const MAX_FIELD: usize = 64 * 1024;

impl RepoMetadataPatch {
    fn apply(&self, m: &mut RepoMetadata) -> Result<(), CoreError> {
        let check = |name: &str, v: &Option<String>| match v {
            Some(s) if s.len() > MAX_FIELD => Err(CoreError::Invalid(format!(
                "{name} is longer than {MAX_FIELD} bytes"
            ))),
            _ => Ok(()),
        };
        check("shortDescription", &self.short_description)?;
        check("description", &self.description)?;
        check("displayName", &self.display_name)?;
        check("logo", &self.logo)?;
        check("publisher", &self.publisher)?;
        check("builtBy", &self.built_by)?;
        if let Some(v) = &self.short_description {
            m.short_description = v.clone();
        }
        if let Some(v) = &self.description {
            m.description = v.clone();
        }
        if let Some(v) = &self.display_name {
            m.display_name = Some(v.clone());
        }
        if let Some(v) = &self.logo {
            m.logo = Some(v.clone());
        }
        if let Some(v) = &self.publisher {
            m.publisher = Some(v.clone());
        }
        if let Some(v) = &self.built_by {
            m.built_by = Some(v.clone());
        }
        let labels = self.labels.clone().or_else(|| {
            self.labels_v2.as_ref().map(|l| {
                l.iter()
                    .filter_map(|v| match v {
                        serde_json::Value::String(s) => Some(s.clone()),
                        other => other
                            .get("value")
                            .and_then(|x| x.as_str())
                            .map(str::to_string),
                    })
                    .collect()
            })
        });
        if let Some(mut l) = labels {
            if l.len() > 100 || l.iter().any(|x| x.len() > 256 || x.is_empty()) {
                return Err(CoreError::Invalid(
                    "at most 100 labels of 1 to 256 characters".into(),
                ));
            }
            l.sort();
            l.dedup();
            m.labels = l;
        }
        Ok(())
    }
}

#[derive(Deserialize)]
struct Row {
    digest: String,
    platform: Option<Platform>,
    #[serde(default)]
    attestation: bool,
}

#[derive(Deserialize)]
struct Platform {
    os: String,
    architecture: String,
    variant: Option<String>,
}

async fn image_info(
    tx: &mut dyn MetadataTx,
    tag: &TagRecord,
    m: &ManifestRecord,
) -> Result<ImageInfo, CoreError> {
    let mut variants = Vec::new();
    let mut size = m.blob_bytes;
    if !m.children.is_empty() {
        let rows: Vec<Row> = serde_json::from_str(&m.platforms).unwrap_or_default();
        for row in rows.into_iter().filter(|r| !r.attestation) {
            let child = tx.get_manifest(m.repo_id, &row.digest).await?;
            let compressed = child.map(|c| c.blob_bytes).unwrap_or(0);
            size += compressed;
            if let Some(p) = row.platform {
                variants.push(ArchitectureVariant {
                    architecture: p.architecture,
                    os: p.os,
                    variant: p.variant,
                    digest: row.digest,
                    compressed_size: compressed,
                });
            }
        }
    }
    Ok(ImageInfo {
        tag: tag.name.clone(),
        digest: m.digest.clone(),
        media_type: m.media_type.clone(),
        size,
        updated_date: tag.updated_at,
        pushed_date: m.created_at,
        architecture_variants: variants,
        schema_version: 2,
    })
}

impl Arca {
    /// A repository with its images (tags), most recently updated first.
    pub async fn repo_info(&self, p: &Principal, r: &RepoRef) -> Result<RepoInfo, CoreError> {
        let repo = self.repo_with(p, r, ArtifactAction::View).await?;
        let mut tx = self.meta.begin_read().await?;
        let tags = tx.list_tags(repo.id, None, None).await?;
        let mut images = Vec::with_capacity(tags.len());
        for t in &tags {
            if let Some(m) = tx.get_manifest(repo.id, &t.digest).await? {
                images.push(image_info(tx.as_mut(), t, &m).await?);
            }
        }
        images.sort_by(|a, b| b.updated_date.cmp(&a.updated_date).then(a.tag.cmp(&b.tag)));
        Ok(RepoInfo { repo, images })
    }

    /// One image by tag.
    pub async fn image_info(
        &self,
        p: &Principal,
        r: &RepoRef,
        tag: &str,
    ) -> Result<ImageInfo, CoreError> {
        let repo = self.repo_with(p, r, ArtifactAction::View).await?;
        let mut tx = self.meta.begin_read().await?;
        let unknown = || CoreError::NotFound(format!("image {}:{tag}", r.path()));
        let t = tx.get_tag(repo.id, tag).await?.ok_or_else(unknown)?;
        let m = tx
            .get_manifest(repo.id, &t.digest)
            .await?
            .ok_or_else(unknown)?;
        image_info(tx.as_mut(), &t, &m).await
    }

    /// Repositories of an org (or of one team) the caller may see, by path.
    pub async fn list_repositories(
        &self,
        p: &Principal,
        org: &crate::names::OrgId,
        team: Option<&crate::names::TeamName>,
    ) -> Result<Vec<Repository>, CoreError> {
        let mut tx = self.meta.begin_read().await?;
        let repos = tx.list_repos(org).await?;
        Ok(repos
            .into_iter()
            .filter(|repo| team.is_none() || repo.team.as_ref() == team)
            .filter(|repo| {
                let target = crate::authz::Target::Artifact {
                    kind: arca_auth::ArtifactKind::Container,
                    org: &repo.org,
                    team: repo.team.as_ref(),
                    name: Some(repo.name.as_str()),
                };
                crate::authz::decide(
                    p,
                    crate::authz::Action::Artifact(ArtifactAction::List),
                    &target,
                )
                .is_allowed()
            })
            .collect())
    }

    /// Creates an empty repository with metadata (`POST /v2/{ot}/repos`).
    pub async fn create_repo(
        &self,
        p: &Principal,
        r: &RepoRef,
        patch: &RepoMetadataPatch,
    ) -> Result<Repository, CoreError> {
        self.allow_artifact(p, r, ArtifactAction::Create)?;
        let mut tx = self.meta.begin().await?;
        if tx
            .get_repo(&r.org, r.team.as_ref(), r.name.as_str())
            .await?
            .is_some()
        {
            return Err(CoreError::AlreadyExists(format!("repository {}", r.path())));
        }
        let mut repo = self
            .repo_for_push(tx.as_mut(), r)
            .await
            .map_err(rest_error)?;
        patch.apply(&mut repo.metadata)?;
        if patch.is_public.is_some() {
            return Err(CoreError::Forbidden(
                "set isPublic with an update, as a registry admin".into(),
            ));
        }
        tx.update_repo(&repo).await?;
        tx.commit().await?;
        Ok(repo)
    }

    /// Edits metadata (`PATCH /v2/{ot}/repos/{name}`); changing `isPublic` needs delete
    /// rights (registry admins and owners), everything else update rights.
    pub async fn update_repo(
        &self,
        p: &Principal,
        r: &RepoRef,
        patch: &RepoMetadataPatch,
    ) -> Result<Repository, CoreError> {
        let mut repo = self.repo_with(p, r, ArtifactAction::Update).await?;
        if let Some(public) = patch.is_public {
            self.allow_artifact(p, r, ArtifactAction::Delete)?;
            repo.public = public;
        }
        patch.apply(&mut repo.metadata)?;
        repo.updated_at = self.clock.now();
        let mut tx = self.meta.begin().await?;
        tx.update_repo(&repo).await?;
        tx.commit().await?;
        Ok(repo)
    }

    /// Removes a repository with all its tags and manifests (`DELETE /v2/{ot}/repos/{name}`).
    pub async fn remove_repo(&self, p: &Principal, r: &RepoRef) -> Result<(), CoreError> {
        let repo = self.repo_with(p, r, ArtifactAction::Delete).await?;
        let mut tx = self.meta.begin().await?;
        tx.delete_repo(repo.id).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Removes one tag (`DELETE /v2/{ot}/repos/{name}/images/{tag}`).
    pub async fn remove_tag(&self, p: &Principal, r: &RepoRef, tag: &str) -> Result<(), CoreError> {
        let repo = self.repo_with(p, r, ArtifactAction::Delete).await?;
        let mut tx = self.meta.begin().await?;
        tx.delete_tag(repo.id, tag)
            .await
            .map_err(|_| CoreError::NotFound(format!("image {}:{tag}", r.path())))?;
        tx.commit().await?;
        Ok(())
    }

    /// The repository, if the caller may do `action` on it; REST-style errors (404 hides).
    async fn repo_with(
        &self,
        p: &Principal,
        r: &RepoRef,
        action: ArtifactAction,
    ) -> Result<Repository, CoreError> {
        self.readable_repo(p, r, action).await.map_err(rest_error)
    }

    fn allow_artifact(
        &self,
        p: &Principal,
        r: &RepoRef,
        action: ArtifactAction,
    ) -> Result<(), CoreError> {
        self.allow(p, r, action, None).map_err(rest_error)
    }
}

/// Turns registry-coded errors into the REST API's plain kinds.
fn rest_error(e: CoreError) -> CoreError {
    match e {
        CoreError::Registry(api) => {
            let message = api
                .body()
                .errors
                .first()
                .map(|i| i.message.clone())
                .unwrap_or_default();
            match api.code() {
                Some(ErrorCode::Unauthorized) => CoreError::Unauthenticated(message),
                Some(ErrorCode::Denied) => CoreError::Forbidden(message),
                Some(ErrorCode::NameUnknown) => CoreError::NotFound(message),
                _ => CoreError::Invalid(message),
            }
        }
        other => other,
    }
}

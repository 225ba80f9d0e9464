//! The bridge between chart versions and Helm over OCI: one catalog, two protocols.
//!
//! - A manifest pushed through the registry whose config media type is Helm's
//!   ([`arca_helm::oci::CONFIG_MEDIA_TYPE`]) is a chart: before its transaction the registry
//!   calls `Arca::helm_chart_of_manifest` (reads and checks the chart layer, authorizes the
//!   chart), and inside it `Arca::record_oci_chart`, so the manifest and the chart version
//!   are stored together or not at all.
//! - A chart uploaded through the ChartMuseum API is written as the artifact `helm push` would
//!   have written (`ChartManifest`): the `Chart.yaml` JSON as config blob, the `.tgz` as the
//!   only layer, tagged with the version (`+` written `_`), in the repository of the same path.
//!
//! Removing a chart version or a chart (REST, ChartMuseum, CLI) removes its OCI tags in the
//! same transaction. The other way round, deleting a chart's manifest through the OCI API
//! (`DELETE …/manifests/<digest>`) removes the chart versions whose package it held, in the
//! same transaction. Deleting only a tag keeps the manifest, pullable by digest, and the chart
//! version (OCI semantics: a tag deletion removes only the tag).

use super::{chart_ids, ChartSource, Recorded, StoredPackage, EXTRA_PACKAGE_DIGEST};
use crate::artifacts::ArtifactRef;
use crate::authz::Principal;
use crate::error::CoreError;
use crate::model::{BlobRecord, ManifestRecord, TagRecord};
use crate::names::VersionId;
use crate::ports::{once_stream, MetadataTx};
use crate::registry::RepoRef;
use crate::Arca;
use arca_auth::{ArtifactAction, ArtifactKind};
use arca_helm::oci::{
    config_from_metadata, tag_for_version, CHART_LAYER_MEDIA_TYPE, CONFIG_MEDIA_TYPE,
};
use arca_oci::{Digest, ErrorCode, ParsedManifest, Reference};
use bytes::Bytes;
use chrono::{DateTime, Utc};
use futures::StreamExt;
use serde_json::json;

/// The Helm OCI artifact of a chart version uploaded through the ChartMuseum API.
#[derive(Debug, Clone)]
pub(crate) struct ChartManifest {
    config: Bytes,
    config_digest: Digest,
    manifest: Bytes,
    manifest_digest: Digest,
    parsed: ParsedManifest,
    tag: String,
}

impl ChartManifest {
    /// The config blob and manifest `helm push` would write for this package.
    pub(crate) fn build(p: &StoredPackage) -> Result<Self, CoreError> {
        let config = Bytes::from(config_from_metadata(&p.package.metadata));
        let config_digest = Digest::sha256_of(&config);
        let md = &p.package.metadata;
        let mut annotations = serde_json::Map::new();
        annotations.insert("org.opencontainers.image.title".into(), json!(md.name));
        annotations.insert("org.opencontainers.image.version".into(), json!(md.version));
        if !md.description.is_empty() {
            annotations.insert(
                "org.opencontainers.image.description".into(),
                json!(md.description),
            );
        }
        let manifest = json!({
            "schemaVersion": 2,
            "mediaType": arca_oci::media::OCI_IMAGE_MANIFEST,
            "config": {
                "mediaType": CONFIG_MEDIA_TYPE,
                "digest": config_digest.to_string(),
                "size": config.len(),
            },
            "layers": [{
                "mediaType": CHART_LAYER_MEDIA_TYPE,
                "digest": p.digest.to_string(),
                "size": p.size,
            }],
            "annotations": annotations,
        });
        let manifest = Bytes::from(
            serde_json::to_vec(&manifest).map_err(|e| CoreError::Invalid(e.to_string()))?,
        );
        let parsed = ParsedManifest::parse(Some(arca_oci::media::OCI_IMAGE_MANIFEST), &manifest)
            .map_err(|e| CoreError::Invalid(format!("chart OCI manifest: {e}")))?;
        Ok(Self {
            config_digest,
            config,
            manifest_digest: Digest::sha256_of(&manifest),
            manifest,
            parsed,
            tag: tag_for_version(&p.package.version),
        })
    }

    /// Stores the config blob and the manifest bytes (content-addressed; the `.tgz` is stored
    /// by the caller).
    pub(crate) async fn store_blobs(&self, arca: &Arca) -> Result<(), CoreError> {
        for (d, b) in [
            (&self.config_digest, &self.config),
            (&self.manifest_digest, &self.manifest),
        ] {
            arca.blobs
                .put(Some(d), Some(b.len() as u64), once_stream(b.clone()))
                .await?;
        }
        Ok(())
    }
}

/// A chart found in a manifest being pushed, checked and authorized.
#[derive(Debug, Clone)]
pub(crate) struct OciChart {
    r: ArtifactRef,
    stored: StoredPackage,
    created_by: Option<i64>,
}

fn invalid(message: impl Into<String>) -> CoreError {
    CoreError::registry(ErrorCode::ManifestInvalid, message)
}

fn repo_ref(r: &ArtifactRef) -> RepoRef {
    RepoRef {
        org: r.org.clone(),
        team: r.team.clone(),
        name: r.name.clone(),
    }
}

/// The principal deciding a chart push made through the registry. A registry token is scoped
/// to repositories; the registry has already checked that it allows a push to this one, and
/// pushing a chart to the repository `org/[team/]name` is uploading the chart of that path, so
/// the chart is decided on the key's own rights.
fn chart_principal(p: &Principal) -> Principal {
    match p {
        Principal::Key(k) if k.token_access.is_some() => {
            let mut k = k.clone();
            k.token_access = None;
            Principal::Key(k)
        }
        other => other.clone(),
    }
}

impl Arca {
    /// If `parsed` is a Helm chart manifest, reads its chart layer (which must be in the blob
    /// store), checks the package — name equal to the repository's last component, version
    /// equal to the tag — and the caller's right to upload (and, for a new chart, create) the
    /// chart. Errors are registry errors (`MANIFEST_INVALID`, `DENIED`).
    pub(crate) async fn helm_chart_of_manifest(
        &self,
        p: &Principal,
        rr: &RepoRef,
        reference: &Reference,
        parsed: &ParsedManifest,
    ) -> Result<Option<OciChart>, CoreError> {
        if parsed.config().map(|c| c.media_type()) != Some(CONFIG_MEDIA_TYPE) {
            return Ok(None);
        }
        let layers: Vec<_> = parsed
            .layers()
            .iter()
            .filter(|l| l.media_type() == CHART_LAYER_MEDIA_TYPE)
            .collect();
        let [layer] = layers.as_slice() else {
            return Err(invalid(format!(
                "a Helm chart manifest has exactly one layer of type {CHART_LAYER_MEDIA_TYPE}, \
                 this one has {}",
                layers.len()
            )));
        };
        if layer.size() > super::MAX_PACKAGE_BYTES {
            return Err(invalid(format!(
                "the chart package is {} bytes; at most {} are accepted",
                layer.size(),
                super::MAX_PACKAGE_BYTES
            )));
        }
        let digest = layer.digest().clone();
        let read = self.blobs.get(&digest, None).await.map_err(|e| match e {
            crate::ports::BlobError::NotFound(_) => CoreError::registry(
                ErrorCode::ManifestBlobUnknown,
                format!("blob {digest} is not in repository {}", rr.path()),
            ),
            other => other.into(),
        })?;
        let mut bytes = Vec::with_capacity(read.size.min(super::MAX_PACKAGE_BYTES) as usize);
        let mut body = read.body;
        while let Some(chunk) = body.next().await {
            let chunk = chunk
                .map_err(|e| CoreError::Blob(crate::ports::BlobError::Backend(e.to_string())))?;
            bytes.extend_from_slice(&chunk);
            if bytes.len() as u64 > super::MAX_PACKAGE_BYTES {
                return Err(invalid("the chart package is too large"));
            }
        }
        let package = super::check_package(&bytes).map_err(|e| invalid(e.to_string()))?;
        if package.name.as_str() != rr.name.as_str() {
            return Err(invalid(format!(
                "the chart is named {:?} but is pushed to repository {}; push it to a \
                 repository named after the chart",
                package.name.as_str(),
                rr.path()
            )));
        }
        if let Reference::Tag(tag) = reference {
            let expected = tag_for_version(&package.version);
            if tag.as_str() != expected {
                return Err(invalid(format!(
                    "the chart's version is {:?}, so its tag must be {expected:?}, not {:?}",
                    package.version.as_str(),
                    tag.as_str()
                )));
            }
        }
        let (name, _) = chart_ids(&package).map_err(|e| invalid(e.to_string()))?;
        let r = ArtifactRef {
            kind: ArtifactKind::HelmChart,
            org: rr.org.clone(),
            team: rr.team.clone(),
            name,
        };
        let cp = chart_principal(p);
        let existing = {
            let mut tx = self.meta.begin_read().await?;
            tx.get_artifact(r.kind, &r.org, r.team.as_ref(), r.name.as_str())
                .await?
        };
        let authorize = |action| {
            self.allow_on(&cp, &r, action, existing.as_ref())
                .map_err(|e| match e {
                    CoreError::Unauthenticated(m) => {
                        CoreError::registry(ErrorCode::Unauthorized, m)
                    }
                    other => CoreError::registry(
                        ErrorCode::Denied,
                        format!(
                            "pushing the Helm chart {} is not allowed: {other}",
                            r.path()
                        ),
                    ),
                })
        };
        authorize(ArtifactAction::Upload)?;
        if existing.is_none() {
            authorize(ArtifactAction::Create)?;
        }
        let size = bytes.len() as u64;
        Ok(Some(OciChart {
            r,
            stored: StoredPackage {
                package,
                digest,
                size,
            },
            created_by: crate::artifacts::user_id(p),
        }))
    }

    /// Records the chart of a pushed manifest inside the manifest's transaction. Pushing the
    /// same package again is a no-op; another package under an existing version is refused
    /// (409): chart versions are immutable.
    pub(crate) async fn record_oci_chart(
        &self,
        tx: &mut dyn MetadataTx,
        chart: &OciChart,
        now: DateTime<Utc>,
    ) -> Result<(), CoreError> {
        match self
            .record_chart_version(
                tx,
                &chart.r,
                &chart.stored,
                chart.created_by,
                now,
                ChartSource::Oci,
            )
            .await
        {
            Ok(Recorded::New(_) | Recorded::Same(_)) => Ok(()),
            Err(CoreError::AlreadyExists(what)) => Err(CoreError::Registry(
                arca_oci::ApiError::new(
                    ErrorCode::Denied,
                    format!("{what} already exists with another package; chart versions are immutable (delete it first)"),
                )
                .with_status(409),
            )),
            Err(CoreError::Invalid(m)) => Err(invalid(m)),
            Err(CoreError::NotFound(m)) => Err(CoreError::registry(ErrorCode::NameUnknown, m)),
            Err(other) => Err(other),
        }
    }

    /// Writes the Helm OCI artifact of an uploaded chart version inside the upload's
    /// transaction: blob records (counted in the org's image usage like any pushed blob), blob
    /// links, the manifest record and the tag. A tag of that name that already names other
    /// content is a conflict.
    pub(crate) async fn write_chart_oci(
        &self,
        tx: &mut dyn MetadataTx,
        r: &ArtifactRef,
        p: &StoredPackage,
        m: &ChartManifest,
        now: DateTime<Utc>,
    ) -> Result<(), CoreError> {
        let rr = repo_ref(r);
        let mut repo = self
            .repo_for_push(tx, &rr)
            .await
            .map_err(|e| CoreError::NotFound(e.to_string()))?;
        if let Some(t) = tx.get_tag(repo.id, &m.tag).await? {
            if t.digest != m.manifest_digest.as_str() {
                return Err(CoreError::AlreadyExists(format!(
                    "the OCI tag {}:{} (with other content)",
                    rr.path(),
                    m.tag
                )));
            }
        }
        let blobs = [
            (p.digest.as_str(), p.size),
            (m.config_digest.as_str(), m.config.len() as u64),
        ];
        for (d, size) in blobs {
            tx.insert_blob(&BlobRecord {
                digest: d.to_string(),
                size,
                created_at: now,
            })
            .await?;
            self.count_image_bytes(tx, &rr.org, d, size).await?;
            tx.link_blob(repo.id, d).await?;
        }
        let d = m.manifest_digest.to_string();
        let size = m.manifest.len() as u64;
        tx.insert_blob(&BlobRecord {
            digest: d.clone(),
            size,
            created_at: now,
        })
        .await?;
        self.count_image_bytes(tx, &rr.org, &d, size).await?;
        let parsed = &m.parsed;
        tx.put_manifest(&ManifestRecord {
            repo_id: repo.id,
            digest: d.clone(),
            media_type: parsed.media_type().to_string(),
            size,
            artifact_type: parsed.artifact_type().map(str::to_string),
            subject: None,
            blobs: blobs.iter().map(|(b, _)| b.to_string()).collect(),
            children: Vec::new(),
            blob_bytes: blobs.iter().map(|(_, s)| *s).sum(),
            annotations: serde_json::to_string(&parsed.annotations())
                .map_err(|e| CoreError::Invalid(e.to_string()))?,
            platforms: "[]".into(),
            created_at: now,
        })
        .await?;
        tx.put_tag(&TagRecord {
            repo_id: repo.id,
            name: m.tag.clone(),
            digest: d,
            updated_at: now,
        })
        .await?;
        repo.updated_at = now;
        tx.update_repo(&repo).await?;
        Ok(())
    }

    /// Removes, inside `tx`, the OCI tags of deleted chart versions — only tags that still
    /// name a manifest holding that version's package.
    pub(crate) async fn remove_chart_tags(
        &self,
        tx: &mut dyn MetadataTx,
        r: &ArtifactRef,
        versions: &[(VersionId, Digest)],
    ) -> Result<(), CoreError> {
        if versions.is_empty() {
            return Ok(());
        }
        let Some(repo) = tx
            .get_repo(&r.org, r.team.as_ref(), r.name.as_str())
            .await?
        else {
            return Ok(());
        };
        for (v, package) in versions {
            let Ok(cv) = v.as_str().parse::<arca_helm::ChartVersion>() else {
                continue;
            };
            let tag = tag_for_version(&cv);
            let Some(t) = tx.get_tag(repo.id, &tag).await? else {
                continue;
            };
            let holds = tx
                .get_manifest(repo.id, &t.digest)
                .await?
                .is_some_and(|m| m.blobs.iter().any(|b| b == package.as_str()));
            if holds {
                tx.delete_tag(repo.id, &tag).await?;
            }
        }
        Ok(())
    }
}

impl Arca {
    /// A manifest deleted through the OCI API takes the chart versions whose package it held
    /// with it (inside the deletion's transaction), unless another manifest of the repository
    /// still holds that package: the Helm repository never lists a chart the registry no
    /// longer serves.
    pub(crate) async fn forget_charts_of_manifest(
        &self,
        tx: &mut dyn MetadataTx,
        r: &RepoRef,
        repo_id: i64,
        deleted: &ManifestRecord,
    ) -> Result<(), CoreError> {
        let Some(mut artifact) = tx
            .get_artifact(
                ArtifactKind::HelmChart,
                &r.org,
                r.team.as_ref(),
                r.name.as_str(),
            )
            .await?
        else {
            return Ok(());
        };
        let now = self.clock.now();
        let others: Vec<ManifestRecord> = tx
            .list_manifests(repo_id)
            .await?
            .into_iter()
            .filter(|m| m.digest != deleted.digest)
            .collect();
        for v in tx.list_versions(artifact.id).await? {
            let Some(package) = package_digest(&v).map(str::to_string) else {
                continue;
            };
            let held = |m: &ManifestRecord| m.blobs.contains(&package);
            if held(deleted) && !others.iter().any(held) {
                self.drop_chart_version(tx, &mut artifact, &v, now).await?;
            }
        }
        Ok(())
    }
}

/// The package digest recorded for a version, for callers outside this module.
pub fn package_digest(v: &crate::model::ArtifactVersion) -> Option<&str> {
    v.metadata
        .extra
        .get(EXTRA_PACKAGE_DIGEST)
        .and_then(serde_json::Value::as_str)
}

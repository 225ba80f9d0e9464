//! Helm charts (R-HELM-1..4): chart packages, the Helm HTTP repository of an org or a team
//! (`index.yaml`, downloads), the ChartMuseum API and the bridge with Helm over OCI.
//!
//! A chart is an artifact of kind [`ArtifactKind::HelmChart`] (records, metadata, versions and
//! their listing are the generic use cases of [`crate::artifacts`]); a chart version is an
//! artifact version whose `metadata.extra` holds what Helm needs:
//!
//! - `chart`: the validated `Chart.yaml` (Helm's JSON form, as in an OCI config blob);
//! - `packageDigest` / `packageSize`: the `.tgz`, a blob of the blob store;
//! - `source`: `chartmuseum` or `oci`, how it arrived.
//!
//! The package's file list (the file browser) is not stored: the package is immutable and
//! bounded ([`MAX_PACKAGE_BYTES`], [`PackageLimits`]), so it is re-read when someone browses,
//! which keeps version rows small and `index.yaml` — built from those rows in one query, never
//! by listing blobs — fast.
//!
//! **Invariant**: chart versions change only through this module (upload, OCI push, delete),
//! and each change moves the chart's `updated_at` strictly forward ([`bump`]) in the same
//! transaction. The `index.yaml` ETag ([`ChartIndex`]) relies on it.
//!
//! The same chart version is reachable three ways: uploaded through the ChartMuseum API
//! ([`Arca::upload_chart`]) it is also written as a Helm OCI artifact (config blob, the `.tgz`
//! as layer, a manifest, the version as tag) so that `helm pull oci://…` finds it; pushed with
//! `helm push oci://…` it is recorded as a chart version by the registry ([`oci`]).

pub mod oci;

use crate::artifacts::{ArtifactRef, VersionView};
use crate::authz::{decide, Action, Decision, Principal, Target};
use crate::error::CoreError;
use crate::model::{
    Artifact, ArtifactVersion, BlobRecord, NewArtifact, NewArtifactVersion, VersionMetadata,
    VersionStatus,
};
use crate::names::{ArtifactName, OrgId, TeamName, VersionId};
use crate::ports::{BlobRead, MetadataTx, StoreError};
use crate::service::retry_conflicts;
use crate::Arca;
use arca_auth::{ArtifactAction, ArtifactKind};
use arca_helm::{
    read_package, ChartMetadata, ChartName, ChartPackage, ChartVersion, ChartVersionEntry,
    IndexFile, PackageFile, PackageLimits,
};
use arca_oci::Digest;
use bytes::Bytes;
use chrono::{DateTime, Utc};
use futures::StreamExt;
use serde::Deserialize as _;
use serde_json::Value;
use sha2::{Digest as _, Sha256};

/// Largest chart package (`.tgz`) accepted, in bytes (ChartMuseum's default upload limit).
pub const MAX_PACKAGE_BYTES: u64 = 20 * 1024 * 1024;

/// `metadata.extra` key of a chart version's `Chart.yaml` (JSON).
pub const EXTRA_CHART: &str = "chart";
/// `metadata.extra` key of the package digest (`sha256:<hex>`).
pub const EXTRA_PACKAGE_DIGEST: &str = "packageDigest";
/// `metadata.extra` key of the package size in bytes.
pub const EXTRA_PACKAGE_SIZE: &str = "packageSize";
/// `metadata.extra` key of how the version arrived (`chartmuseum` or `oci`).
pub const EXTRA_SOURCE: &str = "source";

/// A Helm repository: the charts of an org (org level only) or of one team.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChartRepo {
    /// Org.
    pub org: OrgId,
    /// Team, for a team's repository.
    pub team: Option<TeamName>,
}

impl ChartRepo {
    /// `org` or `org/team`.
    pub fn path(&self) -> String {
        match &self.team {
            Some(t) => format!("{}/{t}", self.org),
            None => self.org.to_string(),
        }
    }

    /// The chart `name` in this repository.
    pub fn chart(&self, name: ArtifactName) -> ArtifactRef {
        ArtifactRef {
            kind: ArtifactKind::HelmChart,
            org: self.org.clone(),
            team: self.team.clone(),
            name,
        }
    }

    fn collection(&self) -> Target<'_> {
        Target::Artifact {
            kind: ArtifactKind::HelmChart,
            org: &self.org,
            team: self.team.as_ref(),
            name: None,
        }
    }
}

/// How a chart version arrived.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChartSource {
    /// Through the ChartMuseum API (or `arca registry chart push`).
    ChartMuseum,
    /// Through `helm push oci://…`.
    Oci,
}

impl ChartSource {
    fn as_str(self) -> &'static str {
        match self {
            ChartSource::ChartMuseum => "chartmuseum",
            ChartSource::Oci => "oci",
        }
    }
}

/// A checked package whose bytes are in the blob store.
#[derive(Debug, Clone)]
pub(crate) struct StoredPackage {
    pub(crate) package: ChartPackage,
    pub(crate) digest: Digest,
    pub(crate) size: u64,
}

/// Reads and checks a package (limits, paths, `Chart.yaml`); the message says what is wrong.
pub fn check_package(body: &[u8]) -> Result<ChartPackage, CoreError> {
    if body.len() as u64 > MAX_PACKAGE_BYTES {
        return Err(CoreError::Invalid(format!(
            "chart package is {} bytes; at most {MAX_PACKAGE_BYTES} are accepted",
            body.len()
        )));
    }
    read_package(body, &PackageLimits::default()).map_err(|e| CoreError::Invalid(e.to_string()))
}

/// The artifact name and version id of a package's chart.
pub(crate) fn chart_ids(package: &ChartPackage) -> Result<(ArtifactName, VersionId), CoreError> {
    let name = ArtifactName::new(package.name.as_str()).map_err(|e| {
        CoreError::Invalid(format!(
            "chart name {:?} cannot be stored: {e}",
            package.name.as_str()
        ))
    })?;
    let version = VersionId::new(package.version.as_str()).map_err(|e| {
        CoreError::Invalid(format!(
            "chart version {:?} cannot be stored: {e}",
            package.version.as_str()
        ))
    })?;
    Ok((name, version))
}

/// What recording a version did.
#[derive(Debug, Clone)]
pub(crate) enum Recorded {
    /// A new version.
    New(VersionView),
    /// The version existed with the same package (an idempotent re-push).
    Same(VersionView),
}

/// A chart version as Helm sees it.
#[derive(Debug, Clone)]
pub struct ChartVersionRow {
    /// Chart name.
    pub name: String,
    /// The version record.
    pub version: ArtifactVersion,
}

impl ChartVersionRow {
    /// The package digest (`sha256:<hex>`), if recorded.
    pub fn package_digest(&self) -> Option<&str> {
        self.version
            .metadata
            .extra
            .get(EXTRA_PACKAGE_DIGEST)
            .and_then(Value::as_str)
    }

    /// The `index.yaml` entry of this version.
    pub fn entry(&self) -> Result<ChartVersionEntry, CoreError> {
        let corrupt = |what: &str| {
            CoreError::Store(StoreError::Corrupt(format!(
                "chart version {}:{} {what}",
                self.name, self.version.version
            )))
        };
        let chart = self
            .version
            .metadata
            .extra
            .get(EXTRA_CHART)
            .ok_or_else(|| corrupt("has no Chart.yaml"))?;
        let metadata = ChartMetadata::deserialize(chart)
            .map_err(|e| corrupt(&format!("has a bad Chart.yaml: {e}")))?;
        let digest = self
            .package_digest()
            .and_then(|d| Digest::parse(d).ok())
            .ok_or_else(|| corrupt("has no package digest"))?;
        Ok(ChartVersionEntry {
            urls: vec![package_url(&self.name, self.version.version.as_str())],
            created: self.version.created_at,
            digest: digest.hex().to_string(),
            metadata,
        })
    }
}

/// The relative URL of a package in a Helm repository (`charts/<name>-<version>.tgz`).
pub fn package_url(name: &str, version: &str) -> String {
    format!("charts/{name}-{version}.tgz")
}

/// The charts a caller sees in a Helm repository, with the ETag of their `index.yaml`.
///
/// The ETag is a hash of the visible charts' ids, names and `updated_at` — one cheap query,
/// so a conditional request that matches loads no version and renders nothing. It is exact
/// because every change of a chart's versions goes through this module and moves the chart's
/// `updated_at` forward (strictly: [`bump`]) in the same transaction; it is the same on every
/// replica because it is computed from the metadata store alone. The versions are loaded only
/// for a full answer ([`Arca::chart_index_file`]).
#[derive(Debug, Clone)]
pub struct ChartIndex {
    /// Strong ETag (quoted).
    pub etag: String,
    /// The visible charts, by name.
    charts: Vec<Artifact>,
    org: OrgId,
}

impl ChartIndex {
    fn new(org: OrgId, mut charts: Vec<Artifact>) -> Self {
        charts.sort_by(|a, b| a.name.cmp(&b.name));
        let mut h = Sha256::new();
        h.update(b"arca-helm-index-2\0");
        h.update(env!("CARGO_PKG_VERSION").as_bytes());
        for a in &charts {
            h.update(b"\n");
            h.update(a.id.to_be_bytes());
            h.update(a.name.as_str().as_bytes());
            h.update(b"\0");
            h.update(a.updated_at.timestamp_micros().to_be_bytes());
        }
        ChartIndex {
            etag: format!("\"{}\"", hex::encode(h.finalize())),
            charts,
            org,
        }
    }

    /// Number of visible charts.
    pub fn chart_count(&self) -> usize {
        self.charts.len()
    }
}

/// The next `updated_at` of a chart whose versions change: now, but strictly after the
/// previous value (at the microsecond precision of the stores), so that the index ETag moves
/// even when two changes share a clock reading.
pub fn bump(previous: DateTime<Utc>, now: DateTime<Utc>) -> DateTime<Utc> {
    let micros = |t: DateTime<Utc>| t.timestamp_micros();
    let next = micros(now).max(micros(previous).saturating_add(1));
    DateTime::from_timestamp_micros(next).unwrap_or(now)
}

/// A package to send.
pub struct PackageDownload {
    /// File name (`<name>-<version>.tgz`).
    pub file_name: String,
    /// The package digest.
    pub digest: Digest,
    /// The bytes.
    pub read: BlobRead,
}

impl std::fmt::Debug for PackageDownload {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PackageDownload")
            .field("file_name", &self.file_name)
            .field("digest", &self.digest)
            .finish_non_exhaustive()
    }
}

/// The ways `<name>-<version>` can be split into a chart name and a version (a chart name has
/// no `.`, a version starts with digits or `v`, so there is rarely more than one).
pub fn split_package_file(stem: &str) -> Vec<(ChartName, ChartVersion)> {
    stem.match_indices('-')
        .filter_map(|(i, _)| {
            let name = stem[..i].parse::<ChartName>().ok()?;
            let version = stem[i + 1..].parse::<ChartVersion>().ok()?;
            Some((name, version))
        })
        .collect()
}

fn semver_of(v: &VersionId) -> Option<ChartVersion> {
    v.as_str().parse().ok()
}

/// The version metadata of a chart version.
fn version_metadata(p: &StoredPackage, source: ChartSource) -> VersionMetadata {
    let mut m = VersionMetadata {
        description: Some(p.package.metadata.description.clone()).filter(|d| !d.is_empty()),
        ..VersionMetadata::default()
    };
    m.extra.insert(
        EXTRA_CHART.into(),
        serde_json::to_value(&p.package.metadata).unwrap_or(Value::Null),
    );
    m.extra.insert(
        EXTRA_PACKAGE_DIGEST.into(),
        Value::String(p.digest.to_string()),
    );
    m.extra
        .insert(EXTRA_PACKAGE_SIZE.into(), Value::from(p.size));
    m.extra
        .insert(EXTRA_SOURCE.into(), Value::String(source.as_str().into()));
    m
}

/// A README as the chart's overview, cut to the longest text field the metadata accepts.
fn overview(readme: &str) -> String {
    let max = crate::artifacts::MAX_TEXT_FIELD;
    if readme.len() <= max {
        return readme.to_string();
    }
    let mut end = max;
    while !readme.is_char_boundary(end) {
        end -= 1;
    }
    readme[..end].to_string()
}

fn not_found(r: &ArtifactRef, v: &str) -> CoreError {
    CoreError::NotFound(format!("chart version {}:{v}", r.path()))
}

impl Arca {
    /// Records a checked, stored package as a version of chart `r` inside `tx`: creates the
    /// chart record when absent (short description from `Chart.yaml`), the version
    /// (`UPLOAD_COMPLETE`) and the blob link, and moves the latest version (highest SemVer).
    /// An existing version with the same package is [`Recorded::Same`]; with another package
    /// it is [`CoreError::AlreadyExists`].
    pub(crate) async fn record_chart_version(
        &self,
        tx: &mut dyn MetadataTx,
        r: &ArtifactRef,
        p: &StoredPackage,
        created_by: Option<i64>,
        now: DateTime<Utc>,
        source: ChartSource,
    ) -> Result<Recorded, CoreError> {
        let (_, version_id) = chart_ids(&p.package)?;
        let mut artifact = match tx
            .get_artifact(r.kind, &r.org, r.team.as_ref(), r.name.as_str())
            .await?
        {
            Some(a) => a,
            None => {
                if tx.get_org(&r.org).await?.is_none() {
                    return Err(CoreError::NotFound(format!("org {}", r.org)));
                }
                if let Some(t) = &r.team {
                    if tx.get_team(&r.org, t).await?.is_none() {
                        return Err(CoreError::NotFound(format!("team {}/{t}", r.org)));
                    }
                }
                let md = &p.package.metadata;
                let short = if md.description.trim().is_empty() {
                    format!("Helm chart {}", md.name)
                } else {
                    md.description.chars().take(1000).collect()
                };
                tx.insert_artifact(&NewArtifact {
                    kind: ArtifactKind::HelmChart,
                    org: r.org.clone(),
                    team: r.team.clone(),
                    name: r.name.clone(),
                    metadata: crate::model::ArtifactMetadata {
                        short_description: Some(short),
                        ..Default::default()
                    },
                    public: false,
                    created_by,
                    created_at: now,
                })
                .await?
            }
        };
        if let Some(existing) = tx.get_version(artifact.id, version_id.as_str()).await? {
            let same = existing
                .metadata
                .extra
                .get(EXTRA_PACKAGE_DIGEST)
                .and_then(Value::as_str)
                == Some(p.digest.as_str());
            if same {
                return Ok(Recorded::Same(VersionView {
                    artifact,
                    version: existing,
                }));
            }
            return Err(CoreError::AlreadyExists(format!(
                "chart version {}:{version_id}",
                r.path()
            )));
        }
        let version = tx
            .insert_version(&NewArtifactVersion {
                artifact_id: artifact.id,
                version: version_id.clone(),
                status: VersionStatus::UploadComplete,
                metadata: version_metadata(p, source),
                created_by,
                created_at: now,
            })
            .await?;
        let mut version = version;
        version.file_count = p.package.files.len() as u64;
        version.total_size = p.package.total_file_size();
        tx.update_version(&version).await?;
        tx.insert_blob(&BlobRecord {
            digest: p.digest.to_string(),
            size: p.size,
            created_at: now,
        })
        .await?;
        tx.add_artifact_blob(artifact.id, p.digest.as_str(), p.size)
            .await?;
        let newer = match artifact.latest_version.as_ref().and_then(semver_of) {
            Some(current) => p.package.version > current,
            None => true,
        };
        if newer {
            artifact.latest_version = Some(version_id);
        }
        if artifact.metadata.description.is_none() {
            artifact.metadata.description = p.package.readme.as_deref().map(overview);
        }
        artifact.updated_at = bump(artifact.updated_at, now);
        tx.update_artifact(&artifact).await?;
        Ok(Recorded::New(VersionView { artifact, version }))
    }

    /// Uploads a chart package (ChartMuseum `POST /api/<org>[/<team>]/charts`, `arca registry
    /// chart push`): checks it (gzip, paths, limits, `Chart.yaml`; when `expected` is given,
    /// that name and version), stores the `.tgz`, records the version — creating the chart
    /// record when absent, which needs create rights — and writes the Helm OCI artifact, all
    /// metadata in one transaction. A bad package stores nothing.
    pub async fn upload_chart(
        &self,
        p: &Principal,
        repo: &ChartRepo,
        body: Bytes,
        expected: Option<(&str, &str)>,
    ) -> Result<VersionView, CoreError> {
        let package = check_package(&body)?;
        if let Some((name, version)) = expected {
            if package.name.as_str() != name {
                return Err(CoreError::Invalid(format!(
                    "Chart.yaml name {:?} does not match the target chart {name:?}",
                    package.name.as_str()
                )));
            }
            if package.version.as_str() != version {
                return Err(CoreError::Invalid(format!(
                    "Chart.yaml version {:?} does not match the target version {version:?}",
                    package.version.as_str()
                )));
            }
        }
        let (name, _) = chart_ids(&package)?;
        let r = repo.chart(name);
        let existing = {
            let mut tx = self.meta.begin_read().await?;
            tx.get_artifact(r.kind, &r.org, r.team.as_ref(), r.name.as_str())
                .await?
        };
        self.allow_on(p, &r, ArtifactAction::Upload, existing.as_ref())?;
        if existing.is_none() {
            self.allow_on(p, &r, ArtifactAction::Create, None)?;
        }
        let digest = Digest::sha256_of(&body);
        let size = body.len() as u64;
        self.blobs
            .put(Some(&digest), Some(size), crate::ports::once_stream(body))
            .await?;
        let stored = StoredPackage {
            package,
            digest,
            size,
        };
        let mirror = oci::ChartManifest::build(&stored)?;
        mirror.store_blobs(self).await?;
        let now = self.clock.now();
        let created_by = crate::artifacts::user_id(p);
        retry_conflicts(|| async {
            let mut tx = self.meta.begin().await?;
            let view = match self
                .record_chart_version(
                    tx.as_mut(),
                    &r,
                    &stored,
                    created_by,
                    now,
                    ChartSource::ChartMuseum,
                )
                .await?
            {
                Recorded::New(v) => v,
                Recorded::Same(v) => {
                    return Err(CoreError::AlreadyExists(format!(
                        "chart version {}:{}",
                        r.path(),
                        v.version.version
                    )))
                }
            };
            self.write_chart_oci(tx.as_mut(), &r, &stored, &mirror, now)
                .await?;
            tx.commit().await?;
            Ok(view)
        })
        .await
    }

    /// The charts of a Helm repository that the caller may see (`index.yaml`, ChartMuseum
    /// listings), with the index's ETag: the repository's own charts only — a team's charts
    /// are not in the org's repository, nor in another team's. Anonymous callers see public
    /// charts; when there are none they must authenticate (401), and a caller who may not see
    /// the repository gets 404.
    pub async fn chart_index(
        &self,
        p: &Principal,
        repo: &ChartRepo,
    ) -> Result<ChartIndex, CoreError> {
        let mut tx = self.meta.begin_read().await?;
        let exists = match &repo.team {
            None => tx.get_org(&repo.org).await?.is_some(),
            Some(t) => tx.get_team(&repo.org, t).await?.is_some(),
        };
        let charts: Vec<Artifact> = if exists {
            tx.list_artifacts(ArtifactKind::HelmChart, &repo.org)
                .await?
                .into_iter()
                .filter(|a| a.team == repo.team)
                .filter(|a| {
                    self.allow_on(p, &ArtifactRef::of(a), ArtifactAction::List, Some(a))
                        .is_ok()
                })
                .collect()
        } else {
            Vec::new()
        };
        if charts.is_empty() {
            match decide(
                p,
                Action::Artifact(ArtifactAction::List),
                &repo.collection(),
            ) {
                Decision::Allowed if exists => {}
                Decision::Unauthenticated => {
                    return Err(CoreError::Unauthenticated(
                        "authentication required: use the username $oauthtoken and an API key"
                            .into(),
                    ))
                }
                Decision::Denied(why) if exists => return Err(CoreError::Forbidden(why)),
                _ => {
                    return Err(CoreError::NotFound(format!(
                        "Helm repository {}",
                        repo.path()
                    )))
                }
            }
        }
        Ok(ChartIndex::new(repo.org.clone(), charts))
    }

    /// The complete versions of the charts of `index` (one query for the org's chart versions,
    /// never a look at the blob store), as Helm's index model, versions newest first; its
    /// `generated` is the newest version's creation, so equal content gives equal bytes. A
    /// version with corrupt stored data is left out (and logged) rather than breaking the
    /// whole repository.
    pub async fn chart_index_file(&self, index: &ChartIndex) -> Result<IndexFile, CoreError> {
        if index.charts.is_empty() {
            return Ok(IndexFile::new(DateTime::UNIX_EPOCH));
        }
        let names: std::collections::HashMap<i64, &Artifact> =
            index.charts.iter().map(|a| (a.id, a)).collect();
        let versions = {
            let mut tx = self.meta.begin_read().await?;
            tx.list_org_versions(ArtifactKind::HelmChart, &index.org)
                .await?
        };
        let mut generated = DateTime::UNIX_EPOCH;
        let mut entries = Vec::with_capacity(versions.len());
        for v in versions {
            if v.status != VersionStatus::UploadComplete {
                continue;
            }
            let Some(a) = names.get(&v.artifact_id) else {
                continue;
            };
            let row = ChartVersionRow {
                name: a.name.to_string(),
                version: v,
            };
            match row.entry() {
                Ok(e) => {
                    generated = generated.max(e.created);
                    entries.push(e);
                }
                Err(e) => tracing::error!(error = %e, "chart version left out of index.yaml"),
            }
        }
        Ok(IndexFile::from_entries(entries, generated))
    }

    /// One chart version with its stored package digest, for a caller allowed `action`.
    async fn chart_version_for(
        &self,
        p: &Principal,
        r: &ArtifactRef,
        v: &VersionId,
        action: ArtifactAction,
    ) -> Result<(VersionView, Digest), CoreError> {
        let artifact = self.artifact_for(p, r, action).await?;
        let version = {
            let mut tx = self.meta.begin_read().await?;
            tx.get_version(artifact.id, v.as_str()).await?
        }
        .filter(|x| x.status == VersionStatus::UploadComplete)
        .ok_or_else(|| not_found(r, v.as_str()))?;
        let digest = version
            .metadata
            .extra
            .get(EXTRA_PACKAGE_DIGEST)
            .and_then(Value::as_str)
            .and_then(|d| Digest::parse(d).ok())
            .ok_or_else(|| not_found(r, v.as_str()))?;
        Ok((VersionView { artifact, version }, digest))
    }

    /// A package by its file name in a Helm repository (`GET /<org>[/<team>]/charts/<file>`);
    /// anonymous callers may download public charts.
    pub async fn chart_package(
        &self,
        p: &Principal,
        repo: &ChartRepo,
        file_name: &str,
    ) -> Result<PackageDownload, CoreError> {
        let missing = || CoreError::NotFound(format!("chart package {}/{file_name}", repo.path()));
        let stem = file_name.strip_suffix(".tgz").ok_or_else(missing)?;
        let mut last = missing();
        for (name, version) in split_package_file(stem) {
            let (Ok(name), Ok(v)) = (
                ArtifactName::new(name.as_str()),
                VersionId::new(version.as_str()),
            ) else {
                continue;
            };
            let r = repo.chart(name);
            match self
                .chart_version_for(p, &r, &v, ArtifactAction::Download)
                .await
            {
                Ok((_, digest)) => {
                    let read = self.blobs.get(&digest, None).await?;
                    return Ok(PackageDownload {
                        file_name: file_name.to_string(),
                        digest,
                        read,
                    });
                }
                Err(e @ CoreError::NotFound(_)) => last = e,
                Err(e @ CoreError::Unauthenticated(_)) => last = e,
                Err(other) => return Err(other),
            }
        }
        Err(last)
    }

    /// A chart version's package (`arca registry chart pull`): the latest version when `v` is
    /// `None`.
    pub async fn chart_version_package(
        &self,
        p: &Principal,
        r: &ArtifactRef,
        v: Option<&VersionId>,
    ) -> Result<PackageDownload, CoreError> {
        let v = match v {
            Some(v) => v.clone(),
            None => self
                .artifact_for(p, r, ArtifactAction::Download)
                .await?
                .latest_version
                .ok_or_else(|| CoreError::NotFound(format!("a version of chart {}", r.path())))?,
        };
        let (_, digest) = self
            .chart_version_for(p, r, &v, ArtifactAction::Download)
            .await?;
        let read = self.blobs.get(&digest, None).await?;
        Ok(PackageDownload {
            file_name: format!("{}-{v}.tgz", r.name),
            digest,
            read,
        })
    }

    /// The files of a chart version's package (the file browser), read from the package.
    pub async fn chart_files(
        &self,
        p: &Principal,
        r: &ArtifactRef,
        v: &VersionId,
    ) -> Result<(VersionView, Vec<PackageFile>), CoreError> {
        let (view, digest) = self
            .chart_version_for(p, r, v, ArtifactAction::View)
            .await?;
        let read = self.blobs.get(&digest, None).await?;
        if read.size > MAX_PACKAGE_BYTES {
            return Err(CoreError::Invalid(format!(
                "chart package {digest} is larger than {MAX_PACKAGE_BYTES} bytes"
            )));
        }
        let mut bytes = Vec::with_capacity(read.size as usize);
        let mut body = read.body;
        while let Some(chunk) = body.next().await {
            let chunk = chunk
                .map_err(|e| CoreError::Blob(crate::ports::BlobError::Backend(e.to_string())))?;
            bytes.extend_from_slice(&chunk);
        }
        let package = read_package(&bytes, &PackageLimits::default()).map_err(|e| {
            CoreError::Store(StoreError::Corrupt(format!("stored chart package: {e}")))
        })?;
        Ok((view, package.files))
    }

    /// Removes one chart version (REST, ChartMuseum `DELETE`, `arca registry chart remove`)
    /// and its OCI tag, in one transaction; the latest version moves to the highest remaining
    /// one and the chart's `updated_at` moves forward (the index ETag changes).
    pub async fn delete_chart_version(
        &self,
        p: &Principal,
        r: &ArtifactRef,
        v: &VersionId,
    ) -> Result<(), CoreError> {
        let (_, digest) = self
            .chart_version_for(p, r, v, ArtifactAction::Delete)
            .await?;
        let now = self.clock.now();
        retry_conflicts(|| async {
            let mut tx = self.meta.begin().await?;
            let mut artifact = tx
                .get_artifact(r.kind, &r.org, r.team.as_ref(), r.name.as_str())
                .await?
                .ok_or_else(|| not_found(r, v.as_str()))?;
            let version = tx
                .get_version(artifact.id, v.as_str())
                .await?
                .ok_or_else(|| not_found(r, v.as_str()))?;
            self.drop_chart_version(tx.as_mut(), &mut artifact, &version, now)
                .await?;
            self.remove_chart_tags(tx.as_mut(), r, &[(v.clone(), digest.clone())])
                .await?;
            tx.commit().await?;
            Ok(())
        })
        .await
    }

    /// Deletes one version inside `tx`: the latest moves to the highest remaining complete
    /// version and the chart's `updated_at` moves strictly forward (the index ETag changes).
    pub(crate) async fn drop_chart_version(
        &self,
        tx: &mut dyn MetadataTx,
        artifact: &mut crate::model::Artifact,
        version: &crate::model::ArtifactVersion,
        now: DateTime<Utc>,
    ) -> Result<(), CoreError> {
        tx.delete_version(version.id).await?;
        if artifact.latest_version.as_ref() == Some(&version.version) {
            artifact.latest_version = tx
                .list_versions(artifact.id)
                .await?
                .into_iter()
                .filter(|x| x.status == VersionStatus::UploadComplete)
                .filter_map(|x| semver_of(&x.version).map(|s| (s, x.version)))
                .max_by(|a, b| a.0.cmp(&b.0))
                .map(|(_, id)| id);
        }
        artifact.updated_at = bump(artifact.updated_at, now);
        tx.update_artifact(artifact).await?;
        Ok(())
    }

    /// Removes a chart with all its versions and their OCI tags, in one transaction.
    pub async fn delete_chart(&self, p: &Principal, r: &ArtifactRef) -> Result<(), CoreError> {
        self.artifact_for(p, r, ArtifactAction::Delete).await?;
        retry_conflicts(|| async {
            let mut tx = self.meta.begin().await?;
            let artifact = tx
                .get_artifact(r.kind, &r.org, r.team.as_ref(), r.name.as_str())
                .await?
                .ok_or_else(|| CoreError::NotFound(format!("chart {}", r.path())))?;
            let tags: Vec<(VersionId, Digest)> = tx
                .list_versions(artifact.id)
                .await?
                .into_iter()
                .filter_map(|v| {
                    let d = v
                        .metadata
                        .extra
                        .get(EXTRA_PACKAGE_DIGEST)
                        .and_then(Value::as_str)
                        .and_then(|d| Digest::parse(d).ok())?;
                    Some((v.version, d))
                })
                .collect();
            tx.delete_artifact(artifact.id).await?;
            self.remove_chart_tags(tx.as_mut(), r, &tags).await?;
            tx.commit().await?;
            Ok(())
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn package_file_names_split_into_name_and_version() {
        let s = |x: &str| -> Vec<(String, String)> {
            split_package_file(x)
                .into_iter()
                .map(|(n, v)| (n.to_string(), v.to_string()))
                .collect()
        };
        assert_eq!(s("demo-0.1.0"), [("demo".into(), "0.1.0".into())]);
        assert_eq!(
            s("my-chart-1.0.0-rc.1"),
            [("my-chart".into(), "1.0.0-rc.1".into())]
        );
        assert_eq!(
            s("app-2-v1.2.3+b.1"),
            [("app-2".into(), "v1.2.3+b.1".into())]
        );
        assert!(s("nochart").is_empty());
        assert!(s("-1.0.0").is_empty());
        assert!(s("x-1.0").is_empty());
    }

    #[test]
    fn long_readmes_are_cut_on_a_character_boundary() {
        let max = crate::artifacts::MAX_TEXT_FIELD;
        assert_eq!(overview("# Demo"), "# Demo");
        let long = "é".repeat(max);
        let cut = overview(&long);
        assert!(cut.len() <= max && cut.len() + 2 > max);
        assert!(cut.chars().all(|c| c == 'é'));
    }

    #[test]
    fn bumps_move_strictly_forward_at_microsecond_precision() {
        let t = DateTime::from_timestamp_micros(1_700_000_000_000_000).unwrap();
        assert_eq!(bump(t, t).timestamp_micros(), t.timestamp_micros() + 1);
        let later = t + chrono::Duration::seconds(5);
        assert_eq!(bump(t, later), later);
        let earlier = t - chrono::Duration::seconds(5);
        assert!(bump(t, earlier) > t);
    }

    #[test]
    fn urls_are_relative_to_the_repository() {
        assert_eq!(package_url("demo", "0.1.0"), "charts/demo-0.1.0.tgz");
    }
}

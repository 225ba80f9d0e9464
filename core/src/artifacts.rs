//! Models, resources and Helm charts as records with versions (R-MOD-1..5, R-HELM-1): the use
//! cases shared by the three kinds — create, read, list with wildcards, edit, delete, and the
//! versions with their metadata, status and files. Transfers of version files live in
//! [`crate::transfer`]; chart packages in [`crate::charts`].
//!
//! Visibility follows the container rules: a caller who may not see an artifact gets
//! [`CoreError::NotFound`]; a version still being uploaded is visible only to callers who may
//! upload (R-MOD-3), so readers never see half a version.

use crate::authz::{decide, Action, Decision, Principal, Target};
use crate::error::CoreError;
use crate::model::{
    Artifact, ArtifactMetadata, ArtifactVersion, MetricsTable, NewArtifact, NewArtifactVersion,
    VersionFile, VersionMetadata, VersionStatus,
};
use crate::names::{ArtifactName, OrgId, TeamName, VersionId};
use crate::service::retry_conflicts;
use crate::Arca;
use arca_auth::{ArtifactAction, ArtifactKind};
use serde_json::{Map, Value};

/// At most this many custom metrics tables per version (R-MOD-2).
pub const MAX_METRICS_TABLES: usize = 3;
/// At most this many key/value pairs per metrics table (R-MOD-2).
pub const MAX_METRICS_PAIRS: usize = 12;
/// Longest free-text field (overviews and documents are Markdown).
pub const MAX_TEXT_FIELD: usize = 1024 * 1024;
/// Longest short field (names, short descriptions, URLs, labels).
pub const MAX_SHORT_FIELD: usize = 4096;
/// At most this many labels or attributes.
pub const MAX_LIST_ITEMS: usize = 100;

/// An artifact of one kind at `org/[team/]name`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArtifactRef {
    /// `Model`, `Resource` or `HelmChart`.
    pub kind: ArtifactKind,
    /// Org.
    pub org: OrgId,
    /// Team, for team artifacts.
    pub team: Option<TeamName>,
    /// Name.
    pub name: ArtifactName,
}

impl ArtifactRef {
    /// `org/[team/]name`.
    pub fn path(&self) -> String {
        match &self.team {
            Some(t) => format!("{}/{}/{}", self.org, t, self.name),
            None => format!("{}/{}", self.org, self.name),
        }
    }

    /// The authorization target.
    pub fn target(&self) -> Target<'_> {
        Target::Artifact {
            kind: self.kind,
            org: &self.org,
            team: self.team.as_ref(),
            name: Some(self.name.as_str()),
        }
    }

    /// The reference of a stored artifact.
    pub fn of(a: &Artifact) -> Self {
        Self {
            kind: a.kind,
            org: a.org.clone(),
            team: a.team.clone(),
            name: a.name.clone(),
        }
    }

    fn noun(&self) -> &'static str {
        kind_noun(self.kind)
    }
}

/// The word for a kind in messages.
pub fn kind_noun(kind: ArtifactKind) -> &'static str {
    match kind {
        ArtifactKind::Model => "model",
        ArtifactKind::Resource => "resource",
        ArtifactKind::HelmChart => "chart",
        ArtifactKind::Container => "repository",
        ArtifactKind::Collection => "collection",
    }
}

/// A partial update of an artifact: the metadata fields present in `fields` (camelCase names of
/// [`ArtifactMetadata`]; `null` clears a field) replace the stored ones; `public` changes the
/// public flag (admins only).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ArtifactPatch {
    /// Metadata fields to set.
    pub fields: Map<String, Value>,
    /// New public flag.
    pub public: Option<bool>,
}

/// Merges `fields` into the JSON form of `current` and reads the result back, rejecting unknown
/// field names and values of the wrong type with a message that names the field.
fn merge_json<T>(current: &T, fields: &Map<String, Value>, what: &str) -> Result<T, CoreError>
where
    T: serde::Serialize + serde::de::DeserializeOwned + Default,
{
    let known = match serde_json::to_value(T::default()) {
        Ok(Value::Object(m)) => m,
        _ => Map::new(),
    };
    let mut merged = match serde_json::to_value(current) {
        Ok(Value::Object(m)) => m,
        _ => Map::new(),
    };
    for (k, v) in fields {
        if !known.contains_key(k) {
            let mut names: Vec<&String> = known.keys().collect();
            names.sort();
            return Err(CoreError::Invalid(format!(
                "unknown {what} field '{}'; known fields: {}",
                crate::names::shown(k),
                names
                    .iter()
                    .map(|s| s.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )));
        }
        // `null` resets a field to its empty value.
        let v = if v.is_null() {
            known.get(k).cloned().unwrap_or(Value::Null)
        } else {
            v.clone()
        };
        // Each field is checked alone first, so that a type error names its field.
        let mut probe = Map::new();
        probe.insert(k.clone(), v.clone());
        serde_json::from_value::<T>(Value::Object(probe))
            .map_err(|e| CoreError::Invalid(format!("{what} field '{k}': {e}")))?;
        merged.insert(k.clone(), v);
    }
    serde_json::from_value(Value::Object(merged))
        .map_err(|e| CoreError::Invalid(format!("{what}: {e}")))
}

fn check_len(field: &str, value: &Option<String>, max: usize) -> Result<(), CoreError> {
    match value {
        Some(s) if s.len() > max => Err(CoreError::Invalid(format!(
            "{field} is {} bytes long; at most {max} are allowed",
            s.len()
        ))),
        _ => Ok(()),
    }
}

fn check_list(field: &str, items: &[String]) -> Result<(), CoreError> {
    if items.len() > MAX_LIST_ITEMS {
        return Err(CoreError::Invalid(format!(
            "{field} has {} entries; at most {MAX_LIST_ITEMS} are allowed",
            items.len()
        )));
    }
    for i in items {
        check_len(field, &Some(i.clone()), MAX_SHORT_FIELD)?;
    }
    Ok(())
}

/// Checks the sizes of an artifact's metadata.
pub fn validate_metadata(m: &ArtifactMetadata) -> Result<(), CoreError> {
    for (f, v) in [
        ("displayName", &m.display_name),
        ("shortDescription", &m.short_description),
        ("logo", &m.logo),
        ("publisher", &m.publisher),
        ("builtBy", &m.built_by),
        ("ownerName", &m.owner_name),
        ("application", &m.application),
        ("framework", &m.framework),
        ("modelFormat", &m.model_format),
        ("precision", &m.precision),
    ] {
        check_len(f, v, MAX_SHORT_FIELD)?;
    }
    for (f, v) in [
        ("description", &m.description),
        ("bias", &m.bias),
        ("explainability", &m.explainability),
        ("privacy", &m.privacy),
        ("safetyAndSecurity", &m.safety_and_security),
        ("advanced", &m.advanced),
        ("performance", &m.performance),
        ("quickStartGuide", &m.quick_start_guide),
        ("setup", &m.setup),
    ] {
        check_len(f, v, MAX_TEXT_FIELD)?;
    }
    check_list("labels", &m.labels)?;
    if m.attributes.len() > MAX_LIST_ITEMS {
        return Err(CoreError::Invalid(format!(
            "attributes has {} entries; at most {MAX_LIST_ITEMS} are allowed",
            m.attributes.len()
        )));
    }
    if let Some(d) = &m.public_dataset {
        check_len("publicDatasetUsed.name", &d.name, MAX_SHORT_FIELD)?;
        check_len("publicDatasetUsed.link", &d.link, MAX_SHORT_FIELD)?;
        check_len("publicDatasetUsed.license", &d.license, MAX_SHORT_FIELD)?;
    }
    Ok(())
}

/// Checks custom metrics tables: at most [`MAX_METRICS_TABLES`] tables of at most
/// [`MAX_METRICS_PAIRS`] pairs each (R-MOD-2).
pub fn validate_metrics(tables: &[MetricsTable]) -> Result<(), CoreError> {
    if tables.len() > MAX_METRICS_TABLES {
        return Err(CoreError::Invalid(format!(
            "{} custom metrics tables were given; at most {MAX_METRICS_TABLES} are allowed",
            tables.len()
        )));
    }
    for (i, t) in tables.iter().enumerate() {
        if t.attributes.len() > MAX_METRICS_PAIRS {
            return Err(CoreError::Invalid(format!(
                "custom metrics table {} ('{}') has {} key/value pairs; at most \
                 {MAX_METRICS_PAIRS} are allowed",
                i + 1,
                crate::names::shown(&t.name),
                t.attributes.len()
            )));
        }
        check_len("customMetrics.name", &Some(t.name.clone()), MAX_SHORT_FIELD)?;
        for kv in &t.attributes {
            check_len("customMetrics key", &Some(kv.key.clone()), MAX_SHORT_FIELD)?;
            check_len(
                "customMetrics value",
                &Some(kv.value.clone()),
                MAX_SHORT_FIELD,
            )?;
        }
    }
    Ok(())
}

/// Checks the sizes of a version's metadata and its metrics tables.
pub fn validate_version_metadata(m: &VersionMetadata) -> Result<(), CoreError> {
    validate_metrics(&m.custom_metrics)?;
    for (f, v) in [
        ("gpuModel", &m.gpu_model),
        ("memoryFootprint", &m.memory_footprint),
        ("link", &m.link),
        ("ownerName", &m.owner_name),
    ] {
        check_len(f, v, MAX_SHORT_FIELD)?;
    }
    for (f, v) in [
        ("description", &m.description),
        ("releaseNotes", &m.release_notes),
        ("performance", &m.performance),
        ("quickStartGuide", &m.quick_start_guide),
        ("setup", &m.setup),
    ] {
        check_len(f, v, MAX_TEXT_FIELD)?;
    }
    if let Some(t) = &m.link_type {
        if !["NGC", "Github", "Other"]
            .iter()
            .any(|x| x.eq_ignore_ascii_case(t))
        {
            return Err(CoreError::Invalid(format!(
                "linkType '{}' is not one of NGC, Github, Other",
                crate::names::shown(t)
            )));
        }
    }
    if m.other_contents.len() > MAX_LIST_ITEMS {
        return Err(CoreError::Invalid(format!(
            "otherContents has {} entries; at most {MAX_LIST_ITEMS} are allowed",
            m.other_contents.len()
        )));
    }
    if m.batch_size.is_some_and(|b| b < 0) || m.number_of_epochs.is_some_and(|n| n < 0) {
        return Err(CoreError::Invalid(
            "batchSize and numberOfEpochs must not be negative".into(),
        ));
    }
    if m.accuracy_reached.is_some_and(|a| !a.is_finite()) {
        return Err(CoreError::Invalid(
            "accuracyReached must be a finite number".into(),
        ));
    }
    Ok(())
}

/// Reads a version id the way people write them: SemVer, or a shorter numeric form (`1.0`,
/// `v2`) padded to three components.
pub fn lenient_semver(v: &str) -> Option<semver::Version> {
    let s = v.strip_prefix(['v', 'V']).unwrap_or(v);
    if let Ok(x) = semver::Version::parse(s) {
        return Some(x);
    }
    let (core, rest) = match s.find(['-', '+']) {
        Some(i) => s.split_at(i),
        None => (s, ""),
    };
    let nums: Vec<&str> = core.split('.').collect();
    if nums.is_empty()
        || nums.len() > 3
        || nums
            .iter()
            .any(|n| n.is_empty() || !n.bytes().all(|b| b.is_ascii_digit()))
    {
        return None;
    }
    let mut padded: Vec<&str> = nums.clone();
    while padded.len() < 3 {
        padded.push("0");
    }
    semver::Version::parse(&format!("{}{}", padded.join("."), rest)).ok()
}

/// Sorts versions SemVer-descending (NGC's `SEMVER_DESC`): SemVer-like ids first, highest
/// first; the others after them, newest first.
pub fn sort_semver_desc(versions: &mut [ArtifactVersion]) {
    versions.sort_by(|a, b| {
        match (
            lenient_semver(a.version.as_str()),
            lenient_semver(b.version.as_str()),
        ) {
            (Some(x), Some(y)) => y.cmp(&x).then(b.id.cmp(&a.id)),
            (Some(_), None) => std::cmp::Ordering::Less,
            (None, Some(_)) => std::cmp::Ordering::Greater,
            (None, None) => b.id.cmp(&a.id),
        }
    });
}

/// Compiles a `*`/`?` wildcard pattern (as `ngc … list 'org/mod*'` sends).
pub fn wildcard(pattern: &str) -> Result<globset::GlobMatcher, CoreError> {
    globset::GlobBuilder::new(pattern)
        .literal_separator(false)
        .backslash_escape(true)
        .build()
        .map(|g| g.compile_matcher())
        .map_err(|e| {
            CoreError::Invalid(format!(
                "bad pattern '{}': {e}",
                crate::names::shown(pattern)
            ))
        })
}

/// The user id behind a principal (personal and legacy keys).
pub(crate) fn user_id(p: &Principal) -> Option<i64> {
    match p {
        Principal::Key(k) => k.key.user_id.or_else(|| k.user.as_ref().map(|u| u.id)),
        Principal::Anonymous => None,
    }
}

fn as_rest(decision: Decision, noun: &str, path: &str) -> Result<(), CoreError> {
    match decision {
        Decision::Allowed => Ok(()),
        Decision::Unauthenticated => Err(CoreError::Unauthenticated(
            "authentication required: present an API key".into(),
        )),
        Decision::Hidden => Err(CoreError::NotFound(format!("{noun} {path}"))),
        Decision::Denied(why) => Err(CoreError::Forbidden(why)),
    }
}

/// A version as a caller may see it, with its artifact.
#[derive(Debug, Clone)]
pub struct VersionView {
    /// The artifact.
    pub artifact: Artifact,
    /// The version.
    pub version: ArtifactVersion,
}

/// A partial update of a version (`PATCH …/versions/{v}`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct VersionPatch {
    /// Metadata fields to set (camelCase names of [`VersionMetadata`]).
    pub fields: Map<String, Value>,
    /// New status: only `UPLOAD_COMPLETE` is accepted (see [`Arca::finish_version`]).
    pub status: Option<VersionStatus>,
    /// Make this version the artifact's latest.
    pub set_latest: bool,
}

impl Arca {
    /// Decides `action` on an artifact (REST errors: 401, 404 when hidden, 403). Anonymous
    /// callers may read public artifacts. Deleting a resource is for admins and its creator
    /// (R-MOD-5).
    pub(crate) fn allow_on(
        &self,
        p: &Principal,
        r: &ArtifactRef,
        action: ArtifactAction,
        artifact: Option<&Artifact>,
    ) -> Result<(), CoreError> {
        let read = matches!(
            action,
            ArtifactAction::View | ArtifactAction::List | ArtifactAction::Download
        );
        if read && artifact.is_some_and(|a| a.public) {
            if let Principal::Anonymous = p {
                return Ok(());
            }
        }
        let decision = decide(p, Action::Artifact(action), &r.target());
        let decision = match (decision, artifact) {
            (Decision::Denied(why), Some(a))
                if action == ArtifactAction::Delete && a.kind == ArtifactKind::Resource =>
            {
                let creator = a.created_by.is_some() && a.created_by == user_id(p);
                let can_upload =
                    decide(p, Action::Artifact(ArtifactAction::Upload), &r.target()).is_allowed();
                if creator && can_upload {
                    Decision::Allowed
                } else {
                    Decision::Denied(why)
                }
            }
            (Decision::Denied(_), Some(a)) if read && a.public => Decision::Allowed,
            (d, _) => d,
        };
        as_rest(decision, r.noun(), &r.path())
    }

    /// Loads an artifact and checks `action` on it (hidden or absent: 404).
    pub(crate) async fn artifact_for(
        &self,
        p: &Principal,
        r: &ArtifactRef,
        action: ArtifactAction,
    ) -> Result<Artifact, CoreError> {
        let found = {
            let mut tx = self.meta.begin_read().await?;
            tx.get_artifact(r.kind, &r.org, r.team.as_ref(), r.name.as_str())
                .await?
        };
        // Decide first on the path (so that a hidden artifact and an absent one look alike),
        // then on the record (public flag, creator).
        match found {
            Some(a) => {
                self.allow_on(p, r, action, Some(&a))?;
                Ok(a)
            }
            None => {
                self.allow_on(p, r, ArtifactAction::View, None)?;
                Err(CoreError::NotFound(format!("{} {}", r.noun(), r.path())))
            }
        }
    }

    /// Creates an artifact record (`POST /v2/{ot}/models` …).
    pub async fn create_artifact(
        &self,
        p: &Principal,
        r: &ArtifactRef,
        metadata: ArtifactMetadata,
    ) -> Result<Artifact, CoreError> {
        self.allow_on(p, r, ArtifactAction::Create, None)?;
        validate_metadata(&metadata)?;
        if r.kind == ArtifactKind::HelmChart
            && metadata
                .short_description
                .as_deref()
                .map_or(true, |s| s.trim().is_empty())
        {
            return Err(CoreError::Invalid(
                "a chart needs a short description (shortDescription)".into(),
            ));
        }
        let new = NewArtifact {
            kind: r.kind,
            org: r.org.clone(),
            team: r.team.clone(),
            name: r.name.clone(),
            metadata,
            public: false,
            created_by: user_id(p),
            created_at: self.clock.now(),
        };
        retry_conflicts(|| async {
            let mut tx = self.meta.begin().await?;
            if let Some(t) = &r.team {
                if tx.get_team(&r.org, t).await?.is_none() {
                    return Err(CoreError::NotFound(format!("team {}/{t}", r.org)));
                }
            }
            let a = tx.insert_artifact(&new).await.map_err(|e| match e {
                crate::ports::StoreError::AlreadyExists(_) => {
                    CoreError::AlreadyExists(format!("{} {}", r.noun(), r.path()))
                }
                other => other.into(),
            })?;
            tx.commit().await?;
            Ok(a)
        })
        .await
    }

    /// Reads an artifact (`GET /v2/{ot}/models/{name}`).
    pub async fn artifact(&self, p: &Principal, r: &ArtifactRef) -> Result<Artifact, CoreError> {
        self.artifact_for(p, r, ArtifactAction::View).await
    }

    /// Artifacts of a kind in an org that the caller may list, optionally only one team's
    /// (`team`) and only names matching a `*`/`?` pattern.
    pub async fn list_artifacts(
        &self,
        p: &Principal,
        kind: ArtifactKind,
        org: &OrgId,
        team: Option<&TeamName>,
        pattern: Option<&str>,
    ) -> Result<Vec<Artifact>, CoreError> {
        let matcher = pattern.map(wildcard).transpose()?;
        let all = {
            let mut tx = self.meta.begin_read().await?;
            tx.list_artifacts(kind, org).await?
        };
        Ok(all
            .into_iter()
            .filter(|a| team.is_none() || a.team.as_ref() == team)
            .filter(|a| {
                matcher
                    .as_ref()
                    .map_or(true, |m| m.is_match(a.name.as_str()))
            })
            .filter(|a| {
                self.allow_on(p, &ArtifactRef::of(a), ArtifactAction::List, Some(a))
                    .is_ok()
            })
            .collect())
    }

    /// Edits an artifact's metadata (`PATCH /v2/{ot}/models/{name}`); the public flag needs
    /// delete rights (registry admins and owners).
    pub async fn update_artifact(
        &self,
        p: &Principal,
        r: &ArtifactRef,
        patch: &ArtifactPatch,
    ) -> Result<Artifact, CoreError> {
        let mut a = self.artifact_for(p, r, ArtifactAction::Update).await?;
        if let Some(public) = patch.public {
            as_rest(
                decide(p, Action::Artifact(ArtifactAction::Delete), &r.target()),
                r.noun(),
                &r.path(),
            )?;
            a.public = public;
        }
        let metadata = merge_json(&a.metadata, &patch.fields, r.noun())?;
        validate_metadata(&metadata)?;
        if r.kind == ArtifactKind::HelmChart
            && metadata
                .short_description
                .as_deref()
                .map_or(true, |s| s.trim().is_empty())
        {
            return Err(CoreError::Invalid(
                "a chart's short description cannot be removed".into(),
            ));
        }
        a.metadata = metadata;
        a.updated_at = self.clock.now();
        let mut tx = self.meta.begin().await?;
        tx.update_artifact(&a).await?;
        tx.commit().await?;
        Ok(a)
    }

    /// Deletes an artifact with all its versions (`DELETE /v2/{ot}/models/{name}`). The file
    /// bytes stay in the blob store, shared by content with other artifacts.
    pub async fn delete_artifact(&self, p: &Principal, r: &ArtifactRef) -> Result<(), CoreError> {
        let a = self.artifact_for(p, r, ArtifactAction::Delete).await?;
        retry_conflicts(|| async {
            let mut tx = self.meta.begin().await?;
            tx.delete_artifact(a.id).await.map_err(|e| match e {
                crate::ports::StoreError::NotFound(_) => {
                    CoreError::NotFound(format!("{} {}", r.noun(), r.path()))
                }
                other => other.into(),
            })?;
            tx.commit().await?;
            Ok(())
        })
        .await
    }

    /// Whether the caller may see versions still being uploaded.
    fn sees_pending(&self, p: &Principal, r: &ArtifactRef) -> bool {
        decide(p, Action::Artifact(ArtifactAction::Upload), &r.target()).is_allowed()
    }

    /// The versions of an artifact the caller may see, SemVer-descending.
    pub async fn versions(
        &self,
        p: &Principal,
        r: &ArtifactRef,
    ) -> Result<(Artifact, Vec<ArtifactVersion>), CoreError> {
        let a = self.artifact_for(p, r, ArtifactAction::List).await?;
        let mut vs = {
            let mut tx = self.meta.begin_read().await?;
            tx.list_versions(a.id).await?
        };
        if !self.sees_pending(p, r) {
            vs.retain(|v| v.status == VersionStatus::UploadComplete);
        }
        sort_semver_desc(&mut vs);
        Ok((a, vs))
    }

    /// One version (`GET …/versions/{v}`); a pending version is 404 for mere readers.
    pub async fn version(
        &self,
        p: &Principal,
        r: &ArtifactRef,
        v: &VersionId,
    ) -> Result<VersionView, CoreError> {
        let artifact = self.artifact_for(p, r, ArtifactAction::View).await?;
        let version = {
            let mut tx = self.meta.begin_read().await?;
            tx.get_version(artifact.id, v.as_str()).await?
        };
        match version {
            Some(version)
                if version.status == VersionStatus::UploadComplete || self.sees_pending(p, r) =>
            {
                Ok(VersionView { artifact, version })
            }
            _ => Err(CoreError::NotFound(format!("version {}:{v}", r.path()))),
        }
    }

    /// The files of a version, by path (the file browser).
    pub async fn version_files(
        &self,
        p: &Principal,
        r: &ArtifactRef,
        v: &VersionId,
    ) -> Result<(VersionView, Vec<VersionFile>), CoreError> {
        let view = self.version(p, r, v).await?;
        let files = {
            let mut tx = self.meta.begin_read().await?;
            tx.version_files(view.version.id).await?
        };
        Ok((view, files))
    }

    /// Creates a version in `UPLOAD_PENDING` (`POST …/versions`). For resources, a missing
    /// version id picks the next one (R-MOD-5).
    pub async fn create_version(
        &self,
        p: &Principal,
        r: &ArtifactRef,
        version: Option<VersionId>,
        metadata: VersionMetadata,
    ) -> Result<VersionView, CoreError> {
        let artifact = self.artifact_for(p, r, ArtifactAction::Upload).await?;
        validate_version_metadata(&metadata)?;
        let now = self.clock.now();
        retry_conflicts(|| {
            let metadata = metadata.clone();
            let version = version.clone();
            let artifact = artifact.clone();
            async move {
                let mut tx = self.meta.begin().await?;
                let version = match version {
                    Some(v) => v,
                    None if r.kind == ArtifactKind::Resource => {
                        next_version(&tx.list_versions(artifact.id).await?)?
                    }
                    None => {
                        return Err(CoreError::Invalid(format!(
                            "a {} version needs a version id",
                            r.noun()
                        )))
                    }
                };
                let created = tx
                    .insert_version(&NewArtifactVersion {
                        artifact_id: artifact.id,
                        version: version.clone(),
                        status: VersionStatus::UploadPending,
                        metadata,
                        created_by: user_id(p),
                        created_at: now,
                    })
                    .await
                    .map_err(|e| match e {
                        crate::ports::StoreError::AlreadyExists(_) => {
                            CoreError::AlreadyExists(format!("version {}:{version}", r.path()))
                        }
                        other => other.into(),
                    })?;
                tx.commit().await?;
                Ok(VersionView {
                    artifact,
                    version: created,
                })
            }
        })
        .await
    }

    /// Edits a version (`PATCH …/versions/{v}`): metadata, `set-latest`, and the status
    /// `UPLOAD_COMPLETE`, which commits the version (see [`Arca::finish_version`]).
    pub async fn update_version(
        &self,
        p: &Principal,
        r: &ArtifactRef,
        v: &VersionId,
        patch: &VersionPatch,
    ) -> Result<VersionView, CoreError> {
        let view = self.version(p, r, v).await?;
        self.allow_on(p, r, ArtifactAction::Update, Some(&view.artifact))?;
        let metadata = merge_json(&view.version.metadata, &patch.fields, "version")?;
        validate_version_metadata(&metadata)?;
        match patch.status {
            Some(VersionStatus::UploadPending)
                if view.version.status == VersionStatus::UploadComplete =>
            {
                return Err(CoreError::Invalid(
                    "a complete version cannot go back to UPLOAD_PENDING".into(),
                ))
            }
            Some(VersionStatus::UploadComplete) => {
                self.allow_on(p, r, ArtifactAction::Upload, Some(&view.artifact))?;
            }
            _ => {}
        }
        if patch.set_latest
            && view.version.status != VersionStatus::UploadComplete
            && patch.status != Some(VersionStatus::UploadComplete)
        {
            return Err(CoreError::Invalid(format!(
                "version {}:{v} is still being uploaded and cannot be the latest",
                r.path()
            )));
        }
        let now = self.clock.now();
        retry_conflicts(|| {
            let metadata = metadata.clone();
            async move {
                let mut tx = self.meta.begin().await?;
                let mut version = tx
                    .get_version(view.artifact.id, v.as_str())
                    .await?
                    .ok_or_else(|| CoreError::NotFound(format!("version {}:{v}", r.path())))?;
                let mut artifact = tx
                    .get_artifact(r.kind, &r.org, r.team.as_ref(), r.name.as_str())
                    .await?
                    .ok_or_else(|| CoreError::NotFound(format!("{} {}", r.noun(), r.path())))?;
                version.metadata = metadata;
                version.updated_at = now;
                let completing = patch.status == Some(VersionStatus::UploadComplete)
                    && version.status == VersionStatus::UploadPending;
                if completing {
                    self.check_committable(tx.as_mut(), r.kind, &version)
                        .await?;
                    let files = tx.version_files(version.id).await?;
                    version.file_count = files.len() as u64;
                    version.total_size = files.iter().map(|f| f.size).sum();
                    version.status = VersionStatus::UploadComplete;
                }
                tx.update_version(&version).await?;
                if completing || patch.set_latest {
                    artifact.latest_version = Some(version.version.clone());
                    artifact.updated_at = now;
                    tx.update_artifact(&artifact).await?;
                }
                tx.commit().await?;
                Ok(VersionView { artifact, version })
            }
        })
        .await
    }

    /// Deletes a version and its file list (`DELETE …/versions/{v}`); if it was the latest,
    /// the newest remaining complete version becomes the latest.
    pub async fn delete_version(
        &self,
        p: &Principal,
        r: &ArtifactRef,
        v: &VersionId,
    ) -> Result<(), CoreError> {
        let view = self.version(p, r, v).await?;
        // Deleting a pending version is how a failed upload is abandoned (ngcsdk does it
        // after an integrity error): uploaders may do that; otherwise delete rights.
        if view.version.status == VersionStatus::UploadPending {
            self.allow_on(p, r, ArtifactAction::Upload, Some(&view.artifact))?;
        } else {
            self.allow_on(p, r, ArtifactAction::Delete, Some(&view.artifact))?;
        }
        let now = self.clock.now();
        retry_conflicts(|| async {
            let mut tx = self.meta.begin().await?;
            let Some(version) = tx.get_version(view.artifact.id, v.as_str()).await? else {
                return Err(CoreError::NotFound(format!("version {}:{v}", r.path())));
            };
            tx.delete_version(version.id).await?;
            if let Some(mut artifact) = tx
                .get_artifact(r.kind, &r.org, r.team.as_ref(), r.name.as_str())
                .await?
            {
                if artifact.latest_version.as_ref() == Some(v) {
                    let mut rest: Vec<ArtifactVersion> = tx
                        .list_versions(artifact.id)
                        .await?
                        .into_iter()
                        .filter(|x| x.status == VersionStatus::UploadComplete)
                        .collect();
                    rest.sort_by_key(|x| std::cmp::Reverse(x.id));
                    artifact.latest_version = rest.first().map(|x| x.version.clone());
                    artifact.updated_at = now;
                    tx.update_artifact(&artifact).await?;
                }
            }
            tx.commit().await?;
            Ok(())
        })
        .await
    }
}

/// Builds artifact metadata from NGC-named fields (camelCase names of [`ArtifactMetadata`]).
pub fn metadata_from_fields(
    kind: ArtifactKind,
    fields: &Map<String, Value>,
) -> Result<ArtifactMetadata, CoreError> {
    let m = merge_json(&ArtifactMetadata::default(), fields, kind_noun(kind))?;
    validate_metadata(&m)?;
    Ok(m)
}

/// Builds version metadata from NGC-named fields (camelCase names of [`VersionMetadata`]).
pub fn version_metadata_from_fields(
    fields: &Map<String, Value>,
) -> Result<VersionMetadata, CoreError> {
    let m = merge_json(&VersionMetadata::default(), fields, "version")?;
    validate_version_metadata(&m)?;
    Ok(m)
}

impl Arca {
    /// The latest version of one artifact.
    pub async fn latest_version(
        &self,
        artifact: &Artifact,
    ) -> Result<Option<ArtifactVersion>, CoreError> {
        let Some(v) = &artifact.latest_version else {
            return Ok(None);
        };
        let mut tx = self.meta.begin_read().await?;
        Ok(tx.get_version(artifact.id, v.as_str()).await?)
    }

    /// The latest version of each of `artifacts` (one query per kind and org, not per
    /// artifact), by artifact id.
    pub async fn latest_versions(
        &self,
        artifacts: &[Artifact],
    ) -> Result<std::collections::HashMap<i64, ArtifactVersion>, CoreError> {
        let mut out = std::collections::HashMap::new();
        let mut groups: Vec<(ArtifactKind, OrgId)> = artifacts
            .iter()
            .filter(|a| a.latest_version.is_some())
            .map(|a| (a.kind, a.org.clone()))
            .collect();
        groups.sort();
        groups.dedup();
        if groups.is_empty() {
            return Ok(out);
        }
        let wanted: std::collections::HashMap<i64, &VersionId> = artifacts
            .iter()
            .filter_map(|a| a.latest_version.as_ref().map(|v| (a.id, v)))
            .collect();
        let mut tx = self.meta.begin_read().await?;
        for (kind, org) in groups {
            for v in tx.list_org_versions(kind, &org).await? {
                if wanted.get(&v.artifact_id) == Some(&&v.version) {
                    out.insert(v.artifact_id, v);
                }
            }
        }
        Ok(out)
    }
}

/// The next version id of a resource uploaded without one (R-MOD-5): one more than the highest
/// whole-number version (`1`, `2`, …), or the minor step of the highest SemVer-like one.
pub fn next_version(existing: &[ArtifactVersion]) -> Result<VersionId, CoreError> {
    let best = existing
        .iter()
        .filter_map(|v| lenient_semver(v.version.as_str()).map(|s| (s, v.version.as_str())))
        .max_by(|a, b| a.0.cmp(&b.0));
    let candidate = match best {
        None => "1".to_string(),
        Some((_, raw)) if raw.bytes().all(|b| b.is_ascii_digit()) => raw
            .parse::<u64>()
            .map(|n| (n + 1).to_string())
            .unwrap_or_else(|_| "1".into()),
        Some((s, raw)) => {
            let parts = raw.trim_start_matches(['v', 'V']).split('.').count();
            match parts {
                2 => format!("{}.{}", s.major, s.minor + 1),
                _ => format!("{}.{}.{}", s.major, s.minor, s.patch + 1),
            }
        }
    };
    let mut n = 0u64;
    let mut pick = candidate.clone();
    while existing.iter().any(|v| v.version.as_str() == pick) {
        n += 1;
        pick = format!("{candidate}-{n}");
    }
    Ok(VersionId::new(pick)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::KeyValue;
    use chrono::Utc;

    fn v(id: i64, s: &str) -> ArtifactVersion {
        ArtifactVersion {
            id,
            artifact_id: 1,
            version: VersionId::new(s).unwrap(),
            status: VersionStatus::UploadComplete,
            metadata: VersionMetadata::default(),
            file_count: 0,
            total_size: 0,
            created_by: None,
            created_at: Utc::now(),
            updated_at: Utc::now(),
        }
    }

    #[test]
    fn semver_descending_puts_numeric_forms_in_order_and_others_last() {
        let mut vs = vec![
            v(1, "1.0"),
            v(2, "1.10"),
            v(3, "1.2"),
            v(4, "nightly"),
            v(5, "2.0.0-rc1"),
            v(6, "2.0.0"),
            v(7, "v1.5"),
            v(8, "other"),
        ];
        sort_semver_desc(&mut vs);
        let order: Vec<&str> = vs.iter().map(|x| x.version.as_str()).collect();
        assert_eq!(
            order,
            [
                "2.0.0",
                "2.0.0-rc1",
                "1.10",
                "v1.5",
                "1.2",
                "1.0",
                "other",
                "nightly"
            ]
        );
    }

    #[test]
    fn next_resource_version_steps_the_highest() {
        assert_eq!(next_version(&[]).unwrap().as_str(), "1");
        assert_eq!(next_version(&[v(1, "1"), v(2, "3")]).unwrap().as_str(), "4");
        assert_eq!(next_version(&[v(1, "1.4")]).unwrap().as_str(), "1.5");
        assert_eq!(next_version(&[v(1, "2.0.9")]).unwrap().as_str(), "2.0.10");
        assert_eq!(
            next_version(&[v(1, "1.4"), v(2, "1.5")]).unwrap().as_str(),
            "1.6"
        );
        assert_eq!(next_version(&[v(1, "beta")]).unwrap().as_str(), "1");
    }

    fn table(n: usize) -> MetricsTable {
        MetricsTable {
            name: "t".into(),
            attributes: (0..n)
                .map(|i| KeyValue {
                    key: format!("k{i}"),
                    value: "1".into(),
                })
                .collect(),
        }
    }

    #[test]
    fn metrics_limits_are_three_tables_of_twelve_pairs() {
        assert!(validate_metrics(&[table(12), table(12), table(12)]).is_ok());
        let e = validate_metrics(&[table(1), table(1), table(1), table(1)]).unwrap_err();
        assert!(e.to_string().contains("4 custom metrics tables"), "{e}");
        let e = validate_metrics(&[table(13)]).unwrap_err();
        assert!(e.to_string().contains("13 key/value pairs"), "{e}");
    }

    #[test]
    fn patches_merge_known_fields_and_name_the_bad_one() {
        let current = ArtifactMetadata {
            application: Some("OTHER".into()),
            ..Default::default()
        };
        let mut fields = Map::new();
        fields.insert("shortDescription".into(), Value::String("hi".into()));
        let m = merge_json(&current, &fields, "model").unwrap();
        assert_eq!(m.short_description.as_deref(), Some("hi"));
        assert_eq!(m.application.as_deref(), Some("OTHER"));

        fields.insert("application".into(), Value::Null);
        let m = merge_json(&current, &fields, "model").unwrap();
        assert_eq!(m.application, None);

        let mut bad = Map::new();
        bad.insert("labels".into(), Value::String("not-a-list".into()));
        let e = merge_json(&current, &bad, "model").unwrap_err().to_string();
        assert!(e.contains("'labels'"), "{e}");

        let mut unknown = Map::new();
        unknown.insert("nope".into(), Value::Bool(true));
        let e = merge_json(&current, &unknown, "model")
            .unwrap_err()
            .to_string();
        assert!(e.contains("unknown model field 'nope'"), "{e}");
    }

    #[test]
    fn wildcards_match_names() {
        let m = wildcard("res*").unwrap();
        assert!(m.is_match("resnet50"));
        assert!(!m.is_match("bert"));
        assert!(wildcard("a?c").unwrap().is_match("abc"));
    }
}

//! Models and resources, NGC shapes: `/v2/org/{org}[/team/{team}]/{models|resources}…`, the
//! file-transfer calls (`…/files`, `/v2/org/{org}[/team/{team}]/files/{multipart,commit}`) and
//! signed transfer URLs. The whole upload and download flows are in [`crate::transfer`].
//!
//! Request bodies are JSON objects with NGC's field names (`application`, `framework`,
//! `shortDescription`, `gpuModel`, `customMetrics`, …), built by the caller.

use std::path::Path;

use reqwest::header::{CONTENT_LENGTH, CONTENT_TYPE, RANGE};
use reqwest::Method;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::{null_default, PaginationInfo};
use crate::client::{ArcaClient, Result};
use crate::endpoint::Endpoint;
use crate::error::ClientError;
use crate::oci::{file_body, Progress};

/// Models or resources.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ArtifactType {
    /// Models.
    Model,
    /// Resources (NGC's "recipes").
    Resource,
}

impl ArtifactType {
    /// The path segment and `artifactType` value: `models` or `resources`.
    pub fn segment(self) -> &'static str {
        match self {
            Self::Model => "models",
            Self::Resource => "resources",
        }
    }
    /// The JSON wrapper of one artifact: `model` or `recipe`.
    pub fn one(self) -> &'static str {
        match self {
            Self::Model => "model",
            Self::Resource => "recipe",
        }
    }
    /// The JSON wrapper of one version.
    pub fn version_key(self) -> &'static str {
        match self {
            Self::Model => "modelVersion",
            Self::Resource => "recipeVersion",
        }
    }
    /// The JSON wrapper of a version list.
    pub fn versions_key(self) -> &'static str {
        match self {
            Self::Model => "modelVersions",
            Self::Resource => "recipeVersions",
        }
    }
    /// The JSON wrapper of a file list.
    pub fn files_key(self) -> &'static str {
        match self {
            Self::Model => "modelFiles",
            Self::Resource => "recipeFiles",
        }
    }
    /// The JSON wrapper of an artifact list.
    pub fn list_key(self) -> &'static str {
        match self {
            Self::Model => "models",
            Self::Resource => "recipes",
        }
    }
    /// `model` or `resource`, for messages.
    pub fn noun(self) -> &'static str {
        match self {
            Self::Model => "model",
            Self::Resource => "resource",
        }
    }
}

/// A model or resource as the server describes it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
#[non_exhaustive]
pub struct ArtifactInfo {
    /// Name.
    pub name: String,
    /// Org.
    pub org_name: Option<String>,
    /// Team.
    pub team_name: Option<String>,
    /// Display name.
    pub display_name: Option<String>,
    /// One-line description.
    pub short_description: Option<String>,
    /// Overview (Markdown).
    pub description: Option<String>,
    /// Application.
    pub application: Option<String>,
    /// Framework (models).
    pub framework: Option<String>,
    /// Framework (resources).
    pub training_framework: Option<String>,
    /// Format.
    pub model_format: Option<String>,
    /// Precision.
    pub precision: Option<String>,
    /// Labels.
    #[serde(deserialize_with = "null_default")]
    pub labels: Vec<String>,
    /// Logo URL.
    pub logo: Option<String>,
    /// Publisher.
    pub publisher: Option<String>,
    /// Built by.
    pub built_by: Option<String>,
    /// Owner name.
    pub owner_name: Option<String>,
    /// The latest version's id.
    pub latest_version_id_str: Option<String>,
    /// The latest version's size.
    pub latest_version_size_in_bytes: Option<u64>,
    /// Public flag.
    #[serde(deserialize_with = "null_default")]
    pub is_public: bool,
    /// Creation instant.
    pub created_date: Option<String>,
    /// Last change.
    pub updated_date: Option<String>,
}

/// One version of a model or resource.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
#[non_exhaustive]
pub struct VersionInfo {
    /// Version id.
    pub version_id: String,
    /// `UPLOAD_PENDING` or `UPLOAD_COMPLETE`.
    pub status: String,
    /// Number of files.
    pub total_file_count: u64,
    /// Total bytes.
    pub total_size_in_bytes: u64,
    /// Description.
    pub description: Option<String>,
    /// GPU model.
    pub gpu_model: Option<String>,
    /// Accuracy reached.
    pub accuracy_reached: Option<f64>,
    /// Batch size.
    pub batch_size: Option<i64>,
    /// Memory footprint.
    pub memory_footprint: Option<String>,
    /// Number of epochs.
    pub number_of_epochs: Option<i64>,
    /// Link.
    pub link: Option<String>,
    /// Link type.
    pub link_type: Option<String>,
    /// Owner name.
    pub owner_name: Option<String>,
    /// Custom metrics tables.
    #[serde(deserialize_with = "null_default")]
    pub custom_metrics: Vec<Value>,
    /// Creation instant.
    pub created_date: Option<String>,
}

/// One file of a version.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
#[non_exhaustive]
pub struct RemoteFile {
    /// Path inside the version.
    pub path: String,
    /// Size in bytes.
    pub size_in_bytes: u64,
    /// SHA-256, standard base64.
    #[serde(rename = "sha256_base64")]
    pub sha256_base64: Option<String>,
}

/// A paged list of artifacts, versions or files, under a kind-specific key.
#[derive(Debug, Deserialize)]
pub(crate) struct KeyedPage<T> {
    #[serde(flatten)]
    rest: serde_json::Map<String, Value>,
    #[serde(rename = "paginationInfo")]
    pagination: Option<PaginationInfo>,
    #[serde(skip)]
    _t: std::marker::PhantomData<T>,
}

fn take_list<T: serde::de::DeserializeOwned>(
    mut page: KeyedPage<T>,
    key: &str,
) -> Result<(Vec<T>, Option<PaginationInfo>)> {
    let items = match page.rest.remove(key) {
        None | Some(Value::Null) => Vec::new(),
        Some(v) => serde_json::from_value(v).map_err(|e| ClientError::Decode {
            url: String::new(),
            reason: format!("{key}: {e}"),
        })?,
    };
    Ok((items, page.pagination))
}

fn place(org: &str, team: Option<&str>) -> Vec<String> {
    let mut s = vec!["v2".to_string(), "org".into(), org.to_string()];
    if let Some(t) = team {
        s.push("team".into());
        s.push(t.to_string());
    }
    s
}

fn endpoint(org: &str, team: Option<&str>, rest: &[&str]) -> Result<Endpoint> {
    let mut s = place(org, team);
    s.extend(rest.iter().map(|x| x.to_string()));
    Endpoint::from_segments(s)
}

fn unwrap_key<T: serde::de::DeserializeOwned>(mut v: Value, key: &str) -> Result<T> {
    let inner = v.get_mut(key).map(Value::take).unwrap_or(Value::Null);
    serde_json::from_value(inner).map_err(|e| ClientError::Decode {
        url: String::new(),
        reason: format!("{key}: {e}"),
    })
}

/// Where a model or resource lives.
#[derive(Debug, Clone, Copy)]
pub struct ArtifactPlace<'a> {
    /// Models or resources.
    pub kind: ArtifactType,
    /// Org.
    pub org: &'a str,
    /// Team.
    pub team: Option<&'a str>,
    /// Name.
    pub name: &'a str,
}

impl ArtifactPlace<'_> {
    fn at(&self, rest: &[&str]) -> Result<Endpoint> {
        let mut all = vec![self.kind.segment(), self.name];
        all.extend_from_slice(rest);
        endpoint(self.org, self.team, &all)
    }

    /// `org/[team/]name`.
    pub fn path(&self) -> String {
        match self.team {
            Some(t) => format!("{}/{t}/{}", self.org, self.name),
            None => format!("{}/{}", self.org, self.name),
        }
    }
}

impl ArcaClient {
    /// Creates a model or resource; `body` holds NGC's fields (`name` is set from `at`).
    pub async fn create_artifact(
        &self,
        at: ArtifactPlace<'_>,
        body: &Value,
    ) -> Result<ArtifactInfo> {
        let mut body = body.clone();
        if let Value::Object(m) = &mut body {
            m.insert("name".into(), json!(at.name));
        }
        let v: Value = self
            .post_json(endpoint(at.org, at.team, &[at.kind.segment()])?, &body)
            .await?;
        unwrap_key(v, at.kind.one())
    }

    /// A model or resource.
    pub async fn artifact(&self, at: ArtifactPlace<'_>) -> Result<ArtifactInfo> {
        let v: Value = self.get_json(at.at(&[])?).await?;
        unwrap_key(v, at.kind.one())
    }

    /// Edits a model or resource (`PATCH`, NGC fields).
    pub async fn update_artifact(
        &self,
        at: ArtifactPlace<'_>,
        body: &Value,
    ) -> Result<ArtifactInfo> {
        let v: Value = self.patch_json(at.at(&[])?, body).await?;
        unwrap_key(v, at.kind.one())
    }

    /// Deletes a model or resource with all its versions.
    pub async fn delete_artifact(&self, at: ArtifactPlace<'_>) -> Result<()> {
        self.delete(at.at(&[])?).await
    }

    /// Models or resources of an org or team, optionally only names matching a `*`/`?` pattern.
    pub async fn list_artifacts(
        &self,
        kind: ArtifactType,
        org: &str,
        team: Option<&str>,
        pattern: Option<&str>,
    ) -> Result<Vec<ArtifactInfo>> {
        let mut e = endpoint(org, team, &[kind.segment()])?;
        if let Some(p) = pattern {
            e = e.query("q", p);
        }
        self.all_keyed(e, kind.list_key()).await
    }

    async fn all_keyed<T: serde::de::DeserializeOwned>(
        &self,
        e: Endpoint,
        key: &str,
    ) -> Result<Vec<T>> {
        let mut items = Vec::new();
        for number in 0..super::MAX_PAGES {
            let page: KeyedPage<T> = self
                .get_json(
                    e.clone()
                        .query("page-size", super::PAGE_SIZE)
                        .query("page-number", number),
                )
                .await?;
            let (batch, info) = take_list(page, key)?;
            let got = batch.len();
            items.extend(batch);
            if !info.is_some_and(|i| number + 1 < i.total_pages) || got == 0 {
                break;
            }
        }
        Ok(items)
    }

    /// The versions of a model or resource, SemVer-descending.
    pub async fn versions(&self, at: ArtifactPlace<'_>) -> Result<Vec<VersionInfo>> {
        self.all_keyed(at.at(&["versions"])?, at.kind.versions_key())
            .await
    }

    /// One version.
    pub async fn version(&self, at: ArtifactPlace<'_>, version: &str) -> Result<VersionInfo> {
        let v: Value = self.get_json(at.at(&["versions", version])?).await?;
        unwrap_key(v, at.kind.version_key())
    }

    /// Creates a version (`UPLOAD_PENDING`); `body` holds NGC's version fields, `versionId`
    /// included (resources may omit it: the server picks the next).
    pub async fn create_version(&self, at: ArtifactPlace<'_>, body: &Value) -> Result<VersionInfo> {
        let v: Value = self.post_json(at.at(&["versions"])?, body).await?;
        unwrap_key(v, at.kind.version_key())
    }

    /// Edits a version (`PATCH`); `set_latest` makes it the latest.
    pub async fn update_version(
        &self,
        at: ArtifactPlace<'_>,
        version: &str,
        body: &Value,
        set_latest: bool,
    ) -> Result<VersionInfo> {
        let mut e = at.at(&["versions", version])?;
        if set_latest {
            e = e.query("set-latest", "true");
        }
        let v: Value = self.patch_json(e, body).await?;
        unwrap_key(v, at.kind.version_key())
    }

    /// Deletes a version.
    pub async fn delete_version(&self, at: ArtifactPlace<'_>, version: &str) -> Result<()> {
        self.delete(at.at(&["versions", version])?).await
    }

    /// The files of a version (path, size, sha256).
    pub async fn version_files(
        &self,
        at: ArtifactPlace<'_>,
        version: &str,
    ) -> Result<Vec<RemoteFile>> {
        self.all_keyed(at.at(&["versions", version, "files"])?, at.kind.files_key())
            .await
    }

    /// Which of the SHA-256s (standard base64) the artifact already holds.
    pub async fn files_known(
        &self,
        at: ArtifactPlace<'_>,
        sha256s: &[String],
    ) -> Result<Vec<bool>> {
        #[derive(Deserialize)]
        struct Answer {
            files: Vec<Known>,
        }
        #[derive(Deserialize)]
        struct Known {
            exists: bool,
        }
        let body =
            json!({"files": sha256s.iter().map(|s| json!({"sha256": s})).collect::<Vec<_>>()});
        let a: Answer = self.post_json(at.at(&["files"])?, &body).await?;
        if a.files.len() != sha256s.len() {
            return Err(ClientError::Integrity(format!(
                "asked about {} files, the server answered about {}",
                sha256s.len(),
                a.files.len()
            )));
        }
        Ok(a.files.into_iter().map(|k| k.exists).collect())
    }

    /// Starts (or, with `resume`, continues) the upload of one file; returns the upload id and
    /// one signed URL per part asked for.
    pub async fn start_file_upload(
        &self,
        at: ArtifactPlace<'_>,
        version: &str,
        file_path: &str,
        size: u64,
        sha256: &str,
        resume: Option<(&str, &[u32])>,
    ) -> Result<(String, Vec<String>)> {
        #[derive(Deserialize)]
        struct Answer {
            #[serde(rename = "uploadID")]
            upload_id: String,
            urls: Vec<String>,
        }
        let mut body = json!({
            "name": at.name, "version": version, "artifactType": at.kind.segment(),
            "filePath": file_path, "size": size, "sha256": sha256,
        });
        if let (Some((id, parts)), Value::Object(m)) = (resume, &mut body) {
            m.insert("uploadID".into(), json!(id));
            m.insert("partNumberList".into(), json!(parts));
        }
        let a: Answer = self
            .post_json(endpoint(at.org, at.team, &["files", "multipart"])?, &body)
            .await?;
        Ok((a.upload_id, a.urls))
    }

    /// PUTs `len` bytes of `path` from `offset` to a signed part URL (no credential is sent:
    /// the URL carries its own signature).
    pub async fn put_part(
        &self,
        url: &str,
        path: &Path,
        offset: u64,
        len: u64,
        progress: Option<Progress>,
    ) -> Result<()> {
        let url = reqwest::Url::parse(url).map_err(|e| ClientError::InvalidUrl {
            url: url.to_string(),
            reason: e.to_string(),
        })?;
        let body = file_body(path, offset, len, progress).await?;
        let request = self
            .http
            .request(Method::PUT, url)
            .header(CONTENT_LENGTH, len)
            .header(CONTENT_TYPE, "application/octet-stream")
            .body(body);
        self.send(request).await?;
        Ok(())
    }

    /// Completes one file after all its parts were sent.
    pub async fn complete_file_upload(
        &self,
        at: ArtifactPlace<'_>,
        version: &str,
        file_path: &str,
        upload_id: &str,
        sha256: &str,
    ) -> Result<()> {
        let body = json!({
            "name": at.name, "version": version, "artifactType": at.kind.segment(),
            "filePath": file_path, "uploadID": upload_id, "sha256": sha256,
        });
        let _: Value = self
            .put_json(endpoint(at.org, at.team, &["files", "multipart"])?, &body)
            .await?;
        Ok(())
    }

    /// Commits files to a pending version: `(path, sha256)` additions, `removals`, and
    /// optionally a base version whose files are inherited.
    pub async fn commit_files(
        &self,
        at: ArtifactPlace<'_>,
        version: &str,
        additions: &[(String, String)],
        removals: &[String],
        base_version: Option<&str>,
    ) -> Result<()> {
        let mut files: Vec<Value> = additions
            .iter()
            .map(|(p, s)| json!({"commitType": "ADDITION", "filePath": p, "sha256": s}))
            .collect();
        files.extend(
            removals
                .iter()
                .map(|p| json!({"commitType": "DELETION", "filePath": p})),
        );
        let body = json!({
            "name": at.name, "version": version, "artifactType": at.kind.segment(),
            "files": files, "baseVersion": base_version,
        });
        let _: Value = self
            .post_json(
                endpoint(at.org, at.team, &["files", "commit"])?.query("upload-pending", "True"),
                &body,
            )
            .await?;
        Ok(())
    }

    /// Signed download URLs of a complete version's files: `(path, url)`.
    pub async fn download_urls(
        &self,
        at: ArtifactPlace<'_>,
        version: &str,
    ) -> Result<Vec<(String, String)>> {
        #[derive(Deserialize)]
        struct Answer {
            filepath: Vec<String>,
            urls: Vec<String>,
        }
        let a: Answer = self.get_json(at.at(&[version, "files"])?).await?;
        if a.filepath.len() != a.urls.len() {
            return Err(ClientError::Integrity(
                "the download listing's paths and URLs do not pair up".into(),
            ));
        }
        Ok(a.filepath.into_iter().zip(a.urls).collect())
    }

    /// GETs a signed download URL (no credential sent), optionally a byte range.
    pub async fn get_signed(
        &self,
        url: &str,
        range: Option<(u64, u64)>,
    ) -> Result<reqwest::Response> {
        let url = reqwest::Url::parse(url).map_err(|e| ClientError::InvalidUrl {
            url: url.to_string(),
            reason: e.to_string(),
        })?;
        let mut request = self.http.request(Method::GET, url);
        if let Some((a, b)) = range {
            request = request.header(RANGE, format!("bytes={a}-{b}"));
        }
        self.send(request).await
    }
}

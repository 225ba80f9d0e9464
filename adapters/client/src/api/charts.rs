//! Helm charts: the NGC records `/v2/org/{org}[/team/{team}]/helm-charts…` (NGC wraps them as
//! `artifact` / `artifactVersion`), and packages through the Helm repository: uploads with the
//! ChartMuseum API (`POST /api/{org}[/{team}]/charts`), downloads from
//! `/{org}[/{team}]/charts/{name}-{version}.tgz`.
//!
//! ```no_run
//! # async fn demo(client: arca_client::ArcaClient) -> arca_client::Result<()> {
//! use arca_client::api::charts::ChartPlace;
//! let at = ChartPlace { org: "acme", team: None, name: "nginx" };
//! let tgz = std::fs::read("nginx-0.1.0.tgz").unwrap_or_default();
//! client.push_chart(at, "0.1.0", tgz).await?;
//! let bytes = client.pull_chart(at, "0.1.0").await?;
//! # Ok(()) }
//! ```

use reqwest::header::CONTENT_TYPE;
use reqwest::Method;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::{null_default, PaginationInfo, MAX_PAGES, PAGE_SIZE};
use crate::client::{ArcaClient, Result};
use crate::endpoint::Endpoint;
use crate::error::ClientError;

/// A chart as the server describes it (NGC's `artifact`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
#[non_exhaustive]
pub struct ChartInfo {
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
    /// Overview (Markdown; the package's README.md when not set).
    pub description: Option<String>,
    /// Labels.
    #[serde(deserialize_with = "null_default")]
    pub labels: Vec<String>,
    /// Logo URL.
    pub logo: Option<String>,
    /// Publisher.
    pub publisher: Option<String>,
    /// Built by.
    pub built_by: Option<String>,
    /// The latest version.
    pub latest_version_id: Option<String>,
    /// The latest version's total file size.
    pub latest_version_size_in_bytes: Option<u64>,
    /// Public flag.
    #[serde(deserialize_with = "null_default")]
    pub is_public: bool,
    /// Read-only flag.
    #[serde(deserialize_with = "null_default")]
    pub is_read_only: bool,
    /// Creation instant.
    pub created_date: Option<String>,
    /// Last change.
    pub updated_date: Option<String>,
}

/// One version of a chart (NGC's `artifactVersion`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
#[non_exhaustive]
pub struct ChartVersionInfo {
    /// The version.
    pub id: String,
    /// `UPLOAD_COMPLETE`.
    pub status: String,
    /// Files in the package.
    pub total_file_count: u64,
    /// Their total size.
    pub total_size_in_bytes: u64,
    /// `sha256:<hex>` of the `.tgz`.
    pub package_digest: Option<String>,
    /// Size of the `.tgz`.
    pub package_size_in_bytes: Option<u64>,
    /// `appVersion` of `Chart.yaml`.
    pub app_version: Option<String>,
    /// `description` of `Chart.yaml`.
    pub description: Option<String>,
    /// Creation instant.
    pub created_date: Option<String>,
    /// Last change.
    pub updated_date: Option<String>,
}

/// One file of a chart package.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
#[non_exhaustive]
pub struct ChartFile {
    /// Path inside the chart directory.
    pub path: String,
    /// Size in bytes.
    pub size_in_bytes: u64,
}

/// Where a chart lives.
#[derive(Debug, Clone, Copy)]
pub struct ChartPlace<'a> {
    /// Org.
    pub org: &'a str,
    /// Team.
    pub team: Option<&'a str>,
    /// Name.
    pub name: &'a str,
}

fn records(org: &str, team: Option<&str>, rest: &[&str]) -> Result<Endpoint> {
    let mut s = vec!["v2".to_string(), "org".into(), org.to_string()];
    if let Some(t) = team {
        s.push("team".into());
        s.push(t.to_string());
    }
    s.push("helm-charts".into());
    s.extend(rest.iter().map(|x| x.to_string()));
    Endpoint::from_segments(s)
}

fn repository(org: &str, team: Option<&str>, rest: &[&str]) -> Result<Endpoint> {
    let mut s = vec![org.to_string()];
    if let Some(t) = team {
        s.push(t.to_string());
    }
    s.extend(rest.iter().map(|x| x.to_string()));
    Endpoint::from_segments(s)
}

impl ChartPlace<'_> {
    fn at(&self, rest: &[&str]) -> Result<Endpoint> {
        let mut all = vec![self.name];
        all.extend_from_slice(rest);
        records(self.org, self.team, &all)
    }

    /// `org/[team/]name`.
    pub fn path(&self) -> String {
        match self.team {
            Some(t) => format!("{}/{t}/{}", self.org, self.name),
            None => format!("{}/{}", self.org, self.name),
        }
    }
}

fn unwrap_key<T: serde::de::DeserializeOwned>(mut v: Value, key: &str) -> Result<T> {
    let inner = v.get_mut(key).map(Value::take).unwrap_or(Value::Null);
    serde_json::from_value(inner).map_err(|e| ClientError::Decode {
        url: String::new(),
        reason: format!("{key}: {e}"),
    })
}

impl ArcaClient {
    /// Creates a chart record; `body` holds NGC's fields (`shortDescription` is required;
    /// `name` is set from `at`).
    pub async fn create_chart(&self, at: ChartPlace<'_>, body: &Value) -> Result<ChartInfo> {
        let mut body = body.clone();
        if let Value::Object(m) = &mut body {
            m.insert("name".into(), json!(at.name));
        }
        let v: Value = self
            .post_json(records(at.org, at.team, &[])?, &body)
            .await?;
        unwrap_key(v, "artifact")
    }

    /// A chart record.
    pub async fn chart(&self, at: ChartPlace<'_>) -> Result<ChartInfo> {
        let v: Value = self.get_json(at.at(&[])?).await?;
        unwrap_key(v, "artifact")
    }

    /// Edits a chart record (`PATCH`, the fields of guide §6.5.1).
    pub async fn update_chart(&self, at: ChartPlace<'_>, body: &Value) -> Result<ChartInfo> {
        let v: Value = self.patch_json(at.at(&[])?, body).await?;
        unwrap_key(v, "artifact")
    }

    /// Deletes a chart with all its versions.
    pub async fn delete_chart(&self, at: ChartPlace<'_>) -> Result<()> {
        self.delete(at.at(&[])?).await
    }

    /// Charts of an org or team, optionally only names matching a `*`/`?` pattern.
    pub async fn list_charts(
        &self,
        org: &str,
        team: Option<&str>,
        pattern: Option<&str>,
    ) -> Result<Vec<ChartInfo>> {
        let mut e = records(org, team, &[])?;
        if let Some(p) = pattern {
            e = e.query("q", p);
        }
        self.all_chart_pages(e, "artifacts").await
    }

    /// The versions of a chart, SemVer-descending.
    pub async fn chart_versions(&self, at: ChartPlace<'_>) -> Result<Vec<ChartVersionInfo>> {
        self.all_chart_pages(at.at(&["versions"])?, "artifactVersions")
            .await
    }

    /// One version of a chart.
    pub async fn chart_version(
        &self,
        at: ChartPlace<'_>,
        version: &str,
    ) -> Result<ChartVersionInfo> {
        let v: Value = self.get_json(at.at(&["versions", version])?).await?;
        unwrap_key(v, "artifactVersion")
    }

    /// The files of a chart version's package.
    pub async fn chart_files(&self, at: ChartPlace<'_>, version: &str) -> Result<Vec<ChartFile>> {
        self.all_chart_pages(at.at(&["versions", version, "files"])?, "artifactFiles")
            .await
    }

    /// Deletes one chart version.
    pub async fn delete_chart_version(&self, at: ChartPlace<'_>, version: &str) -> Result<()> {
        self.delete(at.at(&["versions", version])?).await
    }

    /// Uploads a chart package through the ChartMuseum API; the server checks that its
    /// `Chart.yaml` is `at.name` at `version` and creates the chart record if needed.
    pub async fn push_chart(&self, at: ChartPlace<'_>, version: &str, tgz: Vec<u8>) -> Result<()> {
        let mut s = vec!["api".to_string(), at.org.to_string()];
        if let Some(t) = at.team {
            s.push(t.to_string());
        }
        s.push("charts".into());
        let e = Endpoint::from_segments(s)?
            .query("name", at.name)
            .query("version", version);
        let req = self
            .request(Method::POST, e)
            .header(CONTENT_TYPE, "application/gzip")
            .body(tgz);
        self.send(req).await.map(|_| ())
    }

    /// Downloads a chart package (`<name>-<version>.tgz`) from the Helm repository.
    pub async fn pull_chart(&self, at: ChartPlace<'_>, version: &str) -> Result<Vec<u8>> {
        let file = format!("{}-{version}.tgz", at.name);
        let e = repository(at.org, at.team, &["charts", &file])?;
        let res = self.send(self.request(Method::GET, e)).await?;
        let url = res.url().to_string();
        res.bytes()
            .await
            .map(|b| b.to_vec())
            .map_err(|e| ClientError::Decode {
                url,
                reason: e.to_string(),
            })
    }

    async fn all_chart_pages<T: serde::de::DeserializeOwned>(
        &self,
        e: Endpoint,
        key: &str,
    ) -> Result<Vec<T>> {
        let mut items = Vec::new();
        for number in 0..MAX_PAGES {
            let mut page: Value = self
                .get_json(
                    e.clone()
                        .query("page-size", PAGE_SIZE)
                        .query("page-number", number),
                )
                .await?;
            let info: Option<PaginationInfo> = page
                .get_mut("paginationInfo")
                .map(Value::take)
                .and_then(|v| serde_json::from_value(v).ok());
            let batch: Vec<T> = match page.get_mut(key).map(Value::take) {
                None | Some(Value::Null) => Vec::new(),
                Some(v) => serde_json::from_value(v).map_err(|e| ClientError::Decode {
                    url: String::new(),
                    reason: format!("{key}: {e}"),
                })?,
            };
            let got = batch.len();
            items.extend(batch);
            if !info.is_some_and(|i| number + 1 < i.total_pages) || got == 0 {
                break;
            }
        }
        Ok(items)
    }
}

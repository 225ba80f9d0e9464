//! `/v2/org/{org}[/team/{team}]/helm-charts…`: chart records and versions in NGC's shapes
//! (R-HELM-1, R-HELM-4; guide §6.4, §6.5; `shared/research/ngc-rest-protocol.md` §5.3): NGC
//! wraps charts as `artifact` / `artifactVersion`. Versions are created by uploading a package
//! (ChartMuseum API or `helm push oci://`), never through this API.
//!
//! Each handler serves both the org-level and the team-level path (the team is read from the
//! match info when the route has one).

use super::caller::Caller;
use super::json::{self, envelope, paginate, Page};
use super::orgs::{org_id, team_name};
use crate::app::AppState;
use crate::errors::ApiError;
use actix_web::{web, HttpRequest, HttpResponse};
use arca_auth::ArtifactKind;
use arca_core::artifacts::{metadata_from_fields, ArtifactPatch, ArtifactRef};
use arca_core::charts::{EXTRA_CHART, EXTRA_PACKAGE_DIGEST, EXTRA_PACKAGE_SIZE};
use arca_core::model::{Artifact, ArtifactVersion};
use arca_core::names::{ArtifactName, OrgId, TeamName, VersionId};
use serde::Deserialize;
use serde_json::{json, Map, Value};

fn scope(req: &HttpRequest) -> Result<(OrgId, Option<TeamName>), ApiError> {
    let info = req.match_info();
    let org = org_id(info.get("org").unwrap_or_default())?;
    let team = info.get("team").map(|t| team_name(&org, t)).transpose()?;
    Ok((org, team))
}

fn chart_ref(req: &HttpRequest) -> Result<ArtifactRef, ApiError> {
    let (org, team) = scope(req)?;
    let name = req.match_info().get("name").unwrap_or_default();
    let name = ArtifactName::new(name)
        .map_err(|_| ApiError::not_found(format!("chart {org}/{name} not found")))?;
    Ok(ArtifactRef {
        kind: ArtifactKind::HelmChart,
        org,
        team,
        name,
    })
}

fn version_id(req: &HttpRequest) -> Result<VersionId, ApiError> {
    let v = req.match_info().get("version").unwrap_or_default();
    VersionId::new(v).map_err(|_| ApiError::not_found(format!("chart version {v} not found")))
}

fn without_nulls(mut v: Value) -> Value {
    if let Value::Object(m) = &mut v {
        m.retain(|_, x| !x.is_null());
    }
    v
}

/// A chart as NGC's `artifact`.
fn artifact_json(a: &Artifact, latest: Option<&ArtifactVersion>) -> Value {
    let m = &a.metadata;
    without_nulls(json!({
        "name": a.name,
        "displayName": m.display_name.clone().unwrap_or_else(|| a.name.to_string()),
        "shortDescription": m.short_description,
        "description": m.description,
        "labels": m.labels,
        "logo": m.logo,
        "publisher": m.publisher,
        "builtBy": m.built_by,
        "attributes": m.attributes,
        "orgName": a.org,
        "teamName": a.team,
        "createdDate": json::date(a.created_at),
        "updatedDate": json::date(a.updated_at),
        "isPublic": a.public,
        "accessType": if a.public { "LISTED" } else { "NOT_LISTED" },
        "isReadOnly": false,
        "latestVersionId": a.latest_version,
        "latestVersionIdStr": a.latest_version,
        "latestVersionSizeInBytes": latest.map(|v| v.total_size),
    }))
}

/// A chart version as NGC's `artifactVersion` (its `id` is the version string).
fn version_json(v: &ArtifactVersion) -> Value {
    let extra = &v.metadata.extra;
    let chart = extra.get(EXTRA_CHART);
    let field = |k: &str| chart.and_then(|c| c.get(k)).cloned();
    without_nulls(json!({
        "id": v.version,
        "versionId": v.version,
        "status": v.status.as_str(),
        "totalFileCount": v.file_count,
        "totalSizeInBytes": v.total_size,
        "packageDigest": extra.get(EXTRA_PACKAGE_DIGEST),
        "packageSizeInBytes": extra.get(EXTRA_PACKAGE_SIZE),
        "appVersion": field("appVersion"),
        "description": field("description"),
        "createdDate": json::date(v.created_at),
        "updatedDate": json::date(v.updated_at),
        "malwareScanStatus": "NOT_SCANNED",
    }))
}

/// NGC request fields that carry nothing for Arca, accepted and ignored.
const IGNORED_FIELDS: &[&str] = &[
    "name",
    "licenseTerms",
    "productNames",
    "policyLabels",
    "id",
    "isPublic",
    "isReadOnly",
];

/// Maps an NGC chart body (guide §6.5.1) to Arca's metadata field names (`labelsV2` →
/// `labels`).
fn chart_fields(body: &Map<String, Value>) -> Map<String, Value> {
    let mut out = Map::new();
    for (k, v) in body {
        match k.as_str() {
            k if IGNORED_FIELDS.contains(&k) => {}
            "labelsV2" | "labels" => {
                out.insert("labels".into(), json::ngc_labels(v));
            }
            _ => {
                out.insert(k.clone(), v.clone());
            }
        }
    }
    out
}

async fn one(state: &AppState, a: &Artifact) -> Result<Value, ApiError> {
    let latest = state.arca.latest_version(a).await?;
    Ok(envelope(vec![(
        "artifact",
        artifact_json(a, latest.as_ref()),
    )]))
}

fn ok() -> HttpResponse {
    HttpResponse::Ok().json(json!({"requestStatus": json::ok_status()}))
}

/// `POST /v2/org/{org}[/team/{team}]/helm-charts` (a short description is required)
pub async fn create(
    req: HttpRequest,
    caller: Caller,
    state: web::Data<AppState>,
    body: web::Json<Map<String, Value>>,
) -> Result<HttpResponse, ApiError> {
    let (org, team) = scope(&req)?;
    let name = body
        .get("name")
        .and_then(Value::as_str)
        .ok_or_else(|| ApiError::bad_request("the body needs a \"name\""))?;
    name.parse::<arca_helm::ChartName>()
        .map_err(|e| ApiError::bad_request(e.to_string()))?;
    let name = ArtifactName::new(name).map_err(|e| ApiError::bad_request(e.to_string()))?;
    let r = ArtifactRef {
        kind: ArtifactKind::HelmChart,
        org,
        team,
        name,
    };
    let metadata = metadata_from_fields(ArtifactKind::HelmChart, &chart_fields(&body))?;
    let a = state.arca.create_artifact(&caller.0, &r, metadata).await?;
    Ok(HttpResponse::Ok().json(one(&state, &a).await?))
}

/// Query of the list endpoint.
#[derive(Debug, Deserialize)]
pub struct ListQuery {
    /// `*`/`?` wildcard on the name.
    q: Option<String>,
}

/// `GET /v2/org/{org}[/team/{team}]/helm-charts` (`?q=` wildcard on the name)
pub async fn list(
    req: HttpRequest,
    caller: Caller,
    state: web::Data<AppState>,
    page: web::Query<Page>,
    q: web::Query<ListQuery>,
) -> Result<HttpResponse, ApiError> {
    let (org, team) = scope(&req)?;
    let all = state
        .arca
        .list_artifacts(
            &caller.0,
            ArtifactKind::HelmChart,
            &org,
            team.as_ref(),
            q.q.as_deref(),
        )
        .await?;
    let all: Vec<Artifact> = all.into_iter().filter(|a| a.team == team).collect();
    let (items, pagination) = paginate(all, &page);
    let latest = state.arca.latest_versions(&items).await?;
    let out: Vec<Value> = items
        .iter()
        .map(|a| artifact_json(a, latest.get(&a.id)))
        .collect();
    Ok(HttpResponse::Ok().json(envelope(vec![
        ("artifacts", Value::Array(out)),
        ("paginationInfo", pagination),
    ])))
}

/// `GET /v2/org/{org}[/team/{team}]/helm-charts/{name}`
pub async fn get(
    req: HttpRequest,
    caller: Caller,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let r = chart_ref(&req)?;
    let a = state.arca.artifact(&caller.0, &r).await?;
    Ok(HttpResponse::Ok().json(one(&state, &a).await?))
}

/// `PATCH /v2/org/{org}[/team/{team}]/helm-charts/{name}` (guide §6.5.1 fields)
pub async fn patch(
    req: HttpRequest,
    caller: Caller,
    state: web::Data<AppState>,
    body: web::Json<Map<String, Value>>,
) -> Result<HttpResponse, ApiError> {
    let r = chart_ref(&req)?;
    let public = match body.get("isPublic") {
        None | Some(Value::Null) => None,
        Some(Value::Bool(b)) => Some(*b),
        Some(_) => return Err(ApiError::bad_request("isPublic must be true or false")),
    };
    let patch = ArtifactPatch {
        fields: chart_fields(&body),
        public,
    };
    let a = state.arca.update_artifact(&caller.0, &r, &patch).await?;
    Ok(HttpResponse::Ok().json(one(&state, &a).await?))
}

/// `DELETE /v2/org/{org}[/team/{team}]/helm-charts/{name}`: the chart, its versions and their
/// OCI tags.
pub async fn delete(
    req: HttpRequest,
    caller: Caller,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let r = chart_ref(&req)?;
    state.arca.delete_chart(&caller.0, &r).await?;
    Ok(ok())
}

/// `GET …/helm-charts/{name}/versions` (SemVer-descending)
pub async fn list_versions(
    req: HttpRequest,
    caller: Caller,
    state: web::Data<AppState>,
    page: web::Query<Page>,
) -> Result<HttpResponse, ApiError> {
    let r = chart_ref(&req)?;
    let (_, versions) = state.arca.versions(&caller.0, &r).await?;
    let (items, pagination) = paginate(versions, &page);
    let out: Vec<Value> = items.iter().map(version_json).collect();
    Ok(HttpResponse::Ok().json(envelope(vec![
        ("artifactVersions", Value::Array(out)),
        ("paginationInfo", pagination),
    ])))
}

/// `GET …/helm-charts/{name}/versions/{version}`
pub async fn get_version(
    req: HttpRequest,
    caller: Caller,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let r = chart_ref(&req)?;
    let v = version_id(&req)?;
    let view = state.arca.version(&caller.0, &r, &v).await?;
    Ok(HttpResponse::Ok().json(envelope(vec![
        ("artifactVersion", version_json(&view.version)),
        ("artifact", artifact_json(&view.artifact, None)),
    ])))
}

/// `DELETE …/helm-charts/{name}/versions/{version}` (and its OCI tag)
pub async fn delete_version(
    req: HttpRequest,
    caller: Caller,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let r = chart_ref(&req)?;
    let v = version_id(&req)?;
    state.arca.delete_chart_version(&caller.0, &r, &v).await?;
    Ok(ok())
}

/// `GET …/helm-charts/{name}/versions/{version}/files`: the file browser, read from the
/// package.
pub async fn version_files(
    req: HttpRequest,
    caller: Caller,
    state: web::Data<AppState>,
    page: web::Query<Page>,
) -> Result<HttpResponse, ApiError> {
    let r = chart_ref(&req)?;
    let v = version_id(&req)?;
    let (_, files) = state.arca.chart_files(&caller.0, &r, &v).await?;
    let (items, pagination) = paginate(files, &page);
    let out: Vec<Value> = items
        .iter()
        .map(|f| json!({"path": f.path, "sizeInBytes": f.size}))
        .collect();
    Ok(HttpResponse::Ok().json(envelope(vec![
        ("artifactFiles", Value::Array(out)),
        ("paginationInfo", pagination),
    ])))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ngc_labels_become_plain_labels() {
        let body: Map<String, Value> = serde_json::from_value(json!({
            "name": "x",
            "labelsV2": [{"key": "general", "values": ["a", "b"]}, "c", {"value": "d"}],
            "displayName": "X",
        }))
        .unwrap();
        let f = chart_fields(&body);
        assert_eq!(f["labels"], json!(["a", "b", "c", "d"]));
        assert_eq!(f["displayName"], "X");
        assert!(!f.contains_key("name"));
    }
}

//! `/v2/search/…`: the search API that NGC clients use for every `list` with no target or a
//! wildcard (`shared/research/ngc-rest-protocol.md` §4): results grouped by resource type, one
//! page at a time, filtered to what the caller may see.

use super::caller::Caller;
use super::json;
use super::orgs::{org_id, team_name};
use crate::app::AppState;
use crate::errors::ApiError;
use actix_web::{web, HttpRequest, HttpResponse};
use arca_auth::ArtifactKind;
use arca_core::artifacts::wildcard;
use arca_core::model::{Artifact, ArtifactVersion};
use serde::Deserialize;
use serde_json::{json, Value};

/// The `q` parameter: a JSON document.
#[derive(Debug, Deserialize)]
pub struct SearchQuery {
    q: Option<String>,
}

/// The parts of the `q` document Arca uses.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
struct Query {
    query: Option<String>,
    page: Option<usize>,
    page_size: Option<usize>,
}

const MAX_PAGE: usize = 1000;

fn kind_of(resource_type: &str) -> Option<ArtifactKind> {
    match resource_type.to_ascii_uppercase().as_str() {
        "MODEL" => Some(ArtifactKind::Model),
        "RECIPE" | "RESOURCE" => Some(ArtifactKind::Resource),
        "HELM_CHART" => Some(ArtifactKind::HelmChart),
        "CONTAINER" => Some(ArtifactKind::Container),
        _ => None,
    }
}

fn parse_q(q: Option<&str>) -> Result<Query, ApiError> {
    match q {
        None => Ok(Query::default()),
        Some(s) => serde_json::from_str(s)
            .map_err(|e| ApiError::bad_request(format!("q is not a valid search document: {e}"))),
    }
}

/// The `resourceId:` pattern of the query (`org/[team/]name` with `*`/`?`), if any.
fn resource_pattern(query: Option<&str>) -> Option<String> {
    let q = query?.trim();
    let p = q.strip_prefix("resourceId:").unwrap_or(q).trim();
    if p.is_empty() || p == "*" {
        None
    } else {
        Some(p.to_string())
    }
}

/// One search hit, before it becomes JSON.
struct Entry<'a> {
    resource_id: String,
    name: &'a str,
    display: Option<&'a str>,
    org: &'a str,
    team: Option<&'a str>,
    description: Option<&'a str>,
    created: String,
    modified: String,
    public: bool,
    labels: &'a [String],
    attributes: Vec<(&'static str, Value)>,
}

impl Entry<'_> {
    fn json(self, resource_type: &str) -> Value {
        let attributes: Vec<Value> = self
            .attributes
            .into_iter()
            .filter(|(_, v)| !v.is_null())
            .map(|(k, v)| {
                let v = match v {
                    Value::String(s) => s,
                    other => other.to_string(),
                };
                json!({"key": k, "value": v})
            })
            .collect();
        let labels = if self.labels.is_empty() {
            json!([])
        } else {
            json!([{"key": "general", "values": self.labels}])
        };
        json!({
            "resourceId": self.resource_id,
            "name": self.name,
            "displayName": self.display.unwrap_or(self.name),
            "orgName": self.org,
            "teamName": self.team,
            "description": self.description.unwrap_or_default(),
            "dateCreated": self.created,
            "dateModified": self.modified,
            "resourceType": resource_type,
            "isPublic": self.public,
            "guestAccess": self.public,
            "accessType": if self.public { "LISTED" } else { "NOT_LISTED" },
            "labels": labels,
            "attributes": attributes,
        })
    }
}

fn artifact_entry(a: &Artifact, latest: Option<&ArtifactVersion>, resource_type: &str) -> Value {
    let m = &a.metadata;
    Entry {
        resource_id: a.path(),
        name: a.name.as_str(),
        display: m.display_name.as_deref(),
        org: a.org.as_str(),
        team: a.team.as_ref().map(|t| t.as_str()),
        description: m.short_description.as_deref(),
        created: json::date(a.created_at),
        modified: json::date(a.updated_at),
        public: a.public,
        labels: &m.labels,
        attributes: vec![
            ("latestVersionIdStr", json!(a.latest_version)),
            (
                "latestVersionSizeInBytes",
                json!(latest.map(|v| v.total_size)),
            ),
            ("application", json!(m.application)),
            ("framework", json!(m.framework)),
            ("precision", json!(m.precision)),
            ("modelFormat", json!(m.model_format)),
            ("publisher", json!(m.publisher)),
            ("builtBy", json!(m.built_by)),
        ],
    }
    .json(resource_type)
}

async fn search(
    state: &AppState,
    caller: &Caller,
    org: Option<&str>,
    team: Option<&str>,
    resource_type: &str,
    q: Option<&str>,
) -> Result<HttpResponse, ApiError> {
    let query = parse_q(q)?;
    let page = query.page.unwrap_or(0);
    let size = query.page_size.unwrap_or(100).clamp(1, MAX_PAGE);
    let kind = kind_of(resource_type).ok_or_else(|| {
        ApiError::bad_request(format!(
            "resource type '{}' is not MODEL, RECIPE, HELM_CHART or CONTAINER",
            arca_core::names::shown(resource_type)
        ))
    })?;
    let pattern = resource_pattern(query.query.as_deref());
    let matcher = pattern.as_deref().map(wildcard).transpose()?;
    let matches = |id: &str| matcher.as_ref().map_or(true, |m| m.is_match(id));
    let resource_type = resource_type.to_ascii_uppercase();
    // The catalog endpoints search NVIDIA's public catalog; Arca has none to offer there.
    let mut found: Vec<Value> = Vec::new();
    if let Some(org) = org {
        let org = org_id(org)?;
        let team = team.map(|t| team_name(&org, t)).transpose()?;
        if kind == ArtifactKind::Container {
            let repos = state
                .arca
                .list_repositories(&caller.0, &org, team.as_ref())
                .await?;
            for r in repos.iter().filter(|r| matches(&r.path())) {
                let m = &r.metadata;
                found.push(
                    Entry {
                        resource_id: r.path(),
                        name: r.name.as_str(),
                        display: m.display_name.as_deref(),
                        org: r.org.as_str(),
                        team: r.team.as_ref().map(|t| t.as_str()),
                        description: Some(m.short_description.as_str()),
                        created: json::date(r.created_at),
                        modified: json::date(r.updated_at),
                        public: r.public,
                        labels: &m.labels,
                        attributes: vec![],
                    }
                    .json(&resource_type),
                );
            }
        } else {
            let all = state
                .arca
                .list_artifacts(&caller.0, kind, &org, team.as_ref(), None)
                .await?;
            let hits: Vec<Artifact> = all.into_iter().filter(|a| matches(&a.path())).collect();
            let latest = state.arca.latest_versions(&hits).await?;
            found.extend(
                hits.iter()
                    .map(|a| artifact_entry(a, latest.get(&a.id), &resource_type)),
            );
        }
    }
    let total = found.len();
    let pages = total.div_ceil(size).max(1);
    let items: Vec<Value> = found
        .into_iter()
        .skip(page.saturating_mul(size))
        .take(size)
        .collect();
    Ok(HttpResponse::Ok().json(json!({
        "results": [{"groupValue": resource_type, "totalCount": total, "resources": items}],
        "resultPageTotal": pages,
        "resultTotal": total,
        "requestStatus": json::ok_status(),
    })))
}

/// `GET /v2/search/org/{org}[/team/{team}]/resources/{type}?q=`
pub async fn org(
    req: HttpRequest,
    caller: Caller,
    state: web::Data<AppState>,
    q: web::Query<SearchQuery>,
) -> Result<HttpResponse, ApiError> {
    let info = req.match_info();
    search(
        &state,
        &caller,
        info.get("org"),
        info.get("team"),
        info.get("type").unwrap_or_default(),
        q.q.as_deref(),
    )
    .await
}

/// `GET /v2/search/[subscriber/]catalog/resources/{type}?q=` — NVIDIA's public catalog: empty
/// in Arca, in the same shape.
pub async fn catalog(
    req: HttpRequest,
    caller: Caller,
    state: web::Data<AppState>,
    q: web::Query<SearchQuery>,
) -> Result<HttpResponse, ApiError> {
    let t = req.match_info().get("type").unwrap_or_default().to_string();
    search(&state, &caller, None, None, &t, q.q.as_deref()).await
}

/// `GET /v2/search/labelsets?resource-type=` — Arca has no curated label sets.
pub async fn labelsets(_caller: Caller) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(json!({"labelSets": [], "requestStatus": json::ok_status()})))
}

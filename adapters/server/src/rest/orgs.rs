//! `/v2/orgs`, `/v2/org/{org}/teams`: orgs and teams (R-TEN-1, R-TEN-2).

use super::caller::Caller;
use super::json::{self, envelope, paginate, Page};
use crate::app::AppState;
use crate::errors::ApiError;
use actix_web::{web, HttpResponse};
use arca_core::names::{OrgId, TeamName};
use serde::Deserialize;
use serde_json::{json, Value};

/// Parses an org id from a path; an invalid one cannot exist: 404.
pub fn org_id(s: &str) -> Result<OrgId, ApiError> {
    OrgId::new(s).map_err(|_| ApiError::not_found(format!("org {s} not found")))
}

/// Parses a team name from a path; an invalid one cannot exist: 404.
pub fn team_name(org: &OrgId, s: &str) -> Result<TeamName, ApiError> {
    TeamName::new(s).map_err(|_| ApiError::not_found(format!("team {org}/{s} not found")))
}

/// GET /v2/orgs
pub async fn list_orgs(
    caller: Caller,
    state: web::Data<AppState>,
    page: web::Query<Page>,
) -> Result<HttpResponse, ApiError> {
    let orgs = state.arca.list_orgs(&caller.0).await?;
    let (orgs, info) = paginate(orgs, &page);
    let list: Vec<Value> = orgs.iter().map(json::org).collect();
    Ok(HttpResponse::Ok().json(envelope(vec![
        ("organizations", Value::Array(list)),
        ("paginationInfo", info),
    ])))
}

/// GET /v2/orgs/{org} — NGC answers with a single object under `organizations`.
pub async fn get_org(
    caller: Caller,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let org = org_id(&path)?;
    let o = state.arca.get_org(&caller.0, &org).await?;
    Ok(HttpResponse::Ok().json(envelope(vec![
        ("organizations", json::org(&o)),
        ("organization", json::org(&o)),
    ])))
}

/// GET /v2/org/{org}/usage — the org's storage usage against its limits (R-QUO-2), for every
/// member of the org: `{"usage":{"images":{"used","limit"},"modelsAndResources":{…},
/// "maxLayerBytes"}}`.
pub async fn org_usage(
    caller: Caller,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let org = org_id(&path)?;
    let usage = state.arca.view_org_usage(&caller.0, &org).await?;
    Ok(HttpResponse::Ok().json(envelope(vec![("usage", json!(usage))])))
}

/// GET /v2/org/{org}/team/{team}/usage — the bytes the team's artifacts reference (R-QUO-2):
/// `{"usage":{"images","modelsAndResources"}}`, each distinct blob once within the team.
pub async fn team_usage(
    caller: Caller,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (org, team) = path.into_inner();
    let org = org_id(&org)?;
    let team = team_name(&org, &team)?;
    let usage = state.arca.view_team_usage(&caller.0, &org, &team).await?;
    Ok(HttpResponse::Ok().json(envelope(vec![("usage", json!(usage))])))
}

/// GET /v2/org/{org}/teams
pub async fn list_teams(
    caller: Caller,
    state: web::Data<AppState>,
    path: web::Path<String>,
    page: web::Query<Page>,
) -> Result<HttpResponse, ApiError> {
    let org = org_id(&path)?;
    let teams = state.arca.list_teams(&caller.0, &org).await?;
    let (teams, info) = paginate(teams, &page);
    Ok(HttpResponse::Ok().json(envelope(vec![
        (
            "teams",
            Value::Array(teams.iter().map(json::team).collect()),
        ),
        ("paginationInfo", info),
    ])))
}

/// Body of team creation and update.
#[derive(Debug, Deserialize)]
pub struct TeamBody {
    name: Option<String>,
    #[serde(default)]
    description: Option<String>,
}

/// POST /v2/org/{org}/teams
pub async fn create_team(
    caller: Caller,
    state: web::Data<AppState>,
    path: web::Path<String>,
    body: web::Json<TeamBody>,
) -> Result<HttpResponse, ApiError> {
    let org = org_id(&path)?;
    let name = body
        .name
        .as_deref()
        .ok_or_else(|| ApiError::bad_request("the field 'name' is required"))?;
    let name = TeamName::new(name).map_err(|e| ApiError::bad_request(e.to_string()))?;
    let team = state
        .arca
        .create_team(
            &caller.0,
            &org,
            name,
            body.description.clone().unwrap_or_default(),
        )
        .await?;
    Ok(HttpResponse::Ok().json(envelope(vec![("team", json::team(&team))])))
}

/// GET /v2/org/{org}/teams/{team}
pub async fn get_team(
    caller: Caller,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let org = org_id(&path.0)?;
    let name = team_name(&org, &path.1)?;
    let team = state.arca.get_team(&caller.0, &org, &name).await?;
    Ok(HttpResponse::Ok().json(envelope(vec![("team", json::team(&team))])))
}

/// PATCH /v2/org/{org}/teams/{team}
pub async fn update_team(
    caller: Caller,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
    body: web::Json<TeamBody>,
) -> Result<HttpResponse, ApiError> {
    let org = org_id(&path.0)?;
    let name = team_name(&org, &path.1)?;
    let team = state
        .arca
        .update_team(
            &caller.0,
            &org,
            &name,
            body.description.clone().unwrap_or_default(),
        )
        .await?;
    Ok(HttpResponse::Ok().json(envelope(vec![("team", json::team(&team))])))
}

/// DELETE /v2/org/{org}/teams/{team}
pub async fn delete_team(
    caller: Caller,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let org = org_id(&path.0)?;
    let name = team_name(&org, &path.1)?;
    state.arca.delete_team(&caller.0, &org, &name).await?;
    Ok(HttpResponse::Ok().json(json!({"requestStatus": json::ok_status()})))
}

fn permissions_json(p: &arca_core::tenancy::Permissions) -> Value {
    let mut artifacts = serde_json::Map::new();
    for (kind, actions) in &p.artifacts {
        artifacts.insert(kind.to_string(), json!(actions));
    }
    json!({"artifacts": artifacts, "people": p.people})
}

/// GET /v2/org/{org}/permissions — what the caller may do at org level.
pub async fn org_permissions(
    caller: Caller,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let org = org_id(&path)?;
    let p = state.arca.permissions(&caller.0, &org, None).await?;
    Ok(HttpResponse::Ok().json(envelope(vec![("permissions", permissions_json(&p))])))
}

/// GET /v2/org/{org}/team/{team}/permissions — what the caller may do in a team.
pub async fn team_permissions(
    caller: Caller,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let org = org_id(&path.0)?;
    let team = team_name(&org, &path.1)?;
    let p = state.arca.permissions(&caller.0, &org, Some(&team)).await?;
    Ok(HttpResponse::Ok().json(envelope(vec![("permissions", permissions_json(&p))])))
}

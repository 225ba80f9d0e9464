//! Users and roles: `/v2/users/me`, org and team member lists, adding users, changing and
//! removing roles (NGC's v2 and v3 paths), invitations, and the `/roles` vocabulary.

use super::caller::Caller;
use super::json::{self, envelope, paginate, Page};
use super::orgs::{org_id, team_name};
use crate::app::AppState;
use crate::errors::ApiError;
use actix_web::{web, HttpRequest, HttpResponse};
use arca_auth::{roles_vocabulary, Role};
use arca_core::authz::Principal;
use arca_core::model::Org;
use arca_core::names::{Email, OrgId, TeamName};
use arca_core::tenancy::AddedMember;
use serde::Deserialize;
use serde_json::{json, Value};

async fn visible_orgs(state: &AppState, p: &Principal) -> Vec<Org> {
    state.arca.list_orgs(p).await.unwrap_or_default()
}

/// Every `roles=` value of the query string (repeated keys allowed, also comma separated).
fn query_roles(req: &HttpRequest) -> Result<Vec<Role>, ApiError> {
    let mut roles = Vec::new();
    for (k, v) in form_urlencoded::parse(req.query_string().as_bytes()) {
        if k == "roles" || k == "role" {
            for name in v.split(',').filter(|s| !s.trim().is_empty()) {
                roles.push(
                    name.trim()
                        .parse::<Role>()
                        .map_err(|e| ApiError::bad_request(e.to_string()))?,
                );
            }
        }
    }
    if roles.is_empty() {
        return Err(ApiError::bad_request("give at least one role: ?roles=ROLE"));
    }
    roles.sort();
    roles.dedup();
    Ok(roles)
}

fn parse_roles(names: &[String]) -> Result<Vec<Role>, ApiError> {
    let mut roles = names
        .iter()
        .map(|n| {
            n.parse::<Role>()
                .map_err(|e| ApiError::bad_request(e.to_string()))
        })
        .collect::<Result<Vec<_>, _>>()?;
    roles.sort();
    roles.dedup();
    Ok(roles)
}

/// GET /v2/users/me
pub async fn me(caller: Caller, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let m = state.arca.me(&caller.0).await?;
    let orgs = visible_orgs(&state, &caller.0).await;
    Ok(HttpResponse::Ok().json(envelope(vec![("user", json::member(&m, &orgs))])))
}

/// Query of user lists: pagination plus NGC's `q={"filters":[{"field":"email","value":…}]}`.
#[derive(Debug, Deserialize)]
pub struct UserQuery {
    #[serde(rename = "page-size")]
    page_size: Option<usize>,
    #[serde(rename = "page-number")]
    page_number: Option<usize>,
    q: Option<String>,
}

impl UserQuery {
    fn page(&self) -> Page {
        Page {
            size: self.page_size,
            number: self.page_number,
        }
    }
}

fn email_filter(q: &Option<String>) -> Option<String> {
    let v: Value = serde_json::from_str(q.as_deref()?).ok()?;
    v.get("filters")?
        .as_array()?
        .iter()
        .find(|f| f.get("field").and_then(Value::as_str) == Some("email"))
        .and_then(|f| f.get("value").and_then(Value::as_str))
        .map(|s| s.to_lowercase())
}

async fn list_users(
    caller: &Caller,
    state: &AppState,
    org: &OrgId,
    team: Option<&TeamName>,
    query: &UserQuery,
) -> Result<HttpResponse, ApiError> {
    let mut members = state.arca.list_members(&caller.0, org, team).await?;
    if let Some(email) = email_filter(&query.q) {
        members.retain(|m| m.user.email.as_str() == email);
    }
    let orgs = visible_orgs(state, &caller.0).await;
    let (members, info) = paginate(members, &query.page());
    Ok(HttpResponse::Ok().json(envelope(vec![
        (
            "users",
            Value::Array(members.iter().map(|m| json::member(m, &orgs)).collect()),
        ),
        ("paginationInfo", info),
    ])))
}

/// GET /v2/org/{org}/users
pub async fn list_org_users(
    caller: Caller,
    state: web::Data<AppState>,
    path: web::Path<String>,
    query: web::Query<UserQuery>,
) -> Result<HttpResponse, ApiError> {
    let org = org_id(&path)?;
    list_users(&caller, &state, &org, None, &query).await
}

/// GET /v2/org/{org}/team/{team}/users
pub async fn list_team_users(
    caller: Caller,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
    query: web::Query<UserQuery>,
) -> Result<HttpResponse, ApiError> {
    let org = org_id(&path.0)?;
    let team = team_name(&org, &path.1)?;
    list_users(&caller, &state, &org, Some(&team), &query).await
}

async fn get_user(
    caller: &Caller,
    state: &AppState,
    org: &OrgId,
    team: Option<&TeamName>,
    who: &str,
) -> Result<HttpResponse, ApiError> {
    let m = state.arca.get_member(&caller.0, org, team, who).await?;
    let orgs = visible_orgs(state, &caller.0).await;
    Ok(HttpResponse::Ok().json(envelope(vec![("user", json::member(&m, &orgs))])))
}

/// GET /v2/org/{org}/users/{who} and /v3/orgs/{org}/users/{who}
pub async fn get_org_user(
    caller: Caller,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let org = org_id(&path.0)?;
    get_user(&caller, &state, &org, None, &path.1).await
}

/// GET /v2/org/{org}/team/{team}/users/{who} and /v3/orgs/{org}/teams/{team}/users/{who}
pub async fn get_team_user(
    caller: Caller,
    state: web::Data<AppState>,
    path: web::Path<(String, String, String)>,
) -> Result<HttpResponse, ApiError> {
    let org = org_id(&path.0)?;
    let team = team_name(&org, &path.1)?;
    get_user(&caller, &state, &org, Some(&team), &path.2).await
}

/// Body of `POST …/users`: a user by email with roles.
#[derive(Debug, Deserialize)]
pub struct AddUserBody {
    email: String,
    #[serde(default)]
    name: Option<String>,
    #[serde(default, rename = "roleTypes")]
    role_types: Vec<String>,
    #[serde(default)]
    roles: Vec<String>,
}

async fn add_user(
    caller: &Caller,
    state: &AppState,
    org: &OrgId,
    team: Option<&TeamName>,
    body: &AddUserBody,
) -> Result<HttpResponse, ApiError> {
    let email = Email::normalize(&body.email).map_err(|e| ApiError::bad_request(e.to_string()))?;
    let mut names = body.role_types.clone();
    names.extend(body.roles.iter().cloned());
    let roles = parse_roles(&names)?;
    let added = state
        .arca
        .add_member(&caller.0, org, team, &email, body.name.clone(), &roles)
        .await?;
    let orgs = visible_orgs(state, &caller.0).await;
    Ok(HttpResponse::Ok().json(added_json(&added, &orgs)))
}

/// `{"user": …}` plus, for a user's first membership, `"apiKey"` (shown once) and `"key"`.
fn added_json(added: &AddedMember, orgs: &[Org]) -> Value {
    let mut fields = vec![("user", json::member(&added.member, orgs))];
    if let Some(k) = &added.initial_key {
        fields.push(("key", json::key(&k.key)));
        fields.push((
            "apiKey",
            Value::String(k.secret.expose_secret().to_string()),
        ));
    }
    envelope(fields)
}

/// POST /v2/org/{org}/users
pub async fn add_org_user(
    caller: Caller,
    state: web::Data<AppState>,
    path: web::Path<String>,
    body: web::Json<AddUserBody>,
) -> Result<HttpResponse, ApiError> {
    let org = org_id(&path)?;
    add_user(&caller, &state, &org, None, &body).await
}

/// POST /v2/org/{org}/team/{team}/users
pub async fn add_team_user(
    caller: Caller,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
    body: web::Json<AddUserBody>,
) -> Result<HttpResponse, ApiError> {
    let org = org_id(&path.0)?;
    let team = team_name(&org, &path.1)?;
    add_user(&caller, &state, &org, Some(&team), &body).await
}

/// How a role change combines with the current roles.
#[derive(Debug, Clone, Copy)]
enum RoleChange {
    Add,
    Remove,
    Replace,
}

async fn change_roles(
    caller: &Caller,
    state: &AppState,
    org: &OrgId,
    team: Option<&TeamName>,
    who: &str,
    roles: Vec<Role>,
    change: RoleChange,
) -> Result<HttpResponse, ApiError> {
    let (user, current) = state.arca.find_user(&caller.0, org, team, who).await?;
    let orgs = visible_orgs(state, &caller.0).await;
    let mut next: Vec<Role> = match change {
        RoleChange::Add => current.iter().chain(roles.iter()).copied().collect(),
        RoleChange::Remove => current
            .iter()
            .copied()
            .filter(|r| !roles.contains(r))
            .collect(),
        RoleChange::Replace => roles,
    };
    next.sort();
    next.dedup();
    if current.is_empty() {
        if matches!(change, RoleChange::Remove) {
            return Err(ApiError::not_found(format!(
                "{} has no roles here",
                user.email
            )));
        }
        let added = state
            .arca
            .add_member(&caller.0, org, team, &user.email, None, &next)
            .await?;
        return Ok(HttpResponse::Ok().json(added_json(&added, &orgs)));
    }
    if next.is_empty() {
        state
            .arca
            .remove_member(&caller.0, org, team, user.id)
            .await?;
        let m = state
            .arca
            .find_user(&caller.0, org, None, &user.id.to_string())
            .await;
        let body = match m {
            Ok((u, _)) => json::user(&u, &[], &orgs),
            Err(_) => json!({"id": user.id, "email": user.email}),
        };
        return Ok(HttpResponse::Ok().json(envelope(vec![("user", body)])));
    }
    let m = state
        .arca
        .update_member_roles(&caller.0, org, team, user.id, &next)
        .await?;
    Ok(HttpResponse::Ok().json(envelope(vec![("user", json::member(&m, &orgs))])))
}

/// PATCH /v3/orgs/{org}/users/{who}/add-role?roles=…
pub async fn add_org_roles(
    caller: Caller,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let org = org_id(&path.0)?;
    let roles = query_roles(&req)?;
    change_roles(&caller, &state, &org, None, &path.1, roles, RoleChange::Add).await
}

/// PATCH /v3/orgs/{org}/teams/{team}/users/{who}/add-role?roles=…
pub async fn add_team_roles(
    caller: Caller,
    state: web::Data<AppState>,
    path: web::Path<(String, String, String)>,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let org = org_id(&path.0)?;
    let team = team_name(&org, &path.1)?;
    let roles = query_roles(&req)?;
    change_roles(
        &caller,
        &state,
        &org,
        Some(&team),
        &path.2,
        roles,
        RoleChange::Add,
    )
    .await
}

/// DELETE /v3/orgs/{org}/users/{who}/remove-role?roles=…
pub async fn remove_org_roles(
    caller: Caller,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let org = org_id(&path.0)?;
    let roles = query_roles(&req)?;
    change_roles(
        &caller,
        &state,
        &org,
        None,
        &path.1,
        roles,
        RoleChange::Remove,
    )
    .await
}

/// DELETE /v3/orgs/{org}/teams/{team}/users/{who}/remove-role?roles=…
pub async fn remove_team_roles(
    caller: Caller,
    state: web::Data<AppState>,
    path: web::Path<(String, String, String)>,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let org = org_id(&path.0)?;
    let team = team_name(&org, &path.1)?;
    let roles = query_roles(&req)?;
    change_roles(
        &caller,
        &state,
        &org,
        Some(&team),
        &path.2,
        roles,
        RoleChange::Remove,
    )
    .await
}

/// PATCH /v2/org/{org}/users/{who}/update-role?roles=… (replaces the org-level roles)
pub async fn replace_org_roles(
    caller: Caller,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let org = org_id(&path.0)?;
    let roles = query_roles(&req)?;
    change_roles(
        &caller,
        &state,
        &org,
        None,
        &path.1,
        roles,
        RoleChange::Replace,
    )
    .await
}

/// PATCH /v2/org/{org}/team/{team}/users/{who}/update-role?roles=…
pub async fn replace_team_roles(
    caller: Caller,
    state: web::Data<AppState>,
    path: web::Path<(String, String, String)>,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let org = org_id(&path.0)?;
    let team = team_name(&org, &path.1)?;
    let roles = query_roles(&req)?;
    change_roles(
        &caller,
        &state,
        &org,
        Some(&team),
        &path.2,
        roles,
        RoleChange::Replace,
    )
    .await
}

async fn remove_user(
    caller: &Caller,
    state: &AppState,
    org: &OrgId,
    team: Option<&TeamName>,
    who: &str,
) -> Result<HttpResponse, ApiError> {
    let (user, _) = state.arca.find_user(&caller.0, org, team, who).await?;
    state
        .arca
        .remove_member(&caller.0, org, team, user.id)
        .await?;
    Ok(HttpResponse::Ok().json(json!({"requestStatus": json::ok_status()})))
}

/// DELETE /v3/orgs/{org}/users/{who} and /v2/org/{org}/users/{who}
pub async fn remove_org_user(
    caller: Caller,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let org = org_id(&path.0)?;
    remove_user(&caller, &state, &org, None, &path.1).await
}

/// DELETE /v3/orgs/{org}/teams/{team}/users/{who} and /v2/org/{org}/team/{team}/users/{who}
pub async fn remove_team_user(
    caller: Caller,
    state: web::Data<AppState>,
    path: web::Path<(String, String, String)>,
) -> Result<HttpResponse, ApiError> {
    let org = org_id(&path.0)?;
    let team = team_name(&org, &path.1)?;
    remove_user(&caller, &state, &org, Some(&team), &path.2).await
}

/// One role entry of an invitation.
#[derive(Debug, Deserialize)]
pub struct InvitationRole {
    name: String,
    #[serde(default, rename = "resourceGroups")]
    resource_groups: Vec<String>,
}

/// Body of `POST /v3/orgs/{org}/invitations`.
#[derive(Debug, Deserialize)]
pub struct InvitationBody {
    email: String,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    roles: Vec<InvitationRole>,
}

/// POST /v3/orgs/{org}/invitations — Arca sends no email: the user becomes a member at once.
pub async fn invite(
    caller: Caller,
    state: web::Data<AppState>,
    path: web::Path<String>,
    body: web::Json<InvitationBody>,
) -> Result<HttpResponse, ApiError> {
    let org = org_id(&path)?;
    let email = Email::normalize(&body.email).map_err(|e| ApiError::bad_request(e.to_string()))?;
    let team = body
        .roles
        .iter()
        .flat_map(|r| r.resource_groups.iter())
        .next()
        .map(|t| team_name(&org, t))
        .transpose()?;
    let names: Vec<String> = body.roles.iter().map(|r| r.name.clone()).collect();
    let roles = parse_roles(&names)?;
    let added = state
        .arca
        .add_member(
            &caller.0,
            &org,
            team.as_ref(),
            &email,
            body.name.clone(),
            &roles,
        )
        .await?;
    let m = &added.member;
    let mut fields = vec![(
        "invitation",
        json!({
            "userEmail": m.user.email,
            "userName": m.user.display_name,
            "userRoles": roles,
            "orgName": org,
            "teamName": team,
            "createdDate": json::date(m.user.created_at),
        }),
    )];
    if let Some(k) = &added.initial_key {
        fields.push((
            "apiKey",
            Value::String(k.secret.expose_secret().to_string()),
        ));
    }
    Ok(HttpResponse::Ok().json(envelope(fields)))
}

/// GET /roles and /v2/roles: each role with its allowed actions per service (public
/// vocabulary, the same for everyone).
pub async fn roles() -> HttpResponse {
    let roles: Vec<Value> = roles_vocabulary()
        .iter()
        .map(|r| {
            json!({
                "name": r.name,
                "displayName": r.display_name,
                "allowedActions": r.allowed_actions.iter().map(|a| json!({
                    "service": a.service,
                    "actions": a.levels,
                })).collect::<Vec<_>>(),
            })
        })
        .collect();
    HttpResponse::Ok().json(envelope(vec![("roles", Value::Array(roles))]))
}

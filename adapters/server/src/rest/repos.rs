//! `/v2/org/{org}[/team/{team}]/repos…`: container repository metadata in NGC's shapes
//! (R-OCI-4, R-OCI-5): repository info, image (tag) lists with their multi-arch tables, tag
//! info, metadata edits, removal of a tag or a whole repository.

use super::caller::Caller;
use super::json::{self, envelope, paginate, Page};
use super::orgs::{org_id, team_name};
use crate::app::AppState;
use crate::errors::ApiError;
use actix_web::{web, HttpResponse};
use arca_core::model::Repository;
use arca_core::names::{ArtifactName, OrgId, TeamName};
use arca_core::registry::RepoRef;
use arca_core::repos::{ImageInfo, RepoInfo, RepoMetadataPatch};
use serde::Deserialize;
use serde_json::{json, Value};

fn repo_ref(org: OrgId, team: Option<TeamName>, name: &str) -> Result<RepoRef, ApiError> {
    let name = ArtifactName::new(name)
        .map_err(|_| ApiError::not_found(format!("repository {name} not found")))?;
    Ok(RepoRef { org, team, name })
}

fn namespace(r: &Repository) -> String {
    match &r.team {
        Some(t) => format!("{}/{}", r.org, t),
        None => r.org.to_string(),
    }
}

fn repo_json(r: &Repository, info: Option<&RepoInfo>) -> Value {
    let latest = info.and_then(RepoInfo::latest);
    let m = &r.metadata;
    json!({
        "name": r.name,
        "namespace": namespace(r),
        "orgName": r.org,
        "teamName": r.team,
        "displayName": m.display_name.clone().unwrap_or_else(|| r.name.to_string()),
        "shortDescription": m.short_description,
        "description": m.description,
        "labels": m.labels,
        "logo": m.logo,
        "publisher": m.publisher,
        "builtBy": m.built_by,
        "isPublic": r.public,
        "accessType": if r.public { "LISTED" } else { "NOT_LISTED" },
        "createdDate": json::date(r.created_at),
        "updatedDate": json::date(r.updated_at),
        "latestTag": latest.map(|i| i.tag.clone()),
        "latestImageSize": latest.map(|i| i.size),
        "isMultiArchitecture": latest.is_some_and(|i| !i.architecture_variants.is_empty()),
        "tags": info.map(|i| i.images.iter().map(|x| x.tag.clone()).collect::<Vec<_>>()),
    })
}

fn image_json(i: &ImageInfo) -> Value {
    json!({
        "tag": i.tag,
        "digest": i.digest,
        "mediaType": i.media_type,
        "size": i.size,
        "updatedDate": json::date(i.updated_date),
        "pushedDate": json::date(i.pushed_date),
        "architectureVariants": i.architecture_variants,
        "schemaVersion": i.schema_version,
        "isSigned": false,
    })
}

/// Path of repository routes: org, optional team, name.
type RepoPath = (String, Option<String>, String);

fn resolve(org: &str, team: Option<&str>, name: &str) -> Result<RepoRef, ApiError> {
    let org = org_id(org)?;
    let team = team.map(|t| team_name(&org, t)).transpose()?;
    repo_ref(org, team, name)
}

async fn info(state: &AppState, caller: &Caller, p: RepoPath) -> Result<HttpResponse, ApiError> {
    let r = resolve(&p.0, p.1.as_deref(), &p.2)?;
    let info = state.arca.repo_info(&caller.0, &r).await?;
    let mut body = repo_json(&info.repo, Some(&info));
    if let Value::Object(m) = &mut body {
        m.insert("requestStatus".into(), json::ok_status());
    }
    Ok(HttpResponse::Ok().json(body))
}

async fn update(
    state: &AppState,
    caller: &Caller,
    p: RepoPath,
    patch: &RepoMetadataPatch,
) -> Result<HttpResponse, ApiError> {
    let r = resolve(&p.0, p.1.as_deref(), &p.2)?;
    let repo = state.arca.update_repo(&caller.0, &r, patch).await?;
    Ok(HttpResponse::Ok().json(envelope(vec![("repository", repo_json(&repo, None))])))
}

async fn remove(state: &AppState, caller: &Caller, p: RepoPath) -> Result<HttpResponse, ApiError> {
    let r = resolve(&p.0, p.1.as_deref(), &p.2)?;
    state.arca.remove_repo(&caller.0, &r).await?;
    Ok(HttpResponse::Ok().json(json!({"requestStatus": json::ok_status()})))
}

async fn images(
    state: &AppState,
    caller: &Caller,
    p: RepoPath,
    page: &Page,
) -> Result<HttpResponse, ApiError> {
    let r = resolve(&p.0, p.1.as_deref(), &p.2)?;
    let info = state.arca.repo_info(&caller.0, &r).await?;
    let (images, pagination) = paginate(info.images, page);
    Ok(HttpResponse::Ok().json(envelope(vec![
        (
            "images",
            Value::Array(images.iter().map(image_json).collect()),
        ),
        ("paginationInfo", pagination),
    ])))
}

async fn image(
    state: &AppState,
    caller: &Caller,
    p: RepoPath,
    tag: &str,
) -> Result<HttpResponse, ApiError> {
    let r = resolve(&p.0, p.1.as_deref(), &p.2)?;
    let i = state.arca.image_info(&caller.0, &r, tag).await?;
    let mut body = image_json(&i);
    if let Value::Object(m) = &mut body {
        m.insert("name".into(), json!(r.path()));
        m.insert(
            "architecture".into(),
            json!(i
                .architecture_variants
                .iter()
                .map(|v| v.architecture.clone())
                .collect::<Vec<_>>()),
        );
        m.insert("requestStatus".into(), json::ok_status());
    }
    Ok(HttpResponse::Ok().json(body))
}

async fn remove_image(
    state: &AppState,
    caller: &Caller,
    p: RepoPath,
    tag: &str,
) -> Result<HttpResponse, ApiError> {
    let r = resolve(&p.0, p.1.as_deref(), &p.2)?;
    state.arca.remove_tag(&caller.0, &r, tag).await?;
    Ok(HttpResponse::Ok().json(json!({"requestStatus": json::ok_status()})))
}

async fn list(
    state: &AppState,
    caller: &Caller,
    org: &str,
    team: Option<&str>,
    page: &Page,
) -> Result<HttpResponse, ApiError> {
    let org = org_id(org)?;
    let team = team.map(|t| team_name(&org, t)).transpose()?;
    let repos = state
        .arca
        .list_repositories(&caller.0, &org, team.as_ref())
        .await?;
    let repos: Vec<Repository> = repos.into_iter().filter(|r| r.team == team).collect();
    let (repos, pagination) = paginate(repos, page);
    let mut out = Vec::with_capacity(repos.len());
    for repo in &repos {
        let r = RepoRef {
            org: repo.org.clone(),
            team: repo.team.clone(),
            name: repo.name.clone(),
        };
        let info = state.arca.repo_info(&caller.0, &r).await.ok();
        out.push(repo_json(repo, info.as_ref()));
    }
    Ok(HttpResponse::Ok().json(envelope(vec![
        ("repositories", Value::Array(out)),
        ("paginationInfo", pagination),
    ])))
}

/// Body of repository creation: the name plus metadata.
#[derive(Debug, Deserialize)]
pub struct CreateBody {
    name: String,
    #[serde(flatten)]
    patch: RepoMetadataPatch,
}

async fn create(
    state: &AppState,
    caller: &Caller,
    org: &str,
    team: Option<&str>,
    body: &CreateBody,
) -> Result<HttpResponse, ApiError> {
    let org_id = org_id(org)?;
    let team_n = team.map(|t| team_name(&org_id, t)).transpose()?;
    let name =
        ArtifactName::new(body.name.as_str()).map_err(|e| ApiError::bad_request(e.to_string()))?;
    let r = RepoRef {
        org: org_id,
        team: team_n,
        name,
    };
    let repo = state.arca.create_repo(&caller.0, &r, &body.patch).await?;
    Ok(HttpResponse::Ok().json(envelope(vec![("repository", repo_json(&repo, None))])))
}

macro_rules! org_and_team_handlers {
    ($( $org_fn:ident, $team_fn:ident: |$state:ident, $caller:ident, $p:ident $(, $extra:ident : $ty:ty)*| $body:expr; )*) => {
        $(
            /// Org-level variant.
            pub async fn $org_fn(
                $caller: Caller,
                $state: web::Data<AppState>,
                path: web::Path<(String, String)>,
                $( $extra: $ty, )*
            ) -> Result<HttpResponse, ApiError> {
                let (org, name) = path.into_inner();
                let $p: RepoPath = (org, None, name);
                $body
            }

            /// Team-level variant.
            pub async fn $team_fn(
                $caller: Caller,
                $state: web::Data<AppState>,
                path: web::Path<(String, String, String)>,
                $( $extra: $ty, )*
            ) -> Result<HttpResponse, ApiError> {
                let (org, team, name) = path.into_inner();
                let $p: RepoPath = (org, Some(team), name);
                $body
            }
        )*
    };
}

org_and_team_handlers! {
    get_repo, get_team_repo: |state, caller, p| info(&state, &caller, p).await;
    patch_repo, patch_team_repo: |state, caller, p, body: web::Json<RepoMetadataPatch>|
        update(&state, &caller, p, &body).await;
    delete_repo, delete_team_repo: |state, caller, p| remove(&state, &caller, p).await;
    list_images, list_team_images: |state, caller, p, page: web::Query<Page>|
        images(&state, &caller, p, &page).await;
}

/// Path of tag routes at org level.
type OrgTagPath = web::Path<(String, String, String)>;
/// Path of tag routes at team level.
type TeamTagPath = web::Path<(String, String, String, String)>;

/// GET /v2/org/{org}/repos/{name}/images/{tag} (also …/tags/{tag})
pub async fn get_image(
    caller: Caller,
    state: web::Data<AppState>,
    path: OrgTagPath,
) -> Result<HttpResponse, ApiError> {
    let (org, name, tag) = path.into_inner();
    image(&state, &caller, (org, None, name), &tag).await
}

/// GET /v2/org/{org}/team/{team}/repos/{name}/images/{tag} (also …/tags/{tag})
pub async fn get_team_image(
    caller: Caller,
    state: web::Data<AppState>,
    path: TeamTagPath,
) -> Result<HttpResponse, ApiError> {
    let (org, team, name, tag) = path.into_inner();
    image(&state, &caller, (org, Some(team), name), &tag).await
}

/// DELETE /v2/org/{org}/repos/{name}/images/{tag}
pub async fn delete_image(
    caller: Caller,
    state: web::Data<AppState>,
    path: OrgTagPath,
) -> Result<HttpResponse, ApiError> {
    let (org, name, tag) = path.into_inner();
    remove_image(&state, &caller, (org, None, name), &tag).await
}

/// DELETE /v2/org/{org}/team/{team}/repos/{name}/images/{tag}
pub async fn delete_team_image(
    caller: Caller,
    state: web::Data<AppState>,
    path: TeamTagPath,
) -> Result<HttpResponse, ApiError> {
    let (org, team, name, tag) = path.into_inner();
    remove_image(&state, &caller, (org, Some(team), name), &tag).await
}

/// GET /v2/org/{org}/repos
pub async fn list_repos(
    caller: Caller,
    state: web::Data<AppState>,
    path: web::Path<String>,
    page: web::Query<Page>,
) -> Result<HttpResponse, ApiError> {
    list(&state, &caller, &path, None, &page).await
}

/// GET /v2/org/{org}/team/{team}/repos
pub async fn list_team_repos(
    caller: Caller,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
    page: web::Query<Page>,
) -> Result<HttpResponse, ApiError> {
    let (org, team) = path.into_inner();
    list(&state, &caller, &org, Some(&team), &page).await
}

/// POST /v2/org/{org}/repos
pub async fn create_repo(
    caller: Caller,
    state: web::Data<AppState>,
    path: web::Path<String>,
    body: web::Json<CreateBody>,
) -> Result<HttpResponse, ApiError> {
    create(&state, &caller, &path, None, &body).await
}

/// POST /v2/org/{org}/team/{team}/repos
pub async fn create_team_repo(
    caller: Caller,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
    body: web::Json<CreateBody>,
) -> Result<HttpResponse, ApiError> {
    let (org, team) = path.into_inner();
    create(&state, &caller, &org, Some(&team), &body).await
}

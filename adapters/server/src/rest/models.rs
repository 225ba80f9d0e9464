//! `/v2/org/{org}[/team/{team}]/{models|resources}…` and `/v2/org/{org}[/team/{team}]/files…`:
//! models and resources in NGC's shapes (R-MOD-1..5), as `ngcsdk` sends and reads them
//! (`shared/research/ngc-rest-protocol.md` §5.1, §5.2, §6). Resources answer with NGC's
//! `recipe…` wrappers.
//!
//! Each handler serves both the org-level and the team-level path (the team is read from the
//! match info when the route has one) and both kinds (the `{kind}` segment).

use super::caller::Caller;
use super::json::{self, envelope, paginate, Page};
use super::orgs::{org_id, team_name};
use crate::app::AppState;
use crate::errors::ApiError;
use actix_web::{web, HttpRequest, HttpResponse};
use arca_auth::ArtifactKind;
use arca_core::artifacts::{
    metadata_from_fields, version_metadata_from_fields, ArtifactPatch, ArtifactRef, VersionPatch,
    VersionView,
};
use arca_core::model::{Artifact, ArtifactVersion, VersionFile, VersionStatus};
use arca_core::names::{ArtifactName, OrgId, TeamName, VersionId};
use arca_core::transfer::{self, FileChange, FileUploadRequest};
use serde::Deserialize;
use serde_json::{json, Map, Value};

/// The JSON words of a kind: NGC calls resources "recipes" in its bodies.
#[derive(Debug, Clone, Copy)]
struct Words {
    kind: ArtifactKind,
    one: &'static str,
    version: &'static str,
    versions: &'static str,
    files: &'static str,
}

const MODEL: Words = Words {
    kind: ArtifactKind::Model,
    one: "model",
    version: "modelVersion",
    versions: "modelVersions",
    files: "modelFiles",
};

const RESOURCE: Words = Words {
    kind: ArtifactKind::Resource,
    one: "recipe",
    version: "recipeVersion",
    versions: "recipeVersions",
    files: "recipeFiles",
};

fn words_for(segment: &str) -> Result<Words, ApiError> {
    match segment {
        "models" => Ok(MODEL),
        "resources" => Ok(RESOURCE),
        other => Err(ApiError::no_route(other)),
    }
}

/// The artifact type word of the transfer bodies (`artifactType`).
fn words_for_type(artifact_type: &str) -> Result<Words, ApiError> {
    match artifact_type.to_ascii_lowercase().as_str() {
        "models" | "model" => Ok(MODEL),
        "resources" | "resource" | "recipes" | "recipe" => Ok(RESOURCE),
        other => Err(ApiError::bad_request(format!(
            "artifactType '{}' is not 'models' or 'resources'",
            arca_core::names::shown(other)
        ))),
    }
}

fn scope(req: &HttpRequest) -> Result<(OrgId, Option<TeamName>), ApiError> {
    let info = req.match_info();
    let org = org_id(info.get("org").unwrap_or_default())?;
    let team = info.get("team").map(|t| team_name(&org, t)).transpose()?;
    Ok((org, team))
}

fn artifact_ref(req: &HttpRequest) -> Result<(Words, ArtifactRef), ApiError> {
    let info = req.match_info();
    let words = words_for(info.get("kind").unwrap_or_default())?;
    let (org, team) = scope(req)?;
    let name = info.get("name").unwrap_or_default();
    let name = ArtifactName::new(name)
        .map_err(|_| ApiError::not_found(format!("{} {org}/{name} not found", words.one)))?;
    Ok((
        words,
        ArtifactRef {
            kind: words.kind,
            org,
            team,
            name,
        },
    ))
}

/// The version of the path; one that is not a valid id cannot exist: 404.
fn version_id(req: &HttpRequest) -> Result<VersionId, ApiError> {
    let v = req.match_info().get("version").unwrap_or_default();
    VersionId::new(v).map_err(|_| ApiError::not_found(format!("version {v}")))
}

/// `{"modelVersion": …, "model": …}` (or the recipe words).
fn version_answer(
    words: Words,
    view: &VersionView,
    latest: Option<&ArtifactVersion>,
) -> HttpResponse {
    HttpResponse::Ok().json(envelope(vec![
        (words.version, version_json(&view.version)),
        (words.one, artifact_json(&view.artifact, latest)),
    ]))
}

/// Drops `null` members, so that typed NGC clients see absent fields rather than nulls.
fn without_nulls(mut v: Value) -> Value {
    if let Value::Object(m) = &mut v {
        m.retain(|_, x| !x.is_null());
    }
    v
}

fn artifact_json(a: &Artifact, latest: Option<&ArtifactVersion>) -> Value {
    let mut m = match serde_json::to_value(&a.metadata) {
        Ok(Value::Object(m)) => m,
        _ => Map::new(),
    };
    if let Some(d) = m.remove("publicDataset") {
        m.insert("publicDatasetUsed".into(), d);
    }
    if a.kind == ArtifactKind::Resource {
        if let Some(f) = m.remove("framework") {
            m.insert("trainingFramework".into(), f);
        }
    }
    let display = a
        .metadata
        .display_name
        .clone()
        .unwrap_or_else(|| a.name.to_string());
    let extra = json!({
        "name": a.name,
        "displayName": display,
        "orgName": a.org,
        "teamName": a.team,
        "createdDate": json::date(a.created_at),
        "updatedDate": json::date(a.updated_at),
        "isPublic": a.public,
        "canGuestDownload": a.public,
        "accessType": if a.public { "LISTED" } else { "NOT_LISTED" },
        "isReadOnly": false,
        "hasSignedVersion": false,
        "latestVersionIdStr": a.latest_version,
        "latestVersionId": latest.map(|v| v.id),
        "latestVersionSizeInBytes": latest.map(|v| v.total_size),
        "latestVersionGpuModel": latest.and_then(|v| v.metadata.gpu_model.clone()),
    });
    if let Value::Object(e) = extra {
        m.extend(e);
    }
    without_nulls(Value::Object(m))
}

fn version_json(v: &ArtifactVersion) -> Value {
    let mut m = match serde_json::to_value(&v.metadata) {
        Ok(Value::Object(m)) => m,
        _ => Map::new(),
    };
    m.remove("extra");
    let extra = json!({
        "id": v.id,
        "versionId": v.version,
        "status": v.status.as_str(),
        "storageVersion": "V2",
        "totalFileCount": v.file_count,
        "totalSizeInBytes": v.total_size,
        "createdDate": json::date(v.created_at),
        "updatedDate": json::date(v.updated_at),
        "createdByUser": v.created_by.map(|u| u.to_string()),
        "isSigned": false,
    });
    if let Value::Object(e) = extra {
        m.extend(e);
    }
    without_nulls(Value::Object(m))
}

fn file_json(f: &VersionFile) -> Value {
    json!({
        "path": f.path,
        "sizeInBytes": f.size,
        "sha256_base64": transfer::sha256_b64(&f.digest),
        "digest": f.digest,
        "createdDate": json::date(f.created_at),
    })
}

/// NGC request fields that carry no information for Arca (encryption, playground, licensing
/// of NVIDIA's catalog), accepted and ignored.
const IGNORED_FIELDS: &[&str] = &[
    "name",
    "encryptionKey",
    "encryptionKeyId",
    "hasPlayground",
    "isPlaygroundEnabled",
    "licenseTerms",
    "productNames",
    "policyLabels",
    "id",
    "versionId",
    "nvcfContainerConfiguration",
    "nvcfDeploymentSpecification",
    "status",
    "isPublic",
];

/// Maps an NGC artifact body to Arca's metadata field names.
fn artifact_fields(body: &Map<String, Value>) -> Map<String, Value> {
    let mut out = Map::new();
    for (k, v) in body {
        match k.as_str() {
            k if IGNORED_FIELDS.contains(&k) => {}
            "labelsV2" | "labels" => {
                out.insert("labels".into(), json::ngc_labels(v));
            }
            "publicDatasetUsed" => {
                let empty = v
                    .as_object()
                    .is_some_and(|o| o.values().all(Value::is_null));
                out.insert(
                    "publicDataset".into(),
                    if empty { Value::Null } else { v.clone() },
                );
            }
            "trainingFramework" => {
                out.insert("framework".into(), v.clone());
            }
            _ => {
                out.insert(k.clone(), v.clone());
            }
        }
    }
    out
}

fn version_fields(body: &Map<String, Value>) -> Map<String, Value> {
    body.iter()
        .filter(|(k, _)| !IGNORED_FIELDS.contains(&k.as_str()))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

fn ok() -> HttpResponse {
    HttpResponse::Ok().json(json!({"requestStatus": json::ok_status()}))
}

async fn one_artifact(state: &AppState, w: Words, a: &Artifact) -> Result<Value, ApiError> {
    let latest = state.arca.latest_version(a).await?;
    Ok(envelope(vec![(w.one, artifact_json(a, latest.as_ref()))]))
}

/// `POST /v2/org/{org}[/team/{team}]/{models|resources}`
pub async fn create(
    req: HttpRequest,
    caller: Caller,
    state: web::Data<AppState>,
    body: web::Json<Map<String, Value>>,
) -> Result<HttpResponse, ApiError> {
    let words = words_for(req.match_info().get("kind").unwrap_or_default())?;
    let (org, team) = scope(&req)?;
    let name = body
        .get("name")
        .and_then(Value::as_str)
        .ok_or_else(|| ApiError::bad_request("the body needs a \"name\""))?;
    let name = ArtifactName::new(name).map_err(|e| ApiError::bad_request(e.to_string()))?;
    let r = ArtifactRef {
        kind: words.kind,
        org,
        team,
        name,
    };
    let metadata = metadata_from_fields(words.kind, &artifact_fields(&body))?;
    let a = state.arca.create_artifact(&caller.0, &r, metadata).await?;
    Ok(HttpResponse::Ok().json(one_artifact(&state, words, &a).await?))
}

/// `GET /v2/org/{org}[/team/{team}]/{models|resources}` (`?q=` wildcard on the name)
pub async fn list(
    req: HttpRequest,
    caller: Caller,
    state: web::Data<AppState>,
    page: web::Query<Page>,
    q: web::Query<ListQuery>,
) -> Result<HttpResponse, ApiError> {
    let words = words_for(req.match_info().get("kind").unwrap_or_default())?;
    let (org, team) = scope(&req)?;
    let all = state
        .arca
        .list_artifacts(&caller.0, words.kind, &org, team.as_ref(), q.q.as_deref())
        .await?;
    let all: Vec<Artifact> = all.into_iter().filter(|a| a.team == team).collect();
    let (items, pagination) = paginate(all, &page);
    let latest = state.arca.latest_versions(&items).await?;
    let out: Vec<Value> = items
        .iter()
        .map(|a| artifact_json(a, latest.get(&a.id)))
        .collect();
    let plural = if words.kind == ArtifactKind::Resource {
        "recipes"
    } else {
        "models"
    };
    Ok(HttpResponse::Ok().json(envelope(vec![
        (plural, Value::Array(out)),
        ("paginationInfo", pagination),
    ])))
}

/// Query of list endpoints.
#[derive(Debug, Deserialize)]
pub struct ListQuery {
    /// `*`/`?` wildcard on the name.
    q: Option<String>,
}

/// `GET /v2/org/{org}[/team/{team}]/{models|resources}/{name}`
pub async fn get(
    req: HttpRequest,
    caller: Caller,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let (words, r) = artifact_ref(&req)?;
    let a = state.arca.artifact(&caller.0, &r).await?;
    Ok(HttpResponse::Ok().json(one_artifact(&state, words, &a).await?))
}

/// `PATCH /v2/org/{org}[/team/{team}]/{models|resources}/{name}`
pub async fn patch(
    req: HttpRequest,
    caller: Caller,
    state: web::Data<AppState>,
    body: web::Json<Map<String, Value>>,
) -> Result<HttpResponse, ApiError> {
    let (words, r) = artifact_ref(&req)?;
    let public = match body.get("isPublic") {
        None | Some(Value::Null) => None,
        Some(Value::Bool(b)) => Some(*b),
        Some(_) => return Err(ApiError::bad_request("isPublic must be true or false")),
    };
    let patch = ArtifactPatch {
        fields: artifact_fields(&body),
        public,
    };
    let a = state.arca.update_artifact(&caller.0, &r, &patch).await?;
    Ok(HttpResponse::Ok().json(one_artifact(&state, words, &a).await?))
}

/// `DELETE /v2/org/{org}[/team/{team}]/{models|resources}/{name}`
pub async fn delete(
    req: HttpRequest,
    caller: Caller,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let (_, r) = artifact_ref(&req)?;
    state.arca.delete_artifact(&caller.0, &r).await?;
    Ok(ok())
}

/// `GET …/{name}/versions` (SemVer-descending)
pub async fn list_versions(
    req: HttpRequest,
    caller: Caller,
    state: web::Data<AppState>,
    page: web::Query<Page>,
) -> Result<HttpResponse, ApiError> {
    let (words, r) = artifact_ref(&req)?;
    let (a, versions) = state.arca.versions(&caller.0, &r).await?;
    let latest = a
        .latest_version
        .as_ref()
        .and_then(|l| versions.iter().find(|v| &v.version == l))
        .cloned();
    let (items, pagination) = paginate(versions, &page);
    Ok(HttpResponse::Ok().json(envelope(vec![
        (
            words.versions,
            Value::Array(items.iter().map(version_json).collect()),
        ),
        (words.one, artifact_json(&a, latest.as_ref())),
        ("paginationInfo", pagination),
    ])))
}

/// `POST …/{name}/versions`
pub async fn create_version(
    req: HttpRequest,
    caller: Caller,
    state: web::Data<AppState>,
    body: web::Json<Map<String, Value>>,
) -> Result<HttpResponse, ApiError> {
    let (words, r) = artifact_ref(&req)?;
    let version = match body.get("versionId") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) if s.is_empty() => None,
        Some(Value::String(s)) => Some(
            VersionId::new(s.as_str())
                .map_err(|e| ApiError::bad_request(format!("versionId: {e}")))?,
        ),
        Some(_) => return Err(ApiError::bad_request("versionId must be a string")),
    };
    let metadata = version_metadata_from_fields(&version_fields(&body))?;
    let view = state
        .arca
        .create_version(&caller.0, &r, version, metadata)
        .await?;
    Ok(version_answer(words, &view, None))
}

/// `GET …/{name}/versions/{version}`
pub async fn get_version(
    req: HttpRequest,
    caller: Caller,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let (words, r) = artifact_ref(&req)?;
    let v = version_id(&req)?;
    let view = state.arca.version(&caller.0, &r, &v).await?;
    let latest = state.arca.latest_version(&view.artifact).await?;
    Ok(version_answer(words, &view, latest.as_ref()))
}

/// Query of a version `PATCH`.
#[derive(Debug, Deserialize)]
pub struct PatchVersionQuery {
    #[serde(rename = "set-latest")]
    set_latest: Option<String>,
}

/// `PATCH …/{name}/versions/{version}[?set-latest=true]`
pub async fn patch_version(
    req: HttpRequest,
    caller: Caller,
    state: web::Data<AppState>,
    q: web::Query<PatchVersionQuery>,
    body: web::Json<Map<String, Value>>,
) -> Result<HttpResponse, ApiError> {
    let (words, r) = artifact_ref(&req)?;
    let v = version_id(&req)?;
    let status = match body.get("status") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(VersionStatus::parse(s).ok_or_else(|| {
            ApiError::bad_request(format!(
                "status '{}' is not UPLOAD_PENDING or UPLOAD_COMPLETE",
                arca_core::names::shown(s)
            ))
        })?),
        Some(_) => return Err(ApiError::bad_request("status must be a string")),
    };
    let set_latest = q
        .set_latest
        .as_deref()
        .is_some_and(|s| s.eq_ignore_ascii_case("true"));
    let patch = VersionPatch {
        fields: version_fields(&body),
        status,
        set_latest,
    };
    let view = state.arca.update_version(&caller.0, &r, &v, &patch).await?;
    Ok(version_answer(words, &view, None))
}

/// `DELETE …/{name}/versions/{version}`
pub async fn delete_version(
    req: HttpRequest,
    caller: Caller,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let (_, r) = artifact_ref(&req)?;
    let v = version_id(&req)?;
    state.arca.delete_version(&caller.0, &r, &v).await?;
    Ok(ok())
}

/// `GET …/{name}/versions/{version}/files` — the file browser (path, size, sha256).
pub async fn version_files(
    req: HttpRequest,
    caller: Caller,
    state: web::Data<AppState>,
    page: web::Query<Page>,
) -> Result<HttpResponse, ApiError> {
    let (words, r) = artifact_ref(&req)?;
    let v = version_id(&req)?;
    let (_, files) = state.arca.version_files(&caller.0, &r, &v).await?;
    let (items, pagination) = paginate(files, &page);
    Ok(HttpResponse::Ok().json(envelope(vec![
        (
            words.files,
            Value::Array(items.iter().map(file_json).collect()),
        ),
        ("paginationInfo", pagination),
    ])))
}

/// Body of the "which of these do you have" check.
#[derive(Debug, Deserialize)]
pub struct KnownBody {
    files: Vec<KnownFile>,
}

/// One file of [`KnownBody`].
#[derive(Debug, Deserialize)]
pub struct KnownFile {
    sha256: String,
}

/// `POST …/{name}/files` — which file hashes the artifact already holds.
pub async fn files_known(
    req: HttpRequest,
    caller: Caller,
    state: web::Data<AppState>,
    body: web::Json<KnownBody>,
) -> Result<HttpResponse, ApiError> {
    let (_, r) = artifact_ref(&req)?;
    if body.files.len() > 10_000 {
        return Err(ApiError::bad_request(
            "ask about at most 10000 files per call",
        ));
    }
    let digests = body
        .files
        .iter()
        .map(|f| transfer::parse_sha256_b64(&f.sha256))
        .collect::<Result<Vec<_>, _>>()?;
    let known = state.arca.files_known(&caller.0, &r, &digests).await?;
    let files: Vec<Value> = body
        .files
        .iter()
        .zip(known)
        .map(|(f, exists)| json!({"sha256": f.sha256, "exists": exists}))
        .collect();
    Ok(HttpResponse::Ok().json(envelope(vec![("files", Value::Array(files))])))
}

/// Body of `POST /v2/{ot}/files/multipart`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MultipartStart {
    name: String,
    version: String,
    artifact_type: String,
    file_path: String,
    size: u64,
    sha256: String,
    #[serde(rename = "uploadID")]
    upload_id: Option<String>,
    part_number_list: Option<Vec<u32>>,
}

fn transfer_ref(
    req: &HttpRequest,
    artifact_type: &str,
    name: &str,
    version: &str,
) -> Result<(ArtifactRef, VersionId), ApiError> {
    let words = words_for_type(artifact_type)?;
    let (org, team) = scope(req)?;
    let name = ArtifactName::new(name).map_err(|e| ApiError::bad_request(e.to_string()))?;
    let version =
        VersionId::new(version).map_err(|e| ApiError::bad_request(format!("version: {e}")))?;
    Ok((
        ArtifactRef {
            kind: words.kind,
            org,
            team,
            name,
        },
        version,
    ))
}

fn parse_upload_id(s: &str) -> Result<uuid::Uuid, ApiError> {
    uuid::Uuid::parse_str(s).map_err(|_| {
        ApiError::bad_request(format!(
            "uploadID '{}' is not valid",
            arca_core::names::shown(s)
        ))
    })
}

/// `POST /v2/org/{org}[/team/{team}]/files/multipart` — signed part URLs for one file.
pub async fn multipart_start(
    req: HttpRequest,
    caller: Caller,
    state: web::Data<AppState>,
    body: web::Json<MultipartStart>,
) -> Result<HttpResponse, ApiError> {
    let (r, version) = transfer_ref(&req, &body.artifact_type, &body.name, &body.version)?;
    let grant = state
        .arca
        .start_file_upload(
            &caller.0,
            &r,
            &FileUploadRequest {
                version,
                path: body.file_path.clone(),
                size: body.size,
                digest: transfer::parse_sha256_b64(&body.sha256)?,
                upload_id: body.upload_id.as_deref().map(parse_upload_id).transpose()?,
                parts: body.part_number_list.clone(),
            },
        )
        .await?;
    let base = state.base_url(&req);
    let urls: Vec<String> = grant.urls.iter().map(|u| format!("{base}{u}")).collect();
    Ok(HttpResponse::Ok().json(json!({
        "uploadID": grant.upload_id.to_string(),
        "urls": urls,
        "requestStatus": json::ok_status(),
    })))
}

/// Body of `PUT /v2/{ot}/files/multipart`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MultipartComplete {
    name: String,
    version: String,
    artifact_type: String,
    file_path: String,
    #[serde(rename = "uploadID")]
    upload_id: String,
    sha256: String,
}

/// `PUT /v2/org/{org}[/team/{team}]/files/multipart` — completes one file.
pub async fn multipart_complete(
    req: HttpRequest,
    caller: Caller,
    state: web::Data<AppState>,
    body: web::Json<MultipartComplete>,
) -> Result<HttpResponse, ApiError> {
    let (r, version) = transfer_ref(&req, &body.artifact_type, &body.name, &body.version)?;
    let digest = transfer::parse_sha256_b64(&body.sha256)?;
    state
        .arca
        .complete_file_upload(
            &caller.0,
            &r,
            &version,
            &body.file_path,
            parse_upload_id(&body.upload_id)?,
            &digest,
        )
        .await?;
    Ok(ok())
}

/// Body of `POST /v2/{ot}/files/commit`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CommitBody {
    name: String,
    version: String,
    artifact_type: String,
    #[serde(default)]
    files: Vec<CommitFile>,
    base_version: Option<String>,
}

/// One file of [`CommitBody`].
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CommitFile {
    commit_type: Option<String>,
    file_path: String,
    sha256: Option<String>,
}

/// `POST /v2/org/{org}[/team/{team}]/files/commit` — commits files to a pending version.
pub async fn commit(
    req: HttpRequest,
    caller: Caller,
    state: web::Data<AppState>,
    body: web::Json<CommitBody>,
) -> Result<HttpResponse, ApiError> {
    let (r, version) = transfer_ref(&req, &body.artifact_type, &body.name, &body.version)?;
    let base = body
        .base_version
        .as_deref()
        .filter(|b| !b.is_empty())
        .map(|b| VersionId::new(b).map_err(|e| ApiError::bad_request(format!("baseVersion: {e}"))))
        .transpose()?;
    let mut changes = Vec::with_capacity(body.files.len());
    for f in &body.files {
        match f.commit_type.as_deref().unwrap_or("ADDITION") {
            t if t.eq_ignore_ascii_case("ADDITION") => {
                let sha = f.sha256.as_deref().ok_or_else(|| {
                    ApiError::bad_request(format!(
                        "file {}: ADDITION needs its sha256",
                        f.file_path
                    ))
                })?;
                changes.push(FileChange::Add {
                    path: f.file_path.clone(),
                    digest: transfer::parse_sha256_b64(sha)?,
                });
            }
            t if t.eq_ignore_ascii_case("DELETION") => changes.push(FileChange::Remove {
                path: f.file_path.clone(),
            }),
            other => {
                return Err(ApiError::bad_request(format!(
                    "commitType '{}' is not ADDITION or DELETION",
                    arca_core::names::shown(other)
                )))
            }
        }
    }
    state
        .arca
        .commit_files(&caller.0, &r, &version, base.as_ref(), &changes)
        .await?;
    Ok(ok())
}

/// Query of the download URL listing.
#[derive(Debug, Deserialize)]
pub struct DownloadQuery {
    path: Option<String>,
}

/// `GET /v2/org/{org}[/team/{team}]/{models|resources}/{name}/{version}/files[?path=]` —
/// signed download URLs (parallel `filepath` and `urls` arrays, as ngcsdk reads them).
pub async fn download_urls(
    req: HttpRequest,
    caller: Caller,
    state: web::Data<AppState>,
    q: web::Query<DownloadQuery>,
    page: web::Query<Page>,
) -> Result<HttpResponse, ApiError> {
    let (_, r) = artifact_ref(&req)?;
    let v = version_id(&req)?;
    let urls = state
        .arca
        .download_urls(&caller.0, &r, &v, q.path.as_deref())
        .await?;
    let base = state.base_url(&req);
    if q.path.is_some() {
        let list: Vec<String> = urls.iter().map(|(_, u)| format!("{base}{u}")).collect();
        return Ok(HttpResponse::Ok().json(json!({"urls": list})));
    }
    let paged = page.size.is_some() || page.number.is_some();
    let (items, pagination) = if paged {
        paginate(urls, &page)
    } else {
        let n = urls.len();
        (
            urls,
            json!({"index": 0, "size": n.max(1), "totalResults": n, "totalPages": 1}),
        )
    };
    let (paths, list): (Vec<String>, Vec<String>) = items
        .into_iter()
        .map(|(f, u)| (f.path, format!("{base}{u}")))
        .unzip();
    Ok(HttpResponse::Ok().json(json!({
        "filepath": paths,
        "urls": list,
        "paginationInfo": pagination,
        "requestStatus": json::ok_status(),
    })))
}

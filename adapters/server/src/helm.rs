//! The Helm repositories (one per org and one per team, NGC's layout on Arca's own host) and
//! the ChartMuseum API, over core's chart use cases (`arca_core::charts`):
//!
//! - `GET /{org}[/{team}]/index.yaml` — built from the metadata store, with a strong `ETag`
//!   and `If-None-Match` (304);
//! - `GET /{org}[/{team}]/charts/{name}-{version}.tgz` — the package, streamed;
//! - `POST /api/{org}[/{team}]/charts` — upload a `.tgz`, as the raw body or the multipart
//!   field `chart` (what `helm cm-push` sends); 201 `{"saved":true}`, 409 if it exists;
//! - `GET /api/{org}[/{team}]/charts[/{name}[/{version}]]`, `DELETE
//!   /api/{org}[/{team}]/charts/{name}/{version}`.
//!
//! Credentials are Basic `$oauthtoken:<key>` (what `helm repo add --username --password`
//! sends) or Bearer. Anonymous callers see public charts only; anything else answers 401 with
//! a Basic challenge, so Helm sends its credentials. Errors are ChartMuseum's `{"error":"…"}`.

use crate::app::AppState;
use crate::errors::ApiError;
use crate::rest::caller::{parse_authorization, principal_of};
use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse, ResponseError};
use arca_core::authz::Principal;
use arca_core::charts::{ChartRepo, MAX_PACKAGE_BYTES};
use arca_core::names::{ArtifactName, OrgId, TeamName, VersionId};
use arca_core::CoreError;
use bytes::{Bytes, BytesMut};
use futures::StreamExt;
use serde_json::json;

/// An error of the Helm repository or the ChartMuseum API: `{"error":"…"}`, and a Basic
/// challenge on 401.
#[derive(Debug)]
pub struct HelmError(pub ApiError);

impl std::fmt::Display for HelmError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl From<ApiError> for HelmError {
    fn from(e: ApiError) -> Self {
        HelmError(e)
    }
}

impl From<CoreError> for HelmError {
    fn from(e: CoreError) -> Self {
        HelmError(ApiError::from(e))
    }
}

impl ResponseError for HelmError {
    fn status_code(&self) -> StatusCode {
        self.0.status
    }
    fn error_response(&self) -> HttpResponse {
        let mut b = HttpResponse::build(self.0.status);
        if self.0.status == StatusCode::UNAUTHORIZED {
            b.insert_header((
                header::WWW_AUTHENTICATE,
                "Basic realm=\"Arca Helm repository\", charset=\"UTF-8\"",
            ));
        }
        b.json(json!({ "error": self.0.message }))
    }
}

type HelmResult = Result<HttpResponse, HelmError>;

fn not_found(what: String) -> HelmError {
    HelmError(ApiError::not_found(what))
}

async fn principal(state: &AppState, req: &HttpRequest) -> Result<Principal, HelmError> {
    let cred = parse_authorization(req)?;
    Ok(principal_of(state, cred).await?)
}

fn repo(org: &str, team: Option<&str>) -> Result<ChartRepo, HelmError> {
    let org = OrgId::new(org).map_err(|_| not_found(format!("Helm repository {org}")))?;
    let team = team
        .map(|t| TeamName::new(t).map_err(|_| not_found(format!("Helm repository {org}/{t}"))))
        .transpose()?;
    Ok(ChartRepo { org, team })
}

/// Whether an `If-None-Match` header matches `etag` (weak comparison, as for GET).
fn matches_etag(req: &HttpRequest, etag: &str) -> bool {
    let bare = etag.trim_start_matches("W/");
    req.headers()
        .get_all(header::IF_NONE_MATCH)
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .any(|t| t == "*" || t.trim_start_matches("W/") == bare)
}

async fn index(state: &AppState, req: &HttpRequest, org: &str, team: Option<&str>) -> HelmResult {
    let p = principal(state, req).await?;
    let repo = repo(org, team)?;
    let index = state.arca.chart_index(&p, &repo).await?;
    if matches_etag(req, &index.etag) {
        return Ok(HttpResponse::NotModified()
            .insert_header((header::ETAG, index.etag.as_str()))
            .insert_header((header::CACHE_CONTROL, "no-cache"))
            .finish());
    }
    let body = state.arca.chart_index_file(&index).await?.to_yaml();
    Ok(HttpResponse::Ok()
        .insert_header((header::ETAG, index.etag.as_str()))
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .content_type("application/x-yaml")
        .body(body))
}

/// `GET /{org}/index.yaml`.
pub async fn org_index(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> HelmResult {
    index(&state, &req, &path.into_inner(), None).await
}

/// `GET /{org}/{team}/index.yaml`.
pub async fn team_index(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
) -> HelmResult {
    let (org, team) = path.into_inner();
    index(&state, &req, &org, Some(&team)).await
}

/// Anonymous callers learn nothing from a 404: they are asked to authenticate instead.
fn hide_from_anonymous(p: &Principal, e: CoreError) -> HelmError {
    match (p, e) {
        (Principal::Anonymous, CoreError::NotFound(_)) => {
            HelmError::from(CoreError::Unauthenticated(
                "authentication required: use the username $oauthtoken and an API key".into(),
            ))
        }
        (_, e) => e.into(),
    }
}

async fn download(
    state: &AppState,
    req: &HttpRequest,
    org: &str,
    team: Option<&str>,
    file: &str,
) -> HelmResult {
    let p = principal(state, req).await?;
    let repo = repo(org, team)?;
    let dl = state
        .arca
        .chart_package(&p, &repo, file)
        .await
        .map_err(|e| hide_from_anonymous(&p, e))?;
    let etag = format!("\"{}\"", dl.digest.hex());
    if matches_etag(req, &etag) {
        return Ok(HttpResponse::NotModified()
            .insert_header((header::ETAG, etag))
            .finish());
    }
    let size = dl.read.size;
    let body = dl
        .read
        .body
        .map(|c| c.map_err(|e| actix_web::error::ErrorInternalServerError(e.to_string())));
    Ok(HttpResponse::Ok()
        .content_type("application/gzip")
        .insert_header((header::ETAG, etag))
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"{}\"", dl.file_name),
        ))
        .no_chunking(size)
        .streaming(body))
}

/// `GET /{org}/charts/{file}`.
pub async fn org_download(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
) -> HelmResult {
    let (org, file) = path.into_inner();
    download(&state, &req, &org, None, &file).await
}

/// `GET /{org}/{team}/charts/{file}`.
pub async fn team_download(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<(String, String, String)>,
) -> HelmResult {
    let (org, team, file) = path.into_inner();
    download(&state, &req, &org, Some(&team), &file).await
}

/// Room for multipart framing around a package.
const MULTIPART_OVERHEAD: u64 = 64 * 1024;

async fn read_body(mut payload: web::Payload) -> Result<Bytes, HelmError> {
    let limit = MAX_PACKAGE_BYTES + MULTIPART_OVERHEAD;
    let mut buf = BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|e| {
            HelmError(ApiError::bad_request(format!(
                "reading the request body: {e}"
            )))
        })?;
        if (buf.len() + chunk.len()) as u64 > limit {
            return Err(HelmError(ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "TOO_LARGE",
                format!("chart package larger than {MAX_PACKAGE_BYTES} bytes"),
            )));
        }
        buf.extend_from_slice(&chunk);
    }
    Ok(buf.freeze())
}

/// The package in an upload body: the raw body, or the `chart` field of a
/// `multipart/form-data` body.
fn package_of(req: &HttpRequest, body: Bytes) -> Result<Bytes, HelmError> {
    let content_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if !content_type
        .trim_start()
        .to_ascii_lowercase()
        .starts_with("multipart/form-data")
    {
        return Ok(body);
    }
    let boundary = multipart::boundary(content_type).ok_or_else(|| {
        HelmError(ApiError::bad_request(
            "multipart/form-data without a boundary parameter",
        ))
    })?;
    match multipart::field(&body, &boundary, "chart") {
        Ok(Some(range)) => Ok(body.slice(range)),
        Ok(None) => Err(HelmError(ApiError::bad_request(
            "the multipart body has no field named \"chart\" (send the .tgz as field \"chart\")",
        ))),
        Err(why) => Err(HelmError(ApiError::bad_request(format!(
            "malformed multipart body: {why}"
        )))),
    }
}

/// Optional target of an upload (`arca registry chart push org/chart:version` sends it): the
/// package must be that chart at that version.
#[derive(Debug, Default, serde::Deserialize)]
pub struct UploadTarget {
    /// Expected chart name.
    name: Option<String>,
    /// Expected chart version.
    version: Option<String>,
}

async fn upload(
    state: &AppState,
    req: &HttpRequest,
    org: &str,
    team: Option<&str>,
    payload: web::Payload,
) -> HelmResult {
    let p = principal(state, req).await?;
    if matches!(p, Principal::Anonymous) {
        return Err(CoreError::Unauthenticated(
            "authentication required: use the username $oauthtoken and an API key".into(),
        )
        .into());
    }
    let repo = repo(org, team)?;
    let body = read_body(payload).await?;
    let package = package_of(req, body)?;
    let target = web::Query::<UploadTarget>::from_query(req.query_string())
        .map(web::Query::into_inner)
        .unwrap_or_default();
    let expected = match (&target.name, &target.version) {
        (Some(n), Some(v)) => Some((n.as_str(), v.as_str())),
        (None, None) => None,
        _ => {
            return Err(HelmError(ApiError::bad_request(
                "give both name and version, or neither",
            )))
        }
    };
    state
        .arca
        .upload_chart(&p, &repo, package, expected)
        .await?;
    Ok(HttpResponse::Created().json(json!({"saved": true})))
}

/// `POST /api/{org}/charts`.
pub async fn org_upload(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
    payload: web::Payload,
) -> HelmResult {
    upload(&state, &req, &path.into_inner(), None, payload).await
}

/// `POST /api/{org}/{team}/charts`.
pub async fn team_upload(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
    payload: web::Payload,
) -> HelmResult {
    let (org, team) = path.into_inner();
    upload(&state, &req, &org, Some(&team), payload).await
}

async fn api_list(
    state: &AppState,
    req: &HttpRequest,
    org: &str,
    team: Option<&str>,
    name: Option<&str>,
    version: Option<&str>,
) -> HelmResult {
    let p = principal(state, req).await?;
    let repo = repo(org, team)?;
    let index = state
        .arca
        .chart_index(&p, &repo)
        .await
        .map_err(|e| hide_from_anonymous(&p, e))?;
    let index = state.arca.chart_index_file(&index).await?;
    let Some(name) = name else {
        return Ok(HttpResponse::Ok().json(&index.entries));
    };
    let missing = || match &p {
        Principal::Anonymous => HelmError::from(CoreError::Unauthenticated(
            "authentication required: use the username $oauthtoken and an API key".into(),
        )),
        _ => not_found(format!("chart not found: {name}")),
    };
    let versions = index.entries.get(name).ok_or_else(missing)?;
    let Some(version) = version else {
        return Ok(HttpResponse::Ok().json(versions));
    };
    let v = versions
        .iter()
        .find(|v| v.metadata.version == version)
        .ok_or_else(|| match &p {
            Principal::Anonymous => missing(),
            _ => not_found(format!("chart version not found: {name} {version}")),
        })?;
    Ok(HttpResponse::Ok().json(v))
}

/// `GET /api/{org}/charts`.
pub async fn org_charts(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> HelmResult {
    api_list(&state, &req, &path.into_inner(), None, None, None).await
}

/// `GET /api/{org}/charts/{name}`.
pub async fn org_chart(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
) -> HelmResult {
    let (org, name) = path.into_inner();
    api_list(&state, &req, &org, None, Some(&name), None).await
}

/// `GET /api/{org}/charts/{name}/{version}`.
pub async fn org_chart_version(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<(String, String, String)>,
) -> HelmResult {
    let (org, name, version) = path.into_inner();
    api_list(&state, &req, &org, None, Some(&name), Some(&version)).await
}

/// `GET /api/{org}/{team}/charts`.
pub async fn team_charts(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
) -> HelmResult {
    let (org, team) = path.into_inner();
    api_list(&state, &req, &org, Some(&team), None, None).await
}

/// `GET /api/{org}/{team}/charts/{name}`.
pub async fn team_chart(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<(String, String, String)>,
) -> HelmResult {
    let (org, team, name) = path.into_inner();
    api_list(&state, &req, &org, Some(&team), Some(&name), None).await
}

/// `GET /api/{org}/{team}/charts/{name}/{version}`.
pub async fn team_chart_version(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<(String, String, String, String)>,
) -> HelmResult {
    let (org, team, name, version) = path.into_inner();
    api_list(&state, &req, &org, Some(&team), Some(&name), Some(&version)).await
}

async fn api_delete(
    state: &AppState,
    req: &HttpRequest,
    org: &str,
    team: Option<&str>,
    name: &str,
    version: &str,
) -> HelmResult {
    let p = principal(state, req).await?;
    if matches!(p, Principal::Anonymous) {
        return Err(CoreError::Unauthenticated(
            "authentication required: use the username $oauthtoken and an API key".into(),
        )
        .into());
    }
    let repo = repo(org, team)?;
    let missing = || not_found(format!("chart version not found: {name} {version}"));
    let name = ArtifactName::new(name).map_err(|_| missing())?;
    let v = VersionId::new(version).map_err(|_| missing())?;
    state
        .arca
        .delete_chart_version(&p, &repo.chart(name), &v)
        .await?;
    Ok(HttpResponse::Ok().json(json!({"deleted": true})))
}

/// `DELETE /api/{org}/charts/{name}/{version}`.
pub async fn org_delete(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<(String, String, String)>,
) -> HelmResult {
    let (org, name, version) = path.into_inner();
    api_delete(&state, &req, &org, None, &name, &version).await
}

/// `DELETE /api/{org}/{team}/charts/{name}/{version}`.
pub async fn team_delete(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<(String, String, String, String)>,
) -> HelmResult {
    let (org, team, name, version) = path.into_inner();
    api_delete(&state, &req, &org, Some(&team), &name, &version).await
}

/// Just enough `multipart/form-data` (RFC 7578) to find one field in a buffered, bounded
/// body: the boundary parameter, the parts between delimiter lines, and each part's
/// `Content-Disposition` name.
mod multipart {
    use memchr::memmem;
    use std::ops::Range;

    /// The `boundary` parameter of a `multipart/form-data` content type.
    pub fn boundary(content_type: &str) -> Option<String> {
        content_type.split(';').skip(1).find_map(|param| {
            let (k, v) = param.split_once('=')?;
            if !k.trim().eq_ignore_ascii_case("boundary") {
                return None;
            }
            let v = v.trim().trim_matches('"');
            (!v.is_empty() && v.len() <= 70).then(|| v.to_string())
        })
    }

    fn field_name(headers: &str) -> Option<String> {
        headers.split("\r\n").find_map(|line| {
            let (k, v) = line.split_once(':')?;
            if !k.trim().eq_ignore_ascii_case("content-disposition") {
                return None;
            }
            v.split(';').skip(1).find_map(|p| {
                let (k, v) = p.split_once('=')?;
                k.trim()
                    .eq_ignore_ascii_case("name")
                    .then(|| v.trim().trim_matches('"').to_string())
            })
        })
    }

    /// The byte range of the content of the first part named `name`.
    pub fn field(body: &[u8], boundary: &str, name: &str) -> Result<Option<Range<usize>>, String> {
        let delimiter = format!("--{boundary}");
        let next = format!("\r\n--{boundary}");
        let start = memmem::find(body, delimiter.as_bytes())
            .ok_or("the boundary does not occur in the body")?;
        let mut pos = start + delimiter.len();
        loop {
            if body[pos..].starts_with(b"--") {
                return Ok(None);
            }
            let line_end = memmem::find(&body[pos..], b"\r\n").ok_or("truncated part")?;
            pos += line_end + 2;
            let headers_end =
                memmem::find(&body[pos..], b"\r\n\r\n").ok_or("part headers do not end")?;
            let headers = String::from_utf8_lossy(&body[pos..pos + headers_end]).into_owned();
            let content_start = pos + headers_end + 4;
            let content_len = memmem::find(&body[content_start..], next.as_bytes())
                .ok_or("the closing boundary is missing")?;
            let content = content_start..content_start + content_len;
            if field_name(&headers).as_deref() == Some(name) {
                return Ok(Some(content));
            }
            pos = content.end + next.len();
            if pos > body.len() {
                return Err("truncated body".into());
            }
        }
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn finds_the_chart_field() {
            let body = b"--XyZ\r\nContent-Disposition: form-data; name=\"prov\"; filename=\"a.prov\"\r\n\r\nsig\r\n--XyZ\r\nContent-Disposition: form-data; name=\"chart\"; filename=\"a-1.0.0.tgz\"\r\nContent-Type: application/octet-stream\r\n\r\n\x1f\x8b\r\nbytes\r\n--XyZ--\r\n";
            let b = boundary("multipart/form-data; boundary=XyZ").unwrap();
            let r = field(body, &b, "chart").unwrap().unwrap();
            assert_eq!(&body[r], b"\x1f\x8b\r\nbytes");
            assert_eq!(field(body, &b, "other").unwrap(), None);
            assert_eq!(
                boundary("multipart/form-data; boundary=\"q r\"").as_deref(),
                Some("q r")
            );
            assert!(boundary("multipart/form-data").is_none());
        }

        #[test]
        fn malformed_bodies_are_errors_not_panics() {
            for body in [
                &b""[..],
                b"--XyZ",
                b"--XyZ\r\n",
                b"--XyZ\r\nContent-Disposition: form-data; name=\"chart\"\r\n\r\nno end",
                b"--XyZ\r\nno headers end",
            ] {
                let _ = field(body, "XyZ", "chart");
            }
            assert!(field(
                b"--XyZ\r\nContent-Disposition: form-data; name=\"chart\"\r\n\r\nx",
                "XyZ",
                "chart"
            )
            .is_err());
        }
    }
}

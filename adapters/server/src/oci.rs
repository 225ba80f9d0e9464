//! `/v2/`: the OCI Distribution API (v1.1) over core's registry use cases.
//!
//! Errors use the specification's body `{"errors":[{"code","message","detail"}]}`; a 401
//! carries `WWW-Authenticate: Bearer realm="<base>/token",service="<host>",scope="…"` so that
//! Docker-style clients fetch a token with Basic `$oauthtoken:<key>` (R-KEY-6). Request bodies
//! stream into the blob store and blob bodies stream out; nothing is buffered whole except
//! manifests (at most 4 MiB).

use crate::app::AppState;
use crate::rest::caller::{parse_authorization, principal_of};
use actix_web::http::header;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse, ResponseError};
use arca_core::authz::Principal;
use arca_core::ports::{BlobError, ByteRange, ByteStream};
use arca_core::registry::{RepoRef, MAX_MANIFEST_BYTES};
use arca_core::CoreError;
use arca_oci::{ChunkRange, Digest, RangeOutcome, Reference};
use futures::StreamExt;
use serde::Deserialize;
use serde_json::json;
use uuid::Uuid;

/// An error on `/v2/`, rendered in the OCI shape.
#[derive(Debug)]
pub struct OciError {
    status: StatusCode,
    body: serde_json::Value,
    /// `WWW-Authenticate` challenge for 401s.
    challenge: Option<String>,
}

impl std::fmt::Display for OciError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.status, self.body)
    }
}

impl ResponseError for OciError {
    fn status_code(&self) -> StatusCode {
        self.status
    }
    fn error_response(&self) -> HttpResponse {
        let mut b = HttpResponse::build(self.status);
        b.insert_header(("Docker-Distribution-API-Version", "registry/2.0"));
        if let Some(c) = &self.challenge {
            b.insert_header((header::WWW_AUTHENTICATE, c.as_str()));
        }
        b.json(&self.body)
    }
}

fn oci_body(code: &str, message: &str, detail: Option<serde_json::Value>) -> serde_json::Value {
    let mut e = json!({"code": code, "message": message});
    if let Some(d) = detail {
        e["detail"] = d;
    }
    json!({"errors": [e]})
}

impl OciError {
    fn new(status: u16, code: &str, message: &str) -> Self {
        Self {
            status: StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            body: oci_body(code, message, None),
            challenge: None,
        }
    }

    fn from_core(e: CoreError) -> Self {
        match e {
            CoreError::Registry(api) => Self {
                status: StatusCode::from_u16(api.status())
                    .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
                body: serde_json::to_value(api.body()).unwrap_or_else(|_| json!({})),
                challenge: None,
            },
            CoreError::Unauthenticated(m) => Self::new(401, "UNAUTHORIZED", &m),
            CoreError::Forbidden(m) => Self::new(403, "DENIED", &m),
            CoreError::NotFound(m) => Self::new(404, "NAME_UNKNOWN", &format!("{m} not found")),
            CoreError::Quota(q) => Self {
                status: StatusCode::FORBIDDEN,
                body: oci_body(
                    "DENIED",
                    &q.to_string(),
                    Some(json!({"limit": q.limit, "excess": q.excess, "quota": q.kind.describe()})),
                ),
                challenge: None,
            },
            CoreError::Invalid(m) | CoreError::LimitReached(m) => Self::new(400, "UNSUPPORTED", &m),
            CoreError::Name(n) => Self::new(400, "NAME_INVALID", &n.to_string()),
            CoreError::AlreadyExists(m) | CoreError::Conflict(m) => Self::new(409, "DENIED", &m),
            CoreError::Blob(BlobError::TooLarge { limit }) => Self::new(
                413,
                "SIZE_INVALID",
                &format!("body larger than the allowed {limit} bytes"),
            ),
            CoreError::Blob(BlobError::Body(m)) => Self::new(
                400,
                "BLOB_UPLOAD_INVALID",
                &format!("request body failed: {m}"),
            ),
            other => {
                tracing::error!(error = %other, "registry storage failure");
                Self::new(503, "UNAVAILABLE", "storage is unavailable; retry later")
            }
        }
    }
}

/// Result of a `/v2/` handler.
type OciResult = Result<HttpResponse, OciError>;

/// Builds an error for `r` (adding the token challenge to 401s).
fn fail(state: &AppState, req: &HttpRequest, scope: Option<&str>, e: CoreError) -> OciError {
    let insufficient = matches!(&e, CoreError::Registry(_))
        && e.to_string()
            .starts_with(arca_core::authz::INSUFFICIENT_SCOPE);
    let mut err = OciError::from_core(e);
    if err.status == StatusCode::UNAUTHORIZED {
        err.challenge = Some(challenge(state, req, scope));
    } else if insufficient {
        // 403 with a challenge: clients (oras-py) fetch a token with the right scope and retry.
        err.challenge = Some(format!(
            "{},error=\"insufficient_scope\"",
            challenge(state, req, scope)
        ));
    }
    err
}

/// `Bearer realm="<base>/token",service="<host>"[,scope="…"]`.
fn challenge(state: &AppState, req: &HttpRequest, scope: Option<&str>) -> String {
    let base = state.base_url(req);
    let service = base
        .split("://")
        .nth(1)
        .unwrap_or(base.as_str())
        .trim_end_matches('/')
        .to_string();
    match scope {
        Some(s) => format!("Bearer realm=\"{base}/token\",service=\"{service}\",scope=\"{s}\""),
        None => format!("Bearer realm=\"{base}/token\",service=\"{service}\""),
    }
}

async fn caller(
    state: &AppState,
    req: &HttpRequest,
    scope: Option<&str>,
) -> Result<Principal, OciError> {
    let cred = parse_authorization(req).map_err(|e| {
        let mut err = OciError::new(401, "UNAUTHORIZED", &e.message);
        err.challenge = Some(challenge(state, req, scope));
        err
    })?;
    principal_of(state, cred).await.map_err(|e| {
        let mut err = OciError::new(401, "UNAUTHORIZED", &e.message);
        err.challenge = Some(challenge(state, req, scope));
        err
    })
}

/// The caller of a push or delete: anonymous callers never write, so they get the challenge
/// before anything else of the request is looked at.
async fn writer(state: &AppState, req: &HttpRequest, scope: &str) -> Result<Principal, OciError> {
    match caller(state, req, Some(scope)).await? {
        Principal::Anonymous => Err(fail(
            state,
            req,
            Some(scope),
            CoreError::Unauthenticated("authentication required".into()),
        )),
        p => Ok(p),
    }
}

fn repo(name: &str) -> Result<RepoRef, OciError> {
    RepoRef::parse(name).map_err(OciError::from_core)
}

fn digest(s: &str) -> Result<Digest, OciError> {
    Digest::parse(s).map_err(|e| OciError::new(400, "DIGEST_INVALID", &e.to_string()))
}

fn reference(s: &str) -> Result<Reference, OciError> {
    Reference::parse(s).map_err(|e| OciError::new(400, "MANIFEST_INVALID", &e.to_string()))
}

fn pull_scope(name: &str) -> String {
    format!("repository:{name}:pull")
}

fn push_scope(name: &str) -> String {
    format!("repository:{name}:pull,push")
}

/// Turns the request body into a `Send` byte stream: a local task pumps the (thread-bound)
/// actix payload into a bounded channel, so memory stays flat whatever the body's size.
pub(crate) fn body_stream(mut payload: web::Payload) -> ByteStream {
    let (mut tx, rx) = futures::channel::mpsc::channel::<Result<bytes::Bytes, std::io::Error>>(4);
    actix_web::rt::spawn(async move {
        use futures::SinkExt;
        while let Some(chunk) = payload.next().await {
            let item = chunk.map_err(|e| std::io::Error::other(e.to_string()));
            let failed = item.is_err();
            if tx.send(item).await.is_err() || failed {
                break;
            }
        }
    });
    rx.boxed()
}

pub(crate) fn content_length(req: &HttpRequest) -> Option<u64> {
    req.headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse().ok())
}

/// The relative URL of an upload session (clients resolve it against the registry).
fn upload_location(name: &str, id: Uuid) -> String {
    format!("/v2/{name}/blobs/uploads/{id}")
}

/// A HEAD answer announcing `len` bytes: a sized body that is never sent (actix writes no body
/// for HEAD but takes `Content-Length` from the body's declared size).
pub(crate) fn head_body(b: &mut actix_web::HttpResponseBuilder, len: u64) -> HttpResponse {
    b.no_chunking(len).streaming(futures::stream::empty::<
        Result<bytes::Bytes, actix_web::Error>,
    >())
}

/// How to answer a read of content of `size` bytes under the request's `Range` (read with
/// [`arca_oci::resolve_range`]: invalid ranges, such as ngcsdk's `bytes=0--1`, are ignored).
pub(crate) enum Ranged {
    /// 200 or 206, with `Accept-Ranges`, `Content-Type`, `ETag` and, for 206, `Content-Range`
    /// set; the range to read and the body's length.
    Serve {
        /// The response so far.
        builder: actix_web::HttpResponseBuilder,
        /// The range to read (`None`: all of it).
        range: Option<ByteRange>,
        /// Length of the body.
        len: u64,
    },
    /// 416 with `Content-Range: bytes */<size>`.
    Unsatisfiable(actix_web::HttpResponseBuilder),
}

/// See [`Ranged`]; `digest` names the content in the `ETag`.
pub(crate) fn ranged(req: &HttpRequest, size: u64, digest: &str) -> Ranged {
    let range_hdr = req
        .headers()
        .get(header::RANGE)
        .and_then(|v| v.to_str().ok());
    let (status, range) = match arca_oci::resolve_range(range_hdr, size) {
        RangeOutcome::Full => (StatusCode::OK, None),
        RangeOutcome::Partial { start, end } => {
            (StatusCode::PARTIAL_CONTENT, Some(ByteRange { start, end }))
        }
        RangeOutcome::Unsatisfiable => {
            let mut b = HttpResponse::RangeNotSatisfiable();
            b.insert_header((header::CONTENT_RANGE, format!("bytes */{size}")));
            return Ranged::Unsatisfiable(b);
        }
    };
    let mut b = HttpResponse::build(status);
    b.insert_header((header::ACCEPT_RANGES, "bytes"))
        .insert_header((header::CONTENT_TYPE, "application/octet-stream"))
        .insert_header((header::ETAG, format!("\"{digest}\"")));
    let len = match range {
        Some(ByteRange { start, end }) => {
            b.insert_header((
                header::CONTENT_RANGE,
                arca_oci::content_range_value(start, end, size),
            ));
            end - start + 1
        }
        None => size,
    };
    Ranged::Serve {
        builder: b,
        range,
        len,
    }
}

/// Streams content read from the blob store as a body of `len` bytes.
pub(crate) fn stream_body(
    b: &mut actix_web::HttpResponseBuilder,
    len: u64,
    read: arca_core::ports::BlobRead,
) -> HttpResponse {
    let body = read
        .body
        .map(|c| c.map_err(|e| actix_web::error::ErrorInternalServerError(e.to_string())));
    b.no_chunking(len).streaming(body)
}

fn api_version(b: &mut actix_web::HttpResponseBuilder) -> &mut actix_web::HttpResponseBuilder {
    b.insert_header(("Docker-Distribution-API-Version", "registry/2.0"))
}

/// `GET /v2/` — 200 for an authenticated caller, 401 with a challenge otherwise.
pub async fn version(req: HttpRequest, state: web::Data<AppState>) -> OciResult {
    match caller(&state, &req, None).await? {
        Principal::Anonymous => Err(fail(
            &state,
            &req,
            None,
            CoreError::Unauthenticated("authentication required".into()),
        )),
        Principal::Key(_) => Ok(api_version(&mut HttpResponse::Ok()).json(json!({}))),
    }
}

/// Query of upload creation.
#[derive(Debug, Deserialize)]
pub struct StartQuery {
    digest: Option<String>,
    mount: Option<String>,
    from: Option<String>,
}

/// `POST /v2/<name>/blobs/uploads/` — start an upload, upload monolithically
/// (`?digest=`), or mount (`?mount=&from=`).
pub async fn start_upload(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
    query: web::Query<StartQuery>,
    payload: web::Payload,
) -> OciResult {
    let name = path.into_inner();
    let scope = push_scope(&name);
    let p = writer(&state, &req, &scope).await?;
    let r = repo(&name)?;
    let fail = |e| fail(&state, &req, Some(&scope), e);
    if let (Some(m), Some(from)) = (&query.mount, &query.from) {
        let d = digest(m)?;
        let from = repo(from)?;
        if state
            .arca
            .mount_blob(&p, &r, &d, &from)
            .await
            .map_err(fail)?
            .is_some()
        {
            return Ok(api_version(&mut HttpResponse::Created())
                .insert_header((header::LOCATION, format!("/v2/{name}/blobs/{d}")))
                .insert_header(("Docker-Content-Digest", d.to_string()))
                .finish());
        }
    }
    let length = content_length(&req);
    let session = state
        .arca
        .start_blob_upload(&p, &r, length.filter(|l| *l > 0))
        .await
        .map_err(fail)?;
    if let Some(d) = &query.digest {
        let d = digest(d)?;
        // A single-request upload either completes or leaves nothing behind.
        let result = async {
            state
                .arca
                .append_blob_chunk(&p, &r, session.id, None, length, body_stream(payload))
                .await?;
            state.arca.finish_blob_upload(&p, &r, session.id, &d).await
        }
        .await;
        let stored = match result {
            Ok(stored) => stored,
            Err(e) => {
                let _ = state.arca.cancel_blob_upload(&p, &r, session.id).await;
                return Err(fail(e));
            }
        };
        return Ok(api_version(&mut HttpResponse::Created())
            .insert_header((
                header::LOCATION,
                format!("/v2/{name}/blobs/{}", stored.digest),
            ))
            .insert_header(("Docker-Content-Digest", stored.digest.to_string()))
            .finish());
    }
    Ok(api_version(&mut HttpResponse::Accepted())
        .insert_header((header::LOCATION, upload_location(&name, session.id)))
        .insert_header(("Range", "0-0"))
        .insert_header(("Docker-Upload-UUID", session.id.to_string()))
        .insert_header((
            "OCI-Chunk-Min-Length",
            state.arca.blobs.min_part_size().to_string(),
        ))
        .finish())
}

fn upload_id(s: &str) -> Result<Uuid, OciError> {
    Uuid::parse_str(s).map_err(|_| {
        OciError::new(
            404,
            "BLOB_UPLOAD_UNKNOWN",
            "blob upload unknown to the registry",
        )
    })
}

fn range_header(received: u64) -> String {
    arca_oci::upload_range_value(received)
}

/// `GET /v2/<name>/blobs/uploads/<id>` — upload status.
pub async fn upload_status(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
) -> OciResult {
    let (name, id) = path.into_inner();
    let scope = push_scope(&name);
    let p = writer(&state, &req, &scope).await?;
    let r = repo(&name)?;
    let id = upload_id(&id)?;
    let s = state
        .arca
        .upload_status(&p, &r, id)
        .await
        .map_err(|e| fail(&state, &req, Some(&scope), e))?;
    Ok(api_version(&mut HttpResponse::NoContent())
        .insert_header((header::LOCATION, upload_location(&name, id)))
        .insert_header(("Range", range_header(s.received)))
        .insert_header(("Docker-Upload-UUID", id.to_string()))
        .finish())
}

/// `PATCH /v2/<name>/blobs/uploads/<id>` — a chunk (with `Content-Range`) or a stream.
pub async fn patch_upload(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
    payload: web::Payload,
) -> OciResult {
    let (name, id) = path.into_inner();
    let scope = push_scope(&name);
    let p = writer(&state, &req, &scope).await?;
    let r = repo(&name)?;
    let id = upload_id(&id)?;
    let length = content_length(&req);
    let start = match req.headers().get(header::CONTENT_RANGE) {
        None => None,
        Some(v) => {
            let range = ChunkRange::parse(v.to_str().unwrap_or(""))
                .map_err(|e| OciError::from_core(CoreError::Registry(e.into())))?;
            if let Some(len) = length {
                if range.len() != len {
                    return Err(OciError::new(
                        400,
                        "SIZE_INVALID",
                        "Content-Range does not match Content-Length",
                    ));
                }
            }
            Some(range.start())
        }
    };
    let s = state
        .arca
        .append_blob_chunk(&p, &r, id, start, length, body_stream(payload))
        .await
        .map_err(|e| fail(&state, &req, Some(&scope), e))?;
    Ok(api_version(&mut HttpResponse::Accepted())
        .insert_header((header::LOCATION, upload_location(&name, id)))
        .insert_header(("Range", range_header(s.received)))
        .insert_header(("Docker-Upload-UUID", id.to_string()))
        .finish())
}

/// Query of upload completion.
#[derive(Debug, Deserialize)]
pub struct FinishQuery {
    digest: Option<String>,
}

/// `PUT /v2/<name>/blobs/uploads/<id>?digest=` — last chunk (optional) and completion.
pub async fn finish_upload(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
    query: web::Query<FinishQuery>,
    payload: web::Payload,
) -> OciResult {
    let (name, id) = path.into_inner();
    let scope = push_scope(&name);
    let p = writer(&state, &req, &scope).await?;
    let r = repo(&name)?;
    let id = upload_id(&id)?;
    let d = digest(query.digest.as_deref().ok_or_else(|| {
        OciError::new(
            400,
            "DIGEST_INVALID",
            "the digest query parameter is required",
        )
    })?)?;
    let fail = |e| fail(&state, &req, Some(&scope), e);
    let length = content_length(&req);
    if length != Some(0) {
        let start = match req.headers().get(header::CONTENT_RANGE) {
            None => None,
            Some(v) => Some(
                ChunkRange::parse(v.to_str().unwrap_or(""))
                    .map_err(|e| OciError::from_core(CoreError::Registry(e.into())))?
                    .start(),
            ),
        };
        state
            .arca
            .append_blob_chunk(&p, &r, id, start, length, body_stream(payload))
            .await
            .map_err(fail)?;
    }
    let stored = state
        .arca
        .finish_blob_upload(&p, &r, id, &d)
        .await
        .map_err(fail)?;
    Ok(api_version(&mut HttpResponse::Created())
        .insert_header((
            header::LOCATION,
            format!("/v2/{name}/blobs/{}", stored.digest),
        ))
        .insert_header(("Docker-Content-Digest", stored.digest.to_string()))
        .finish())
}

/// `DELETE /v2/<name>/blobs/uploads/<id>` — cancel.
pub async fn cancel_upload(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
) -> OciResult {
    let (name, id) = path.into_inner();
    let scope = push_scope(&name);
    let p = writer(&state, &req, &scope).await?;
    let r = repo(&name)?;
    let id = upload_id(&id)?;
    state
        .arca
        .cancel_blob_upload(&p, &r, id)
        .await
        .map_err(|e| fail(&state, &req, Some(&scope), e))?;
    Ok(api_version(&mut HttpResponse::NoContent()).finish())
}

/// `GET`/`HEAD /v2/<name>/blobs/<digest>` — with `Range` support.
pub async fn get_blob(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
) -> OciResult {
    let (name, d) = path.into_inner();
    let scope = pull_scope(&name);
    let p = caller(&state, &req, Some(&scope)).await?;
    let r = repo(&name)?;
    let d = digest(&d)?;
    let fail = |e| fail(&state, &req, Some(&scope), e);
    let size = state.arca.blob_size(&p, &r, &d).await.map_err(fail)?;
    let (mut b, range, len) = match ranged(&req, size, d.as_ref()) {
        Ranged::Serve {
            builder,
            range,
            len,
        } => (builder, range, len),
        Ranged::Unsatisfiable(mut b) => return Ok(api_version(&mut b).finish()),
    };
    api_version(&mut b).insert_header(("Docker-Content-Digest", d.to_string()));
    if req.method() == actix_web::http::Method::HEAD {
        return Ok(head_body(&mut b, len));
    }
    let read = state
        .arca
        .read_blob(&p, &r, &d, range)
        .await
        .map_err(fail)?;
    Ok(stream_body(&mut b, len, read))
}

/// `DELETE /v2/<name>/blobs/<digest>`.
pub async fn delete_blob(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
) -> OciResult {
    let (name, d) = path.into_inner();
    let scope = format!("repository:{name}:delete");
    let p = writer(&state, &req, &scope).await?;
    let r = repo(&name)?;
    let d = digest(&d)?;
    state
        .arca
        .delete_blob(&p, &r, &d)
        .await
        .map_err(|e| fail(&state, &req, Some(&scope), e))?;
    Ok(api_version(&mut HttpResponse::Accepted()).finish())
}

/// `PUT /v2/<name>/manifests/<reference>`.
pub async fn put_manifest(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
    payload: web::Payload,
) -> OciResult {
    let (name, reference_s) = path.into_inner();
    let scope = push_scope(&name);
    let p = writer(&state, &req, &scope).await?;
    let r = repo(&name)?;
    let reference = reference(&reference_s)?;
    let body = payload
        .to_bytes_limited(MAX_MANIFEST_BYTES)
        .await
        .map_err(|_| OciError::new(413, "SIZE_INVALID", "manifest too large"))?
        .map_err(|e| OciError::new(400, "MANIFEST_INVALID", &e.to_string()))?;
    let content_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let pushed = state
        .arca
        .put_manifest(&p, &r, &reference, content_type.as_deref(), body)
        .await
        .map_err(|e| fail(&state, &req, Some(&scope), e))?;
    let mut b = HttpResponse::Created();
    api_version(&mut b)
        .insert_header((
            header::LOCATION,
            format!("/v2/{name}/manifests/{}", pushed.digest),
        ))
        .insert_header(("Docker-Content-Digest", pushed.digest.to_string()));
    if let Some(s) = &pushed.subject {
        b.insert_header(("OCI-Subject", s.as_str()));
    }
    Ok(b.finish())
}

/// `GET`/`HEAD /v2/<name>/manifests/<reference>`.
pub async fn get_manifest(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
) -> OciResult {
    let (name, reference_s) = path.into_inner();
    let scope = pull_scope(&name);
    let p = caller(&state, &req, Some(&scope)).await?;
    let r = repo(&name)?;
    let reference = reference(&reference_s)?;
    let m = state
        .arca
        .get_manifest(&p, &r, &reference)
        .await
        .map_err(|e| fail(&state, &req, Some(&scope), e))?;
    let mut b = HttpResponse::Ok();
    api_version(&mut b)
        .insert_header((header::CONTENT_TYPE, m.record.media_type.as_str()))
        .insert_header(("Docker-Content-Digest", m.record.digest.as_str()))
        .insert_header((header::ETAG, format!("\"{}\"", m.record.digest)));
    if req.method() == actix_web::http::Method::HEAD {
        return Ok(head_body(&mut b, m.body.len() as u64));
    }
    Ok(b.body(m.body))
}

/// `DELETE /v2/<name>/manifests/<reference>` — a digest deletes the manifest (and its tags),
/// a tag deletes only that tag.
pub async fn delete_manifest(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
) -> OciResult {
    let (name, reference_s) = path.into_inner();
    let scope = format!("repository:{name}:delete");
    let p = writer(&state, &req, &scope).await?;
    let r = repo(&name)?;
    let reference = reference(&reference_s)?;
    state
        .arca
        .delete_manifest(&p, &r, &reference)
        .await
        .map_err(|e| fail(&state, &req, Some(&scope), e))?;
    Ok(api_version(&mut HttpResponse::Accepted()).finish())
}

/// `n` and `last` pagination.
#[derive(Debug, Deserialize)]
pub struct ListQuery {
    n: Option<usize>,
    last: Option<String>,
}

fn link_header(path: &str, n: usize, last: &str) -> String {
    let encoded: String = form_urlencoded::byte_serialize(last.as_bytes()).collect();
    format!("<{path}?n={n}&last={encoded}>; rel=\"next\"")
}

/// `GET /v2/<name>/tags/list?n=&last=`.
pub async fn list_tags(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
    query: web::Query<ListQuery>,
) -> OciResult {
    let name = path.into_inner();
    let scope = pull_scope(&name);
    let p = caller(&state, &req, Some(&scope)).await?;
    let r = repo(&name)?;
    let tags = state
        .arca
        .list_tags(&p, &r, query.last.as_deref(), query.n)
        .await
        .map_err(|e| fail(&state, &req, Some(&scope), e))?;
    let mut b = HttpResponse::Ok();
    api_version(&mut b);
    if let (Some(n), Some(last)) = (query.n, tags.last()) {
        if tags.len() == n && n > 0 {
            b.insert_header((
                header::LINK,
                link_header(&format!("/v2/{name}/tags/list"), n, last),
            ));
        }
    }
    Ok(b.json(json!({"name": name, "tags": tags})))
}

/// `GET /v2/_catalog?n=&last=` — only repositories the caller may see.
pub async fn catalog(
    req: HttpRequest,
    state: web::Data<AppState>,
    query: web::Query<ListQuery>,
) -> OciResult {
    let scope = "registry:catalog:*";
    let p = caller(&state, &req, Some(scope)).await?;
    let names = state
        .arca
        .catalog(&p, query.last.as_deref(), query.n)
        .await
        .map_err(|e| fail(&state, &req, Some(scope), e))?;
    let mut b = HttpResponse::Ok();
    api_version(&mut b);
    if let (Some(n), Some(last)) = (query.n, names.last()) {
        if names.len() == n && n > 0 {
            b.insert_header((header::LINK, link_header("/v2/_catalog", n, last)));
        }
    }
    Ok(b.json(json!({"repositories": names})))
}

/// Query of the referrers API.
#[derive(Debug, Deserialize)]
pub struct ReferrersQuery {
    #[serde(rename = "artifactType")]
    artifact_type: Option<String>,
}

/// `GET /v2/<name>/referrers/<digest>?artifactType=`.
pub async fn referrers(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
    query: web::Query<ReferrersQuery>,
) -> OciResult {
    let (name, d) = path.into_inner();
    let scope = pull_scope(&name);
    let p = caller(&state, &req, Some(&scope)).await?;
    let r = repo(&name)?;
    let d = digest(&d)?;
    let (json, filtered) = state
        .arca
        .referrers(&p, &r, &d, query.artifact_type.as_deref())
        .await
        .map_err(|e| fail(&state, &req, Some(&scope), e))?;
    let mut b = HttpResponse::Ok();
    api_version(&mut b).insert_header((
        header::CONTENT_TYPE,
        "application/vnd.oci.image.index.v1+json",
    ));
    if filtered {
        b.insert_header(("OCI-Filters-Applied", "artifactType"));
    }
    Ok(b.body(json))
}

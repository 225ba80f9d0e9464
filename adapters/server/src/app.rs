//! The actix-web application: shared state, middleware (request ids, logs, metrics) and routes.

use crate::errors::ApiError;
use crate::metrics::Metrics;
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{web, HttpRequest, HttpResponse};
use arca_core::Arca;
use serde_json::json;
use std::time::Instant;
use tracing::Instrument;

/// State shared by every worker.
#[derive(Clone)]
pub struct AppState {
    /// The application services.
    pub arca: Arca,
    /// Metrics registry.
    pub metrics: Metrics,
    /// Effective configuration.
    pub config: crate::config::ServeConfig,
}

impl AppState {
    /// The base URL clients use: the configured public URL, else the request's own scheme and
    /// `Host`.
    pub fn base_url(&self, req: &HttpRequest) -> String {
        if let Some(u) = &self.config.public_url {
            return u.trim_end_matches('/').to_string();
        }
        let info = req.connection_info();
        format!("{}://{}", info.scheme(), info.host())
    }
}

tokio::task_local! {
    static REQUEST_ID: String;
}

/// The id of the request being served, if called while serving one.
pub fn current_request_id() -> Option<String> {
    REQUEST_ID.try_with(|id| id.clone()).ok()
}

/// The response header carrying the request id.
pub const REQUEST_ID_HEADER: &str = "x-request-id";

/// Accepts a caller's request id if it is short and plain, else makes a new one.
fn request_id(req: &ServiceRequest) -> String {
    req.headers()
        .get(REQUEST_ID_HEADER)
        .and_then(|v| v.to_str().ok())
        .filter(|v| {
            // Short, plain, and never something that looks like a credential.
            !v.is_empty()
                && v.len() <= 40
                && !v.starts_with("arca_")
                && v.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        })
        .map(str::to_owned)
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string())
}

/// Middleware: request id (task-local and response header), one structured log line per
/// request (path only: query strings may carry signatures), metrics.
pub async fn observe(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody + 'static>, actix_web::Error> {
    let id = request_id(&req);
    let method = req.method().to_string();
    let path = req.path().to_owned();
    let metrics = req
        .app_data::<web::Data<AppState>>()
        .map(|s| s.metrics.clone());
    let span = tracing::info_span!("request", request_id = %id, %method, %path);
    let started = Instant::now();
    REQUEST_ID
        .scope(
            id.clone(),
            async move {
                let mut res = next.call(req).await?;
                let status = res.status().as_u16();
                let route = res
                    .request()
                    .match_pattern()
                    .unwrap_or_else(|| "unmatched".into());
                let elapsed = started.elapsed();
                if let Some(m) = metrics {
                    m.requests
                        .with_label_values(&[&method, &route, &status.to_string()])
                        .inc();
                    m.latency
                        .with_label_values(&[&method, &route])
                        .observe(elapsed.as_secs_f64());
                    if status == 401 || status == 403 {
                        let protocol = protocol_of(&path);
                        m.auth_failures
                            .with_label_values(&[protocol, &status.to_string()])
                            .inc();
                    }
                }
                if let Ok(v) = HeaderValue::from_str(&id) {
                    res.headers_mut()
                        .insert(HeaderName::from_static(REQUEST_ID_HEADER), v);
                }
                tracing::info!(
                    status,
                    latency_ms = elapsed.as_secs_f64() * 1000.0,
                    "request served"
                );
                Ok(res)
            }
            .instrument(span),
        )
        .await
}

/// Which protocol a path belongs to, for metrics labels.
fn protocol_of(path: &str) -> &'static str {
    if path == "/v2" || path == "/v2/" || path.ends_with("/manifests") || path.contains("/blobs/") {
        "oci"
    } else if path.starts_with("/token") {
        "token"
    } else if path.starts_with("/api/") || path.ends_with("index.yaml") || path.contains("/charts/")
    {
        "helm"
    } else {
        "rest"
    }
}

/// Registers every route of [`crate::rest::routes::ROUTES`], the body/query/path error
/// handlers (errors in the API's own JSON shape) and the 404 fallback.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.app_data(
        // Model and resource bodies carry Markdown documents (overview, guides, release notes)
        // of up to 1 MiB each (arca_core::artifacts::MAX_TEXT_FIELD).
        web::JsonConfig::default()
            .limit(4 * 1024 * 1024)
            .error_handler(|e, _| ApiError::bad_request(format!("invalid JSON body: {e}")).into()),
    )
    .app_data(
        web::QueryConfig::default()
            .error_handler(|e, _| ApiError::bad_request(format!("invalid query: {e}")).into()),
    )
    .app_data(
        web::PathConfig::default()
            .error_handler(|e, _| ApiError::not_found(format!("invalid path: {e}")).into()),
    )
    .app_data(
        web::FormConfig::default()
            .limit(64 * 1024)
            .error_handler(|e, _| ApiError::bad_request(format!("invalid form body: {e}")).into()),
    );
    for route in crate::rest::routes::ROUTES {
        (route.mount)(cfg);
    }
    cfg.default_service(web::to(no_route));
}

/// GET /healthz — liveness: the process serves HTTP.
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(json!({"status": "ok"}))
}

/// Readiness: both stores answer.
pub async fn readyz(state: web::Data<AppState>) -> HttpResponse {
    let meta = state.arca.meta.ping().await;
    let blobs = state.arca.blobs.ping().await;
    let body = json!({
        "status": if meta.is_ok() && blobs.is_ok() { "ready" } else { "not ready" },
        "metadata": meta.as_ref().map(|_| "ok".to_string()).unwrap_or_else(|e| e.to_string()),
        "blobs": blobs.as_ref().map(|_| "ok".to_string()).unwrap_or_else(|e| e.to_string()),
    });
    if meta.is_ok() && blobs.is_ok() {
        HttpResponse::Ok().json(body)
    } else {
        HttpResponse::ServiceUnavailable().json(body)
    }
}

pub async fn metrics(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let text = state.metrics.render().map_err(|e| {
        ApiError::new(
            actix_web::http::StatusCode::INTERNAL_SERVER_ERROR,
            "INTERNAL",
            e.to_string(),
        )
    })?;
    Ok(HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4")
        .body(text))
}

async fn no_route(req: HttpRequest) -> Result<HttpResponse, ApiError> {
    Err(ApiError::no_route(req.path()))
}

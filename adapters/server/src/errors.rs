//! The one place where domain errors become HTTP responses.
//!
//! The REST API answers in NGC's shape, which the official `ngcsdk` client reads:
//! `{"requestStatus":{"statusCode":"NOT_FOUND","statusDescription":"…","requestId":"…"}}`,
//! with `statusCode` one of the words of ngcsdk's `StatusCodeEnum` (the description says the
//! rest, e.g. which quota and by how much).

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use arca_core::ports::{BlobError, StoreError};
use arca_core::CoreError;
use serde_json::json;

/// An error of the REST API.
#[derive(Debug)]
pub struct ApiError {
    /// HTTP status.
    pub status: StatusCode,
    /// NGC status code word (`NOT_FOUND`, `EXISTS`, `FORBIDDEN`, …).
    pub code: &'static str,
    /// Human message.
    pub message: String,
}

impl ApiError {
    /// A new error.
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
        }
    }

    /// 400 with a message.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "INVALID_REQUEST", message)
    }

    /// 404 with a message.
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "NOT_FOUND", message)
    }

    /// 404 for a path no route serves.
    pub fn no_route(path: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "NOT_FOUND",
            format!("no such endpoint: {path}"),
        )
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} {}: {}",
            self.status.as_u16(),
            self.code,
            self.message
        )
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.status
    }

    fn error_response(&self) -> HttpResponse {
        let request_id = crate::app::current_request_id().unwrap_or_default();
        HttpResponse::build(self.status).json(json!({
            "requestStatus": {
                "statusCode": self.code,
                "statusDescription": self.message,
                "requestId": request_id,
            }
        }))
    }
}

impl From<CoreError> for ApiError {
    fn from(e: CoreError) -> Self {
        use StatusCode as S;
        match &e {
            CoreError::Invalid(_) | CoreError::Name(_) => {
                Self::new(S::BAD_REQUEST, "INVALID_REQUEST", e.to_string())
            }
            CoreError::NotFound(_) => Self::new(S::NOT_FOUND, "NOT_FOUND", e.to_string()),
            CoreError::AlreadyExists(_) => Self::new(S::CONFLICT, "EXISTS", e.to_string()),
            CoreError::Conflict(_) => Self::new(S::CONFLICT, "CONFLICT", e.to_string()),
            CoreError::LimitReached(_) => Self::new(S::CONFLICT, "CONFLICT", e.to_string()),
            CoreError::Unauthenticated(_) => {
                Self::new(S::UNAUTHORIZED, "UNAUTHORIZED", e.to_string())
            }
            CoreError::Forbidden(_) => Self::new(S::FORBIDDEN, "FORBIDDEN", e.to_string()),
            CoreError::Quota(_) => {
                Self::new(S::PAYLOAD_TOO_LARGE, "INSUFFICIENT_STORAGE", e.to_string())
            }
            CoreError::Store(StoreError::Conflict(_)) => Self::new(
                S::SERVICE_UNAVAILABLE,
                "SERVICE_UNAVAILABLE",
                "the request conflicted with a concurrent change; retry it",
            ),
            CoreError::Store(_) | CoreError::Blob(BlobError::Backend(_)) => {
                tracing::error!(error = %e, "storage failure");
                Self::new(
                    S::SERVICE_UNAVAILABLE,
                    "SERVICE_UNAVAILABLE",
                    "storage is unavailable; retry later",
                )
            }
            CoreError::Blob(_) => Self::new(S::BAD_REQUEST, "INVALID_REQUEST", e.to_string()),
            CoreError::Registry(api) => Self::new(
                S::from_u16(api.status()).unwrap_or(S::BAD_REQUEST),
                "INVALID_REQUEST",
                e.to_string(),
            ),
        }
    }
}

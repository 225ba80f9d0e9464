//! The one error type of the domain services; the server maps it to HTTP in exactly one place.

use crate::names::NameError;
use crate::ports::{BlobError, StoreError};
use crate::quota::QuotaExceeded;

/// What went wrong in a use case.
#[derive(Debug, thiserror::Error)]
pub enum CoreError {
    /// Input failed validation.
    #[error("{0}")]
    Invalid(String),
    /// A name failed validation.
    #[error(transparent)]
    Name(#[from] NameError),
    /// The thing does not exist (or the caller may not know that it exists).
    #[error("{0} not found")]
    NotFound(String),
    /// The thing already exists.
    #[error("{0} already exists")]
    AlreadyExists(String),
    /// The request conflicts with the state of the thing (a complete version, content that
    /// does not match its announced digest); the message says what and what to do.
    #[error("{0}")]
    Conflict(String),
    /// A count limit would be exceeded (keys per user, owners per org, ...).
    #[error("{0}")]
    LimitReached(String),
    /// No valid credential was presented.
    #[error("{0}")]
    Unauthenticated(String),
    /// The caller is known but may not do this.
    #[error("{0}")]
    Forbidden(String),
    /// A storage quota would be exceeded.
    #[error(transparent)]
    Quota(#[from] QuotaExceeded),
    /// The metadata store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The blob store failed.
    #[error(transparent)]
    Blob(#[from] BlobError),
    /// A registry (OCI Distribution) error with its specification code and status.
    #[error("{}", registry_message(.0))]
    Registry(arca_oci::ApiError),
}

fn registry_message(e: &arca_oci::ApiError) -> String {
    e.body()
        .errors
        .first()
        .map(|i| i.message.clone())
        .unwrap_or_else(|| "registry error".into())
}

impl CoreError {
    /// A registry error with `code` and `message`.
    pub fn registry(code: arca_oci::ErrorCode, message: impl Into<String>) -> Self {
        CoreError::Registry(arca_oci::ApiError::new(code, message))
    }
}

impl From<arca_auth::AuthError> for CoreError {
    fn from(e: arca_auth::AuthError) -> Self {
        match e {
            arca_auth::AuthError::TooManyOrgOwners { .. }
            | arca_auth::AuthError::TooManyKeys { .. } => CoreError::LimitReached(e.to_string()),
            arca_auth::AuthError::CannotGrant { .. } => CoreError::Forbidden(e.to_string()),
            other => CoreError::Invalid(other.to_string()),
        }
    }
}

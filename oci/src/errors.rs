//! Distribution-spec error codes, their HTTP statuses, and the JSON error body.
//!
//! The spec's error-code table (code-1 … code-14) lists codes and descriptions but no statuses;
//! the statuses below follow the spec's endpoint table and the Docker Registry HTTP API V2 the
//! spec derives from. Two situations use a status other than the code's default, each with its
//! own constructor so the choice is made once:
//!
//! * an out-of-order chunk (`PATCH` whose `Content-Range` does not start at the current offset):
//!   the spec says the registry MUST answer **416 Requested Range Not Satisfiable**; the body
//!   carries `BLOB_UPLOAD_INVALID` ([`ApiError::chunk_out_of_order`]). Docker's registry used a
//!   `RANGE_INVALID` code, which is not in the OCI list, so we do not send it.
//! * an unsupported manifest media type (including Docker schema 1): **415 Unsupported Media
//!   Type** with `UNSUPPORTED` ([`ApiError::unsupported_media_type`]). Elsewhere (for instance a
//!   disabled delete, where the spec allows 400 or 405) `UNSUPPORTED` defaults to 400.
//!
//! The body types are our own rather than `oci_spec::distribution::ErrorInfo`, whose `detail`
//! is a `String` that must itself contain JSON (and which cannot serialize a plain message as
//! detail); conversion of the code to the oci-spec enum is provided.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// HTTP 416, used for out-of-order upload chunks.
pub const STATUS_RANGE_NOT_SATISFIABLE: u16 = 416;
/// HTTP 415, used for unsupported manifest media types.
pub const STATUS_UNSUPPORTED_MEDIA_TYPE: u16 = 415;

/// The error codes of the distribution spec (its "Error Codes" table).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ErrorCode {
    /// code-1 `BLOB_UNKNOWN`: blob unknown to registry. 404.
    BlobUnknown,
    /// code-2 `BLOB_UPLOAD_INVALID`: blob upload invalid. 400 (416 for out-of-order chunks,
    /// see [`ApiError::chunk_out_of_order`]).
    BlobUploadInvalid,
    /// code-3 `BLOB_UPLOAD_UNKNOWN`: blob upload unknown to registry. 404.
    BlobUploadUnknown,
    /// code-4 `DIGEST_INVALID`: provided digest did not match uploaded content. 400.
    DigestInvalid,
    /// code-5 `MANIFEST_BLOB_UNKNOWN`: manifest references a manifest or blob unknown to
    /// registry. 404 (the spec's PUT-manifest failures are 404/413; Docker's registry used 400).
    ManifestBlobUnknown,
    /// code-6 `MANIFEST_INVALID`: manifest invalid. 400.
    ManifestInvalid,
    /// code-7 `MANIFEST_UNKNOWN`: manifest unknown to registry. 404.
    ManifestUnknown,
    /// code-8 `NAME_INVALID`: invalid repository name. 400.
    NameInvalid,
    /// code-9 `NAME_UNKNOWN`: repository name not known to registry. 404.
    NameUnknown,
    /// code-10 `SIZE_INVALID`: provided length did not match content length. 400.
    SizeInvalid,
    /// code-11 `UNAUTHORIZED`: authentication required. 401.
    Unauthorized,
    /// code-12 `DENIED`: requested access to the resource is denied. 403.
    Denied,
    /// code-13 `UNSUPPORTED`: the operation is unsupported. 400 by default (the spec's answer for
    /// disabled deletes is 400 or 405); 415 for media types via
    /// [`ApiError::unsupported_media_type`].
    Unsupported,
    /// code-14 `TOOMANYREQUESTS`: too many requests. 429.
    TooManyRequests,
}

impl ErrorCode {
    /// Every code, in the spec's order.
    pub const ALL: [ErrorCode; 14] = [
        Self::BlobUnknown,
        Self::BlobUploadInvalid,
        Self::BlobUploadUnknown,
        Self::DigestInvalid,
        Self::ManifestBlobUnknown,
        Self::ManifestInvalid,
        Self::ManifestUnknown,
        Self::NameInvalid,
        Self::NameUnknown,
        Self::SizeInvalid,
        Self::Unauthorized,
        Self::Denied,
        Self::Unsupported,
        Self::TooManyRequests,
    ];

    /// The wire identifier, e.g. `BLOB_UNKNOWN`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::BlobUnknown => "BLOB_UNKNOWN",
            Self::BlobUploadInvalid => "BLOB_UPLOAD_INVALID",
            Self::BlobUploadUnknown => "BLOB_UPLOAD_UNKNOWN",
            Self::DigestInvalid => "DIGEST_INVALID",
            Self::ManifestBlobUnknown => "MANIFEST_BLOB_UNKNOWN",
            Self::ManifestInvalid => "MANIFEST_INVALID",
            Self::ManifestUnknown => "MANIFEST_UNKNOWN",
            Self::NameInvalid => "NAME_INVALID",
            Self::NameUnknown => "NAME_UNKNOWN",
            Self::SizeInvalid => "SIZE_INVALID",
            Self::Unauthorized => "UNAUTHORIZED",
            Self::Denied => "DENIED",
            Self::Unsupported => "UNSUPPORTED",
            Self::TooManyRequests => "TOOMANYREQUESTS",
        }
    }

    /// The spec's description of the code (a sensible default message).
    pub const fn description(self) -> &'static str {
        match self {
            Self::BlobUnknown => "blob unknown to registry",
            Self::BlobUploadInvalid => "blob upload invalid",
            Self::BlobUploadUnknown => "blob upload unknown to registry",
            Self::DigestInvalid => "provided digest did not match uploaded content",
            Self::ManifestBlobUnknown => {
                "manifest references a manifest or blob unknown to registry"
            }
            Self::ManifestInvalid => "manifest invalid",
            Self::ManifestUnknown => "manifest unknown to registry",
            Self::NameInvalid => "invalid repository name",
            Self::NameUnknown => "repository name not known to registry",
            Self::SizeInvalid => "provided length did not match content length",
            Self::Unauthorized => "authentication required",
            Self::Denied => "requested access to the resource is denied",
            Self::Unsupported => "the operation is unsupported",
            Self::TooManyRequests => "too many requests",
        }
    }

    /// The default HTTP status for the code.
    pub const fn status(self) -> u16 {
        match self {
            Self::BlobUnknown
            | Self::BlobUploadUnknown
            | Self::ManifestBlobUnknown
            | Self::ManifestUnknown
            | Self::NameUnknown => 404,
            Self::BlobUploadInvalid
            | Self::DigestInvalid
            | Self::ManifestInvalid
            | Self::NameInvalid
            | Self::SizeInvalid
            | Self::Unsupported => 400,
            Self::Unauthorized => 401,
            Self::Denied => 403,
            Self::TooManyRequests => 429,
        }
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A string that is not one of the spec's error codes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown distribution error code '{0}'")]
pub struct UnknownErrorCode(pub String);

impl FromStr for ErrorCode {
    type Err = UnknownErrorCode;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|c| c.as_str() == s)
            .ok_or_else(|| UnknownErrorCode(s.to_owned()))
    }
}

impl Serialize for ErrorCode {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for ErrorCode {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

impl From<ErrorCode> for oci_spec::distribution::ErrorCode {
    fn from(c: ErrorCode) -> Self {
        use oci_spec::distribution::ErrorCode as O;
        match c {
            ErrorCode::BlobUnknown => O::BlobUnknown,
            ErrorCode::BlobUploadInvalid => O::BlobUploadInvalid,
            ErrorCode::BlobUploadUnknown => O::BlobUploadUnknown,
            ErrorCode::DigestInvalid => O::DigestInvalid,
            ErrorCode::ManifestBlobUnknown => O::ManifestBlobUnknown,
            ErrorCode::ManifestInvalid => O::ManifestInvalid,
            ErrorCode::ManifestUnknown => O::ManifestUnknown,
            ErrorCode::NameInvalid => O::NameInvalid,
            ErrorCode::NameUnknown => O::NameUnknown,
            ErrorCode::SizeInvalid => O::SizeInvalid,
            ErrorCode::Unauthorized => O::Unauthorized,
            ErrorCode::Denied => O::Denied,
            ErrorCode::Unsupported => O::Unsupported,
            ErrorCode::TooManyRequests => O::TooManyRequests,
        }
    }
}

/// One entry of the `errors` array.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ErrorInfo {
    /// The code.
    pub code: ErrorCode,
    /// Human-readable message.
    pub message: String,
    /// Optional arbitrary JSON for the client.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<serde_json::Value>,
}

/// The error body: `{"errors":[{"code","message","detail"}]}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ErrorResponse {
    /// One or more errors.
    pub errors: Vec<ErrorInfo>,
}

impl ErrorResponse {
    /// A body with a single error.
    pub fn single(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            errors: vec![ErrorInfo {
                code,
                message: message.into(),
                detail: None,
            }],
        }
    }

    /// The body as JSON text.
    pub fn to_json(&self) -> String {
        // Strings, a `Copy` enum and `serde_json::Value`s always serialize.
        serde_json::to_string(self).expect("error bodies always serialize")
    }
}

/// A registry error ready to be turned into an HTTP response: a status and an
/// [`ErrorResponse`] body (served as `application/json`).
#[derive(Debug, Clone, PartialEq)]
pub struct ApiError {
    status: u16,
    body: ErrorResponse,
}

impl ApiError {
    /// An error with the code's default status.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            status: code.status(),
            body: ErrorResponse::single(code, message),
        }
    }

    /// Attaches `detail` to the (first) error.
    pub fn with_detail(mut self, detail: serde_json::Value) -> Self {
        if let Some(e) = self.body.errors.first_mut() {
            e.detail = Some(detail);
        }
        self
    }

    /// Overrides the status.
    pub fn with_status(mut self, status: u16) -> Self {
        self.status = status;
        self
    }

    /// 416 + `BLOB_UPLOAD_INVALID`: a chunk did not start at the upload's current offset.
    /// The detail tells the client where to resume.
    pub fn chunk_out_of_order(expected_start: u64, received_start: u64) -> Self {
        Self::new(
            ErrorCode::BlobUploadInvalid,
            format!(
                "chunk out of order: the upload is at offset {expected_start}, the chunk starts at {received_start}"
            ),
        )
        .with_status(STATUS_RANGE_NOT_SATISFIABLE)
        .with_detail(serde_json::json!({
            "expectedStart": expected_start,
            "receivedStart": received_start,
        }))
    }

    /// 415 + `UNSUPPORTED`: a manifest media type the registry does not accept.
    pub fn unsupported_media_type(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::Unsupported, message).with_status(STATUS_UNSUPPORTED_MEDIA_TYPE)
    }

    /// The HTTP status.
    pub fn status(&self) -> u16 {
        self.status
    }

    /// The code of the first error.
    pub fn code(&self) -> Option<ErrorCode> {
        self.body.errors.first().map(|e| e.code)
    }

    /// The body.
    pub fn body(&self) -> &ErrorResponse {
        &self.body
    }

    /// The body as JSON text.
    pub fn to_json(&self) -> String {
        self.body.to_json()
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.body.errors.first() {
            Some(e) => write!(f, "{} {}: {}", self.status, e.code, e.message),
            None => write!(f, "{}", self.status),
        }
    }
}

impl std::error::Error for ApiError {}

impl From<crate::digest::DigestError> for ApiError {
    /// `DIGEST_INVALID` 400.
    fn from(e: crate::digest::DigestError) -> Self {
        Self::new(ErrorCode::DigestInvalid, e.to_string())
    }
}

impl From<crate::name::NameError> for ApiError {
    /// `NAME_INVALID` 400.
    fn from(e: crate::name::NameError) -> Self {
        Self::new(ErrorCode::NameInvalid, e.to_string())
    }
}

impl From<crate::manifest::ManifestError> for ApiError {
    /// See [`crate::manifest::ManifestError::error_code`] / `status`.
    fn from(e: crate::manifest::ManifestError) -> Self {
        Self::new(e.error_code(), e.to_string()).with_status(e.status())
    }
}

impl From<crate::range::ContentRangeError> for ApiError {
    /// Out-of-order → 416 `BLOB_UPLOAD_INVALID` (with detail); otherwise per
    /// [`crate::range::ContentRangeError::error_code`].
    fn from(e: crate::range::ContentRangeError) -> Self {
        match e {
            crate::range::ContentRangeError::OutOfOrder { expected, start } => {
                Self::chunk_out_of_order(expected, start)
            }
            other => Self::new(other.error_code(), other.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn codes_statuses_and_strings() {
        let expected = [
            ("BLOB_UNKNOWN", 404),
            ("BLOB_UPLOAD_INVALID", 400),
            ("BLOB_UPLOAD_UNKNOWN", 404),
            ("DIGEST_INVALID", 400),
            ("MANIFEST_BLOB_UNKNOWN", 404),
            ("MANIFEST_INVALID", 400),
            ("MANIFEST_UNKNOWN", 404),
            ("NAME_INVALID", 400),
            ("NAME_UNKNOWN", 404),
            ("SIZE_INVALID", 400),
            ("UNAUTHORIZED", 401),
            ("DENIED", 403),
            ("UNSUPPORTED", 400),
            ("TOOMANYREQUESTS", 429),
        ];
        for (code, (s, status)) in ErrorCode::ALL.into_iter().zip(expected) {
            assert_eq!(code.as_str(), s);
            assert_eq!(code.status(), status, "{s}");
            assert_eq!(s.parse::<ErrorCode>().unwrap(), code);
            // Same wire form as oci-spec's serde.
            let ours = serde_json::to_value(code).unwrap();
            let theirs =
                serde_json::to_value(oci_spec::distribution::ErrorCode::from(code)).unwrap();
            assert_eq!(ours, theirs);
            assert!(!code.description().is_empty());
        }
        assert!("UNKNOWN".parse::<ErrorCode>().is_err());
    }

    #[test]
    fn body_shape() {
        let e = ApiError::new(ErrorCode::ManifestUnknown, "manifest unknown")
            .with_detail(json!({"tag": "latest"}));
        assert_eq!(e.status(), 404);
        let v: serde_json::Value = serde_json::from_str(&e.to_json()).unwrap();
        assert_eq!(
            v,
            json!({"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown","detail":{"tag":"latest"}}]})
        );
        let plain = ErrorResponse::single(ErrorCode::Denied, "no");
        assert_eq!(
            plain.to_json(),
            r#"{"errors":[{"code":"DENIED","message":"no"}]}"#
        );
        let back: ErrorResponse = serde_json::from_str(&plain.to_json()).unwrap();
        assert_eq!(back, plain);
    }

    #[test]
    fn special_statuses() {
        let e = ApiError::chunk_out_of_order(10, 0);
        assert_eq!(e.status(), 416);
        assert_eq!(e.code(), Some(ErrorCode::BlobUploadInvalid));
        assert_eq!(
            e.body().errors[0].detail,
            Some(json!({"expectedStart":10,"receivedStart":0}))
        );
        let e = ApiError::unsupported_media_type("schema1");
        assert_eq!((e.status(), e.code()), (415, Some(ErrorCode::Unsupported)));
        assert_eq!(e.to_string(), "415 UNSUPPORTED: schema1");
    }

    #[test]
    fn conversions_from_domain_errors() {
        let e: ApiError = crate::Digest::parse("md5:x").unwrap_err().into();
        assert_eq!(
            (e.status(), e.code()),
            (400, Some(ErrorCode::DigestInvalid))
        );
        let e: ApiError = crate::RepositoryName::parse("A").unwrap_err().into();
        assert_eq!((e.status(), e.code()), (400, Some(ErrorCode::NameInvalid)));
        let e: ApiError = crate::range::ChunkRange::parse_at("5-9", 0)
            .unwrap_err()
            .into();
        assert_eq!(
            (e.status(), e.code()),
            (416, Some(ErrorCode::BlobUploadInvalid))
        );
        let e: ApiError = crate::range::ChunkRange::parse_at("x", 0)
            .unwrap_err()
            .into();
        assert_eq!(
            (e.status(), e.code()),
            (400, Some(ErrorCode::BlobUploadInvalid))
        );
        let e: ApiError =
            crate::ParsedManifest::parse(Some(crate::media::DOCKER_MANIFEST_V1_SIGNED), b"{}")
                .unwrap_err()
                .into();
        assert_eq!((e.status(), e.code()), (415, Some(ErrorCode::Unsupported)));
        let e: ApiError = crate::ParsedManifest::parse(None, b"[").unwrap_err().into();
        assert_eq!(
            (e.status(), e.code()),
            (400, Some(ErrorCode::ManifestInvalid))
        );
    }
}

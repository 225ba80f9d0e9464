//! The client's error type and the parsing of server error bodies.

use std::fmt::Write as _;

use serde_json::{Map, Value};

/// Longest message (in characters) kept from a server body; longer text is cut and ends in `…`.
pub const MAX_MESSAGE_CHARS: usize = 500;

/// Everything that can go wrong when talking to an Arca server.
///
/// No variant ever holds the API key: it is only kept inside the client, as a header value
/// marked sensitive.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ClientError {
    /// The server answered with a non-success HTTP status.
    ///
    /// The message is taken from the body, in this order: NGC's
    /// `requestStatus.statusDescription` (with `statusCode` and `requestId`), then `detail`,
    /// then `message`, then the OCI distribution shape `{"errors":[{"code","message"}]}`,
    /// then the raw body text (cut to [`MAX_MESSAGE_CHARS`]), then the HTTP reason phrase.
    #[error("{}", display_api(*.status, .code.as_deref(), .message, .request_id.as_deref()))]
    Api {
        /// The HTTP status code, e.g. 404.
        status: u16,
        /// A machine-readable code, e.g. `NOT_FOUND` or the OCI `MANIFEST_UNKNOWN`.
        code: Option<String>,
        /// The human-readable message.
        message: String,
        /// The server's request id, to quote when reporting a problem.
        request_id: Option<String>,
    },

    /// The request could not be sent or the response could not be read: connection refused,
    /// DNS failure, TLS failure (for example an untrusted certificate), timeout.
    #[error("{message}")]
    Transport {
        /// The URL of the request (never with credentials: those are rejected in base URLs).
        url: String,
        /// A one-line explanation, such as `cannot connect to http://…: Connection refused`.
        message: String,
        /// The underlying error.
        #[source]
        source: reqwest::Error,
    },

    /// A base URL or a path could not be used.
    #[error("invalid URL {url:?}: {reason}")]
    InvalidUrl {
        /// The URL (or URL fragment) that was rejected.
        url: String,
        /// Why it was rejected.
        reason: String,
    },

    /// The server answered with success, but the body was not the expected JSON.
    #[error("cannot decode the response of {url}: {reason}")]
    Decode {
        /// The URL of the request.
        url: String,
        /// What was wrong, with the start of the body.
        reason: String,
    },

    /// The client could not be built: unreadable CA file, a value that cannot be sent in an
    /// HTTP header, and the like.
    #[error("invalid client configuration: {0}")]
    Config(String),

    /// A local file could not be read or written (OCI blob transfers).
    #[error("{context}: {source}")]
    Io {
        /// What was being done, with the path.
        context: String,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },

    /// Content did not match its digest or announced size: the transfer is not trusted.
    #[error("{0}")]
    Integrity(String),
}

impl ClientError {
    /// The HTTP status of an [`ClientError::Api`] error, `None` for every other variant.
    pub fn status(&self) -> Option<u16> {
        match self {
            ClientError::Api { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// Whether this is an API error with status 404.
    pub fn is_not_found(&self) -> bool {
        self.status() == Some(404)
    }

    /// Builds the [`ClientError::Api`] error for a response with the given status and body.
    ///
    /// ```
    /// use arca_client::ClientError;
    ///
    /// let body = br#"{"requestStatus":{"statusCode":"NOT_FOUND",
    ///     "statusDescription":"Org 'x' could not be found","requestId":"r-1"}}"#;
    /// let err = ClientError::from_response(404, body);
    /// assert_eq!(err.to_string(), "Org 'x' could not be found (HTTP 404 NOT_FOUND, request id r-1)");
    /// ```
    pub fn from_response(status: u16, body: &[u8]) -> ClientError {
        let parsed = match serde_json::from_slice::<Value>(body) {
            Ok(Value::Object(obj)) => parse_json_error(&obj),
            _ => ParsedError::default(),
        };
        let message = parsed
            .message
            .or_else(|| {
                let text = String::from_utf8_lossy(body);
                let text = text.trim();
                (!text.is_empty()).then(|| text.to_string())
            })
            .or_else(|| {
                reqwest::StatusCode::from_u16(status)
                    .ok()
                    .and_then(|s| s.canonical_reason())
                    .map(str::to_string)
            })
            .unwrap_or_else(|| "request failed".to_string());
        ClientError::Api {
            status,
            code: parsed.code.map(|c| clean(&c)),
            message: clean(&message),
            request_id: parsed.request_id.map(|r| clean(&r)),
        }
    }
}

fn display_api(status: u16, code: Option<&str>, message: &str, request_id: Option<&str>) -> String {
    let mut out = format!("{message} (HTTP {status}");
    if let Some(code) = code {
        let _ = write!(out, " {code}");
    }
    if let Some(id) = request_id {
        let _ = write!(out, ", request id {id}");
    }
    out.push(')');
    out
}

#[derive(Default)]
struct ParsedError {
    code: Option<String>,
    message: Option<String>,
    request_id: Option<String>,
}

fn parse_json_error(obj: &Map<String, Value>) -> ParsedError {
    let status = obj.get("requestStatus").and_then(Value::as_object);
    let mut code = status.and_then(|s| non_empty_str(s.get("statusCode")));
    let request_id = status.and_then(|s| non_empty_str(s.get("requestId")));
    let mut message = status
        .and_then(|s| non_empty_str(s.get("statusDescription")))
        .or_else(|| text_of(obj.get("detail")))
        .or_else(|| text_of(obj.get("message")));
    if message.is_none() {
        if let Some((oci_code, oci_message)) = oci_errors(obj) {
            code = code.or(oci_code);
            message = oci_message;
        }
    }
    let message = message
        .or_else(|| text_of(obj.get("title")))
        .or_else(|| text_of(obj.get("error")));
    ParsedError {
        code,
        message,
        request_id,
    }
}

/// The OCI distribution error shape: `{"errors":[{"code":"…","message":"…"}]}`.
fn oci_errors(obj: &Map<String, Value>) -> Option<(Option<String>, Option<String>)> {
    let errors = obj.get("errors")?.as_array()?;
    let code = errors.iter().find_map(|e| non_empty_str(e.get("code")));
    let messages: Vec<String> = errors
        .iter()
        .filter_map(|e| non_empty_str(e.get("message")).or_else(|| non_empty_str(e.get("code"))))
        .collect();
    let message = (!messages.is_empty()).then(|| messages.join("; "));
    Some((code, message))
}

fn non_empty_str(value: Option<&Value>) -> Option<String> {
    match value? {
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_string()),
        _ => None,
    }
}

/// A string field as is; any other non-null JSON value (FastAPI-style `detail` lists, say) as
/// compact JSON.
fn text_of(value: Option<&Value>) -> Option<String> {
    match value? {
        Value::Null => None,
        Value::String(_) => non_empty_str(value),
        other => Some(other.to_string()),
    }
}

/// Makes server-supplied text safe to print: control characters (terminal escapes, newlines)
/// become spaces, and the text is cut to [`MAX_MESSAGE_CHARS`].
pub(crate) fn clean(text: &str) -> String {
    let mut out: String = text
        .chars()
        .take(MAX_MESSAGE_CHARS)
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    if text.chars().nth(MAX_MESSAGE_CHARS).is_some() {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn api(err: ClientError) -> (u16, Option<String>, String, Option<String>) {
        match err {
            ClientError::Api {
                status,
                code,
                message,
                request_id,
            } => (status, code, message, request_id),
            other => panic!("not an API error: {other:?}"),
        }
    }

    #[test]
    fn ngc_request_status_shape() {
        let body = br#"{"requestStatus":{"statusCode":"NOT_FOUND","statusDescription":"Team 'x' not found","requestId":"abc"}}"#;
        let err = ClientError::from_response(404, body);
        assert!(err.is_not_found());
        assert_eq!(
            err.to_string(),
            "Team 'x' not found (HTTP 404 NOT_FOUND, request id abc)"
        );
        assert_eq!(
            api(err),
            (
                404,
                Some("NOT_FOUND".into()),
                "Team 'x' not found".into(),
                Some("abc".into())
            )
        );
    }

    #[test]
    fn request_status_without_description_falls_back_to_detail() {
        let body = br#"{"requestStatus":{"statusCode":"FORBIDDEN","requestId":"r9"},"detail":"no access"}"#;
        let (_, code, message, id) = api(ClientError::from_response(403, body));
        assert_eq!(code.as_deref(), Some("FORBIDDEN"));
        assert_eq!(message, "no access");
        assert_eq!(id.as_deref(), Some("r9"));
    }

    #[test]
    fn detail_then_message_then_title() {
        let (_, _, m, _) = api(ClientError::from_response(
            400,
            br#"{"detail":"bad","message":"worse"}"#,
        ));
        assert_eq!(m, "bad");
        let (_, _, m, _) = api(ClientError::from_response(400, br#"{"message":"worse"}"#));
        assert_eq!(m, "worse");
        let (_, _, m, _) = api(ClientError::from_response(
            400,
            br#"{"type":"about:blank","title":"Bad Request"}"#,
        ));
        assert_eq!(m, "Bad Request");
    }

    #[test]
    fn oci_errors_shape() {
        let body = br#"{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown"},{"code":"NAME_UNKNOWN","message":"repository name not known"}]}"#;
        let err = ClientError::from_response(404, body);
        assert_eq!(
            err.to_string(),
            "manifest unknown; repository name not known (HTTP 404 MANIFEST_UNKNOWN)"
        );
    }

    #[test]
    fn raw_text_is_cut_and_cleaned() {
        let long = format!("\x1b[31m{}", "x".repeat(2 * MAX_MESSAGE_CHARS));
        let (status, code, message, id) = api(ClientError::from_response(502, long.as_bytes()));
        assert_eq!(status, 502);
        assert_eq!(code, None);
        assert_eq!(id, None);
        assert!(!message.contains('\x1b'));
        assert_eq!(message.chars().count(), MAX_MESSAGE_CHARS + 1);
        assert!(message.ends_with('…'));
    }

    #[test]
    fn empty_body_uses_reason_phrase() {
        let err = ClientError::from_response(503, b"");
        assert_eq!(err.to_string(), "Service Unavailable (HTTP 503)");
        let err = ClientError::from_response(599, b"  ");
        assert_eq!(err.to_string(), "request failed (HTTP 599)");
    }

    #[test]
    fn json_without_known_fields_shows_the_text() {
        let (_, _, m, _) = api(ClientError::from_response(500, br#"{"foo":1}"#));
        assert_eq!(m, r#"{"foo":1}"#);
    }

    #[test]
    fn non_string_detail_is_rendered_as_json() {
        let (_, _, m, _) = api(ClientError::from_response(
            422,
            br#"{"detail":[{"loc":["body"],"msg":"field required"}]}"#,
        ));
        assert!(m.contains("field required"), "{m}");
    }
}

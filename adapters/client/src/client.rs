//! [`ArcaClient`], its builder and the generic request helpers.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

use reqwest::header::{HeaderValue, AUTHORIZATION};
use reqwest::{Method, RequestBuilder, Response, StatusCode};
use serde::de::DeserializeOwned;
use serde::Serialize;
use url::Url;

use crate::builder::ArcaClientBuilder;
use crate::endpoint::Endpoint;
use crate::error::{clean, ClientError};
use crate::types::Health;

/// Header carrying the org context of a call, as NGC names it.
pub const ORG_HEADER: &str = "nv-ngc-org";
/// Header carrying the team context of a call, as NGC names it.
pub const TEAM_HEADER: &str = "nv-ngc-team";
/// The `User-Agent` sent unless [`ArcaClientBuilder::user_agent`] says otherwise.
pub const DEFAULT_USER_AGENT: &str = concat!("arca-client/", env!("CARGO_PKG_VERSION"));
/// How long connecting (TCP + TLS) may take unless [`ArcaClientBuilder::connect_timeout`] says
/// otherwise.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(30);

/// Shorthand for results of this crate.
pub type Result<T, E = ClientError> = std::result::Result<T, E>;

/// What the client reports about each HTTP exchange to a hook set with
/// [`ArcaClientBuilder::on_request`]. It holds no header, so no secret.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct RequestEvent {
    /// The HTTP method.
    pub method: Method,
    /// The full URL requested.
    pub url: Url,
    /// The response status, or `None` when no response arrived (see `error`).
    pub status: Option<StatusCode>,
    /// Time until the response headers arrived (or the request failed).
    pub elapsed: Duration,
    /// The transport error message when no response arrived.
    pub error: Option<String>,
}

pub(crate) type Hook = Arc<dyn Fn(&RequestEvent) + Send + Sync>;

/// A typed async client of one Arca server, with one credential and one org/team context.
///
/// Cheap to clone (the connection pool is shared). Its `Debug` output never shows the key.
#[derive(Clone)]
pub struct ArcaClient {
    pub(crate) http: reqwest::Client,
    pub(crate) base_url: Url,
    pub(crate) auth: Option<HeaderValue>,
    pub(crate) org: Option<String>,
    pub(crate) team: Option<String>,
    pub(crate) org_header: Option<HeaderValue>,
    pub(crate) team_header: Option<HeaderValue>,
    pub(crate) hook: Option<Hook>,
}

impl fmt::Debug for ArcaClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ArcaClient")
            .field("base_url", &self.base_url.as_str())
            .field("api_key", &self.auth.as_ref().map(|_| "<redacted>"))
            .field("org", &self.org)
            .field("team", &self.team)
            .finish_non_exhaustive()
    }
}

impl ArcaClient {
    /// Starts building a client for the server at `base_url` (e.g. `http://127.0.0.1:5000`).
    pub fn builder(base_url: impl Into<String>) -> ArcaClientBuilder {
        ArcaClientBuilder::new(base_url.into())
    }

    /// The server's base URL.
    pub fn base_url(&self) -> &Url {
        &self.base_url
    }

    /// The org context sent with each call, if any.
    pub fn org(&self) -> Option<&str> {
        self.org.as_deref()
    }

    /// The team context sent with each call, if any.
    pub fn team(&self) -> Option<&str> {
        self.team.as_deref()
    }

    /// Whether an API key is set.
    pub fn has_api_key(&self) -> bool {
        self.auth.is_some()
    }

    /// The absolute URL of `endpoint` on this server.
    pub fn url(&self, endpoint: impl Into<Endpoint>) -> Url {
        endpoint.into().resolve(&self.base_url)
    }

    /// A request with the client's headers (`Authorization`, `nv-ngc-org`, `nv-ngc-team`,
    /// `Accept: application/json`, `User-Agent`) already set: the escape hatch for calls the
    /// typed helpers do not cover, such as streaming bodies. Send it with
    /// [`ArcaClient::send`] to get the same error handling and request hook as the helpers.
    pub fn request(&self, method: Method, endpoint: impl Into<Endpoint>) -> RequestBuilder {
        let mut builder = self.http.request(method, self.url(endpoint));
        if let Some(auth) = &self.auth {
            builder = builder.header(AUTHORIZATION, auth.clone());
        }
        if let Some(org) = &self.org_header {
            builder = builder.header(ORG_HEADER, org.clone());
        }
        if let Some(team) = &self.team_header {
            builder = builder.header(TEAM_HEADER, team.clone());
        }
        builder
    }

    /// Sends a request made with [`ArcaClient::request`], reports it to the request hook,
    /// and turns a non-success status into [`ClientError::Api`] (reading the error body).
    /// A success response is returned unread, so its body can be streamed.
    ///
    /// # Errors
    ///
    /// [`ClientError::Transport`] if no response arrived, [`ClientError::Api`] for a status
    /// outside 200–299.
    pub async fn send(&self, request: RequestBuilder) -> Result<Response> {
        let request = request.build().map_err(|e| {
            let url = e.url().map(Url::to_string).unwrap_or_default();
            transport_error(&url, e)
        })?;
        let method = request.method().clone();
        let url = request.url().clone();
        let started = Instant::now();
        let result = self.http.execute(request).await;
        let elapsed = started.elapsed();
        match result {
            Ok(response) => {
                self.report(&method, &url, Some(response.status()), elapsed, None);
                check_status(response).await
            }
            Err(e) => {
                let err = transport_error(url.as_str(), e);
                self.report(&method, &url, None, elapsed, Some(err.to_string()));
                Err(err)
            }
        }
    }

    fn report(
        &self,
        method: &Method,
        url: &Url,
        status: Option<StatusCode>,
        elapsed: Duration,
        error: Option<String>,
    ) {
        if let Some(hook) = &self.hook {
            hook(&RequestEvent {
                method: method.clone(),
                url: url.clone(),
                status,
                elapsed,
                error,
            });
        }
    }

    /// Sends `request` (see [`ArcaClient::send`]) and decodes the JSON answer.
    pub(crate) async fn send_for_json<T: DeserializeOwned>(
        &self,
        request: RequestBuilder,
    ) -> Result<T> {
        let response = self.send(request).await?;
        let url = response.url().to_string();
        let body = response
            .bytes()
            .await
            .map_err(|e| transport_error(&url, e))?;
        decode_json(&url, &body)
    }

    /// `GET /healthz`: whether the server is alive.
    ///
    /// # Errors
    ///
    /// As [`ArcaClient::get_json`].
    pub async fn health(&self) -> Result<Health> {
        self.get_json("/healthz").await
    }

    /// `GET` an endpoint and decode its JSON body.
    ///
    /// # Errors
    ///
    /// [`ClientError::Transport`], [`ClientError::Api`], or [`ClientError::Decode`] if the
    /// body is not the expected JSON.
    pub async fn get_json<T: DeserializeOwned>(&self, endpoint: impl Into<Endpoint>) -> Result<T> {
        self.send_for_json(self.request(Method::GET, endpoint))
            .await
    }

    /// `POST` `body` as JSON and decode the JSON answer. An empty answer decodes as JSON
    /// `null`, so `T = ()` or `Option<_>` fits a `204 No Content`.
    ///
    /// # Errors
    ///
    /// As [`ArcaClient::get_json`].
    pub async fn post_json<B, T>(&self, endpoint: impl Into<Endpoint>, body: &B) -> Result<T>
    where
        B: Serialize + ?Sized,
        T: DeserializeOwned,
    {
        self.send_for_json(self.request(Method::POST, endpoint).json(body))
            .await
    }

    /// `PUT` `body` as JSON and decode the JSON answer (empty answers as in
    /// [`ArcaClient::post_json`]).
    ///
    /// # Errors
    ///
    /// As [`ArcaClient::get_json`].
    pub async fn put_json<B, T>(&self, endpoint: impl Into<Endpoint>, body: &B) -> Result<T>
    where
        B: Serialize + ?Sized,
        T: DeserializeOwned,
    {
        self.send_for_json(self.request(Method::PUT, endpoint).json(body))
            .await
    }

    /// `PATCH` `body` as JSON and decode the JSON answer (empty answers as in
    /// [`ArcaClient::post_json`]).
    ///
    /// # Errors
    ///
    /// As [`ArcaClient::get_json`].
    pub async fn patch_json<B, T>(&self, endpoint: impl Into<Endpoint>, body: &B) -> Result<T>
    where
        B: Serialize + ?Sized,
        T: DeserializeOwned,
    {
        self.send_for_json(self.request(Method::PATCH, endpoint).json(body))
            .await
    }

    /// `DELETE` an endpoint; any success status will do and the body is ignored.
    ///
    /// # Errors
    ///
    /// [`ClientError::Transport`] or [`ClientError::Api`].
    pub async fn delete(&self, endpoint: impl Into<Endpoint>) -> Result<()> {
        let response = self.send(self.request(Method::DELETE, endpoint)).await?;
        let url = response.url().to_string();
        response
            .bytes()
            .await
            .map_err(|e| transport_error(&url, e))?;
        Ok(())
    }
}

async fn check_status(response: Response) -> Result<Response> {
    let status = response.status();
    if status.is_success() {
        return Ok(response);
    }
    // An unreadable error body still yields an API error with the status.
    let body = response.bytes().await.unwrap_or_default();
    Err(ClientError::from_response(status.as_u16(), &body))
}

fn decode_json<T: DeserializeOwned>(url: &str, body: &[u8]) -> Result<T> {
    let body: &[u8] = if body.iter().all(u8::is_ascii_whitespace) {
        b"null"
    } else {
        body
    };
    serde_json::from_slice(body).map_err(|e| {
        let start: String = String::from_utf8_lossy(body).chars().take(120).collect();
        ClientError::Decode {
            url: url.to_string(),
            reason: format!("{e}; the body starts with {:?}", clean(&start)),
        }
    })
}

/// The innermost message of an error's source chain: for reqwest that is where the useful
/// part is ("Connection refused (os error 111)", "invalid peer certificate: UnknownIssuer").
fn root_cause(err: &(dyn std::error::Error + 'static)) -> String {
    let mut current = err;
    while let Some(next) = current.source() {
        current = next;
    }
    current.to_string()
}

fn transport_error(url: &str, err: reqwest::Error) -> ClientError {
    let cause = clean(&root_cause(&err));
    let message = if err.is_timeout() {
        format!("request to {url} timed out")
    } else if err.is_connect() {
        format!("cannot connect to {url}: {cause}")
    } else if err.is_builder() {
        format!("cannot build the request to {url}: {cause}")
    } else {
        format!("request to {url} failed: {cause}")
    };
    ClientError::Transport {
        url: url.to_string(),
        message,
        source: err,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::builder::parse_base_url;
    use std::path::PathBuf;

    #[test]
    fn base_url_checks() {
        assert_eq!(
            parse_base_url("http://127.0.0.1:5000").unwrap().as_str(),
            "http://127.0.0.1:5000/"
        );
        for bad in [
            "",
            "127.0.0.1:5000",
            "localhost:5000",
            "ftp://h/",
            "http://h/?x=1",
            "http://h/#f",
            "http://user:secret@h/",
        ] {
            let err = parse_base_url(bad).unwrap_err();
            assert!(matches!(err, ClientError::InvalidUrl { .. }), "{bad}");
            assert!(!err.to_string().contains("secret"), "{err}");
        }
        let err = parse_base_url("localhost:5000").unwrap_err().to_string();
        assert!(err.contains("http://"), "{err}");
    }

    #[test]
    fn debug_output_redacts_the_key() {
        let builder = ArcaClient::builder("http://h")
            .api_key(Some("s3cr3t-key-value".into()))
            .org(Some("acme".into()));
        assert!(!format!("{builder:?}").contains("s3cr3t"));
        let client = builder.build().unwrap();
        let debug = format!("{client:?}");
        assert!(!debug.contains("s3cr3t"), "{debug}");
        assert!(debug.contains("<redacted>"), "{debug}");
        assert!(debug.contains("acme"), "{debug}");
        assert!(client.has_api_key());
    }

    #[test]
    fn header_unsafe_values_are_rejected_without_echoing_the_key() {
        let err = ArcaClient::builder("http://h")
            .api_key(Some("bad\nkey-secret".into()))
            .build()
            .unwrap_err();
        assert!(matches!(err, ClientError::Config(_)));
        assert!(!err.to_string().contains("secret"), "{err}");
        let err = ArcaClient::builder("http://h")
            .team(Some("a\r\nb".into()))
            .build()
            .unwrap_err();
        assert!(err.to_string().contains("team"), "{err}");
    }

    #[test]
    fn empty_strings_mean_unset() {
        let c = ArcaClient::builder("http://h")
            .api_key(Some(String::new()))
            .org(Some(String::new()))
            .team(None)
            .build()
            .unwrap();
        assert!(!c.has_api_key());
        assert_eq!(c.org(), None);
        assert_eq!(c.team(), None);
    }

    #[test]
    fn empty_success_body_decodes_as_null() {
        let unit: () = decode_json("u", b"").unwrap();
        assert_eq!(unit, ());
        let none: Option<u32> = decode_json("u", b" \n").unwrap();
        assert_eq!(none, None);
        let err = decode_json::<Health>("http://h/healthz", b"<html>").unwrap_err();
        assert!(matches!(err, ClientError::Decode { .. }));
        assert!(err.to_string().contains("<html>"), "{err}");
    }

    #[test]
    fn ca_file_errors_are_clear() {
        let err = ArcaClient::builder("https://h")
            .ca_file(Some(PathBuf::from("/nonexistent/ca.pem")))
            .build()
            .unwrap_err();
        assert!(err.to_string().contains("/nonexistent/ca.pem"), "{err}");
    }
}

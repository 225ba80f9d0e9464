//! [`ArcaClientBuilder`] and the base URL rules.

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use reqwest::header::{HeaderMap, HeaderValue, ACCEPT};
use url::Url;

use crate::client::{
    ArcaClient, Hook, RequestEvent, Result, DEFAULT_CONNECT_TIMEOUT, DEFAULT_USER_AGENT,
};
use crate::error::ClientError;

/// Parses and checks a server base URL such as `http://127.0.0.1:5000` or
/// `https://arca.example.com/prefix`.
///
/// The scheme must be `http` or `https` and a host is required. User names and passwords in
/// the URL are refused (use the API key), as are query strings and fragments.
///
/// ```
/// let url = arca_client::parse_base_url("https://arca.example.com:8443").unwrap();
/// assert_eq!(url.as_str(), "https://arca.example.com:8443/");
/// assert!(arca_client::parse_base_url("arca.example.com").is_err());
/// ```
///
/// # Errors
///
/// [`ClientError::InvalidUrl`] saying what is wrong.
pub fn parse_base_url(input: &str) -> Result<Url> {
    let input = input.trim();
    let invalid = |url: &str, reason: &str| ClientError::InvalidUrl {
        url: url.to_string(),
        reason: reason.to_string(),
    };
    let mut url = Url::parse(input).map_err(|e| {
        let hint = if input.contains("://") {
            e.to_string()
        } else {
            format!("{e}; the URL must start with http:// or https://")
        };
        invalid(input, &hint)
    })?;
    if !url.username().is_empty() || url.password().is_some() {
        let _ = url.set_username("");
        let _ = url.set_password(None);
        return Err(invalid(
            url.as_str(),
            "user names and passwords are not allowed in the server URL; use the API key",
        ));
    }
    if url.scheme() != "http" && url.scheme() != "https" {
        return Err(invalid(
            input,
            "the URL must start with http:// or https://",
        ));
    }
    if url.host_str().map_or(true, str::is_empty) {
        return Err(invalid(input, "the URL has no host"));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(invalid(
            input,
            "the server URL must not have a query string or fragment",
        ));
    }
    Ok(url)
}

/// Builds an [`ArcaClient`]; start with [`ArcaClient::builder`].
///
/// Empty strings given for the key, org or team count as "not set".
pub struct ArcaClientBuilder {
    base_url: String,
    api_key: Option<String>,
    org: Option<String>,
    team: Option<String>,
    ca_file: Option<PathBuf>,
    user_agent: String,
    connect_timeout: Duration,
    timeout: Option<Duration>,
    hook: Option<Hook>,
}

impl fmt::Debug for ArcaClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ArcaClientBuilder")
            .field("base_url", &self.base_url)
            .field("api_key", &self.api_key.as_ref().map(|_| "<redacted>"))
            .field("org", &self.org)
            .field("team", &self.team)
            .field("ca_file", &self.ca_file)
            .field("user_agent", &self.user_agent)
            .field("connect_timeout", &self.connect_timeout)
            .field("timeout", &self.timeout)
            .field("on_request", &self.hook.is_some())
            .finish()
    }
}

fn non_empty(value: Option<String>) -> Option<String> {
    value.filter(|v| !v.is_empty())
}

impl ArcaClientBuilder {
    /// The API key, sent as `Authorization: Bearer <key>`; `None` sends no `Authorization`.
    pub fn api_key(mut self, key: Option<String>) -> Self {
        self.api_key = non_empty(key);
        self
    }

    /// The org context, sent as the `nv-ngc-org` header; `None` sends none.
    pub fn org(mut self, org: Option<String>) -> Self {
        self.org = non_empty(org);
        self
    }

    /// The team context, sent as the `nv-ngc-team` header; `None` sends none.
    pub fn team(mut self, team: Option<String>) -> Self {
        self.team = non_empty(team);
        self
    }

    /// A PEM file of extra root certificates to trust (for servers with a self-signed or
    /// private-CA certificate), added to the built-in Web PKI roots.
    pub fn ca_file(mut self, path: Option<PathBuf>) -> Self {
        self.ca_file = path;
        self
    }

    /// The `User-Agent` header (default [`DEFAULT_USER_AGENT`]).
    pub fn user_agent(mut self, user_agent: impl Into<String>) -> Self {
        self.user_agent = user_agent.into();
        self
    }

    /// How long connecting may take (default [`DEFAULT_CONNECT_TIMEOUT`]).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// A limit for whole requests, body included; `None` (the default) sets none, which
    /// large transfers need.
    pub fn timeout(mut self, timeout: Option<Duration>) -> Self {
        self.timeout = timeout;
        self
    }

    /// A hook called once per HTTP exchange made through the client (used by `arca --debug`).
    pub fn on_request(mut self, hook: impl Fn(&RequestEvent) + Send + Sync + 'static) -> Self {
        self.hook = Some(Arc::new(hook));
        self
    }

    /// Checks the settings and builds the client.
    ///
    /// # Errors
    ///
    /// [`ClientError::InvalidUrl`] for a bad base URL (see [`parse_base_url`]);
    /// [`ClientError::Config`] for an unreadable or empty CA file, or a key, org, team or
    /// user agent that cannot be sent in an HTTP header.
    pub fn build(self) -> Result<ArcaClient> {
        let base_url = parse_base_url(&self.base_url)?;

        let auth = match &self.api_key {
            Some(key) => {
                let mut value = HeaderValue::from_str(&format!("Bearer {key}")).map_err(|_| {
                    ClientError::Config(
                        "the API key contains characters that cannot be sent in an HTTP header"
                            .into(),
                    )
                })?;
                value.set_sensitive(true);
                Some(value)
            }
            None => None,
        };
        let header = |what: &str, value: &Option<String>| -> Result<Option<HeaderValue>> {
            value
                .as_deref()
                .map(|v| {
                    HeaderValue::from_str(v).map_err(|_| {
                        ClientError::Config(format!(
                            "the {what} {v:?} cannot be sent in an HTTP header"
                        ))
                    })
                })
                .transpose()
        };
        let org_header = header("org", &self.org)?;
        let team_header = header("team", &self.team)?;

        let mut defaults = HeaderMap::new();
        defaults.insert(ACCEPT, HeaderValue::from_static("application/json"));
        let mut http = reqwest::Client::builder()
            .user_agent(self.user_agent.clone())
            .default_headers(defaults)
            .connect_timeout(self.connect_timeout);
        if let Some(timeout) = self.timeout {
            http = http.timeout(timeout);
        }
        if let Some(path) = &self.ca_file {
            let pem = std::fs::read(path).map_err(|e| {
                ClientError::Config(format!("cannot read CA file {}: {e}", path.display()))
            })?;
            let certs = reqwest::Certificate::from_pem_bundle(&pem).map_err(|e| {
                ClientError::Config(format!(
                    "CA file {} is not a PEM certificate bundle: {e}",
                    path.display()
                ))
            })?;
            if certs.is_empty() {
                return Err(ClientError::Config(format!(
                    "CA file {} contains no PEM certificate",
                    path.display()
                )));
            }
            for cert in certs {
                http = http.add_root_certificate(cert);
            }
        }
        let http = http
            .build()
            .map_err(|e| ClientError::Config(format!("cannot set up the HTTP client: {e}")))?;

        Ok(ArcaClient {
            http,
            base_url,
            auth,
            org: self.org,
            team: self.team,
            org_header,
            team_header,
            hook: self.hook,
        })
    }
}

impl ArcaClientBuilder {
    pub(crate) fn new(base_url: String) -> Self {
        ArcaClientBuilder {
            base_url,
            api_key: None,
            org: None,
            team: None,
            ca_file: None,
            user_agent: DEFAULT_USER_AGENT.to_string(),
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            timeout: None,
            hook: None,
        }
    }
}

//! Typed async HTTP client of the Arca REST API.
//!
//! Arca is a self-hosted private registry for AI artifacts (container images, models,
//! resources, Helm charts). Its REST API follows NVIDIA NGC's paths (`/v2/orgs`,
//! `/v2/org/{org}/teams`, `/v2/users/me`, …) and conventions, which this crate speaks:
//!
//! * the API key goes in `Authorization: Bearer <key>`;
//! * the caller's org and team context go in the `nv-ngc-org` / `nv-ngc-team` headers;
//! * errors come back as `{"requestStatus":{"statusCode","statusDescription","requestId"}}`
//!   (with fallbacks for `detail`, `message` and the OCI `errors` shape) and become
//!   [`ClientError::Api`].
//!
//! The typed API lives in [`api`] (orgs and teams, users and roles, keys); its types are
//! re-exported here. The OCI Distribution calls that move images (blobs and manifests) are in
//! [`oci`]. Secrets of new or rotated keys come back as [`KeySecret`], whose `Debug`
//! output is redacted.
//!
//! The client holds no process-global state and never prints: callers that want a trace of
//! each HTTP exchange pass a hook to [`ArcaClientBuilder::on_request`]. The API key never
//! appears in `Debug` output or in errors.
//!
//! # Example
//!
//! ```no_run
//! use arca_client::{ArcaClient, ClientError, Endpoint};
//! use serde_json::Value;
//!
//! # async fn run() -> Result<(), ClientError> {
//! let client = ArcaClient::builder("https://arca.example.com")
//!     .api_key(std::env::var("ARCA_API_KEY").ok())
//!     .org(Some("acme".to_string()))
//!     .team(None)
//!     .ca_file(None) // or Some(path to a PEM file) for a private CA
//!     .build()?;
//!
//! let health = client.health().await?;
//! assert!(health.is_ok());
//!
//! // Typed methods cover orgs, teams, users, roles and keys (see the `api` module).
//! for team in client.list_teams("acme").await? {
//!     println!("{}: {}", team.name, team.description.unwrap_or_default());
//! }
//! client
//!     .add_roles("acme", Some("vision"), "jsmith@example.com", &["REGISTRY_USER"])
//!     .await?;
//!
//! // Untyped or not-yet-typed endpoints go through the generic helpers.
//! let orgs: Value = client
//!     .get_json(Endpoint::new("/v2/orgs").query("page-size", 500))
//!     .await?;
//! println!("{orgs}");
//!
//! match client.get_json::<Value>("/v2/org/acme/teams/nope").await {
//!     Err(e) if e.is_not_found() => eprintln!("{e}"),
//!     other => println!("{other:?}"),
//! }
//! # Ok(())
//! # }
//! ```

#![warn(missing_docs)]

pub mod api;
mod builder;
mod client;
mod endpoint;
mod error;
pub mod oci;
pub mod transfer;
mod types;

pub use api::keys::{
    ApiKey, CreatedKey, KeyEntity, KeyListing, KeySecret, PersonalKeyRequest, ServiceKeyRequest,
};
pub use api::orgs::{Org, Team};
pub use api::repos::{ArchitectureVariant, Image, RepoUpdate, Repository};
pub use api::users::{OrgRef, RoleAssignment, TeamRef, User};
pub use api::PaginationInfo;
pub use builder::{parse_base_url, ArcaClientBuilder};
pub use client::{
    ArcaClient, RequestEvent, Result, DEFAULT_CONNECT_TIMEOUT, DEFAULT_USER_AGENT, ORG_HEADER,
    TEAM_HEADER,
};
pub use endpoint::Endpoint;
pub use error::{ClientError, MAX_MESSAGE_CHARS};
pub use types::Health;

/// The HTTP client library this crate is built on, for use with [`ArcaClient::request`].
pub use reqwest;
/// HTTP methods, for [`ArcaClient::request`].
pub use reqwest::Method;
/// The URL type of [`ArcaClient::base_url`] and [`ArcaClient::url`].
pub use url::Url;

//! API keys: `GET /v3/keys`, `POST /v3/keys/{personal,service,legacy}`,
//! `PATCH /v3/keys/{id}`, `POST /v3/keys/{id}/rotate`, `DELETE /v3/keys/{id}`.
//!
//! A key works in the org it was made in: the server takes the org from the caller's key, not
//! from the org context. The secret of a new or rotated key is returned exactly once, as a
//! [`KeySecret`] whose `Debug` output is redacted.
//!
//! ```no_run
//! use arca_client::{KeyListing, PersonalKeyRequest};
//! # async fn run(client: arca_client::ArcaClient) -> arca_client::Result<()> {
//! let created = client
//!     .create_personal_key(&PersonalKeyRequest::new("ci").expiry("30d").service("PRIVATE_REGISTRY"))
//!     .await?;
//! println!("store this now: {}", created.secret.expose_secret());
//! for key in client.list_keys(KeyListing::Mine).await? {
//!     println!("{} {} {}", key.id, key.name, key.active);
//! }
//! # Ok(()) }
//! ```

use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::json;

use super::{id_text, null_default, opt_id_text};
use crate::client::{ArcaClient, Result};
use crate::endpoint::Endpoint;

/// The secret of an API key, shown once by the server. `Debug` prints `<redacted>`; there is
/// no `Display` or `Serialize`, so it cannot end up in a log line by accident:
/// [`KeySecret::expose_secret`] is the only way to the text.
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(transparent)]
pub struct KeySecret(String);

impl KeySecret {
    /// Wraps a secret.
    pub fn new(secret: impl Into<String>) -> Self {
        KeySecret(secret.into())
    }

    /// The secret text.
    pub fn expose_secret(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for KeySecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("KeySecret(<redacted>)")
    }
}

/// A service key's entity filter.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct KeyEntity {
    /// `ALL_ENTITIES`, `ALL_CONTAINERS`, …, `SPECIFIC_MODEL`, ….
    pub entity_type: String,
    /// The artifact path (`org/name` or `org/team/name`) of a `SPECIFIC_*` type.
    #[serde(default)]
    pub entity_value: Option<String>,
}

/// An API key record (never its secret).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct ApiKey {
    /// The key's id (a UUID).
    #[serde(deserialize_with = "id_text")]
    pub id: String,
    /// Its name.
    #[serde(default)]
    pub name: String,
    /// `PERSONAL_KEY`, `SERVICE_KEY` or `LEGACY_KEY`.
    #[serde(default, rename = "type")]
    pub kind: String,
    /// The org the key works in.
    #[serde(default)]
    pub org_name: Option<String>,
    /// The owner's user id; `None` for service keys.
    #[serde(default, deserialize_with = "opt_id_text")]
    pub user_id: Option<String>,
    /// The end of the secret, e.g. `****a1b2`.
    #[serde(default)]
    pub key_hint: Option<String>,
    /// Services the key may use (`PRIVATE_REGISTRY`, `USER_MANAGEMENT`).
    #[serde(default, deserialize_with = "null_default")]
    pub services: Vec<String>,
    /// A service key's scopes.
    #[serde(default, deserialize_with = "null_default")]
    pub scopes: Vec<String>,
    /// A service key's entity filter.
    #[serde(default)]
    pub entity: Option<KeyEntity>,
    /// False when deactivated.
    #[serde(default, deserialize_with = "null_default")]
    pub active: bool,
    /// Expiry instant, RFC 3339; `None` for never.
    #[serde(default)]
    pub expires_at: Option<String>,
    /// Creation instant, RFC 3339.
    #[serde(default)]
    pub created_date: Option<String>,
    /// Last rotation instant, RFC 3339.
    #[serde(default)]
    pub rotated_date: Option<String>,
}

/// A key just created or rotated, with its secret.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct CreatedKey {
    /// The key record.
    pub key: ApiKey,
    /// The secret, shown only this once.
    #[serde(rename = "apiKey")]
    pub secret: KeySecret,
}

/// Which keys [`ArcaClient::list_keys`] lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum KeyListing {
    /// The caller's own personal and legacy keys.
    #[default]
    Mine,
    /// The org's service keys (org owners and org-level user admins).
    Service,
    /// Every key of the org (org owners and org-level user admins).
    All,
}

impl KeyListing {
    /// The value of the `type` query parameter: `mine`, `service` or `all`.
    pub fn as_str(self) -> &'static str {
        match self {
            KeyListing::Mine => "mine",
            KeyListing::Service => "service",
            KeyListing::All => "all",
        }
    }
}

/// The body of `POST /v3/keys/personal`: `{"name","expiry","services":[…]}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct PersonalKeyRequest {
    /// The key's name, unique among the user's keys in the org.
    pub name: String,
    /// `1h`, `12h`, `24h`, `7d`, `14d`, `30d`, `3mo`, `6mo`, `12mo`, `never` or an RFC 3339
    /// instant; `None` lets the server choose (12 months).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expiry: Option<String>,
    /// Services; empty means every service the user has a role for.
    pub services: Vec<String>,
}

impl PersonalKeyRequest {
    /// A request for a key named `name`, with the server's default expiry and services.
    pub fn new(name: impl Into<String>) -> Self {
        PersonalKeyRequest {
            name: name.into(),
            expiry: None,
            services: Vec::new(),
        }
    }

    /// Sets the expiry.
    #[must_use]
    pub fn expiry(mut self, expiry: impl Into<String>) -> Self {
        self.expiry = Some(expiry.into());
        self
    }

    /// Adds a service.
    #[must_use]
    pub fn service(mut self, service: impl Into<String>) -> Self {
        self.services.push(service.into());
        self
    }
}

/// The body of `POST /v3/keys/service`:
/// `{"name","expiry","scopes":[…],"entityType","entityValue"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct ServiceKeyRequest {
    /// The key's name, unique among the org's service keys.
    pub name: String,
    /// As [`PersonalKeyRequest::expiry`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expiry: Option<String>,
    /// Scopes (at least one): `ALL`, `GET_CONTAINER`, …, `UPLOAD_ARTIFACT`.
    pub scopes: Vec<String>,
    /// Entity type; `None` lets the server choose (`ALL_ENTITIES`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub entity_type: Option<String>,
    /// The artifact path of a `SPECIFIC_*` entity type.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub entity_value: Option<String>,
}

impl ServiceKeyRequest {
    /// A request for a service key named `name` with these scopes.
    pub fn new<S: Into<String>>(
        name: impl Into<String>,
        scopes: impl IntoIterator<Item = S>,
    ) -> Self {
        ServiceKeyRequest {
            name: name.into(),
            expiry: None,
            scopes: scopes.into_iter().map(Into::into).collect(),
            entity_type: None,
            entity_value: None,
        }
    }

    /// Sets the expiry.
    #[must_use]
    pub fn expiry(mut self, expiry: impl Into<String>) -> Self {
        self.expiry = Some(expiry.into());
        self
    }

    /// Sets the entity filter (`value` only for the `SPECIFIC_*` types).
    #[must_use]
    pub fn entity(mut self, entity_type: impl Into<String>, value: Option<String>) -> Self {
        self.entity_type = Some(entity_type.into());
        self.entity_value = value;
        self
    }
}

#[derive(Deserialize)]
struct KeysAnswer {
    #[serde(default, deserialize_with = "null_default")]
    keys: Vec<ApiKey>,
}

#[derive(Deserialize)]
struct KeyAnswer {
    key: ApiKey,
}

fn key_endpoint(id: &str, tail: Option<&str>) -> Result<Endpoint> {
    match tail {
        Some(tail) => Endpoint::from_segments(["v3", "keys", id, tail]),
        None => Endpoint::from_segments(["v3", "keys", id]),
    }
}

impl ArcaClient {
    /// `GET /v3/keys?type=mine|service|all`: keys of the org of the caller's key.
    ///
    /// # Errors
    ///
    /// [`ClientError::Transport`](crate::ClientError::Transport),
    /// [`ClientError::Api`](crate::ClientError::Api) (403 for `service`/`all` without the
    /// right role) or [`ClientError::Decode`](crate::ClientError::Decode).
    pub async fn list_keys(&self, listing: KeyListing) -> Result<Vec<ApiKey>> {
        let answer: KeysAnswer = self
            .get_json(Endpoint::new("/v3/keys").query("type", listing.as_str()))
            .await?;
        Ok(answer.keys)
    }

    /// `POST /v3/keys/personal`: a personal key for the caller (at most 8 per org).
    ///
    /// # Errors
    ///
    /// As [`ArcaClient::list_keys`]; 400 for a bad expiry or service, 409 for a name in use.
    pub async fn create_personal_key(&self, request: &PersonalKeyRequest) -> Result<CreatedKey> {
        self.post_json("/v3/keys/personal", request).await
    }

    /// `POST /v3/keys/service`: a service key of the org (org owners and org-level user
    /// admins; at most 50 per org).
    ///
    /// # Errors
    ///
    /// As [`ArcaClient::create_personal_key`].
    pub async fn create_service_key(&self, request: &ServiceKeyRequest) -> Result<CreatedKey> {
        self.post_json("/v3/keys/service", request).await
    }

    /// `POST /v3/keys/legacy`: a new legacy key for the caller; the previous one stops working
    /// at once.
    ///
    /// # Errors
    ///
    /// As [`ArcaClient::list_keys`].
    pub async fn generate_legacy_key(&self) -> Result<CreatedKey> {
        self.post_json("/v3/keys/legacy", &json!({})).await
    }

    /// `PATCH /v3/keys/{id}` with `{"active": active}`: deactivates or reactivates a key.
    ///
    /// # Errors
    ///
    /// As [`ArcaClient::list_keys`]; 404 for an unknown id;
    /// [`ClientError::InvalidUrl`](crate::ClientError::InvalidUrl) for an empty id.
    pub async fn set_key_active(&self, id: &str, active: bool) -> Result<ApiKey> {
        let answer: KeyAnswer = self
            .patch_json(key_endpoint(id, None)?, &json!({ "active": active }))
            .await?;
        Ok(answer.key)
    }

    /// `POST /v3/keys/{id}/rotate`: a new secret for the same key; the old one stops working
    /// at once.
    ///
    /// # Errors
    ///
    /// As [`ArcaClient::set_key_active`].
    pub async fn rotate_key(&self, id: &str) -> Result<CreatedKey> {
        self.post_json(key_endpoint(id, Some("rotate"))?, &json!({}))
            .await
    }

    /// `DELETE /v3/keys/{id}`: deletes a key.
    ///
    /// # Errors
    ///
    /// As [`ArcaClient::set_key_active`].
    pub async fn delete_key(&self, id: &str) -> Result<()> {
        self.delete(key_endpoint(id, None)?).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn created_key_decodes_and_redacts_the_secret() {
        let created: CreatedKey = serde_json::from_str(
            r#"{"key":{"id":"6f1c2a4e-8a7b-4c3d-9e2f-1a2b3c4d5e6f","name":"ci","type":"PERSONAL_KEY",
                "orgName":"acme","userId":7,"keyHint":"****wxyz","services":["PRIVATE_REGISTRY"],
                "scopes":[],"entity":null,"active":true,"expiresAt":null,
                "createdDate":"2025-01-01T00:00:00.000Z","rotatedDate":null,"extra":1},
                "apiKey":"arca_pk_supersecretvalue","requestStatus":{"statusCode":"SUCCESS"}}"#,
        )
        .unwrap();
        assert_eq!(created.key.user_id.as_deref(), Some("7"));
        assert_eq!(created.key.kind, "PERSONAL_KEY");
        assert_eq!(created.secret.expose_secret(), "arca_pk_supersecretvalue");
        let debug = format!("{created:?}");
        assert!(!debug.contains("supersecret"), "{debug}");
        assert!(debug.contains("<redacted>"), "{debug}");
    }

    #[test]
    fn request_bodies() {
        let personal = PersonalKeyRequest::new("ci")
            .expiry("30d")
            .service("PRIVATE_REGISTRY");
        assert_eq!(
            serde_json::to_value(&personal).unwrap(),
            json!({"name": "ci", "expiry": "30d", "services": ["PRIVATE_REGISTRY"]})
        );
        assert_eq!(
            serde_json::to_value(PersonalKeyRequest::new("x")).unwrap(),
            json!({"name": "x", "services": []})
        );
        let service = ServiceKeyRequest::new("pull", ["DOWNLOAD_CONTAINER"])
            .entity("SPECIFIC_CONTAINER", Some("acme/web".into()));
        assert_eq!(
            serde_json::to_value(&service).unwrap(),
            json!({"name": "pull", "scopes": ["DOWNLOAD_CONTAINER"],
                   "entityType": "SPECIFIC_CONTAINER", "entityValue": "acme/web"})
        );
    }

    #[test]
    fn service_key_entity_decodes() {
        let k: ApiKey = serde_json::from_str(
            r#"{"id":"k","type":"SERVICE_KEY","userId":null,"scopes":["ALL"],
                "entity":{"entityType":"ALL_MODELS"},"active":false}"#,
        )
        .unwrap();
        assert_eq!(k.user_id, None);
        assert_eq!(
            k.entity.map(|e| e.entity_type).as_deref(),
            Some("ALL_MODELS")
        );
        assert!(!k.active);
    }
}

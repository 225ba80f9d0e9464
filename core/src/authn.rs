//! Authentication: API keys presented directly, and short-lived signed tokens issued for them.
//!
//! Tokens are `v1.<payload>.<signature>`: base64url JSON claims signed with HMAC-SHA256 under a
//! server-wide secret kept in the metadata store (so every replica verifies every token). A
//! token names its key and a tag of the key's current secret hash; every request re-loads the
//! key, so a token dies with its key (revoked, deactivated, deleted, expired, rotated — R-KEY-7)
//! and the caller's *current* roles apply (R-KEY-1). Token formats are hand-rolled because they
//! are this server's private contract: clients treat them as opaque strings.

use crate::authz::{KeyPrincipal, Principal};
use crate::error::CoreError;
use crate::model::ApiKey;
use crate::ports::MetadataTx;
use crate::Arca;
use arca_auth::{check_usable, parse_presented, KeyKind, KeyRejection, KeyState};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use uuid::Uuid;

/// One grant inside a token: Docker's `{type, name, actions}` access entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenAccess {
    /// `repository` for registry scopes, `group` for NGC org scopes.
    #[serde(rename = "type")]
    pub kind: String,
    /// Repository name or group.
    pub name: String,
    /// Granted actions (e.g. `pull`, `push`, `delete`).
    pub actions: Vec<String>,
}

/// The claims a token carries.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenClaims {
    /// The key the token was issued for.
    pub key: Uuid,
    /// The first 16 hex characters of the key's secret hash at issue time.
    pub tag: String,
    /// Issued at (Unix seconds).
    pub iat: i64,
    /// Expires at (Unix seconds).
    pub exp: i64,
    /// Granted access (an upper bound; every request is still authorized afresh).
    #[serde(default)]
    pub access: Vec<TokenAccess>,
}

/// A freshly issued token.
#[derive(Clone)]
pub struct IssuedToken {
    /// The opaque token string.
    pub token: String,
    /// Lifetime in seconds.
    pub expires_in: i64,
    /// Issue instant.
    pub issued_at: DateTime<Utc>,
}

impl std::fmt::Debug for IssuedToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IssuedToken")
            .field("token", &"<redacted>")
            .field("expires_in", &self.expires_in)
            .finish()
    }
}

/// Default token lifetime (seconds).
pub const TOKEN_TTL_SECS: i64 = 3600;

const TOKEN_PREFIX: &str = "v1.";

/// The tag of anonymous tokens, which name no key.
const ANONYMOUS_TAG: &str = "anonymous";

fn unauthenticated(msg: &str) -> CoreError {
    CoreError::Unauthenticated(msg.to_string())
}

fn rejection_message(r: KeyRejection) -> &'static str {
    match r {
        KeyRejection::Unknown => "invalid API key",
        KeyRejection::Revoked => "this API key was revoked",
        KeyRejection::Deactivated => "this API key is deactivated",
        KeyRejection::Expired => "this API key has expired",
    }
}

pub(crate) fn sign(secret: &[u8], payload: &str) -> Result<Vec<u8>, CoreError> {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret)
        .map_err(|e| CoreError::Invalid(format!("signing key: {e}")))?;
    mac.update(payload.as_bytes());
    Ok(mac.finalize().into_bytes().to_vec())
}

/// Loads the rest of a principal for `key` and checks that the key is usable now.
pub(crate) async fn load_principal(
    tx: &mut dyn MetadataTx,
    key: ApiKey,
    now: DateTime<Utc>,
) -> Result<KeyPrincipal, CoreError> {
    check_usable(
        &KeyState {
            active: key.active,
            expires_at: key.expires_at,
        },
        now,
    )
    .map_err(|r| unauthenticated(rejection_message(r)))?;
    let (user, grants) = match key.user_id {
        Some(uid) => {
            let user = tx
                .get_user(uid)
                .await?
                .ok_or_else(|| unauthenticated(rejection_message(KeyRejection::Revoked)))?;
            let grants: Vec<_> = tx
                .grants_of_user(uid)
                .await?
                .into_iter()
                .filter(|g| g.org == key.org)
                .collect();
            if grants.is_empty() {
                // The user left the org: the key is dead (R-TEN-8).
                return Err(unauthenticated(rejection_message(KeyRejection::Revoked)));
            }
            (Some(user), grants)
        }
        None if key.kind == KeyKind::Service => (None, Vec::new()),
        None => return Err(unauthenticated(rejection_message(KeyRejection::Revoked))),
    };
    Ok(KeyPrincipal {
        key,
        user,
        grants,
        token_access: None,
    })
}

impl Arca {
    /// The token-signing secret (cached: it never changes once created).
    pub(crate) async fn signing_key(&self) -> Result<Vec<u8>, CoreError> {
        if let Some(k) = self.signing_cache.get() {
            return Ok(k.clone());
        }
        let k = self.signing_secret().await?;
        let _ = self.signing_cache.set(k.clone());
        Ok(k)
    }

    /// Authenticates an API key secret (R-KEY-5: looked up by hash only).
    pub async fn authenticate_key(&self, secret: &str) -> Result<KeyPrincipal, CoreError> {
        let presented = parse_presented(secret).map_err(|_| unauthenticated("invalid API key"))?;
        let mut tx = self.meta.begin_read().await?;
        let key = tx
            .find_key_by_hash(presented.hash.as_str())
            .await?
            .ok_or_else(|| unauthenticated("invalid API key"))?;
        load_principal(tx.as_mut(), key, self.clock.now()).await
    }

    /// Issues a short-lived token for an authenticated key.
    pub async fn issue_token(
        &self,
        principal: &KeyPrincipal,
        access: Vec<TokenAccess>,
        ttl_secs: i64,
    ) -> Result<IssuedToken, CoreError> {
        let now = self.clock.now();
        let ttl = match principal.key.expires_at {
            Some(exp) => ttl_secs.min((exp - now).num_seconds()).max(1),
            None => ttl_secs,
        };
        let claims = TokenClaims {
            key: principal.key.id,
            tag: principal.key.secret_hash.chars().take(16).collect(),
            iat: now.timestamp(),
            exp: now.timestamp() + ttl,
            access,
        };
        self.sign_claims(&claims, now).await
    }

    /// Issues a token for an anonymous caller (Docker clients ask for one before pulling a
    /// public repository): it names no key, authenticates as [`Principal::Anonymous`] and so
    /// allows only what anonymous callers may do.
    pub async fn issue_anonymous_token(
        &self,
        access: Vec<TokenAccess>,
        ttl_secs: i64,
    ) -> Result<IssuedToken, CoreError> {
        let now = self.clock.now();
        let claims = TokenClaims {
            key: Uuid::nil(),
            tag: ANONYMOUS_TAG.into(),
            iat: now.timestamp(),
            exp: now.timestamp() + ttl_secs,
            access,
        };
        self.sign_claims(&claims, now).await
    }

    async fn sign_claims(
        &self,
        claims: &TokenClaims,
        now: DateTime<Utc>,
    ) -> Result<IssuedToken, CoreError> {
        let json = serde_json::to_vec(claims)
            .map_err(|e| CoreError::Invalid(format!("token claims: {e}")))?;
        let payload = URL_SAFE_NO_PAD.encode(json);
        let sig = URL_SAFE_NO_PAD.encode(sign(&self.signing_key().await?, &payload)?);
        Ok(IssuedToken {
            token: format!("{TOKEN_PREFIX}{payload}.{sig}"),
            expires_in: claims.exp - claims.iat,
            issued_at: now,
        })
    }

    /// Checks a token's signature and expiry; `Ok(None)` when it is not a valid token.
    async fn verify_token(&self, token: &str) -> Result<Option<TokenClaims>, CoreError> {
        let Some(rest) = token.strip_prefix(TOKEN_PREFIX) else {
            return Ok(None);
        };
        let Some((payload, sig)) = rest.split_once('.') else {
            return Ok(None);
        };
        let Ok(sig) = URL_SAFE_NO_PAD.decode(sig) else {
            return Ok(None);
        };
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.signing_key().await?)
            .map_err(|e| CoreError::Invalid(format!("signing key: {e}")))?;
        mac.update(payload.as_bytes());
        if mac.verify_slice(&sig).is_err() {
            return Ok(None);
        }
        let claims: Option<TokenClaims> = URL_SAFE_NO_PAD
            .decode(payload)
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok());
        Ok(claims.filter(|c| self.clock.now().timestamp() < c.exp))
    }

    /// Verifies a key's token and re-loads its key and the key's user with current grants.
    pub async fn authenticate_token(
        &self,
        token: &str,
    ) -> Result<(KeyPrincipal, TokenClaims), CoreError> {
        let invalid = || unauthenticated("invalid or expired token");
        let claims = self.verify_token(token).await?.ok_or_else(invalid)?;
        if claims.key.is_nil() {
            return Err(invalid());
        }
        let now = self.clock.now();
        let mut tx = self.meta.begin_read().await?;
        let key = tx.get_key(claims.key).await?.ok_or_else(invalid)?;
        if !key.secret_hash.starts_with(&claims.tag) || claims.tag.len() < 16 {
            // The key was rotated since the token was issued.
            return Err(invalid());
        }
        let mut p = load_principal(tx.as_mut(), key, now).await?;
        if claims
            .access
            .iter()
            .any(|a| a.kind == "repository" || a.kind == "registry")
        {
            p.token_access = Some(claims.access.clone());
        }
        Ok((p, claims))
    }

    /// Authenticates an `Authorization: Bearer` value: an API key or a token (an anonymous
    /// token authenticates as [`Principal::Anonymous`]).
    pub async fn authenticate_bearer(&self, value: &str) -> Result<Principal, CoreError> {
        if !value.starts_with(TOKEN_PREFIX) {
            return Ok(Principal::Key(Box::new(
                self.authenticate_key(value).await?,
            )));
        }
        if let Some(claims) = self.verify_token(value).await? {
            if claims.key.is_nil() && claims.tag == ANONYMOUS_TAG {
                return Ok(Principal::Anonymous);
            }
        }
        Ok(Principal::Key(Box::new(
            self.authenticate_token(value).await?.0,
        )))
    }
}

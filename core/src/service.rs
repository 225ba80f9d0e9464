//! Use-case services. [`Arca`] bundles the ports; each use case runs in one metadata
//! transaction so that it changes several rows atomically.

use crate::error::CoreError;
use crate::model::{ApiKey, NewOrg, NewUser, Org, User};
use crate::names::{Email, OrgId};
use crate::ports::{BlobStore, Clock, MetadataStore, RandomSource};
use crate::quota::QuotaLimits;
use arca_auth::{KeyKind, KeySecret, Role};
use std::sync::Arc;
use uuid::Uuid;

/// Memory for cached manifest bodies per [`Arca`] (per replica).
pub const MANIFEST_CACHE_BYTES: usize = 32 * 1024 * 1024;

/// The application: ports plus the use cases built on them. Cheap to clone.
#[derive(Clone)]
pub struct Arca {
    /// Source of truth for everything but blob bytes.
    pub meta: Arc<dyn MetadataStore>,
    /// Content-addressed bytes.
    pub blobs: Arc<dyn BlobStore>,
    /// Time.
    pub clock: Arc<dyn Clock>,
    /// Randomness.
    pub random: Arc<dyn RandomSource>,
    /// The token-signing secret, once loaded (immutable once created).
    pub(crate) signing_cache: Arc<std::sync::OnceLock<Vec<u8>>>,
    /// Manifest bodies by digest (immutable content: no invalidation needed on any replica).
    pub(crate) manifest_cache: Arc<crate::cache::DigestCache>,
}

impl std::fmt::Debug for Arca {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Arca").finish_non_exhaustive()
    }
}

/// What to create when bootstrapping an org.
#[derive(Debug, Clone)]
pub struct BootstrapRequest {
    /// The org's identifier.
    pub org: OrgId,
    /// Its display name (defaults to the identifier).
    pub display_name: Option<String>,
    /// The first owner's email; the user is created if unknown.
    pub owner_email: Email,
}

/// The result of a bootstrap: the org, its owner and the owner's first key.
pub struct BootstrapOutcome {
    /// The new org.
    pub org: Org,
    /// Its owner.
    pub user: User,
    /// The key record (no secret).
    pub key: ApiKey,
    /// The key's secret, to be shown exactly once.
    pub secret: KeySecret,
}

impl std::fmt::Debug for BootstrapOutcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BootstrapOutcome")
            .field("org", &self.org.name)
            .field("user", &self.user.email)
            .field("key", &self.key.id)
            .finish_non_exhaustive()
    }
}

/// How often a use case is retried when a serializable transaction conflicts.
pub const MAX_CONFLICT_RETRIES: usize = 64;

/// Runs `attempt` again while it fails with [`StoreError::Conflict`] (a serializable
/// transaction lost a race; nothing of it was applied), up to [`MAX_CONFLICT_RETRIES`] times.
pub(crate) async fn retry_conflicts<T, F, Fut>(mut attempt: F) -> Result<T, CoreError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, CoreError>>,
{
    let mut tries = 0;
    loop {
        match attempt().await {
            Err(CoreError::Store(crate::ports::StoreError::Conflict(_)))
                if tries + 1 < MAX_CONFLICT_RETRIES =>
            {
                tries += 1;
            }
            other => return other,
        }
    }
}

/// Name of the setting holding the server's token-signing secret.
pub const SIGNING_SECRET_SETTING: &str = "token_signing_secret";

impl Arca {
    /// Assembles the application from its ports.
    pub fn new(
        meta: Arc<dyn MetadataStore>,
        blobs: Arc<dyn BlobStore>,
        clock: Arc<dyn Clock>,
        random: Arc<dyn RandomSource>,
    ) -> Self {
        Self {
            meta,
            blobs,
            clock,
            random,
            signing_cache: Arc::default(),
            manifest_cache: Arc::new(crate::cache::DigestCache::new(
                MANIFEST_CACHE_BYTES,
                crate::registry::MAX_MANIFEST_BYTES,
            )),
        }
    }

    pub(crate) fn random_32(&self) -> [u8; 32] {
        let mut b = [0u8; 32];
        self.random.fill(&mut b);
        b
    }

    /// Whether no org exists yet (a fresh installation).
    pub async fn is_empty(&self) -> Result<bool, CoreError> {
        let mut tx = self.meta.begin_read().await?;
        Ok(tx.list_orgs().await?.is_empty())
    }

    /// Creates an org with an owner and a never-expiring personal key for that owner, all in
    /// one transaction (R-TEN-1: orgs are created by the operator). Fails with
    /// [`CoreError::AlreadyExists`] if the org exists.
    pub async fn bootstrap(&self, req: BootstrapRequest) -> Result<BootstrapOutcome, CoreError> {
        let now = self.clock.now();
        let generated = KeySecret::generate(KeyKind::Personal, self.random_32());
        let mut tx = self.meta.begin().await?;
        if tx.get_org(&req.org).await?.is_some() {
            return Err(CoreError::AlreadyExists(format!("org {}", req.org)));
        }
        let org = tx
            .insert_org(&NewOrg {
                name: req.org.clone(),
                display_name: req
                    .display_name
                    .clone()
                    .unwrap_or_else(|| req.org.to_string()),
                description: String::new(),
                quota: QuotaLimits::default(),
                created_at: now,
            })
            .await?;
        let user = match tx.get_user_by_email(&req.owner_email).await? {
            Some(u) => u,
            None => {
                tx.insert_user(&NewUser {
                    email: req.owner_email.clone(),
                    display_name: req.owner_email.to_string(),
                    created_at: now,
                })
                .await?
            }
        };
        tx.set_roles(user.id, &org.name, None, &[Role::OrgOwner])
            .await?;
        let key = ApiKey {
            id: Uuid::from_bytes(uuid_bytes(self.random_32())),
            kind: KeyKind::Personal,
            org: org.name.clone(),
            user_id: Some(user.id),
            name: "bootstrap".into(),
            secret_hash: generated.hash.as_str().to_string(),
            hint: generated.hint.clone(),
            services: arca_auth::services_available_to(&[Role::OrgOwner]),
            scopes: vec![],
            entity: None,
            active: true,
            expires_at: None,
            created_at: now,
            rotated_at: None,
            last_used_at: None,
        };
        tx.insert_key(&key).await?;
        tx.commit().await?;
        Ok(BootstrapOutcome {
            org,
            user,
            key,
            secret: generated.secret,
        })
    }

    /// The server-wide secret that signs short-lived tokens, created at first use and shared
    /// by every replica through the metadata store.
    pub async fn signing_secret(&self) -> Result<Vec<u8>, CoreError> {
        {
            let mut tx = self.meta.begin_read().await?;
            if let Some(v) = tx.get_setting(SIGNING_SECRET_SETTING).await? {
                return decode_secret(&v);
            }
        }
        let fresh = hex::encode(self.random_32());
        let mut tx = self.meta.begin().await?;
        let stored = tx
            .put_setting_if_absent(SIGNING_SECRET_SETTING, &fresh)
            .await?;
        tx.commit().await?;
        decode_secret(&stored)
    }
}

fn decode_secret(v: &str) -> Result<Vec<u8>, CoreError> {
    hex::decode(v).map_err(|e| {
        CoreError::Store(crate::ports::StoreError::Corrupt(format!(
            "signing secret: {e}"
        )))
    })
}

/// A random (version 4) UUID from 32 random bytes.
pub(crate) fn uuid_bytes(r: [u8; 32]) -> [u8; 16] {
    let mut b = [0u8; 16];
    b.copy_from_slice(&r[..16]);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    b
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uuid_is_v4() {
        let u = Uuid::from_bytes(uuid_bytes([0xff; 32]));
        assert_eq!(u.get_version_num(), 4);
        let u = Uuid::from_bytes(uuid_bytes([0; 32]));
        assert_eq!(u.get_version_num(), 4);
    }
}

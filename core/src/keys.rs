//! API key use cases (R-KEY-1..5): personal, service and legacy keys and their lifecycle.

use crate::authz::{decide, Action, KeyPrincipal, Principal, Target};
use crate::error::CoreError;
use crate::model::ApiKey;
use crate::service::uuid_bytes;
use crate::tenancy::require;
use crate::Arca;
use arca_auth::{
    check_key_limit, check_key_services, check_scopes, EntityFilter, ExpiryChoice, KeyKind,
    KeySecret, KeyService, PeopleAction, ServiceKeyScope,
};
use uuid::Uuid;

/// A key record together with its secret, which is shown exactly once (R-KEY-5).
pub struct CreatedKey {
    /// The stored record.
    pub key: ApiKey,
    /// The secret.
    pub secret: KeySecret,
}

impl std::fmt::Debug for CreatedKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CreatedKey")
            .field("key", &self.key)
            .field("secret", &"<redacted>")
            .finish()
    }
}

/// What a new personal key should be.
#[derive(Debug, Clone)]
pub struct PersonalKeyRequest {
    /// Unique name among the user's keys in the org.
    pub name: String,
    /// Expiry.
    pub expiry: ExpiryChoice,
    /// Services; empty means every service the user has a role for.
    pub services: Vec<KeyService>,
}

/// What a new service key should be.
#[derive(Debug, Clone)]
pub struct ServiceKeyRequest {
    /// Unique name among the org's service keys.
    pub name: String,
    /// Expiry.
    pub expiry: ExpiryChoice,
    /// Scopes (at least one).
    pub scopes: Vec<ServiceKeyScope>,
    /// Entity filter.
    pub entity: EntityFilter,
}

/// Which keys to list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyListing {
    /// The caller's own personal and legacy keys.
    Mine,
    /// The org's service keys (org owners and org-level user admins).
    Service,
    /// Every key in the org (org owners and org-level user admins).
    All,
}

fn check_name(name: &str) -> Result<(), CoreError> {
    let ok = !name.trim().is_empty()
        && name.chars().count() <= 128
        && !name.chars().any(char::is_control);
    if ok {
        Ok(())
    } else {
        Err(CoreError::Invalid(
            "a key name must be 1 to 128 printable characters".into(),
        ))
    }
}

fn user_principal(p: &Principal) -> Result<&KeyPrincipal, CoreError> {
    match p {
        Principal::Key(k) if k.user.is_some() => Ok(k),
        Principal::Key(_) => Err(CoreError::Forbidden(
            "a service key cannot manage personal keys".into(),
        )),
        Principal::Anonymous => Err(CoreError::Unauthenticated(
            "authentication required: present an API key".into(),
        )),
    }
}

impl Arca {
    /// A first personal key for a new member, valid 7 days, for every service their roles
    /// allow; made inside the caller's transaction.
    pub(crate) fn initial_key(
        &self,
        org: &crate::names::OrgId,
        user: &crate::model::User,
        grants: &[crate::model::RoleGrant],
    ) -> Result<CreatedKey, CoreError> {
        let roles: Vec<_> = grants.iter().map(|g| g.role).collect();
        let g = KeySecret::generate(KeyKind::Personal, self.random_32());
        let now = self.clock.now();
        let key = ApiKey {
            id: self.new_key_id(),
            kind: KeyKind::Personal,
            org: org.clone(),
            user_id: Some(user.id),
            name: "initial".into(),
            secret_hash: g.hash.as_str().to_string(),
            hint: g.hint,
            services: arca_auth::services_available_to(&roles),
            scopes: Vec::new(),
            entity: None,
            active: true,
            expires_at: ExpiryChoice::SevenDays.expires_at(now)?,
            created_at: now,
            rotated_at: None,
            last_used_at: None,
        };
        Ok(CreatedKey {
            key,
            secret: g.secret,
        })
    }

    fn new_key_id(&self) -> Uuid {
        Uuid::from_bytes(uuid_bytes(self.random_32()))
    }

    fn blank_key(&self, kind: KeyKind, k: &KeyPrincipal, name: String) -> (ApiKey, KeySecret) {
        let g = KeySecret::generate(kind, self.random_32());
        let key = ApiKey {
            id: self.new_key_id(),
            kind,
            org: k.key.org.clone(),
            user_id: if kind == KeyKind::Service {
                None
            } else {
                k.user.as_ref().map(|u| u.id)
            },
            name,
            secret_hash: g.hash.as_str().to_string(),
            hint: g.hint,
            services: Vec::new(),
            scopes: Vec::new(),
            entity: None,
            active: true,
            expires_at: None,
            created_at: self.clock.now(),
            rotated_at: None,
            last_used_at: None,
        };
        (key, g.secret)
    }

    /// Creates a personal key for the caller: at most 8 per user and org, only for services
    /// the user has a role for (R-KEY-1).
    pub async fn create_personal_key(
        &self,
        p: &Principal,
        req: PersonalKeyRequest,
    ) -> Result<CreatedKey, CoreError> {
        crate::service::retry_conflicts(|| self.create_personal_key_once(p, req.clone())).await
    }

    async fn create_personal_key_once(
        &self,
        p: &Principal,
        req: PersonalKeyRequest,
    ) -> Result<CreatedKey, CoreError> {
        let k = user_principal(p)?;
        check_name(&req.name)?;
        let all_roles: Vec<_> = {
            let mut r: Vec<_> = k.grants.iter().map(|g| g.role).collect();
            r.sort();
            r.dedup();
            r
        };
        let services = if req.services.is_empty() {
            arca_auth::services_available_to(&all_roles)
        } else {
            req.services.clone()
        };
        check_key_services(&services, &all_roles)?;
        let now = self.clock.now();
        let expires_at = req.expiry.expires_at(now)?;
        let (mut key, secret) = self.blank_key(KeyKind::Personal, k, req.name);
        key.services = services;
        key.expires_at = expires_at;
        let mut tx = self.meta.begin().await?;
        let existing = tx
            .list_keys(&key.org, Some(key.user_id))
            .await?
            .into_iter()
            .filter(|x| x.kind == KeyKind::Personal)
            .count();
        check_key_limit(KeyKind::Personal, existing)
            .map_err(|e| CoreError::LimitReached(e.to_string()))?;
        tx.insert_key(&key).await.map_err(|e| match e {
            crate::ports::StoreError::AlreadyExists(_) => {
                CoreError::AlreadyExists(format!("a key named '{}'", key.name))
            }
            other => other.into(),
        })?;
        tx.commit().await?;
        Ok(CreatedKey { key, secret })
    }

    /// Creates a service key (org owners and org-level user admins; at most 50 per org).
    pub async fn create_service_key(
        &self,
        p: &Principal,
        req: ServiceKeyRequest,
    ) -> Result<CreatedKey, CoreError> {
        crate::service::retry_conflicts(|| self.create_service_key_once(p, req.clone())).await
    }

    async fn create_service_key_once(
        &self,
        p: &Principal,
        req: ServiceKeyRequest,
    ) -> Result<CreatedKey, CoreError> {
        let k = match p {
            Principal::Key(k) => k,
            Principal::Anonymous => {
                return Err(CoreError::Unauthenticated("authentication required".into()))
            }
        };
        let org = k.key.org.clone();
        require(
            decide(
                p,
                Action::People(PeopleAction::ManageServiceKeys),
                &Target::Org(&org),
            ),
            || format!("org {org}"),
        )?;
        check_name(&req.name)?;
        check_scopes(&req.scopes)?;
        let now = self.clock.now();
        let expires_at = req.expiry.expires_at(now)?;
        let (mut key, secret) = self.blank_key(KeyKind::Service, k, req.name);
        key.services = vec![KeyService::PrivateRegistry];
        key.scopes = req.scopes;
        key.entity = Some(req.entity);
        key.expires_at = expires_at;
        let mut tx = self.meta.begin().await?;
        let existing = tx.list_keys(&org, Some(None)).await?.len();
        check_key_limit(KeyKind::Service, existing)
            .map_err(|e| CoreError::LimitReached(e.to_string()))?;
        tx.insert_key(&key).await.map_err(|e| match e {
            crate::ports::StoreError::AlreadyExists(_) => {
                CoreError::AlreadyExists(format!("a service key named '{}'", key.name))
            }
            other => other.into(),
        })?;
        tx.commit().await?;
        Ok(CreatedKey { key, secret })
    }

    /// Generates the caller's legacy key, revoking the previous one at once (R-KEY-3).
    pub async fn generate_legacy_key(&self, p: &Principal) -> Result<CreatedKey, CoreError> {
        crate::service::retry_conflicts(|| self.generate_legacy_key_once(p)).await
    }

    async fn generate_legacy_key_once(&self, p: &Principal) -> Result<CreatedKey, CoreError> {
        let k = user_principal(p)?;
        let (mut key, secret) = self.blank_key(KeyKind::Legacy, k, "legacy".into());
        key.services = KeyService::ALL.to_vec();
        let mut tx = self.meta.begin().await?;
        for old in tx.list_keys(&key.org, Some(key.user_id)).await? {
            if old.kind == KeyKind::Legacy {
                tx.delete_key(old.id).await?;
            }
        }
        tx.insert_key(&key).await?;
        tx.commit().await?;
        Ok(CreatedKey { key, secret })
    }

    /// Lists keys of the caller's org.
    pub async fn list_keys(
        &self,
        p: &Principal,
        which: KeyListing,
    ) -> Result<Vec<ApiKey>, CoreError> {
        let k = match p {
            Principal::Key(k) => k,
            Principal::Anonymous => {
                return Err(CoreError::Unauthenticated("authentication required".into()))
            }
        };
        let org = k.key.org.clone();
        let filter = match which {
            KeyListing::Mine => Some(user_principal(p)?.key.user_id),
            KeyListing::Service => {
                require(
                    decide(
                        p,
                        Action::People(PeopleAction::ManageServiceKeys),
                        &Target::Org(&org),
                    ),
                    || format!("org {org}"),
                )?;
                Some(None)
            }
            KeyListing::All => {
                require(
                    decide(
                        p,
                        Action::People(PeopleAction::RevokeMemberKeys),
                        &Target::Org(&org),
                    ),
                    || format!("org {org}"),
                )?;
                None
            }
        };
        let mut tx = self.meta.begin_read().await?;
        Ok(tx.list_keys(&org, filter).await?)
    }

    /// Loads a key the caller may manage: its own, a service key (with ManageServiceKeys), or
    /// a member's key (with RevokeMemberKeys; `revoke_only` operations).
    async fn manageable_key(
        &self,
        p: &Principal,
        id: Uuid,
        revoke_only: bool,
    ) -> Result<ApiKey, CoreError> {
        let k = match p {
            Principal::Key(k) => k,
            Principal::Anonymous => {
                return Err(CoreError::Unauthenticated("authentication required".into()))
            }
        };
        let org = k.key.org.clone();
        let not_found = || CoreError::NotFound(format!("key {id}"));
        let key = {
            let mut tx = self.meta.begin_read().await?;
            tx.get_key(id).await?.ok_or_else(not_found)?
        };
        if key.org != org {
            return Err(not_found());
        }
        let own = key.user_id.is_some() && key.user_id == k.user.as_ref().map(|u| u.id);
        if own {
            return Ok(key);
        }
        let action = if key.kind == KeyKind::Service {
            PeopleAction::ManageServiceKeys
        } else if revoke_only {
            PeopleAction::RevokeMemberKeys
        } else {
            return Err(CoreError::Forbidden(
                "only the owner of a personal key may do this".into(),
            ));
        };
        require(
            decide(p, Action::People(action), &Target::Org(&org)),
            || format!("key {id}"),
        )?;
        Ok(key)
    }

    /// Activates or deactivates a key.
    pub async fn set_key_active(
        &self,
        p: &Principal,
        id: Uuid,
        active: bool,
    ) -> Result<ApiKey, CoreError> {
        let mut key = self.manageable_key(p, id, !active).await?;
        key.active = active;
        let mut tx = self.meta.begin().await?;
        tx.update_key(&key).await?;
        tx.commit().await?;
        Ok(key)
    }

    /// Rotates a key: new secret, same id and settings; the old secret is dead at once.
    pub async fn rotate_key(&self, p: &Principal, id: Uuid) -> Result<CreatedKey, CoreError> {
        let mut key = self.manageable_key(p, id, false).await?;
        if key.kind == KeyKind::Legacy {
            return Err(CoreError::Invalid(
                "legacy keys cannot be rotated; generate a new legacy key".into(),
            ));
        }
        let g = KeySecret::generate(key.kind, self.random_32());
        key.secret_hash = g.hash.as_str().to_string();
        key.hint = g.hint;
        key.rotated_at = Some(self.clock.now());
        let mut tx = self.meta.begin().await?;
        tx.update_key(&key).await?;
        tx.commit().await?;
        Ok(CreatedKey {
            key,
            secret: g.secret,
        })
    }

    /// Deletes (revokes) a key.
    pub async fn delete_key(&self, p: &Principal, id: Uuid) -> Result<(), CoreError> {
        let key = self.manageable_key(p, id, true).await?;
        let mut tx = self.meta.begin().await?;
        tx.delete_key(key.id).await?;
        tx.commit().await?;
        Ok(())
    }
}

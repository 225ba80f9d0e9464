//! Roles, the permission matrix, API-key lifecycle and service-key scopes of the Arca registry.
//!
//! This crate is pure domain: no I/O, no clock reads (the caller passes `now`), no randomness
//! (the caller passes random bytes), no panics on any input. It is the one place where role data
//! is *defined*, as const data; the server's `core` crate *decides* every request from it.
//!
//! * [`roles`]: the six [`Role`]s and how they imply one another.
//! * [`actions`]: what decisions are about: [`ArtifactKind`], [`ArtifactAction`],
//!   [`PeopleAction`].
//! * [`capability`]: which role may do what ([`ROLE_CAPABILITIES`], SPEC R-TEN-6) and the guide's
//!   §2.4.1 table ([`CAPABILITY_TABLE`]) it is tested against.
//! * [`service_access`]: the role × service → access-level vocabulary reported by `/roles`
//!   (guide §2.5.2.5).
//! * [`membership`]: membership qualification, who may grant which role, the owner limit.
//! * [`keys`]: key kinds and limits, the secret format, expiry, lifecycle, personal-key services.
//! * [`scopes`]: service-key scopes and entity filters.
//! * [`error`]: [`AuthError`], the crate's one error enum.
//!
//! # Example
//!
//! ```
//! use arca_auth::{
//!     can_grant, parse_presented, service_key_allows, ArtifactAction, ArtifactKind,
//!     EntityFilter, ExpiryChoice, KeyKind, KeySecret, Role, ServiceKeyScope,
//! };
//! use chrono::{TimeZone, Utc};
//!
//! // Roles decide actions.
//! let role: Role = "registry_user".parse()?;
//! assert!(role.allows_artifact(ArtifactAction::Upload));
//! assert!(!role.allows_artifact(ArtifactAction::Delete));
//! assert!(!can_grant(&[Role::UserAdmin], Role::RegistryAdmin));
//!
//! // A key: the caller supplies the random bytes and the time.
//! let key = KeySecret::generate(KeyKind::Personal, [7u8; 32]);
//! let presented = parse_presented(key.secret.expose_secret())?;
//! assert_eq!(presented.hash, key.hash);
//! let now = Utc.with_ymd_and_hms(2025, 1, 31, 0, 0, 0).unwrap();
//! let expiry: ExpiryChoice = "3mo".parse()?;
//! assert_eq!(
//!     expiry.expires_at(now)?,
//!     Some(Utc.with_ymd_and_hms(2025, 4, 30, 0, 0, 0).unwrap())
//! );
//!
//! // A service key limited to pulling one repository.
//! let filter = EntityFilter::SpecificContainer("acme/web".into());
//! let scopes = [ServiceKeyScope::DownloadContainer];
//! let pull = ArtifactAction::Download;
//! assert!(service_key_allows(&scopes, &filter, ArtifactKind::Container, pull, Some("acme/web")));
//! assert!(!service_key_allows(&scopes, &filter, ArtifactKind::Container, pull, Some("acme/db")));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod wire;

pub mod actions;
pub mod capability;
pub mod error;
pub mod keys;
pub mod membership;
pub mod roles;
pub mod scopes;
pub mod service_access;

pub use actions::{ArtifactAction, ArtifactKind, PeopleAction};
pub use capability::{
    allowed_artifact_actions, allowed_people_actions, any_allows_artifact, any_allows_people,
    CapabilityRow, RoleCapabilities, CAPABILITY_TABLE, CAPABILITY_TABLE_COLUMNS, ROLE_CAPABILITIES,
};
pub use error::{AuthError, KeyFormatError, KeyRejection};
pub use keys::{
    check_key_limit, check_key_services, check_usable, parse_presented,
    personal_key_allows_artifact, personal_key_allows_people, services_available_to, ExpiryChoice,
    GeneratedKey, KeyHash, KeyKind, KeySecret, KeyService, KeyState, PresentedKey,
    MAX_LEGACY_KEYS_PER_USER, MAX_PERSONAL_KEYS_PER_USER_PER_ORG, MAX_SERVICE_KEYS_PER_ORG,
    SECRET_LEN,
};
pub use membership::{
    can_grant, check_org_owner_limit, check_role_assignment, check_role_assignment_at,
    qualifies_for_membership, GrantLevel, MAX_ORG_OWNERS,
};
pub use roles::{holds_role, Role, LEGACY_ROLE_NAMES};
pub use scopes::{check_scopes, service_key_allows, EntityFilter, EntityType, ServiceKeyScope};
pub use service_access::{
    role_service_access, roles_vocabulary, AccessLevel, RoleVocabulary, Service, ServiceAccess,
    ServiceAccessRow, ARCA_SERVICE_ACCESS_EXTENSIONS, SERVICE_ACCESS_TABLE,
};

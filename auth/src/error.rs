//! The errors of this crate.
//!
//! [`AuthError`] is the one error enum of the crate. Two narrower enums are part of it:
//! [`KeyFormatError`] (a presented secret is not well formed) and [`KeyRejection`] (a well-formed
//! key may not be used). Neither message ever contains a secret.

use thiserror::Error;

use crate::keys::KeyKind;
use crate::keys::KeyService;
use crate::roles::Role;

/// Every error this crate reports.
///
/// The server maps these to HTTP in one place; the messages are written for humans and never
/// contain a key secret.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum AuthError {
    /// A role name was not recognised.
    #[error("unknown role `{given}`; valid roles are {valid}")]
    UnknownRole {
        /// The name as given (trimmed).
        given: String,
        /// The valid wire names, comma separated.
        valid: &'static str,
    },

    /// A name of some other vocabulary (service, access level, scope, …) was not recognised.
    #[error("unknown {what} `{given}`; valid values are {valid}")]
    UnknownName {
        /// Which vocabulary was being parsed, e.g. `"service"`.
        what: &'static str,
        /// The name as given (trimmed).
        given: String,
        /// The valid wire names, comma separated.
        valid: String,
    },

    /// A user was to be added or updated with no role at all.
    #[error("at least one role is required")]
    EmptyRoleList,

    /// The requested roles do not make the user a member (R-TEN-5).
    #[error(
        "roles {roles} do not qualify for membership: a member needs REGISTRY_READ, \
         REGISTRY_USER, USER_ADMIN or a role that implies one of them"
    )]
    DoesNotQualifyForMembership {
        /// The requested roles, comma separated wire names.
        roles: String,
    },

    /// The granter may not grant this role (R-TEN-5: a USER_ADMIN grants only roles it holds;
    /// only an ORG_OWNER grants ORG_OWNER).
    #[error("you may not grant the role {role}")]
    CannotGrant {
        /// The role that may not be granted.
        role: Role,
    },

    /// The role exists only at org level (ORG_OWNER) and was requested for a team.
    #[error("the role {role} can only be granted at org level, not on a team")]
    NotGrantableAtTeamLevel {
        /// The org-level-only role.
        role: Role,
    },

    /// The org already has the maximum number of owners (R-TEN-4).
    #[error("an org can have at most {max} owners at a time")]
    TooManyOrgOwners {
        /// The limit ([`crate::MAX_ORG_OWNERS`]).
        max: usize,
    },

    /// A key expiry text was not understood.
    #[error(
        "invalid expiry `{given}`; use 1h, 12h, 24h, 7d, 14d, 30d, 3mo, 6mo, 12mo, never \
         or an RFC 3339 instant such as 2030-01-31T00:00:00Z"
    )]
    InvalidExpiry {
        /// The text as given (trimmed, truncated to 64 characters).
        given: String,
    },

    /// A custom expiry instant is not in the future.
    #[error("the expiry {at} is not in the future")]
    ExpiryInPast {
        /// The requested instant, RFC 3339.
        at: String,
    },

    /// The expiry is beyond the range of representable dates.
    #[error("the expiry is out of the supported date range")]
    ExpiryOutOfRange,

    /// The per-user or per-org key limit is reached (R-KEY-1, R-KEY-2).
    #[error("key limit reached: at most {limit} keys of kind {kind}")]
    TooManyKeys {
        /// The kind of key.
        kind: KeyKind,
        /// The limit for that kind.
        limit: usize,
    },

    /// A key was requested with no service at all.
    #[error("a key needs at least one service")]
    NoKeyService,

    /// A personal key asked for a service its owner has no role for (R-KEY-1).
    #[error("you have no role that gives access to the service {service}")]
    ServiceNotAvailable {
        /// The service asked for.
        service: KeyService,
    },

    /// A service key was requested with no scope at all.
    #[error("a service key needs at least one scope")]
    NoScope,

    /// A service-key entity filter is malformed.
    #[error("invalid entity filter: {reason}")]
    InvalidEntityFilter {
        /// What is wrong with it.
        reason: String,
    },

    /// A presented secret is not a well-formed Arca key.
    #[error(transparent)]
    KeyFormat(#[from] KeyFormatError),

    /// A key exists but may not be used.
    #[error(transparent)]
    KeyRejected(#[from] KeyRejection),
}

/// Why a presented secret is not a well-formed Arca key.
///
/// Detected without any database lookup: prefix, length, alphabet and checksum.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum KeyFormatError {
    /// The text does not start with `arca_pk_`, `arca_sk_` or `arca_lk_`.
    #[error("not an Arca API key (expected a prefix arca_pk_, arca_sk_ or arca_lk_)")]
    UnknownPrefix,
    /// The text has the wrong length.
    #[error("malformed API key: expected {expected} characters, got {actual}")]
    WrongLength {
        /// The length of every Arca key.
        expected: usize,
        /// The length presented (in bytes).
        actual: usize,
    },
    /// The random part or the separator is not valid.
    #[error("malformed API key: invalid characters")]
    InvalidCharacters,
    /// The checksum does not match: the key was mistyped or truncated.
    #[error("malformed API key: checksum mismatch (mistyped or damaged key)")]
    BadChecksum,
}

/// Why an existing key is refused (R-KEY-7).
///
/// [`crate::check_usable`] reports [`KeyRejection::Deactivated`] and [`KeyRejection::Expired`];
/// the caller uses [`KeyRejection::Unknown`] when no key has the presented hash and
/// [`KeyRejection::Revoked`] when the key was revoked (owner left the org, legacy key replaced).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Error)]
pub enum KeyRejection {
    /// No key has this secret (never existed, deleted or rotated away).
    #[error("unknown API key")]
    Unknown,
    /// The key was revoked.
    #[error("the API key has been revoked")]
    Revoked,
    /// The key is deactivated; it can be reactivated.
    #[error("the API key is deactivated")]
    Deactivated,
    /// The key is past its expiry.
    #[error("the API key has expired")]
    Expired,
}

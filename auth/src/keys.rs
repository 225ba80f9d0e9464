//! API keys: kinds and limits, the secret format, expiry and lifecycle, and the services a
//! personal key may be limited to (R-KEY-1 … R-KEY-5, R-KEY-7).
//!
//! Nothing here reads a clock or a random source: the caller passes `now` and 32 random bytes.

mod expiry;
mod secret;
mod services;

pub use expiry::{check_usable, ExpiryChoice, KeyState};
pub use secret::{parse_presented, GeneratedKey, KeyHash, KeySecret, PresentedKey, SECRET_LEN};
pub use services::{
    check_key_services, personal_key_allows_artifact, personal_key_allows_people,
    services_available_to, KeyService,
};

use crate::error::AuthError;
use crate::wire::wire_enum;

/// At most this many personal keys per user in one org (R-KEY-1).
pub const MAX_PERSONAL_KEYS_PER_USER_PER_ORG: usize = 8;
/// At most this many service keys per org (R-KEY-2).
pub const MAX_SERVICE_KEYS_PER_ORG: usize = 50;
/// One legacy key per user; generating a new one revokes the old one (R-KEY-3).
pub const MAX_LEGACY_KEYS_PER_USER: usize = 1;

wire_enum! {
    /// The kind of an API key. The wire names are those of NGC's `get-caller-info` `type`.
    pub enum KeyKind ("key kind") {
        /// A user's key, limited to some services and to the user's current roles in one org.
        Personal = "PERSONAL_KEY" | "PERSONAL",
        /// An org's key, limited by scopes and an entity filter; not tied to a user.
        Service = "SERVICE_KEY" | "SERVICE",
        /// A user's single legacy key, with the user's full permissions.
        Legacy = "LEGACY_KEY" | "LEGACY",
    }
}

impl KeyKind {
    /// The secret prefix of this kind, recognisable by secret scanners (R-KEY-5).
    pub const fn prefix(self) -> &'static str {
        match self {
            KeyKind::Personal => "arca_pk_",
            KeyKind::Service => "arca_sk_",
            KeyKind::Legacy => "arca_lk_",
        }
    }

    /// The kind whose prefix `text` starts with, if any (a cheap test, no validation).
    pub fn from_secret_prefix(text: &str) -> Option<KeyKind> {
        KeyKind::ALL
            .iter()
            .copied()
            .find(|k| text.starts_with(k.prefix()))
    }

    /// How many keys of this kind may exist: per user and org (personal), per org (service) or
    /// per user (legacy).
    pub const fn limit(self) -> usize {
        match self {
            KeyKind::Personal => MAX_PERSONAL_KEYS_PER_USER_PER_ORG,
            KeyKind::Service => MAX_SERVICE_KEYS_PER_ORG,
            KeyKind::Legacy => MAX_LEGACY_KEYS_PER_USER,
        }
    }

    /// Whether creating a key of this kind replaces (revokes) the existing one instead of
    /// counting against a limit: true for legacy keys only.
    pub const fn replaces_existing(self) -> bool {
        matches!(self, KeyKind::Legacy)
    }
}

/// Checks that one more key of `kind` may be created when `existing` live keys of that kind
/// already count against its limit ([`KeyKind::limit`]).
///
/// A legacy key never fails: the new one replaces the old one, which the caller revokes in the
/// same transaction ([`KeyKind::replaces_existing`]).
pub fn check_key_limit(kind: KeyKind, existing: usize) -> Result<(), AuthError> {
    if kind.replaces_existing() || existing < kind.limit() {
        Ok(())
    } else {
        Err(AuthError::TooManyKeys {
            kind,
            limit: kind.limit(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_are_distinct_and_recognised() {
        assert_eq!(KeyKind::Personal.prefix(), "arca_pk_");
        assert_eq!(KeyKind::Service.prefix(), "arca_sk_");
        assert_eq!(KeyKind::Legacy.prefix(), "arca_lk_");
        for k in KeyKind::ALL {
            assert_eq!(KeyKind::from_secret_prefix(k.prefix()), Some(*k));
        }
        assert_eq!(KeyKind::from_secret_prefix("nvapi-abc"), None);
        assert_eq!(KeyKind::from_secret_prefix(""), None);
    }

    #[test]
    fn kind_wire_names() {
        assert_eq!(KeyKind::Personal.to_string(), "PERSONAL_KEY");
        assert_eq!("service".parse::<KeyKind>().unwrap(), KeyKind::Service);
        assert_eq!(
            serde_json::to_string(&KeyKind::Legacy).unwrap(),
            "\"LEGACY_KEY\""
        );
    }

    // R-KEY-1, R-KEY-2, R-KEY-3
    #[test]
    fn key_limits() {
        assert_eq!(check_key_limit(KeyKind::Personal, 7), Ok(()));
        assert_eq!(
            check_key_limit(KeyKind::Personal, 8),
            Err(AuthError::TooManyKeys {
                kind: KeyKind::Personal,
                limit: 8
            })
        );
        assert_eq!(check_key_limit(KeyKind::Service, 49), Ok(()));
        assert!(check_key_limit(KeyKind::Service, 50).is_err());
        assert_eq!(check_key_limit(KeyKind::Legacy, 1), Ok(()));
        assert_eq!(KeyKind::Legacy.limit(), 1);
        let msg = check_key_limit(KeyKind::Service, 50)
            .unwrap_err()
            .to_string();
        assert!(msg.contains("50"), "{msg}");
    }
}

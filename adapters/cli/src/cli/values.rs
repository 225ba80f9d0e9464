//! Value parsers for arguments: each checks its input locally, with the server's own
//! vocabularies from `arca-auth`, and yields the canonical wire form.

use std::str::FromStr;

use arca_auth::{EntityType, ExpiryChoice, KeyService, Role, ServiceKeyScope};

use crate::names::validate_name;

/// An org id (`--org`-style positional).
pub fn org_name(s: &str) -> Result<String, String> {
    validate_name("org", s.trim())?;
    Ok(s.trim().to_string())
}

/// A team name (lowercase).
pub fn team_name(s: &str) -> Result<String, String> {
    validate_name("team", s.trim())?;
    Ok(s.trim().to_string())
}

/// A user, by numeric id or email: non-empty, no control characters, not `.` or `..`.
pub fn user_ref(s: &str) -> Result<String, String> {
    let s = s.trim();
    if s.is_empty() || s == "." || s == ".." || s.chars().any(char::is_control) {
        return Err("give a user id or an email address".into());
    }
    Ok(s.to_string())
}

/// An email address: something@something, without spaces.
pub fn email(s: &str) -> Result<String, String> {
    let s = s.trim();
    let ok = s
        .split_once('@')
        .is_some_and(|(user, host)| !user.is_empty() && !host.is_empty())
        && !s.chars().any(|c| c.is_whitespace() || c.is_control());
    if ok {
        Ok(s.to_string())
    } else {
        Err(format!("{s:?} is not an email address"))
    }
}

/// A key id: non-empty, no `/`, no control characters.
pub fn key_id(s: &str) -> Result<String, String> {
    let s = s.trim();
    if s.is_empty() || s == "." || s == ".." || s.chars().any(|c| c == '/' || c.is_control()) {
        return Err("give a key id as `arca key list` shows it".into());
    }
    Ok(s.to_string())
}

fn canonical<T: FromStr + ToString>(s: &str) -> Result<String, String>
where
    T::Err: ToString,
{
    s.parse::<T>()
        .map(|v| v.to_string())
        .map_err(|e| e.to_string())
}

/// A role: ORG_OWNER, REGISTRY_ADMIN, … (case-insensitive; legacy NGC names accepted).
pub fn role(s: &str) -> Result<String, String> {
    canonical::<Role>(s)
}

/// A personal-key service: PRIVATE_REGISTRY or USER_MANAGEMENT.
pub fn service(s: &str) -> Result<String, String> {
    canonical::<KeyService>(s)
}

/// A service-key scope: ALL, GET_CONTAINER, …
pub fn scope(s: &str) -> Result<String, String> {
    canonical::<ServiceKeyScope>(s)
}

/// A service-key entity type: ALL_ENTITIES, SPECIFIC_CONTAINER, …
pub fn entity_type(s: &str) -> Result<String, String> {
    canonical::<EntityType>(s)
}

/// An expiry: a preset (1h … 12mo, never) or an RFC 3339 instant.
pub fn expiry(s: &str) -> Result<String, String> {
    canonical::<ExpiryChoice>(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vocabularies_are_canonicalised() {
        assert_eq!(role("registry-user").unwrap(), "REGISTRY_USER");
        assert_eq!(role("REGISTRY_WRITE_USER_ROLE").unwrap(), "REGISTRY_USER");
        assert_eq!(role(" Org Owner ").unwrap(), "ORG_OWNER");
        let err = role("SUPERUSER").unwrap_err();
        assert!(
            err.contains("SUPERUSER") && err.contains("REGISTRY_READ"),
            "{err}"
        );
        assert_eq!(service("private_registry").unwrap(), "PRIVATE_REGISTRY");
        assert_eq!(scope("Get Container").unwrap(), "GET_CONTAINER");
        assert!(scope("PULL").is_err());
        assert_eq!(entity_type("specific-model").unwrap(), "SPECIFIC_MODEL");
        assert_eq!(expiry("12MO").unwrap(), "12mo");
        assert_eq!(expiry("never").unwrap(), "never");
        assert_eq!(
            expiry("2030-01-31T00:00:00Z").unwrap(),
            "2030-01-31T00:00:00Z"
        );
        assert!(expiry("soon").unwrap_err().contains("12mo"));
    }

    #[test]
    fn names_and_references() {
        assert_eq!(team_name("vision").unwrap(), "vision");
        assert!(team_name("Vision").unwrap_err().contains("lowercase"));
        assert!(org_name("a/b").is_err());
        assert_eq!(user_ref(" 42 ").unwrap(), "42");
        for bad in ["", " ", ".", "..", "a\nb"] {
            assert!(user_ref(bad).is_err(), "{bad:?}");
        }
        assert_eq!(email("j@example.com").unwrap(), "j@example.com");
        for bad in ["j", "@x", "j@", "j smith@x"] {
            assert!(email(bad).is_err(), "{bad:?}");
        }
        assert!(key_id("a/b").is_err());
        assert_eq!(key_id("6f1c").unwrap(), "6f1c");
    }
}

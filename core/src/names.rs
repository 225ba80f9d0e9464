//! Validated names: org ids, team names, artifact names and paths, version ids and emails.
//!
//! Every constructor validates and returns a typed [`NameError`] whose message says which rule
//! was broken; nothing here panics on any input. The grammars are hand-written (a handful of
//! character-class checks each) because they are Arca's own rules, narrower than the OCI
//! repository grammar: an org id or team name must also be a valid OCI path component, since it
//! appears in image references (`host/org/team/repo`).

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// Why a name was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NameError {
    /// The name is empty.
    #[error("{what} must not be empty")]
    Empty {
        /// Which kind of name.
        what: &'static str,
    },
    /// The name is longer than allowed.
    #[error("{what} is {len} characters long; at most {max} are allowed")]
    TooLong {
        /// Which kind of name.
        what: &'static str,
        /// Its length.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// The name contains upper-case letters where only lower case is allowed.
    #[error("{what} '{value}' must be lowercase")]
    NotLowercase {
        /// Which kind of name.
        what: &'static str,
        /// The offending value (already validated to be printable).
        value: String,
    },
    /// A character outside the allowed set.
    #[error("{what} contains the character {ch:?}, which is not allowed ({rule})")]
    BadCharacter {
        /// Which kind of name.
        what: &'static str,
        /// The offending character.
        ch: char,
        /// The rule, in words.
        rule: &'static str,
    },
    /// Structural rule broken (separators, leading characters, components).
    #[error("{what} '{value}' is invalid: {rule}")]
    Invalid {
        /// Which kind of name.
        what: &'static str,
        /// The offending value (truncated, control characters escaped).
        value: String,
        /// The rule, in words.
        rule: &'static str,
    },
    /// A name reserved because it collides with a top-level route.
    #[error("{what} '{value}' is reserved")]
    Reserved {
        /// Which kind of name.
        what: &'static str,
        /// The reserved value.
        value: String,
    },
}

/// Names that would collide with the server's top-level routes or well-known paths (R-TEN-7).
pub const RESERVED_NAMES: &[&str] = &[
    "v1",
    "v2",
    "v3",
    "api",
    "token",
    "roles",
    "healthz",
    "readyz",
    "metrics",
    "ui",
    "static",
    "assets",
    "auth",
    "login",
    "logout",
    "device",
    "charts",
    "index.yaml",
    "admin",
    "docs",
    "openapi",
    "favicon.ico",
    "robots.txt",
    "well-known",
    "_catalog",
    "transfer",
    "search",
    "org",
    "team",
    "orgs",
    "teams",
    "users",
    "keys",
    "health",
    "status",
    "no-org",
    "no-team",
];

/// Shortens user input before it is echoed in an error message.
pub fn shown(value: &str) -> String {
    let mut s: String = value
        .chars()
        .take(64)
        .flat_map(char::escape_default)
        .collect();
    if value.chars().count() > 64 {
        s.push('…');
    }
    s
}

/// Checks the OCI path-component grammar `[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*` with the given
/// separators allowed, reporting the first broken rule.
fn check_component(
    what: &'static str,
    value: &str,
    max: usize,
    allow_dot: bool,
) -> Result<(), NameError> {
    if value.is_empty() {
        return Err(NameError::Empty { what });
    }
    let len = value.chars().count();
    if len > max {
        return Err(NameError::TooLong { what, len, max });
    }
    let rule = if allow_dot {
        "use lowercase letters, digits, and '.', '_', '__' or '-' between them"
    } else {
        "use lowercase letters, digits, and '_' or '-' between them"
    };
    for ch in value.chars() {
        let ok = ch.is_ascii_lowercase()
            || ch.is_ascii_digit()
            || ch == '-'
            || ch == '_'
            || (allow_dot && ch == '.');
        if !ok {
            if ch.is_ascii_uppercase() {
                return Err(NameError::NotLowercase {
                    what,
                    value: shown(value),
                });
            }
            return Err(NameError::BadCharacter { what, ch, rule });
        }
    }
    let bytes = value.as_bytes();
    let is_alnum = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    if !is_alnum(bytes[0]) || !is_alnum(bytes[bytes.len() - 1]) {
        return Err(NameError::Invalid {
            what,
            value: shown(value),
            rule: "must start and end with a lowercase letter or digit",
        });
    }
    // Separator runs: '-'+ is fine; '_' or '__'; '.' alone; never mixed.
    let mut i = 0;
    while i < bytes.len() {
        if is_alnum(bytes[i]) {
            i += 1;
            continue;
        }
        let start = i;
        while i < bytes.len() && !is_alnum(bytes[i]) {
            i += 1;
        }
        let run = &value[start..i];
        let valid = run.bytes().all(|b| b == b'-') || run == "_" || run == "__" || run == ".";
        if !valid {
            return Err(NameError::Invalid {
                what,
                value: shown(value),
                rule: "separators must be '.', '_', '__' or a run of '-', one kind at a time",
            });
        }
    }
    Ok(())
}

macro_rules! string_newtype {
    ($(#[$meta:meta])* $name:ident, $validate:path) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            /// Validates and wraps `value`.
            pub fn new(value: impl Into<String>) -> Result<Self, NameError> {
                let value = value.into();
                $validate(&value)?;
                Ok(Self(value))
            }
            /// The name as a string slice.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }
        impl FromStr for $name {
            type Err = NameError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Self::new(s)
            }
        }
        impl TryFrom<String> for $name {
            type Error = NameError;
            fn try_from(s: String) -> Result<Self, Self::Error> {
                Self::new(s)
            }
        }
        impl From<$name> for String {
            fn from(n: $name) -> String {
                n.0
            }
        }
        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }
    };
}

fn validate_org(value: &str) -> Result<(), NameError> {
    check_component("org id", value, 63, false)?;
    if RESERVED_NAMES.contains(&value) {
        return Err(NameError::Reserved {
            what: "org id",
            value: value.to_string(),
        });
    }
    Ok(())
}

fn validate_team(value: &str) -> Result<(), NameError> {
    check_component("team name", value, 63, false)?;
    if RESERVED_NAMES.contains(&value) {
        return Err(NameError::Reserved {
            what: "team name",
            value: value.to_string(),
        });
    }
    Ok(())
}

fn validate_artifact(value: &str) -> Result<(), NameError> {
    check_component("artifact name", value, 128, true)
}

fn validate_version(value: &str) -> Result<(), NameError> {
    const WHAT: &str = "version id";
    if value.is_empty() {
        return Err(NameError::Empty { what: WHAT });
    }
    let len = value.chars().count();
    if len > 128 {
        return Err(NameError::TooLong {
            what: WHAT,
            len,
            max: 128,
        });
    }
    for ch in value.chars() {
        if !(ch.is_ascii_alphanumeric() || matches!(ch, '.' | '_' | '-' | '+')) {
            return Err(NameError::BadCharacter {
                what: WHAT,
                ch,
                rule: "use letters, digits, '.', '_', '-' and '+'",
            });
        }
    }
    if value.contains("..") || value.starts_with(['.', '-', '+']) {
        return Err(NameError::Invalid {
            what: WHAT,
            value: shown(value),
            rule: "must start with a letter, digit or '_' and must not contain '..'",
        });
    }
    Ok(())
}

fn validate_email(value: &str) -> Result<(), NameError> {
    const WHAT: &str = "email";
    if value.is_empty() {
        return Err(NameError::Empty { what: WHAT });
    }
    let len = value.chars().count();
    if len > 254 {
        return Err(NameError::TooLong {
            what: WHAT,
            len,
            max: 254,
        });
    }
    if let Some(ch) = value
        .chars()
        .find(|c| c.is_whitespace() || c.is_control() || matches!(c, '<' | '>' | '"' | ',' | ';'))
    {
        return Err(NameError::BadCharacter {
            what: WHAT,
            ch,
            rule: "no spaces, control characters, quotes, '<', '>', ',' or ';'",
        });
    }
    let Some((local, domain)) = value.rsplit_once('@') else {
        return Err(NameError::Invalid {
            what: WHAT,
            value: shown(value),
            rule: "must have the form local@domain",
        });
    };
    if local.is_empty() || local.len() > 64 || local.contains('@') {
        return Err(NameError::Invalid {
            what: WHAT,
            value: shown(value),
            rule: "the part before '@' must be 1 to 64 characters and contain no '@'",
        });
    }
    let label_ok = |l: &str| {
        !l.is_empty()
            && l.len() <= 63
            && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
            && !l.starts_with('-')
            && !l.ends_with('-')
    };
    if domain.is_empty() || !domain.split('.').all(label_ok) {
        return Err(NameError::Invalid {
            what: WHAT,
            value: shown(value),
            rule: "the domain must be dot-separated labels of letters, digits and '-'",
        });
    }
    if value.chars().any(|c| c.is_ascii_uppercase()) {
        return Err(NameError::NotLowercase {
            what: WHAT,
            value: shown(value),
        });
    }
    Ok(())
}

string_newtype!(
    /// An organization's unique identifier: lowercase, a valid OCI path component, not reserved.
    OrgId,
    validate_org
);
string_newtype!(
    /// A team name, unique within its org: lowercase (R-TEN-2), a valid OCI path component.
    TeamName,
    validate_team
);
string_newtype!(
    /// The last component of an artifact path (`org/[team/]name`).
    ArtifactName,
    validate_artifact
);
string_newtype!(
    /// A model/resource/chart version id: SemVer recommended; never contains `/` or `..`.
    VersionId,
    validate_version
);
string_newtype!(
    /// A user's email address, the user's identity. Stored in lower case; use
    /// [`Email::normalize`] to accept mixed-case input.
    Email,
    validate_email
);

impl Email {
    /// Lower-cases `value` and validates it: the identity of a user is case-insensitive.
    pub fn normalize(value: &str) -> Result<Self, NameError> {
        Self::new(value.trim().to_lowercase())
    }
}

/// Where an artifact lives: at org level (`org/name`) or team level (`org/team/name`) (R-TEN-7).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ArtifactPath {
    /// The owning org.
    pub org: OrgId,
    /// The owning team, if any.
    pub team: Option<TeamName>,
    /// The artifact's own name.
    pub name: ArtifactName,
}

impl ArtifactPath {
    /// Parses `org/name` or `org/team/name`; anything else is an error.
    pub fn parse(value: &str) -> Result<Self, NameError> {
        let parts: Vec<&str> = value.split('/').collect();
        match parts.as_slice() {
            [org, name] => Ok(Self {
                org: OrgId::new(*org)?,
                team: None,
                name: ArtifactName::new(*name)?,
            }),
            [org, team, name] => Ok(Self {
                org: OrgId::new(*org)?,
                team: Some(TeamName::new(*team)?),
                name: ArtifactName::new(*name)?,
            }),
            _ => Err(NameError::Invalid {
                what: "artifact path",
                value: shown(value),
                rule: "must be org/name or org/team/name",
            }),
        }
    }
}

impl fmt::Display for ArtifactPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.team {
            Some(team) => write!(f, "{}/{}/{}", self.org, team, self.name),
            None => write!(f, "{}/{}", self.org, self.name),
        }
    }
}

impl FromStr for ArtifactPath {
    type Err = NameError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn org_ids() {
        assert!(OrgId::new("demo").is_ok());
        assert!(OrgId::new("nv-research_2").is_ok());
        assert!(matches!(
            OrgId::new("Demo"),
            Err(NameError::NotLowercase { .. })
        ));
        assert!(matches!(OrgId::new(""), Err(NameError::Empty { .. })));
        assert!(matches!(OrgId::new("v2"), Err(NameError::Reserved { .. })));
        assert!(matches!(
            OrgId::new("a.b"),
            Err(NameError::BadCharacter { ch: '.', .. })
        ));
        assert!(matches!(OrgId::new("-ab"), Err(NameError::Invalid { .. })));
        assert!(matches!(OrgId::new("a_-b"), Err(NameError::Invalid { .. })));
        assert!(matches!(
            OrgId::new("a___b"),
            Err(NameError::Invalid { .. })
        ));
        assert!(OrgId::new("a__b").is_ok());
        assert!(OrgId::new("a---b").is_ok());
        assert!(matches!(
            OrgId::new("a".repeat(64)),
            Err(NameError::TooLong { .. })
        ));
    }

    #[test]
    fn team_names_must_be_lowercase() {
        let err = TeamName::new("TeamA").unwrap_err();
        assert_eq!(err.to_string(), "team name 'TeamA' must be lowercase");
        assert!(TeamName::new("team-a").is_ok());
        assert!(TeamName::new("team a").is_err());
    }

    #[test]
    fn versions() {
        for ok in ["1.0", "1.0.0-rc.1+build.5", "v2", "2024_01"] {
            assert!(VersionId::new(ok).is_ok(), "{ok}");
        }
        for bad in ["", "1/0", "..", "1..2", ".1", "a b", "-1", "ü"] {
            assert!(VersionId::new(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn emails() {
        assert!(Email::new("admin@localhost").is_ok());
        assert!(Email::new("j.smith+ci@example.com").is_ok());
        assert!(Email::normalize(" J.Smith@Example.COM ").is_ok());
        for bad in [
            "", "x", "@x", "x@", "a@b@c", "a b@c", "a@-b", "a@b..c", "A@b",
        ] {
            assert!(Email::new(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn artifact_paths() {
        let p = ArtifactPath::parse("demo/team-a/my.model").unwrap();
        assert_eq!(p.team.as_ref().map(|t| t.as_str()), Some("team-a"));
        assert_eq!(p.to_string(), "demo/team-a/my.model");
        assert!(ArtifactPath::parse("demo/m").unwrap().team.is_none());
        assert!(ArtifactPath::parse("demo").is_err());
        assert!(ArtifactPath::parse("a/b/c/d").is_err());
        assert!(ArtifactPath::parse("demo//x").is_err());
        assert!(ArtifactPath::parse("v2/x").is_err());
    }

    #[test]
    fn serde_validates() {
        let bad: Result<OrgId, _> = serde_json::from_str("\"Bad\"");
        assert!(bad.is_err());
        let ok: OrgId = serde_json::from_str("\"good\"").unwrap();
        assert_eq!(ok.as_str(), "good");
    }

    fn component() -> impl Strategy<Value = String> {
        "[a-z0-9]{1,5}(([_]|__|-{1,3})[a-z0-9]{1,5}){0,3}"
    }

    proptest! {
        #[test]
        fn validators_never_panic(s in any::<String>()) {
            let _ = OrgId::new(s.clone());
            let _ = TeamName::new(s.clone());
            let _ = ArtifactName::new(s.clone());
            let _ = VersionId::new(s.clone());
            let _ = Email::new(s.clone());
            let _ = Email::normalize(&s);
            let _ = ArtifactPath::parse(&s);
        }

        #[test]
        fn errors_have_messages(s in "\\PC{0,80}") {
            if let Err(e) = OrgId::new(s.clone()) { prop_assert!(!e.to_string().is_empty()); }
            if let Err(e) = VersionId::new(s) { prop_assert!(!e.to_string().is_empty()); }
        }

        #[test]
        fn generated_components_are_valid(c in component()) {
            prop_assume!(!RESERVED_NAMES.contains(&c.as_str()) && c.len() <= 63);
            prop_assert!(OrgId::new(c.clone()).is_ok());
            prop_assert!(TeamName::new(c.clone()).is_ok());
            prop_assert!(ArtifactName::new(c).is_ok());
        }

        #[test]
        fn uppercase_is_never_an_org(c in "[a-z0-9]{0,5}[A-Z][a-zA-Z0-9]{0,5}") {
            prop_assert!(OrgId::new(c.clone()).is_err());
            prop_assert!(TeamName::new(c).is_err());
        }

        #[test]
        fn versions_never_contain_slash_or_dotdot(s in "[a-z0-9./]{1,12}") {
            if let Ok(v) = VersionId::new(s) {
                prop_assert!(!v.as_str().contains('/') && !v.as_str().contains(".."));
            }
        }

        #[test]
        fn paths_round_trip(o in component(), t in proptest::option::of(component()), n in component()) {
            prop_assume!(o.len() <= 63 && !RESERVED_NAMES.contains(&o.as_str()));
            if let Some(t) = &t { prop_assume!(t.len() <= 63 && !RESERVED_NAMES.contains(&t.as_str())); }
            let s = match &t { Some(t) => format!("{o}/{t}/{n}"), None => format!("{o}/{n}") };
            let p = ArtifactPath::parse(&s).unwrap();
            prop_assert_eq!(p.to_string(), s);
        }
    }
}

//! Repository names, tags and manifest references, per the distribution-spec grammars.
//!
//! ```text
//! <name>      [a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*(\/[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*)*   (≤ 255 chars)
//! <tag>       [a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}
//! <reference> a digest (if it contains ':') or a tag
//! ```
//!
//! The validators are hand-written rather than regex-based so each rejection can say which rule
//! was broken; a property test checks they accept exactly what the spec regexes accept.
//! These are grammar checks only: Arca's own "org/repo or org/team/repo" rule lives elsewhere.

use crate::digest::{Digest, DigestError};
use crate::util::clip;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// Why a repository name is invalid.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NameError {
    /// The name is empty.
    #[error("repository name must not be empty")]
    Empty,
    /// More than [`RepositoryName::MAX_LEN`] characters.
    #[error("repository name is {0} characters long; at most 255 are allowed")]
    TooLong(usize),
    /// A leading, trailing or doubled `/`.
    #[error("repository name has an empty path component (leading, trailing or doubled '/')")]
    EmptyComponent,
    /// A character outside `[a-z0-9._-/]`.
    #[error("repository name contains {0:?}; only lowercase letters, digits, '.', '_', '-' and '/' are allowed")]
    InvalidCharacter(char),
    /// A component starting or ending with a separator.
    #[error("path component '{0}' must start and end with a lowercase letter or digit")]
    BadComponentEdge(String),
    /// A separator run other than `.`, `_`, `__` or `-+`.
    #[error("path component '{component}' has the separator '{separator}'; only '.', '_', '__' or one or more '-' may separate [a-z0-9] runs")]
    BadSeparator {
        /// The component (clipped, escaped).
        component: String,
        /// The offending run of separator characters.
        separator: String,
    },
}

/// A repository name (`<name>` in `/v2/<name>/...`), validated against the spec grammar.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct RepositoryName(String);

fn check_component(c: &str) -> Result<(), NameError> {
    if c.is_empty() {
        return Err(NameError::EmptyComponent);
    }
    let b = c.as_bytes();
    let alnum = |x: u8| x.is_ascii_lowercase() || x.is_ascii_digit();
    if !alnum(b[0]) || !alnum(b[b.len() - 1]) {
        return Err(NameError::BadComponentEdge(clip(c, 64)));
    }
    // Every maximal run of non-alphanumerics is a separator between two [a-z0-9]+ runs.
    for sep in c.split(|ch: char| ch.is_ascii_lowercase() || ch.is_ascii_digit()) {
        let ok = sep.is_empty()
            || sep == "."
            || sep == "_"
            || sep == "__"
            || sep.bytes().all(|x| x == b'-');
        if !ok {
            return Err(NameError::BadSeparator {
                component: clip(c, 64),
                separator: clip(sep, 64),
            });
        }
    }
    Ok(())
}

impl RepositoryName {
    /// Maximum length in characters (the spec's implementers note: many clients cap
    /// `host/name` at 255, so no name may exceed that).
    pub const MAX_LEN: usize = 255;

    /// Parses and validates a name (same as [`FromStr`]).
    pub fn parse(s: &str) -> Result<Self, NameError> {
        if s.is_empty() {
            return Err(NameError::Empty);
        }
        if let Some(ch) = s
            .chars()
            .find(|&ch| !(ch.is_ascii_lowercase() || ch.is_ascii_digit() || "._-/".contains(ch)))
        {
            return Err(NameError::InvalidCharacter(ch));
        }
        // Only ASCII remains, so bytes == characters.
        if s.len() > Self::MAX_LEN {
            return Err(NameError::TooLong(s.len()));
        }
        s.split('/').try_for_each(check_component)?;
        Ok(Self(s.to_owned()))
    }

    /// The name as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The `/`-separated path components, in order (at least one).
    pub fn components(&self) -> impl Iterator<Item = &str> + '_ {
        self.0.split('/')
    }

    /// Number of path components.
    pub fn component_count(&self) -> usize {
        self.0.split('/').count()
    }
}

impl FromStr for RepositoryName {
    type Err = NameError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl TryFrom<String> for RepositoryName {
    type Error = NameError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

impl From<RepositoryName> for String {
    fn from(n: RepositoryName) -> String {
        n.0
    }
}

impl AsRef<str> for RepositoryName {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for RepositoryName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Why a tag is invalid.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TagError {
    /// The tag is empty.
    #[error("tag must not be empty")]
    Empty,
    /// More than [`Tag::MAX_LEN`] characters.
    #[error("tag is {0} characters long; at most 128 are allowed")]
    TooLong(usize),
    /// The first character is `.` or `-` (or otherwise not `[a-zA-Z0-9_]`).
    #[error("tag must start with a letter, digit or '_', not {0:?}")]
    BadFirstCharacter(char),
    /// A character outside `[a-zA-Z0-9._-]`.
    #[error("tag contains {0:?}; only letters, digits, '.', '_' and '-' are allowed")]
    InvalidCharacter(char),
}

/// A tag, validated against `[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Tag(String);

impl Tag {
    /// Maximum length in characters.
    pub const MAX_LEN: usize = 128;

    /// Parses and validates a tag (same as [`FromStr`]).
    pub fn parse(s: &str) -> Result<Self, TagError> {
        let first = s.chars().next().ok_or(TagError::Empty)?;
        if !(first.is_ascii_alphanumeric() || first == '_') {
            return Err(TagError::BadFirstCharacter(first));
        }
        if let Some(ch) = s
            .chars()
            .find(|&ch| !(ch.is_ascii_alphanumeric() || "._-".contains(ch)))
        {
            return Err(TagError::InvalidCharacter(ch));
        }
        if s.len() > Self::MAX_LEN {
            return Err(TagError::TooLong(s.len()));
        }
        Ok(Self(s.to_owned()))
    }

    /// The tag as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for Tag {
    type Err = TagError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl TryFrom<String> for Tag {
    type Error = TagError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

impl From<Tag> for String {
    fn from(t: Tag) -> String {
        t.0
    }
}

impl AsRef<str> for Tag {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Tag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Why a `<reference>` path segment is invalid.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReferenceError {
    /// It contains `:`, so it was read as a digest, and is not a valid one.
    #[error("reference is not a valid digest: {0}")]
    Digest(#[from] DigestError),
    /// It has no `:`, so it was read as a tag, and is not a valid one.
    #[error("reference is not a valid tag: {0}")]
    Tag(#[from] TagError),
}

/// The `<reference>` of `/v2/<name>/manifests/<reference>`: a tag or a digest.
///
/// A segment containing `:` is parsed as a digest (tags cannot contain `:`), anything else as a
/// tag.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum Reference {
    /// A tag such as `latest`.
    Tag(Tag),
    /// A digest such as `sha256:…`.
    Digest(Digest),
}

impl Reference {
    /// Parses a `<reference>` segment (same as [`FromStr`]).
    pub fn parse(s: &str) -> Result<Self, ReferenceError> {
        if s.contains(':') {
            Ok(Self::Digest(Digest::parse(s)?))
        } else {
            Ok(Self::Tag(Tag::parse(s)?))
        }
    }

    /// The tag, if this is one.
    pub fn as_tag(&self) -> Option<&Tag> {
        match self {
            Self::Tag(t) => Some(t),
            Self::Digest(_) => None,
        }
    }

    /// The digest, if this is one.
    pub fn as_digest(&self) -> Option<&Digest> {
        match self {
            Self::Digest(d) => Some(d),
            Self::Tag(_) => None,
        }
    }

    /// The reference as text.
    pub fn as_str(&self) -> &str {
        match self {
            Self::Tag(t) => t.as_str(),
            Self::Digest(d) => d.as_str(),
        }
    }
}

impl From<Tag> for Reference {
    fn from(t: Tag) -> Self {
        Self::Tag(t)
    }
}

impl From<Digest> for Reference {
    fn from(d: Digest) -> Self {
        Self::Digest(d)
    }
}

impl FromStr for Reference {
    type Err = ReferenceError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl TryFrom<String> for Reference {
    type Error = ReferenceError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

impl From<Reference> for String {
    fn from(r: Reference) -> String {
        match r {
            Reference::Tag(t) => t.into(),
            Reference::Digest(d) => d.into(),
        }
    }
}

impl fmt::Display for Reference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const NAME_RE: &str =
        r"^[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*(/[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*)*$";
    const TAG_RE: &str = r"^[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}$";

    #[test]
    fn spec_and_real_world_names() {
        for ok in [
            "library/ubuntu",
            "ubuntu",
            "nvidia/cuda",
            "acme/ml-team/llama-3.1-8b",
            "a/b/c/d/e",
            "foo__bar",
            "foo---bar",
            "v1.2_x",
            "0",
        ] {
            let n = RepositoryName::parse(ok).unwrap_or_else(|e| panic!("{ok}: {e}"));
            assert_eq!(n.as_str(), ok);
            assert_eq!(n.to_string(), ok);
        }
        let n = RepositoryName::parse("acme/ml-team/llama").unwrap();
        assert_eq!(
            n.components().collect::<Vec<_>>(),
            ["acme", "ml-team", "llama"]
        );
        assert_eq!(n.component_count(), 3);
    }

    #[test]
    fn name_rejections_say_why() {
        use NameError::*;
        assert_eq!(RepositoryName::parse(""), Err(Empty));
        assert_eq!(
            RepositoryName::parse("Library/ubuntu"),
            Err(InvalidCharacter('L'))
        );
        assert_eq!(RepositoryName::parse("a b"), Err(InvalidCharacter(' ')));
        assert_eq!(RepositoryName::parse("/a"), Err(EmptyComponent));
        assert_eq!(RepositoryName::parse("a/"), Err(EmptyComponent));
        assert_eq!(RepositoryName::parse("a//b"), Err(EmptyComponent));
        assert_eq!(
            RepositoryName::parse("-a"),
            Err(BadComponentEdge("-a".into()))
        );
        assert_eq!(
            RepositoryName::parse("a/b."),
            Err(BadComponentEdge("b.".into()))
        );
        assert!(
            matches!(RepositoryName::parse("a..b"), Err(BadSeparator { separator, .. }) if separator == "..")
        );
        assert!(
            matches!(RepositoryName::parse("a___b"), Err(BadSeparator { separator, .. }) if separator == "___")
        );
        assert!(matches!(
            RepositoryName::parse("a.-b"),
            Err(BadSeparator { .. })
        ));
        let long = format!("{}/{}", "a".repeat(200), "b".repeat(55));
        assert_eq!(long.len(), 256);
        assert_eq!(RepositoryName::parse(&long), Err(TooLong(256)));
        assert!(RepositoryName::parse(&long[1..]).is_ok());
        let msg = RepositoryName::parse("a..b").unwrap_err().to_string();
        assert!(msg.contains("'..'") && msg.contains("a..b"), "{msg}");
    }

    #[test]
    fn tags() {
        for ok in [
            "latest",
            "v1.0.0",
            "_x",
            "1",
            "3.12-slim-bookworm",
            &"a".repeat(128),
        ] {
            assert_eq!(Tag::parse(ok).unwrap().as_str(), ok);
        }
        assert_eq!(Tag::parse(""), Err(TagError::Empty));
        assert_eq!(Tag::parse(".hidden"), Err(TagError::BadFirstCharacter('.')));
        assert_eq!(Tag::parse("-x"), Err(TagError::BadFirstCharacter('-')));
        assert_eq!(Tag::parse("a:b"), Err(TagError::InvalidCharacter(':')));
        assert_eq!(Tag::parse("a/b"), Err(TagError::InvalidCharacter('/')));
        assert_eq!(Tag::parse(&"a".repeat(129)), Err(TagError::TooLong(129)));
    }

    #[test]
    fn references() {
        let d = "sha256:6c3c624b58dbbcd3c0dd82b4c53f04194d1247c6eebdaab7c610cf7d66709b3b";
        let r = Reference::parse(d).unwrap();
        assert_eq!(r.as_digest().map(Digest::as_str), Some(d));
        assert!(r.as_tag().is_none());
        let r = Reference::parse("v1").unwrap();
        assert_eq!(r.as_tag().map(Tag::as_str), Some("v1"));
        assert!(matches!(
            Reference::parse("sha256:zz"),
            Err(ReferenceError::Digest(_))
        ));
        assert!(matches!(
            Reference::parse("bad tag"),
            Err(ReferenceError::Tag(_))
        ));
        // A colon always means "digest", even when the rest would be a fine tag.
        assert!(matches!(
            Reference::parse("v1:2"),
            Err(ReferenceError::Digest(_))
        ));
        let json = serde_json::to_string(&Reference::parse(d).unwrap()).unwrap();
        assert_eq!(json, format!("\"{d}\""));
        assert!(serde_json::from_str::<RepositoryName>("\"Bad\"").is_err());
        assert_eq!(
            serde_json::from_str::<Tag>("\"v2\"").unwrap(),
            Tag::parse("v2").unwrap()
        );
    }

    fn component() -> impl Strategy<Value = String> {
        "[a-z0-9]{1,6}((\\.|_|__|-{1,3})[a-z0-9]{1,6}){0,3}"
    }

    fn valid_name() -> impl Strategy<Value = String> {
        proptest::collection::vec(component(), 1..5)
            .prop_map(|c| c.join("/"))
            .prop_filter("length", |s| s.len() <= 255)
    }

    proptest! {
        #[test]
        fn parsers_never_panic(s in ".*") {
            let _ = RepositoryName::parse(&s);
            let _ = Tag::parse(&s);
            let _ = Reference::parse(&s);
        }

        #[test]
        fn valid_names_round_trip(s in valid_name()) {
            let n = RepositoryName::parse(&s).unwrap();
            prop_assert_eq!(n.to_string(), s.clone());
            prop_assert_eq!(n.components().collect::<Vec<_>>().join("/"), s.clone());
            let json = serde_json::to_string(&n).unwrap();
            prop_assert_eq!(serde_json::from_str::<RepositoryName>(&json).unwrap(), n);
        }

        #[test]
        fn name_agrees_with_spec_regex(s in "[a-z0-9._/A-]{0,24}") {
            let re = regex::Regex::new(NAME_RE).unwrap();
            prop_assert_eq!(RepositoryName::parse(&s).is_ok(), re.is_match(&s) && s.len() <= 255);
        }

        #[test]
        fn valid_tags_round_trip(s in "[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}") {
            let t = Tag::parse(&s).unwrap();
            prop_assert_eq!(t.to_string(), s.clone());
            let r = Reference::parse(&s).unwrap();
            prop_assert_eq!(r.as_tag(), Some(&t));
            prop_assert_eq!(r.to_string(), s);
        }

        #[test]
        fn tag_agrees_with_spec_regex(s in "[a-zA-Z0-9._:/ -]{0,130}") {
            let re = regex::Regex::new(TAG_RE).unwrap();
            prop_assert_eq!(Tag::parse(&s).is_ok(), re.is_match(&s));
        }

        #[test]
        fn digest_references_round_trip(data in proptest::collection::vec(any::<u8>(), 0..64)) {
            let d = Digest::sha256_of(&data);
            let r = Reference::parse(d.as_str()).unwrap();
            prop_assert_eq!(r.as_digest(), Some(&d));
            prop_assert_eq!(r.to_string(), d.to_string());
        }
    }
}

//! Image references as `ngc registry image` takes them: `org/[team/]name[:tag|@sha256:…]`,
//! optionally behind a registry host (`nvcr.io/org/name:tag`), and tag globs for `list`.

use std::fmt;

/// A parsed image reference.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageRef {
    /// The org.
    pub org: String,
    /// The team, for `org/team/name`.
    pub team: Option<String>,
    /// The repository name.
    pub name: String,
    /// The tag (or, with [`parse_with_glob`], a tag pattern).
    pub tag: Option<String>,
    /// A `sha256:` digest given with `@`.
    pub digest: Option<String>,
}

impl ImageRef {
    /// `org/[team/]name`: the repository's path in the OCI API.
    pub fn repo_path(&self) -> String {
        match &self.team {
            Some(team) => format!("{}/{team}/{}", self.org, self.name),
            None => format!("{}/{}", self.org, self.name),
        }
    }

    /// The digest, else the tag: what a manifest request names.
    pub fn reference(&self) -> Option<&str> {
        self.digest.as_deref().or(self.tag.as_deref())
    }
}

impl fmt::Display for ImageRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.repo_path())?;
        if let Some(tag) = &self.tag {
            write!(f, ":{tag}")?;
        }
        if let Some(digest) = &self.digest {
            write!(f, "@{digest}")?;
        }
        Ok(())
    }
}

fn valid_component(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 255
        && s.bytes().all(|b| {
            b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'-' | b'_' | b'.')
        })
        && s.bytes().next().is_some_and(|b| b.is_ascii_alphanumeric())
}

fn valid_tag(s: &str, glob: bool) -> bool {
    !s.is_empty()
        && s.len() <= 128
        && s.bytes().all(|b| {
            b.is_ascii_alphanumeric()
                || matches!(b, b'-' | b'_' | b'.')
                || (glob && matches!(b, b'*' | b'?'))
        })
        && !s.starts_with(['.', '-'])
}

fn valid_digest(s: &str) -> bool {
    s.strip_prefix("sha256:").is_some_and(|h| {
        h.len() == 64
            && h.bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    })
}

/// Parses `org/[team/]name[:tag][@sha256:…]`.
///
/// # Errors
///
/// A message naming the problem and the expected shape.
pub fn parse(input: &str) -> Result<ImageRef, String> {
    parse_inner(input, false)
}

/// As [`parse`], with `*` and `?` allowed in the tag (a filter of `image list`).
///
/// # Errors
///
/// As [`parse`].
pub fn parse_with_glob(input: &str) -> Result<ImageRef, String> {
    parse_inner(input, true)
}

fn parse_inner(input: &str, glob: bool) -> Result<ImageRef, String> {
    let shape = "expected org/[team/]name[:tag] or org/[team/]name@sha256:<digest>";
    let bad = |why: &str| format!("invalid image reference {input:?}: {why}; {shape}");
    let (rest, digest) = match input.split_once('@') {
        Some((rest, d)) if valid_digest(d) => (rest, Some(d.to_string())),
        Some(_) => return Err(bad("the digest is not sha256:<64 lowercase hex digits>")),
        None => (input, None),
    };
    let (path, tag) = match rest.rsplit_once(':') {
        Some((path, tag)) if !tag.contains('/') => (path, Some(tag)),
        _ => (rest, None),
    };
    if let Some(tag) = tag {
        if !valid_tag(tag, glob) {
            return Err(bad(&format!("{tag:?} is not a valid tag")));
        }
    }
    let mut parts: Vec<&str> = path.split('/').collect();
    // A registry host in front (nvcr.io/…, localhost:5000/…) is dropped.
    if parts.len() > 2 && (parts[0].contains(['.', ':']) || parts[0] == "localhost") {
        parts.remove(0);
    }
    let (org, team, name) = match parts.as_slice() {
        [org, name] => (*org, None, *name),
        [org, team, name] => (*org, Some(*team), *name),
        [_] => return Err(bad("the org is missing")),
        _ => return Err(bad("too many path components")),
    };
    for (what, value) in [("org", Some(org)), ("team", team), ("name", Some(name))] {
        if let Some(value) = value {
            if !valid_component(value) {
                return Err(bad(&format!(
                    "{what} {value:?} must be lowercase letters, digits, '-', '_' or '.'"
                )));
            }
        }
    }
    Ok(ImageRef {
        org: org.to_string(),
        team: team.map(str::to_string),
        name: name.to_string(),
        tag: tag.map(str::to_string),
        digest,
    })
}

/// Whether `text` matches `pattern`, where `*` is any run of characters and `?` any one.
pub fn glob_match(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    let (mut pi, mut ti) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        match p.get(pi) {
            Some('*') => {
                star = Some((pi, ti));
                pi += 1;
            }
            Some(c) if *c == '?' || *c == t[ti] => {
                pi += 1;
                ti += 1;
            }
            _ => match star {
                Some((sp, st)) => {
                    pi = sp + 1;
                    ti = st + 1;
                    star = Some((sp, st + 1));
                }
                None => return false,
            },
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}

#[cfg(test)]
mod tests {
    use super::*;

    const D: &str = "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

    #[test]
    fn org_name_and_tag() {
        let r = parse("acme/det:1.0").unwrap();
        assert_eq!((r.org.as_str(), r.team.as_deref()), ("acme", None));
        assert_eq!((r.name.as_str(), r.tag.as_deref()), ("det", Some("1.0")));
        assert_eq!(r.repo_path(), "acme/det");
        assert_eq!(r.to_string(), "acme/det:1.0");
        let r = parse("acme/det").unwrap();
        assert_eq!((r.tag, r.digest), (None, None));
    }

    #[test]
    fn team_and_digest() {
        let r = parse(&format!("acme/vision/det@{D}")).unwrap();
        assert_eq!(r.team.as_deref(), Some("vision"));
        assert_eq!(r.digest.as_deref(), Some(D));
        assert_eq!(r.reference(), Some(D));
        assert_eq!(r.repo_path(), "acme/vision/det");
        let r = parse(&format!("nvcr.io/acme/vision/det:v2@{D}")).unwrap();
        assert_eq!((r.tag.as_deref(), r.reference()), (Some("v2"), Some(D)));
        let r = parse("localhost:5000/acme/det:1").unwrap();
        assert_eq!((r.org.as_str(), r.tag.as_deref()), ("acme", Some("1")));
    }

    #[test]
    fn invalid_references() {
        for bad in [
            "",
            "det",
            "det:1.0",
            "Acme/det",
            "acme/Det:1",
            "acme//det",
            "acme/a/b/c/d",
            "acme/det:",
            "acme/det:bad tag",
            "acme/det:.hidden",
            "acme/det:1*",
            "acme/det@sha256:abc",
            "acme/det@md5:00",
            "acme/../det",
        ] {
            let err = parse(bad).expect_err(bad);
            assert!(err.contains("expected org/"), "{bad}: {err}");
        }
        assert!(parse_with_glob("acme/det:1.*").is_ok());
    }

    #[test]
    fn globs() {
        assert!(glob_match("*", "anything"));
        assert!(glob_match("1.*", "1.0"));
        assert!(glob_match("v?-*-gpu", "v2-cuda12-gpu"));
        assert!(!glob_match("1.*", "2.0"));
        assert!(!glob_match("?", ""));
        assert!(glob_match("a*b*c", "aXbYbZc"));
        assert!(glob_match("latest", "latest"));
    }
}

//! Request targets: a path relative to the client's base URL plus query parameters.

use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use url::Url;

use crate::error::ClientError;

/// Characters percent-encoded inside one path segment: everything except the RFC 3986
/// "unreserved" set (`A-Z a-z 0-9 - . _ ~`). `@` becomes `%40`, `/` becomes `%2F`.
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// Where a request goes: a path relative to the client's base URL, plus query parameters.
///
/// Every request helper of [`ArcaClient`](crate::ArcaClient) takes `impl Into<Endpoint>`, so a
/// plain `&str` or `String` path works, and query parameters are added with
/// [`Endpoint::query`]:
///
/// ```
/// use arca_client::Endpoint;
///
/// let e = Endpoint::new("/v2/orgs").query("page-size", 500);
/// assert_eq!(e.path(), "/v2/orgs");
/// assert_eq!(e.query_pairs(), &[("page-size".to_string(), "500".to_string())]);
///
/// // Segments taken from user input are percent-encoded one by one.
/// let e = Endpoint::from_segments(["v2", "org", "acme", "users", "a@b.c"]).unwrap();
/// assert_eq!(e.path(), "/v2/org/acme/users/a%40b.c");
/// ```
///
/// Paths are appended to the base URL's own path, so a client whose base URL is
/// `https://host/prefix` sends `/v2/orgs` to `https://host/prefix/v2/orgs`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    path: String,
    query: Vec<(String, String)>,
}

impl Endpoint {
    /// An endpoint from an already percent-encoded path such as `/v2/orgs`.
    ///
    /// A query string in the path (`/v2/orgs?page-size=500`) is split off and decoded into
    /// query pairs. Characters that cannot appear in a URL path (spaces, for example) are
    /// percent-encoded when the URL is built; `%` sequences are kept as they are.
    pub fn new(path: impl Into<String>) -> Self {
        let path = path.into();
        match path.split_once('?') {
            Some((p, q)) => Endpoint {
                path: p.to_string(),
                query: url::form_urlencoded::parse(q.as_bytes())
                    .map(|(k, v)| (k.into_owned(), v.into_owned()))
                    .collect(),
            },
            None => Endpoint {
                path,
                query: Vec::new(),
            },
        }
    }

    /// An endpoint from raw (not yet encoded) path segments, each of which is percent-encoded.
    ///
    /// Use this whenever a segment comes from user input (an org, team or artifact name).
    ///
    /// # Errors
    ///
    /// [`ClientError::InvalidUrl`] if a segment is empty, `.` or `..`: such segments would
    /// silently change which resource the URL names.
    pub fn from_segments<I, S>(segments: I) -> Result<Self, ClientError>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let mut path = String::new();
        for segment in segments {
            let segment = segment.as_ref();
            if segment.is_empty() || segment == "." || segment == ".." {
                return Err(ClientError::InvalidUrl {
                    url: format!("{path}/{segment}"),
                    reason: format!("path segment {segment:?} is not allowed"),
                });
            }
            path.push('/');
            path.extend(utf8_percent_encode(segment, SEGMENT));
        }
        Ok(Endpoint {
            path,
            query: Vec::new(),
        })
    }

    /// Adds one query parameter (keys may repeat; order is kept).
    #[must_use]
    pub fn query(mut self, key: impl Into<String>, value: impl ToString) -> Self {
        self.query.push((key.into(), value.to_string()));
        self
    }

    /// The (percent-encoded) path, relative to the base URL.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The query parameters, in order, not encoded.
    pub fn query_pairs(&self) -> &[(String, String)] {
        &self.query
    }

    /// The absolute URL of this endpoint under `base`: the base's path, then this path, then
    /// the query. The base's own query and fragment are dropped.
    pub fn resolve(&self, base: &Url) -> Url {
        let mut url = base.clone();
        let joined = format!(
            "{}/{}",
            base.path().trim_end_matches('/'),
            self.path.trim_start_matches('/')
        );
        url.set_path(&joined);
        url.set_fragment(None);
        url.set_query(None);
        if !self.query.is_empty() {
            url.query_pairs_mut().extend_pairs(&self.query);
        }
        url
    }
}

impl From<&str> for Endpoint {
    fn from(path: &str) -> Self {
        Endpoint::new(path)
    }
}

impl From<String> for Endpoint {
    fn from(path: String) -> Self {
        Endpoint::new(path)
    }
}

impl From<&String> for Endpoint {
    fn from(path: &String) -> Self {
        Endpoint::new(path.as_str())
    }
}

impl From<&Endpoint> for Endpoint {
    fn from(endpoint: &Endpoint) -> Self {
        endpoint.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base(s: &str) -> Url {
        Url::parse(s).unwrap()
    }

    #[test]
    fn joins_under_the_base_path() {
        let e = Endpoint::new("/v2/orgs");
        assert_eq!(
            e.resolve(&base("http://h:5000")).as_str(),
            "http://h:5000/v2/orgs"
        );
        assert_eq!(
            e.resolve(&base("http://h:5000/")).as_str(),
            "http://h:5000/v2/orgs"
        );
        assert_eq!(
            e.resolve(&base("https://h/prefix")).as_str(),
            "https://h/prefix/v2/orgs"
        );
        assert_eq!(
            Endpoint::new("v2/orgs")
                .resolve(&base("https://h/prefix/"))
                .as_str(),
            "https://h/prefix/v2/orgs"
        );
    }

    #[test]
    fn query_pairs_are_encoded_and_inline_queries_parsed() {
        let e = Endpoint::new("/v2/search?q=a b&x=1").query("page-size", 500);
        assert_eq!(e.path(), "/v2/search");
        let url = e.resolve(&base("http://h/"));
        assert_eq!(url.as_str(), "http://h/v2/search?q=a+b&x=1&page-size=500");
    }

    #[test]
    fn segments_are_percent_encoded() {
        let e = Endpoint::from_segments(["v2", "org", "a/b", "x y", "u@e"]).unwrap();
        assert_eq!(e.path(), "/v2/org/a%2Fb/x%20y/u%40e");
        let url = e.resolve(&base("http://h"));
        assert_eq!(url.path(), "/v2/org/a%2Fb/x%20y/u%40e");
    }

    #[test]
    fn dot_and_empty_segments_are_rejected() {
        for bad in ["", ".", ".."] {
            let err = Endpoint::from_segments(["v2", bad, "x"]).unwrap_err();
            assert!(matches!(err, ClientError::InvalidUrl { .. }), "{bad:?}");
        }
    }

    #[test]
    fn base_query_and_fragment_are_dropped() {
        let url = Endpoint::new("/healthz").resolve(&base("http://h/p?x=1#f"));
        assert_eq!(url.as_str(), "http://h/p/healthz");
    }
}

//! Typed methods of [`ArcaClient`](crate::ArcaClient), one module per area of the REST API:
//!
//! * [`orgs`]: orgs and teams (`/v2/orgs`, `/v2/org/{org}/teams`);
//! * [`users`]: the caller (`/v2/users/me`), members of orgs and teams and their roles;
//! * [`keys`]: personal, service and legacy API keys (`/v3/keys`);
//! * [`repos`]: container repositories and their images (`/v2/org/{org}/repos`).
//!
//! Response types keep the server's field names (camelCase on the wire), ignore fields they do
//! not know and default the ones that are missing, so that a newer server does not break an
//! older client. Lists that the server pages (`paginationInfo`) are fetched page by page and
//! returned whole.
//!
//! Role, service, scope and entity-type names are passed as their wire strings
//! (`REGISTRY_USER`, `PRIVATE_REGISTRY`, `GET_CONTAINER`, `SPECIFIC_MODEL`, …); the server checks
//! them. `arca_auth` defines the vocabularies if a caller wants to check them first.

pub mod charts;
pub mod keys;
pub mod models;
pub mod orgs;
pub mod repos;
pub mod users;

use serde::de::{DeserializeOwned, Error as _};
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;

use crate::client::{ArcaClient, Result};
use crate::endpoint::Endpoint;

/// Items asked for per page when the client walks a paged list.
pub const PAGE_SIZE: usize = 500;

/// The most pages the client fetches for one list: a guard against a server that never stops.
pub const MAX_PAGES: usize = 10_000;

/// The `paginationInfo` object of a paged list.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
#[non_exhaustive]
pub struct PaginationInfo {
    /// This page's number, from 0.
    pub index: usize,
    /// Items per page.
    pub size: usize,
    /// Items in the whole list.
    pub total_results: usize,
    /// Pages in the whole list.
    pub total_pages: usize,
}

/// A page of a list answer: its items and, when the server pages, where it is.
pub(crate) trait Page: DeserializeOwned {
    type Item;
    fn into_parts(self) -> (Vec<Self::Item>, Option<PaginationInfo>);
}

impl ArcaClient {
    /// `GET`s every page of a paged list (`page-size`, `page-number` from 0) and concatenates
    /// the items. Stops at the last page named by `paginationInfo`, at the first empty page, or
    /// after [`MAX_PAGES`] pages.
    pub(crate) async fn get_all_pages<P: Page>(&self, endpoint: Endpoint) -> Result<Vec<P::Item>> {
        let mut items = Vec::new();
        for number in 0..MAX_PAGES {
            let page: P = self
                .get_json(
                    endpoint
                        .clone()
                        .query("page-size", PAGE_SIZE)
                        .query("page-number", number),
                )
                .await?;
            let (batch, info) = page.into_parts();
            let got = batch.len();
            items.extend(batch);
            let more = info.is_some_and(|i| number + 1 < i.total_pages);
            if !more || got == 0 {
                break;
            }
        }
        Ok(items)
    }
}

/// `/v2/org/{org}[/team/{team}]/users` followed by `tail`.
pub(crate) fn v2_users(org: &str, team: Option<&str>, tail: &[&str]) -> Result<Endpoint> {
    let mut segments = vec!["v2", "org", org];
    if let Some(team) = team {
        segments.extend(["team", team]);
    }
    segments.push("users");
    segments.extend_from_slice(tail);
    Endpoint::from_segments(segments)
}

/// `/v3/orgs/{org}[/teams/{team}]/users` followed by `tail`.
pub(crate) fn v3_users(org: &str, team: Option<&str>, tail: &[&str]) -> Result<Endpoint> {
    let mut segments = vec!["v3", "orgs", org];
    if let Some(team) = team {
        segments.extend(["teams", team]);
    }
    segments.push("users");
    segments.extend_from_slice(tail);
    Endpoint::from_segments(segments)
}

/// Adds one `roles=` query parameter per role, as NGC's role endpoints expect.
pub(crate) fn with_roles<S: AsRef<str>>(mut endpoint: Endpoint, roles: &[S]) -> Endpoint {
    for role in roles {
        endpoint = endpoint.query("roles", role.as_ref());
    }
    endpoint
}

/// Ids are numbers for orgs, teams and users and strings (UUIDs) for keys; both read as text.
pub(crate) fn id_text<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<String, D::Error> {
    match Value::deserialize(d)? {
        Value::String(s) => Ok(s),
        Value::Number(n) => Ok(n.to_string()),
        other => Err(D::Error::custom(format!(
            "expected an id (string or number), found {other}"
        ))),
    }
}

/// As [`id_text`], with `null` or a missing field read as `None`.
pub(crate) fn opt_id_text<'de, D: Deserializer<'de>>(
    d: D,
) -> std::result::Result<Option<String>, D::Error> {
    match Value::deserialize(d)? {
        Value::Null => Ok(None),
        Value::String(s) => Ok(Some(s)),
        Value::Number(n) => Ok(Some(n.to_string())),
        other => Err(D::Error::custom(format!(
            "expected an id (string or number), found {other}"
        ))),
    }
}

/// `null` read as the type's default (servers send `null` for empty lists now and then).
pub(crate) fn null_default<'de, D, T>(d: D) -> std::result::Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_paths_at_org_and_team_level() {
        assert_eq!(
            v2_users("acme", None, &["a@b.c", "update-role"])
                .unwrap()
                .path(),
            "/v2/org/acme/users/a%40b.c/update-role"
        );
        assert_eq!(
            v2_users("acme", Some("vision"), &[]).unwrap().path(),
            "/v2/org/acme/team/vision/users"
        );
        assert_eq!(
            v3_users("acme", Some("vision"), &["7", "add-role"])
                .unwrap()
                .path(),
            "/v3/orgs/acme/teams/vision/users/7/add-role"
        );
        assert!(v3_users("acme", None, &[".."]).is_err());
    }

    #[test]
    fn roles_become_repeated_query_parameters() {
        let e = with_roles(Endpoint::new("/x"), &["REGISTRY_USER", "USER_ADMIN"]);
        assert_eq!(
            e.query_pairs(),
            &[
                ("roles".to_string(), "REGISTRY_USER".to_string()),
                ("roles".to_string(), "USER_ADMIN".to_string())
            ]
        );
    }

    #[derive(Deserialize)]
    struct Ids {
        #[serde(deserialize_with = "id_text")]
        a: String,
        #[serde(default, deserialize_with = "opt_id_text")]
        b: Option<String>,
        #[serde(default, deserialize_with = "null_default")]
        c: Vec<String>,
    }

    #[test]
    fn ids_read_numbers_and_strings() {
        let ids: Ids = serde_json::from_str(r#"{"a":42,"b":"x","c":null}"#).unwrap();
        assert_eq!((ids.a.as_str(), ids.b.as_deref()), ("42", Some("x")));
        assert!(ids.c.is_empty());
        let ids: Ids = serde_json::from_str(r#"{"a":"k-1"}"#).unwrap();
        assert_eq!((ids.a.as_str(), ids.b), ("k-1", None));
        assert!(serde_json::from_str::<Ids>(r#"{"a":[1]}"#).is_err());
    }
}

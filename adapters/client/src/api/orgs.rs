//! Orgs and teams: `GET /v2/orgs`, `GET /v2/orgs/{org}`, `/v2/org/{org}/teams[/{team}]`.
//!
//! ```no_run
//! # async fn run(client: arca_client::ArcaClient) -> arca_client::Result<()> {
//! for org in client.list_orgs().await? {
//!     println!("{} ({})", org.name, org.display_name.unwrap_or_default());
//! }
//! let team = client.create_team("acme", "vision", Some("Computer vision")).await?;
//! assert_eq!(team.name, "vision");
//! # Ok(()) }
//! ```

use serde::{Deserialize, Serialize};

use super::{null_default, opt_id_text, Page, PaginationInfo};
use crate::client::{ArcaClient, Result};
use crate::endpoint::Endpoint;
use crate::error::ClientError;

/// An org as the server describes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Org {
    /// The server's internal id.
    #[serde(default, deserialize_with = "opt_id_text")]
    pub id: Option<String>,
    /// The org's identifier (its namespace in paths and image references).
    pub name: String,
    /// The human-readable name.
    #[serde(default)]
    pub display_name: Option<String>,
    /// A description.
    #[serde(default)]
    pub description: Option<String>,
    /// The org type (`ENTERPRISE`).
    #[serde(default, rename = "type")]
    pub org_type: Option<String>,
    /// Creation instant, RFC 3339.
    #[serde(default)]
    pub created_date: Option<String>,
}

/// A team of an org.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Team {
    /// The server's internal id.
    #[serde(default, deserialize_with = "opt_id_text")]
    pub id: Option<String>,
    /// The team's name (lowercase, unique in the org).
    pub name: String,
    /// The description.
    #[serde(default)]
    pub description: Option<String>,
    /// Whether the team is deleted.
    #[serde(default, deserialize_with = "null_default")]
    pub is_deleted: bool,
    /// Creation instant, RFC 3339.
    #[serde(default)]
    pub created_date: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct OrgsPage {
    #[serde(default, deserialize_with = "null_default")]
    organizations: Vec<Org>,
    #[serde(default)]
    pagination_info: Option<PaginationInfo>,
}

impl Page for OrgsPage {
    type Item = Org;
    fn into_parts(self) -> (Vec<Org>, Option<PaginationInfo>) {
        (self.organizations, self.pagination_info)
    }
}

/// `GET /v2/orgs/{org}`: NGC puts the one org under `organizations`; `organization` is read too.
#[derive(Deserialize)]
struct OrgAnswer {
    #[serde(default)]
    organizations: Option<Org>,
    #[serde(default)]
    organization: Option<Org>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct TeamsPage {
    #[serde(default, deserialize_with = "null_default")]
    teams: Vec<Team>,
    #[serde(default)]
    pagination_info: Option<PaginationInfo>,
}

impl Page for TeamsPage {
    type Item = Team;
    fn into_parts(self) -> (Vec<Team>, Option<PaginationInfo>) {
        (self.teams, self.pagination_info)
    }
}

#[derive(Deserialize)]
struct TeamAnswer {
    team: Team,
}

#[derive(Serialize)]
struct TeamBody<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<&'a str>,
}

fn teams_endpoint(org: &str) -> Result<Endpoint> {
    Endpoint::from_segments(["v2", "org", org, "teams"])
}

fn team_endpoint(org: &str, team: &str) -> Result<Endpoint> {
    Endpoint::from_segments(["v2", "org", org, "teams", team])
}

impl ArcaClient {
    /// `GET /v2/orgs` (every page): the orgs the caller's key works in.
    ///
    /// # Errors
    ///
    /// [`ClientError::Transport`], [`ClientError::Api`] (401 for a bad key) or
    /// [`ClientError::Decode`].
    pub async fn list_orgs(&self) -> Result<Vec<Org>> {
        self.get_all_pages::<OrgsPage>(Endpoint::new("/v2/orgs"))
            .await
    }

    /// `GET /v2/orgs/{org}`: one org's details.
    ///
    /// # Errors
    ///
    /// As [`ArcaClient::list_orgs`]; [`ClientError::InvalidUrl`] for an empty, `.` or `..` name.
    pub async fn get_org(&self, org: &str) -> Result<Org> {
        let endpoint = Endpoint::from_segments(["v2", "orgs", org])?;
        let url = self.url(&endpoint).to_string();
        let answer: OrgAnswer = self.get_json(endpoint).await?;
        answer
            .organizations
            .or(answer.organization)
            .ok_or_else(|| ClientError::Decode {
                url,
                reason: "the answer has no `organizations` object".into(),
            })
    }

    /// `GET /v2/org/{org}/teams` (every page): the teams of `org` the caller may see.
    ///
    /// # Errors
    ///
    /// As [`ArcaClient::get_org`].
    pub async fn list_teams(&self, org: &str) -> Result<Vec<Team>> {
        self.get_all_pages::<TeamsPage>(teams_endpoint(org)?).await
    }

    /// `POST /v2/org/{org}/teams` with `{"name","description"}`: creates a team.
    ///
    /// # Errors
    ///
    /// As [`ArcaClient::get_org`]; the server answers 400 for an invalid (e.g. upper-case) name
    /// and 409 for an existing one.
    pub async fn create_team(
        &self,
        org: &str,
        name: &str,
        description: Option<&str>,
    ) -> Result<Team> {
        let body = TeamBody {
            name: Some(name),
            description,
        };
        let answer: TeamAnswer = self.post_json(teams_endpoint(org)?, &body).await?;
        Ok(answer.team)
    }

    /// `GET /v2/org/{org}/teams/{team}`: one team.
    ///
    /// # Errors
    ///
    /// As [`ArcaClient::get_org`].
    pub async fn get_team(&self, org: &str, team: &str) -> Result<Team> {
        let answer: TeamAnswer = self.get_json(team_endpoint(org, team)?).await?;
        Ok(answer.team)
    }

    /// `PATCH /v2/org/{org}/teams/{team}` with `{"description"}`: changes the description.
    ///
    /// # Errors
    ///
    /// As [`ArcaClient::get_org`].
    pub async fn update_team(&self, org: &str, team: &str, description: &str) -> Result<Team> {
        let body = TeamBody {
            name: None,
            description: Some(description),
        };
        let answer: TeamAnswer = self.patch_json(team_endpoint(org, team)?, &body).await?;
        Ok(answer.team)
    }

    /// `DELETE /v2/org/{org}/teams/{team}`: deletes a team.
    ///
    /// # Errors
    ///
    /// As [`ArcaClient::get_org`].
    pub async fn delete_team(&self, org: &str, team: &str) -> Result<()> {
        self.delete(team_endpoint(org, team)?).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn org_list_tolerates_extra_and_missing_fields() {
        let page: OrgsPage = serde_json::from_str(
            r#"{"organizations":[{"id":1,"name":"acme","displayName":"Acme","type":"ENTERPRISE",
                "createdDate":"2025-01-01T00:00:00.000Z","future":true},{"name":"bare"}],
                "paginationInfo":{"index":0,"size":100,"totalResults":2,"totalPages":1},
                "requestStatus":{"statusCode":"SUCCESS"}}"#,
        )
        .unwrap();
        let (orgs, info) = page.into_parts();
        assert_eq!(orgs[0].id.as_deref(), Some("1"));
        assert_eq!(orgs[0].display_name.as_deref(), Some("Acme"));
        assert_eq!(orgs[0].org_type.as_deref(), Some("ENTERPRISE"));
        assert_eq!(orgs[1].name, "bare");
        assert_eq!(orgs[1].display_name, None);
        assert_eq!(info.map(|i| i.total_pages), Some(1));
    }

    #[test]
    fn single_org_under_either_key() {
        let a: OrgAnswer =
            serde_json::from_str(r#"{"organizations":{"name":"a"},"organization":{"name":"a"}}"#)
                .unwrap();
        assert_eq!(a.organizations.map(|o| o.name).as_deref(), Some("a"));
        let b: OrgAnswer = serde_json::from_str(r#"{"organization":{"name":"b"}}"#).unwrap();
        assert_eq!(b.organization.map(|o| o.name).as_deref(), Some("b"));
    }

    #[test]
    fn team_body_skips_unset_fields() {
        let body = TeamBody {
            name: None,
            description: Some("d"),
        };
        assert_eq!(
            serde_json::to_value(&body).unwrap(),
            serde_json::json!({"description": "d"})
        );
        let t: TeamAnswer = serde_json::from_str(
            r#"{"team":{"id":363,"name":"team-a","description":"Team A","isDeleted":false}}"#,
        )
        .unwrap();
        assert_eq!(t.team.id.as_deref(), Some("363"));
        assert!(!t.team.is_deleted);
    }
}

//! Users and their roles: `GET /v2/users/me`, members of an org or team, adding users and
//! changing or removing their roles (NGC's v2 and v3 paths).
//!
//! Every method that takes `team: Option<&str>` acts at org level with `None` and on that team
//! of the org with `Some`. A user (`who`) is named by numeric id or by email.
//!
//! ```no_run
//! # async fn run(client: arca_client::ArcaClient) -> arca_client::Result<()> {
//! let me = client.me().await?;
//! println!("{} <{}>", me.name.as_deref().unwrap_or(""), me.email);
//! client
//!     .add_user("acme", Some("vision"), "jsmith@example.com", Some("John Smith"), &["REGISTRY_USER"])
//!     .await?;
//! client.add_roles("acme", Some("vision"), "jsmith@example.com", &["USER_ADMIN"]).await?;
//! # Ok(()) }
//! ```

use serde::{Deserialize, Serialize};
use serde_json::json;

use super::{id_text, null_default, v2_users, v3_users, with_roles, Page, PaginationInfo};
use crate::client::{ArcaClient, Result};
use crate::endpoint::Endpoint;
use reqwest::Method;

/// An org as named inside a role assignment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct OrgRef {
    /// The org's identifier.
    pub name: String,
    /// Its display name.
    #[serde(default)]
    pub display_name: Option<String>,
}

/// A team as named inside a role assignment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct TeamRef {
    /// The team's name.
    pub name: String,
}

/// A user's roles in one context: an org (no `team`) or one team of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct RoleAssignment {
    /// The org.
    pub org: OrgRef,
    /// The team, for a team-level assignment.
    #[serde(default)]
    pub team: Option<TeamRef>,
    /// Org-level roles (empty for a team-level assignment).
    #[serde(default, deserialize_with = "null_default")]
    pub org_roles: Vec<String>,
    /// Team-level roles (empty for an org-level assignment).
    #[serde(default, deserialize_with = "null_default")]
    pub team_roles: Vec<String>,
}

impl RoleAssignment {
    /// `org` or `org/team`.
    pub fn context(&self) -> String {
        match &self.team {
            Some(team) => format!("{}/{}", self.org.name, team.name),
            None => self.org.name.clone(),
        }
    }

    /// The team's name, if this is a team-level assignment.
    pub fn team_name(&self) -> Option<&str> {
        self.team.as_ref().map(|t| t.name.as_str())
    }

    /// The roles of this context: `teamRoles` for a team, `orgRoles` for the org.
    pub fn roles(&self) -> &[String] {
        if self.team.is_some() {
            &self.team_roles
        } else {
            &self.org_roles
        }
    }
}

/// A user with their roles, as `users/me` and the member lists show them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct User {
    /// The numeric user id, as text.
    #[serde(deserialize_with = "id_text")]
    pub id: String,
    /// The email address (the user's identity).
    pub email: String,
    /// The display name.
    #[serde(default)]
    pub name: Option<String>,
    /// Creation instant, RFC 3339.
    #[serde(default)]
    pub created_date: Option<String>,
    /// Roles per org and team (those the answer covers: one org for member lists).
    #[serde(default, deserialize_with = "null_default")]
    pub roles: Vec<RoleAssignment>,
}

impl User {
    /// The user's org-level roles in `org`.
    pub fn org_roles(&self, org: &str) -> Vec<&str> {
        self.roles
            .iter()
            .filter(|a| a.org.name == org && a.team.is_none())
            .flat_map(|a| a.org_roles.iter().map(String::as_str))
            .collect()
    }

    /// The user's roles on `team` of `org`.
    pub fn team_roles(&self, org: &str, team: &str) -> Vec<&str> {
        self.roles
            .iter()
            .filter(|a| a.org.name == org && a.team_name() == Some(team))
            .flat_map(|a| a.team_roles.iter().map(String::as_str))
            .collect()
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct UsersPage {
    #[serde(default, deserialize_with = "null_default")]
    users: Vec<User>,
    #[serde(default)]
    pagination_info: Option<PaginationInfo>,
}

impl Page for UsersPage {
    type Item = User;
    fn into_parts(self) -> (Vec<User>, Option<PaginationInfo>) {
        (self.users, self.pagination_info)
    }
}

#[derive(Deserialize)]
struct UserAnswer {
    user: User,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct AddUserBody<'a> {
    email: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<&'a str>,
    role_types: Vec<&'a str>,
}

impl ArcaClient {
    /// `GET /v2/users/me`: the user of the caller's key, with their roles in every org.
    ///
    /// # Errors
    ///
    /// [`ClientError::Transport`](crate::ClientError::Transport),
    /// [`ClientError::Api`](crate::ClientError::Api) (401 for a bad key; 400 for a service key,
    /// which has no user) or [`ClientError::Decode`](crate::ClientError::Decode).
    pub async fn me(&self) -> Result<User> {
        let answer: UserAnswer = self.get_json("/v2/users/me").await?;
        Ok(answer.user)
    }

    /// `GET /v2/org/{org}[/team/{team}]/users` (every page): the members of an org or team.
    ///
    /// # Errors
    ///
    /// As [`ArcaClient::me`]; [`ClientError::InvalidUrl`](crate::ClientError::InvalidUrl) for
    /// an empty, `.` or `..` name.
    pub async fn list_users(&self, org: &str, team: Option<&str>) -> Result<Vec<User>> {
        self.get_all_pages::<UsersPage>(v2_users(org, team, &[])?)
            .await
    }

    /// As [`ArcaClient::list_users`], keeping only the member with this email (NGC's
    /// `q={"filters":[{"field":"email","value":…}]}` query).
    ///
    /// # Errors
    ///
    /// As [`ArcaClient::list_users`].
    pub async fn list_users_by_email(
        &self,
        org: &str,
        team: Option<&str>,
        email: &str,
    ) -> Result<Vec<User>> {
        let filter = json!({"filters": [{"field": "email", "value": email}]});
        let endpoint = v2_users(org, team, &[])?.query("q", filter);
        self.get_all_pages::<UsersPage>(endpoint).await
    }

    /// `GET /v2/org/{org}[/team/{team}]/users/{who}`: one member, by id or email.
    ///
    /// # Errors
    ///
    /// As [`ArcaClient::list_users`]; 404 when `who` is not a member there.
    pub async fn get_user(&self, org: &str, team: Option<&str>, who: &str) -> Result<User> {
        let answer: UserAnswer = self.get_json(v2_users(org, team, &[who])?).await?;
        Ok(answer.user)
    }

    /// `POST /v2/org/{org}[/team/{team}]/users` with `{"email","name","roleTypes":[…]}`: adds
    /// a user (created if the email is unknown) with `roles`.
    ///
    /// # Errors
    ///
    /// As [`ArcaClient::list_users`]; 409 when the user is already a member there (use
    /// [`ArcaClient::add_roles`]), 400 for unknown roles, 403 for roles the caller may not grant.
    pub async fn add_user<S: AsRef<str>>(
        &self,
        org: &str,
        team: Option<&str>,
        email: &str,
        name: Option<&str>,
        roles: &[S],
    ) -> Result<User> {
        let body = AddUserBody {
            email,
            name,
            role_types: roles.iter().map(AsRef::as_ref).collect(),
        };
        let answer: UserAnswer = self.post_json(v2_users(org, team, &[])?, &body).await?;
        Ok(answer.user)
    }

    /// `PATCH /v3/orgs/{org}[/teams/{team}]/users/{who}/add-role?roles=…`: adds roles (a user
    /// who is not yet a member there becomes one).
    ///
    /// # Errors
    ///
    /// As [`ArcaClient::add_user`]; 404 when no user has this id or email.
    pub async fn add_roles<S: AsRef<str>>(
        &self,
        org: &str,
        team: Option<&str>,
        who: &str,
        roles: &[S],
    ) -> Result<User> {
        let endpoint = with_roles(v3_users(org, team, &[who, "add-role"])?, roles);
        self.user_answer(Method::PATCH, endpoint).await
    }

    /// `DELETE /v3/orgs/{org}[/teams/{team}]/users/{who}/remove-role?roles=…`: removes roles;
    /// a user left with none is no longer a member there.
    ///
    /// # Errors
    ///
    /// As [`ArcaClient::add_roles`].
    pub async fn remove_roles<S: AsRef<str>>(
        &self,
        org: &str,
        team: Option<&str>,
        who: &str,
        roles: &[S],
    ) -> Result<User> {
        let endpoint = with_roles(v3_users(org, team, &[who, "remove-role"])?, roles);
        self.user_answer(Method::DELETE, endpoint).await
    }

    /// `PATCH /v2/org/{org}[/team/{team}]/users/{who}/update-role?roles=…`: replaces the
    /// user's roles there with exactly `roles`.
    ///
    /// # Errors
    ///
    /// As [`ArcaClient::add_roles`].
    pub async fn set_roles<S: AsRef<str>>(
        &self,
        org: &str,
        team: Option<&str>,
        who: &str,
        roles: &[S],
    ) -> Result<User> {
        let endpoint = with_roles(v2_users(org, team, &[who, "update-role"])?, roles);
        self.user_answer(Method::PATCH, endpoint).await
    }

    /// `DELETE /v3/orgs/{org}[/teams/{team}]/users/{who}`: removes a member from an org (which
    /// also revokes their keys for it) or from a team.
    ///
    /// # Errors
    ///
    /// As [`ArcaClient::add_roles`].
    pub async fn remove_user(&self, org: &str, team: Option<&str>, who: &str) -> Result<()> {
        self.delete(v3_users(org, team, &[who])?).await
    }

    async fn user_answer(&self, method: Method, endpoint: Endpoint) -> Result<User> {
        let answer: UserAnswer = self.send_for_json(self.request(method, endpoint)).await?;
        Ok(answer.user)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> User {
        serde_json::from_str(
            r#"{"id":7,"email":"j@example.com","name":"J","createdDate":"2025-01-01T00:00:00.000Z",
                "starfleetId":"arca-7","isActive":true,
                "roles":[
                  {"org":{"name":"acme","displayName":"Acme"},"orgRoles":["REGISTRY_READ"],"teamRoles":[]},
                  {"org":{"name":"acme","displayName":"Acme"},"team":{"name":"vision"},
                   "orgRoles":[],"teamRoles":["REGISTRY_USER","USER_ADMIN"]}]}"#,
        )
        .unwrap()
    }

    #[test]
    fn roles_by_context() {
        let u = sample();
        assert_eq!(u.id, "7");
        assert_eq!(u.org_roles("acme"), ["REGISTRY_READ"]);
        assert_eq!(
            u.team_roles("acme", "vision"),
            ["REGISTRY_USER", "USER_ADMIN"]
        );
        assert!(u.team_roles("acme", "nlp").is_empty());
        assert!(u.org_roles("other").is_empty());
        let contexts: Vec<String> = u.roles.iter().map(RoleAssignment::context).collect();
        assert_eq!(contexts, ["acme", "acme/vision"]);
        assert_eq!(u.roles[1].roles(), ["REGISTRY_USER", "USER_ADMIN"]);
    }

    #[test]
    fn minimal_user_answers_decode() {
        // What remove-role answers when the last role is gone.
        let a: UserAnswer = serde_json::from_str(r#"{"user":{"id":7,"email":"j@e.c"}}"#).unwrap();
        assert!(a.user.roles.is_empty());
        assert_eq!(a.user.name, None);
    }

    #[test]
    fn add_user_body_uses_role_types() {
        let body = AddUserBody {
            email: "j@e.c",
            name: None,
            role_types: vec!["REGISTRY_USER"],
        };
        assert_eq!(
            serde_json::to_value(&body).unwrap(),
            json!({"email": "j@e.c", "roleTypes": ["REGISTRY_USER"]})
        );
    }
}

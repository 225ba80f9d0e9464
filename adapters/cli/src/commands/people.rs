//! What `org`, `team` and `user` commands share: member lists, role changes, removals.

use anyhow::{Context as _, Result};
use arca_client::ArcaClient;

use super::confirm::confirm;
use super::render;
use crate::output::Output;

/// `org acme` or `team acme/vision`, for messages.
pub fn place(org: &str, team: Option<&str>) -> String {
    match team {
        Some(team) => format!("team {org}/{team}"),
        None => format!("org {org}"),
    }
}

/// Lists the members of an org or team, optionally only the one with `email`.
pub async fn list_users(
    client: &ArcaClient,
    out: Output,
    org: &str,
    team: Option<&str>,
    email: Option<&str>,
) -> Result<()> {
    let users = match email {
        Some(email) => client.list_users_by_email(org, team, email).await,
        None => client.list_users(org, team).await,
    }
    .with_context(|| format!("cannot list the users of {}", place(org, team)))?;
    out.table(&render::users_table(&users, org, team))?;
    Ok(())
}

/// How a role change combines with the user's current roles.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RoleChange {
    /// Add these roles.
    Add,
    /// Remove these roles.
    Remove,
    /// Replace all roles with these.
    Replace,
}

/// Adds, removes or replaces a user's roles in an org or team and shows the result.
pub async fn change_roles(
    client: &ArcaClient,
    out: Output,
    org: &str,
    team: Option<&str>,
    who: &str,
    roles: &[String],
    change: RoleChange,
) -> Result<()> {
    let here = place(org, team);
    let listed = roles.join(", ");
    let user = match change {
        RoleChange::Add => client.add_roles(org, team, who, roles).await,
        RoleChange::Remove => client.remove_roles(org, team, who, roles).await,
        RoleChange::Replace => client.set_roles(org, team, who, roles).await,
    }
    .with_context(|| format!("cannot change the roles of {who} in {here}"))?;
    let message = match change {
        RoleChange::Add => format!("Roles {listed} added to {who} in {here}."),
        RoleChange::Remove => format!("Roles {listed} removed from {who} in {here}."),
        RoleChange::Replace => format!("Roles of {who} in {here} set to {listed}."),
    };
    out.record_with_message(&message, &render::user_record(&user))?;
    Ok(())
}

/// Removes a user from an org or team, after confirmation.
pub async fn remove_user(
    client: &ArcaClient,
    out: Output,
    org: &str,
    team: Option<&str>,
    who: &str,
    yes: bool,
) -> Result<()> {
    let action = match team {
        None => format!("remove user {who} from org {org} and revoke their keys for it"),
        Some(team) => format!("remove user {who} from team {org}/{team}"),
    };
    confirm(&action, yes)?;
    client
        .remove_user(org, team, who)
        .await
        .with_context(|| format!("cannot remove {who} from {}", place(org, team)))?;
    out.message(&format!("User {who} removed from {}.", place(org, team)))?;
    Ok(())
}

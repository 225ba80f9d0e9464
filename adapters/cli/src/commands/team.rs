//! `arca team …` (guide §2.5.2.3: `ngc team add-user`, …).

use anyhow::{Context as _, Result};
use arca_client::ArcaClient;

use super::confirm::confirm;
use super::people::{self, place};
use super::{render, require_org, require_team, Context};
use crate::cli::{TeamAddUserArgs, TeamCommand};
use crate::output::Output;

/// Runs a `team` subcommand.
pub async fn run(ctx: &Context<'_>, command: &TeamCommand) -> Result<()> {
    let (settings, client) = ctx.connect()?;
    let out = Output::new(settings.format());
    let org = require_org(&settings)?;
    match command {
        TeamCommand::List => {
            let teams = client
                .list_teams(org)
                .await
                .with_context(|| format!("cannot list the teams of org {org}"))?;
            out.table(&render::teams_table(&teams))?;
        }
        TeamCommand::Info(args) => {
            let team = match &args.team {
                Some(team) => team.as_str(),
                None => require_team(&settings)?,
            };
            let found = client
                .get_team(org, team)
                .await
                .with_context(|| format!("cannot show team {org}/{team}"))?;
            out.record(&render::team_record(&found))?;
        }
        TeamCommand::AddUser(args) => {
            let team = require_team(&settings)?;
            add_user(&client, out, org, team, args).await?;
        }
        TeamCommand::RemoveUser(args) => {
            let team = require_team(&settings)?;
            people::remove_user(&client, out, org, Some(team), &args.who, args.yes).await?;
        }
        TeamCommand::ListUsers(args) => {
            let team = require_team(&settings)?;
            people::list_users(&client, out, org, Some(team), args.email.as_deref()).await?;
        }
        TeamCommand::Update(args) => {
            let team = require_team(&settings)?;
            let updated = client
                .update_team(org, team, &args.description)
                .await
                .with_context(|| format!("cannot update team {org}/{team}"))?;
            out.record_with_message("Team updated.", &render::team_record(&updated))?;
        }
        TeamCommand::Remove(args) => {
            let team = args.team.as_str();
            confirm(&format!("delete team {org}/{team}"), args.yes)?;
            client
                .delete_team(org, team)
                .await
                .with_context(|| format!("cannot delete team {org}/{team}"))?;
            out.message(&format!("Team {org}/{team} removed."))?;
        }
    }
    Ok(())
}

/// `team add-user`: an existing user gets the roles (`add-role`, which also makes them a
/// member); an email the server does not know is added as a new user (`POST …/users`).
async fn add_user(
    client: &ArcaClient,
    out: Output,
    org: &str,
    team: &str,
    args: &TeamAddUserArgs,
) -> Result<()> {
    let here = place(org, Some(team));
    let who = args.who.as_str();
    let user = match client.add_roles(org, Some(team), who, &args.roles).await {
        Ok(user) => user,
        Err(e) if e.is_not_found() && who.contains('@') => client
            .add_user(org, Some(team), who, args.name.as_deref(), &args.roles)
            .await
            .with_context(|| format!("cannot add {who} to {here}"))?,
        Err(e) => return Err(anyhow::Error::from(e).context(format!("cannot add {who} to {here}"))),
    };
    let message = format!(
        "User {who} added to {here} with roles {}.",
        args.roles.join(", ")
    );
    out.record_with_message(&message, &render::user_record(&user))?;
    Ok(())
}

//! `arca org …` (guide §2.5.2: `ngc org add-user`, `ngc org add-team`, …).

use anyhow::{Context as _, Result};

use super::people::{self, place, RoleChange};
use super::{render, require_org, Context};
use crate::cli::OrgCommand;
use crate::output::Output;

/// Runs an `org` subcommand.
pub async fn run(ctx: &Context<'_>, command: &OrgCommand) -> Result<()> {
    let (settings, client) = ctx.connect()?;
    let out = Output::new(settings.format());
    match command {
        OrgCommand::List => {
            let orgs = client.list_orgs().await.context("cannot list orgs")?;
            out.table(&render::orgs_table(&orgs))?;
        }
        OrgCommand::Info(args) => {
            let org = match &args.org {
                Some(org) => org.as_str(),
                None => require_org(&settings)?,
            };
            let found = client
                .get_org(org)
                .await
                .with_context(|| format!("cannot show org {org}"))?;
            out.record(&render::org_record(&found))?;
        }
        OrgCommand::ListUsers(args) => {
            let org = require_org(&settings)?;
            people::list_users(&client, out, org, None, args.email.as_deref()).await?;
        }
        OrgCommand::AddUser(args) => {
            let org = require_org(&settings)?;
            // As `ngc org add-user`: the current team, if any, is where the user goes.
            let team = settings.team();
            let here = place(org, team);
            let user = client
                .add_user(org, team, &args.email, args.name.as_deref(), &args.roles)
                .await
                .with_context(|| format!("cannot add {} to {here}", args.email))?;
            let message = format!(
                "User {} added to {here} with roles {}.",
                args.email,
                args.roles.join(", ")
            );
            out.record_with_message(&message, &render::user_record(&user))?;
        }
        OrgCommand::RemoveUser(args) => {
            let org = require_org(&settings)?;
            people::remove_user(&client, out, org, None, &args.who, args.yes).await?;
        }
        OrgCommand::AddTeam(args) => {
            let org = require_org(&settings)?;
            let team = client
                .create_team(org, &args.name, args.description.as_deref())
                .await
                .with_context(|| format!("cannot create team {} in org {org}", args.name))?;
            out.record_with_message("Team created.", &render::team_record(&team))?;
        }
        OrgCommand::ListTeams => {
            let org = require_org(&settings)?;
            let teams = client
                .list_teams(org)
                .await
                .with_context(|| format!("cannot list the teams of org {org}"))?;
            out.table(&render::teams_table(&teams))?;
        }
        OrgCommand::UpdateUser(args) => {
            let org = require_org(&settings)?;
            people::change_roles(
                &client,
                out,
                org,
                None,
                &args.who,
                &args.roles,
                RoleChange::Replace,
            )
            .await?;
        }
    }
    Ok(())
}

//! `arca user …` (`ngc user who`, `ngc user info`, role changes).

use anyhow::{Context as _, Result};

use super::people::{self, place, RoleChange};
use super::{render, require_org, Context};
use crate::cli::{UserCommand, UserInfoArgs};
use crate::output::Output;

/// Runs a `user` subcommand.
pub async fn run(ctx: &Context<'_>, command: &UserCommand) -> Result<()> {
    let (settings, client) = ctx.connect()?;
    let out = Output::new(settings.format());
    let (who, roles, change) = match command {
        UserCommand::Info(UserInfoArgs { who: Some(who) }) => {
            let org = require_org(&settings)?;
            let team = settings.team();
            let user = client
                .get_user(org, team, who)
                .await
                .with_context(|| format!("cannot show user {who} in {}", place(org, team)))?;
            out.record(&render::user_record(&user))?;
            return Ok(());
        }
        UserCommand::Info(_) | UserCommand::Who => {
            let me = client
                .me()
                .await
                .context("cannot show the user of this API key")?;
            out.record(&render::user_record(&me))?;
            return Ok(());
        }
        UserCommand::UpdateRoles(args) => (&args.who, &args.roles, RoleChange::Replace),
        UserCommand::AddRole(args) => (&args.who, &args.roles, RoleChange::Add),
        UserCommand::RemoveRole(args) => (&args.who, &args.roles, RoleChange::Remove),
    };
    let org = require_org(&settings)?;
    people::change_roles(&client, out, org, settings.team(), who, roles, change).await
}

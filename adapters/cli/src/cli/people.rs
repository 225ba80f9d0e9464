//! `arca org …`, `arca team …`, `arca user …`: NGC's user and team management (guide §2.5.2).

use clap::{Args, Subcommand};

use super::values;

const ROLES_HELP: &str = "\
Roles: ORG_OWNER (org level only), REGISTRY_ADMIN, REGISTRY_USER, REGISTRY_READ, USER_ADMIN,
USER_READ. NGC's legacy names (REGISTRY_WRITE_USER_ROLE, …) are accepted.";

/// `arca org …`: the current org (--org, ARCA_ORG or the config file).
#[derive(Debug, Subcommand)]
pub enum OrgCommand {
    /// List the orgs your API key works in
    List,
    /// Show an org's details (default: the current org)
    Info(OrgInfoArgs),
    /// List the users of the current org
    ListUsers(ListUsersArgs),
    /// Add a user to the current org, or to the current team (--team) of it
    #[command(after_help = ROLES_HELP, long_about = ORG_ADD_USER_LONG_ABOUT)]
    AddUser(AddUserArgs),
    /// Remove a user from the current org (their keys for it are revoked)
    RemoveUser(RemoveUserArgs),
    /// Create a team in the current org
    AddTeam(AddTeamArgs),
    /// List the teams of the current org
    ListTeams,
    /// Replace a user's org-level roles
    #[command(after_help = ROLES_HELP)]
    UpdateUser(RolesArgs),
}

const ORG_ADD_USER_LONG_ABOUT: &str = "\
Add a user to the current org, with at least one role. A user unknown to the server is
created. With a team (--team, ARCA_TEAM or the config file, as in `ngc org add-user`), the
user is added to that team of the org instead; `--team no-team` adds at org level.";

/// `arca team …`: the current team (--team, ARCA_TEAM or the config file) of the current org.
#[derive(Debug, Subcommand)]
pub enum TeamCommand {
    /// List the teams of the current org
    List,
    /// Show a team's details (default: the current team)
    Info(TeamInfoArgs),
    /// Give a user roles on the current team, adding them to it (and creating an unknown email)
    #[command(after_help = ROLES_HELP)]
    AddUser(TeamAddUserArgs),
    /// Remove a user from the current team
    RemoveUser(RemoveUserArgs),
    /// List the users of the current team
    ListUsers(ListUsersArgs),
    /// Change the current team's description
    Update(TeamUpdateArgs),
    /// Delete a team of the current org
    Remove(TeamRemoveArgs),
}

/// `arca user …`.
#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Show a user of the current org (or team) with their roles; without argument, yourself
    Info(UserInfoArgs),
    /// Show the user of your API key with their roles in every org and team
    Who,
    /// Replace a user's roles in the current org, or the current team with --team
    #[command(after_help = ROLES_HELP)]
    UpdateRoles(RolesArgs),
    /// Add roles to a user in the current org, or the current team with --team
    #[command(after_help = ROLES_HELP)]
    AddRole(RolesArgs),
    /// Remove roles from a user in the current org, or the current team with --team
    #[command(after_help = ROLES_HELP)]
    RemoveRole(RolesArgs),
}

/// `arca org info [ORG]`.
#[derive(Debug, Args)]
pub struct OrgInfoArgs {
    /// The org (default: the current org)
    #[arg(value_parser = values::org_name)]
    pub org: Option<String>,
}

/// `arca team info [TEAM]`.
#[derive(Debug, Args)]
pub struct TeamInfoArgs {
    /// The team (default: the current team)
    #[arg(value_parser = values::team_name)]
    pub team: Option<String>,
}

/// `… list-users [--email E]`.
#[derive(Debug, Args)]
pub struct ListUsersArgs {
    /// Only the user with this email
    #[arg(long, value_name = "EMAIL", value_parser = values::email)]
    pub email: Option<String>,
}

/// `arca org add-user <email> [<name>] --role R …`.
#[derive(Debug, Args)]
pub struct AddUserArgs {
    /// The user's email
    #[arg(value_parser = values::email)]
    pub email: String,
    /// The user's display name (for a new user)
    pub name: Option<String>,
    /// A role to grant (repeat the flag or separate with commas)
    #[arg(
        long = "role",
        value_name = "ROLE",
        required = true,
        value_delimiter = ',',
        value_parser = values::role
    )]
    pub roles: Vec<String>,
}

/// `arca team add-user <email|id> [<name>] --role R …`.
#[derive(Debug, Args)]
pub struct TeamAddUserArgs {
    /// The user: an email (a new one is created) or the id of an existing user
    #[arg(value_name = "EMAIL|ID", value_parser = values::user_ref)]
    pub who: String,
    /// The user's display name (for a new user)
    pub name: Option<String>,
    /// A role to grant (repeat the flag or separate with commas)
    #[arg(
        long = "role",
        value_name = "ROLE",
        required = true,
        value_delimiter = ',',
        value_parser = values::role
    )]
    pub roles: Vec<String>,
}

/// `… remove-user <id|email> [-y]`.
#[derive(Debug, Args)]
pub struct RemoveUserArgs {
    /// The user: id or email
    #[arg(value_name = "ID|EMAIL", value_parser = values::user_ref)]
    pub who: String,
    /// Do not ask for confirmation
    #[arg(short = 'y', long = "yes")]
    pub yes: bool,
}

/// `… <id|email> --role R …` (update-user, update-roles, add-role, remove-role).
#[derive(Debug, Args)]
pub struct RolesArgs {
    /// The user: id or email
    #[arg(value_name = "ID|EMAIL", value_parser = values::user_ref)]
    pub who: String,
    /// A role (repeat the flag or separate with commas)
    #[arg(
        long = "role",
        value_name = "ROLE",
        required = true,
        value_delimiter = ',',
        value_parser = values::role
    )]
    pub roles: Vec<String>,
}

/// `arca org add-team <name> [<description>]`.
#[derive(Debug, Args)]
pub struct AddTeamArgs {
    /// The team's name: lowercase letters, digits, '-' and '_'
    #[arg(value_parser = values::team_name)]
    pub name: String,
    /// A description
    pub description: Option<String>,
}

/// `arca team update <description>`.
#[derive(Debug, Args)]
pub struct TeamUpdateArgs {
    /// The new description
    pub description: String,
}

/// `arca team remove <team> [-y]`.
#[derive(Debug, Args)]
pub struct TeamRemoveArgs {
    /// The team to delete (always named explicitly)
    #[arg(value_parser = values::team_name)]
    pub team: String,
    /// Do not ask for confirmation
    #[arg(short = 'y', long = "yes")]
    pub yes: bool,
}

/// `arca user info [<id|email>]`.
#[derive(Debug, Args)]
pub struct UserInfoArgs {
    /// The user: id or email (default: yourself, as `arca user who`)
    #[arg(value_name = "ID|EMAIL", value_parser = values::user_ref)]
    pub who: Option<String>,
}

//! Command-line syntax (clap derive).

pub mod charts;
pub mod images;
pub mod keys;
pub mod models;
pub mod people;
pub mod values;

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::output::Format;

pub use keys::{KeyCommand, KeyCreateArgs};
pub use people::{OrgCommand, TeamAddUserArgs, TeamCommand, UserCommand, UserInfoArgs};

const LONG_ABOUT: &str = "\
Command-line client of an Arca server, the self-hosted private registry for AI artifacts \
(containers, models, resources, Helm charts). Its commands and flags follow NVIDIA's `ngc` CLI.";

const AFTER_LONG_HELP: &str = "\
Configuration:
  Each setting comes from, in order of precedence: a flag, an environment variable,
  the config file, the default. `arca config current` shows each value and its source.
    --org          ARCA_ORG          org         (--org no-org clears it)
    --team         ARCA_TEAM         team        (--team no-team clears it)
    --format_type  ARCA_FORMAT_TYPE  format_type (default ascii)
    --url          ARCA_URL          url         (default http://127.0.0.1:5000)
    --ca-file      ARCA_CA_FILE      ca_file
                   ARCA_API_KEY      api_key
  The config file is <config dir>/arca/config.toml (mode 0600), where <config dir> is
  $ARCA_CONFIG_DIR if set, else the platform's (~/.config on Linux).

Exit status:
  0  success
  1  usage or configuration error (bad flag or value, unreadable config file)
  2  the server could not be reached or answered with an error

Commands that need an org (or a team) take it from --org (--team), ARCA_ORG (ARCA_TEAM) or
the config file, and fail with exit status 1 when there is none. Commands that delete or
revoke something ask for confirmation; pass -y when stdin is not a terminal.";

/// The `arca` command line.
#[derive(Debug, Parser)]
#[command(
    name = "arca",
    version,
    about = "Command-line client of an Arca server (private registry for AI artifacts)",
    long_about = LONG_ABOUT,
    after_long_help = AFTER_LONG_HELP,
    arg_required_else_help = true,
    propagate_version = true
)]
pub struct Cli {
    /// Flags accepted by every command.
    #[command(flatten)]
    pub global: GlobalArgs,
    /// The command to run.
    #[command(subcommand)]
    pub command: Command,
}

/// Flags accepted by every command.
#[derive(Debug, Clone, Default, Args)]
pub struct GlobalArgs {
    /// Org context for this call; "no-org" means none [env: ARCA_ORG]
    #[arg(long, global = true, value_name = "ORG")]
    pub org: Option<String>,

    /// Team context for this call; "no-team" means none [env: ARCA_TEAM]
    #[arg(long, global = true, value_name = "TEAM")]
    pub team: Option<String>,

    /// Output format [env: ARCA_FORMAT_TYPE] [default: ascii]
    #[arg(
        long = "format_type",
        visible_alias = "format-type",
        global = true,
        value_name = "FORMAT",
        value_enum
    )]
    pub format_type: Option<Format>,

    /// Log each HTTP request (method, URL, status) to stderr
    #[arg(long, global = true)]
    pub debug: bool,

    /// Server base URL [env: ARCA_URL] [default: http://127.0.0.1:5000]
    #[arg(long, global = true, value_name = "URL")]
    pub url: Option<String>,

    /// Extra root CA certificate(s) to trust, PEM [env: ARCA_CA_FILE]
    #[arg(long = "ca-file", global = true, value_name = "PEM")]
    pub ca_file: Option<PathBuf>,
}

/// Top-level commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Show or change the CLI configuration
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Check that the server is up (GET /healthz)
    Health,
    /// Orgs: details, users and teams of the current org
    #[command(subcommand)]
    Org(OrgCommand),
    /// Teams: details and users of the current team
    #[command(subcommand)]
    Team(TeamCommand),
    /// Users: who you are, a user's roles, changing roles
    #[command(subcommand)]
    User(UserCommand),
    /// API keys: create, list, rotate, (de)activate, delete
    #[command(subcommand)]
    Key(KeyCommand),
    /// Registry artifacts: container images (list, info, update, remove, push, pull)
    #[command(subcommand)]
    Registry(images::RegistryCommand),
}

/// `arca config …`
#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Save settings to the config file
    #[command(long_about = CONFIG_SET_LONG_ABOUT)]
    Set(ConfigSetArgs),
    /// Show the effective configuration and where each value comes from
    Current,
    /// Remove the config file
    Clear,
}

const CONFIG_SET_LONG_ABOUT: &str = "\
Save settings to the config file.

With flags, saves exactly the values given: --api-key, --org, --team, --format_type, --url,
--ca-file (an empty value, `--org no-org` or `--team no-team` removes that setting).

Without flags, asks in turn for the API key, the format type, the org and the team; Enter
keeps the current value. When stdin is not a terminal, the four answers are read as lines:
    printf 'KEY\\nascii\\nmy-org\\nno-team\\n' | arca config set
An empty line keeps the current value.

Environment variables are not saved: they only override the file when other commands run.";

/// Arguments of `arca config set` (the other values come from the global flags).
#[derive(Debug, Args)]
pub struct ConfigSetArgs {
    /// API key to save. Other users may see command-line arguments; prefer the prompt or stdin
    #[arg(long = "api-key", value_name = "KEY")]
    pub api_key: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn command_definition_is_valid() {
        Cli::command().debug_assert();
    }

    #[test]
    fn format_type_accepts_both_spellings_and_global_position() {
        let cli = Cli::try_parse_from(["arca", "--format_type", "json", "health"]).unwrap();
        assert_eq!(cli.global.format_type, Some(Format::Json));
        let cli =
            Cli::try_parse_from(["arca", "config", "current", "--format-type", "csv"]).unwrap();
        assert_eq!(cli.global.format_type, Some(Format::Csv));
        assert!(Cli::try_parse_from(["arca", "health", "--format_type", "yaml"]).is_err());
    }

    fn parse(argv: &[&str]) -> Cli {
        Cli::try_parse_from(argv).unwrap_or_else(|e| panic!("{argv:?}: {e}"))
    }

    #[test]
    fn org_add_user_takes_roles_and_the_global_team() {
        let cli = parse(&[
            "arca",
            "org",
            "add-user",
            "jsmith@example.com",
            "John Smith",
            "--role",
            "registry_user",
            "--role",
            "REGISTRY_WRITE_TEAM_ADMIN_ROLE",
            "--team",
            "team-a",
        ]);
        assert_eq!(cli.global.team.as_deref(), Some("team-a"));
        match cli.command {
            Command::Org(OrgCommand::AddUser(args)) => {
                assert_eq!(args.email, "jsmith@example.com");
                assert_eq!(args.name.as_deref(), Some("John Smith"));
                assert_eq!(args.roles, ["REGISTRY_USER", "USER_ADMIN"]);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn roles_may_be_comma_separated() {
        match parse(&[
            "arca",
            "team",
            "add-user",
            "42",
            "--role",
            "REGISTRY_READ,user_read",
        ])
        .command
        {
            Command::Team(TeamCommand::AddUser(args)) => {
                assert_eq!(args.who, "42");
                assert_eq!(args.name, None);
                assert_eq!(args.roles, ["REGISTRY_READ", "USER_READ"]);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn people_commands_parse() {
        match parse(&["arca", "team", "remove", "vision", "-y"]).command {
            Command::Team(TeamCommand::Remove(args)) => assert!(args.yes && args.team == "vision"),
            other => panic!("{other:?}"),
        }
        match parse(&["arca", "user", "info"]).command {
            Command::User(UserCommand::Info(args)) => assert_eq!(args.who, None),
            other => panic!("{other:?}"),
        }
        match parse(&["arca", "org", "list-users", "--email", "a@b.c"]).command {
            Command::Org(OrgCommand::ListUsers(args)) => {
                assert_eq!(args.email.as_deref(), Some("a@b.c"))
            }
            other => panic!("{other:?}"),
        }
        match parse(&[
            "arca",
            "user",
            "update-roles",
            "a@b.c",
            "--role",
            "USER_ADMIN",
        ])
        .command
        {
            Command::User(UserCommand::UpdateRoles(args)) => assert_eq!(args.roles, ["USER_ADMIN"]),
            other => panic!("{other:?}"),
        }
        match parse(&["arca", "org", "remove-user", "7"]).command {
            Command::Org(OrgCommand::RemoveUser(args)) => assert!(!args.yes),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn bad_people_arguments_are_usage_errors() {
        let bad: &[&[&str]] = &[
            &["arca", "org", "add-user", "jsmith@example.com"],
            &[
                "arca",
                "org",
                "add-user",
                "jsmith",
                "--role",
                "REGISTRY_READ",
            ],
            &["arca", "org", "add-user", "j@e.c", "--role", "SUPERUSER"],
            &["arca", "org", "add-team", "Team_A"],
            &["arca", "org", "info", "Acme"],
            &["arca", "team", "remove"],
            &["arca", "team", "remove-user", ""],
            &["arca", "user", "update-roles", "7"],
            &["arca", "key", "list", "--all", "--service"],
            &["arca", "key", "delete", "a/b"],
        ];
        for argv in bad {
            assert!(Cli::try_parse_from(*argv).is_err(), "{argv:?}");
        }
    }

    #[test]
    fn config_set_takes_global_values() {
        let cli = Cli::try_parse_from([
            "arca",
            "config",
            "set",
            "--api-key",
            "k",
            "--org",
            "acme",
            "--team",
            "no-team",
        ])
        .unwrap();
        assert_eq!(cli.global.org.as_deref(), Some("acme"));
        assert_eq!(cli.global.team.as_deref(), Some("no-team"));
        match cli.command {
            Command::Config(ConfigCommand::Set(args)) => {
                assert_eq!(args.api_key.as_deref(), Some("k"))
            }
            other => panic!("{other:?}"),
        }
    }
}

//! `arca key …`: personal, service and legacy API keys (guide §2.3, R-KEY).

use clap::{Args, Subcommand};

use super::values;

const KEY_CREATE_LONG_ABOUT: &str = "\
Create an API key of the org your current key works in, and print its secret once.

  arca key create ci --expiry 30d --service PRIVATE_REGISTRY         personal key (default)
  arca key create pull --service-key --scope DOWNLOAD_CONTAINER \\
      --entity-type SPECIFIC_CONTAINER --entity-value acme/web       service key of the org
  arca key create --legacy                                           legacy key (replaces yours)

Expiry: 1h, 12h, 24h, 7d, 14d, 30d, 3mo, 6mo, 12mo (default), never, or an RFC 3339 instant.
Services (personal keys): PRIVATE_REGISTRY, USER_MANAGEMENT; default: those your roles allow.
Scopes (service keys): ALL, GET_CONTAINER, LIST_CONTAINERS, CREATE_CONTAINER, UPDATE_CONTAINER,
  DELETE_CONTAINER, DOWNLOAD_CONTAINER, UPLOAD_CONTAINER, GET_ARTIFACT, LIST_ARTIFACTS,
  CREATE_ARTIFACT, UPDATE_ARTIFACT, DOWNLOAD_ARTIFACT, UPLOAD_ARTIFACT, DELETE_ARTIFACT.
Entity types (service keys): ALL_ENTITIES (default), ALL_CONTAINERS, ALL_MODELS,
  ALL_HELM_CHARTS, ALL_RESOURCES, and SPECIFIC_CONTAINER, SPECIFIC_MODEL, SPECIFIC_HELM_CHART,
  SPECIFIC_RESOURCE with --entity-value org/name or org/team/name.

The secret is printed once, on stdout (the `api_key` field in csv and json), and never logged.";

/// `arca key …`.
#[derive(Debug, Subcommand)]
pub enum KeyCommand {
    /// Create a personal key (default), a service key or your legacy key; prints the secret once
    #[command(long_about = KEY_CREATE_LONG_ABOUT)]
    Create(KeyCreateArgs),
    /// List your keys, the org's service keys (--service) or every key of the org (--all)
    List(KeyListArgs),
    /// Give a key a new secret (printed once); the old secret stops working at once
    Rotate(KeyConfirmArgs),
    /// Reactivate a deactivated key
    Activate(KeyIdArgs),
    /// Deactivate a key (it can be reactivated)
    Deactivate(KeyIdArgs),
    /// Delete a key
    Delete(KeyConfirmArgs),
}

/// `arca key create …`.
#[derive(Debug, Args)]
pub struct KeyCreateArgs {
    /// The key's name (unique among your keys, or among the org's service keys)
    #[arg(required_unless_present = "legacy")]
    pub name: Option<String>,

    /// When the key expires
    #[arg(long, value_name = "EXPIRY", default_value = "12mo", value_parser = values::expiry)]
    pub expiry: String,

    /// Personal key: a service it may use (repeat or separate with commas)
    #[arg(
        long = "service",
        value_name = "SERVICE",
        value_delimiter = ',',
        value_parser = values::service,
        conflicts_with = "service_key"
    )]
    pub services: Vec<String>,

    /// Create a service key of the org (org owners and org-level user admins)
    #[arg(long = "service-key")]
    pub service_key: bool,

    /// Service key: a scope (repeat or separate with commas; at least one)
    #[arg(
        long = "scope",
        value_name = "SCOPE",
        value_delimiter = ',',
        value_parser = values::scope,
        requires = "service_key",
        required_if_eq("service_key", "true")
    )]
    pub scopes: Vec<String>,

    /// Service key: the entity type [default: ALL_ENTITIES]
    #[arg(
        long = "entity-type",
        value_name = "TYPE",
        value_parser = values::entity_type,
        requires = "service_key"
    )]
    pub entity_type: Option<String>,

    /// Service key: the artifact of a SPECIFIC_* entity type (org/name or org/team/name)
    #[arg(long = "entity-value", value_name = "PATH", requires = "entity_type")]
    pub entity_value: Option<String>,

    /// Generate your legacy key instead; your previous legacy key stops working at once
    #[arg(
        long,
        conflicts_with_all = ["name", "expiry", "services", "service_key", "scopes", "entity_type", "entity_value"]
    )]
    pub legacy: bool,
}

/// `arca key list [--all | --service]`.
#[derive(Debug, Args)]
pub struct KeyListArgs {
    /// Every key of the org (org owners and org-level user admins)
    #[arg(long, conflicts_with = "service")]
    pub all: bool,
    /// The org's service keys (org owners and org-level user admins)
    #[arg(long)]
    pub service: bool,
}

/// `arca key activate|deactivate <id>`.
#[derive(Debug, Args)]
pub struct KeyIdArgs {
    /// The key's id, as `arca key list` shows it
    #[arg(value_parser = values::key_id)]
    pub id: String,
}

/// `arca key rotate|delete <id> [-y]`.
#[derive(Debug, Args)]
pub struct KeyConfirmArgs {
    /// The key's id, as `arca key list` shows it
    #[arg(value_parser = values::key_id)]
    pub id: String,
    /// Do not ask for confirmation
    #[arg(short = 'y', long = "yes")]
    pub yes: bool,
}

//! `arca key …`: personal, service and legacy API keys (R-KEY).
//!
//! A new or rotated key's secret is printed exactly once, on stdout: in ascii after the key's
//! details under a clear notice, in csv and json as the `api_key` field. It never goes to
//! stderr, and `--debug` logs only methods, URLs and statuses.

use anyhow::{anyhow, Context as _, Result};
use arca_auth::{EntityFilter, EntityType};
use arca_client::{CreatedKey, KeyListing, PersonalKeyRequest, ServiceKeyRequest};

use super::confirm::confirm;
use super::{render, Context};
use crate::cli::{KeyCommand, KeyCreateArgs};
use crate::output::{Format, Output};

/// The line above the secret in ascii output.
pub const SECRET_NOTICE: &str =
    "API key secret (shown only this once; store it now, it cannot be displayed again):";

/// Runs a `key` subcommand.
pub async fn run(ctx: &Context<'_>, command: &KeyCommand) -> Result<()> {
    let (settings, client) = ctx.connect()?;
    let out = Output::new(settings.format());
    match command {
        KeyCommand::Create(args) => {
            let (created, message) = if args.legacy {
                let created = client
                    .generate_legacy_key()
                    .await
                    .context("cannot generate a legacy key")?;
                (
                    created,
                    "Legacy key created; your previous legacy key no longer works.".to_string(),
                )
            } else if args.service_key {
                let request = service_request(args)?;
                let created = client
                    .create_service_key(&request)
                    .await
                    .with_context(|| format!("cannot create service key {:?}", request.name))?;
                let message = format!("Service key {:?} created.", created.key.name);
                (created, message)
            } else {
                let request = personal_request(args)?;
                let created = client
                    .create_personal_key(&request)
                    .await
                    .with_context(|| format!("cannot create personal key {:?}", request.name))?;
                let message = format!("Personal key {:?} created.", created.key.name);
                (created, message)
            };
            print_created(out, &message, &created)?;
        }
        KeyCommand::List(args) => {
            let listing = if args.all {
                KeyListing::All
            } else if args.service {
                KeyListing::Service
            } else {
                KeyListing::Mine
            };
            let keys = client
                .list_keys(listing)
                .await
                .context("cannot list keys")?;
            out.table(&render::keys_table(&keys))?;
        }
        KeyCommand::Rotate(args) => {
            let id = args.id.as_str();
            confirm(
                &format!("rotate key {id} (its current secret stops working at once)"),
                args.yes,
            )?;
            let created = client
                .rotate_key(id)
                .await
                .with_context(|| format!("cannot rotate key {id}"))?;
            let message = format!("Key {id} rotated; the old secret no longer works.");
            print_created(out, &message, &created)?;
        }
        KeyCommand::Activate(args) | KeyCommand::Deactivate(args) => {
            let active = matches!(command, KeyCommand::Activate(_));
            let verb = if active { "activated" } else { "deactivated" };
            let key = client
                .set_key_active(&args.id, active)
                .await
                .with_context(|| format!("cannot change key {}", args.id))?;
            out.record_with_message(
                &format!("Key {} {verb}.", args.id),
                &render::key_record(&key),
            )?;
        }
        KeyCommand::Delete(args) => {
            let id = args.id.as_str();
            confirm(&format!("delete key {id}"), args.yes)?;
            client
                .delete_key(id)
                .await
                .with_context(|| format!("cannot delete key {id}"))?;
            out.message(&format!("Key {id} deleted."))?;
        }
    }
    Ok(())
}

fn key_name(args: &KeyCreateArgs) -> Result<&str> {
    args.name
        .as_deref()
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .ok_or_else(|| anyhow!("give the key a name: arca key create <name>"))
}

/// The body of a personal key from the arguments.
fn personal_request(args: &KeyCreateArgs) -> Result<PersonalKeyRequest> {
    let mut request = PersonalKeyRequest::new(key_name(args)?).expiry(args.expiry.as_str());
    for service in &args.services {
        request = request.service(service.as_str());
    }
    Ok(request)
}

/// The body of a service key from the arguments; the entity type and value are checked
/// together (a SPECIFIC_* type needs a value, the ALL_* types take none).
fn service_request(args: &KeyCreateArgs) -> Result<ServiceKeyRequest> {
    let mut request = ServiceKeyRequest::new(key_name(args)?, args.scopes.iter().cloned())
        .expiry(args.expiry.as_str());
    if let Some(entity_type) = &args.entity_type {
        let parsed: EntityType = entity_type.parse().map_err(|e| anyhow!("{e}"))?;
        EntityFilter::new(parsed, args.entity_value.clone()).map_err(|e| anyhow!("{e}"))?;
        request = request.entity(entity_type.as_str(), args.entity_value.clone());
    }
    Ok(request)
}

/// The text printed for a new or rotated key: the secret appears exactly once.
pub fn render_created(out: Output, message: &str, created: &CreatedKey) -> Result<String> {
    let record = render::key_record(&created.key);
    let secret = created.secret.expose_secret();
    Ok(match out.format() {
        Format::Ascii => format!(
            "{}{SECRET_NOTICE}\n{secret}\n",
            out.render_record_with_message(message, &record)?
        ),
        Format::Csv | Format::Json => out.render_record(&record.field("api_key", secret))?,
    })
}

fn print_created(out: Output, message: &str, created: &CreatedKey) -> Result<()> {
    out.print(&render_created(out, message, created)?)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::{Cli, Command};
    use clap::Parser;
    use serde_json::{json, Value};

    fn create_args(argv: &[&str]) -> KeyCreateArgs {
        let cli = Cli::try_parse_from(argv).unwrap();
        match cli.command {
            Command::Key(KeyCommand::Create(args)) => args,
            other => panic!("{other:?}"),
        }
    }

    fn created() -> CreatedKey {
        serde_json::from_value(json!({
            "key": {"id": "k1", "name": "ci", "type": "PERSONAL_KEY", "active": true},
            "apiKey": "arca_pk_the-secret-1234"
        }))
        .unwrap()
    }

    #[test]
    fn secret_appears_once_in_every_format() {
        for format in Format::ALL {
            let text = render_created(Output::new(format), "Created.", &created()).unwrap();
            assert_eq!(text.matches("arca_pk_the-secret-1234").count(), 1, "{text}");
        }
        let ascii = render_created(Output::new(Format::Ascii), "Created.", &created()).unwrap();
        assert!(
            ascii.ends_with(&format!("{SECRET_NOTICE}\narca_pk_the-secret-1234\n")),
            "{ascii}"
        );
        let json = render_created(Output::new(Format::Json), "Created.", &created()).unwrap();
        let value: Value = serde_json::from_str(&json).unwrap();
        assert_eq!(value["api_key"], "arca_pk_the-secret-1234");
        assert_eq!(value["id"], "k1");
    }

    #[test]
    fn personal_request_from_arguments() {
        let args = create_args(&[
            "arca",
            "key",
            "create",
            "ci",
            "--service",
            "private_registry",
            "--expiry",
            "30D",
        ]);
        let body = serde_json::to_value(personal_request(&args).unwrap()).unwrap();
        assert_eq!(
            body,
            json!({"name": "ci", "expiry": "30d", "services": ["PRIVATE_REGISTRY"]})
        );
        let args = create_args(&["arca", "key", "create", "ci"]);
        let body = serde_json::to_value(personal_request(&args).unwrap()).unwrap();
        assert_eq!(
            body,
            json!({"name": "ci", "expiry": "12mo", "services": []})
        );
    }

    #[test]
    fn service_request_checks_the_entity() {
        let args = create_args(&[
            "arca",
            "key",
            "create",
            "pull",
            "--service-key",
            "--scope",
            "download_container,LIST_CONTAINERS",
            "--entity-type",
            "specific_container",
            "--entity-value",
            "acme/web",
        ]);
        let body = serde_json::to_value(service_request(&args).unwrap()).unwrap();
        assert_eq!(
            body,
            json!({"name": "pull", "expiry": "12mo",
                   "scopes": ["DOWNLOAD_CONTAINER", "LIST_CONTAINERS"],
                   "entityType": "SPECIFIC_CONTAINER", "entityValue": "acme/web"})
        );
        let args = create_args(&[
            "arca",
            "key",
            "create",
            "pull",
            "--service-key",
            "--scope",
            "ALL",
            "--entity-type",
            "SPECIFIC_MODEL",
        ]);
        assert!(service_request(&args).is_err());
    }

    #[test]
    fn create_flag_combinations() {
        let bad: &[&[&str]] = &[
            &["arca", "key", "create"],
            &["arca", "key", "create", "x", "--service-key"],
            &["arca", "key", "create", "x", "--scope", "ALL"],
            &[
                "arca",
                "key",
                "create",
                "x",
                "--service-key",
                "--scope",
                "ALL",
                "--service",
                "PRIVATE_REGISTRY",
            ],
            &["arca", "key", "create", "x", "--legacy"],
            &["arca", "key", "create", "--legacy", "--expiry", "1h"],
            &["arca", "key", "create", "x", "--expiry", "soon"],
            &[
                "arca",
                "key",
                "create",
                "x",
                "--service-key",
                "--scope",
                "PULL",
            ],
            &[
                "arca",
                "key",
                "create",
                "x",
                "--service-key",
                "--scope",
                "ALL",
                "--entity-value",
                "a/b",
            ],
        ];
        for argv in bad {
            assert!(Cli::try_parse_from(*argv).is_err(), "{argv:?}");
        }
        assert!(create_args(&["arca", "key", "create", "--legacy"]).legacy);
    }
}

//! `arca registry image list|info|update|remove` (guide §3.5); push and pull are in
//! [`super::transfer`].

use anyhow::{anyhow, bail, Context as _, Result};
use arca_client::{Image, RepoUpdate, Repository};
use serde_json::Value;

use super::confirm::confirm;
use super::{require_org, transfer, Context};
use crate::cli::images::{ImageCommand, ImageUpdateArgs};
use crate::image_ref::{self, glob_match, ImageRef};
use crate::output::{Format, Output, Record, Table};

/// Runs an `image` subcommand.
pub async fn run(ctx: &Context<'_>, command: &ImageCommand) -> Result<()> {
    match command {
        ImageCommand::Push(args) => return transfer::push(ctx, args).await,
        ImageCommand::Pull(args) => return transfer::pull(ctx, args).await,
        _ => {}
    }
    let (settings, client) = ctx.connect()?;
    let out = Output::new(settings.format());
    match command {
        ImageCommand::List(args) => match &args.target {
            None => {
                let org = require_org(&settings)?;
                let team = settings.team();
                let repos = client.list_repos(org, team).await.with_context(|| {
                    format!("cannot list the repositories of {}", place(org, team))
                })?;
                out.table(&repos_table(&repos))?;
            }
            Some(target) => {
                let r = image_ref::parse_with_glob(target).map_err(|e| anyhow!(e))?;
                let images = client
                    .list_images(&r.org, r.team.as_deref(), &r.name)
                    .await
                    .with_context(|| format!("cannot list the images of {}", r.repo_path()))?;
                let pattern = r.tag.as_deref().unwrap_or("*");
                let images: Vec<&Image> = images
                    .iter()
                    .filter(|i| glob_match(pattern, &i.tag))
                    .collect();
                out.table(&images_table(&images))?;
            }
        },
        ImageCommand::Info(args) => {
            let r = parse(&args.image)?;
            match &r.tag {
                None => {
                    let repo = client
                        .repo_info(&r.org, r.team.as_deref(), &r.name)
                        .await
                        .with_context(|| format!("cannot show repository {}", r.repo_path()))?;
                    out.record(&repo_record(&repo))?;
                }
                Some(tag) => {
                    let image = client
                        .image_info(&r.org, r.team.as_deref(), &r.name, tag)
                        .await
                        .with_context(|| format!("cannot show image {r}"))?;
                    out.record(&image_record(&r, &image, out.format() == Format::Json))?;
                    if out.format() != Format::Json && !image.architecture_variants.is_empty() {
                        out.table(&variants_table(&image))?;
                    }
                }
            }
        }
        ImageCommand::Update(args) => {
            let r = parse(&args.repository)?;
            if r.tag.is_some() || r.digest.is_some() {
                bail!("update takes a repository (org/[team/]name), not an image tag");
            }
            let update = repo_update(args)?;
            if update.is_empty() {
                bail!(
                    "nothing to update: pass --desc, --overview, --display-name, --label, \
                     --clear-labels, --logo, --publisher, --built-by or --public"
                );
            }
            let repo = client
                .update_repo(&r.org, r.team.as_deref(), &r.name, &update)
                .await
                .with_context(|| format!("cannot update repository {}", r.repo_path()))?;
            out.record_with_message("Repository updated.", &repo_record(&repo))?;
        }
        ImageCommand::Remove(args) => {
            let r = parse(&args.image)?;
            if r.digest.is_some() {
                bail!("remove takes org/[team/]name[:tag], not a digest");
            }
            match &r.tag {
                None => {
                    let path = r.repo_path();
                    confirm(
                        &format!("remove repository {path} and all its images"),
                        args.yes,
                    )?;
                    client
                        .remove_repo(&r.org, r.team.as_deref(), &r.name)
                        .await
                        .with_context(|| format!("cannot remove repository {path}"))?;
                    out.message(&format!("Repository {path} removed."))?;
                }
                Some(tag) => {
                    confirm(&format!("remove image {r}"), args.yes)?;
                    client
                        .remove_image(&r.org, r.team.as_deref(), &r.name, tag)
                        .await
                        .with_context(|| format!("cannot remove image {r}"))?;
                    out.message(&format!("Image {r} removed."))?;
                }
            }
        }
        ImageCommand::Push(_) | ImageCommand::Pull(_) => {}
    }
    Ok(())
}

/// Parses an image reference given on the command line (a usage error when invalid).
pub fn parse(input: &str) -> Result<ImageRef> {
    image_ref::parse(input).map_err(|e| anyhow!(e))
}

fn place(org: &str, team: Option<&str>) -> String {
    match team {
        Some(team) => format!("team {org}/{team}"),
        None => format!("org {org}"),
    }
}

fn repo_update(args: &ImageUpdateArgs) -> Result<RepoUpdate> {
    let description = match &args.overview {
        Some(path) => Some(
            std::fs::read_to_string(path)
                .with_context(|| format!("cannot read the overview file {}", path.display()))?,
        ),
        None => None,
    };
    let labels = if args.clear_labels {
        Some(Vec::new())
    } else {
        (!args.labels.is_empty()).then(|| args.labels.clone())
    };
    Ok(RepoUpdate {
        short_description: args.desc.clone(),
        description,
        display_name: args.display_name.clone(),
        labels,
        logo: args.logo.clone(),
        publisher: args.publisher.clone(),
        built_by: args.built_by.clone(),
        is_public: args.public,
    })
}

fn text(value: Option<&str>) -> Value {
    value.map_or(Value::Null, Value::from)
}

fn list(items: &[String]) -> Value {
    Value::Array(items.iter().map(|s| Value::from(s.as_str())).collect())
}

fn repos_table(repos: &[Repository]) -> Table {
    let mut table = Table::new([
        "name",
        "repository",
        "latest_tag",
        "image_size",
        "updated",
        "public",
        "description",
    ]);
    for r in repos {
        let path = match &r.namespace {
            Some(ns) => format!("{ns}/{}", r.name),
            None => r.name.clone(),
        };
        table.push_row([
            text(r.display_name.as_deref().or(Some(&r.name))),
            Value::from(path),
            text(r.latest_tag.as_deref()),
            r.latest_image_size.map_or(Value::Null, Value::from),
            text(r.updated_date.as_deref()),
            Value::from(r.is_public),
            text(r.short_description.as_deref()),
        ]);
    }
    table
}

fn repo_record(r: &Repository) -> Record {
    Record::new()
        .field("name", r.name.as_str())
        .field("namespace", text(r.namespace.as_deref()))
        .field("display_name", text(r.display_name.as_deref()))
        .field("short_description", text(r.short_description.as_deref()))
        .field("publisher", text(r.publisher.as_deref()))
        .field("built_by", text(r.built_by.as_deref()))
        .field("labels", list(&r.labels))
        .field("logo", text(r.logo.as_deref()))
        .field("public", r.is_public)
        .field("latest_tag", text(r.latest_tag.as_deref()))
        .field(
            "latest_image_size",
            r.latest_image_size.map_or(Value::Null, Value::from),
        )
        .field("multi_arch", r.is_multi_architecture)
        .field("tags", list(&r.tags))
        .field("updated", text(r.updated_date.as_deref()))
        .field("description", text(r.description.as_deref()))
}

fn platforms(image: &Image) -> Vec<String> {
    image
        .architecture_variants
        .iter()
        .map(|v| match &v.variant {
            Some(variant) => format!("{}/{}/{variant}", v.os, v.architecture),
            None => format!("{}/{}", v.os, v.architecture),
        })
        .collect()
}

fn images_table(images: &[&Image]) -> Table {
    let mut table = Table::new(["tag", "size", "updated", "digest", "platforms"]);
    for i in images {
        table.push_row([
            Value::from(i.tag.as_str()),
            Value::from(i.size),
            text(i.updated_date.as_deref()),
            Value::from(i.digest.as_str()),
            list(&platforms(i)),
        ]);
    }
    table
}

fn variants_table(i: &Image) -> Table {
    let mut table = Table::new(["os", "architecture", "variant", "digest", "compressed_size"]);
    for v in &i.architecture_variants {
        table.push_row([
            Value::from(v.os.as_str()),
            Value::from(v.architecture.as_str()),
            text(v.variant.as_deref()),
            Value::from(v.digest.as_str()),
            Value::from(v.compressed_size),
        ]);
    }
    table
}

/// One image; the platforms are in the record for JSON, in a table after it otherwise.
fn image_record(r: &ImageRef, i: &Image, with_variants: bool) -> Record {
    let variants: Vec<Value> = i
        .architecture_variants
        .iter()
        .map(|v| {
            serde_json::json!({
                "os": v.os, "architecture": v.architecture, "variant": v.variant,
                "digest": v.digest, "compressed_size": v.compressed_size,
            })
        })
        .collect();
    let record = Record::new()
        .field("image", format!("{}:{}", r.repo_path(), i.tag))
        .field("digest", i.digest.as_str())
        .field("media_type", text(i.media_type.as_deref()))
        .field("size", i.size)
        .field("pushed", text(i.pushed_date.as_deref()))
        .field("updated", text(i.updated_date.as_deref()));
    if with_variants {
        record.field("architecture_variants", Value::Array(variants))
    } else {
        record.field("platforms", list(&platforms(i)))
    }
}

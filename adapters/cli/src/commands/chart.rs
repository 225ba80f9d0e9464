//! `arca registry chart create|update|info|list|push|pull|remove` (guide chapter 6). Packages
//! travel through the Helm repository of the target's org or team (ChartMuseum upload,
//! `charts/<name>-<version>.tgz` download); records through the NGC `helm-charts` API.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context as _, Result};
use arca_client::api::charts::{ChartInfo, ChartPlace, ChartVersionInfo};
use serde_json::{json, Map, Value};

use super::confirm::confirm;
use super::model::{parse_target, Target};
use super::{require_org, Context};
use crate::cli::charts::{ChartCommand, ChartFields};
use crate::image_ref::glob_match;
use crate::output::{Output, Record, Table};

fn place(t: &Target) -> ChartPlace<'_> {
    ChartPlace {
        org: &t.org,
        team: t.team.as_deref(),
        name: &t.name,
    }
}

fn path_of(t: &Target) -> String {
    match &t.team {
        Some(team) => format!("{}/{team}/{}", t.org, t.name),
        None => format!("{}/{}", t.org, t.name),
    }
}

/// NGC's chart fields from the flags.
fn chart_body(f: &ChartFields) -> Result<Map<String, Value>> {
    let mut m = Map::new();
    let mut put = |k: &str, v: &Option<String>| {
        if let Some(v) = v {
            m.insert(k.to_string(), Value::from(v.clone()));
        }
    };
    put("shortDescription", &f.short_desc);
    put("displayName", &f.display_name);
    put("publisher", &f.publisher);
    put("builtBy", &f.built_by);
    put("logo", &f.logo);
    if !f.labels.is_empty() {
        m.insert("labelsV2".into(), json!(f.labels));
    }
    if let Some(p) = &f.overview_filename {
        let text = std::fs::read_to_string(p)
            .with_context(|| format!("cannot read the overview file {}", p.display()))?;
        m.insert("description".into(), Value::from(text));
    }
    Ok(m)
}

fn chart_record(a: &ChartInfo) -> Record {
    Record::new()
        .field("Name", a.name.clone())
        .field(
            "Short Description",
            a.short_description.clone().unwrap_or_default(),
        )
        .field("Display Name", a.display_name.clone().unwrap_or_default())
        .field("Team", a.team_name.clone().unwrap_or_default())
        .field("Publisher", a.publisher.clone().unwrap_or_default())
        .field("Built By", a.built_by.clone().unwrap_or_default())
        .field("Labels", a.labels.join(", "))
        .field("Logo", a.logo.clone().unwrap_or_default())
        .field("Created Date", a.created_date.clone().unwrap_or_default())
        .field("Updated Date", a.updated_date.clone().unwrap_or_default())
        .field("Read Only", a.is_read_only)
        .field(
            "Latest Version ID",
            a.latest_version_id.clone().unwrap_or_default(),
        )
        .field(
            "Latest Version Size (bytes)",
            a.latest_version_size_in_bytes
                .map(Value::from)
                .unwrap_or(Value::Null),
        )
        .field("Overview", a.description.clone().unwrap_or_default())
}

fn version_record(v: &ChartVersionInfo) -> Record {
    Record::new()
        .field("Created Date", v.created_date.clone().unwrap_or_default())
        .field("Updated Date", v.updated_date.clone().unwrap_or_default())
        .field("Version ID", v.id.clone())
        .field("Total File Count", v.total_file_count)
        .field("Total Size", v.total_size_in_bytes)
        .field(
            "Package Digest",
            v.package_digest.clone().unwrap_or_default(),
        )
        .field("Status", v.status.clone())
}

fn versions_table(vs: &[&ChartVersionInfo]) -> Table {
    let mut t = Table::new(["Version", "File Count", "File Size", "Created Date"]);
    for v in vs {
        t.push_row([
            Value::from(v.id.clone()),
            Value::from(v.total_file_count),
            Value::from(v.total_size_in_bytes),
            Value::from(v.created_date.clone().unwrap_or_default()),
        ]);
    }
    t
}

fn charts_table(items: &[ChartInfo]) -> Table {
    let mut t = Table::new([
        "Name",
        "Repository",
        "Version",
        "Size",
        "Description",
        "Created Date",
        "Last Modified",
    ]);
    for a in items {
        let repo = match (&a.org_name, &a.team_name) {
            (Some(o), Some(t)) => format!("{o}/{t}/{}", a.name),
            (Some(o), None) => format!("{o}/{}", a.name),
            _ => a.name.clone(),
        };
        t.push_row([
            Value::from(a.display_name.clone().unwrap_or_else(|| a.name.clone())),
            Value::from(repo),
            Value::from(a.latest_version_id.clone().unwrap_or_default()),
            a.latest_version_size_in_bytes
                .map(Value::from)
                .unwrap_or(Value::Null),
            Value::from(a.short_description.clone().unwrap_or_default()),
            Value::from(a.created_date.clone().unwrap_or_default()),
            Value::from(a.updated_date.clone().unwrap_or_default()),
        ]);
    }
    t
}

/// The package to push: `source` itself, or `<chart>-<version>.tgz` inside it.
fn package_path(source: &Path, name: &str, version: &str) -> PathBuf {
    if source.is_dir() {
        source.join(format!("{name}-{version}.tgz"))
    } else {
        source.to_path_buf()
    }
}

/// Runs a `chart` subcommand.
pub async fn run(ctx: &Context<'_>, command: &ChartCommand) -> Result<()> {
    let (settings, client) = ctx.connect()?;
    let out = Output::new(settings.format());
    match command {
        ChartCommand::Create(args) => {
            let t = parse_target(&args.target)?;
            if t.version.is_some() {
                bail!("create takes org/[team/]chart, without :version");
            }
            let body = chart_body(&args.fields)?;
            if !body.contains_key("shortDescription") {
                bail!("creating a chart needs --short-desc");
            }
            let a = client
                .create_chart(place(&t), &Value::Object(body))
                .await
                .with_context(|| format!("cannot create chart {t}"))?;
            out.record_with_message(
                &format!("Successfully created chart '{t}'."),
                &chart_record(&a),
            )?;
        }
        ChartCommand::Update(args) => {
            let t = parse_target(&args.target)?;
            if t.version.is_some() {
                bail!("update takes org/[team/]chart, without :version");
            }
            let body = chart_body(&args.fields)?;
            if body.is_empty() {
                bail!("nothing to update: pass at least one field flag");
            }
            let a = client
                .update_chart(place(&t), &Value::Object(body))
                .await
                .with_context(|| format!("cannot update chart {t}"))?;
            out.record_with_message(
                &format!("Successfully updated chart '{t}'."),
                &chart_record(&a),
            )?;
        }
        ChartCommand::Info(args) => {
            let t = parse_target(&args.target)?;
            match &t.version {
                None => {
                    let a = client
                        .chart(place(&t))
                        .await
                        .with_context(|| format!("cannot show chart {t}"))?;
                    out.record(&chart_record(&a))?;
                }
                Some(v) => {
                    let info = client
                        .chart_version(place(&t), v)
                        .await
                        .with_context(|| format!("cannot show chart version {t}"))?;
                    out.record(&version_record(&info))?;
                    if args.files {
                        let files = client
                            .chart_files(place(&t), v)
                            .await
                            .with_context(|| format!("cannot list the files of {t}"))?;
                        let mut table = Table::new(["Path", "Size"]);
                        for f in files {
                            table.push_row([Value::from(f.path), Value::from(f.size_in_bytes)]);
                        }
                        out.table(&table)?;
                    }
                }
            }
        }
        ChartCommand::List(args) => match &args.target {
            None => {
                let org = require_org(&settings)?;
                let items = client
                    .list_charts(org, settings.team(), None)
                    .await
                    .with_context(|| format!("cannot list the charts of {org}"))?;
                out.table(&charts_table(&items))?;
            }
            Some(target) => {
                let t = parse_target(target)?;
                if t.name.contains(['*', '?']) {
                    if t.version.is_some() {
                        bail!("a version pattern needs a concrete name (org/[team/]chart:pattern)");
                    }
                    let items = client
                        .list_charts(&t.org, t.team.as_deref(), Some(&t.name))
                        .await
                        .with_context(|| format!("cannot list charts matching {t}"))?;
                    out.table(&charts_table(&items))?;
                } else {
                    let versions = client
                        .chart_versions(place(&t))
                        .await
                        .with_context(|| format!("cannot list the versions of {t}"))?;
                    let pattern = t.version.as_deref().unwrap_or("*");
                    let shown: Vec<&ChartVersionInfo> = versions
                        .iter()
                        .filter(|v| glob_match(pattern, &v.id))
                        .collect();
                    out.table(&versions_table(&shown))?;
                }
            }
        },
        ChartCommand::Push(args) => {
            let t = parse_target(&args.target)?;
            let Some(version) = &t.version else {
                bail!("push needs org/[team/]chart:version");
            };
            let file = package_path(&args.source, &t.name, version);
            let tgz = std::fs::read(&file)
                .with_context(|| format!("cannot read the chart package {}", file.display()))?;
            client
                .push_chart(place(&t), version, tgz)
                .await
                .with_context(|| format!("cannot push {}", file.display()))?;
            let info = client
                .chart_version(place(&t), version)
                .await
                .with_context(|| format!("pushed, but cannot show chart version {t}"))?;
            out.record_with_message(
                &format!("Successfully pushed chart version '{}:{version}'.", t.name),
                &version_record(&info),
            )?;
        }
        ChartCommand::Pull(args) => {
            let t = parse_target(&args.target)?;
            let version = match &t.version {
                Some(v) => v.clone(),
                None => client
                    .chart(place(&t))
                    .await
                    .with_context(|| format!("cannot show chart {t}"))?
                    .latest_version_id
                    .with_context(|| format!("chart {t} has no version yet"))?,
            };
            let bytes = client
                .pull_chart(place(&t), &version)
                .await
                .with_context(|| format!("cannot pull {}:{version}", path_of(&t)))?;
            std::fs::create_dir_all(&args.dest)
                .with_context(|| format!("cannot create {}", args.dest.display()))?;
            let file = args.dest.join(format!("{}-{version}.tgz", t.name));
            std::fs::write(&file, &bytes)
                .with_context(|| format!("cannot write {}", file.display()))?;
            out.record_with_message(
                &format!(
                    "Successfully pulled chart version '{}:{version}' to {}.",
                    path_of(&t),
                    file.display()
                ),
                &Record::new()
                    .field("Path", file.display().to_string())
                    .field("Version", version.clone())
                    .field("Size", bytes.len() as u64),
            )?;
        }
        ChartCommand::Remove(args) => {
            let t = parse_target(&args.target)?;
            match &t.version {
                Some(v) => {
                    client
                        .delete_chart_version(place(&t), v)
                        .await
                        .with_context(|| format!("cannot remove chart version {t}"))?;
                    out.message(&format!("Successfully removed chart version '{t}'."))?;
                }
                None => {
                    confirm(&format!("remove {t} and all its versions"), args.yes)?;
                    client
                        .delete_chart(place(&t))
                        .await
                        .with_context(|| format!("cannot remove chart {t}"))?;
                    out.message(&format!("Successfully removed chart '{t}'."))?;
                }
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packages_are_found_in_a_directory_or_given_directly() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(
            package_path(dir.path(), "demo", "0.1.0"),
            dir.path().join("demo-0.1.0.tgz")
        );
        let file = dir.path().join("x.tgz");
        assert_eq!(package_path(&file, "demo", "0.1.0"), file);
    }

    #[test]
    fn fields_become_ngc_json() {
        let f = ChartFields {
            short_desc: Some("s".into()),
            labels: vec!["a".into()],
            built_by: Some("me".into()),
            ..Default::default()
        };
        let m = chart_body(&f).unwrap();
        assert_eq!(
            Value::Object(m),
            json!({"shortDescription": "s", "labelsV2": ["a"], "builtBy": "me"})
        );
    }
}

//! `arca registry model|resource create|info|list|update|remove|upload-version|
//! download-version` (guide chapters 4 and 5). Transfers use `arca_client::transfer`: uploads
//! keep a resume journal under `<config dir>/arca/transfers/`, so rerunning an interrupted
//! upload sends only what is missing.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{anyhow, bail, Context as _, Result};
use arca_client::api::models::{ArtifactInfo, ArtifactPlace, ArtifactType, VersionInfo};
use arca_client::transfer::UploadRequest;
use serde_json::{json, Map, Value};

use super::confirm::confirm;
use super::transfer::{progress_bar, progress_of};
use super::{require_org, Context};
use crate::cli::models::{ArtifactCommand, ArtifactFields, VersionFields};
use crate::image_ref::glob_match;
use crate::output::{Output, Record, Table};

/// A parsed `org/[team/]name[:version]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// Org.
    pub org: String,
    /// Team.
    pub team: Option<String>,
    /// Name (may hold a glob for `list`).
    pub name: String,
    /// Version (may hold a glob for `list`).
    pub version: Option<String>,
}

impl Target {
    fn place(&self, kind: ArtifactType) -> ArtifactPlace<'_> {
        ArtifactPlace {
            kind,
            org: &self.org,
            team: self.team.as_deref(),
            name: &self.name,
        }
    }

    fn path(&self) -> String {
        match &self.team {
            Some(t) => format!("{}/{t}/{}", self.org, self.name),
            None => format!("{}/{}", self.org, self.name),
        }
    }
}

impl std::fmt::Display for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.version {
            Some(v) => write!(f, "{}:{v}", self.path()),
            None => f.write_str(&self.path()),
        }
    }
}

/// Parses `org/[team/]name[:version]`.
pub fn parse_target(input: &str) -> Result<Target> {
    let (path, version) = match input.rsplit_once(':') {
        Some((p, v)) if !v.is_empty() => (p, Some(v.to_string())),
        Some(_) => bail!("{input:?}: nothing after ':' (expected org/[team/]name[:version])"),
        None => (input, None),
    };
    let parts: Vec<&str> = path.split('/').collect();
    let (org, team, name) = match parts.as_slice() {
        [o, n] => (*o, None, *n),
        [o, t, n] => (*o, Some(*t), *n),
        _ => bail!("{input:?} is not org/[team/]name[:version]"),
    };
    if org.is_empty() || name.is_empty() || team.is_some_and(str::is_empty) {
        bail!("{input:?} is not org/[team/]name[:version]");
    }
    Ok(Target {
        org: org.to_string(),
        team: team.map(str::to_string),
        name: name.to_string(),
        version,
    })
}

fn read_text(path: &Path, what: &str) -> Result<String> {
    std::fs::read_to_string(path)
        .with_context(|| format!("cannot read the {what} file {}", path.display()))
}

fn put(m: &mut Map<String, Value>, key: &str, v: Option<Value>) {
    if let Some(v) = v {
        m.insert(key.to_string(), v);
    }
}

/// NGC's artifact fields from the flags.
fn artifact_body(kind: ArtifactType, f: &ArtifactFields) -> Result<Map<String, Value>> {
    let mut m = Map::new();
    put(
        &mut m,
        "application",
        f.application.clone().map(Value::from),
    );
    let framework_key = match kind {
        ArtifactType::Model => "framework",
        ArtifactType::Resource => "trainingFramework",
    };
    put(&mut m, framework_key, f.framework.clone().map(Value::from));
    put(&mut m, "modelFormat", f.format.clone().map(Value::from));
    put(&mut m, "precision", f.precision.clone().map(Value::from));
    put(
        &mut m,
        "shortDescription",
        f.short_desc.clone().map(Value::from),
    );
    put(
        &mut m,
        "displayName",
        f.display_name.clone().map(Value::from),
    );
    put(&mut m, "logo", f.logo.clone().map(Value::from));
    put(&mut m, "builtBy", f.built_by.clone().map(Value::from));
    put(&mut m, "publisher", f.publisher.clone().map(Value::from));
    if !f.labels.is_empty() {
        m.insert("labelsV2".into(), json!(f.labels));
    }
    for (key, file, what) in [
        ("description", &f.overview_filename, "overview"),
        ("bias", &f.bias_filename, "bias"),
        (
            "explainability",
            &f.explainability_filename,
            "explainability",
        ),
        ("privacy", &f.privacy_filename, "privacy"),
        (
            "safetyAndSecurity",
            &f.safety_security_filename,
            "safety and security",
        ),
        ("advanced", &f.advanced_filename, "advanced guide"),
    ] {
        if let Some(p) = file {
            m.insert(key.into(), Value::from(read_text(p, what)?));
        }
    }
    if f.public_dataset_name.is_some()
        || f.public_dataset_link.is_some()
        || f.public_dataset_license.is_some()
    {
        m.insert(
            "publicDatasetUsed".into(),
            json!({
                "name": f.public_dataset_name,
                "link": f.public_dataset_link,
                "license": f.public_dataset_license,
            }),
        );
    }
    Ok(m)
}

/// NGC's version fields from the flags.
fn version_body(v: &VersionFields) -> Result<Map<String, Value>> {
    let mut m = Map::new();
    put(
        &mut m,
        "accuracyReached",
        v.accuracy_reached.map(Value::from),
    );
    put(&mut m, "batchSize", v.batch_size.map(Value::from));
    put(&mut m, "gpuModel", v.gpu_model.clone().map(Value::from));
    put(
        &mut m,
        "memoryFootprint",
        v.memory_footprint.clone().map(Value::from),
    );
    put(&mut m, "numberOfEpochs", v.num_epochs.map(Value::from));
    put(&mut m, "description", v.desc.clone().map(Value::from));
    put(&mut m, "link", v.link.clone().map(Value::from));
    put(&mut m, "linkType", v.link_type.clone().map(Value::from));
    put(&mut m, "ownerName", v.owner_name.clone().map(Value::from));
    for (key, file, what) in [
        ("releaseNotes", &v.release_notes_filename, "release notes"),
        (
            "quickStartGuide",
            &v.quick_start_guide_filename,
            "quick start guide",
        ),
        ("performance", &v.performance_filename, "performance"),
        ("setup", &v.setup_filename, "setup"),
    ] {
        if let Some(p) = file {
            m.insert(key.into(), Value::from(read_text(p, what)?));
        }
    }
    if !v.metrics_files.is_empty() {
        if v.metrics_files.len() > 3 {
            bail!(
                "{} --metrics-file given: a version holds at most 3 metrics tables",
                v.metrics_files.len()
            );
        }
        let mut tables = Vec::new();
        for p in &v.metrics_files {
            let text = read_text(p, "metrics")?;
            let table: Value = serde_json::from_str(&text)
                .with_context(|| format!("{} is not JSON", p.display()))?;
            let pairs = table
                .get("attributes")
                .and_then(Value::as_array)
                .ok_or_else(|| anyhow!("{}: a metrics table needs \"attributes\"", p.display()))?;
            if pairs.len() > 12 {
                bail!(
                    "{}: {} key/value pairs; a metrics table holds at most 12",
                    p.display(),
                    pairs.len()
                );
            }
            tables.push(table);
        }
        m.insert("customMetrics".into(), Value::Array(tables));
    }
    Ok(m)
}

fn artifact_record(kind: ArtifactType, a: &ArtifactInfo) -> Record {
    let framework = a.framework.clone().or_else(|| a.training_framework.clone());
    Record::new()
        .field("Name", a.name.clone())
        .field("Org", a.org_name.clone().unwrap_or_default())
        .field("Team", a.team_name.clone().unwrap_or_default())
        .field("Display Name", a.display_name.clone().unwrap_or_default())
        .field("Kind", kind.noun())
        .field(
            "Short Description",
            a.short_description.clone().unwrap_or_default(),
        )
        .field("Application", a.application.clone().unwrap_or_default())
        .field("Framework", framework.unwrap_or_default())
        .field("Format", a.model_format.clone().unwrap_or_default())
        .field("Precision", a.precision.clone().unwrap_or_default())
        .field("Labels", a.labels.join(", "))
        .field("Built By", a.built_by.clone().unwrap_or_default())
        .field("Publisher", a.publisher.clone().unwrap_or_default())
        .field(
            "Latest Version",
            a.latest_version_id_str.clone().unwrap_or_default(),
        )
        .field(
            "Latest Version Size",
            a.latest_version_size_in_bytes.unwrap_or_default(),
        )
        .field("Created", a.created_date.clone().unwrap_or_default())
        .field("Updated", a.updated_date.clone().unwrap_or_default())
}

fn version_record(t: &Target, v: &VersionInfo) -> Record {
    Record::new()
        .field("Target", format!("{}:{}", t.path(), v.version_id))
        .field("Version", v.version_id.clone())
        .field("Status", v.status.clone())
        .field("Files", v.total_file_count)
        .field("Size", v.total_size_in_bytes)
        .field("Description", v.description.clone().unwrap_or_default())
        .field("GPU Model", v.gpu_model.clone().unwrap_or_default())
        .field(
            "Accuracy Reached",
            v.accuracy_reached.map(Value::from).unwrap_or(Value::Null),
        )
        .field(
            "Batch Size",
            v.batch_size.map(Value::from).unwrap_or(Value::Null),
        )
        .field(
            "Memory Footprint",
            v.memory_footprint.clone().unwrap_or_default(),
        )
        .field(
            "Epochs",
            v.number_of_epochs.map(Value::from).unwrap_or(Value::Null),
        )
        .field("Custom Metrics", Value::Array(v.custom_metrics.clone()))
        .field("Created", v.created_date.clone().unwrap_or_default())
}

fn versions_table(vs: &[&VersionInfo]) -> Table {
    let mut t = Table::new(["Version", "Status", "Files", "Size", "GPU Model", "Created"]);
    for v in vs {
        t.push_row([
            Value::from(v.version_id.clone()),
            Value::from(v.status.clone()),
            Value::from(v.total_file_count),
            Value::from(v.total_size_in_bytes),
            Value::from(v.gpu_model.clone().unwrap_or_default()),
            Value::from(v.created_date.clone().unwrap_or_default()),
        ]);
    }
    t
}

fn artifacts_table(items: &[ArtifactInfo]) -> Table {
    let mut t = Table::new([
        "Name",
        "Org",
        "Team",
        "Description",
        "Latest Version",
        "Application",
        "Framework",
        "Updated",
    ]);
    for a in items {
        t.push_row([
            Value::from(a.name.clone()),
            Value::from(a.org_name.clone().unwrap_or_default()),
            Value::from(a.team_name.clone().unwrap_or_default()),
            Value::from(a.short_description.clone().unwrap_or_default()),
            Value::from(a.latest_version_id_str.clone().unwrap_or_default()),
            Value::from(a.application.clone().unwrap_or_default()),
            Value::from(
                a.framework
                    .clone()
                    .or_else(|| a.training_framework.clone())
                    .unwrap_or_default(),
            ),
            Value::from(a.updated_date.clone().unwrap_or_default()),
        ]);
    }
    t
}

fn has_glob(s: &str) -> bool {
    s.contains(['*', '?'])
}

/// Runs a `model` or `resource` subcommand.
pub async fn run(ctx: &Context<'_>, kind: ArtifactType, command: &ArtifactCommand) -> Result<()> {
    let (settings, client) = ctx.connect()?;
    let out = Output::new(settings.format());
    let noun = kind.noun();
    match command {
        ArtifactCommand::Create(args) => {
            let t = parse_target(&args.target)?;
            if t.version.is_some() {
                bail!("create takes org/[team/]name, without :version");
            }
            let mut body = artifact_body(kind, &args.fields)?;
            put(
                &mut body,
                "ownerName",
                args.owner_name.clone().map(Value::from),
            );
            if kind == ArtifactType::Model {
                for (flag, key) in [
                    ("--application", "application"),
                    ("--framework", "framework"),
                    ("--format", "modelFormat"),
                    ("--precision", "precision"),
                    ("--short-desc", "shortDescription"),
                ] {
                    if !body.contains_key(key) {
                        bail!("creating a model needs {flag}");
                    }
                }
            }
            let a = client
                .create_artifact(t.place(kind), &Value::Object(body))
                .await
                .with_context(|| format!("cannot create {noun} {t}"))?;
            out.record_with_message(
                &format!("Successfully created {noun} '{t}'."),
                &artifact_record(kind, &a),
            )?;
        }
        ArtifactCommand::Info(args) => {
            let t = parse_target(&args.target)?;
            match &t.version {
                None => {
                    let a = client
                        .artifact(t.place(kind))
                        .await
                        .with_context(|| format!("cannot show {noun} {t}"))?;
                    out.record(&artifact_record(kind, &a))?;
                }
                Some(v) => {
                    let info = client
                        .version(t.place(kind), v)
                        .await
                        .with_context(|| format!("cannot show {noun} version {t}"))?;
                    out.record(&version_record(&t, &info))?;
                    if args.files {
                        let files = client
                            .version_files(t.place(kind), v)
                            .await
                            .with_context(|| format!("cannot list the files of {t}"))?;
                        let mut table = Table::new(["Path", "Size", "SHA-256"]);
                        for f in files {
                            table.push_row([
                                Value::from(f.path),
                                Value::from(f.size_in_bytes),
                                Value::from(f.sha256_base64.unwrap_or_default()),
                            ]);
                        }
                        out.table(&table)?;
                    }
                }
            }
        }
        ArtifactCommand::List(args) => match &args.target {
            None => {
                let org = require_org(&settings)?;
                let items = client
                    .list_artifacts(kind, org, settings.team(), None)
                    .await
                    .with_context(|| format!("cannot list the {noun}s of {org}"))?;
                out.table(&artifacts_table(&items))?;
            }
            Some(target) => {
                let t = parse_target(target)?;
                if has_glob(&t.name) {
                    if t.version.is_some() {
                        bail!("a version pattern needs a concrete name (org/[team/]name:pattern)");
                    }
                    let items = client
                        .list_artifacts(kind, &t.org, t.team.as_deref(), Some(&t.name))
                        .await
                        .with_context(|| format!("cannot list {noun}s matching {t}"))?;
                    out.table(&artifacts_table(&items))?;
                } else {
                    let versions = client
                        .versions(t.place(kind))
                        .await
                        .with_context(|| format!("cannot list the versions of {t}"))?;
                    let pattern = t.version.as_deref().unwrap_or("*");
                    let shown: Vec<&VersionInfo> = versions
                        .iter()
                        .filter(|v| glob_match(pattern, &v.version_id))
                        .collect();
                    out.table(&versions_table(&shown))?;
                }
            }
        },
        ArtifactCommand::Update(args) => {
            let t = parse_target(&args.target)?;
            match &t.version {
                None => {
                    let mut body = artifact_body(kind, &args.fields)?;
                    put(
                        &mut body,
                        "ownerName",
                        args.version.owner_name.clone().map(Value::from),
                    );
                    if body.is_empty() {
                        bail!("nothing to update: pass at least one field flag");
                    }
                    let a = client
                        .update_artifact(t.place(kind), &Value::Object(body))
                        .await
                        .with_context(|| format!("cannot update {noun} {t}"))?;
                    out.record_with_message(
                        &format!("Successfully updated {noun} '{t}'."),
                        &artifact_record(kind, &a),
                    )?;
                }
                Some(v) => {
                    let body = version_body(&args.version)?;
                    if body.is_empty() && !args.set_latest {
                        bail!("nothing to update: pass a version flag or --set-latest");
                    }
                    let info = client
                        .update_version(t.place(kind), v, &Value::Object(body), args.set_latest)
                        .await
                        .with_context(|| format!("cannot update {noun} version {t}"))?;
                    out.record_with_message(
                        &format!("Successfully updated {noun} version '{t}'."),
                        &version_record(&t, &info),
                    )?;
                }
            }
        }
        ArtifactCommand::Remove(args) => {
            let t = parse_target(&args.target)?;
            match &t.version {
                None => {
                    confirm(&format!("remove {noun} {t} and all its versions"), args.yes)?;
                    client
                        .delete_artifact(t.place(kind))
                        .await
                        .with_context(|| format!("cannot remove {noun} {t}"))?;
                    out.message(&format!("Successfully removed {noun} '{t}'."))?;
                }
                Some(v) => {
                    confirm(&format!("remove {noun} version {t}"), args.yes)?;
                    client
                        .delete_version(t.place(kind), v)
                        .await
                        .with_context(|| format!("cannot remove {noun} version {t}"))?;
                    out.message(&format!("Successfully removed {noun} version '{t}'."))?;
                }
            }
        }
        ArtifactCommand::UploadVersion(args) => {
            let t = parse_target(&args.target)?;
            if t.version.is_none() && kind == ArtifactType::Model {
                bail!("upload-version of a model needs org/[team/]name:version");
            }
            let fields = version_body(&args.version)?;
            let bar = progress_bar(0, out.format(), "upload");
            let bar_total = bar.clone();
            let journal_dir = journal_dir(&ctx.config_path);
            let report = client
                .upload_version(UploadRequest {
                    at: t.place(kind),
                    version: t.version.clone(),
                    source: args.source.clone(),
                    version_fields: Value::Object(fields),
                    base_version: args.base_version.clone(),
                    remove: args.remove_files.clone(),
                    journal_dir: Some(journal_dir),
                    progress: Some(progress_of(&bar)),
                    on_total: Some(Arc::new(move |n| bar_total.set_length(n))),
                })
                .await;
            bar.finish_and_clear();
            let report = report.with_context(|| {
                format!("upload of {t} did not finish; rerun the same command to resume it")
            })?;
            out.record_with_message(
                &format!("Upload of {} complete.", report.target),
                &Record::new()
                    .field("Transfer id", report.target.clone())
                    .field("Upload status", "Completed")
                    .field("Uploaded local path", args.source.display().to_string())
                    .field("Total files uploaded", report.files as u64)
                    .field("Total uploaded size", report.total_bytes)
                    .field("Files sent in this run", report.files_sent as u64)
                    .field("Bytes sent in this run", report.bytes_sent)
                    .field("Started at", report.started.clone())
                    .field("Completed at", report.ended.clone())
                    .field("Duration taken", format!("{:.3}s", report.seconds)),
            )?;
        }
        ArtifactCommand::DownloadVersion(args) => {
            let t = parse_target(&args.target)?;
            let include = args.files.clone();
            let exclude = args.exclude.clone();
            let keep = move |path: &str| {
                (include.is_empty() || include.iter().any(|g| glob_match(g, path)))
                    && !exclude.iter().any(|g| glob_match(g, path))
            };
            let bar = progress_bar(0, out.format(), "download");
            let bar_total = bar.clone();
            let set_total = move |n: u64| bar_total.set_length(n);
            let report = client
                .download_version(
                    t.place(kind),
                    t.version.as_deref(),
                    &args.dest,
                    &keep,
                    Some(progress_of(&bar)),
                    Some(&set_total),
                )
                .await;
            bar.finish_and_clear();
            let report = report.with_context(|| format!("cannot download {t}"))?;
            out.record_with_message(
                &format!(
                    "Downloaded {}:{} to {}.",
                    t.path(),
                    report.version,
                    report.path
                ),
                &Record::new()
                    .field("Download status", "Completed")
                    .field("Downloaded local path", report.path.clone())
                    .field("Version", report.version.clone())
                    .field("Total files downloaded", report.files as u64)
                    .field("Files written in this run", report.files_written as u64)
                    .field("Total downloaded size", report.total_bytes)
                    .field("Duration taken", format!("{:.3}s", report.seconds)),
            )?;
        }
    }
    Ok(())
}

/// Where upload journals live: `<config dir>/arca/transfers/`.
fn journal_dir(config_path: &Path) -> PathBuf {
    config_path
        .parent()
        .map(|d| d.join("transfers"))
        .unwrap_or_else(|| PathBuf::from(".arca-transfers"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_parse() {
        let t = parse_target("acme/vision/det:1.0+build").unwrap();
        assert_eq!(t.org, "acme");
        assert_eq!(t.team.as_deref(), Some("vision"));
        assert_eq!(t.name, "det");
        assert_eq!(t.version.as_deref(), Some("1.0+build"));
        assert_eq!(parse_target("acme/det").unwrap().version, None);
        for bad in ["acme", "a/b/c/d", "acme/", "/x", "acme/x:"] {
            assert!(parse_target(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn metrics_files_are_checked_before_upload() {
        let dir = tempfile::tempdir().unwrap();
        let big = dir.path().join("big.json");
        let pairs: Vec<Value> = (0..13)
            .map(|i| json!({"key": format!("k{i}"), "value": "1"}))
            .collect();
        std::fs::write(&big, json!({"name": "t", "attributes": pairs}).to_string()).unwrap();
        let v = VersionFields {
            metrics_files: vec![big],
            ..Default::default()
        };
        assert!(version_body(&v)
            .unwrap_err()
            .to_string()
            .contains("at most 12"));
    }
}

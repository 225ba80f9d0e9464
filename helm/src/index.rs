//! The Helm repository `index.yaml`.
//!
//! The model follows Helm's `repo.IndexFile` and `repo.ChartVersion`: the chart metadata
//! flattened into each version, plus `urls`, `created` and `digest`. [`IndexFile::to_yaml`]
//! writes what `helm repo index` writes — the same field names, keys in the same (alphabetical)
//! order, versions of a chart newest first — except that some strings Helm leaves plain are
//! double-quoted (any parser reads the same value back). Helm reads `index.yaml` strictly (an
//! unknown field fails the whole index), so only fields Helm 3 knows are written: a dependency's
//! Helm 4 `export-values` is kept in [`ChartMetadata`] but not written here.
//!
//! The index is built from an iterator of entries (the server's metadata store), never by
//! opening packages.

use std::cmp::Ordering;
use std::collections::BTreeMap;

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::chart::{ChartDependency, ChartMetadata, ChartVersion, Maintainer};
use crate::error::HelmError;
use crate::lenient;
use crate::yaml::{push_indent, write_flow, write_key, write_scalar};

/// The only `apiVersion` of `index.yaml`.
pub const INDEX_API_VERSION: &str = "v1";

/// One version of a chart in `index.yaml` (Helm's `repo.ChartVersion`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChartVersionEntry {
    /// The chart's `Chart.yaml` fields, flattened into the entry.
    #[serde(flatten)]
    pub metadata: ChartMetadata,
    /// Download URLs of the package, absolute or relative to the repository URL.
    #[serde(default, deserialize_with = "lenient::vec_or_null")]
    pub urls: Vec<String>,
    /// When the version was pushed.
    pub created: DateTime<Utc>,
    /// SHA-256 of the `.tgz`, lowercase hex.
    #[serde(default, deserialize_with = "lenient::string")]
    pub digest: String,
}

/// Server information that ChartMuseum publishes and `helm cm-push` reads.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ServerInfo {
    /// Path prefix of the ChartMuseum API (`helm cm-push` posts to
    /// `<repo URL host><contextPath>/api/charts`).
    #[serde(default, deserialize_with = "lenient::string")]
    pub context_path: String,
}

/// A whole `index.yaml` (Helm's `repo.IndexFile`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IndexFile {
    /// Always [`INDEX_API_VERSION`] when built here.
    pub api_version: String,
    /// Chart name to versions, newest first after [`IndexFile::sort_entries`].
    #[serde(default)]
    pub entries: BTreeMap<String, Vec<ChartVersionEntry>>,
    /// When the index was generated.
    pub generated: DateTime<Utc>,
    /// ChartMuseum's `serverInfo`, written only when set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_info: Option<ServerInfo>,
}

/// Orders versions newest first (SemVer precedence); unparsable versions go last, as in Helm.
fn version_order(
    a: &(Option<ChartVersion>, ChartVersionEntry),
    b: &(Option<ChartVersion>, ChartVersionEntry),
) -> Ordering {
    match (&a.0, &b.0) {
        (Some(x), Some(y)) => y.cmp(x),
        (Some(_), None) => Ordering::Less,
        (None, Some(_)) => Ordering::Greater,
        (None, None) => a.1.metadata.version.cmp(&b.1.metadata.version),
    }
}

impl IndexFile {
    /// An empty index generated at `generated`.
    pub fn new(generated: DateTime<Utc>) -> Self {
        IndexFile {
            api_version: INDEX_API_VERSION.to_owned(),
            entries: BTreeMap::new(),
            generated,
            server_info: None,
        }
    }

    /// Builds a sorted index from entries in any order, grouping them by `metadata.name`.
    pub fn from_entries<I>(entries: I, generated: DateTime<Utc>) -> Self
    where
        I: IntoIterator<Item = ChartVersionEntry>,
    {
        let mut index = IndexFile::new(generated);
        for entry in entries {
            index
                .entries
                .entry(entry.metadata.name.clone())
                .or_default()
                .push(entry);
        }
        index.sort_entries();
        index
    }

    /// Sorts every chart's versions newest first (SemVer precedence, ties by text descending;
    /// unparsable versions last). Chart names are already in byte order (a `BTreeMap`).
    pub fn sort_entries(&mut self) {
        for versions in self.entries.values_mut() {
            let mut keyed: Vec<(Option<ChartVersion>, ChartVersionEntry)> = versions
                .drain(..)
                .map(|e| (e.metadata.version.parse().ok(), e))
                .collect();
            keyed.sort_by(version_order);
            versions.extend(keyed.into_iter().map(|(_, e)| e));
        }
    }

    /// Number of chart versions over all charts.
    pub fn version_count(&self) -> usize {
        self.entries.values().map(Vec::len).sum()
    }

    /// Parses an `index.yaml` (or its JSON form).
    pub fn from_yaml(bytes: &[u8]) -> Result<Self, HelmError> {
        serde_yaml_ng::from_slice(bytes).map_err(|e| HelmError::InvalidIndex(e.to_string()))
    }

    /// Writes the index as `helm repo index` does (see the module documentation). Entries are
    /// written in their current order: call [`IndexFile::sort_entries`] first if they were
    /// changed by hand ([`IndexFile::from_entries`] sorts).
    pub fn to_yaml(&self) -> String {
        let mut out = String::with_capacity(256 + self.version_count() * 512);
        out.push_str("apiVersion: ");
        write_scalar(&mut out, &self.api_version);
        out.push('\n');
        if self.entries.is_empty() {
            out.push_str("entries: {}\n");
        } else {
            out.push_str("entries:\n");
            for (name, versions) in &self.entries {
                write_key(&mut out, 2, name);
                if versions.is_empty() {
                    out.push_str(" []\n");
                    continue;
                }
                out.push('\n');
                for v in versions {
                    write_entry(&mut out, v);
                }
            }
        }
        out.push_str("generated: ");
        write_time(&mut out, &self.generated);
        out.push('\n');
        if let Some(info) = &self.server_info {
            out.push_str("serverInfo:\n");
            write_key(&mut out, 2, "contextPath");
            out.push(' ');
            write_scalar(&mut out, &info.context_path);
            out.push('\n');
        }
        out
    }
}

/// Builds and writes an index in one go: `IndexFile::from_entries(entries, generated).to_yaml()`.
pub fn render_index<I>(entries: I, generated: DateTime<Utc>) -> String
where
    I: IntoIterator<Item = ChartVersionEntry>,
{
    IndexFile::from_entries(entries, generated).to_yaml()
}

/// A strong HTTP `ETag` for index bytes: the quoted SHA-256 hex of the bytes.
pub fn index_etag(bytes: &[u8]) -> String {
    format!("\"{}\"", hex::encode(Sha256::digest(bytes)))
}

fn write_time(out: &mut String, t: &DateTime<Utc>) {
    // Quoted so that YAML 1.1 parsers do not turn it into a timestamp type.
    out.push('"');
    out.push_str(&t.to_rfc3339_opts(SecondsFormat::AutoSi, true));
    out.push('"');
}

/// Writes the keys of a mapping that is an item of a sequence: the first key goes after `- `
/// at `indent`, the others at `indent + 2`.
struct ItemWriter<'a> {
    out: &'a mut String,
    indent: usize,
    first: bool,
}

impl<'a> ItemWriter<'a> {
    fn new(out: &'a mut String, indent: usize) -> Self {
        ItemWriter {
            out,
            indent,
            first: true,
        }
    }

    fn key(&mut self, key: &str) {
        if self.first {
            push_indent(self.out, self.indent);
            self.out.push_str("- ");
            write_key(self.out, 0, key);
            self.first = false;
        } else {
            write_key(self.out, self.indent + 2, key);
        }
    }

    fn str_field(&mut self, key: &str, value: &str, always: bool) {
        if value.is_empty() && !always {
            return;
        }
        self.key(key);
        self.out.push(' ');
        write_scalar(self.out, value);
        self.out.push('\n');
    }

    fn raw_field(&mut self, key: &str, value: &str) {
        self.key(key);
        self.out.push(' ');
        self.out.push_str(value);
        self.out.push('\n');
    }

    fn list_field(&mut self, key: &str, values: &[String], always: bool) {
        if values.is_empty() {
            if always {
                self.raw_field(key, "[]");
            }
            return;
        }
        self.key(key);
        self.out.push('\n');
        for v in values {
            push_indent(self.out, self.indent + 2);
            self.out.push_str("- ");
            write_scalar(self.out, v);
            self.out.push('\n');
        }
    }

    fn flow_list_field(&mut self, key: &str, values: &[serde_json::Value]) {
        if values.is_empty() {
            return;
        }
        self.key(key);
        self.out.push('\n');
        for v in values {
            push_indent(self.out, self.indent + 2);
            self.out.push_str("- ");
            write_flow(self.out, v);
            self.out.push('\n');
        }
    }

    fn finish(self) {
        if self.first {
            push_indent(self.out, self.indent);
            self.out.push_str("- {}\n");
        }
    }
}

fn write_maintainer(out: &mut String, indent: usize, m: &Maintainer) {
    let mut w = ItemWriter::new(out, indent);
    w.str_field("email", &m.email, false);
    w.str_field("name", &m.name, false);
    w.str_field("url", &m.url, false);
    w.finish();
}

fn write_dependency(out: &mut String, indent: usize, d: &ChartDependency) {
    let mut w = ItemWriter::new(out, indent);
    w.str_field("alias", &d.alias, false);
    w.str_field("condition", &d.condition, false);
    if d.enabled {
        w.raw_field("enabled", "true");
    }
    // `export-values` (Helm 4) is left out: Helm 3 reads index.yaml strictly and would reject
    // the whole index over a field it does not know.
    w.flow_list_field("import-values", &d.import_values);
    w.str_field("name", &d.name, true);
    w.str_field("repository", &d.repository, true);
    w.list_field("tags", &d.tags, false);
    w.str_field("version", &d.version, false);
    w.finish();
}

/// Writes one version as an item of the chart's sequence, keys in Helm's (alphabetical) order.
fn write_entry(out: &mut String, e: &ChartVersionEntry) {
    let m = &e.metadata;
    let mut w = ItemWriter::new(out, 2);
    if !m.annotations.is_empty() {
        w.key("annotations");
        w.out.push('\n');
        for (k, v) in &m.annotations {
            write_key(w.out, 6, k);
            w.out.push(' ');
            write_scalar(w.out, v);
            w.out.push('\n');
        }
    }
    w.str_field("apiVersion", &m.api_version, false);
    w.str_field("appVersion", &m.app_version, false);
    w.str_field("condition", &m.condition, false);
    w.key("created");
    w.out.push(' ');
    write_time(w.out, &e.created);
    w.out.push('\n');
    if !m.dependencies.is_empty() {
        w.key("dependencies");
        w.out.push('\n');
        for d in &m.dependencies {
            write_dependency(w.out, 4, d);
        }
    }
    if m.deprecated {
        w.raw_field("deprecated", "true");
    }
    w.str_field("description", &m.description, false);
    w.str_field("digest", &e.digest, false);
    w.str_field("home", &m.home, false);
    w.str_field("icon", &m.icon, false);
    w.list_field("keywords", &m.keywords, false);
    w.str_field("kubeVersion", &m.kube_version, false);
    if !m.maintainers.is_empty() {
        w.key("maintainers");
        w.out.push('\n');
        for mt in &m.maintainers {
            write_maintainer(w.out, 4, mt);
        }
    }
    w.str_field("name", &m.name, false);
    w.list_field("sources", &m.sources, false);
    w.str_field("tags", &m.tags, false);
    w.str_field("type", &m.chart_type, false);
    w.list_field("urls", &e.urls, true);
    w.str_field("version", &m.version, false);
    w.finish();
}

#[cfg(test)]
#[path = "index_tests.rs"]
mod tests;

//! `Chart.yaml` metadata, chart names and chart versions.
//!
//! # Rules
//!
//! Helm itself only requires a name that is a single path segment (`Metadata.Validate`), but its
//! best practices — and OCI repository names, which `helm push oci://` needs — ask for lowercase
//! letters, digits and dashes. Arca enforces that stricter form ([`ChartName`]).
//!
//! Helm parses versions with `Masterminds/semver`, which accepts a leading `v` (`v1.2.3`) and
//! partial versions (`1.2`). Arca accepts the leading `v` (and keeps it: the version string is
//! what users type and what package file names contain) but requires the full SemVer 2 form
//! `MAJOR.MINOR.PATCH[-PRERELEASE][+BUILD]` ([`ChartVersion`]).

use std::cmp::Ordering;
use std::collections::{BTreeMap, HashSet};
use std::fmt;
use std::hash::{Hash, Hasher};
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::{ChartNameError, ChartVersionError, MetadataError};
use crate::lenient;

/// Longest accepted chart name, in bytes.
pub const MAX_CHART_NAME_LEN: usize = 250;
/// Longest accepted chart version, in bytes (an OCI tag holds at most 128 characters).
pub const MAX_CHART_VERSION_LEN: usize = 128;

/// A valid chart name: 1 to 250 characters from `a-z`, `0-9` and `-`, not starting with `-`.
///
/// ```
/// use arca_helm::ChartName;
/// let name: ChartName = "nginx-ingress".parse().unwrap();
/// assert_eq!(name.as_str(), "nginx-ingress");
/// assert!("Nginx".parse::<ChartName>().is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ChartName(String);

impl ChartName {
    /// The name as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Consumes the name, returning its text.
    pub fn into_string(self) -> String {
        self.0
    }
}

impl FromStr for ChartName {
    type Err = ChartNameError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s.is_empty() {
            return Err(ChartNameError::Empty);
        }
        if s.len() > MAX_CHART_NAME_LEN {
            return Err(ChartNameError::TooLong {
                len: s.len(),
                max: MAX_CHART_NAME_LEN,
            });
        }
        if s.contains('/') {
            return Err(ChartNameError::ContainsSlash { name: s.to_owned() });
        }
        if s.contains("..") {
            return Err(ChartNameError::ContainsDotDot { name: s.to_owned() });
        }
        if s.bytes().any(|b| b.is_ascii_uppercase()) {
            return Err(ChartNameError::Uppercase {
                name: s.to_owned(),
                suggestion: s.to_ascii_lowercase(),
            });
        }
        if let Some((index, ch)) = s
            .char_indices()
            .find(|&(_, c)| !(c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'))
        {
            return Err(ChartNameError::InvalidChar {
                name: s.to_owned(),
                ch,
                index,
            });
        }
        if s.starts_with('-') {
            return Err(ChartNameError::InvalidStart { name: s.to_owned() });
        }
        Ok(ChartName(s.to_owned()))
    }
}

impl fmt::Display for ChartName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for ChartName {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl Serialize for ChartName {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for ChartName {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// A valid chart version: SemVer 2 with an optional leading `v`.
///
/// The original text is kept (`v1.0.0` stays `v1.0.0`); equality and hashing use that text,
/// ordering uses SemVer precedence first (build metadata ignored, as in Helm) and the text as a
/// tie-breaker so that the order is total and consistent with equality.
///
/// ```
/// use arca_helm::ChartVersion;
/// let a: ChartVersion = "1.2.0-rc.1".parse().unwrap();
/// let b: ChartVersion = "v1.2.0".parse().unwrap();
/// assert!(a < b);
/// assert_eq!(b.as_str(), "v1.2.0");
/// assert!("1.2".parse::<ChartVersion>().is_err());
/// ```
#[derive(Debug, Clone)]
pub struct ChartVersion {
    raw: String,
    parsed: semver::Version,
}

impl ChartVersion {
    /// The version exactly as written.
    pub fn as_str(&self) -> &str {
        &self.raw
    }

    /// The parsed SemVer version (without the leading `v`).
    pub fn semver(&self) -> &semver::Version {
        &self.parsed
    }

    /// Whether this is a pre-release (`1.0.0-rc.1`); Helm skips those when no version is asked.
    pub fn is_prerelease(&self) -> bool {
        !self.parsed.pre.is_empty()
    }
}

impl FromStr for ChartVersion {
    type Err = ChartVersionError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s.is_empty() {
            return Err(ChartVersionError::Empty);
        }
        if s.len() > MAX_CHART_VERSION_LEN {
            return Err(ChartVersionError::TooLong {
                len: s.len(),
                max: MAX_CHART_VERSION_LEN,
            });
        }
        let body = s.strip_prefix('v').unwrap_or(s);
        let parsed = semver::Version::parse(body).map_err(|e| ChartVersionError::NotSemver {
            version: s.to_owned(),
            reason: e.to_string(),
        })?;
        Ok(ChartVersion {
            raw: s.to_owned(),
            parsed,
        })
    }
}

impl PartialEq for ChartVersion {
    fn eq(&self, other: &Self) -> bool {
        self.raw == other.raw
    }
}
impl Eq for ChartVersion {}

impl Hash for ChartVersion {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.raw.hash(state);
    }
}

impl Ord for ChartVersion {
    fn cmp(&self, other: &Self) -> Ordering {
        self.parsed
            .cmp_precedence(&other.parsed)
            .then_with(|| self.raw.cmp(&other.raw))
    }
}
impl PartialOrd for ChartVersion {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl fmt::Display for ChartVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.raw)
    }
}

impl AsRef<str> for ChartVersion {
    fn as_ref(&self) -> &str {
        &self.raw
    }
}

impl Serialize for ChartVersion {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.raw)
    }
}

impl<'de> Deserialize<'de> for ChartVersion {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// A chart maintainer (`maintainers[]` in `Chart.yaml`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Maintainer {
    /// User or organization name.
    #[serde(
        default,
        deserialize_with = "lenient::string",
        skip_serializing_if = "String::is_empty"
    )]
    pub name: String,
    /// Contact e-mail address.
    #[serde(
        default,
        deserialize_with = "lenient::string",
        skip_serializing_if = "String::is_empty"
    )]
    pub email: String,
    /// Contact URL.
    #[serde(
        default,
        deserialize_with = "lenient::string",
        skip_serializing_if = "String::is_empty"
    )]
    pub url: String,
}

/// A chart dependency (`dependencies[]` in a v2 `Chart.yaml`), as Helm's `chart.Dependency`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ChartDependency {
    /// Name of the dependency chart (always serialized, as in Helm).
    #[serde(default, deserialize_with = "lenient::string")]
    pub name: String,
    /// Version or SemVer range.
    #[serde(
        default,
        deserialize_with = "lenient::string",
        skip_serializing_if = "String::is_empty"
    )]
    pub version: String,
    /// Repository URL (always serialized, as in Helm).
    #[serde(default, deserialize_with = "lenient::string")]
    pub repository: String,
    /// Values path that enables the dependency.
    #[serde(
        default,
        deserialize_with = "lenient::string",
        skip_serializing_if = "String::is_empty"
    )]
    pub condition: String,
    /// Tags that enable the dependency.
    #[serde(
        default,
        deserialize_with = "lenient::string_vec",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub tags: Vec<String>,
    /// Whether the dependency is enabled.
    #[serde(
        default,
        deserialize_with = "lenient::boolean",
        skip_serializing_if = "is_false"
    )]
    pub enabled: bool,
    /// Values imported from the dependency: strings or `{child, parent}` maps.
    #[serde(
        default,
        rename = "import-values",
        deserialize_with = "lenient::vec_or_null",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub import_values: Vec<serde_json::Value>,
    /// Values exported to the dependency (Helm 4): strings or `{parent, child}` maps.
    #[serde(
        default,
        rename = "export-values",
        deserialize_with = "lenient::vec_or_null",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub export_values: Vec<serde_json::Value>,
    /// Alias under which the dependency is used.
    #[serde(
        default,
        deserialize_with = "lenient::string",
        skip_serializing_if = "String::is_empty"
    )]
    pub alias: String,
}

/// The metadata of a chart: the fields of `Chart.yaml`, named as in Helm (camelCase).
///
/// Deserialization is as forgiving as Helm's: unknown fields are ignored, `null` means absent
/// and an unquoted number or boolean in a string field is taken as text (`appVersion: 1.16`
/// gives `"1.16"`; note that `appVersion: 1.10` is the number 1.1 in YAML and gives `"1.1"` —
/// quote it). String fields use `""` for "absent" and are left out when serialized, like Helm's
/// `omitempty`. Call [`ChartMetadata::validate`] before trusting the content.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ChartMetadata {
    /// Chart API version: `v1` (Helm 2 layout) or `v2` (Helm 3). Required.
    #[serde(
        default,
        deserialize_with = "lenient::string",
        skip_serializing_if = "String::is_empty"
    )]
    pub api_version: String,
    /// Chart name. Required; see [`ChartName`].
    #[serde(
        default,
        deserialize_with = "lenient::string",
        skip_serializing_if = "String::is_empty"
    )]
    pub name: String,
    /// Chart version. Required; see [`ChartVersion`].
    #[serde(
        default,
        deserialize_with = "lenient::string",
        skip_serializing_if = "String::is_empty"
    )]
    pub version: String,
    /// SemVer range of supported Kubernetes versions.
    #[serde(
        default,
        deserialize_with = "lenient::string",
        skip_serializing_if = "String::is_empty"
    )]
    pub kube_version: String,
    /// One-sentence description.
    #[serde(
        default,
        deserialize_with = "lenient::string",
        skip_serializing_if = "String::is_empty"
    )]
    pub description: String,
    /// `application` (default when empty) or `library`.
    #[serde(
        default,
        rename = "type",
        deserialize_with = "lenient::string",
        skip_serializing_if = "String::is_empty"
    )]
    pub chart_type: String,
    /// Search keywords.
    #[serde(
        default,
        deserialize_with = "lenient::string_vec",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub keywords: Vec<String>,
    /// Project home page.
    #[serde(
        default,
        deserialize_with = "lenient::string",
        skip_serializing_if = "String::is_empty"
    )]
    pub home: String,
    /// Source code URLs.
    #[serde(
        default,
        deserialize_with = "lenient::string_vec",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub sources: Vec<String>,
    /// Chart dependencies.
    #[serde(
        default,
        deserialize_with = "lenient::vec_or_null",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub dependencies: Vec<ChartDependency>,
    /// Maintainers.
    #[serde(
        default,
        deserialize_with = "lenient::vec_or_null",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub maintainers: Vec<Maintainer>,
    /// Icon URL.
    #[serde(
        default,
        deserialize_with = "lenient::string",
        skip_serializing_if = "String::is_empty"
    )]
    pub icon: String,
    /// Version of the packaged application.
    #[serde(
        default,
        deserialize_with = "lenient::string",
        skip_serializing_if = "String::is_empty"
    )]
    pub app_version: String,
    /// Whether the chart is deprecated.
    #[serde(
        default,
        deserialize_with = "lenient::boolean",
        skip_serializing_if = "is_false"
    )]
    pub deprecated: bool,
    /// Free-form annotations.
    #[serde(
        default,
        deserialize_with = "lenient::string_map",
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    pub annotations: BTreeMap<String, String>,
    /// Values path that enables the chart (legacy Helm 2 field, kept for fidelity).
    #[serde(
        default,
        deserialize_with = "lenient::string",
        skip_serializing_if = "String::is_empty"
    )]
    pub condition: String,
    /// Tags that enable the chart (legacy Helm 2 field, kept for fidelity).
    #[serde(
        default,
        deserialize_with = "lenient::string",
        skip_serializing_if = "String::is_empty"
    )]
    pub tags: String,
}

fn is_false(b: &bool) -> bool {
    !*b
}

impl ChartMetadata {
    /// Checks Helm's rules (`Metadata.Validate` and `helm lint`'s), with Arca's stricter name
    /// and version forms: `apiVersion` is `v1` or `v2`, `name` is a [`ChartName`], `version` is
    /// a [`ChartVersion`], `type` is empty, `application` or `library`, dependency aliases use
    /// `[A-Za-z0-9_-]` and no two dependencies share a name or alias.
    pub fn validate(&self) -> Result<(), MetadataError> {
        match self.api_version.as_str() {
            "" => return Err(MetadataError::MissingApiVersion),
            "v1" | "v2" => {}
            other => return Err(MetadataError::UnsupportedApiVersion(other.to_owned())),
        }
        if self.name.is_empty() {
            return Err(MetadataError::MissingName);
        }
        self.chart_name().map_err(MetadataError::InvalidName)?;
        if self.version.is_empty() {
            return Err(MetadataError::MissingVersion);
        }
        self.chart_version()
            .map_err(MetadataError::InvalidVersion)?;
        match self.chart_type.as_str() {
            "" | "application" | "library" => {}
            other => return Err(MetadataError::InvalidType(other.to_owned())),
        }
        let mut seen = HashSet::new();
        for dep in &self.dependencies {
            if !dep.alias.is_empty()
                && !dep
                    .alias
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
            {
                return Err(MetadataError::InvalidDependencyAlias {
                    name: dep.name.clone(),
                    alias: dep.alias.clone(),
                });
            }
            let key = if dep.alias.is_empty() {
                &dep.name
            } else {
                &dep.alias
            };
            if !seen.insert(key.as_str()) {
                return Err(MetadataError::DuplicateDependency(key.clone()));
            }
        }
        Ok(())
    }

    /// The `name` field as a [`ChartName`].
    pub fn chart_name(&self) -> Result<ChartName, ChartNameError> {
        self.name.parse()
    }

    /// The `version` field as a [`ChartVersion`].
    pub fn chart_version(&self) -> Result<ChartVersion, ChartVersionError> {
        self.version.parse()
    }

    /// Parses `Chart.yaml` text (no validation; see [`ChartMetadata::validate`]).
    ///
    /// The error is the YAML parser's message, with line and column.
    pub fn from_yaml(bytes: &[u8]) -> Result<Self, String> {
        serde_yaml_ng::from_slice(bytes).map_err(|e| e.to_string())
    }
}

#[cfg(test)]
#[path = "chart_tests.rs"]
mod tests;

//! Error types of the crate.
//!
//! Every message names the rule or the limit that was broken, so that it can be shown to the
//! person who pushed the chart as is.

use thiserror::Error;

/// Why a string is not a valid chart name (see [`crate::ChartName`]).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ChartNameError {
    /// The name is empty.
    #[error("chart name is empty")]
    Empty,
    /// The name is longer than [`crate::chart::MAX_CHART_NAME_LEN`] bytes.
    #[error("chart name is {len} characters long; at most {max} are allowed")]
    TooLong {
        /// Length of the rejected name in bytes.
        len: usize,
        /// The maximum length.
        max: usize,
    },
    /// The name contains a `/`: a chart name is a single path segment.
    #[error("chart name {name:?} contains '/'; a chart name is a single segment (lowercase letters, digits and '-')")]
    ContainsSlash {
        /// The rejected name.
        name: String,
    },
    /// The name contains `..`.
    #[error(
        "chart name {name:?} contains '..'; only lowercase letters, digits and '-' are allowed"
    )]
    ContainsDotDot {
        /// The rejected name.
        name: String,
    },
    /// The name contains uppercase letters.
    #[error("chart name {name:?} contains uppercase letters; chart names must be lowercase (for example {suggestion:?})")]
    Uppercase {
        /// The rejected name.
        name: String,
        /// The lowercased name, as a hint.
        suggestion: String,
    },
    /// The name contains a character other than `a-z`, `0-9` and `-`.
    #[error("chart name {name:?} contains {ch:?} at byte {index}; only lowercase letters, digits and '-' are allowed")]
    InvalidChar {
        /// The rejected name.
        name: String,
        /// The first offending character.
        ch: char,
        /// Its byte offset in the name.
        index: usize,
    },
    /// The name starts with `-`.
    #[error("chart name {name:?} must start with a lowercase letter or a digit")]
    InvalidStart {
        /// The rejected name.
        name: String,
    },
}

/// Why a string is not a valid chart version (see [`crate::ChartVersion`]).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ChartVersionError {
    /// The version is empty.
    #[error("chart version is empty")]
    Empty,
    /// The version is longer than [`crate::chart::MAX_CHART_VERSION_LEN`] bytes.
    #[error(
        "chart version is {len} characters long; at most {max} are allowed (the OCI tag limit)"
    )]
    TooLong {
        /// Length of the rejected version in bytes.
        len: usize,
        /// The maximum length.
        max: usize,
    },
    /// The version is not SemVer 2 (`MAJOR.MINOR.PATCH[-PRERELEASE][+BUILD]`, optional leading `v`).
    #[error("chart version {version:?} is not a valid SemVer 2 version (MAJOR.MINOR.PATCH[-PRERELEASE][+BUILD], an optional leading 'v'): {reason}")]
    NotSemver {
        /// The rejected version.
        version: String,
        /// The parser's explanation.
        reason: String,
    },
}

/// Why a `Chart.yaml` (or a Helm OCI config) breaks Helm's metadata rules.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum MetadataError {
    /// `apiVersion` is missing or empty.
    #[error("Chart.yaml: apiVersion is required (\"v1\" or \"v2\")")]
    MissingApiVersion,
    /// `apiVersion` is neither `v1` nor `v2`.
    #[error("Chart.yaml: apiVersion {0:?} is not supported; it must be \"v1\" or \"v2\"")]
    UnsupportedApiVersion(String),
    /// `name` is missing or empty.
    #[error("Chart.yaml: name is required")]
    MissingName,
    /// `name` breaks the chart name rules.
    #[error("Chart.yaml: {0}")]
    InvalidName(#[source] ChartNameError),
    /// `version` is missing or empty.
    #[error("Chart.yaml: version is required")]
    MissingVersion,
    /// `version` is not SemVer 2.
    #[error("Chart.yaml: {0}")]
    InvalidVersion(#[source] ChartVersionError),
    /// `type` is neither empty, `application` nor `library`.
    #[error("Chart.yaml: type {0:?} is not supported; it must be \"application\" or \"library\"")]
    InvalidType(String),
    /// A dependency alias has characters other than letters, digits, `_` and `-`.
    #[error("Chart.yaml: dependency {name:?} has disallowed characters in its alias {alias:?} (allowed: letters, digits, '_' and '-')")]
    InvalidDependencyAlias {
        /// The dependency name.
        name: String,
        /// The rejected alias.
        alias: String,
    },
    /// Two dependencies share a name or alias.
    #[error("Chart.yaml: more than one dependency with name or alias {0:?}")]
    DuplicateDependency(String),
}

/// Why an uploaded chart package (`.tgz`) was rejected by [`crate::read_package`] or
/// [`crate::check_matches`].
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum PackageError {
    /// The body does not start with the gzip magic bytes.
    #[error("chart package is not gzip-compressed (a Helm chart package is a .tgz file)")]
    NotGzip,
    /// The gzip stream is corrupt or truncated.
    #[error("chart package has a corrupt gzip stream: {0}")]
    InvalidGzip(String),
    /// The tar stream inside the gzip is malformed.
    #[error("chart package has a malformed tar stream: {0}")]
    InvalidTar(String),
    /// The decompressed tar stream is larger than the limit.
    #[error(
        "chart package decompresses to more than {limit} bytes (limit max_uncompressed_bytes)"
    )]
    UncompressedTooLarge {
        /// The limit, in bytes.
        limit: u64,
    },
    /// The archive has more entries than the limit.
    #[error("chart package has more than {limit} tar entries (limit max_entries)")]
    TooManyEntries {
        /// The limit.
        limit: u64,
    },
    /// `Chart.yaml` is larger than the limit.
    #[error("{path} is {size} bytes; at most {limit} are allowed (limit max_chart_yaml_bytes)")]
    ChartYamlTooLarge {
        /// The entry path.
        path: String,
        /// The size declared by the tar header.
        size: u64,
        /// The limit, in bytes.
        limit: u64,
    },
    /// `README.md` is larger than the limit.
    #[error("{path} is {size} bytes; at most {limit} are allowed (limit max_readme_bytes)")]
    ReadmeTooLarge {
        /// The entry path.
        path: String,
        /// The size declared by the tar header.
        size: u64,
        /// The limit, in bytes.
        limit: u64,
    },
    /// An entry path is absolute, not normalized, contains `..`, lies outside the chart's
    /// single top-level directory, or a link points outside it.
    #[error("chart package entry {path:?} is not allowed: {reason}")]
    TarEntryEscapes {
        /// The entry path (lossily decoded), or the link target for links.
        path: String,
        /// Which rule was broken.
        reason: String,
    },
    /// An entry is a device, a FIFO or another kind that has no place in a chart.
    #[error("chart package entry {path:?} has unsupported type {kind}; only files, directories and links inside the chart are allowed")]
    UnsupportedEntryType {
        /// The entry path.
        path: String,
        /// The tar entry type.
        kind: String,
    },
    /// The same path appears twice in the archive.
    #[error("chart package contains {path:?} more than once")]
    DuplicateEntry {
        /// The duplicated path.
        path: String,
    },
    /// The top-level directory is not named after the chart.
    #[error("chart package top-level directory {directory:?} does not match the chart name {name:?} in Chart.yaml")]
    TopDirectoryMismatch {
        /// The top-level directory of the archive.
        directory: String,
        /// The name from `Chart.yaml`.
        name: String,
    },
    /// `<chart>/Chart.yaml` is missing.
    #[error("chart package has no Chart.yaml in its top-level directory{}", directory.as_deref().map(|d| format!(" {d:?}")).unwrap_or_default())]
    MissingChartYaml {
        /// The top-level directory, when the archive has one.
        directory: Option<String>,
    },
    /// `Chart.yaml` is not valid YAML or has fields of the wrong type.
    #[error("Chart.yaml is invalid: {message}")]
    InvalidChartYaml {
        /// The YAML parser's message.
        message: String,
    },
    /// `Chart.yaml` parses but breaks Helm's metadata rules.
    #[error(transparent)]
    InvalidMetadata(#[from] MetadataError),
    /// `Chart.yaml` names another chart than the upload target.
    #[error("Chart.yaml name {found:?} does not match the target chart {expected:?}")]
    NameMismatch {
        /// The target name.
        expected: String,
        /// The name in `Chart.yaml`.
        found: String,
    },
    /// `Chart.yaml` has another version than the upload target.
    #[error("Chart.yaml version {found:?} does not match the target version {expected:?}")]
    VersionMismatch {
        /// The target version.
        expected: String,
        /// The version in `Chart.yaml`.
        found: String,
    },
}

/// Any error of this crate: the umbrella for callers that do not care which step failed.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum HelmError {
    /// See [`ChartNameError`].
    #[error(transparent)]
    Name(#[from] ChartNameError),
    /// See [`ChartVersionError`].
    #[error(transparent)]
    Version(#[from] ChartVersionError),
    /// See [`MetadataError`].
    #[error(transparent)]
    Metadata(#[from] MetadataError),
    /// See [`PackageError`].
    #[error(transparent)]
    Package(#[from] PackageError),
    /// An `index.yaml` could not be parsed.
    #[error("index.yaml is invalid: {0}")]
    InvalidIndex(String),
    /// A Helm OCI config blob is not the JSON form of `Chart.yaml`.
    #[error("Helm OCI config is invalid: {0}")]
    InvalidOciConfig(String),
}

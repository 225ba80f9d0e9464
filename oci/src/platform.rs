//! Platforms of index / manifest-list entries, and the multi-arch table shown by the UI and API.

use crate::digest::Digest;
use crate::manifest::ParsedManifest;
use serde::Serialize;
use serde_json::Value;
use std::fmt;

/// Annotation key BuildKit puts on attestation entries of an index.
pub const DOCKER_REFERENCE_TYPE_ANNOTATION: &str = "vnd.docker.reference.type";
/// Its value on attestation entries (SBOM / provenance, with platform `unknown/unknown`).
pub const ATTESTATION_MANIFEST: &str = "attestation-manifest";

/// The platform of an index entry, as pushed (strings are kept verbatim).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct PlatformInfo {
    /// `os`, e.g. `linux`.
    pub os: String,
    /// `architecture`, e.g. `arm64`.
    pub architecture: String,
    /// `variant`, e.g. `v8`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub variant: Option<String>,
    /// `os.version`, e.g. `10.0.17763.5458` for Windows images.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub os_version: Option<String>,
}

impl PlatformInfo {
    /// Reads a descriptor's `platform` object; `None` unless `os` and `architecture` are
    /// strings (both are REQUIRED by the image spec).
    pub(crate) fn from_json(v: &Value) -> Option<Self> {
        let s = |k: &str| v.get(k).and_then(Value::as_str).map(str::to_owned);
        Some(Self {
            os: s("os")?,
            architecture: s("architecture")?,
            variant: s("variant").filter(|x| !x.is_empty()),
            os_version: s("os.version").filter(|x| !x.is_empty()),
        })
    }
}

impl fmt::Display for PlatformInfo {
    /// `os/architecture[/variant]`, as in `docker --platform`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.os, self.architecture)?;
        if let Some(v) = &self.variant {
            write!(f, "/{v}")?;
        }
        Ok(())
    }
}

/// One row of the multi-arch table of an index / manifest list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PlatformRow {
    /// The entry's manifest digest.
    pub digest: Digest,
    /// The entry's media type.
    pub media_type: String,
    /// The entry's manifest size in bytes.
    pub size: u64,
    /// Its platform, when the entry has one.
    pub platform: Option<PlatformInfo>,
    /// Whether the entry is a BuildKit attestation (SBOM/provenance) rather than a runnable
    /// image; UIs usually hide or separate these.
    pub attestation: bool,
}

impl PlatformRow {
    /// `os/architecture[/variant]`, or `unknown` when the entry has no platform.
    pub fn platform_label(&self) -> String {
        self.platform
            .as_ref()
            .map_or_else(|| "unknown".to_owned(), ToString::to_string)
    }
}

impl ParsedManifest {
    /// The multi-arch table: one row per entry of an index / manifest list, in document order
    /// (empty for image manifests).
    pub fn platform_rows(&self) -> Vec<PlatformRow> {
        self.child_manifests()
            .iter()
            .map(|d| PlatformRow {
                digest: d.digest().clone(),
                media_type: d.media_type().to_owned(),
                size: d.size(),
                platform: d.platform().cloned(),
                attestation: d
                    .annotations()
                    .and_then(|a| a.get(DOCKER_REFERENCE_TYPE_ANNOTATION))
                    .is_some_and(|v| v == ATTESTATION_MANIFEST),
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures;
    use crate::media;

    #[test]
    fn oci_index_rows() {
        let m = ParsedManifest::parse(Some(media::OCI_IMAGE_INDEX), fixtures::OCI_INDEX.as_bytes())
            .unwrap();
        let rows = m.platform_rows();
        let labels: Vec<_> = rows.iter().map(PlatformRow::platform_label).collect();
        assert_eq!(labels, ["linux/amd64", "linux/arm64/v8", "unknown/unknown"]);
        assert_eq!(
            rows[0].digest.as_str(),
            "sha256:e692418e4cbaf90ca69d05a66403747baa33ee08806650b51fab815ad7fc331f"
        );
        assert_eq!(rows[1].size, 7682);
        assert_eq!(
            rows[1].platform.as_ref().unwrap().variant.as_deref(),
            Some("v8")
        );
        assert_eq!(
            rows.iter().map(|r| r.attestation).collect::<Vec<_>>(),
            [false, false, true]
        );
        let json = serde_json::to_value(&rows[1]).unwrap();
        assert_eq!(json["platform"]["architecture"], "arm64");
        assert_eq!(json["digest"], rows[1].digest.as_str());
    }

    #[test]
    fn docker_list_rows_keep_os_version() {
        let m = ParsedManifest::parse(None, fixtures::DOCKER_LIST.as_bytes()).unwrap();
        let rows = m.platform_rows();
        assert_eq!(rows.len(), 3);
        let win = rows[2].platform.as_ref().unwrap();
        assert_eq!(win.to_string(), "windows/amd64");
        assert_eq!(win.os_version.as_deref(), Some("10.0.17763.5458"));
        assert!(rows
            .iter()
            .all(|r| r.media_type == media::DOCKER_MANIFEST_V2));
    }

    #[test]
    fn image_manifest_has_no_rows() {
        let m = ParsedManifest::parse(None, fixtures::OCI_IMAGE.as_bytes()).unwrap();
        assert!(m.platform_rows().is_empty());
    }

    #[test]
    fn only_attestation_references_are_attestations() {
        let body =
            fixtures::OCI_INDEX.replacen("\"attestation-manifest\"", "\"something-else\"", 1);
        assert_ne!(body, fixtures::OCI_INDEX);
        let m = ParsedManifest::parse(None, body.as_bytes()).unwrap();
        assert!(m.platform_rows().iter().all(|r| !r.attestation));
    }

    #[test]
    fn row_without_platform() {
        let body = format!(
            r#"{{"schemaVersion":2,"mediaType":"{}","manifests":[{{"mediaType":"{}","size":1,"digest":"{}"}}]}}"#,
            media::OCI_IMAGE_INDEX,
            media::OCI_IMAGE_MANIFEST,
            Digest::sha256_of(b"x")
        );
        let rows = ParsedManifest::parse(None, body.as_bytes())
            .unwrap()
            .platform_rows();
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].platform, None);
        assert_eq!(rows[0].platform_label(), "unknown");
    }
}

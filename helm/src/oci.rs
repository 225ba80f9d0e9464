//! Helm charts stored as OCI artifacts (`helm push oci://…`).
//!
//! Helm writes an OCI image manifest whose config blob is the chart's `Chart.yaml` metadata as
//! JSON (Helm's `json.Marshal(chart.Metadata)`, the same camelCase field names), one layer with
//! the `.tgz`, and optionally one with the provenance file. OCI tags cannot hold `+`, so Helm
//! writes SemVer build metadata with `_` in the tag (`1.0.0+build` is tagged `1.0.0_build`).

use crate::chart::{ChartMetadata, ChartVersion};
use crate::error::{ChartVersionError, HelmError};

/// Media type of the config blob of a Helm chart artifact.
pub const CONFIG_MEDIA_TYPE: &str = "application/vnd.cncf.helm.config.v1+json";
/// Media type of the chart layer (the `.tgz`).
pub const CHART_LAYER_MEDIA_TYPE: &str = "application/vnd.cncf.helm.chart.content.v1.tar+gzip";
/// Media type of the provenance layer (`.tgz.prov`).
pub const PROVENANCE_LAYER_MEDIA_TYPE: &str = "application/vnd.cncf.helm.chart.provenance.v1.prov";

/// Reads the chart metadata from a Helm OCI config blob and checks it with
/// [`ChartMetadata::validate`].
///
/// ```
/// let blob = br#"{"apiVersion":"v2","name":"demo","version":"0.1.0","appVersion":"1.0"}"#;
/// let md = arca_helm::oci::metadata_from_config(blob).unwrap();
/// assert_eq!(md.name, "demo");
/// ```
pub fn metadata_from_config(blob: &[u8]) -> Result<ChartMetadata, HelmError> {
    let md: ChartMetadata =
        serde_json::from_slice(blob).map_err(|e| HelmError::InvalidOciConfig(e.to_string()))?;
    md.validate()?;
    Ok(md)
}

/// The config blob Helm would write for `metadata` (compact JSON, empty fields left out).
pub fn config_from_metadata(metadata: &ChartMetadata) -> Vec<u8> {
    // Serializing plain strings, vectors and maps cannot fail.
    serde_json::to_vec(metadata).unwrap_or_default()
}

/// The OCI tag Helm uses for a chart version (`+` becomes `_`).
pub fn tag_for_version(version: &ChartVersion) -> String {
    version.as_str().replace('+', "_")
}

/// The chart version behind an OCI tag written by Helm (`_` becomes `+`).
pub fn version_from_tag(tag: &str) -> Result<ChartVersion, ChartVersionError> {
    tag.replace('_', "+").parse()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::MetadataError;

    #[test]
    fn media_types_are_helms() {
        assert_eq!(
            CONFIG_MEDIA_TYPE,
            "application/vnd.cncf.helm.config.v1+json"
        );
        assert_eq!(
            CHART_LAYER_MEDIA_TYPE,
            "application/vnd.cncf.helm.chart.content.v1.tar+gzip"
        );
        assert_eq!(
            PROVENANCE_LAYER_MEDIA_TYPE,
            "application/vnd.cncf.helm.chart.provenance.v1.prov"
        );
    }

    #[test]
    fn reads_a_config_as_helm_writes_it() {
        let blob = br#"{"name":"demo","home":"https://x.example","version":"0.1.0+g1",
            "description":"A demo","keywords":["a","b"],"maintainers":[{"name":"me","email":"me@x"}],
            "apiVersion":"v2","appVersion":"1.16.0","annotations":{"k":"v"},
            "dependencies":[{"name":"common","version":"1.x","repository":"oci://r/c","import-values":["data"]}],
            "type":"application"}"#;
        let md = metadata_from_config(blob).unwrap();
        assert_eq!(md.name, "demo");
        assert_eq!(md.version, "0.1.0+g1");
        assert_eq!(md.app_version, "1.16.0");
        assert_eq!(md.keywords, ["a", "b"]);
        assert_eq!(md.maintainers[0].email, "me@x");
        assert_eq!(md.dependencies[0].repository, "oci://r/c");
        assert_eq!(
            md.dependencies[0].import_values,
            [serde_json::json!("data")]
        );
        assert_eq!(md.annotations["k"], "v");
        // And back: the same JSON field names.
        let again = config_from_metadata(&md);
        let v: serde_json::Value = serde_json::from_slice(&again).unwrap();
        assert_eq!(v["apiVersion"], "v2");
        assert_eq!(v["appVersion"], "1.16.0");
        assert_eq!(v["dependencies"][0]["import-values"][0], "data");
        assert!(v.get("deprecated").is_none(), "false fields are omitted");
        assert_eq!(metadata_from_config(&again).unwrap(), md);
    }

    #[test]
    fn rejects_bad_configs() {
        assert!(matches!(
            metadata_from_config(b"not json"),
            Err(HelmError::InvalidOciConfig(_))
        ));
        assert!(matches!(
            metadata_from_config(br#"{"name":"demo","version":"0.1.0"}"#),
            Err(HelmError::Metadata(MetadataError::MissingApiVersion))
        ));
        assert!(matches!(
            metadata_from_config(br#"{"apiVersion":"v2","name":"Demo","version":"0.1.0"}"#),
            Err(HelmError::Metadata(MetadataError::InvalidName(_)))
        ));
    }

    #[test]
    fn tags_swap_plus_and_underscore() {
        let v: ChartVersion = "1.0.0-rc.1+build.5".parse().unwrap();
        assert_eq!(tag_for_version(&v), "1.0.0-rc.1_build.5");
        assert_eq!(version_from_tag("1.0.0-rc.1_build.5").unwrap(), v);
        assert!(version_from_tag("latest").is_err());
    }
}

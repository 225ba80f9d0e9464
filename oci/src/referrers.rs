//! The referrers API response (`GET /v2/<name>/referrers/<digest>`).
//!
//! The answer is an OCI image index (`Content-Type: application/vnd.oci.image.index.v1+json`)
//! whose `manifests` are descriptors of the manifests whose `subject` is `<digest>`, each with
//! `artifactType` and the manifest's annotations (build them with
//! [`crate::ParsedManifest::referrer_descriptor`]). No referrers is an empty list, never a 404.
//! With `?artifactType=` the list is filtered and the response carries
//! `OCI-Filters-Applied: artifactType`. An empty `artifactType` value means "no filter".
//! Pagination (`Link`) is the server's business: pass one page of descriptors.

use crate::media;
use oci_spec::image::{Descriptor, ImageIndex, ImageIndexBuilder, MediaType};

/// Response header naming the filters that were applied.
pub const FILTERS_APPLIED_HEADER: &str = "OCI-Filters-Applied";
/// Its value when the `artifactType` filter was applied.
pub const ARTIFACT_TYPE_FILTER: &str = "artifactType";

/// A referrers response: the index to serve, and whether a filter was applied.
#[derive(Debug, Clone, PartialEq)]
pub struct ReferrersResponse {
    index: ImageIndex,
    filtered: bool,
}

impl ReferrersResponse {
    /// Builds the response from the referrers' descriptors (kept in the given order), keeping
    /// only those whose `artifactType` equals `artifact_type` when a non-empty one is given.
    pub fn build(
        referrers: impl IntoIterator<Item = Descriptor>,
        artifact_type: Option<&str>,
    ) -> Self {
        let filter = artifact_type.filter(|t| !t.is_empty());
        let manifests: Vec<Descriptor> = referrers
            .into_iter()
            .filter(|d| match filter {
                None => true,
                Some(t) => d.artifact_type().as_ref().is_some_and(|a| a.as_ref() == t),
            })
            .collect();
        let index = ImageIndexBuilder::default()
            .schema_version(2u32)
            .media_type(MediaType::ImageIndex)
            .manifests(manifests)
            .build()
            .expect("schemaVersion and manifests, the builder's only required fields, are set");
        Self {
            index,
            filtered: filter.is_some(),
        }
    }

    /// The index.
    pub fn index(&self) -> &ImageIndex {
        &self.index
    }

    /// The `OCI-Filters-Applied` value to send, if a filter was applied.
    pub fn filters_applied(&self) -> Option<&'static str> {
        self.filtered.then_some(ARTIFACT_TYPE_FILTER)
    }

    /// The `Content-Type` to send.
    pub fn content_type(&self) -> &'static str {
        media::OCI_IMAGE_INDEX
    }

    /// The body.
    pub fn to_json(&self) -> Result<String, serde_json::Error> {
        serde_json::to_string(&self.index)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{fixtures, Digest, ParsedManifest};
    use serde_json::{json, Value};

    fn sbom_and_signature() -> Vec<Descriptor> {
        let a = ParsedManifest::parse(None, fixtures::ARTIFACT.as_bytes()).unwrap();
        let d1 = a.referrer_descriptor(&Digest::sha256_of(fixtures::ARTIFACT.as_bytes()));
        let b = ParsedManifest::parse(None, fixtures::OCI_IMAGE.as_bytes()).unwrap();
        let d2 = b.referrer_descriptor(&Digest::sha256_of(fixtures::OCI_IMAGE.as_bytes()));
        vec![d1, d2]
    }

    #[test]
    fn unfiltered_matches_spec_shape() {
        let r = ReferrersResponse::build(sbom_and_signature(), None);
        assert_eq!(r.filters_applied(), None);
        assert_eq!(r.content_type(), "application/vnd.oci.image.index.v1+json");
        let v: Value = serde_json::from_str(&r.to_json().unwrap()).unwrap();
        assert_eq!(v["schemaVersion"], 2);
        assert_eq!(v["mediaType"], media::OCI_IMAGE_INDEX);
        let m = v["manifests"].as_array().unwrap();
        assert_eq!(m.len(), 2);
        assert_eq!(
            m[0],
            json!({
                "mediaType": media::OCI_IMAGE_MANIFEST,
                "size": fixtures::ARTIFACT.len(),
                "digest": Digest::sha256_of(fixtures::ARTIFACT.as_bytes()).as_str(),
                "artifactType": "application/vnd.example.sbom.v1",
                "annotations": {
                    "org.opencontainers.image.created": "2023-01-02T03:04:05Z",
                    "org.example.sbom.format": "json"
                }
            })
        );
        // An image without artifactType is listed with its config media type.
        assert_eq!(m[1]["artifactType"], media::OCI_IMAGE_CONFIG);
    }

    #[test]
    fn filtered() {
        let r = ReferrersResponse::build(
            sbom_and_signature(),
            Some("application/vnd.example.sbom.v1"),
        );
        assert_eq!(r.filters_applied(), Some("artifactType"));
        assert_eq!(r.index().manifests().len(), 1);
        let r = ReferrersResponse::build(sbom_and_signature(), Some("application/none"));
        assert_eq!(r.filters_applied(), Some("artifactType"));
        assert!(r.index().manifests().is_empty());
        let r = ReferrersResponse::build(sbom_and_signature(), Some(""));
        assert_eq!(
            (r.filters_applied(), r.index().manifests().len()),
            (None, 2)
        );
    }

    #[test]
    fn empty_list_is_an_empty_array() {
        let r = ReferrersResponse::build(Vec::new(), None);
        let v: Value = serde_json::from_str(&r.to_json().unwrap()).unwrap();
        assert_eq!(
            v,
            json!({"schemaVersion": 2, "mediaType": media::OCI_IMAGE_INDEX, "manifests": []})
        );
    }

    #[test]
    fn index_referrer_without_artifact_type_omits_it() {
        let body = format!(
            r#"{{"schemaVersion":2,"mediaType":"{}","manifests":[],"subject":{{"mediaType":"{}","size":1,"digest":"{}"}},"annotations":{{"k":"v"}}}}"#,
            media::OCI_IMAGE_INDEX,
            media::OCI_IMAGE_MANIFEST,
            Digest::sha256_of(b"s")
        );
        let p = ParsedManifest::parse(None, body.as_bytes()).unwrap();
        let d = p.referrer_descriptor(&Digest::sha256_of(body.as_bytes()));
        let v = serde_json::to_value(&d).unwrap();
        assert!(v.get("artifactType").is_none(), "{v}");
        assert_eq!(v["annotations"], json!({"k": "v"}));
        assert_eq!(v["mediaType"], media::OCI_IMAGE_INDEX);
    }
}

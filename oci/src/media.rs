//! Media type constants for manifests, configs and layers (OCI and Docker).
//!
//! Plain `&str` constants (rather than `oci_spec::image::MediaType`, which has no Docker
//! variants) so they can be compared with headers and used in `match` arms directly.

/// OCI image manifest.
pub const OCI_IMAGE_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
/// OCI image index.
pub const OCI_IMAGE_INDEX: &str = "application/vnd.oci.image.index.v1+json";
/// OCI empty descriptor (`{}`, 2 bytes), used as the config of artifacts.
pub const OCI_EMPTY: &str = "application/vnd.oci.empty.v1+json";
/// OCI image config.
pub const OCI_IMAGE_CONFIG: &str = "application/vnd.oci.image.config.v1+json";
/// OCI uncompressed layer.
pub const OCI_LAYER_TAR: &str = "application/vnd.oci.image.layer.v1.tar";
/// OCI gzip layer.
pub const OCI_LAYER_TAR_GZIP: &str = "application/vnd.oci.image.layer.v1.tar+gzip";
/// OCI zstd layer.
pub const OCI_LAYER_TAR_ZSTD: &str = "application/vnd.oci.image.layer.v1.tar+zstd";
/// OCI non-distributable layer (deprecated by image-spec 1.1, still seen).
pub const OCI_LAYER_NONDISTRIBUTABLE_TAR: &str =
    "application/vnd.oci.image.layer.nondistributable.v1.tar";
/// OCI non-distributable gzip layer (deprecated by image-spec 1.1, still seen).
pub const OCI_LAYER_NONDISTRIBUTABLE_TAR_GZIP: &str =
    "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip";
/// OCI non-distributable zstd layer (deprecated by image-spec 1.1, still seen).
pub const OCI_LAYER_NONDISTRIBUTABLE_TAR_ZSTD: &str =
    "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd";
/// The short-lived OCI artifact manifest of image-spec 1.1 release candidates. It was dropped
/// before 1.1.0 and is not accepted; listed so errors can name it.
pub const OCI_ARTIFACT_MANIFEST: &str = "application/vnd.oci.artifact.manifest.v1+json";

/// Docker image manifest, schema 2.
pub const DOCKER_MANIFEST_V2: &str = "application/vnd.docker.distribution.manifest.v2+json";
/// Docker manifest list (multi-arch), schema 2.
pub const DOCKER_MANIFEST_LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";
/// Docker schema 1 signed manifest. Recognized only to be rejected with a clear error.
pub const DOCKER_MANIFEST_V1_SIGNED: &str =
    "application/vnd.docker.distribution.manifest.v1+prettyjws";
/// Docker schema 1 unsigned manifest. Recognized only to be rejected with a clear error.
pub const DOCKER_MANIFEST_V1: &str = "application/vnd.docker.distribution.manifest.v1+json";
/// Docker container image config.
pub const DOCKER_CONFIG: &str = "application/vnd.docker.container.image.v1+json";
/// Docker gzip layer.
pub const DOCKER_LAYER_TAR_GZIP: &str = "application/vnd.docker.image.rootfs.diff.tar.gzip";
/// Docker foreign (non-distributable, e.g. Windows base) gzip layer.
pub const DOCKER_FOREIGN_LAYER_TAR_GZIP: &str =
    "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip";
/// Docker plugin config.
pub const DOCKER_PLUGIN_CONFIG: &str = "application/vnd.docker.plugin.v1+json";

/// The four manifest media types Arca accepts, in the order of preference used for `Accept`.
pub const ACCEPTED_MANIFEST_TYPES: [&str; 4] = [
    OCI_IMAGE_MANIFEST,
    OCI_IMAGE_INDEX,
    DOCKER_MANIFEST_V2,
    DOCKER_MANIFEST_LIST,
];

/// The media type proper of a `Content-Type` value: parameters (`; charset=...`) and surrounding
/// whitespace removed. The spec says registries SHOULD ignore `Content-Type` parameters.
pub fn essence(content_type: &str) -> &str {
    content_type.split(';').next().unwrap_or("").trim()
}

/// Whether `media_type` is a Docker schema 1 manifest type (signed or not).
pub fn is_docker_schema1(media_type: &str) -> bool {
    let m = essence(media_type);
    m.eq_ignore_ascii_case(DOCKER_MANIFEST_V1_SIGNED) || m.eq_ignore_ascii_case(DOCKER_MANIFEST_V1)
}

/// Whether `media_type` is a config type of a container image (as opposed to an artifact).
pub fn is_image_config(media_type: &str) -> bool {
    let m = essence(media_type);
    m.eq_ignore_ascii_case(OCI_IMAGE_CONFIG) || m.eq_ignore_ascii_case(DOCKER_CONFIG)
}

/// Whether `media_type` is a known container image layer type (OCI or Docker).
pub fn is_image_layer(media_type: &str) -> bool {
    let m = essence(media_type);
    [
        OCI_LAYER_TAR,
        OCI_LAYER_TAR_GZIP,
        OCI_LAYER_TAR_ZSTD,
        OCI_LAYER_NONDISTRIBUTABLE_TAR,
        OCI_LAYER_NONDISTRIBUTABLE_TAR_GZIP,
        OCI_LAYER_NONDISTRIBUTABLE_TAR_ZSTD,
        DOCKER_LAYER_TAR_GZIP,
        DOCKER_FOREIGN_LAYER_TAR_GZIP,
    ]
    .iter()
    .any(|t| m.eq_ignore_ascii_case(t))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constants_match_oci_spec() {
        use oci_spec::image::MediaType;
        assert_eq!(MediaType::ImageManifest.as_ref(), OCI_IMAGE_MANIFEST);
        assert_eq!(MediaType::ImageIndex.as_ref(), OCI_IMAGE_INDEX);
        assert_eq!(MediaType::EmptyJSON.as_ref(), OCI_EMPTY);
        assert_eq!(MediaType::ImageConfig.as_ref(), OCI_IMAGE_CONFIG);
        assert_eq!(MediaType::ImageLayerGzip.as_ref(), OCI_LAYER_TAR_GZIP);
        assert_eq!(MediaType::ImageLayerZstd.as_ref(), OCI_LAYER_TAR_ZSTD);
        assert_eq!(MediaType::ArtifactManifest.as_ref(), OCI_ARTIFACT_MANIFEST);
    }

    #[test]
    fn essence_strips_parameters() {
        assert_eq!(
            essence(" application/json ; charset=utf-8"),
            "application/json"
        );
        assert_eq!(essence(OCI_IMAGE_INDEX), OCI_IMAGE_INDEX);
        assert_eq!(essence(""), "");
    }

    #[test]
    fn classifiers() {
        assert!(is_docker_schema1(DOCKER_MANIFEST_V1_SIGNED));
        assert!(is_docker_schema1(
            "Application/Vnd.Docker.Distribution.Manifest.V1+JSON; x=y"
        ));
        assert!(!is_docker_schema1(DOCKER_MANIFEST_V2));
        assert!(is_image_config(DOCKER_CONFIG));
        assert!(!is_image_config(OCI_EMPTY));
        assert!(is_image_layer(DOCKER_FOREIGN_LAYER_TAR_GZIP));
        assert!(is_image_layer(OCI_LAYER_TAR));
        assert!(!is_image_layer("application/vnd.example.sbom.v1"));
    }
}

//! Tests of [`super::ParsedManifest`].

use super::*;
use crate::fixtures::{self, *};
use proptest::prelude::*;

fn parse(ct: Option<&str>, body: &str) -> Result<ParsedManifest, ManifestError> {
    ParsedManifest::parse(ct, body.as_bytes())
}

fn digests(ds: &[&ValidatedDescriptor]) -> Vec<String> {
    ds.iter().map(|d| d.digest().to_string()).collect()
}

/// The fixture of each kind.
fn body_of(kind: ManifestKind) -> &'static str {
    match kind {
        ManifestKind::OciImage => OCI_IMAGE,
        ManifestKind::OciIndex => OCI_INDEX,
        ManifestKind::DockerImage => DOCKER_IMAGE,
        ManifestKind::DockerList => DOCKER_LIST,
    }
}

const KINDS: [ManifestKind; 4] = [
    ManifestKind::OciImage,
    ManifestKind::OciIndex,
    ManifestKind::DockerImage,
    ManifestKind::DockerList,
];

#[test]
fn oci_image_manifest() {
    let m = parse(Some(media::OCI_IMAGE_MANIFEST), OCI_IMAGE).unwrap();
    assert_eq!(m.kind(), ManifestKind::OciImage);
    assert_eq!(m.media_type(), media::OCI_IMAGE_MANIFEST);
    assert_eq!(m.size(), OCI_IMAGE.len() as u64);
    let blobs = m.referenced_blobs();
    assert_eq!(
        digests(&blobs),
        [
            "sha256:b5b2b2c507a0944348e0303114d8d93aaaa081732b86451d9bce1f432a537bc7",
            "sha256:9834876dcfb05cb167a5c24953eba58c4ac89b1adf57f28f2f9d09af107ee8f0",
            "sha256:3c3a4604a545cdc127456d94e421cd355bca5b528f4a9c1905b15da2eb4a4c6b",
            "sha256:ec4b8955958665577945c89419d1af06b5f7636b4ac3da7f12184802ad867736",
        ]
    );
    assert_eq!(blobs[0].media_type(), media::OCI_IMAGE_CONFIG);
    assert_eq!(
        blobs.iter().map(|b| b.size()).sum::<u64>(),
        7023 + 32654 + 16724 + 73109
    );
    assert_eq!(m.config().map(|c| c.size()), Some(7023));
    assert_eq!(m.layers().len(), 3);
    assert!(m.child_manifests().is_empty());
    assert!(m.subject().is_none());
    assert_eq!(m.artifact_type(), Some(media::OCI_IMAGE_CONFIG));
    assert_eq!(m.annotations().unwrap()["com.example.key2"], "value2");
    assert!(m.image_manifest().is_some() && m.image_index().is_none());
}

#[test]
fn oci_index_two_platforms() {
    let m = parse(Some(media::OCI_IMAGE_INDEX), OCI_INDEX).unwrap();
    assert_eq!(m.kind(), ManifestKind::OciIndex);
    assert!(m.kind().is_index() && !m.kind().is_docker());
    assert!(m.referenced_blobs().is_empty());
    let children = m.child_manifests();
    assert_eq!(children.len(), 3);
    let p = children[1].platform().unwrap();
    assert_eq!(
        (p.os.as_str(), p.architecture.as_str(), p.variant.as_deref()),
        ("linux", "arm64", Some("v8"))
    );
    assert_eq!(children[0].platform().unwrap().to_string(), "linux/amd64");
    assert_eq!(children[1].media_type(), media::OCI_IMAGE_MANIFEST);
    assert_eq!(children[1].size(), 7682);
    assert_eq!(m.artifact_type(), None);
    assert_eq!(m.annotations().unwrap()["com.example.key1"], "value1");
    assert!(m.image_index().is_some() && m.config().is_none());
}

#[test]
fn docker_schema2_manifest() {
    let m = parse(Some(media::DOCKER_MANIFEST_V2), DOCKER_IMAGE).unwrap();
    assert_eq!(m.kind(), ManifestKind::DockerImage);
    assert!(m.kind().is_docker());
    let blobs = m.referenced_blobs();
    assert_eq!(blobs.len(), 4);
    assert_eq!(blobs[0].media_type(), media::DOCKER_CONFIG);
    assert_eq!(blobs[3].media_type(), media::DOCKER_FOREIGN_LAYER_TAR_GZIP);
    assert_eq!(m.artifact_type(), Some(media::DOCKER_CONFIG));
}

#[test]
fn docker_manifest_list() {
    let m = parse(Some(media::DOCKER_MANIFEST_LIST), DOCKER_LIST).unwrap();
    assert_eq!(m.kind(), ManifestKind::DockerList);
    assert!(m.referenced_blobs().is_empty());
    let labels: Vec<String> = m
        .child_manifests()
        .iter()
        .map(|c| c.platform().unwrap().to_string())
        .collect();
    assert_eq!(labels, ["linux/ppc64le", "linux/amd64", "windows/amd64"]);
}

#[test]
fn artifact_with_subject() {
    let m = parse(Some(media::OCI_IMAGE_MANIFEST), ARTIFACT).unwrap();
    assert_eq!(m.artifact_type(), Some("application/vnd.example.sbom.v1"));
    let s = m.subject().unwrap();
    assert_eq!(
        s.digest().as_str(),
        "sha256:5b0bcabd1ed22e9fb1310cf6c2dec7cdef19f0ad69efa1f392e94a4333501270"
    );
    assert_eq!(
        (s.media_type(), s.size()),
        (media::OCI_IMAGE_MANIFEST, 7682)
    );
    assert_eq!(m.config().unwrap().media_type(), media::OCI_EMPTY);
    assert_eq!(m.config().unwrap().digest(), &Digest::sha256_of(b"{}"));
    assert_eq!(
        m.layers()[0].annotations().unwrap()["org.opencontainers.image.title"],
        "sbom.spdx.json"
    );

    let digest = Digest::sha256_of(ARTIFACT.as_bytes());
    let d = m.referrer_descriptor(&digest);
    assert_eq!(d.digest().as_ref(), digest.as_str());
    assert_eq!(d.size(), ARTIFACT.len() as u64);
    assert_eq!(d.media_type().as_ref(), media::OCI_IMAGE_MANIFEST);
    assert_eq!(
        d.artifact_type().as_ref().map(|a| a.as_ref()),
        Some("application/vnd.example.sbom.v1")
    );
    assert_eq!(
        d.annotations().as_ref().unwrap()["org.example.sbom.format"],
        "json"
    );
}

#[test]
fn empty_artifact_type_falls_back_to_config() {
    let body = ARTIFACT.replace("application/vnd.example.sbom.v1", "");
    let m = parse(None, &body).unwrap();
    assert_eq!(m.artifact_type(), Some(media::OCI_EMPTY));
}

#[test]
fn header_and_body_must_agree() {
    for (h, b) in [
        (media::OCI_IMAGE_INDEX, OCI_IMAGE),
        (media::DOCKER_MANIFEST_V2, OCI_IMAGE),
        (media::OCI_IMAGE_MANIFEST, DOCKER_IMAGE),
        (media::DOCKER_MANIFEST_LIST, OCI_INDEX),
    ] {
        let e = parse(Some(h), b).unwrap_err();
        assert!(
            matches!(&e, ManifestError::MediaTypeMismatch { header, .. } if header == h),
            "{e}"
        );
        assert_eq!(e.status(), 400);
    }
}

#[test]
fn kind_from_header_body_or_neither() {
    let no_type = OCI_IMAGE.replace(
        r#""mediaType": "application/vnd.oci.image.manifest.v1+json","#,
        "",
    );
    assert!(!no_type.contains(media::OCI_IMAGE_MANIFEST));
    assert_eq!(
        parse(Some(media::OCI_IMAGE_MANIFEST), &no_type)
            .unwrap()
            .kind(),
        ManifestKind::OciImage
    );
    // The same body with a Docker header is a Docker image: the header decides.
    assert_eq!(
        parse(Some(media::DOCKER_MANIFEST_V2), &no_type)
            .unwrap()
            .kind(),
        ManifestKind::DockerImage
    );
    assert_eq!(
        parse(None, &no_type).unwrap_err(),
        ManifestError::MissingMediaType
    );
    assert_eq!(
        parse(Some("application/json"), &no_type).unwrap_err(),
        ManifestError::MissingMediaType
    );
    // Body decides when the header is absent, generic or carries parameters.
    assert_eq!(
        parse(None, DOCKER_LIST).unwrap().kind(),
        ManifestKind::DockerList
    );
    assert_eq!(
        parse(Some("application/octet-stream"), OCI_INDEX)
            .unwrap()
            .kind(),
        ManifestKind::OciIndex
    );
    let with_params = format!("{}; charset=utf-8", media::OCI_IMAGE_MANIFEST);
    assert_eq!(
        parse(Some(&with_params), OCI_IMAGE).unwrap().kind(),
        ManifestKind::OciImage
    );
    assert_eq!(
        parse(Some(""), OCI_IMAGE).unwrap().kind(),
        ManifestKind::OciImage
    );
    // An empty mediaType (Go's zero value) counts as absent.
    let empty_type = OCI_IMAGE.replace(media::OCI_IMAGE_MANIFEST, "");
    assert_eq!(
        parse(Some(media::DOCKER_MANIFEST_V2), &empty_type)
            .unwrap()
            .kind(),
        ManifestKind::DockerImage
    );
    let null_type = OCI_IMAGE.replace(r#""application/vnd.oci.image.manifest.v1+json""#, "null");
    assert_eq!(
        parse(Some(media::OCI_IMAGE_MANIFEST), &null_type)
            .unwrap()
            .kind(),
        ManifestKind::OciImage
    );
}

#[test]
fn schema1_is_rejected_clearly() {
    for ct in [
        None,
        Some(media::DOCKER_MANIFEST_V1_SIGNED),
        Some(media::DOCKER_MANIFEST_V1),
        Some("application/json"),
    ] {
        let e = parse(ct, DOCKER_SCHEMA1_SIGNED).unwrap_err();
        assert_eq!(e, ManifestError::Schema1, "{ct:?}");
        assert_eq!((e.error_code(), e.status()), (ErrorCode::Unsupported, 415));
        assert!(e.to_string().contains("schema 1"));
    }
    // A schema1 type in the body wins even with an otherwise valid v2 shape.
    let body = OCI_IMAGE.replace(media::OCI_IMAGE_MANIFEST, media::DOCKER_MANIFEST_V1_SIGNED);
    assert_eq!(parse(None, &body).unwrap_err(), ManifestError::Schema1);
    // Claiming OCI with schemaVersion 1 is a wrong schemaVersion, not schema1.
    assert_eq!(
        parse(Some(media::OCI_IMAGE_MANIFEST), DOCKER_SCHEMA1_SIGNED).unwrap_err(),
        ManifestError::InvalidSchemaVersion("1".into())
    );
}

#[test]
fn schema_version_must_be_2() {
    for (from, to, shown) in [
        ("2", "3", "3"),
        ("2", "\"2\"", "\"2\""),
        ("2", "2.0", "2.0"),
        ("2", "null", "null"),
    ] {
        let body = OCI_IMAGE.replacen(
            &format!("\"schemaVersion\": {from}"),
            &format!("\"schemaVersion\": {to}"),
            1,
        );
        assert_eq!(
            parse(None, &body).unwrap_err(),
            ManifestError::InvalidSchemaVersion(shown.into()),
            "{to}"
        );
    }
    let body = OCI_IMAGE.replacen("\"schemaVersion\": 2,", "", 1);
    assert_eq!(
        parse(None, &body).unwrap_err(),
        ManifestError::InvalidSchemaVersion("none".into())
    );
}

#[test]
fn unknown_media_types() {
    let e = parse(Some(media::OCI_ARTIFACT_MANIFEST), OCI_IMAGE).unwrap_err();
    assert_eq!(
        e,
        ManifestError::UnsupportedMediaType(media::OCI_ARTIFACT_MANIFEST.into())
    );
    assert_eq!(e.status(), 415);
    let body = OCI_IMAGE.replace(media::OCI_IMAGE_MANIFEST, "application/vnd.example+json");
    assert!(
        matches!(parse(None, &body), Err(ManifestError::UnsupportedMediaType(t)) if t == "application/vnd.example+json")
    );
    assert!(matches!(
        parse(Some("text/html"), OCI_IMAGE),
        Err(ManifestError::UnsupportedMediaType(_))
    ));
}

#[test]
fn malformed_bodies() {
    assert!(matches!(
        parse(None, ""),
        Err(ManifestError::MalformedJson(_))
    ));
    assert!(matches!(
        parse(None, "{\"schemaVersion\":2,"),
        Err(ManifestError::MalformedJson(_))
    ));
    assert_eq!(parse(None, "[]").unwrap_err(), ManifestError::NotAnObject);
    assert_eq!(parse(None, "null").unwrap_err(), ManifestError::NotAnObject);
    let body = OCI_IMAGE.replace(r#""application/vnd.oci.image.manifest.v1+json""#, "7");
    assert_eq!(
        parse(None, &body).unwrap_err(),
        ManifestError::MediaTypeNotString
    );
    // Structure errors come from oci-spec's types.
    let no_config = format!(
        r#"{{"schemaVersion":2,"mediaType":"{}","layers":[]}}"#,
        media::OCI_IMAGE_MANIFEST
    );
    let e = parse(None, &no_config).unwrap_err();
    assert!(
        matches!(&e, ManifestError::Invalid { kind: ManifestKind::OciImage, reason } if reason.contains("config")),
        "{e}"
    );
    assert_eq!(e.error_code(), ErrorCode::ManifestInvalid);
    // An image-shaped body pushed as an index is invalid (no `manifests`).
    let no_type = OCI_IMAGE.replace(
        r#""mediaType": "application/vnd.oci.image.manifest.v1+json","#,
        "",
    );
    assert!(matches!(
        parse(Some(media::OCI_IMAGE_INDEX), &no_type),
        Err(ManifestError::Invalid {
            kind: ManifestKind::OciIndex,
            ..
        })
    ));
    let negative = OCI_IMAGE.replace("7023", "-1");
    assert!(matches!(
        parse(None, &negative),
        Err(ManifestError::Invalid { .. })
    ));
}

#[test]
fn descriptor_digests_must_be_valid() {
    let cases = [
        (OCI_IMAGE, "sha256:3c3a4604a545cdc127456d94e421cd355bca5b528f4a9c1905b15da2eb4a4c6b", "sha256:3c3a", "layers[1]"),
        (OCI_IMAGE, "sha256:b5b2b2c507a0944348e0303114d8d93aaaa081732b86451d9bce1f432a537bc7", "../../etc/passwd", "config"),
        (OCI_INDEX, "sha256:5b0bcabd1ed22e9fb1310cf6c2dec7cdef19f0ad69efa1f392e94a4333501270", "sha384:5b0bcabd1ed22e9fb1310cf6c2dec7cdef19f0ad69efa1f392e94a4333501270aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "manifests[1]"),
        (ARTIFACT, "sha256:5b0bcabd1ed22e9fb1310cf6c2dec7cdef19f0ad69efa1f392e94a4333501270", "md5:d41d8cd98f00b204e9800998ecf8427e", "subject"),
        (DOCKER_IMAGE, "sha256:ec4b8955958665577945c89419d1af06b5f7636b4ac3da7f12184802ad867736\"", "SHA256:EC4B\"", "layers[2]"),
    ];
    for (fixture, good, bad, field_expected) in cases {
        let body = fixture.replacen(good, bad, 1);
        assert_ne!(body, fixture);
        match parse(None, &body) {
            Err(ManifestError::InvalidDescriptorDigest { field, .. }) => {
                assert_eq!(field, field_expected)
            }
            other => panic!("{field_expected}: {other:?}"),
        }
    }
}

#[test]
fn kind_media_types_round_trip() {
    for k in KINDS {
        assert_eq!(ManifestKind::from_media_type(k.media_type()), Some(k));
        assert_eq!(
            ManifestKind::from_media_type(&k.media_type().to_uppercase()),
            Some(k)
        );
        assert_eq!(k.to_string(), k.media_type());
        assert!(media::ACCEPTED_MANIFEST_TYPES.contains(&k.media_type()));
    }
    assert_eq!(
        ManifestKind::from_media_type(media::DOCKER_MANIFEST_V1_SIGNED),
        None
    );
}

/// Byte-level mutations of the fixtures: mostly-valid JSON that exercises deep error paths.
fn mutated_fixture() -> impl Strategy<Value = Vec<u8>> {
    let fixtures = [
        OCI_IMAGE,
        OCI_INDEX,
        DOCKER_IMAGE,
        DOCKER_LIST,
        fixtures::ARTIFACT,
        DOCKER_SCHEMA1_SIGNED,
    ];
    (
        prop::sample::select(fixtures.to_vec()),
        prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..4),
    )
        .prop_map(|(f, edits)| {
            let mut b = f.as_bytes().to_vec();
            for (i, byte) in edits {
                let at = i.index(b.len());
                b[at] = byte;
            }
            b
        })
}

fn content_type() -> impl Strategy<Value = Option<String>> {
    prop_oneof![
        Just(None),
        prop::sample::select(vec![
            media::OCI_IMAGE_MANIFEST,
            media::OCI_IMAGE_INDEX,
            media::DOCKER_MANIFEST_V2,
            media::DOCKER_MANIFEST_LIST,
            media::DOCKER_MANIFEST_V1_SIGNED,
            "application/json",
        ])
        .prop_map(|s| Some(s.to_owned())),
        ".{0,40}".prop_map(Some),
    ]
}

fn check_invariants(m: &ParsedManifest) {
    assert_eq!(
        ManifestKind::from_media_type(m.media_type()),
        Some(m.kind())
    );
    if m.kind().is_index() {
        assert!(m.referenced_blobs().is_empty());
    } else {
        assert!(m.child_manifests().is_empty());
        assert!(m.config().is_some());
    }
}

proptest! {
    #[test]
    fn never_panics_on_arbitrary_bytes(ct in content_type(), body in prop::collection::vec(any::<u8>(), 0..512)) {
        if let Ok(m) = ParsedManifest::parse(ct.as_deref(), &body) {
            check_invariants(&m);
        }
    }

    #[test]
    fn never_panics_on_mutated_fixtures(ct in content_type(), body in mutated_fixture()) {
        if let Ok(m) = ParsedManifest::parse(ct.as_deref(), &body) {
            check_invariants(&m);
        }
    }

    #[test]
    fn header_body_disagreement_is_rejected(h in prop::sample::select(KINDS.to_vec()), b in prop::sample::select(KINDS.to_vec())) {
        let r = ParsedManifest::parse(Some(h.media_type()), body_of(b).as_bytes());
        if h == b {
            prop_assert_eq!(r.map(|m| m.kind()), Ok(h));
        } else {
            let is_mismatch = matches!(r, Err(ManifestError::MediaTypeMismatch { .. }));
            prop_assert!(is_mismatch);
        }
    }
}

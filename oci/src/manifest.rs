//! Parsing and validating pushed manifests (OCI image/index, Docker schema 2 image/list).
//!
//! [`ParsedManifest::parse`] decides the kind from the `Content-Type` header and the body's
//! `mediaType`:
//!
//! * header parameters are ignored (as the spec says registries SHOULD), and so are the generic
//!   `application/json` / `application/octet-stream`, which some tools send: they say nothing
//!   about the kind;
//! * if both name a type they must be the same type, otherwise
//!   [`ManifestError::MediaTypeMismatch`]; if only one does, it decides; if neither does,
//!   [`ManifestError::MissingMediaType`] (we do not guess the kind from the body's shape);
//! * Docker schema 1 (by media type, or `schemaVersion: 1` with no type given) is
//!   [`ManifestError::Schema1`]; any other type is [`ManifestError::UnsupportedMediaType`];
//! * `schemaVersion` must be the integer 2.
//!
//! The body is then deserialized with oci-spec's [`ImageManifest`] / [`ImageIndex`] (Docker
//! schema 2 manifests and lists have the same shape), and every descriptor digest (config,
//! layers, manifests, subject) must be a supported [`Digest`].
//!
//! Platform fields are read from the raw JSON rather than from oci-spec's `Platform`, because
//! oci-spec 0.7 drops `os.version` (its field lacks the `os.version` rename) and maps `armbe` to
//! `arm64be`; the multi-arch table must show what was pushed.

use crate::digest::{Digest, DigestError};
use crate::errors::{ErrorCode, STATUS_UNSUPPORTED_MEDIA_TYPE};
use crate::media;
use crate::platform::PlatformInfo;
use crate::util::clip;
use oci_spec::image::{Descriptor, ImageIndex, ImageManifest, MediaType};
use serde::Deserialize;
use serde_json::{Map, Value};
use std::collections::HashMap;
use std::fmt;

/// The four accepted manifest kinds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ManifestKind {
    /// `application/vnd.oci.image.manifest.v1+json` (images and artifacts).
    OciImage,
    /// `application/vnd.oci.image.index.v1+json`.
    OciIndex,
    /// `application/vnd.docker.distribution.manifest.v2+json`.
    DockerImage,
    /// `application/vnd.docker.distribution.manifest.list.v2+json`.
    DockerList,
}

impl ManifestKind {
    /// The canonical media type.
    pub const fn media_type(self) -> &'static str {
        match self {
            Self::OciImage => media::OCI_IMAGE_MANIFEST,
            Self::OciIndex => media::OCI_IMAGE_INDEX,
            Self::DockerImage => media::DOCKER_MANIFEST_V2,
            Self::DockerList => media::DOCKER_MANIFEST_LIST,
        }
    }

    /// The kind for a media type (parameters ignored, case-insensitive), if accepted.
    pub fn from_media_type(media_type: &str) -> Option<Self> {
        let m = media::essence(media_type);
        [
            Self::OciImage,
            Self::OciIndex,
            Self::DockerImage,
            Self::DockerList,
        ]
        .into_iter()
        .find(|k| m.eq_ignore_ascii_case(k.media_type()))
    }

    /// Whether this is an index / manifest list (points at manifests, not blobs).
    pub const fn is_index(self) -> bool {
        matches!(self, Self::OciIndex | Self::DockerList)
    }

    /// Whether this is a Docker (rather than OCI) type.
    pub const fn is_docker(self) -> bool {
        matches!(self, Self::DockerImage | Self::DockerList)
    }
}

impl fmt::Display for ManifestKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.media_type())
    }
}

/// Why a manifest was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ManifestError {
    /// The body is not JSON.
    #[error("manifest is not valid JSON: {0}")]
    MalformedJson(String),
    /// The body is JSON but not an object.
    #[error("manifest must be a JSON object")]
    NotAnObject,
    /// Docker schema 1, which Arca does not accept.
    #[error("Docker schema 1 manifests are not supported; push the image as Docker schema 2 or OCI (any current docker, buildah or crane does)")]
    Schema1,
    /// A media type that is not one of the four accepted manifest types.
    #[error("unsupported manifest media type '{0}'; accepted: OCI image manifest, OCI image index, Docker schema 2 manifest, Docker manifest list")]
    UnsupportedMediaType(String),
    /// `Content-Type` and the body's `mediaType` disagree.
    #[error("Content-Type '{header}' does not match the manifest's mediaType '{body}'")]
    MediaTypeMismatch {
        /// The header's media type.
        header: String,
        /// The body's `mediaType`.
        body: String,
    },
    /// The body's `mediaType` is not a string.
    #[error("manifest mediaType must be a string")]
    MediaTypeNotString,
    /// Neither a `mediaType` field nor a manifest `Content-Type`.
    #[error("cannot tell the manifest type: the body has no mediaType and the Content-Type names no manifest type")]
    MissingMediaType,
    /// `schemaVersion` missing or not 2.
    #[error("manifest schemaVersion must be 2, found {0}")]
    InvalidSchemaVersion(String),
    /// A descriptor's digest is not a supported digest.
    #[error("invalid digest in {field}: {source}")]
    InvalidDescriptorDigest {
        /// Where, e.g. `layers[2]` or `subject`.
        field: String,
        /// Why.
        source: DigestError,
    },
    /// A field has the wrong type or a required field is missing.
    #[error("invalid {kind} manifest: {reason}")]
    Invalid {
        /// The kind it was parsed as.
        kind: ManifestKind,
        /// The deserializer's message.
        reason: String,
    },
}

impl ManifestError {
    /// `UNSUPPORTED` for schema 1 and unknown media types, `MANIFEST_INVALID` otherwise.
    pub fn error_code(&self) -> ErrorCode {
        match self {
            Self::Schema1 | Self::UnsupportedMediaType(_) => ErrorCode::Unsupported,
            _ => ErrorCode::ManifestInvalid,
        }
    }

    /// 415 for schema 1 and unknown media types, 400 otherwise.
    pub fn status(&self) -> u16 {
        match self.error_code() {
            ErrorCode::Unsupported => STATUS_UNSUPPORTED_MEDIA_TYPE,
            code => code.status(),
        }
    }
}

/// An oci-spec [`Descriptor`] whose digest has been checked to be a supported [`Digest`].
#[derive(Debug, Clone, PartialEq)]
pub struct ValidatedDescriptor {
    digest: Digest,
    descriptor: Descriptor,
    platform: Option<PlatformInfo>,
}

impl ValidatedDescriptor {
    fn new(d: &Descriptor, field: String, raw: Option<&Value>) -> Result<Self, ManifestError> {
        let digest = Digest::try_from(d.digest())
            .map_err(|source| ManifestError::InvalidDescriptorDigest { field, source })?;
        Ok(Self {
            digest,
            descriptor: d.clone(),
            platform: raw
                .and_then(|r| r.get("platform"))
                .and_then(PlatformInfo::from_json),
        })
    }

    /// The content's digest.
    pub fn digest(&self) -> &Digest {
        &self.digest
    }

    /// The content's media type.
    pub fn media_type(&self) -> &str {
        self.descriptor.media_type().as_ref()
    }

    /// The content's size in bytes.
    pub fn size(&self) -> u64 {
        self.descriptor.size()
    }

    /// The descriptor's `artifactType`, if set and non-empty.
    pub fn artifact_type(&self) -> Option<&str> {
        non_empty(self.descriptor.artifact_type().as_ref())
    }

    /// The descriptor's annotations.
    pub fn annotations(&self) -> Option<&HashMap<String, String>> {
        self.descriptor.annotations().as_ref()
    }

    /// The descriptor's platform, read from the raw JSON (index entries).
    pub fn platform(&self) -> Option<&PlatformInfo> {
        self.platform.as_ref()
    }

    /// The underlying oci-spec descriptor.
    pub fn descriptor(&self) -> &Descriptor {
        &self.descriptor
    }
}

fn non_empty(m: Option<&MediaType>) -> Option<&str> {
    m.map(AsRef::as_ref).filter(|s: &&str| !s.is_empty())
}

#[derive(Debug, Clone, PartialEq)]
enum Document {
    Image(Box<ImageManifest>),
    Index(Box<ImageIndex>),
}

/// A validated manifest of one of the four accepted kinds.
#[derive(Debug, Clone, PartialEq)]
pub struct ParsedManifest {
    kind: ManifestKind,
    size: u64,
    document: Document,
    config: Option<ValidatedDescriptor>,
    layers: Vec<ValidatedDescriptor>,
    manifests: Vec<ValidatedDescriptor>,
    subject: Option<ValidatedDescriptor>,
}

/// Generic content types that say nothing about the manifest kind.
fn is_generic(content_type: &str) -> bool {
    ["application/json", "application/octet-stream"]
        .iter()
        .any(|g| content_type.eq_ignore_ascii_case(g))
}

fn kind_of(media_type: &str) -> Result<ManifestKind, ManifestError> {
    if media::is_docker_schema1(media_type) {
        return Err(ManifestError::Schema1);
    }
    ManifestKind::from_media_type(media_type)
        .ok_or_else(|| ManifestError::UnsupportedMediaType(clip(media_type, 128)))
}

/// Checks every `digest` string at `obj[key]` (an object, or an array of objects) before typed
/// deserialization, so a bad digest is reported as such and with its location.
fn precheck_digests(obj: &Map<String, Value>, key: &str) -> Result<(), ManifestError> {
    let check = |field: String, v: &Value| match v.get("digest").and_then(Value::as_str) {
        Some(s) => Digest::parse(s)
            .map(drop)
            .map_err(|source| ManifestError::InvalidDescriptorDigest { field, source }),
        None => Ok(()), // missing or not a string: the typed parse reports it
    };
    match obj.get(key) {
        Some(Value::Array(items)) => items
            .iter()
            .enumerate()
            .try_for_each(|(i, v)| check(format!("{key}[{i}]"), v)),
        Some(v) => check(key.to_owned(), v),
        None => Ok(()),
    }
}

fn typed<'a, T: Deserialize<'a>>(v: &'a Value, kind: ManifestKind) -> Result<T, ManifestError> {
    T::deserialize(v).map_err(|e| ManifestError::Invalid {
        kind,
        reason: e.to_string(),
    })
}

fn validate_all(
    descriptors: &[Descriptor],
    key: &str,
    raw: &Map<String, Value>,
) -> Result<Vec<ValidatedDescriptor>, ManifestError> {
    let raw_items = raw.get(key).and_then(Value::as_array);
    descriptors
        .iter()
        .enumerate()
        .map(|(i, d)| {
            let r = raw_items.and_then(|a| a.get(i));
            ValidatedDescriptor::new(d, format!("{key}[{i}]"), r)
        })
        .collect()
}

fn validate_opt(
    d: Option<&Descriptor>,
    key: &str,
    raw: &Map<String, Value>,
) -> Result<Option<ValidatedDescriptor>, ManifestError> {
    d.map(|d| ValidatedDescriptor::new(d, key.to_owned(), raw.get(key)))
        .transpose()
}

impl ParsedManifest {
    /// Parses and validates a pushed manifest; `content_type` is the request's `Content-Type`.
    /// Never panics, whatever the input.
    pub fn parse(content_type: Option<&str>, body: &[u8]) -> Result<Self, ManifestError> {
        let value: Value = serde_json::from_slice(body)
            .map_err(|e| ManifestError::MalformedJson(e.to_string()))?;
        let obj = value.as_object().ok_or(ManifestError::NotAnObject)?;

        let header = content_type
            .map(media::essence)
            .filter(|h| !h.is_empty() && !is_generic(h));
        let body_type = match obj.get("mediaType") {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) if s.is_empty() => None,
            Some(Value::String(s)) => Some(s.as_str()),
            Some(_) => return Err(ManifestError::MediaTypeNotString),
        };
        let schema_version = obj.get("schemaVersion");

        let header_kind = header.map(kind_of).transpose()?;
        let body_kind = body_type.map(kind_of).transpose()?;
        let kind = match (header_kind, body_kind) {
            (Some(h), Some(b)) if h != b => {
                return Err(ManifestError::MediaTypeMismatch {
                    header: h.media_type().to_owned(),
                    body: b.media_type().to_owned(),
                })
            }
            (Some(k), _) | (None, Some(k)) => k,
            (None, None) if schema_version.and_then(Value::as_u64) == Some(1) => {
                return Err(ManifestError::Schema1)
            }
            (None, None) => return Err(ManifestError::MissingMediaType),
        };

        match schema_version {
            Some(v) if v.as_u64() == Some(2) => {}
            Some(v) => {
                let shown = clip(&v.to_string(), 32);
                return Err(ManifestError::InvalidSchemaVersion(shown));
            }
            None => return Err(ManifestError::InvalidSchemaVersion("none".to_owned())),
        }

        let keys: &[&str] = if kind.is_index() {
            &["manifests", "subject"]
        } else {
            &["config", "layers", "subject"]
        };
        keys.iter().try_for_each(|k| precheck_digests(obj, k))?;

        let size = body.len() as u64;
        if kind.is_index() {
            let index: ImageIndex = typed(&value, kind)?;
            Ok(Self {
                kind,
                size,
                config: None,
                layers: Vec::new(),
                manifests: validate_all(index.manifests(), "manifests", obj)?,
                subject: validate_opt(index.subject().as_ref(), "subject", obj)?,
                document: Document::Index(Box::new(index)),
            })
        } else {
            let manifest: ImageManifest = typed(&value, kind)?;
            Ok(Self {
                kind,
                size,
                config: validate_opt(Some(manifest.config()), "config", obj)?,
                layers: validate_all(manifest.layers(), "layers", obj)?,
                manifests: Vec::new(),
                subject: validate_opt(manifest.subject().as_ref(), "subject", obj)?,
                document: Document::Image(Box::new(manifest)),
            })
        }
    }

    /// The kind.
    pub fn kind(&self) -> ManifestKind {
        self.kind
    }

    /// The canonical media type of the kind (to store and serve as `Content-Type`).
    pub fn media_type(&self) -> &'static str {
        self.kind.media_type()
    }

    /// The size of the body as pushed, in bytes.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// The config descriptor (image manifests only).
    pub fn config(&self) -> Option<&ValidatedDescriptor> {
        self.config.as_ref()
    }

    /// The layer descriptors (image manifests only; may be empty).
    pub fn layers(&self) -> &[ValidatedDescriptor] {
        &self.layers
    }

    /// The blobs the manifest references: config then layers for image manifests, none for
    /// indexes. A registry checks these exist before accepting the manifest.
    pub fn referenced_blobs(&self) -> Vec<&ValidatedDescriptor> {
        self.config.iter().chain(self.layers.iter()).collect()
    }

    /// The manifests an index / list references (none for image manifests).
    pub fn child_manifests(&self) -> &[ValidatedDescriptor] {
        &self.manifests
    }

    /// The `subject` descriptor (referrers API), if any. The spec requires accepting a manifest
    /// whose subject does not exist (yet), so do not check it like a referenced blob.
    pub fn subject(&self) -> Option<&ValidatedDescriptor> {
        self.subject.as_ref()
    }

    /// The artifact type per the referrers rules: the manifest's `artifactType` if set and
    /// non-empty; else, for image manifests, the config's media type; else none.
    pub fn artifact_type(&self) -> Option<&str> {
        match &self.document {
            Document::Image(m) => non_empty(m.artifact_type().as_ref())
                .or_else(|| Some(m.config().media_type().as_ref())),
            Document::Index(i) => non_empty(i.artifact_type().as_ref()),
        }
    }

    /// The manifest's annotations.
    pub fn annotations(&self) -> Option<&HashMap<String, String>> {
        match &self.document {
            Document::Image(m) => m.annotations().as_ref(),
            Document::Index(i) => i.annotations().as_ref(),
        }
    }

    /// The oci-spec image manifest (image kinds).
    pub fn image_manifest(&self) -> Option<&ImageManifest> {
        match &self.document {
            Document::Image(m) => Some(m),
            Document::Index(_) => None,
        }
    }

    /// The oci-spec image index (index kinds).
    pub fn image_index(&self) -> Option<&ImageIndex> {
        match &self.document {
            Document::Index(i) => Some(i),
            Document::Image(_) => None,
        }
    }

    /// The descriptor listing this manifest in its subject's referrers response: its media
    /// type, `digest`, size, [`artifact_type`](Self::artifact_type) and annotations.
    pub fn referrer_descriptor(&self, digest: &Digest) -> Descriptor {
        let mut d = Descriptor::new(
            MediaType::from(self.media_type()),
            self.size,
            digest.to_oci(),
        );
        d.set_artifact_type(self.artifact_type().map(MediaType::from));
        d.set_annotations(self.annotations().cloned());
        d
    }
}

#[cfg(test)]
#[path = "manifest_tests.rs"]
mod tests;

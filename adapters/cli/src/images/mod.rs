//! Images on local disk, without a Docker daemon: OCI image layout directories ([`layout`])
//! and `docker save` tarballs ([`archive`]). Both are read into a [`PushPlan`] (the blobs to
//! upload and the manifests to put, children first) and written from pulled content.

pub mod archive;
pub mod layout;

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use anyhow::{bail, Context as _, Result};
use arca_client::oci::{self, sha256_digest, MAX_MANIFEST_BYTES};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use sha2::{Digest as _, Sha256};

/// The annotation naming a reference in an OCI layout's `index.json`.
pub const REF_NAME: &str = "org.opencontainers.image.ref.name";

/// An OCI content descriptor; fields other than the three required ones are kept as they are.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Descriptor {
    /// Media type of the referenced content.
    pub media_type: String,
    /// `sha256:<hex>`.
    pub digest: String,
    /// Size in bytes.
    pub size: u64,
    /// `platform`, `annotations`, `urls`, ….
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl Descriptor {
    /// A descriptor without extra fields.
    pub fn new(media_type: &str, digest: String, size: u64) -> Self {
        Descriptor {
            media_type: media_type.to_string(),
            digest,
            size,
            extra: Map::new(),
        }
    }

    /// `os/architecture[/variant]` of an index entry, if it says.
    pub fn platform(&self) -> Option<String> {
        let p = self.extra.get("platform")?;
        let os = p.get("os")?.as_str()?;
        let arch = p.get("architecture")?.as_str()?;
        Some(match p.get("variant").and_then(Value::as_str) {
            Some(v) => format!("{os}/{arch}/{v}"),
            None => format!("{os}/{arch}"),
        })
    }

    /// The `org.opencontainers.image.ref.name` annotation.
    pub fn ref_name(&self) -> Option<&str> {
        self.extra.get("annotations")?.get(REF_NAME)?.as_str()
    }
}

/// Whether a media type is an index (OCI index or Docker manifest list).
pub fn is_index(media_type: &str) -> bool {
    media_type == oci::OCI_INDEX || media_type == oci::DOCKER_MANIFEST_LIST
}

/// What a manifest points at: child manifests (of an index) or config and layers.
#[derive(Debug, Default)]
pub struct Children {
    /// Platform manifests of an index.
    pub manifests: Vec<Descriptor>,
    /// Config then layers of an image manifest.
    pub blobs: Vec<Descriptor>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ManifestJson {
    #[serde(default)]
    manifests: Vec<Descriptor>,
    #[serde(default)]
    config: Option<Descriptor>,
    #[serde(default)]
    layers: Vec<Descriptor>,
}

/// The children of a manifest of type `media_type`.
pub fn children(media_type: &str, bytes: &[u8]) -> Result<Children> {
    let m: ManifestJson =
        serde_json::from_slice(bytes).context("the manifest is not valid JSON")?;
    if is_index(media_type) {
        return Ok(Children {
            manifests: m.manifests,
            blobs: Vec::new(),
        });
    }
    let Some(config) = m.config else {
        bail!("the image manifest ({media_type}) has no config");
    };
    let mut blobs = vec![config];
    blobs.extend(m.layers);
    for d in &blobs {
        oci::check_digest(&d.digest)?;
    }
    Ok(Children {
        manifests: Vec::new(),
        blobs,
    })
}

/// A blob to upload: `size` bytes of `path` from `offset`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlobSource {
    /// `sha256:<hex>`.
    pub digest: String,
    /// Size in bytes.
    pub size: u64,
    /// The file holding it (a blob file, or a tarball).
    pub path: PathBuf,
    /// Where it starts in the file.
    pub offset: u64,
}

/// A manifest to put.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManifestUpload {
    /// Its media type (the `Content-Type` of the PUT).
    pub media_type: String,
    /// `sha256:<hex>` of `bytes`.
    pub digest: String,
    /// The exact bytes.
    pub bytes: Vec<u8>,
}

/// Everything a push sends: blobs first, then manifests in order; the last manifest is the
/// image itself, put under the tag; the others (platform manifests) are put by digest.
#[derive(Debug, Default)]
pub struct PushPlan {
    /// Distinct blobs.
    pub blobs: Vec<BlobSource>,
    /// Manifests, children before their index.
    pub manifests: Vec<ManifestUpload>,
}

impl PushPlan {
    /// Adds a blob unless one with the same digest is already planned.
    pub fn add_blob(&mut self, blob: BlobSource) {
        if !self.blobs.iter().any(|b| b.digest == blob.digest) {
            self.blobs.push(blob);
        }
    }

    /// Adds a manifest unless one with the same digest is already planned.
    pub fn add_manifest(&mut self, manifest: ManifestUpload) {
        if !self.manifests.iter().any(|m| m.digest == manifest.digest) {
            self.manifests.push(manifest);
        }
    }

    /// The manifest put under the tag.
    pub fn top(&self) -> Option<&ManifestUpload> {
        self.manifests.last()
    }
}

/// Reads at most `limit` bytes of `reader`, failing if there are more.
pub fn read_limited(reader: impl Read, limit: usize, what: &str) -> Result<Vec<u8>> {
    let mut bytes = Vec::new();
    reader.take(limit as u64 + 1).read_to_end(&mut bytes)?;
    if bytes.len() > limit {
        bail!("{what} is larger than {limit} bytes");
    }
    Ok(bytes)
}

/// Reads a small JSON document (a manifest or config) of at most [`MAX_MANIFEST_BYTES`].
pub fn read_small_file(path: &Path) -> Result<Vec<u8>> {
    let file = File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    read_limited(file, MAX_MANIFEST_BYTES, &path.display().to_string())
}

/// `sha256:<hex>` of `len` bytes of `path` from `offset`, streamed.
pub fn sha256_file_range(path: &Path, offset: u64, len: u64) -> io::Result<String> {
    let mut file = File::open(path)?;
    file.seek(SeekFrom::Start(offset))?;
    let mut reader = file.take(len);
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 256 * 1024];
    let mut seen = 0u64;
    loop {
        let n = reader.read(&mut buf)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
        seen += n as u64;
    }
    if seen != len {
        return Err(io::Error::new(
            io::ErrorKind::UnexpectedEof,
            format!("{} ends before {len} bytes", path.display()),
        ));
    }
    Ok(format!("sha256:{}", hex::encode(hasher.finalize())))
}

/// Checks `bytes` against `digest`.
pub fn verify_bytes(bytes: &[u8], digest: &str, what: &str) -> Result<()> {
    let got = sha256_digest(bytes);
    if got != digest {
        bail!("{what} has digest {got}, but {digest} was expected");
    }
    Ok(())
}

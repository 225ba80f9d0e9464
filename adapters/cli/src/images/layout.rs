//! OCI image layout directories (`oci-layout`, `index.json`, `blobs/sha256/<hex>`), as written
//! by `skopeo copy … oci:DIR`, `docker buildx build --output type=oci,tar=false` or `oras`.

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{anyhow, bail, Context as _, Result};
use arca_client::oci::{self, check_digest};
use serde_json::{json, Value};

use super::{
    children, read_small_file, sha256_file_range, verify_bytes, BlobSource, Descriptor,
    ManifestUpload, PushPlan, REF_NAME,
};

/// The path of blob `digest` under `root`.
pub fn blob_path(root: &Path, digest: &str) -> Result<PathBuf> {
    check_digest(digest)?;
    let (alg, hex) = digest.split_once(':').unwrap_or(("sha256", digest));
    Ok(root.join("blobs").join(alg).join(hex))
}

/// Whether `dir` looks like an OCI layout (it has an `oci-layout` file).
pub fn is_layout(dir: &Path) -> bool {
    dir.join("oci-layout").is_file()
}

fn read_index(root: &Path) -> Result<Vec<Descriptor>> {
    let bytes = read_small_file(&root.join("index.json"))?;
    let index: Value = serde_json::from_slice(&bytes)
        .with_context(|| format!("{}/index.json is not valid JSON", root.display()))?;
    let manifests = index.get("manifests").cloned().unwrap_or(Value::Null);
    serde_json::from_value(manifests).with_context(|| {
        format!(
            "{}/index.json has no valid `manifests` list",
            root.display()
        )
    })
}

/// The manifest of `root` to push: the entry of `index.json` whose ref name is `tag`, else its
/// only entry; when every entry names a platform, `index.json` itself is the (multi-arch)
/// image.
fn choose_top(root: &Path, entries: &[Descriptor], tag: &str) -> Result<ManifestUpload> {
    if let Some(d) = entries.iter().find(|d| d.ref_name() == Some(tag)) {
        return read_manifest(root, d);
    }
    match entries {
        [] => bail!("{}/index.json lists no image", root.display()),
        [only] => read_manifest(root, only),
        many if many.iter().all(|d| d.platform().is_some()) => {
            let bytes = read_small_file(&root.join("index.json"))?;
            Ok(ManifestUpload {
                media_type: oci::OCI_INDEX.to_string(),
                digest: oci::sha256_digest(&bytes),
                bytes,
            })
        }
        many => {
            let names: Vec<&str> = many.iter().filter_map(Descriptor::ref_name).collect();
            bail!(
                "{}/index.json lists {} images and none is named {tag:?} (names: {}); \
                 push to a tag named like one of them",
                root.display(),
                many.len(),
                if names.is_empty() {
                    "none".to_string()
                } else {
                    names.join(", ")
                }
            )
        }
    }
}

fn read_manifest(root: &Path, d: &Descriptor) -> Result<ManifestUpload> {
    let path = blob_path(root, &d.digest)?;
    let bytes = read_small_file(&path)?;
    verify_bytes(&bytes, &d.digest, &format!("manifest {}", path.display()))?;
    Ok(ManifestUpload {
        media_type: d.media_type.clone(),
        digest: d.digest.clone(),
        bytes,
    })
}

fn add_blob(plan: &mut PushPlan, root: &Path, d: &Descriptor) -> Result<()> {
    let path = blob_path(root, &d.digest)?;
    let meta = fs::metadata(&path)
        .with_context(|| format!("blob {} is missing from {}", d.digest, root.display()))?;
    if meta.len() != d.size {
        bail!(
            "blob {} has {} bytes, its descriptor says {}",
            path.display(),
            meta.len(),
            d.size
        );
    }
    plan.add_blob(BlobSource {
        digest: d.digest.clone(),
        size: d.size,
        path,
        offset: 0,
    });
    Ok(())
}

/// Adds a manifest, its blobs and (for an index) its children, children first.
fn walk(plan: &mut PushPlan, root: &Path, m: ManifestUpload, depth: usize) -> Result<()> {
    if depth > 2 {
        bail!("indexes are nested too deeply in {}", root.display());
    }
    let kids = children(&m.media_type, &m.bytes)
        .with_context(|| format!("cannot read manifest {}", m.digest))?;
    for d in &kids.manifests {
        let child = read_manifest(root, d)?;
        walk(plan, root, child, depth + 1)?;
    }
    for d in &kids.blobs {
        add_blob(plan, root, d)?;
    }
    plan.add_manifest(m);
    Ok(())
}

/// Reads the image of the layout at `root` (see `choose_top` for which) into a push plan.
/// Manifests are verified against their digests, blobs against their sizes (the registry
/// checks their digests as it receives them).
pub fn plan_push(root: &Path, tag: &str) -> Result<PushPlan> {
    if !is_layout(root) {
        bail!(
            "{} is not an OCI image layout (it has no oci-layout file)",
            root.display()
        );
    }
    let entries = read_index(root)?;
    let top = choose_top(root, &entries, tag)?;
    let mut plan = PushPlan::default();
    walk(&mut plan, root, top, 0)?;
    Ok(plan)
}

/// Writes OCI layouts: blobs go to `blobs/sha256/<hex>`, references to `index.json`.
#[derive(Debug)]
pub struct LayoutWriter {
    root: PathBuf,
}

impl LayoutWriter {
    /// Creates (or reuses) a layout at `root`.
    pub fn create(root: &Path) -> Result<Self> {
        fs::create_dir_all(root.join("blobs").join("sha256"))
            .with_context(|| format!("cannot create {}", root.display()))?;
        let marker = root.join("oci-layout");
        if !marker.exists() {
            fs::write(&marker, br#"{"imageLayoutVersion":"1.0.0"}"#)
                .with_context(|| format!("cannot write {}", marker.display()))?;
        }
        Ok(LayoutWriter {
            root: root.to_path_buf(),
        })
    }

    /// Where blob `digest` goes.
    pub fn blob_path(&self, digest: &str) -> Result<PathBuf> {
        blob_path(&self.root, digest)
    }

    /// Whether blob `digest` is already there with the right size and content.
    pub fn has_blob(&self, digest: &str, size: u64) -> bool {
        let Ok(path) = self.blob_path(digest) else {
            return false;
        };
        fs::metadata(&path).is_ok_and(|m| m.len() == size)
            && sha256_file_range(&path, 0, size).is_ok_and(|d| d == digest)
    }

    /// Writes a small blob (a manifest) after checking its digest.
    pub fn write_blob(&self, digest: &str, bytes: &[u8]) -> Result<()> {
        verify_bytes(bytes, digest, "manifest")?;
        let path = self.blob_path(digest)?;
        fs::write(&path, bytes).with_context(|| format!("cannot write {}", path.display()))
    }

    /// Points `index.json` at `top` under the ref name `tag` (an entry with that name is
    /// replaced, other entries are kept).
    pub fn set_ref(&self, top: &Descriptor, tag: &str) -> Result<()> {
        let path = self.root.join("index.json");
        let mut entries = if path.exists() {
            read_index(&self.root)?
        } else {
            Vec::new()
        };
        entries.retain(|d| d.ref_name() != Some(tag));
        let mut entry = top.clone();
        entry
            .extra
            .insert("annotations".into(), json!({ REF_NAME: tag }));
        entries.push(entry);
        let index = json!({
            "schemaVersion": 2,
            "mediaType": oci::OCI_INDEX,
            "manifests": entries,
        });
        let text = serde_json::to_vec_pretty(&index).map_err(|e| anyhow!(e))?;
        fs::write(&path, text).with_context(|| format!("cannot write {}", path.display()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use arca_client::oci::sha256_digest;

    /// Writes `bytes` as a blob of the layout and returns its descriptor.
    pub fn put(root: &Path, media_type: &str, bytes: &[u8]) -> Descriptor {
        let d = Descriptor::new(media_type, sha256_digest(bytes), bytes.len() as u64);
        let path = blob_path(root, &d.digest).unwrap();
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, bytes).unwrap();
        d
    }

    fn image(root: &Path, layer: &[u8]) -> Descriptor {
        let config = put(
            root,
            oci::OCI_CONFIG,
            br#"{"architecture":"amd64","os":"linux"}"#,
        );
        let layer = put(root, "application/vnd.oci.image.layer.v1.tar", layer);
        let manifest = json!({"schemaVersion":2,"mediaType":oci::OCI_MANIFEST,
            "config":config,"layers":[layer]});
        put(
            root,
            oci::OCI_MANIFEST,
            &serde_json::to_vec(&manifest).unwrap(),
        )
    }

    #[test]
    fn single_image_round_trip_through_the_writer() {
        let dir = tempfile::tempdir().unwrap();
        let w = LayoutWriter::create(dir.path()).unwrap();
        let m = image(dir.path(), b"layer-bytes");
        w.set_ref(&m, "1.0").unwrap();
        let plan = plan_push(dir.path(), "whatever").unwrap();
        assert_eq!(plan.blobs.len(), 2);
        assert_eq!(plan.manifests.len(), 1);
        assert_eq!(plan.top().unwrap().digest, m.digest);
        assert!(w.has_blob(&m.digest, m.size));
        assert!(!w.has_blob(&m.digest, m.size + 1));
        // A second ref: the tag now chooses.
        let other = image(dir.path(), b"other");
        w.set_ref(&other, "2.0").unwrap();
        assert_eq!(
            plan_push(dir.path(), "2.0").unwrap().top().unwrap().digest,
            other.digest
        );
        assert!(plan_push(dir.path(), "3.0").is_err());
        w.set_ref(&other, "1.0").unwrap();
        assert_eq!(read_index(dir.path()).unwrap().len(), 2);
    }

    #[test]
    fn multi_arch_index_pushes_children_first() {
        let dir = tempfile::tempdir().unwrap();
        let w = LayoutWriter::create(dir.path()).unwrap();
        let mut amd = image(dir.path(), b"amd");
        amd.extra.insert(
            "platform".into(),
            json!({"os":"linux","architecture":"amd64"}),
        );
        let mut arm = image(dir.path(), b"arm");
        arm.extra.insert(
            "platform".into(),
            json!({"os":"linux","architecture":"arm64","variant":"v8"}),
        );
        assert_eq!(arm.platform().as_deref(), Some("linux/arm64/v8"));
        let index = json!({"schemaVersion":2,"mediaType":oci::OCI_INDEX,"manifests":[amd,arm]});
        let top = put(
            dir.path(),
            oci::OCI_INDEX,
            &serde_json::to_vec(&index).unwrap(),
        );
        w.set_ref(&top, "multi").unwrap();
        let plan = plan_push(dir.path(), "multi").unwrap();
        let order: Vec<&str> = plan.manifests.iter().map(|m| m.digest.as_str()).collect();
        assert_eq!(
            order,
            [
                amd.digest.as_str(),
                arm.digest.as_str(),
                top.digest.as_str()
            ]
        );
        // One config is shared by both platforms.
        assert_eq!(plan.blobs.len(), 3);
    }

    #[test]
    fn broken_layouts_are_reported() {
        let dir = tempfile::tempdir().unwrap();
        assert!(plan_push(dir.path(), "t")
            .unwrap_err()
            .to_string()
            .contains("oci-layout"));
        let w = LayoutWriter::create(dir.path()).unwrap();
        let m = image(dir.path(), b"layer");
        w.set_ref(&m, "t").unwrap();
        // Corrupt the manifest: its digest no longer matches.
        fs::write(blob_path(dir.path(), &m.digest).unwrap(), b"{}").unwrap();
        let err = format!("{:#}", plan_push(dir.path(), "t").unwrap_err());
        assert!(err.contains("digest"), "{err}");
        assert!(w.write_blob(&m.digest, b"nope").is_err());
    }
}

//! `docker save` tarballs: `manifest.json` (`[{"Config","RepoTags","Layers"}]`) and the files it
//! names. Reading never loads a layer: the tar is scanned once for entry offsets, then each
//! layer is hashed (and later uploaded) straight from its place in the tarball.

use std::collections::HashMap;
use std::fs::File;
use std::io::{Seek, SeekFrom};
use std::path::{Component, Path, PathBuf};

use anyhow::{anyhow, bail, Context as _, Result};
use arca_client::oci::{self, sha256_digest, MAX_MANIFEST_BYTES};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::{read_limited, sha256_file_range, BlobSource, Descriptor, ManifestUpload, PushPlan};

/// One image of `manifest.json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ArchiveImage {
    /// Path of the config JSON inside the tar.
    pub config: String,
    /// `repo:tag` names.
    #[serde(default)]
    pub repo_tags: Option<Vec<String>>,
    /// Paths of the layer tarballs, base first.
    pub layers: Vec<String>,
}

#[derive(Debug, Clone)]
enum Entry {
    File { offset: u64, size: u64 },
    Link(String),
}

/// `a/./b/../c` → `a/c`, without a leading `./`.
fn normalize(path: &Path) -> String {
    let mut parts: Vec<String> = Vec::new();
    for c in path.components() {
        match c {
            Component::Normal(s) => parts.push(s.to_string_lossy().into_owned()),
            Component::ParentDir => {
                parts.pop();
            }
            _ => {}
        }
    }
    parts.join("/")
}

/// The entries of the tar at `path`, and the contents of its `manifest.json`.
fn scan(path: &Path) -> Result<(HashMap<String, Entry>, Vec<u8>)> {
    let file = File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    let mut archive = tar::Archive::new(file);
    let mut entries = HashMap::new();
    let mut manifest = None;
    let bad = || format!("{} is not a readable tar archive", path.display());
    for entry in archive.entries().with_context(bad)? {
        let mut entry = entry.with_context(bad)?;
        let name = normalize(&entry.path().with_context(bad)?);
        let kind = entry.header().entry_type();
        if kind.is_symlink() || kind.is_hard_link() {
            let target = entry.link_name().with_context(bad)?.unwrap_or_default();
            let base = if kind.is_symlink() {
                Path::new(&name)
                    .parent()
                    .unwrap_or(Path::new(""))
                    .join(target)
            } else {
                target.into_owned()
            };
            entries.insert(name, Entry::Link(normalize(&base)));
        } else if kind.is_file() {
            if name == "manifest.json" {
                manifest = Some(read_limited(
                    &mut entry,
                    MAX_MANIFEST_BYTES,
                    "manifest.json",
                )?);
            }
            let offset = entry.raw_file_position();
            entries.insert(
                name,
                Entry::File {
                    offset,
                    size: entry.size(),
                },
            );
        }
    }
    let manifest = manifest.ok_or_else(|| {
        anyhow!(
            "{} has no manifest.json: is it a `docker save` archive?",
            path.display()
        )
    })?;
    Ok((entries, manifest))
}

fn locate(entries: &HashMap<String, Entry>, name: &str) -> Result<(u64, u64)> {
    let mut current = normalize(Path::new(name));
    for _ in 0..16 {
        match entries.get(&current) {
            Some(Entry::File { offset, size }) => return Ok((*offset, *size)),
            Some(Entry::Link(target)) => current = target.clone(),
            None => bail!("the archive has no file {name:?}"),
        }
    }
    bail!("too many links from {name:?}")
}

/// The image of `manifest.json` to push: the only one, or the one tagged `…:tag`.
fn choose<'a>(images: &'a [ArchiveImage], tag: &str) -> Result<&'a ArchiveImage> {
    if let [only] = images {
        return Ok(only);
    }
    let suffix = format!(":{tag}");
    images
        .iter()
        .find(|i| i.repo_tags.iter().flatten().any(|t| t.ends_with(&suffix)))
        .ok_or_else(|| {
            anyhow!(
                "the archive holds {} images and none is tagged {tag:?}",
                images.len()
            )
        })
}

/// Reads the image of the `docker save` tarball at `path` (see `choose`) into a push plan
/// with a Docker schema-2 manifest.
pub fn plan_push(path: &Path, tag: &str) -> Result<PushPlan> {
    let (entries, manifest) = scan(path)?;
    let images: Vec<ArchiveImage> =
        serde_json::from_slice(&manifest).context("manifest.json of the archive is not valid")?;
    let image = choose(&images, tag)?;
    let mut plan = PushPlan::default();

    let (offset, size) = locate(&entries, &image.config)?;
    let mut file = File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    file.seek(SeekFrom::Start(offset))?;
    let config = read_limited(
        std::io::Read::take(&mut file, size),
        MAX_MANIFEST_BYTES,
        "the image config",
    )?;
    let config_desc = Descriptor::new(oci::DOCKER_CONFIG, sha256_digest(&config), size);
    plan.add_blob(source(path, &config_desc, offset));

    let mut layers = Vec::new();
    for layer in &image.layers {
        let (offset, size) = locate(&entries, layer)?;
        let digest = sha256_file_range(path, offset, size)
            .with_context(|| format!("cannot read layer {layer}"))?;
        let media_type = if starts_with_gzip(path, offset, size)? {
            oci::DOCKER_LAYER_GZIP
        } else {
            oci::DOCKER_LAYER
        };
        let d = Descriptor::new(media_type, digest, size);
        plan.add_blob(source(path, &d, offset));
        layers.push(d);
    }
    let manifest = json!({
        "schemaVersion": 2,
        "mediaType": oci::DOCKER_MANIFEST,
        "config": config_desc,
        "layers": layers,
    });
    let bytes = serde_json::to_vec_pretty(&manifest)?;
    plan.add_manifest(ManifestUpload {
        media_type: oci::DOCKER_MANIFEST.to_string(),
        digest: sha256_digest(&bytes),
        bytes,
    });
    Ok(plan)
}

fn source(path: &Path, d: &Descriptor, offset: u64) -> BlobSource {
    BlobSource {
        digest: d.digest.clone(),
        size: d.size,
        path: path.to_path_buf(),
        offset,
    }
}

fn starts_with_gzip(path: &Path, offset: u64, size: u64) -> Result<bool> {
    if size < 2 {
        return Ok(false);
    }
    let mut file = File::open(path)?;
    file.seek(SeekFrom::Start(offset))?;
    let mut magic = [0u8; 2];
    std::io::Read::read_exact(&mut file, &mut magic)?;
    Ok(magic == [0x1f, 0x8b])
}

/// Writes a `docker save` tarball at `dest` holding one image: the config file at
/// `config.1`, the layer files at `layers[i].1`, tagged `repo_tag`.
pub fn write(
    dest: &Path,
    repo_tag: &str,
    config: (&Descriptor, &Path),
    layers: &[(Descriptor, PathBuf)],
) -> Result<()> {
    let hex = |d: &str| d.trim_start_matches("sha256:").to_string();
    let file = File::create(dest).with_context(|| format!("cannot create {}", dest.display()))?;
    let mut builder = tar::Builder::new(file);
    let config_name = format!("{}.json", hex(&config.0.digest));
    builder
        .append_path_with_name(config.1, &config_name)
        .with_context(|| format!("cannot write {}", dest.display()))?;
    let mut names = Vec::new();
    for (d, path) in layers {
        let name = format!("{}/layer.tar", hex(&d.digest));
        if !names.contains(&name) {
            builder
                .append_path_with_name(path, &name)
                .with_context(|| format!("cannot write {}", dest.display()))?;
        }
        names.push(name);
    }
    let manifest = serde_json::to_vec(&[ArchiveImage {
        config: config_name,
        repo_tags: Some(vec![repo_tag.to_string()]),
        layers: names,
    }])?;
    let mut header = tar::Header::new_gnu();
    header.set_size(manifest.len() as u64);
    header.set_mode(0o644);
    header.set_cksum();
    builder
        .append_data(&mut header, "manifest.json", manifest.as_slice())
        .with_context(|| format!("cannot write {}", dest.display()))?;
    builder
        .into_inner()
        .and_then(|f| f.sync_all())
        .with_context(|| format!("cannot write {}", dest.display()))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn add(b: &mut tar::Builder<File>, name: &str, data: &[u8]) {
        let mut h = tar::Header::new_gnu();
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        h.set_cksum();
        b.append_data(&mut h, name, data).unwrap();
    }

    /// A `docker save`-like tarball: config, two layers (one reached through a symlink).
    pub fn fixture(path: &Path) {
        let mut b = tar::Builder::new(File::create(path).unwrap());
        add(
            &mut b,
            "abc.json",
            br#"{"architecture":"amd64","os":"linux"}"#,
        );
        add(&mut b, "l1/layer.tar", b"first layer");
        add(&mut b, "l2/layer.tar", &[0x1f, 0x8b, 1, 2, 3]);
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(tar::EntryType::Symlink);
        h.set_size(0);
        h.set_cksum();
        b.append_link(&mut h, "l3/layer.tar", "../l1/layer.tar")
            .unwrap();
        add(
            &mut b,
            "manifest.json",
            br#"[{"Config":"abc.json","RepoTags":["acme/det:1.0"],
                 "Layers":["l1/layer.tar","./l2/layer.tar","l3/layer.tar"]}]"#,
        );
        b.into_inner().unwrap();
    }

    #[test]
    fn docker_save_becomes_a_schema2_manifest() {
        let dir = tempfile::tempdir().unwrap();
        let tar_path = dir.path().join("img.tar");
        fixture(&tar_path);
        let plan = plan_push(&tar_path, "1.0").unwrap();
        assert_eq!(plan.blobs.len(), 3, "{plan:?}");
        assert_eq!(plan.blobs[1].digest, sha256_digest(b"first layer"));
        assert_eq!(
            sha256_file_range(&tar_path, plan.blobs[1].offset, plan.blobs[1].size).unwrap(),
            plan.blobs[1].digest
        );
        let top = plan.top().unwrap();
        assert_eq!(top.media_type, oci::DOCKER_MANIFEST);
        let m: serde_json::Value = serde_json::from_slice(&top.bytes).unwrap();
        assert_eq!(m["config"]["mediaType"], oci::DOCKER_CONFIG);
        assert_eq!(m["layers"][0]["mediaType"], oci::DOCKER_LAYER);
        assert_eq!(m["layers"][1]["mediaType"], oci::DOCKER_LAYER_GZIP);
        assert_eq!(m["layers"][2]["digest"], m["layers"][0]["digest"]);
        assert_eq!(m["layers"].as_array().unwrap().len(), 3);
    }

    #[test]
    fn written_archives_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("config");
        std::fs::write(&config, b"{}").unwrap();
        let layer = dir.path().join("layer");
        std::fs::write(&layer, b"layer data").unwrap();
        let cd = Descriptor::new(oci::DOCKER_CONFIG, sha256_digest(b"{}"), 2);
        let ld = Descriptor::new(oci::DOCKER_LAYER, sha256_digest(b"layer data"), 10);
        let out = dir.path().join("out.tar");
        write(&out, "acme/det:1.0", (&cd, &config), &[(ld.clone(), layer)]).unwrap();
        let plan = plan_push(&out, "1.0").unwrap();
        let digests: Vec<&str> = plan.blobs.iter().map(|b| b.digest.as_str()).collect();
        assert_eq!(digests, [cd.digest.as_str(), ld.digest.as_str()]);
    }

    #[test]
    fn bad_archives_are_reported() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("x.tar");
        let mut b = tar::Builder::new(File::create(&p).unwrap());
        add(&mut b, "other", b"x");
        b.into_inner().unwrap();
        assert!(plan_push(&p, "t")
            .unwrap_err()
            .to_string()
            .contains("manifest.json"));
        let mut b = tar::Builder::new(File::create(&p).unwrap());
        add(
            &mut b,
            "manifest.json",
            br#"[{"Config":"missing.json","Layers":[]}]"#,
        );
        b.into_inner().unwrap();
        assert!(plan_push(&p, "t")
            .unwrap_err()
            .to_string()
            .contains("missing.json"));
    }
}

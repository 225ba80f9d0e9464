//! `arca registry image push|pull`: images move between the registry's OCI API and local
//! OCI layouts or `docker save` tarballs, without a Docker daemon. Blobs stream from and to
//! files; blobs the registry (or the layout) already has are skipped; pulled content is
//! verified against its digests before it is kept.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{anyhow, bail, Context as _, Result};
use arca_client::oci::{FetchedManifest, Progress};
use arca_client::ArcaClient;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::image::parse;
use super::Context;
use crate::cli::images::{ImagePullArgs, ImagePushArgs, PullFormat};
use crate::images::layout::{self, LayoutWriter};
use crate::images::{archive, children, is_index, Descriptor, PushPlan};
use crate::output::{Format, Output, Record};

/// A byte-count progress bar on stderr; hidden when stderr is not a terminal or for JSON.
pub(crate) fn progress_bar(total: u64, format: Format, verb: &str) -> ProgressBar {
    let visible = format != Format::Json && std::io::stderr().is_terminal();
    let target = if visible {
        ProgressDrawTarget::stderr()
    } else {
        ProgressDrawTarget::hidden()
    };
    let bar = ProgressBar::with_draw_target(Some(total), target);
    if let Ok(style) = ProgressStyle::with_template(&format!(
        "{verb} {{msg:20}} [{{bar:30}}] {{bytes}}/{{total_bytes}} {{bytes_per_sec}} eta {{eta}}"
    )) {
        bar.set_style(style.progress_chars("=> "));
    }
    bar
}

pub(crate) fn progress_of(bar: &ProgressBar) -> Progress {
    let bar = bar.clone();
    Arc::new(move |n| bar.inc(n))
}

fn short(digest: &str) -> String {
    digest
        .trim_start_matches("sha256:")
        .chars()
        .take(12)
        .collect()
}

async fn read_source(source: PathBuf, tag: String) -> Result<PushPlan> {
    tokio::task::spawn_blocking(move || {
        if source.is_dir() {
            layout::plan_push(&source, &tag)
        } else if source.is_file() {
            archive::plan_push(&source, &tag)
        } else {
            bail!(
                "{} is neither an OCI layout directory nor a docker-save tarball",
                source.display()
            )
        }
    })
    .await
    .map_err(|e| anyhow!("reading the image source failed: {e}"))?
}

/// `image push SOURCE org/[team/]name:tag`.
pub async fn push(ctx: &Context<'_>, args: &ImagePushArgs) -> Result<()> {
    let r = parse(&args.image)?;
    let tag = match (&r.tag, &r.digest) {
        (Some(tag), None) => tag.clone(),
        _ => bail!("push needs a tag and no digest: org/[team/]name:tag"),
    };
    let plan = read_source(args.source.clone(), tag.clone())
        .await
        .with_context(|| format!("cannot read {}", args.source.display()))?;
    let Some(top) = plan.top() else {
        bail!("{} holds no image", args.source.display());
    };
    let (settings, client) = ctx.connect()?;
    let out = Output::new(settings.format());
    let repo = r.repo_path();

    let mut missing = Vec::new();
    for blob in &plan.blobs {
        let present = client
            .head_blob(&repo, &blob.digest)
            .await
            .with_context(|| format!("cannot check blob {} in {repo}", blob.digest))?;
        if present.is_none() {
            missing.push(blob);
        }
    }
    let total: u64 = missing.iter().map(|b| b.size).sum();
    let bar = progress_bar(total, out.format(), "Pushing");
    for blob in &missing {
        bar.set_message(short(&blob.digest));
        client
            .upload_file_range(
                &repo,
                &blob.digest,
                &blob.path,
                blob.offset,
                blob.size,
                Some(progress_of(&bar)),
            )
            .await
            .with_context(|| format!("cannot upload blob {} to {repo}", blob.digest))?;
    }
    bar.finish_and_clear();
    let last = plan.manifests.len() - 1;
    for (i, m) in plan.manifests.iter().enumerate() {
        let reference = if i == last {
            tag.as_str()
        } else {
            m.digest.as_str()
        };
        client
            .put_manifest(&repo, reference, &m.media_type, m.bytes.clone().into())
            .await
            .with_context(|| format!("cannot put manifest {} to {repo}", m.digest))?;
    }
    let record = Record::new()
        .field("image", format!("{repo}:{tag}"))
        .field("digest", top.digest.as_str())
        .field("media_type", top.media_type.as_str())
        .field("manifests", plan.manifests.len())
        .field("blobs_uploaded", missing.len())
        .field("blobs_skipped", plan.blobs.len() - missing.len())
        .field("bytes_uploaded", total);
    out.record_with_message(&format!("Pushed {repo}:{tag}."), &record)?;
    Ok(())
}

/// `image pull org/[team/]name:tag DEST [--format oci|docker-archive]`.
pub async fn pull(ctx: &Context<'_>, args: &ImagePullArgs) -> Result<()> {
    let r = parse(&args.image)?;
    let Some(reference) = r.reference().map(str::to_string) else {
        bail!("pull needs a tag or a digest: org/[team/]name:tag");
    };
    let (settings, client) = ctx.connect()?;
    let out = Output::new(settings.format());
    let repo = r.repo_path();
    let top = client
        .get_manifest(&repo, &reference)
        .await
        .with_context(|| format!("cannot get manifest {reference} of {repo}"))?;
    let (written, stats) = match args.format {
        PullFormat::Oci => pull_layout(&client, out, &repo, &reference, &top, &args.dest).await?,
        PullFormat::DockerArchive => {
            let name = r.tag.as_deref().unwrap_or(&reference);
            pull_archive(&client, out, &repo, name, &top, args).await?
        }
    };
    let record = Record::new()
        .field("image", format!("{repo}@{}", top.digest))
        .field("media_type", top.media_type.as_str())
        .field("destination", written.display().to_string())
        .field("blobs_downloaded", stats.0)
        .field("blobs_present", stats.1)
        .field("bytes_downloaded", stats.2);
    out.record_with_message(&format!("Pulled {r} to {}.", written.display()), &record)?;
    Ok(())
}

/// (downloaded, already present, bytes downloaded)
type Stats = (usize, usize, u64);

/// Blobs (config and layers) of `manifests`, each once.
fn blobs_of(manifests: &[&FetchedManifest]) -> Result<Vec<Descriptor>> {
    let mut blobs: Vec<Descriptor> = Vec::new();
    for m in manifests {
        for d in children(&m.media_type, &m.bytes)?.blobs {
            if !blobs.iter().any(|b| b.digest == d.digest) {
                blobs.push(d);
            }
        }
    }
    Ok(blobs)
}

/// Downloads `blobs` to `path_of(digest)`, skipping those `have` says are there.
async fn download_all(
    client: &ArcaClient,
    out: Output,
    repo: &str,
    blobs: &[Descriptor],
    path_of: impl Fn(&str) -> Result<PathBuf>,
    have: impl Fn(&Descriptor) -> bool,
) -> Result<Stats> {
    let wanted: Vec<&Descriptor> = blobs.iter().filter(|d| !have(d)).collect();
    let total: u64 = wanted.iter().map(|d| d.size).sum();
    let bar = progress_bar(total, out.format(), "Pulling");
    for d in &wanted {
        bar.set_message(short(&d.digest));
        let dest = path_of(&d.digest)?;
        client
            .download_blob(
                repo,
                &d.digest,
                Some(d.size),
                &dest,
                Some(progress_of(&bar)),
            )
            .await
            .with_context(|| format!("cannot download blob {} of {repo}", d.digest))?;
    }
    bar.finish_and_clear();
    Ok((wanted.len(), blobs.len() - wanted.len(), total))
}

async fn pull_layout(
    client: &ArcaClient,
    out: Output,
    repo: &str,
    reference: &str,
    top: &FetchedManifest,
    dest: &Path,
) -> Result<(PathBuf, Stats)> {
    let writer = LayoutWriter::create(dest)?;
    let mut platform_manifests = Vec::new();
    for d in children(&top.media_type, &top.bytes)?.manifests {
        let m = client
            .get_manifest(repo, &d.digest)
            .await
            .with_context(|| format!("cannot get manifest {} of {repo}", d.digest))?;
        platform_manifests.push(m);
    }
    let mut all: Vec<&FetchedManifest> = platform_manifests.iter().collect();
    if !is_index(&top.media_type) {
        all.push(top);
    }
    let blobs = blobs_of(&all)?;
    let stats = download_all(
        client,
        out,
        repo,
        &blobs,
        |d| writer.blob_path(d),
        |d| writer.has_blob(&d.digest, d.size),
    )
    .await?;
    for m in platform_manifests.iter().chain([top]) {
        writer.write_blob(&m.digest, &m.bytes)?;
    }
    let descriptor = Descriptor::new(&top.media_type, top.digest.clone(), top.bytes.len() as u64);
    writer.set_ref(&descriptor, reference)?;
    Ok((dest.to_path_buf(), stats))
}

async fn pull_archive(
    client: &ArcaClient,
    out: Output,
    repo: &str,
    tag: &str,
    top: &FetchedManifest,
    args: &ImagePullArgs,
) -> Result<(PathBuf, Stats)> {
    let image = if is_index(&top.media_type) {
        let kids = children(&top.media_type, &top.bytes)?.manifests;
        let wanted = args.platform.trim_start_matches('/');
        let found = kids
            .iter()
            .find(|d| d.platform().as_deref() == Some(wanted))
            .ok_or_else(|| {
                let all: Vec<String> = kids.iter().filter_map(Descriptor::platform).collect();
                anyhow!(
                    "{repo} has no {wanted} image (platforms: {}); pass --platform",
                    all.join(", ")
                )
            })?;
        client
            .get_manifest(repo, &found.digest)
            .await
            .with_context(|| format!("cannot get manifest {} of {repo}", found.digest))?
    } else {
        top.clone()
    };
    let blobs = blobs_of(&[&image])?;
    // Layers as listed (a layer may repeat); `blobs` has each once, config first.
    let listed = children(&image.media_type, &image.bytes)?.blobs;
    let dest = if args.dest.is_dir() {
        let file = format!("{}_{tag}.tar", repo.replace('/', "_"));
        args.dest.join(file)
    } else {
        args.dest.clone()
    };
    let parent = match dest.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let staging = tempfile::tempdir_in(&parent)
        .with_context(|| format!("cannot create a staging directory in {}", parent.display()))?;
    let root = staging.path().to_path_buf();
    let stats = download_all(
        client,
        out,
        repo,
        &blobs,
        |d| Ok(root.join(d.trim_start_matches("sha256:"))),
        |_| false,
    )
    .await?;
    let path_of = |d: &Descriptor| root.join(d.digest.trim_start_matches("sha256:"));
    let (config, layers) = listed
        .split_first()
        .ok_or_else(|| anyhow!("the image has no config"))?;
    let layers: Vec<(Descriptor, PathBuf)> =
        layers.iter().map(|d| (d.clone(), path_of(d))).collect();
    archive::write(
        &dest,
        &format!("{repo}:{tag}"),
        (config, &path_of(config)),
        &layers,
    )?;
    Ok((dest, stats))
}

//! Reading and checking an uploaded chart package (`.tgz`).
//!
//! The package is decoded with `flate2` (multi-member gzip, like Go's `gzip.Reader`) and walked
//! entry by entry with the `tar` crate; no path is ever touched on disk. The decompressed stream
//! goes through a byte-counting reader that fails once [`PackageLimits::max_uncompressed_bytes`]
//! is passed, so a gzip bomb is cut off after at most that many bytes, and only `Chart.yaml` and
//! `README.md` are held in memory (each under its own limit). The only hand-written parsing is
//! the path check of each entry (splitting on `/`), which has to be ours because the rules are.
//!
//! After the end-of-archive marker the rest of the stream is drained too, so that the gzip CRC
//! and length are verified and trailing garbage is rejected.

use std::cell::{Cell, RefCell};
use std::collections::HashSet;
use std::io::{self, Read};

use flate2::read::MultiGzDecoder;
use sha2::{Digest, Sha256};
use tar::EntryType;

use crate::chart::{ChartMetadata, ChartName, ChartVersion};
use crate::error::{MetadataError, PackageError};

/// Bounds applied while reading a package. All sizes are in bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PackageLimits {
    /// Largest decompressed tar stream (headers and padding included). Default 100 MiB, Helm's
    /// own `MaxDecompressedChartSize`.
    pub max_uncompressed_bytes: u64,
    /// Most tar entries (files, directories, links). Default 10,000.
    pub max_entries: u64,
    /// Largest `Chart.yaml`. Default 1 MiB.
    pub max_chart_yaml_bytes: u64,
    /// Largest `README.md`. Default 5 MiB, Helm's `MaxDecompressedFileSize`.
    pub max_readme_bytes: u64,
}

impl Default for PackageLimits {
    fn default() -> Self {
        PackageLimits {
            max_uncompressed_bytes: 100 * 1024 * 1024,
            max_entries: 10_000,
            max_chart_yaml_bytes: 1024 * 1024,
            max_readme_bytes: 5 * 1024 * 1024,
        }
    }
}

/// A regular file of a package, for a file browser.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackageFile {
    /// Path relative to the chart directory, e.g. `templates/deployment.yaml`.
    pub path: String,
    /// Size in bytes.
    pub size: u64,
}

/// A checked chart package.
#[derive(Debug, Clone, PartialEq)]
pub struct ChartPackage {
    /// The chart name (from `Chart.yaml`, equal to the top-level directory).
    pub name: ChartName,
    /// The chart version (from `Chart.yaml`).
    pub version: ChartVersion,
    /// The validated `Chart.yaml`.
    pub metadata: ChartMetadata,
    /// `README.md` of the chart directory (matched case-insensitively), lossily decoded as
    /// UTF-8; it becomes the chart's overview.
    pub readme: Option<String>,
    /// The regular files in archive order; directories and links are not listed.
    pub files: Vec<PackageFile>,
    /// SHA-256 of the whole `.tgz`, lowercase hex (the `digest` of `index.yaml`).
    pub digest: String,
}

impl ChartPackage {
    /// Sum of the sizes of [`ChartPackage::files`].
    pub fn total_file_size(&self) -> u64 {
        self.files.iter().map(|f| f.size).sum()
    }
}

/// What the counting reader saw; lives on the caller's stack so errors can be classified after
/// the tar crate has wrapped them.
#[derive(Default)]
struct ReaderState {
    exceeded: Cell<bool>,
    gzip_error: RefCell<Option<String>>,
}

/// Passes through at most `remaining` bytes of `inner`; one byte more is an error.
struct LimitedReader<'s, R> {
    inner: R,
    remaining: u64,
    state: &'s ReaderState,
}

impl<R: Read> LimitedReader<'_, R> {
    fn read_inner(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.inner.read(buf).inspect_err(|e| {
            if e.kind() != io::ErrorKind::Interrupted {
                self.state.gzip_error.replace(Some(e.to_string()));
            }
        })
    }
}

impl<R: Read> Read for LimitedReader<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.state.exceeded.get() {
            return Err(io::Error::other("decompressed size limit exceeded"));
        }
        if buf.is_empty() {
            return Ok(0);
        }
        if self.remaining == 0 {
            let mut probe = [0u8; 1];
            if self.read_inner(&mut probe)? == 0 {
                return Ok(0);
            }
            self.state.exceeded.set(true);
            return Err(io::Error::other("decompressed size limit exceeded"));
        }
        let max = buf
            .len()
            .min(usize::try_from(self.remaining).unwrap_or(usize::MAX));
        let n = self.read_inner(&mut buf[..max])?;
        self.remaining -= n as u64;
        Ok(n)
    }
}

fn classify(err: io::Error, state: &ReaderState, limits: &PackageLimits) -> PackageError {
    if state.exceeded.get() {
        PackageError::UncompressedTooLarge {
            limit: limits.max_uncompressed_bytes,
        }
    } else if let Some(msg) = state.gzip_error.borrow().clone() {
        PackageError::InvalidGzip(msg)
    } else {
        PackageError::InvalidTar(err.to_string())
    }
}

fn escapes(path: &str, reason: impl Into<String>) -> PackageError {
    PackageError::TarEntryEscapes {
        path: path.to_owned(),
        reason: reason.into(),
    }
}

/// Splits a normalized relative archive path into its top-level directory and the rest
/// (`None` for the directory itself). Rejects absolute paths, backslashes, empty, `.` and `..`
/// segments.
fn split_entry_path(path: &str) -> Result<(&str, Option<&str>), String> {
    if path.is_empty() {
        return Err("the path is empty".into());
    }
    if path.starts_with('/') {
        return Err("absolute paths are not allowed".into());
    }
    if path.contains('\\') {
        return Err("backslashes are not allowed in paths".into());
    }
    if path.split('/').any(|c| c == "..") {
        return Err("'..' path segments are not allowed".into());
    }
    if path.split('/').any(|c| c.is_empty() || c == ".") {
        return Err("the path is not normalized (empty or '.' segment)".into());
    }
    Ok(match path.split_once('/') {
        Some((top, rest)) => (top, Some(rest)),
        None => (path, None),
    })
}

/// Whether a symlink at `rest` (relative to the chart directory) pointing to `target` resolves
/// inside the chart directory.
fn symlink_stays_inside(rest: &str, target: &str) -> bool {
    if target.is_empty() || target.starts_with('/') || target.contains('\\') {
        return false;
    }
    let mut stack: Vec<&str> = rest.split('/').collect();
    stack.pop();
    for comp in target.split('/') {
        match comp {
            "" | "." => {}
            ".." => {
                if stack.pop().is_none() {
                    return false;
                }
            }
            c => stack.push(c),
        }
    }
    true
}

fn read_bounded(entry: &mut impl Read, size: u64, limit: u64) -> io::Result<Vec<u8>> {
    let mut buf = Vec::with_capacity(usize::try_from(size.min(limit)).unwrap_or(0));
    entry.take(limit).read_to_end(&mut buf)?;
    Ok(buf)
}

/// What the walk over the entries collected.
#[derive(Default)]
struct Walk {
    top: Option<String>,
    chart_yaml: Option<Vec<u8>>,
    readme: Option<Vec<u8>>,
    files: Vec<PackageFile>,
}

/// Reads and checks a chart package. See the module documentation for the rules.
///
/// The gzip magic is checked first ([`PackageError::NotGzip`]); then the entries are walked in
/// archive order and the first broken rule among gzip/tar integrity, the limits, entry paths
/// and links ([`PackageError::TarEntryEscapes`]), entry types and duplicate paths is returned;
/// only then is `Chart.yaml` looked at (missing, not parsing, breaking Helm's rules) and the
/// top-level directory compared with the chart name.
pub fn read_package(bytes: &[u8], limits: &PackageLimits) -> Result<ChartPackage, PackageError> {
    if bytes.len() < 2 || bytes[0] != 0x1f || bytes[1] != 0x8b {
        return Err(PackageError::NotGzip);
    }
    let digest = hex::encode(Sha256::digest(bytes));
    let state = ReaderState::default();
    let reader = LimitedReader {
        inner: MultiGzDecoder::new(bytes),
        remaining: limits.max_uncompressed_bytes,
        state: &state,
    };
    let mut archive = tar::Archive::new(reader);
    let walk = walk_entries(&mut archive, limits).map_err(|e| match e {
        WalkError::Io(e) => classify(e, &state, limits),
        WalkError::Package(p) => p,
    })?;
    // Drain to the end so the gzip trailer (CRC, length) is checked.
    io::copy(&mut archive.into_inner(), &mut io::sink())
        .map_err(|e| classify(e, &state, limits))?;

    let top = walk
        .top
        .ok_or(PackageError::MissingChartYaml { directory: None })?;
    let chart_yaml = walk
        .chart_yaml
        .ok_or_else(|| PackageError::MissingChartYaml {
            directory: Some(top.clone()),
        })?;
    let metadata = ChartMetadata::from_yaml(&chart_yaml)
        .map_err(|message| PackageError::InvalidChartYaml { message })?;
    metadata.validate()?;
    // validate() has checked both; the fallbacks are unreachable but keep this panic-free.
    let name = metadata
        .chart_name()
        .map_err(|e| PackageError::InvalidMetadata(MetadataError::InvalidName(e)))?;
    let version = metadata
        .chart_version()
        .map_err(|e| PackageError::InvalidMetadata(MetadataError::InvalidVersion(e)))?;
    if top != name.as_str() {
        return Err(PackageError::TopDirectoryMismatch {
            directory: top,
            name: name.into_string(),
        });
    }
    Ok(ChartPackage {
        name,
        version,
        metadata,
        readme: walk
            .readme
            .map(|b| String::from_utf8_lossy(&b).into_owned()),
        files: walk.files,
        digest,
    })
}

enum WalkError {
    Io(io::Error),
    Package(PackageError),
}

impl From<io::Error> for WalkError {
    fn from(e: io::Error) -> Self {
        WalkError::Io(e)
    }
}
impl From<PackageError> for WalkError {
    fn from(e: PackageError) -> Self {
        WalkError::Package(e)
    }
}

fn walk_entries<R: Read>(
    archive: &mut tar::Archive<R>,
    limits: &PackageLimits,
) -> Result<Walk, WalkError> {
    let mut walk = Walk::default();
    let mut seen: HashSet<String> = HashSet::new();
    let mut count: u64 = 0;
    for entry in archive.entries()? {
        let mut entry = entry?;
        count += 1;
        if count > limits.max_entries {
            return Err(PackageError::TooManyEntries {
                limit: limits.max_entries,
            }
            .into());
        }
        let kind = entry.header().entry_type();
        if kind == EntryType::XGlobalHeader {
            continue; // Global PAX headers carry no file (Helm skips them too).
        }
        let raw_path = entry.path_bytes().into_owned();
        let path = String::from_utf8(raw_path).map_err(|e| {
            escapes(
                &String::from_utf8_lossy(e.as_bytes()),
                "the path is not valid UTF-8",
            )
        })?;
        let size = entry.size();
        if size > limits.max_uncompressed_bytes {
            return Err(PackageError::UncompressedTooLarge {
                limit: limits.max_uncompressed_bytes,
            }
            .into());
        }
        // A V7-style regular entry whose name ends in '/' is a directory (as in Go's tar).
        let is_dir =
            kind == EntryType::Directory || (kind == EntryType::Regular && path.ends_with('/'));
        let checked = if is_dir {
            path.strip_suffix('/').unwrap_or(&path)
        } else {
            &path
        };
        let (top, rest) = split_entry_path(checked).map_err(|r| escapes(&path, r))?;
        match &walk.top {
            None => walk.top = Some(top.to_owned()),
            Some(t) if t != top => {
                return Err(escapes(
                    &path,
                    format!(
                        "it is outside the chart directory {t:?}; a chart package has exactly one top-level directory"
                    ),
                )
                .into())
            }
            Some(_) => {}
        }
        if is_dir {
            continue;
        }
        let Some(rest) = rest else {
            return Err(escapes(
                &path,
                "only the chart directory may be at the top level; files and links belong inside it",
            )
            .into());
        };
        match kind {
            EntryType::Regular | EntryType::Continuous => {}
            EntryType::Symlink => {
                let target = link_target(&entry, &path)?;
                if !symlink_stays_inside(rest, &target) {
                    return Err(escapes(
                        &path,
                        format!("symbolic link to {target:?} points outside the chart directory"),
                    )
                    .into());
                }
                continue;
            }
            EntryType::Link => {
                let target = link_target(&entry, &path)?;
                let inside = matches!(split_entry_path(&target), Ok((t, Some(_))) if t == top);
                if !inside {
                    return Err(escapes(
                        &path,
                        format!("hard link to {target:?} points outside the chart directory"),
                    )
                    .into());
                }
                continue;
            }
            other => {
                return Err(PackageError::UnsupportedEntryType {
                    path,
                    kind: format!("{other:?}"),
                }
                .into())
            }
        }
        if !seen.insert(rest.to_owned()) {
            return Err(PackageError::DuplicateEntry { path }.into());
        }
        if rest == "Chart.yaml" {
            if size > limits.max_chart_yaml_bytes {
                return Err(PackageError::ChartYamlTooLarge {
                    path,
                    size,
                    limit: limits.max_chart_yaml_bytes,
                }
                .into());
            }
            walk.chart_yaml = Some(read_bounded(&mut entry, size, limits.max_chart_yaml_bytes)?);
        } else if rest.eq_ignore_ascii_case("README.md") && walk.readme.is_none() {
            if size > limits.max_readme_bytes {
                return Err(PackageError::ReadmeTooLarge {
                    path,
                    size,
                    limit: limits.max_readme_bytes,
                }
                .into());
            }
            walk.readme = Some(read_bounded(&mut entry, size, limits.max_readme_bytes)?);
        }
        walk.files.push(PackageFile {
            path: rest.to_owned(),
            size,
        });
    }
    Ok(walk)
}

fn link_target<R: Read>(entry: &tar::Entry<'_, R>, path: &str) -> Result<String, PackageError> {
    let bytes = entry.link_name_bytes().unwrap_or_default();
    String::from_utf8(bytes.into_owned())
        .map_err(|_| escapes(path, "the link target is not valid UTF-8"))
}

/// Checks that a package is the chart `name` at `version`, as the upload target says.
///
/// Versions are compared as written: `v1.0.0` and `1.0.0` differ, because the version string
/// names the file and the tag.
pub fn check_matches(
    package: &ChartPackage,
    name: &ChartName,
    version: &ChartVersion,
) -> Result<(), PackageError> {
    if &package.name != name {
        return Err(PackageError::NameMismatch {
            expected: name.to_string(),
            found: package.name.to_string(),
        });
    }
    if &package.version != version {
        return Err(PackageError::VersionMismatch {
            expected: version.to_string(),
            found: package.version.to_string(),
        });
    }
    Ok(())
}

#[cfg(test)]
#[path = "package_tests.rs"]
mod tests;

//! Whole-version transfers of models and resources, with the protocol NGC's `ngcsdk` uses:
//! hash every file, ask which hashes the server already holds, send the rest in parts of
//! [`PART_SIZE`] bytes to signed URLs, complete each file, commit the file list, mark the version
//! complete. Downloads fetch signed URLs and verify every file's SHA-256.
//!
//! **Resume.** With a journal directory, an upload records each finished part and file in a
//! small JSON journal (written atomically after each step). Rerunning the same upload reuses the
//! hashes of unchanged files (same size and modification time), asks the server only for the
//! parts still missing and skips finished files; a killed upload therefore continues where it
//! stopped. Files the server already holds are never sent again, journal or not.

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Instant, SystemTime};

use base64::Engine as _;
use futures::{StreamExt, TryStreamExt};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use sha2::{Digest as _, Sha256};
use tokio::io::AsyncWriteExt;

use crate::api::models::{ArtifactPlace, RemoteFile};
use crate::client::{ArcaClient, Result};
use crate::error::ClientError;
use crate::oci::{io_error, Progress};

/// Bytes per part, as ngcsdk cuts files (the server expects exactly this).
pub const PART_SIZE: u64 = 500_000_000;
/// Files committed per call.
pub const COMMIT_BATCH: usize = 4000;
/// Hashes asked about per call.
pub const EXISTS_BATCH: usize = 100;
/// Files moved at the same time.
pub const CONCURRENT_FILES: usize = 4;

/// A local file to upload.
#[derive(Debug, Clone)]
struct LocalFile {
    rel: String,
    abs: PathBuf,
    size: u64,
    mtime_ns: u128,
}

/// What the journal remembers of one file.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
struct JournalFile {
    size: u64,
    mtime_ns: u128,
    sha256: String,
    upload_id: Option<String>,
    done_parts: Vec<u32>,
    complete: bool,
}

/// The resume journal of one upload.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct Journal {
    files: BTreeMap<String, JournalFile>,
}

/// The journal and where it lives.
struct JournalFileStore {
    path: Option<PathBuf>,
    data: Mutex<Journal>,
}

impl JournalFileStore {
    fn load(path: Option<PathBuf>) -> Self {
        let data = path
            .as_ref()
            .and_then(|p| std::fs::read(p).ok())
            .and_then(|b| serde_json::from_slice(&b).ok())
            .unwrap_or_default();
        Self {
            path,
            data: Mutex::new(data),
        }
    }

    fn update(&self, rel: &str, f: impl FnOnce(&mut JournalFile)) -> Result<()> {
        let snapshot = {
            let mut j = self.data.lock().unwrap_or_else(|e| e.into_inner());
            f(j.files.entry(rel.to_string()).or_default());
            j.clone()
        };
        self.save(&snapshot)
    }

    fn get(&self, rel: &str) -> Option<JournalFile> {
        let j = self.data.lock().unwrap_or_else(|e| e.into_inner());
        j.files.get(rel).cloned()
    }

    fn save(&self, j: &Journal) -> Result<()> {
        let Some(path) = &self.path else {
            return Ok(());
        };
        let shown = path.display().to_string();
        let dir = path.parent().unwrap_or(Path::new("."));
        std::fs::create_dir_all(dir).map_err(io_error(format!("cannot create {shown}")))?;
        let bytes = serde_json::to_vec(j).unwrap_or_default();
        let tmp = path.with_extension("tmp");
        std::fs::write(&tmp, bytes).map_err(io_error(format!("cannot write {shown}")))?;
        std::fs::rename(&tmp, path).map_err(io_error(format!("cannot write {shown}")))?;
        Ok(())
    }

    fn remove(&self) {
        if let Some(p) = &self.path {
            let _ = std::fs::remove_file(p);
        }
    }
}

/// An upload request.
#[derive(Clone)]
pub struct UploadRequest<'a> {
    /// Where the artifact lives.
    pub at: ArtifactPlace<'a>,
    /// The version id (`None`: a resource's next version, picked by the server).
    pub version: Option<String>,
    /// A directory (uploaded recursively) or a single file.
    pub source: PathBuf,
    /// NGC version fields (`description`, `gpuModel`, `customMetrics`, …).
    pub version_fields: Value,
    /// A complete version whose files the new one starts from.
    pub base_version: Option<String>,
    /// Paths of the base version's files to leave out of the new version.
    pub remove: Vec<String>,
    /// Where to keep the resume journal (`None`: no journal; finished files still are not
    /// re-sent).
    pub journal_dir: Option<PathBuf>,
    /// Byte progress.
    pub progress: Option<Progress>,
    /// Called once the total number of bytes to hash and send is known.
    pub on_total: Option<Arc<dyn Fn(u64) + Send + Sync>>,
}

/// What an upload did.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UploadReport {
    /// `org/[team/]name:version`.
    pub target: String,
    /// The version id.
    pub version: String,
    /// Files in the upload.
    pub files: usize,
    /// Their total size.
    pub total_bytes: u64,
    /// Files sent in this run (the others the server already held or were done before).
    pub files_sent: usize,
    /// Bytes sent in this run.
    pub bytes_sent: u64,
    /// Start, RFC 3339.
    pub started: String,
    /// End, RFC 3339.
    pub ended: String,
    /// Duration in seconds.
    pub seconds: f64,
    /// `UPLOAD_COMPLETE`.
    pub status: String,
}

fn scan(source: &Path) -> Result<Vec<LocalFile>> {
    let shown = source.display().to_string();
    let meta = std::fs::metadata(source).map_err(io_error(format!("cannot read {shown}")))?;
    let mut out = Vec::new();
    let entry = |abs: PathBuf, rel: String, m: &std::fs::Metadata| LocalFile {
        rel,
        abs,
        size: m.len(),
        mtime_ns: m
            .modified()
            .ok()
            .and_then(|t| t.duration_since(SystemTime::UNIX_EPOCH).ok())
            .map(|d| d.as_nanos())
            .unwrap_or(0),
    };
    if meta.is_file() {
        let name = source
            .file_name()
            .map(|n| n.to_string_lossy().to_string())
            .unwrap_or_default();
        out.push(entry(source.to_path_buf(), name, &meta));
        return Ok(out);
    }
    let mut stack = vec![(source.to_path_buf(), String::new())];
    let mut steps = 0usize;
    while let Some((dir, prefix)) = stack.pop() {
        steps += 1;
        if steps > 10_000_000 {
            return Err(ClientError::Integrity(format!(
                "{shown} has too many entries"
            )));
        }
        let shown_dir = dir.display().to_string();
        let rd = std::fs::read_dir(&dir).map_err(io_error(format!("cannot list {shown_dir}")))?;
        for e in rd {
            let e = e.map_err(io_error(format!("cannot list {shown_dir}")))?;
            let name = e.file_name().to_string_lossy().to_string();
            let rel = if prefix.is_empty() {
                name
            } else {
                format!("{prefix}/{name}")
            };
            let path = e.path();
            // Symbolic links to files are read through (as ngcsdk does); links to directories
            // are not followed (no cycles).
            let m = std::fs::metadata(&path)
                .map_err(io_error(format!("cannot read {}", path.display())))?;
            let is_link = e.file_type().map(|t| t.is_symlink()).unwrap_or(false);
            if m.is_dir() && !is_link {
                stack.push((path, rel));
            } else if m.is_file() {
                out.push(entry(path, rel, &m));
            }
        }
    }
    out.sort_by(|a, b| a.rel.cmp(&b.rel));
    Ok(out)
}

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

async fn hash_file(path: &Path, progress: Option<&Progress>) -> Result<String> {
    use tokio::io::AsyncReadExt;
    let shown = path.display().to_string();
    let mut f = tokio::fs::File::open(path)
        .await
        .map_err(io_error(format!("cannot open {shown}")))?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = f
            .read(&mut buf)
            .await
            .map_err(io_error(format!("cannot read {shown}")))?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
        if let Some(p) = progress {
            p(n as u64);
        }
    }
    Ok(b64(&h.finalize()))
}

fn part_count(size: u64) -> u32 {
    size.div_ceil(PART_SIZE).max(1) as u32
}

fn journal_path(
    dir: &Path,
    client: &ArcaClient,
    req: &UploadRequest<'_>,
    version: &str,
) -> PathBuf {
    let source = std::fs::canonicalize(&req.source).unwrap_or_else(|_| req.source.clone());
    let key = format!(
        "{}\n{}\n{}\n{}\n{}\n{}",
        client.base_url(),
        req.at.kind.segment(),
        req.at.path(),
        version,
        source.display(),
        "v1"
    );
    dir.join(format!(
        "{}.json",
        hex::encode(Sha256::digest(key.as_bytes()))
    ))
}

fn now_rfc3339() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

impl ArcaClient {
    /// Uploads a version from a directory or file (see the module documentation). An existing
    /// `UPLOAD_PENDING` version is continued; an `UPLOAD_COMPLETE` one is an error.
    pub async fn upload_version(&self, req: UploadRequest<'_>) -> Result<UploadReport> {
        let started_at = Instant::now();
        let started = now_rfc3339();
        let at = req.at;
        let files = tokio::task::spawn_blocking({
            let s = req.source.clone();
            move || scan(&s)
        })
        .await
        .map_err(|e| ClientError::Integrity(e.to_string()))??;
        if !req.remove.is_empty() && req.base_version.is_none() {
            return Err(ClientError::Integrity(
                "removing files needs a base version to remove them from".into(),
            ));
        }
        if files.is_empty() && req.base_version.is_none() {
            return Err(ClientError::Integrity(format!(
                "{} holds no files to upload",
                req.source.display()
            )));
        }
        if let Some(base) = &req.base_version {
            let b = self.version(at, base).await?;
            if b.status != "UPLOAD_COMPLETE" {
                return Err(ClientError::Integrity(format!(
                    "base version {base} is not complete ({})",
                    b.status
                )));
            }
        }
        // Create the version, or continue a pending one.
        let mut body = req.version_fields.clone();
        if let (Some(v), Value::Object(m)) = (&req.version, &mut body) {
            m.insert("versionId".into(), json!(v));
        }
        let version = match self.create_version(at, &body).await {
            Ok(v) => v.version_id,
            Err(e) if e.status() == Some(409) => {
                let v = req.version.clone().unwrap_or_default();
                let existing = self.version(at, &v).await?;
                if existing.status == "UPLOAD_COMPLETE" {
                    return Err(e);
                }
                existing.version_id
            }
            Err(e) => return Err(e),
        };
        let total: u64 = files.iter().map(|f| f.size).sum();
        if let Some(t) = &req.on_total {
            t(total);
        }
        let journal = Arc::new(JournalFileStore::load(
            req.journal_dir
                .as_ref()
                .map(|d| journal_path(d, self, &req, &version)),
        ));

        // Hashes: reuse the journal's for unchanged files.
        let mut hashes: Vec<String> = Vec::with_capacity(files.len());
        for f in &files {
            let known = journal
                .get(&f.rel)
                .filter(|j| j.size == f.size && j.mtime_ns == f.mtime_ns && !j.sha256.is_empty());
            let h = match known {
                Some(j) => j.sha256,
                None => {
                    let h = hash_file(&f.abs, None).await?;
                    journal.update(&f.rel, |j| {
                        *j = JournalFile {
                            size: f.size,
                            mtime_ns: f.mtime_ns,
                            sha256: h.clone(),
                            ..Default::default()
                        }
                    })?;
                    h
                }
            };
            hashes.push(h);
        }

        // Which contents the server already holds.
        let mut held: HashSet<String> = HashSet::new();
        let distinct: Vec<String> = {
            let mut d = hashes.clone();
            d.sort();
            d.dedup();
            d
        };
        for batch in distinct.chunks(EXISTS_BATCH) {
            let known = self.files_known(at, batch).await?;
            for (h, k) in batch.iter().zip(known) {
                if k {
                    held.insert(h.clone());
                }
            }
        }

        // Send what is missing: several files at a time, each file's parts in order.
        let sent_files = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let sent_bytes = Arc::new(std::sync::atomic::AtomicU64::new(0));
        let mut in_flight: HashSet<String> = HashSet::new();
        let mut jobs = Vec::new();
        for (f, h) in files.iter().zip(&hashes) {
            if held.contains(h) {
                if let Some(p) = &req.progress {
                    p(f.size);
                }
                continue;
            }
            // Two files with the same content are sent once.
            if !in_flight.insert(h.clone()) {
                if let Some(p) = &req.progress {
                    p(f.size);
                }
                continue;
            }
            jobs.push((f.clone(), h.clone()));
        }
        let version_ref = version.as_str();
        futures::stream::iter(jobs.into_iter().map(|(f, h)| {
            let journal = journal.clone();
            let progress = req.progress.clone();
            let sent_files = sent_files.clone();
            let sent_bytes = sent_bytes.clone();
            async move {
                let n = self
                    .upload_one(at, version_ref, &f, &h, &journal, progress)
                    .await?;
                sent_files.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                sent_bytes.fetch_add(n, std::sync::atomic::Ordering::Relaxed);
                Ok::<_, ClientError>(())
            }
        }))
        .buffer_unordered(CONCURRENT_FILES)
        .try_collect::<Vec<()>>()
        .await?;

        // Commit: the base first, then every file (held or sent) in batches.
        if let Some(base) = &req.base_version {
            self.commit_files(at, &version, &[], &[], Some(base))
                .await?;
        }
        if !req.remove.is_empty() {
            self.commit_files(at, &version, &[], &req.remove, None)
                .await?;
        }
        let additions: Vec<(String, String)> = files
            .iter()
            .zip(&hashes)
            .map(|(f, h)| (f.rel.clone(), h.clone()))
            .collect();
        for batch in additions.chunks(COMMIT_BATCH) {
            self.commit_files(at, &version, batch, &[], None).await?;
        }
        let done = self
            .update_version(at, &version, &json!({"status": "UPLOAD_COMPLETE"}), false)
            .await?;
        journal.remove();
        Ok(UploadReport {
            target: format!("{}:{version}", at.path()),
            version,
            files: files.len(),
            total_bytes: total,
            files_sent: sent_files.load(std::sync::atomic::Ordering::Relaxed),
            bytes_sent: sent_bytes.load(std::sync::atomic::Ordering::Relaxed),
            started,
            ended: now_rfc3339(),
            seconds: started_at.elapsed().as_secs_f64(),
            status: done.status,
        })
    }

    /// Sends one file's missing parts and completes it; returns the bytes sent.
    async fn upload_one(
        &self,
        at: ArtifactPlace<'_>,
        version: &str,
        f: &LocalFile,
        sha256: &str,
        journal: &JournalFileStore,
        progress: Option<Progress>,
    ) -> Result<u64> {
        let count = part_count(f.size);
        let state = journal.get(&f.rel).unwrap_or_default();
        let done: HashSet<u32> = state.done_parts.iter().copied().collect();
        let missing: Vec<u32> = (1..=count).filter(|n| !done.contains(n)).collect();
        let resume = state
            .upload_id
            .as_deref()
            .filter(|_| !done.is_empty())
            .map(|id| (id, missing.as_slice()));
        let started = self
            .start_file_upload(at, version, &f.rel, f.size, sha256, resume)
            .await;
        // A resumed upload the server no longer knows (abandoned for more than a day): start
        // the file over.
        let (upload_id, urls, missing) = match started {
            Ok((id, urls)) => (id, urls, missing),
            Err(e) if resume.is_some() && e.status() == Some(404) => {
                let (id, urls) = self
                    .start_file_upload(at, version, &f.rel, f.size, sha256, None)
                    .await?;
                (id, urls, (1..=count).collect())
            }
            Err(e) => return Err(e),
        };
        if urls.len() != missing.len() {
            return Err(ClientError::Integrity(format!(
                "asked for {} part URLs for {}, got {}",
                missing.len(),
                f.rel,
                urls.len()
            )));
        }
        journal.update(&f.rel, |j| {
            if j.upload_id.as_deref() != Some(upload_id.as_str()) {
                j.done_parts.clear();
            }
            j.upload_id = Some(upload_id.clone());
        })?;
        if let Some(p) = &progress {
            let skipped: u64 = done
                .iter()
                .filter(|n| !missing.contains(n))
                .map(|n| part_len(f.size, *n))
                .sum();
            p(skipped);
        }
        let mut sent = 0u64;
        for (n, url) in missing.iter().zip(urls) {
            let offset = u64::from(n - 1) * PART_SIZE;
            let len = part_len(f.size, *n);
            self.put_part(&url, &f.abs, offset, len, progress.clone())
                .await?;
            sent += len;
            journal.update(&f.rel, |j| {
                if !j.done_parts.contains(n) {
                    j.done_parts.push(*n);
                }
            })?;
        }
        self.complete_file_upload(at, version, &f.rel, &upload_id, sha256)
            .await?;
        journal.update(&f.rel, |j| j.complete = true)?;
        Ok(sent)
    }

    /// Downloads a complete version into `dest/<name>_v<version>/`, only the files `keep`
    /// accepts (by path). Files already there with the right size and SHA-256 are kept.
    /// Returns the directory and the files written.
    pub async fn download_version(
        &self,
        at: ArtifactPlace<'_>,
        version: Option<&str>,
        dest: &Path,
        keep: &(dyn Fn(&str) -> bool + Sync),
        progress: Option<Progress>,
        on_total: Option<&(dyn Fn(u64) + Sync)>,
    ) -> Result<DownloadReport> {
        let started_at = Instant::now();
        let version = match version {
            Some(v) => v.to_string(),
            None => self
                .artifact(at)
                .await?
                .latest_version_id_str
                .ok_or_else(|| {
                    ClientError::Integrity(format!("{} has no complete version yet", at.path()))
                })?,
        };
        let info = self.version(at, &version).await?;
        if info.status != "UPLOAD_COMPLETE" {
            return Err(ClientError::Integrity(format!(
                "{}:{version} is {} and cannot be downloaded yet",
                at.path(),
                info.status
            )));
        }
        let files: Vec<RemoteFile> = self
            .version_files(at, &version)
            .await?
            .into_iter()
            .filter(|f| keep(&f.path))
            .collect();
        let urls: BTreeMap<String, String> = self
            .download_urls(at, &version)
            .await?
            .into_iter()
            .collect();
        let root = dest.join(format!("{}_v{version}", at.name));
        let total: u64 = files.iter().map(|f| f.size_in_bytes).sum();
        if let Some(t) = on_total {
            t(total);
        }
        let mut jobs = Vec::new();
        for f in &files {
            let target = safe_join(&root, &f.path)?;
            let url = urls
                .get(&f.path)
                .cloned()
                .ok_or_else(|| ClientError::Integrity(format!("no download URL for {}", f.path)))?;
            jobs.push((f.clone(), target, url));
        }
        let written = futures::stream::iter(jobs.into_iter().map(|(f, target, url)| {
            let progress = progress.clone();
            async move { self.fetch_file(&f, &target, &url, progress).await }
        }))
        .buffer_unordered(CONCURRENT_FILES)
        .try_collect::<Vec<bool>>()
        .await?;
        Ok(DownloadReport {
            path: root.display().to_string(),
            version,
            files: files.len(),
            files_written: written.iter().filter(|w| **w).count(),
            total_bytes: total,
            seconds: started_at.elapsed().as_secs_f64(),
        })
    }

    /// Fetches one file; `false` if it was already there, intact.
    async fn fetch_file(
        &self,
        f: &RemoteFile,
        target: &Path,
        url: &str,
        progress: Option<Progress>,
    ) -> Result<bool> {
        let want = f.sha256_base64.clone().unwrap_or_default();
        if let Ok(m) = tokio::fs::metadata(target).await {
            if m.len() == f.size_in_bytes && hash_file(target, None).await? == want {
                if let Some(p) = &progress {
                    p(f.size_in_bytes);
                }
                return Ok(false);
            }
        }
        let shown = target.display().to_string();
        if let Some(dir) = target.parent() {
            tokio::fs::create_dir_all(dir)
                .await
                .map_err(io_error(format!("cannot create {}", dir.display())))?;
        }
        let mut partial = target.as_os_str().to_owned();
        partial.push(".partial");
        let partial = PathBuf::from(partial);
        let mut file = tokio::fs::File::create(&partial)
            .await
            .map_err(io_error(format!("cannot create {shown}.partial")))?;
        let result = async {
            let response = self.get_signed(url, None).await?;
            let mut stream = response.bytes_stream();
            let mut h = Sha256::new();
            let mut n = 0u64;
            while let Some(chunk) = stream.next().await {
                let chunk = chunk.map_err(|e| {
                    ClientError::Integrity(format!("download of {} broke off: {e}", f.path))
                })?;
                n += chunk.len() as u64;
                if n > f.size_in_bytes {
                    return Err(ClientError::Integrity(format!(
                        "{} is larger than the {} bytes announced",
                        f.path, f.size_in_bytes
                    )));
                }
                h.update(&chunk);
                file.write_all(&chunk)
                    .await
                    .map_err(io_error(format!("cannot write {shown}.partial")))?;
                if let Some(p) = &progress {
                    p(chunk.len() as u64);
                }
            }
            file.flush()
                .await
                .map_err(io_error(format!("cannot write {shown}.partial")))?;
            let got = b64(&h.finalize());
            if n != f.size_in_bytes || (!want.is_empty() && got != want) {
                return Err(ClientError::Integrity(format!(
                    "{} did not arrive intact ({n} bytes, sha256 {got}; expected {} bytes, {want})",
                    f.path, f.size_in_bytes
                )));
            }
            Ok(())
        }
        .await;
        drop(file);
        if let Err(e) = result {
            let _ = tokio::fs::remove_file(&partial).await;
            return Err(e);
        }
        tokio::fs::rename(&partial, target)
            .await
            .map_err(io_error(format!("cannot rename to {shown}")))?;
        Ok(true)
    }
}

/// The length of part `n` (from 1) of a file of `size` bytes.
fn part_len(size: u64, n: u32) -> u64 {
    size.saturating_sub(u64::from(n - 1) * PART_SIZE)
        .min(PART_SIZE)
}

/// `root/rel`, refusing a `rel` that would leave `root` (a hostile server's paths).
fn safe_join(root: &Path, rel: &str) -> Result<PathBuf> {
    let bad = rel.is_empty()
        || rel.starts_with('/')
        || rel.contains('\\')
        || rel
            .split('/')
            .any(|s| s.is_empty() || s == "." || s == "..");
    if bad {
        return Err(ClientError::Integrity(format!(
            "the server listed an unsafe file path {rel:?}"
        )));
    }
    Ok(root.join(rel))
}

/// What a download did.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DownloadReport {
    /// The directory written.
    pub path: String,
    /// The version.
    pub version: String,
    /// Files selected.
    pub files: usize,
    /// Files written (the others were already there, intact).
    pub files_written: usize,
    /// Their total size.
    pub total_bytes: u64,
    /// Duration in seconds.
    pub seconds: f64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_and_paths() {
        assert_eq!(part_count(0), 1);
        assert_eq!(part_count(PART_SIZE + 1), 2);
        assert_eq!(part_len(PART_SIZE + 1, 2), 1);
        assert!(safe_join(Path::new("/d"), "a/b").is_ok());
        for bad in ["", "/etc/passwd", "a/../../x", "..", "a//b", "a\\b"] {
            assert!(safe_join(Path::new("/d"), bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn scan_lists_nested_files_in_order() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("b/c")).unwrap();
        std::fs::write(dir.path().join("b/c/x"), b"1").unwrap();
        std::fs::write(dir.path().join("a"), b"").unwrap();
        let files = scan(dir.path()).unwrap();
        let rels: Vec<&str> = files.iter().map(|f| f.rel.as_str()).collect();
        assert_eq!(rels, ["a", "b/c/x"]);
        let one = scan(&dir.path().join("a")).unwrap();
        assert_eq!(one[0].rel, "a");
    }
}

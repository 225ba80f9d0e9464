//! Finding (and building, once per test process) the workspace's binaries.
//!
//! `cargo test -p arca-tests` builds this crate and its dependencies, but not the
//! `arca-server` and `arca` binaries, which belong to other packages. So the first call to
//! [`bin`] in a test process runs `cargo build -p arca-server -p arca-cli` into the target
//! directory the tests themselves were built in (found from the test executable's own path,
//! so `CARGO_TARGET_DIR` and `build.target-dir` are both honoured), and every later call
//! reuses that result. Building every time (rather than only when the file is missing) means a
//! test never runs against a stale server binary; when the binaries are fresh it takes well
//! under a second.
//!
//! Set `ARCA_E2E_BIN_DIR` to a directory holding already-built binaries to skip the build
//! (for example to test release binaries).

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::Duration;

use anyhow::{anyhow, bail, Context, Result};

use crate::process::run_bounded;

/// The binary of the reference server (package `arca-server`).
pub const SERVER_BIN: &str = "arca-server";
/// The binary of the reference CLI (package `arca-cli`).
pub const CLI_BIN: &str = "arca";

/// Every binary [`bin`] knows how to build, with its package.
const KNOWN: &[(&str, &str)] = &[(SERVER_BIN, "arca-server"), (CLI_BIN, "arca-cli")];

/// Upper bound for the one `cargo build` a test process runs (a cold build of the server
/// takes a few minutes).
pub const BUILD_TIMEOUT: Duration = Duration::from_secs(20 * 60);

/// Environment variable naming a directory of prebuilt binaries; when set nothing is built.
pub const ENV_BIN_DIR: &str = "ARCA_E2E_BIN_DIR";

/// The workspace root (the directory of the top-level `Cargo.toml`).
pub fn workspace_root() -> PathBuf {
    let manifest_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest_dir.parent().unwrap_or(manifest_dir).to_path_buf()
}

/// The `cargo` to run: `$CARGO` (set by cargo for the processes it starts), else the one cargo
/// was when this crate was compiled, else `cargo` from `PATH`.
pub fn cargo() -> OsString {
    std::env::var_os("CARGO")
        .or_else(|| option_env!("CARGO").map(OsString::from))
        .unwrap_or_else(|| OsString::from("cargo"))
}

/// Where the binaries live and how to build them.
#[derive(Debug, Clone)]
struct Layout {
    /// `<target>/<profile>`, e.g. `/work/target/debug`.
    profile_dir: PathBuf,
    /// `<target>`.
    target_dir: PathBuf,
    /// Whether the profile is `release`.
    release: bool,
}

/// Works out the layout from the running test executable, `<target>/<profile>/deps/<test>`.
fn layout() -> Result<Layout> {
    let exe = std::env::current_exe().context("locate the test executable")?;
    let deps = exe
        .parent()
        .ok_or_else(|| anyhow!("test executable {} has no parent", exe.display()))?;
    let profile_dir = if deps.file_name().is_some_and(|n| n == "deps") {
        deps.parent().unwrap_or(deps)
    } else {
        deps
    };
    let target_dir = profile_dir
        .parent()
        .ok_or_else(|| anyhow!("{} has no parent", profile_dir.display()))?;
    Ok(Layout {
        profile_dir: profile_dir.to_path_buf(),
        target_dir: target_dir.to_path_buf(),
        release: profile_dir.file_name().is_some_and(|n| n == "release"),
    })
}

/// Builds every known binary once; the result (the profile directory, or the build error) is
/// shared by all threads of the process.
fn built_dir() -> Result<PathBuf> {
    static BUILT: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    BUILT
        .get_or_init(|| build_all().map_err(|e| format!("{e:#}")))
        .clone()
        .map_err(|e| anyhow!(e))
}

fn build_all() -> Result<PathBuf> {
    if let Some(dir) = std::env::var_os(ENV_BIN_DIR) {
        return Ok(PathBuf::from(dir));
    }
    let layout = layout()?;
    let mut cmd = Command::new(cargo());
    cmd.arg("build").current_dir(workspace_root());
    for (_, package) in KNOWN {
        cmd.arg("-p").arg(package);
    }
    if layout.release {
        cmd.arg("--release");
    }
    cmd.env("CARGO_TARGET_DIR", &layout.target_dir)
        .env("CARGO_TERM_COLOR", "never");
    let out = run_bounded(&mut cmd, BUILD_TIMEOUT).context("run cargo build")?;
    if !out.status.success() {
        bail!(
            "`cargo build` of the e2e binaries failed ({}):\n{}",
            out.status,
            out.stderr_text()
        );
    }
    Ok(layout.profile_dir)
}

/// The path of workspace binary `name` (`arca-server` or `arca`), building the binaries first
/// if this process has not done so yet.
///
/// # Errors
///
/// When `name` is not a known binary, the build fails, or the file is missing afterwards.
pub fn bin(name: &str) -> Result<PathBuf> {
    if !KNOWN.iter().any(|(bin, _)| *bin == name) {
        bail!("unknown binary {name:?}; known: {KNOWN:?}");
    }
    let path = built_dir()?.join(format!("{name}{}", std::env::consts::EXE_SUFFIX));
    if !path.is_file() {
        bail!("binary {} does not exist", path.display());
    }
    Ok(path)
}

//! Real `arca-server` processes: [`ServerBuilder`] and [`Server`].
//!
//! Every server listens on `127.0.0.1` on a port picked free just before it starts, writes its
//! standard output and standard error to files the test can read at any time, and is killed
//! when its [`Server`] is dropped. Every wait (start, stop) is bounded in time and fails with
//! the server's output.

use std::ffi::{OsStr, OsString};
use std::fs::File;
use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context, Result};
use arca_client::{ArcaClient, ArcaClientBuilder};
use tempfile::TempDir;

use crate::bins::{bin, SERVER_BIN};
use crate::process::{self, run_bounded, Output, COMMAND_TIMEOUT, POLL_INTERVAL};
use crate::text::{banner_key, ca_file_path, strip_ansi, tail};

/// Default bound for a server to answer `/healthz` after it was spawned.
pub const STARTUP_TIMEOUT: Duration = Duration::from_secs(30);
/// Default bound for a server to exit after `SIGTERM`.
pub const SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(45);
/// What the server prints on stdout once its socket is bound (`Arca is listening on …`).
pub const LISTENING: &str = "is listening on";
/// How many times a start is retried when another process took the picked port meanwhile.
const BIND_ATTEMPTS: usize = 5;
/// Set this environment variable to keep data and log directories of dropped servers (their
/// paths are printed to stderr), for debugging.
pub const ENV_KEEP: &str = "ARCA_E2E_KEEP";

/// How a server is told which address to listen on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Listen {
    /// The `--listen <addr>` flag (the default).
    #[default]
    Flag,
    /// The `ARCA_LISTEN=<addr>` environment variable, no flag.
    Env,
    /// A `listen = "<addr>"` line in the TOML config file passed with `--config` (written by
    /// the harness, before the lines given to [`ServerBuilder::config_toml`]).
    ConfigFile,
}

/// Settings of a server to start; see [`Server::builder`].
#[derive(Debug, Clone)]
pub struct ServerBuilder {
    data_dir: Option<PathBuf>,
    args: Vec<OsString>,
    env: Vec<(OsString, OsString)>,
    tls_self_signed: bool,
    bootstrap: bool,
    listen: Listen,
    config_toml: Option<String>,
    startup_timeout: Duration,
    shutdown_timeout: Duration,
}

impl Default for ServerBuilder {
    fn default() -> Self {
        Self {
            data_dir: None,
            args: Vec::new(),
            env: Vec::new(),
            tls_self_signed: false,
            bootstrap: true,
            listen: Listen::Flag,
            config_toml: None,
            startup_timeout: STARTUP_TIMEOUT,
            shutdown_timeout: SHUTDOWN_TIMEOUT,
        }
    }
}

impl ServerBuilder {
    /// A builder with the defaults: fresh temporary data dir, plain HTTP, `--listen`, demo
    /// bootstrap on first start.
    pub fn new() -> Self {
        Self::default()
    }

    /// Uses this data directory (passed with `--data-dir`) instead of a fresh temporary one.
    /// The caller owns it: it is not deleted.
    pub fn data_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.data_dir = Some(dir.into());
        self
    }

    /// Adds one command-line argument (after the harness's own).
    pub fn arg(mut self, arg: impl Into<OsString>) -> Self {
        self.args.push(arg.into());
        self
    }

    /// Adds command-line arguments (after the harness's own).
    pub fn args<I, S>(mut self, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<OsString>,
    {
        self.args.extend(args.into_iter().map(Into::into));
        self
    }

    /// Sets an environment variable of the server process. The harness removes every `ARCA_*`
    /// variable inherited from the test's environment, so only these (and `ARCA_LISTEN` with
    /// [`Listen::Env`]) reach the server.
    pub fn env(mut self, key: impl Into<OsString>, value: impl Into<OsString>) -> Self {
        self.env.push((key.into(), value.into()));
        self
    }

    /// Serves HTTPS with the server's generated CA (`--tls-self-signed`); clients made by the
    /// [`Server`] trust that CA.
    pub fn tls_self_signed(mut self) -> Self {
        self.tls_self_signed = true;
        self
    }

    /// Passes `--no-bootstrap`: no demo org, no key printed.
    pub fn no_bootstrap(mut self) -> Self {
        self.bootstrap = false;
        self
    }

    /// How the listen address reaches the server (default [`Listen::Flag`]).
    pub fn listen(mut self, how: Listen) -> Self {
        self.listen = how;
        self
    }

    /// Writes a TOML config file with these lines and passes it with `--config`.
    pub fn config_toml(mut self, toml: impl Into<String>) -> Self {
        self.config_toml = Some(toml.into());
        self
    }

    /// Bound for the server to answer `/healthz` (default [`STARTUP_TIMEOUT`]).
    pub fn startup_timeout(mut self, timeout: Duration) -> Self {
        self.startup_timeout = timeout;
        self
    }

    /// Bound for the server to exit after `SIGTERM` (default [`SHUTDOWN_TIMEOUT`]).
    pub fn shutdown_timeout(mut self, timeout: Duration) -> Self {
        self.shutdown_timeout = timeout;
        self
    }

    /// Starts the server and waits until `/healthz` answers 200 and the process has printed
    /// [`LISTENING`].
    ///
    /// # Errors
    ///
    /// When the binary cannot be built or started, or the server exits or does not answer
    /// within the startup bound; the error holds the server's output.
    pub async fn start(self) -> Result<Server> {
        let work = tempfile::Builder::new()
            .prefix("arca-e2e-")
            .tempdir()
            .context("create the server's work dir")?;
        let (data_dir, data_tmp) = match &self.data_dir {
            Some(dir) => (dir.clone(), None),
            None => {
                let tmp = tempfile::Builder::new()
                    .prefix("arca-e2e-data-")
                    .tempdir()
                    .context("create a data dir")?;
                (tmp.path().to_path_buf(), Some(tmp))
            }
        };
        let mut server = Server {
            binary: bin(SERVER_BIN)?,
            spec: self,
            data_dir,
            data_tmp,
            work_dir: work.path().to_path_buf(),
            work_tmp: Some(work),
            runs: Vec::new(),
            child: None,
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            first_key: None,
            ca_file: None,
            http: reqwest::Client::new(),
        };
        server.launch(None).await?;
        Ok(server)
    }
}

/// The files one process of a [`Server`] wrote.
#[derive(Debug, Clone)]
pub struct Run {
    /// The address this process listened on.
    pub addr: SocketAddr,
    /// Its process id.
    pub pid: u32,
    /// The file its standard output went to.
    pub stdout_path: PathBuf,
    /// The file its standard error (the logs) went to.
    pub stderr_path: PathBuf,
}

impl Run {
    /// Its standard output so far.
    pub fn stdout(&self) -> String {
        read_lossy(&self.stdout_path)
    }

    /// Its standard error so far, as written (text logs carry ANSI colours).
    pub fn stderr(&self) -> String {
        read_lossy(&self.stderr_path)
    }

    /// Its standard error so far without ANSI colours.
    pub fn log(&self) -> String {
        strip_ansi(&self.stderr())
    }
}

fn read_lossy(path: &Path) -> String {
    std::fs::read(path)
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .unwrap_or_default()
}

/// A running (or stopped) `arca-server` process and its data directory.
///
/// Dropping it kills the process (`SIGKILL`) and deletes the temporary directories (unless
/// `ARCA_E2E_KEEP` is set).
pub struct Server {
    binary: PathBuf,
    spec: ServerBuilder,
    data_dir: PathBuf,
    data_tmp: Option<TempDir>,
    work_dir: PathBuf,
    work_tmp: Option<TempDir>,
    runs: Vec<Run>,
    child: Option<Child>,
    addr: SocketAddr,
    first_key: Option<String>,
    ca_file: Option<PathBuf>,
    http: reqwest::Client,
}

impl std::fmt::Debug for Server {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Server")
            .field("addr", &self.addr)
            .field("data_dir", &self.data_dir)
            .field("runs", &self.runs.len())
            .field("running", &self.child.is_some())
            .finish_non_exhaustive()
    }
}

/// Why a launch attempt failed.
enum LaunchError {
    /// The port was taken between picking and binding: try another.
    PortTaken,
    /// Anything else.
    Fatal(anyhow::Error),
}

impl Server {
    /// A builder with the defaults.
    pub fn builder() -> ServerBuilder {
        ServerBuilder::new()
    }

    /// Starts a server with the defaults (fresh data dir, HTTP, demo bootstrap).
    ///
    /// # Errors
    ///
    /// As [`ServerBuilder::start`].
    pub async fn start() -> Result<Server> {
        ServerBuilder::new().start().await
    }

    /// `http://127.0.0.1:<port>` (or `https://…`), without a trailing slash.
    pub fn base_url(&self) -> String {
        let scheme = if self.spec.tls_self_signed {
            "https"
        } else {
            "http"
        };
        format!("{scheme}://{}", self.addr)
    }

    /// The absolute URL of `path` (which starts with `/`).
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url())
    }

    /// The address the current (or last) process listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The data directory (kept across [`Server::restart`]).
    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    /// The generated CA certificate with `--tls-self-signed`, as printed by the server.
    pub fn ca_file(&self) -> Option<&Path> {
        self.ca_file.as_deref()
    }

    /// The API key the server printed on its first start (kept across restarts).
    ///
    /// # Panics
    ///
    /// When no process of this server printed a key (`--no-bootstrap`, or a data dir that was
    /// not empty); use [`Server::try_key`] then.
    pub fn key(&self) -> &str {
        match &self.first_key {
            Some(key) => key,
            None => panic!("the server printed no first-start key\n{}", self.describe()),
        }
    }

    /// The API key the server printed on its first start, if any.
    pub fn try_key(&self) -> Option<&str> {
        self.first_key.as_deref()
    }

    /// The key printed by the current (or last) process, if it printed one.
    pub fn printed_key(&self) -> Option<String> {
        banner_key(&self.stdout())
    }

    /// A plain HTTP client that trusts the server's CA (no credentials, no default headers).
    pub fn http(&self) -> &reqwest::Client {
        &self.http
    }

    /// A client builder for this server: base URL, the first-start key if any, the CA if TLS.
    pub fn client_builder(&self) -> ArcaClientBuilder {
        ArcaClient::builder(self.base_url())
            .api_key(self.first_key.clone())
            .ca_file(self.ca_file.clone())
    }

    /// An `arca-client` for this server with the first-start key (see
    /// [`Server::client_builder`]).
    ///
    /// # Panics
    ///
    /// When the client cannot be built (an unreadable CA file, say).
    pub fn client(&self) -> ArcaClient {
        self.client_builder()
            .build()
            .unwrap_or_else(|e| panic!("build a client for {}: {e}", self.base_url()))
    }

    /// Every process this server has run, oldest first.
    pub fn runs(&self) -> &[Run] {
        &self.runs
    }

    fn current_run(&self) -> &Run {
        self.runs.last().expect("a server has at least one run")
    }

    /// Standard output of the current (or last) process so far.
    pub fn stdout(&self) -> String {
        self.current_run().stdout()
    }

    /// Standard error of the current (or last) process so far, as written.
    pub fn stderr(&self) -> String {
        self.current_run().stderr()
    }

    /// The logs (standard error without ANSI colours) of the current (or last) process so far.
    pub fn log(&self) -> String {
        self.current_run().log()
    }

    /// The process id of the running process.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// Whether a process is running (it has not exited, or was not stopped by the harness).
    pub fn is_running(&mut self) -> bool {
        match &mut self.child {
            Some(child) => matches!(child.try_wait(), Ok(None)),
            None => false,
        }
    }

    /// The tails of the current process's output, for assertion messages.
    pub fn describe(&self) -> String {
        let Some(run) = self.runs.last() else {
            return "server never started".into();
        };
        format!(
            "server {} (pid {}, data dir {})\n--- stdout (tail) ---\n{}\n--- stderr (tail) ---\n{}",
            run.addr,
            run.pid,
            self.data_dir.display(),
            tail(&run.stdout(), 40),
            tail(&run.log(), 60)
        )
    }

    /// Waits until the current process's standard output contains `needle`, at most `timeout`.
    ///
    /// # Errors
    ///
    /// When it does not appear in time.
    pub async fn wait_for_stdout(&self, needle: &str, timeout: Duration) -> Result<()> {
        self.wait_for(needle, timeout, Run::stdout).await
    }

    /// Waits until the current process's logs (ANSI-stripped) contain `needle`, at most
    /// `timeout`.
    ///
    /// # Errors
    ///
    /// When it does not appear in time.
    pub async fn wait_for_log(&self, needle: &str, timeout: Duration) -> Result<()> {
        self.wait_for(needle, timeout, Run::log).await
    }

    async fn wait_for(
        &self,
        needle: &str,
        timeout: Duration,
        read: fn(&Run) -> String,
    ) -> Result<()> {
        let deadline = Instant::now() + timeout;
        loop {
            if read(self.current_run()).contains(needle) {
                return Ok(());
            }
            if Instant::now() >= deadline {
                bail!(
                    "{needle:?} did not appear within {timeout:?}\n{}",
                    self.describe()
                );
            }
            tokio::time::sleep(POLL_INTERVAL).await;
        }
    }

    /// Sends `SIGTERM` and waits (bounded) for the process to exit; returns its exit status.
    ///
    /// # Errors
    ///
    /// When no process is running, or it does not exit in time (it is then killed).
    pub async fn sigterm(&mut self) -> Result<ExitStatus> {
        let Some(mut child) = self.child.take() else {
            bail!("the server is not running");
        };
        if let Some(status) = child.try_wait()? {
            bail!(
                "the server had already exited ({status})\n{}",
                self.describe()
            );
        }
        process::sigterm(child.id())?;
        match process::wait_async(&mut child, self.spec.shutdown_timeout).await {
            Ok(status) => Ok(status),
            Err(e) => {
                let _ = child.kill();
                let _ = process::wait_blocking(&mut child, Duration::from_secs(10));
                Err(anyhow!("after SIGTERM the server {e}\n{}", self.describe()))
            }
        }
    }

    /// Kills the process with `SIGKILL` and returns its exit status.
    ///
    /// # Errors
    ///
    /// When no process is running.
    pub fn sigkill(&mut self) -> Result<ExitStatus> {
        let Some(mut child) = self.child.take() else {
            bail!("the server is not running");
        };
        let _ = child.kill();
        process::wait_blocking(&mut child, Duration::from_secs(10))
            .map_err(|e| anyhow!("after SIGKILL the server {e}"))
    }

    /// Starts a new process on the same data directory with the same settings, stopping the
    /// current one first with `SIGTERM` if it still runs. The new process gets the same port
    /// when it is free, else another one: read [`Server::base_url`] again.
    ///
    /// # Errors
    ///
    /// As [`Server::sigterm`] and [`ServerBuilder::start`].
    pub async fn restart(&mut self) -> Result<()> {
        if self.child.is_some() {
            let status = self.sigterm().await?;
            if !status.success() {
                bail!(
                    "the server exited with {status} when stopped for a restart\n{}",
                    self.describe()
                );
            }
        }
        self.launch(Some(self.addr)).await
    }

    /// Starts a process, retrying with another port when the picked one was taken.
    async fn launch(&mut self, preferred: Option<SocketAddr>) -> Result<()> {
        let mut preferred = preferred;
        for _ in 0..BIND_ATTEMPTS {
            let addr = match preferred.take() {
                Some(addr) => addr,
                None => free_port()?,
            };
            match self.launch_once(addr).await {
                Ok(()) => return Ok(()),
                Err(LaunchError::PortTaken) => continue,
                Err(LaunchError::Fatal(e)) => return Err(e),
            }
        }
        bail!(
            "could not find a free port in {BIND_ATTEMPTS} attempts\n{}",
            self.describe()
        )
    }

    fn command(&self, addr: SocketAddr) -> Result<Command> {
        let mut cmd = clean_command(&self.binary);
        cmd.current_dir(&self.work_dir);
        cmd.arg("--data-dir").arg(&self.data_dir);
        match self.spec.listen {
            Listen::Flag => {
                cmd.arg("--listen").arg(addr.to_string());
            }
            Listen::Env => {
                cmd.env("ARCA_LISTEN", addr.to_string());
            }
            Listen::ConfigFile => {}
        }
        if self.spec.listen == Listen::ConfigFile || self.spec.config_toml.is_some() {
            let mut toml = String::new();
            if self.spec.listen == Listen::ConfigFile {
                toml.push_str(&format!("listen = \"{addr}\"\n"));
            }
            if let Some(extra) = &self.spec.config_toml {
                toml.push_str(extra);
                toml.push('\n');
            }
            let path = self.work_dir.join("arca.toml");
            std::fs::write(&path, toml).context("write the config file")?;
            cmd.arg("--config").arg(path);
        }
        if self.spec.tls_self_signed {
            cmd.arg("--tls-self-signed");
        }
        if !self.spec.bootstrap {
            cmd.arg("--no-bootstrap");
        }
        cmd.args(&self.spec.args);
        for (k, v) in &self.spec.env {
            cmd.env(k, v);
        }
        Ok(cmd)
    }

    async fn launch_once(&mut self, addr: SocketAddr) -> Result<(), LaunchError> {
        let n = self.runs.len();
        let stdout_path = self.work_dir.join(format!("stdout-{n}.log"));
        let stderr_path = self.work_dir.join(format!("stderr-{n}.log"));
        let fatal = LaunchError::Fatal;
        let mut cmd = self.command(addr).map_err(fatal)?;
        let stdout = File::create(&stdout_path)
            .context("create stdout file")
            .map_err(fatal)?;
        let stderr = File::create(&stderr_path)
            .context("create stderr file")
            .map_err(fatal)?;
        let child = cmd
            .stdin(Stdio::null())
            .stdout(stdout)
            .stderr(stderr)
            .spawn()
            .with_context(|| format!("start {}", self.binary.display()))
            .map_err(fatal)?;
        self.runs.push(Run {
            addr,
            pid: child.id(),
            stdout_path,
            stderr_path,
        });
        self.child = Some(child);
        self.addr = addr;
        match self.wait_ready().await {
            Ok(()) => {}
            Err(e) => {
                let exited = match &mut self.child {
                    Some(child) => child.try_wait().ok().flatten().is_some(),
                    None => true,
                };
                if let Some(mut child) = self.child.take() {
                    let _ = child.kill();
                    let _ = process::wait_blocking(&mut child, Duration::from_secs(10));
                }
                let log = self.log();
                if exited && log.contains("Address already in use") {
                    return Err(LaunchError::PortTaken);
                }
                return Err(fatal(e));
            }
        }
        if self.first_key.is_none() {
            self.first_key = self.printed_key();
        }
        Ok(())
    }

    /// Polls `/healthz` until it answers 200, the process exits, or the startup bound passes.
    async fn wait_ready(&mut self) -> Result<()> {
        let timeout = self.spec.startup_timeout;
        let deadline = Instant::now() + timeout;
        let mut http: Option<reqwest::Client> = None;
        let mut last_error = String::from("no attempt yet");
        loop {
            if let Some(child) = &mut self.child {
                if let Some(status) = child.try_wait()? {
                    bail!(
                        "the server exited during startup ({status})\n{}",
                        self.describe()
                    );
                }
            }
            if http.is_none() {
                http = self.http_client()?;
            }
            if let Some(client) = &http {
                let request = client
                    .get(self.url("/healthz"))
                    .timeout(Duration::from_secs(2));
                match request.send().await {
                    // Our own process must also have said it listens: a 200 could come from
                    // another process that took the port while ours failed to bind it.
                    Ok(res) if res.status() == reqwest::StatusCode::OK => {
                        if self.stdout().contains(LISTENING) {
                            self.http = client.clone();
                            return Ok(());
                        }
                        last_error = format!("/healthz answered but stdout lacks {LISTENING:?}");
                    }
                    Ok(res) => last_error = format!("/healthz answered {}", res.status()),
                    Err(e) => last_error = format!("{e:?}"),
                }
            }
            if Instant::now() >= deadline {
                bail!(
                    "the server did not answer /healthz within {timeout:?} (last: {last_error})\n{}",
                    self.describe()
                );
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// The HTTP client for this server; with TLS, `None` until the server has printed its CA.
    fn http_client(&mut self) -> Result<Option<reqwest::Client>> {
        let mut builder = reqwest::Client::builder().connect_timeout(Duration::from_secs(5));
        if self.spec.tls_self_signed {
            if self.ca_file.is_none() {
                self.ca_file = ca_file_path(&self.stdout()).map(PathBuf::from);
            }
            let Some(ca) = &self.ca_file else {
                return Ok(None);
            };
            let pem = std::fs::read(ca).with_context(|| format!("read CA {}", ca.display()))?;
            for cert in reqwest::Certificate::from_pem_bundle(&pem)
                .with_context(|| format!("parse CA {}", ca.display()))?
            {
                builder = builder.add_root_certificate(cert);
            }
        }
        Ok(Some(builder.build().context("build an HTTP client")?))
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = process::wait_blocking(&mut child, Duration::from_secs(10));
        }
        if std::env::var_os(ENV_KEEP).is_some() {
            if let Some(work) = self.work_tmp.take() {
                let _ = work.keep();
            }
            if let Some(data) = self.data_tmp.take() {
                let _ = data.keep();
            }
            eprintln!(
                "{ENV_KEEP}: server {} kept logs in {} and data in {}",
                self.addr,
                self.work_dir.display(),
                self.data_dir.display()
            );
        }
    }
}

/// A free port on 127.0.0.1 (bound with port 0, then released).
///
/// # Errors
///
/// When no socket can be bound.
pub fn free_port() -> Result<SocketAddr> {
    let listener = TcpListener::bind("127.0.0.1:0").context("bind 127.0.0.1:0")?;
    listener.local_addr().context("local address")
}

/// A command for `program` whose environment has no inherited `ARCA_*` variable, so a
/// developer's own settings cannot change what a test sees.
pub fn clean_command(program: impl AsRef<OsStr>) -> Command {
    let mut cmd = Command::new(program);
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("ARCA_") {
            cmd.env_remove(key);
        }
    }
    cmd
}

/// Runs `arca-server <args>` (e.g. `bootstrap …`) to completion, bounded in time, with a clean
/// environment.
///
/// # Errors
///
/// When the binary cannot be built or started, or it runs too long.
pub fn run_server_command<I, S>(args: I) -> Result<Output>
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    let mut cmd = clean_command(bin(SERVER_BIN)?);
    cmd.args(args);
    run_bounded(&mut cmd, COMMAND_TIMEOUT)
}

/// Runs `arca-server bootstrap --data-dir <dir> --org <org> --owner-email <email> --json`.
///
/// # Errors
///
/// As [`run_server_command`]; a failed bootstrap is an `Ok` output with a non-zero status.
pub fn bootstrap(data_dir: &Path, org: &str, owner_email: &str) -> Result<Output> {
    let mut args: Vec<OsString> = vec!["bootstrap".into(), "--data-dir".into()];
    args.push(data_dir.into());
    args.extend(["--org", org, "--owner-email", owner_email, "--json"].map(OsString::from));
    run_server_command(args)
}

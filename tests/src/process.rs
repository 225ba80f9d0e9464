//! Running child processes with a time bound, and sending them signals.

use std::io::Read;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context, Result};

/// How often bounded waits look at a child process.
pub const POLL_INTERVAL: Duration = Duration::from_millis(20);

/// Default bound for short commands (`arca …`, `arca-server bootstrap …`).
pub const COMMAND_TIMEOUT: Duration = Duration::from_secs(60);

/// What a finished command printed, and how it ended.
#[derive(Debug, Clone)]
pub struct Output {
    /// How the process ended.
    pub status: ExitStatus,
    /// Everything written to standard output.
    pub stdout: Vec<u8>,
    /// Everything written to standard error.
    pub stderr: Vec<u8>,
}

impl Output {
    /// Standard output as text (lossy UTF-8).
    pub fn stdout_text(&self) -> String {
        String::from_utf8_lossy(&self.stdout).into_owned()
    }

    /// Standard error as text (lossy UTF-8).
    pub fn stderr_text(&self) -> String {
        String::from_utf8_lossy(&self.stderr).into_owned()
    }

    /// Whether the process exited with status 0.
    pub fn success(&self) -> bool {
        self.status.success()
    }

    /// A multi-line description (status, stdout, stderr) for assertion messages.
    pub fn describe(&self) -> String {
        format!(
            "status: {}\n--- stdout ---\n{}\n--- stderr ---\n{}",
            self.status,
            self.stdout_text(),
            self.stderr_text()
        )
    }
}

/// Runs `cmd` to completion with stdin closed and stdout/stderr captured, killing it if it
/// has not finished after `timeout`.
///
/// # Errors
///
/// When the command cannot be started, or did not finish in time (the error then holds what
/// it printed so far).
pub fn run_bounded(cmd: &mut Command, timeout: Duration) -> Result<Output> {
    let program = format!("{:?}", cmd.get_program());
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .with_context(|| format!("start {program}"))?;
    let stdout = drain(child.stdout.take());
    let stderr = drain(child.stderr.take());
    let status = wait_blocking(&mut child, timeout);
    let status = match status {
        Ok(status) => status,
        Err(e) => {
            let _ = child.kill();
            let _ = child.wait();
            let out = stdout.join().unwrap_or_default();
            let err = stderr.join().unwrap_or_default();
            bail!(
                "{program} {e}\n--- stdout ---\n{}\n--- stderr ---\n{}",
                String::from_utf8_lossy(&out),
                String::from_utf8_lossy(&err)
            );
        }
    };
    Ok(Output {
        status,
        stdout: stdout.join().unwrap_or_default(),
        stderr: stderr.join().unwrap_or_default(),
    })
}

fn drain(pipe: Option<impl Read + Send + 'static>) -> thread::JoinHandle<Vec<u8>> {
    thread::spawn(move || {
        let mut buf = Vec::new();
        if let Some(mut pipe) = pipe {
            let _ = pipe.read_to_end(&mut buf);
        }
        buf
    })
}

/// Waits (blocking the thread) until `child` exits, at most `timeout`.
///
/// # Errors
///
/// When the child is still running after `timeout` (it is left running).
pub fn wait_blocking(child: &mut Child, timeout: Duration) -> Result<ExitStatus> {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(status) = child.try_wait().context("wait for child")? {
            return Ok(status);
        }
        if Instant::now() >= deadline {
            bail!("did not exit within {timeout:?}");
        }
        thread::sleep(POLL_INTERVAL);
    }
}

/// Waits (without blocking the async runtime) until `child` exits, at most `timeout`.
///
/// # Errors
///
/// When the child is still running after `timeout` (it is left running).
pub async fn wait_async(child: &mut Child, timeout: Duration) -> Result<ExitStatus> {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(status) = child.try_wait().context("wait for child")? {
            return Ok(status);
        }
        if Instant::now() >= deadline {
            bail!("did not exit within {timeout:?}");
        }
        tokio::time::sleep(POLL_INTERVAL).await;
    }
}

/// Sends `SIGTERM` to process `pid`.
///
/// # Errors
///
/// When the signal cannot be delivered (no such process, say).
pub fn sigterm(pid: u32) -> Result<()> {
    signal(pid, libc::SIGTERM)
}

/// Sends `signal` (a `libc::SIG*` number) to process `pid`.
///
/// # Errors
///
/// When the signal cannot be delivered.
pub fn signal(pid: u32, signal: libc::c_int) -> Result<()> {
    let pid = libc::pid_t::try_from(pid).map_err(|_| anyhow!("pid {pid} out of range"))?;
    // SAFETY: kill(2) takes plain integers and touches no memory of this process.
    let rc = unsafe { libc::kill(pid, signal) };
    if rc == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error()).with_context(|| format!("kill({pid}, {signal})"))
    }
}

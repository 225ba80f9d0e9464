//! End-to-end test harness of Arca: real `arca-server` processes, real clients.
//!
//! The tests of this package (in `tests/tests/`) start the reference server as a separate
//! process, talk to it over HTTP(S) with `arca-client`, `reqwest` and the `arca` CLI, and
//! stop it with signals. This library is the reusable part:
//!
//! * [`bin`] finds the workspace binaries, building them once per test process
//!   (`cargo build -p arca-server -p arca-cli`, into the same target directory as the tests);
//! * [`ServerBuilder`] / [`Server`] start a server on a free `127.0.0.1` port with a temporary
//!   (or given) data directory, wait for `/healthz`, capture its stdout and stderr in files,
//!   read the first-start API key, and offer [`Server::sigterm`], [`Server::sigkill`] and
//!   [`Server::restart`]; dropping a `Server` kills its process;
//! * [`Cli`] runs `arca` with an isolated config directory;
//! * [`run_server_command`] and [`bootstrap`] run one-shot `arca-server` subcommands;
//! * [`text`] reads what the server prints (keys, CA path, ANSI-coloured logs).
//!
//! Every wait is bounded in time, and fails with the server's output.
//!
//! ```no_run
//! use arca_tests::Server;
//!
//! # async fn demo() -> anyhow::Result<()> {
//! let mut server = Server::builder().tls_self_signed().start().await?;
//! assert!(server.try_key().is_some_and(|k| k.starts_with("arca_pk_")));
//! assert!(server.client().health().await?.is_ok());
//! server.restart().await?; // same data dir, new process
//! assert!(server.printed_key().is_none());
//! let status = server.sigterm().await?;
//! assert!(status.success(), "{}", server.describe());
//! # Ok(()) }
//! ```
//!
//! Environment: `ARCA_E2E_BIN_DIR` uses prebuilt binaries instead of building;
//! `ARCA_E2E_KEEP` keeps the data and log directories of every server. Inherited `ARCA_*`
//! variables never reach the processes started here.

#![warn(missing_docs)]

pub mod bins;
pub mod cli;
pub mod process;
pub mod server;
pub mod text;

pub use bins::{bin, workspace_root, CLI_BIN, SERVER_BIN};
pub use cli::Cli;
pub use process::Output;
pub use server::{bootstrap, run_server_command, Listen, Run, Server, ServerBuilder};

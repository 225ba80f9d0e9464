//! `arca-server`: the reference server of Arca. See `--help`.

mod admin;
mod app;
mod config;
mod errors;
mod helm;
mod metrics;
mod oci;
mod rest;
mod tls;
mod transfer;

use anyhow::{Context, Result};
use app::AppState;
use arca_core::names::{Email, OrgId};
use arca_core::ports::{BlobStore, MetadataStore};
use arca_core::service::BootstrapRequest;
use arca_core::Arca;
use arca_storage::fs::FsBlobStore;
use arca_storage::postgres::PostgresMetadataStore;
use arca_storage::s3::S3BlobStore;
use arca_storage::sqlite::SqliteMetadataStore;
use arca_storage::system::{OsRandom, SystemClock};
use clap::{Parser, Subcommand};
use config::{LogFormat, ServeConfig, ServeFlags};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Arca: a self-hosted private registry for AI artifacts.
#[derive(Debug, Parser)]
#[command(
    name = "arca-server",
    version,
    about,
    args_conflicts_with_subcommands = true
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    serve: ServeFlags,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the server (the default).
    Serve(ServeFlags),
    /// Create an org with an owner and print the owner's first API key.
    Bootstrap(BootstrapArgs),
    /// Operator commands on an org: storage limits (quota) and usage.
    #[command(subcommand)]
    Org(admin::OrgCommand),
}

#[derive(Debug, clap::Args)]
struct BootstrapArgs {
    /// Data directory of the embedded storage.
    #[arg(long, env = "ARCA_DATA_DIR", default_value = "./arca-data")]
    data_dir: PathBuf,
    /// Metadata store URL (postgres://…); default SQLite in the data dir.
    #[arg(long, env = "ARCA_METADATA")]
    metadata: Option<String>,
    /// Blob store URL (s3://bucket/prefix); default files in the data dir.
    #[arg(long, env = "ARCA_BLOBS")]
    blobs: Option<String>,
    /// The org's identifier (lowercase).
    #[arg(long)]
    org: String,
    /// Display name of the org.
    #[arg(long)]
    display_name: Option<String>,
    /// Email of the org's first owner.
    #[arg(long)]
    owner_email: String,
    /// Print one JSON object {"org","user","api_key"} instead of text.
    #[arg(long)]
    json: bool,
}

fn init_logs(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("ARCA_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    use std::io::IsTerminal;
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none())
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Json => builder.json().flatten_event(true).init(),
        LogFormat::Text => builder.init(),
    }
}

/// Opens the stores: PostgreSQL and/or S3 when their URLs are given, else the embedded
/// default (SQLite and files in the data dir).
async fn open_arca(data_dir: &Path, metadata: Option<&str>, blobs: Option<&str>) -> Result<Arca> {
    std::fs::create_dir_all(data_dir)
        .with_context(|| format!("create data dir {}", data_dir.display()))?;
    let meta: Arc<dyn MetadataStore> = match metadata {
        Some(url) if url.starts_with("postgres://") || url.starts_with("postgresql://") => {
            Arc::new(
                PostgresMetadataStore::connect(url)
                    .await
                    .context("connect to PostgreSQL")?,
            )
        }
        Some(other) => anyhow::bail!(
            "unsupported metadata store URL (expected postgres://…): {}",
            other.split('@').next_back().unwrap_or("")
        ),
        None => Arc::new(
            SqliteMetadataStore::open(&data_dir.join("arca.db"))
                .await
                .context("open metadata store")?,
        ),
    };
    let blob_store: Arc<dyn BlobStore> = match blobs {
        Some(url) if url.starts_with("s3://") => {
            Arc::new(S3BlobStore::from_url(url).context("configure S3 blob store")?)
        }
        Some(other) => anyhow::bail!("unsupported blob store URL (expected s3://…): {other}"),
        None => Arc::new(
            FsBlobStore::open(data_dir.join("storage"))
                .await
                .context("open blob store")?,
        ),
    };
    blob_store
        .ping()
        .await
        .context("blob store does not answer")?;
    Ok(Arca::new(
        meta,
        blob_store,
        Arc::new(SystemClock),
        Arc::new(OsRandom),
    ))
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Some(Command::Bootstrap(args)) => actix_web::rt::System::new().block_on(bootstrap(args)),
        Some(Command::Org(command)) => actix_web::rt::System::new().block_on(admin::run(command)),
        Some(Command::Serve(flags)) => serve(flags),
        None => serve(cli.serve),
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("arca-server: error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn bootstrap(args: BootstrapArgs) -> Result<()> {
    let org = OrgId::new(args.org.clone()).context("invalid --org")?;
    let email = Email::normalize(&args.owner_email).context("invalid --owner-email")?;
    let arca = open_arca(
        &args.data_dir,
        args.metadata.as_deref(),
        args.blobs.as_deref(),
    )
    .await?;
    let out = arca
        .bootstrap(BootstrapRequest {
            org,
            display_name: args.display_name,
            owner_email: email,
        })
        .await?;
    if args.json {
        println!(
            "{}",
            serde_json::json!({
                "org": out.org.name,
                "user": out.user.email,
                "api_key": out.secret.expose_secret(),
            })
        );
    } else {
        println!(
            "Created org '{}' with owner {}.\nAPI key (shown once, store it now): {}",
            out.org.name,
            out.user.email,
            out.secret.expose_secret()
        );
    }
    Ok(())
}

fn serve(flags: ServeFlags) -> Result<()> {
    let config = flags.resolve().map_err(anyhow::Error::msg)?;
    init_logs(config.log_format);
    actix_web::rt::System::new().block_on(run(config))
}

async fn run(config: ServeConfig) -> Result<()> {
    let arca = open_arca(
        &config.data_dir,
        config.metadata.as_deref(),
        config.blobs.as_deref(),
    )
    .await?;
    let base = config.base_url();
    let tls = if config.tls_self_signed {
        let mut hosts = Vec::new();
        if let Some(u) = &config.public_url {
            if let Some(host) = u
                .split("://")
                .nth(1)
                .and_then(|r| r.split(['/', ':']).next())
            {
                hosts.push(host.to_string());
            }
        }
        hosts.push(config.listen.ip().to_string());
        let material = tls::ensure_self_signed(&config.data_dir.join("tls"), &hosts)?;
        println!(
            "HTTPS with a generated CA. Trust it with: --ca-file {0} (arca), REQUESTS_CA_BUNDLE={0} (ngcsdk)",
            material.ca_cert.display()
        );
        Some(tls::server_config(&material.cert, &material.key)?)
    } else if let (Some(cert), Some(key)) = (&config.tls_cert, &config.tls_key) {
        Some(tls::server_config(cert, key)?)
    } else {
        None
    };

    if config.bootstrap_demo && arca.is_empty().await? {
        let out = arca
            .bootstrap(BootstrapRequest {
                org: OrgId::new("demo").context("demo org id")?,
                display_name: Some("Demo".into()),
                owner_email: Email::new("admin@localhost").context("demo email")?,
            })
            .await?;
        let key = out.secret.expose_secret();
        println!("First start: created org 'demo' with owner admin@localhost.");
        println!("API key for admin@localhost (shown only this once, store it now):");
        println!("  {key}");
        println!("Log in with the CLI:");
        println!("  arca config set --url {base} --org demo --api-key {key}");
        println!("Log in with skopeo/oras/helm/docker: username '$oauthtoken', password <the key>");
    }
    // Make sure the token-signing secret exists before serving.
    arca.signing_secret().await?;
    // Abandoned uploads (no part for a day) are aborted, on every replica; idempotent.
    {
        let arca = arca.clone();
        actix_web::rt::spawn(async move {
            let mut tick = tokio::time::interval(std::time::Duration::from_secs(600));
            loop {
                tick.tick().await;
                let before = chrono::Utc::now() - chrono::Duration::hours(24);
                match arca.sweep_stale_uploads(before).await {
                    Ok(0) => {}
                    Ok(n) => tracing::info!(aborted = n, "swept abandoned uploads"),
                    Err(e) => tracing::warn!(error = %e, "upload sweep failed"),
                }
            }
        });
    }

    let state = AppState {
        arca,
        metrics: metrics::Metrics::new().context("metrics")?,
        config: config.clone(),
    };
    let data = actix_web::web::Data::new(state);
    let server = actix_web::HttpServer::new(move || {
        actix_web::App::new()
            .app_data(data.clone())
            .wrap(actix_web::middleware::from_fn(app::observe))
            .configure(app::configure)
    })
    .shutdown_timeout(30);
    let server = match tls {
        Some(tls) => server.bind_rustls_0_23(config.listen, tls),
        None => server.bind(config.listen),
    }
    .with_context(|| format!("listen on {}", config.listen))?;
    println!(
        "Arca is listening on {base} (data in {})",
        config.data_dir.display()
    );
    for r in rest::routes::ROUTES {
        tracing::debug!(method = r.method, path = r.path, access = ?r.access, "route");
    }
    tracing::info!(listen = %config.listen, base = %base, routes = rest::routes::ROUTES.len(), "server started");
    server.run().await.context("server")?;
    tracing::info!("server stopped");
    Ok(())
}

//! `arca-server org …`: the operator's commands on an org's storage limits and usage
//! (R-QUO-1, R-QUO-2).
//!
//! Like `bootstrap`, these commands open the stores directly (SQLite in the data dir, or the
//! PostgreSQL given with `--metadata`) and act without an API key: whoever can read the data
//! dir or the database is the operator. They touch the metadata store only, so they may run
//! beside a running server; the new limits apply to the next upload on every replica.
//!
//! ```text
//! arca-server org set-quota --data-dir ./arca-data --org acme --max-layer-bytes 20GB
//! arca-server org show --data-dir ./arca-data --org acme --json
//! ```

use anyhow::{bail, Context, Result};
use arca_core::admin::{OrgUsage, QuotaPatch};
use arca_core::model::Org;
use arca_core::names::OrgId;
use arca_core::CoreError;
use clap::{Args, Subcommand};
use serde_json::{json, Value};
use std::path::PathBuf;

/// `arca-server org …`
#[derive(Debug, Subcommand)]
pub enum OrgCommand {
    /// Change an org's storage limits (sizes in bytes, or with a unit: 500MB, 20GB, 2TiB)
    SetQuota(SetQuotaArgs),
    /// Show an org with its storage limits and current usage per ledger
    Show(ShowArgs),
}

/// Where the stores are (the same flags and variables as `serve`).
#[derive(Debug, Args)]
pub struct StoreArgs {
    /// Data directory of the embedded storage.
    #[arg(long, env = "ARCA_DATA_DIR", default_value = "./arca-data")]
    data_dir: PathBuf,
    /// Metadata store URL (postgres://…); default SQLite in the data dir.
    #[arg(long, env = "ARCA_METADATA")]
    metadata: Option<String>,
    /// Blob store URL (s3://bucket/prefix); default files in the data dir.
    #[arg(long, env = "ARCA_BLOBS")]
    blobs: Option<String>,
}

/// `org set-quota`.
#[derive(Debug, Args)]
pub struct SetQuotaArgs {
    #[command(flatten)]
    store: StoreArgs,
    /// The org's identifier.
    #[arg(long)]
    org: String,
    /// Largest single image layer (default 10GB).
    #[arg(long, value_name = "SIZE", value_parser = parse_size)]
    max_layer_bytes: Option<u64>,
    /// Total of the org's images (default 1TB).
    #[arg(long, value_name = "SIZE", value_parser = parse_size)]
    max_image_bytes: Option<u64>,
    /// Total of the org's models and resources (default 5TB).
    #[arg(long, value_name = "SIZE", value_parser = parse_size)]
    max_model_resource_bytes: Option<u64>,
    /// Print the org, its limits and usage as one JSON object.
    #[arg(long)]
    json: bool,
}

/// `org show`.
#[derive(Debug, Args)]
pub struct ShowArgs {
    #[command(flatten)]
    store: StoreArgs,
    /// The org's identifier.
    #[arg(long)]
    org: String,
    /// Print one JSON object {"org","quota","usage"} instead of text.
    #[arg(long)]
    json: bool,
}

/// Runs an `org` subcommand.
pub async fn run(command: OrgCommand) -> Result<()> {
    match command {
        OrgCommand::SetQuota(a) => {
            let patch = QuotaPatch {
                max_layer_bytes: a.max_layer_bytes,
                max_image_bytes: a.max_image_bytes,
                max_model_resource_bytes: a.max_model_resource_bytes,
            };
            if patch.is_empty() {
                bail!(
                    "nothing to change: pass --max-layer-bytes, --max-image-bytes and/or \
                     --max-model-resource-bytes"
                );
            }
            let org = org_id(&a.org)?;
            let arca = open(&a.store).await?;
            arca.set_org_quota(&org, &patch)
                .await
                .map_err(|e| not_found_hint(e, &org))?;
            let (o, usage) = arca.org_usage(&org).await?;
            print(&o, &usage, a.json, Some("Quota updated."));
        }
        OrgCommand::Show(a) => {
            let org = org_id(&a.org)?;
            let arca = open(&a.store).await?;
            let (o, usage) = arca
                .org_usage(&org)
                .await
                .map_err(|e| not_found_hint(e, &org))?;
            print(&o, &usage, a.json, None);
        }
    }
    Ok(())
}

fn org_id(s: &str) -> Result<OrgId> {
    OrgId::new(s).context("invalid --org")
}

fn not_found_hint(e: CoreError, org: &OrgId) -> anyhow::Error {
    match e {
        CoreError::NotFound(_) => anyhow::anyhow!(
            "org {org} does not exist (create it with `arca-server bootstrap --org {org} …`)"
        ),
        other => other.into(),
    }
}

async fn open(store: &StoreArgs) -> Result<arca_core::Arca> {
    // Without --metadata the data dir must already hold a database: a typo in the path should
    // not silently create an empty one.
    let db = store.data_dir.join("arca.db");
    if store.metadata.is_none() && !db.exists() {
        bail!(
            "no Arca data in {} ({} does not exist); pass the server's --data-dir or --metadata",
            store.data_dir.display(),
            db.display()
        );
    }
    crate::open_arca(
        &store.data_dir,
        store.metadata.as_deref(),
        store.blobs.as_deref(),
    )
    .await
}

/// The JSON printed by `--json`: the org, its limits and its usage.
fn to_json(o: &Org, usage: &OrgUsage) -> Value {
    json!({
        "org": crate::rest::json::org(o),
        "quota": {
            "maxLayerBytes": o.quota.max_layer_bytes,
            "maxImageBytes": o.quota.max_image_bytes,
            "maxModelResourceBytes": o.quota.max_model_resource_bytes,
        },
        "usage": usage,
    })
}

fn print(o: &Org, usage: &OrgUsage, as_json: bool, message: Option<&str>) {
    if as_json {
        println!("{}", to_json(o, usage));
        return;
    }
    if let Some(m) = message {
        println!("{m}");
    }
    println!("Org {} ({})", o.name, o.display_name);
    println!(
        "  single layer limit     {} ({} bytes)",
        human(usage.max_layer_bytes),
        usage.max_layer_bytes
    );
    for (name, l) in [
        ("images", usage.images),
        ("models and resources", usage.models_and_resources),
    ] {
        let over = if l.used > l.limit {
            "  (over the limit: uploads are refused)"
        } else {
            ""
        };
        println!(
            "  {name:<22} {} used of {} ({} bytes of {}), {} left{over}",
            human(l.used),
            human(l.limit),
            l.used,
            l.limit,
            human(l.remaining())
        );
    }
}

/// `n` bytes in a decimal unit, as the product guide counts (`10 GB`, `1.50 MB`, `12 bytes`).
fn human(n: u64) -> String {
    const UNITS: [(u64, &str); 4] = [
        (1_000_000_000_000, "TB"),
        (1_000_000_000, "GB"),
        (1_000_000, "MB"),
        (1_000, "KB"),
    ];
    for (size, unit) in UNITS {
        if n >= size {
            let v = n as f64 / size as f64;
            return format!("{v:.2} {unit}").replace(".00 ", " ");
        }
    }
    format!("{n} bytes")
}

/// Parses a size: bytes (`1048576`), or a number with a decimal (`KB`, `MB`, `GB`, `TB`, as the
/// product guide counts) or binary (`KiB` … `TiB`) unit, case-insensitive; `B` is bytes.
pub fn parse_size(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (digits, unit) = t.split_at(split);
    if digits.is_empty() {
        return Err(format!(
            "'{s}' is not a size: expected bytes or a number with a unit (500MB, 20GB, 2TiB)"
        ));
    }
    let n: u64 = digits.parse().map_err(|_| format!("'{s}' is too large"))?;
    if unit.starts_with('.') || unit.starts_with(',') {
        return Err(format!(
            "'{s}': sizes are whole numbers (write 1500MB rather than 1.5GB)"
        ));
    }
    let factor: u64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kb" => 1_000,
        "m" | "mb" => 1_000_000,
        "g" | "gb" => 1_000_000_000,
        "t" | "tb" => 1_000_000_000_000,
        "kib" => 1 << 10,
        "mib" => 1 << 20,
        "gib" => 1 << 30,
        "tib" => 1 << 40,
        other => {
            return Err(format!(
                "unknown size unit '{other}' in '{s}' (use B, KB, MB, GB, TB, KiB, MiB, GiB, TiB)"
            ))
        }
    };
    n.checked_mul(factor)
        .ok_or_else(|| format!("'{s}' is too large"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use arca_core::admin::QuotaPatch;
    use arca_core::names::Email;
    use arca_core::ports::{once_stream, MetadataStore};
    use arca_core::quota::{QuotaKind, QuotaLimits};
    use arca_core::registry::RepoRef;
    use arca_core::service::BootstrapRequest;
    use arca_core::Arca;
    use arca_storage::memory::{MemoryBlobStore, MemoryMetadataStore};
    use arca_storage::system::{OsRandom, SystemClock};
    use std::sync::Arc;

    #[test]
    fn sizes() {
        assert_eq!(parse_size("123"), Ok(123));
        assert_eq!(parse_size("20GB"), Ok(20_000_000_000));
        assert_eq!(parse_size("2 tib"), Ok(2 << 40));
        assert_eq!(parse_size("5mb"), Ok(5_000_000));
        assert_eq!(parse_size("7B"), Ok(7));
        assert!(parse_size("").is_err());
        assert!(parse_size("GB").is_err());
        assert!(parse_size("-5").is_err());
        assert!(parse_size("1.5GB").unwrap_err().contains("whole numbers"));
        assert!(parse_size("10 parsecs").is_err());
        assert!(parse_size("99999999999TB").is_err());
        assert!(parse_size("99999999999999999999999").is_err());
    }

    #[test]
    fn human_sizes() {
        assert_eq!(human(12), "12 bytes");
        assert_eq!(human(10_000_000_000), "10 GB");
        assert_eq!(human(1_500_000), "1.50 MB");
    }

    /// An app on memory stores with org `acme`, and its owner as a principal.
    async fn arca() -> (Arca, arca_core::authz::Principal) {
        let meta: Arc<dyn MetadataStore> = Arc::new(MemoryMetadataStore::new());
        let a = Arca::new(
            meta,
            Arc::new(MemoryBlobStore::new()),
            Arc::new(SystemClock),
            Arc::new(OsRandom),
        );
        let out = a
            .bootstrap(BootstrapRequest {
                org: OrgId::new("acme").unwrap(),
                display_name: None,
                owner_email: Email::new("ops@acme.io").unwrap(),
            })
            .await
            .unwrap();
        let owner = a
            .authenticate_key(out.secret.expose_secret())
            .await
            .unwrap();
        (a, arca_core::authz::Principal::Key(Box::new(owner)))
    }

    #[actix_web::test]
    async fn set_quota_changes_only_the_named_limits_and_applies_to_uploads() {
        let (a, owner) = arca().await;
        let acme = OrgId::new("acme").unwrap();
        let (_, before) = a.org_usage(&acme).await.unwrap();
        assert_eq!(before.images.used, 0);
        assert_eq!(before.images.limit, QuotaLimits::default().max_image_bytes);

        let o = a
            .set_org_quota(
                &acme,
                &QuotaPatch {
                    max_layer_bytes: Some(10),
                    ..QuotaPatch::default()
                },
            )
            .await
            .unwrap();
        assert_eq!(o.quota.max_layer_bytes, 10);
        assert_eq!(
            o.quota.max_image_bytes,
            QuotaLimits::default().max_image_bytes
        );
        let (stored, usage) = a.org_usage(&acme).await.unwrap();
        assert_eq!(stored.quota, o.quota);
        assert_eq!(usage.max_layer_bytes, 10);

        // The registry reads the new limit on the next upload.
        let r = RepoRef::parse("acme/app").unwrap();
        let e = a.start_blob_upload(&owner, &r, Some(11)).await.unwrap_err();
        match e {
            CoreError::Quota(q) => {
                assert_eq!(q.kind, QuotaKind::Layer);
                assert_eq!((q.limit, q.excess), (10, 1));
            }
            other => panic!("expected a quota error, got {other:?}"),
        }
        let s = a.start_blob_upload(&owner, &r, None).await.unwrap();
        let e = a
            .append_blob_chunk(
                &owner,
                &r,
                s.id,
                None,
                None,
                once_stream(bytes::Bytes::from_static(b"twelve bytes")),
            )
            .await
            .unwrap_err();
        assert!(matches!(e, CoreError::Quota(_)), "{e:?}");
    }

    /// Pushes `data` to `repo` (monolithic upload) as `p`.
    async fn push(a: &Arca, p: &arca_core::authz::Principal, repo: &str, data: &'static [u8]) {
        let r = RepoRef::parse(repo).unwrap();
        let s = a.start_blob_upload(p, &r, None).await.unwrap();
        a.append_blob_chunk(
            p,
            &r,
            s.id,
            None,
            None,
            once_stream(bytes::Bytes::from_static(data)),
        )
        .await
        .unwrap();
        a.finish_blob_upload(p, &r, s.id, &arca_oci::Digest::sha256_of(data))
            .await
            .unwrap();
    }

    #[actix_web::test]
    async fn usage_counts_a_shared_blob_once_and_is_visible_to_members_only() {
        let (a, owner) = arca().await;
        let acme = OrgId::new("acme").unwrap();
        push(&a, &owner, "acme/one", b"shared layer").await;
        push(&a, &owner, "acme/two", b"shared layer").await;
        push(&a, &owner, "acme/two", b"own").await;
        let (_, usage) = a.org_usage(&acme).await.unwrap();
        assert_eq!(usage.images.used, 12 + 3);
        assert_eq!(usage.models_and_resources.used, 0);
        assert_eq!(a.view_org_usage(&owner, &acme).await.unwrap(), usage);
        assert!(matches!(
            a.view_org_usage(&arca_core::authz::Principal::Anonymous, &acme)
                .await,
            Err(CoreError::Unauthenticated(_))
        ));
        // A key of another org does not see that acme exists.
        let other = a
            .bootstrap(BootstrapRequest {
                org: OrgId::new("zeta").unwrap(),
                display_name: None,
                owner_email: Email::new("ops@zeta.io").unwrap(),
            })
            .await
            .unwrap();
        let zeta_owner = arca_core::authz::Principal::Key(Box::new(
            a.authenticate_key(other.secret.expose_secret())
                .await
                .unwrap(),
        ));
        assert!(matches!(
            a.view_org_usage(&zeta_owner, &acme).await,
            Err(CoreError::NotFound(_))
        ));
    }

    #[actix_web::test]
    async fn unknown_org_is_not_found() {
        let (a, _) = arca().await;
        let nope = OrgId::new("nope").unwrap();
        assert!(matches!(
            a.set_org_quota(&nope, &QuotaPatch::default()).await,
            Err(CoreError::NotFound(_))
        ));
        assert!(matches!(
            a.org_usage(&nope).await,
            Err(CoreError::NotFound(_))
        ));
    }
}

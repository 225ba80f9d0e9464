//! # arca-storage
//!
//! Adapters of the ports defined in `arca-core`:
//!
//! | port | adapters |
//! |---|---|
//! | `MetadataStore` | [`memory::MemoryMetadataStore`], [`sqlite::SqliteMetadataStore`] (embedded default), [`postgres::PostgresMetadataStore`] (shared by replicas) |
//! | `BlobStore` | [`memory::MemoryBlobStore`], [`fs::FsBlobStore`] (embedded default), [`s3::S3BlobStore`] (shared by replicas) |
//! | `Clock`, `RandomSource` | [`system::SystemClock`], [`system::OsRandom`] |
//!
//! and [`conformance`], the test functions every adapter must pass.
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use arca_storage::{fs::FsBlobStore, sqlite::SqliteMetadataStore};
//! // One process, no other service:
//! let meta = SqliteMetadataStore::open(std::path::Path::new("./arca-data/arca.db")).await?;
//! let blobs = FsBlobStore::open("./arca-data").await?;
//!
//! // Several stateless replicas: PostgreSQL and S3 (endpoint and credentials from AWS_*).
//! use arca_storage::{postgres::PostgresMetadataStore, s3::S3BlobStore};
//! let meta = PostgresMetadataStore::connect("postgres://arca:secret@db:5432/arca").await?;
//! let blobs = S3BlobStore::from_url("s3://arca-blobs/prod")?;
//! # Ok(()) }
//! ```

mod blob_common;
pub mod conformance;
pub mod fs;
pub mod memory;
pub mod postgres;
pub mod s3;
mod sql_common;
pub mod sqlite;
pub mod system;

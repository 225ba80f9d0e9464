//! # arca-storage
//!
//! Adapters of the ports defined in `arca-core`:
//!
//! | port | adapters |
//! |---|---|
//! | `MetadataStore` | [`memory::MemoryMetadataStore`], [`sqlite::SqliteMetadataStore`] |
//! | `BlobStore` | [`memory::MemoryBlobStore`], [`fs::FsBlobStore`] |
//! | `Clock`, `RandomSource` | [`system::SystemClock`], [`system::OsRandom`] |
//!
//! and [`conformance`], the test functions every adapter must pass.
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use arca_storage::{fs::FsBlobStore, sqlite::SqliteMetadataStore};
//! let meta = SqliteMetadataStore::open(std::path::Path::new("./arca-data/arca.db")).await?;
//! let blobs = FsBlobStore::open("./arca-data").await?;
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

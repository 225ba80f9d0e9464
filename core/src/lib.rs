//! # arca-core
//!
//! The domain of Arca, a self-hosted private registry for AI artifacts: validated names, the
//! tenancy model (orgs, teams, users, role grants, API keys), quota rules, the storage **ports**
//! ([`ports::MetadataStore`], [`ports::BlobStore`], [`ports::Clock`], [`ports::RandomSource`]) and
//! the use-case services built on them ([`Arca`]).
//!
//! This crate does no I/O of its own: every byte and row goes through a port, implemented in
//! `arca-storage`. Role data is defined in `arca-auth`; this crate is where decisions are made.
//!
//! ```
//! use arca_core::names::{ArtifactPath, OrgId};
//! use arca_core::quota::{check_layer, QuotaLimits};
//!
//! let path = ArtifactPath::parse("demo/vision/resnet").unwrap();
//! assert_eq!(path.org, OrgId::new("demo").unwrap());
//! assert!(check_layer(&QuotaLimits::default(), 11_000_000_000).is_err());
//! ```

pub mod admin;
pub mod artifacts;
pub mod authn;
pub mod authz;
pub mod cache;
pub mod charts;
pub mod error;
pub mod keys;
pub mod model;
pub mod names;
pub mod ports;
pub mod quota;
pub mod registry;
pub mod repos;
pub mod service;
pub mod tenancy;
pub mod transfer;

pub use error::CoreError;
pub use service::Arca;

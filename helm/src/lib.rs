//! The Helm domain of Arca: chart metadata, chart package checks, the repository `index.yaml`
//! and Helm-over-OCI constants.
//!
//! Everything here is pure: packages are read from memory, nothing touches the disk or the
//! network, nothing panics on bad input and there is no global state.
//!
//! - [`chart`]: [`ChartMetadata`] (`Chart.yaml`), [`ChartName`], [`ChartVersion`].
//! - [`package`]: [`read_package`] checks an uploaded `.tgz` under [`PackageLimits`] and returns
//!   a [`ChartPackage`]; [`check_matches`] compares it with the upload target.
//! - [`index`]: [`IndexFile`] and [`render_index`] write `index.yaml` as `helm repo index` does;
//!   [`index_etag`] gives its strong ETag.
//! - [`oci`]: media types of Helm OCI artifacts and the config-blob reader.
//!
//! # Example
//!
//! ```
//! use arca_helm::{check_matches, read_package, render_index, ChartVersionEntry, PackageLimits};
//! # fn tgz() -> Vec<u8> {
//! #     let mut b = tar::Builder::new(flate2::write::GzEncoder::new(Vec::new(), Default::default()));
//! #     let data = b"apiVersion: v2\nname: demo\nversion: 0.1.0\n";
//! #     let mut h = tar::Header::new_gnu();
//! #     h.set_size(data.len() as u64);
//! #     h.set_mode(0o644);
//! #     b.append_data(&mut h, "demo/Chart.yaml", &data[..]).unwrap();
//! #     b.into_inner().unwrap().finish().unwrap()
//! # }
//! let body: Vec<u8> = tgz(); // an uploaded `helm package` output
//! let package = read_package(&body, &PackageLimits::default())?;
//! check_matches(&package, &"demo".parse()?, &"0.1.0".parse()?)?;
//!
//! let created = chrono::DateTime::from_timestamp(1_700_000_000, 0).unwrap();
//! let entry = ChartVersionEntry {
//!     metadata: package.metadata.clone(),
//!     urls: vec!["charts/demo-0.1.0.tgz".into()],
//!     created,
//!     digest: package.digest.clone(),
//! };
//! let yaml = render_index([entry], created);
//! assert!(yaml.starts_with("apiVersion: v1\nentries:\n  demo:\n  - apiVersion: v2\n"));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod chart;
pub mod error;
pub mod index;
mod lenient;
pub mod oci;
pub mod package;
mod yaml;

pub use chart::{ChartDependency, ChartMetadata, ChartName, ChartVersion, Maintainer};
pub use error::{ChartNameError, ChartVersionError, HelmError, MetadataError, PackageError};
pub use index::{index_etag, render_index, ChartVersionEntry, IndexFile, ServerInfo};
pub use package::{check_matches, read_package, ChartPackage, PackageFile, PackageLimits};

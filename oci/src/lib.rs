//! The OCI Distribution v1.1 domain of Arca: pure types and parsers, no I/O.
//!
//! * [`digest`]: [`Digest`] (`sha256:`/`sha512:` only) and the incremental [`DigestHasher`];
//! * [`name`]: [`RepositoryName`], [`Tag`] and [`Reference`] per the spec grammars;
//! * [`media`]: media type constants;
//! * [`manifest`]: [`ParsedManifest::parse`] for OCI image/index and Docker schema 2
//!   image/list manifests (schema 1 is refused);
//! * [`platform`]: the multi-arch table of an index;
//! * [`referrers`]: the referrers API response;
//! * [`errors`]: distribution error codes, statuses and the JSON error body;
//! * [`range`]: upload `Content-Range`, download `Range`, and their response headers.
//!
//! oci-spec's types are used for the OCI documents themselves and re-exported as [`oci_spec`].
//!
//! ```
//! use arca_oci::{media, ApiError, ChunkRange, Digest, ParsedManifest, RangeOutcome, Reference};
//!
//! // Path segments.
//! let r: Reference = "v1.0".parse().unwrap();
//! assert!(r.as_tag().is_some());
//! let empty: Digest = "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"
//!     .parse()
//!     .unwrap();
//! assert!(empty.matches(b"{}"));
//!
//! // A pushed manifest.
//! let body = format!(
//!     r#"{{"schemaVersion":2,"mediaType":"{}","artifactType":"application/vnd.example.sbom.v1",
//!         "config":{{"mediaType":"{}","digest":"{empty}","size":2}},"layers":[]}}"#,
//!     media::OCI_IMAGE_MANIFEST,
//!     media::OCI_EMPTY,
//! );
//! let m = ParsedManifest::parse(Some(media::OCI_IMAGE_MANIFEST), body.as_bytes()).unwrap();
//! assert_eq!(m.referenced_blobs().len(), 1);
//! assert_eq!(m.artifact_type(), Some("application/vnd.example.sbom.v1"));
//!
//! // A chunk that does not continue the upload is a 416.
//! let err: ApiError = ChunkRange::parse_at("100-199", 50).unwrap_err().into();
//! assert_eq!(err.status(), 416);
//!
//! // Download ranges.
//! let r = arca_oci::resolve_range(Some("bytes=-10"), 100);
//! assert_eq!(r, RangeOutcome::Partial { start: 90, end: 99 });
//! assert_eq!(r.content_range(100).as_deref(), Some("bytes 90-99/100"));
//! ```

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod digest;
pub mod errors;
pub mod manifest;
pub mod media;
pub mod name;
pub mod platform;
pub mod range;
pub mod referrers;
mod util;

#[cfg(test)]
mod fixtures;

pub use digest::{Digest, DigestAlgorithm, DigestError, DigestHasher};
pub use errors::{ApiError, ErrorCode, ErrorInfo, ErrorResponse};
pub use manifest::{ManifestError, ManifestKind, ParsedManifest, ValidatedDescriptor};
pub use name::{NameError, Reference, ReferenceError, RepositoryName, Tag, TagError};
pub use oci_spec;
pub use platform::{PlatformInfo, PlatformRow};
pub use range::{
    content_range_value, resolve_range, upload_range_value, ChunkRange, ContentRangeError,
    RangeOutcome,
};
pub use referrers::ReferrersResponse;

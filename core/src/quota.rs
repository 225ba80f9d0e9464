//! Storage quotas (R-QUO-1) as pure arithmetic: the limits of an org and the checks an upload
//! must pass. Sizes are bytes; "GB" and "TB" are decimal, as in the product guide (chapter 7).

use serde::{Deserialize, Serialize};

/// One gigabyte (decimal).
pub const GB: u64 = 1_000_000_000;
/// One terabyte (decimal).
pub const TB: u64 = 1_000 * GB;

/// Per-org limits, with the guide's defaults.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuotaLimits {
    /// Largest single image layer (default 10 GB).
    pub max_layer_bytes: u64,
    /// Total bytes of all images of the org (default 1 TB).
    pub max_image_bytes: u64,
    /// Total bytes of all models and resources of the org (default 5 TB).
    pub max_model_resource_bytes: u64,
}

impl Default for QuotaLimits {
    fn default() -> Self {
        Self {
            max_layer_bytes: 10 * GB,
            max_image_bytes: TB,
            max_model_resource_bytes: 5 * TB,
        }
    }
}

/// Which limit a check is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum QuotaKind {
    /// The single-layer limit.
    Layer,
    /// The org's total image bytes.
    Images,
    /// The org's total model and resource bytes.
    ModelsAndResources,
}

impl QuotaKind {
    /// Human name of the limit.
    pub fn describe(self) -> &'static str {
        match self {
            QuotaKind::Layer => "single image layer size",
            QuotaKind::Images => "total image size",
            QuotaKind::ModelsAndResources => "total model and resource size",
        }
    }
}

/// A rejected quota check: which limit, and by how many bytes it would be exceeded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
#[error("{} limit of {limit} bytes exceeded by {excess} bytes ({requested} bytes requested, {used} already used)", kind.describe())]
pub struct QuotaExceeded {
    /// Which limit.
    pub kind: QuotaKind,
    /// The limit in bytes.
    pub limit: u64,
    /// Bytes already counted against the limit.
    pub used: u64,
    /// Bytes the operation would add.
    pub requested: u64,
    /// By how much the limit would be exceeded.
    pub excess: u64,
}

/// Checks that `used + requested <= limit`, saturating instead of overflowing.
pub fn check(kind: QuotaKind, limit: u64, used: u64, requested: u64) -> Result<(), QuotaExceeded> {
    let total = used.saturating_add(requested);
    if total <= limit {
        Ok(())
    } else {
        Err(QuotaExceeded {
            kind,
            limit,
            used,
            requested,
            excess: total - limit,
        })
    }
}

/// Checks a single layer's size against the layer limit.
pub fn check_layer(limits: &QuotaLimits, layer_size: u64) -> Result<(), QuotaExceeded> {
    check(QuotaKind::Layer, limits.max_layer_bytes, 0, layer_size)
}

/// Checks adding `new_bytes` of images to an org that already uses `used` bytes of images.
/// `new_bytes` must count only blobs the org does not already store (R-QUO-2).
pub fn check_images(limits: &QuotaLimits, used: u64, new_bytes: u64) -> Result<(), QuotaExceeded> {
    check(QuotaKind::Images, limits.max_image_bytes, used, new_bytes)
}

/// Checks adding `new_bytes` of model or resource files to an org using `used` bytes.
pub fn check_models_resources(
    limits: &QuotaLimits,
    used: u64,
    new_bytes: u64,
) -> Result<(), QuotaExceeded> {
    check(
        QuotaKind::ModelsAndResources,
        limits.max_model_resource_bytes,
        used,
        new_bytes,
    )
}

/// Usage after deduplication: the sum of sizes of distinct digests (R-QUO-2).
pub fn deduplicated_usage<'a>(blobs: impl IntoIterator<Item = (&'a str, u64)>) -> u64 {
    let mut seen = std::collections::HashSet::new();
    blobs
        .into_iter()
        .filter(|(digest, _)| seen.insert(*digest))
        .fold(0u64, |acc, (_, size)| acc.saturating_add(size))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn guide_defaults() {
        let l = QuotaLimits::default();
        assert_eq!(l.max_layer_bytes, 10_000_000_000);
        assert_eq!(l.max_image_bytes, 1_000_000_000_000);
        assert_eq!(l.max_model_resource_bytes, 5_000_000_000_000);
    }

    #[test]
    fn layer_limit_names_the_excess() {
        let l = QuotaLimits::default();
        assert!(check_layer(&l, 10 * GB).is_ok());
        let e = check_layer(&l, 10 * GB + 5).unwrap_err();
        assert_eq!(e.kind, QuotaKind::Layer);
        assert_eq!(e.excess, 5);
        assert!(e.to_string().contains("single image layer size"));
        assert!(e.to_string().contains("exceeded by 5 bytes"));
    }

    #[test]
    fn totals() {
        let l = QuotaLimits {
            max_layer_bytes: 10,
            max_image_bytes: 100,
            max_model_resource_bytes: 50,
        };
        assert!(check_images(&l, 90, 10).is_ok());
        assert_eq!(check_images(&l, 90, 11).unwrap_err().excess, 1);
        assert_eq!(
            check_models_resources(&l, 50, 1).unwrap_err().kind,
            QuotaKind::ModelsAndResources
        );
    }

    #[test]
    fn dedup_counts_once() {
        let blobs = [("sha256:a", 10), ("sha256:b", 5), ("sha256:a", 10)];
        assert_eq!(deduplicated_usage(blobs.iter().map(|(d, s)| (*d, *s))), 15);
    }

    proptest! {
        #[test]
        fn check_is_exact(limit in any::<u64>(), used in any::<u64>(), req in any::<u64>()) {
            let r = check(QuotaKind::Images, limit, used, req);
            let total = used as u128 + req as u128;
            prop_assert_eq!(r.is_ok(), total <= limit as u128);
            if let Err(e) = r {
                prop_assert!(e.excess > 0);
                prop_assert_eq!(e.limit, limit);
            }
        }

        #[test]
        fn accepting_never_exceeds(limit in 0u64..1_000_000, adds in proptest::collection::vec(0u64..100_000, 0..50)) {
            let mut used = 0u64;
            for a in adds {
                if check(QuotaKind::ModelsAndResources, limit, used, a).is_ok() { used += a; }
                prop_assert!(used <= limit);
            }
        }

        #[test]
        fn dedup_never_exceeds_sum(v in proptest::collection::vec((0u8..5, 0u64..1000), 0..30)) {
            let names: Vec<(String, u64)> = v.iter().map(|(d, s)| (format!("d{d}"), *s)).collect();
            // same digest must always carry the same size
            let mut first = std::collections::HashMap::new();
            let norm: Vec<(String, u64)> = names.into_iter().map(|(d, s)| { let s = *first.entry(d.clone()).or_insert(s); (d, s) }).collect();
            let dedup = deduplicated_usage(norm.iter().map(|(d, s)| (d.as_str(), *s)));
            let sum: u64 = norm.iter().map(|(_, s)| s).sum();
            prop_assert!(dedup <= sum);
            let distinct: u64 = first.values().sum();
            prop_assert_eq!(dedup, distinct);
        }
    }
}

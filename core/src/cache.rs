//! A bounded in-memory cache of immutable, digest-addressed bytes (manifests).
//!
//! Content never changes under its digest, so every replica may keep its own copy without any
//! invalidation (ARCHITECTURE.md: caches only for digest-addressed data). Whether a digest may
//! be served at all is decided by the metadata store before the cache is asked, so a deleted
//! manifest is never served from here.

use bytes::Bytes;
use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

/// The cache: at most `max_bytes` in total, entries of at most `max_item` bytes, oldest
/// inserted evicted first.
#[derive(Debug)]
pub struct DigestCache {
    inner: Mutex<Inner>,
    max_bytes: usize,
    max_item: usize,
}

#[derive(Debug, Default)]
struct Inner {
    map: HashMap<String, Bytes>,
    order: VecDeque<String>,
    bytes: usize,
}

impl DigestCache {
    /// An empty cache holding at most `max_bytes`, each entry at most `max_item` bytes.
    pub fn new(max_bytes: usize, max_item: usize) -> Self {
        Self {
            inner: Mutex::new(Inner::default()),
            max_bytes,
            max_item: max_item.min(max_bytes),
        }
    }

    /// The bytes stored under `digest`, if cached.
    pub fn get(&self, digest: &str) -> Option<Bytes> {
        let inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        inner.map.get(digest).cloned()
    }

    /// Caches `bytes` under `digest` (ignored when larger than an entry may be).
    pub fn put(&self, digest: &str, bytes: Bytes) {
        if bytes.len() > self.max_item {
            return;
        }
        let mut inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        if inner.map.contains_key(digest) {
            return;
        }
        while inner.bytes + bytes.len() > self.max_bytes {
            let Some(oldest) = inner.order.pop_front() else {
                break;
            };
            if let Some(b) = inner.map.remove(&oldest) {
                inner.bytes -= b.len();
            }
        }
        inner.bytes += bytes.len();
        inner.order.push_back(digest.to_string());
        inner.map.insert(digest.to_string(), bytes);
    }

    /// Bytes currently held.
    pub fn held_bytes(&self) -> usize {
        self.inner.lock().unwrap_or_else(|e| e.into_inner()).bytes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn evicts_oldest_first_and_stays_within_budget() {
        let c = DigestCache::new(10, 6);
        c.put("a", Bytes::from_static(b"1234"));
        c.put("b", Bytes::from_static(b"5678"));
        assert_eq!(c.held_bytes(), 8);
        c.put("c", Bytes::from_static(b"90"));
        assert_eq!(c.held_bytes(), 10);
        c.put("d", Bytes::from_static(b"xyz"));
        assert!(c.get("a").is_none(), "the oldest goes first");
        assert_eq!(c.get("b").as_deref(), Some(&b"5678"[..]));
        assert!(c.held_bytes() <= 10);
        c.put("big", Bytes::from_static(b"1234567"));
        assert!(c.get("big").is_none(), "entries over max_item are not kept");
        c.put("b", Bytes::from_static(b"other"));
        assert_eq!(
            c.get("b").as_deref(),
            Some(&b"5678"[..]),
            "content under a digest is fixed"
        );
    }
}

//! Byte ranges: the chunked-upload `Content-Range` request header, the download `Range` request
//! header, and the `Range` / `Content-Range` response values.
//!
//! Both parsers are hand-written: the formats are two integers around a `-` (the upload form is
//! not even RFC 9110's `Content-Range` syntax, see below), no crate in the dependency set parses
//! them, and we need specific lenient behaviours that a generic parser would not give us.
//!
//! # Upload (`PATCH` / closing `PUT`)
//!
//! The distribution spec requires `Content-Range: <start>-<end>` (inclusive, regex
//! `^[0-9]+-[0-9]+$`), the first chunk starting at 0 and each chunk starting right after the
//! previous one; an out-of-order chunk MUST get **416**. [`ChunkRange::parse`] also tolerates the
//! RFC-style prefixes `bytes ` and `bytes=` and a trailing `/<total>` or `/*`, which some clients
//! send. An out-of-order chunk is the distinct [`ContentRangeError::OutOfOrder`] (→ 416); a
//! malformed header is a 400.
//!
//! # Download (`GET` blob)
//!
//! [`resolve_range`] follows RFC 9110 §14 for a single range (`bytes=a-b`, `bytes=a-`,
//! `bytes=-n`). A server may always ignore `Range`, and we do so (→ [`RangeOutcome::Full`],
//! 200 with the whole body) for: an absent header, another unit, a syntactically invalid
//! header, multiple ranges (answering `multipart/byteranges` is not worth it for blobs), and any
//! range on an empty blob. In particular NVIDIA's ngcsdk sends `Range: bytes=0--1` for empty
//! files and must receive 200 with the empty body, not 416.

use crate::util::clip;
use std::fmt;

/// Parses a non-empty run of ASCII digits exactly (no sign, no spaces); `None` on overflow.
fn parse_u64_exact(s: &str) -> Option<u64> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// Parses a non-empty run of ASCII digits, saturating at `u64::MAX` (an enormous position is
/// still "past the end", not a syntax error).
fn parse_u64_saturating(s: &str) -> Option<u64> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(s.bytes().fold(0u64, |acc, b| {
        acc.saturating_mul(10).saturating_add(u64::from(b - b'0'))
    }))
}

/// Strips a case-insensitive ASCII prefix.
fn strip_prefix_ci<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    let head = s.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| &s[prefix.len()..])
}

/// Why an upload `Content-Range` was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ContentRangeError {
    /// Not of the form `<start>-<end>`.
    #[error("Content-Range '{0}' is not of the form <start>-<end>")]
    Malformed(String),
    /// `start > end` (an inclusive range cannot be empty).
    #[error("Content-Range start {start} is after its end {end}")]
    StartAfterEnd {
        /// First byte.
        start: u64,
        /// Last byte.
        end: u64,
    },
    /// The chunk does not start at the upload's current offset (→ 416).
    #[error("chunk out of order: the upload is at offset {expected}, the chunk starts at {start}")]
    OutOfOrder {
        /// The current offset (bytes received so far).
        expected: u64,
        /// The chunk's first byte.
        start: u64,
    },
    /// The body length differs from the range's length.
    #[error("Content-Length {content_length} does not match the Content-Range length {range_len}")]
    LengthMismatch {
        /// `end - start + 1`.
        range_len: u64,
        /// The `Content-Length`.
        content_length: u64,
    },
}

impl ContentRangeError {
    /// Whether this is the out-of-order case the spec answers with 416.
    pub fn is_out_of_order(&self) -> bool {
        matches!(self, Self::OutOfOrder { .. })
    }

    /// The error code: `SIZE_INVALID` for a length mismatch, `BLOB_UPLOAD_INVALID` otherwise.
    pub fn error_code(&self) -> crate::errors::ErrorCode {
        match self {
            Self::LengthMismatch { .. } => crate::errors::ErrorCode::SizeInvalid,
            _ => crate::errors::ErrorCode::BlobUploadInvalid,
        }
    }

    /// The HTTP status: 416 when out of order, 400 otherwise.
    pub fn status(&self) -> u16 {
        if self.is_out_of_order() {
            crate::errors::STATUS_RANGE_NOT_SATISFIABLE
        } else {
            400
        }
    }
}

/// The inclusive byte range of an upload chunk, from its `Content-Range` header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ChunkRange {
    start: u64,
    end: u64,
}

impl ChunkRange {
    /// Parses `<start>-<end>`, tolerating a `bytes ` / `bytes=` prefix and a `/<total>` or `/*`
    /// suffix. Does not look at the upload offset; see [`ChunkRange::parse_at`].
    pub fn parse(header: &str) -> Result<Self, ContentRangeError> {
        let malformed = || ContentRangeError::Malformed(clip(header, 48));
        let mut s = header.trim();
        if let Some(rest) = strip_prefix_ci(s, "bytes=").or_else(|| strip_prefix_ci(s, "bytes ")) {
            s = rest.trim_start();
        }
        if let Some((range, total)) = s.split_once('/') {
            if total != "*" && parse_u64_exact(total).is_none() {
                return Err(malformed());
            }
            s = range;
        }
        let (a, b) = s.split_once('-').ok_or_else(malformed)?;
        let start = parse_u64_exact(a).ok_or_else(malformed)?;
        let end = parse_u64_exact(b).ok_or_else(malformed)?;
        if start > end {
            return Err(ContentRangeError::StartAfterEnd { start, end });
        }
        if start == 0 && end == u64::MAX {
            return Err(malformed()); // its length does not fit in a u64
        }
        Ok(Self { start, end })
    }

    /// Parses and checks that the chunk starts at `current_offset` (the number of bytes received
    /// so far; 0 for the first chunk).
    pub fn parse_at(header: &str, current_offset: u64) -> Result<Self, ContentRangeError> {
        let r = Self::parse(header)?;
        r.check_offset(current_offset)?;
        Ok(r)
    }

    /// [`ContentRangeError::OutOfOrder`] unless the chunk starts at `current_offset`.
    pub fn check_offset(&self, current_offset: u64) -> Result<(), ContentRangeError> {
        if self.start == current_offset {
            Ok(())
        } else {
            Err(ContentRangeError::OutOfOrder {
                expected: current_offset,
                start: self.start,
            })
        }
    }

    /// [`ContentRangeError::LengthMismatch`] unless `content_length` equals the range's length.
    pub fn check_length(&self, content_length: u64) -> Result<(), ContentRangeError> {
        if self.len() == content_length {
            Ok(())
        } else {
            Err(ContentRangeError::LengthMismatch {
                range_len: self.len(),
                content_length,
            })
        }
    }

    /// First byte.
    pub fn start(&self) -> u64 {
        self.start
    }

    /// Last byte (inclusive).
    pub fn end(&self) -> u64 {
        self.end
    }

    /// Number of bytes (`end - start + 1`, at least 1).
    #[allow(clippy::len_without_is_empty)] // an inclusive range is never empty
    pub fn len(&self) -> u64 {
        self.end - self.start + 1
    }
}

impl fmt::Display for ChunkRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.start, self.end)
    }
}

/// The value of the `Range` header on upload responses (`202` after `POST`/`PATCH`, `204` on
/// `GET` upload status): `0-<end-of-range>`, the position of the last byte received.
///
/// With nothing received yet there is no last byte; like Docker's registry we send `0-0` rather
/// than the `0--1` some registries emit (which matches no grammar). Clients resume from the
/// `Location`, and chunks are checked against the true offset anyway.
pub fn upload_range_value(bytes_received: u64) -> String {
    format!("0-{}", bytes_received.saturating_sub(1))
}

/// What to serve for a blob `GET` given its `Range` header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RangeOutcome {
    /// 200 with the whole body (no usable `Range`).
    Full,
    /// 206 with bytes `start..=end` (always `start <= end < length`).
    Partial {
        /// First byte.
        start: u64,
        /// Last byte, inclusive.
        end: u64,
    },
    /// 416 with `Content-Range: bytes */<length>`.
    Unsatisfiable,
}

impl RangeOutcome {
    /// 200, 206 or 416.
    pub fn status(&self) -> u16 {
        match self {
            Self::Full => 200,
            Self::Partial { .. } => 206,
            Self::Unsatisfiable => crate::errors::STATUS_RANGE_NOT_SATISFIABLE,
        }
    }

    /// The `Content-Range` response value for a blob of `length` bytes, if one is sent.
    pub fn content_range(&self, length: u64) -> Option<String> {
        match *self {
            Self::Full => None,
            Self::Partial { start, end } => Some(content_range_value(start, end, length)),
            Self::Unsatisfiable => Some(format!("bytes */{length}")),
        }
    }

    /// Number of body bytes sent for a blob of `length` bytes.
    pub fn body_length(&self, length: u64) -> u64 {
        match *self {
            Self::Full => length,
            Self::Partial { start, end } => end - start + 1,
            Self::Unsatisfiable => 0,
        }
    }
}

/// `bytes <start>-<end>/<length>`, the `Content-Range` of a 206 response.
pub fn content_range_value(start: u64, end: u64, length: u64) -> String {
    format!("bytes {start}-{end}/{length}")
}

/// Resolves a download `Range` header against a blob of `length` bytes (see the module docs for
/// which headers are ignored).
pub fn resolve_range(header: Option<&str>, length: u64) -> RangeOutcome {
    let Some(header) = header else {
        return RangeOutcome::Full;
    };
    if length == 0 {
        return RangeOutcome::Full;
    }
    let Some((unit, set)) = header.trim().split_once('=') else {
        return RangeOutcome::Full;
    };
    if !unit.trim().eq_ignore_ascii_case("bytes") {
        return RangeOutcome::Full;
    }
    // RFC 9110 lists may contain empty elements; more than one real range is ignored.
    let mut specs = set.split(',').map(str::trim).filter(|s| !s.is_empty());
    let (Some(spec), None) = (specs.next(), specs.next()) else {
        return RangeOutcome::Full;
    };
    let Some((a, b)) = spec.split_once('-') else {
        return RangeOutcome::Full;
    };
    let last = length - 1;
    if a.is_empty() {
        // suffix-range: the last n bytes.
        return match parse_u64_saturating(b) {
            None => RangeOutcome::Full,
            Some(0) => RangeOutcome::Unsatisfiable,
            Some(n) => RangeOutcome::Partial {
                start: length.saturating_sub(n),
                end: last,
            },
        };
    }
    let Some(start) = parse_u64_saturating(a) else {
        return RangeOutcome::Full;
    };
    let end = if b.is_empty() {
        last
    } else {
        match parse_u64_saturating(b) {
            Some(end) if end >= start => end.min(last),
            _ => return RangeOutcome::Full, // invalid (e.g. `0--1`, or last < first): ignore
        }
    };
    if start >= length {
        return RangeOutcome::Unsatisfiable;
    }
    RangeOutcome::Partial { start, end }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use RangeOutcome::*;

    #[test]
    fn upload_content_range_forms() {
        for h in [
            "0-99",
            "bytes 0-99",
            "bytes=0-99",
            " BYTES=0-99 ",
            "0-99/100",
            "bytes 0-99/*",
        ] {
            let r = ChunkRange::parse(h).unwrap_or_else(|e| panic!("{h}: {e}"));
            assert_eq!((r.start(), r.end(), r.len()), (0, 99, 100), "{h}");
        }
        assert_eq!(ChunkRange::parse("5-5").unwrap().len(), 1);
        assert_eq!(ChunkRange::parse("100-199").unwrap().to_string(), "100-199");
    }

    #[test]
    fn upload_content_range_rejections() {
        for h in [
            "",
            "-",
            "0-",
            "-5",
            "a-b",
            "+1-5",
            "1 - 5",
            "0--1",
            "0-5/x",
            "bytes",
            "99999999999999999999-1",
        ] {
            assert!(
                matches!(ChunkRange::parse(h), Err(ContentRangeError::Malformed(_))),
                "{h:?} should be malformed"
            );
        }
        assert_eq!(
            ChunkRange::parse("10-5"),
            Err(ContentRangeError::StartAfterEnd { start: 10, end: 5 })
        );
        assert!(ChunkRange::parse(&format!("0-{}", u64::MAX)).is_err());
        assert!(ChunkRange::parse(&format!("1-{}", u64::MAX)).is_ok());
    }

    #[test]
    fn upload_offsets() {
        // The first chunk must start at 0, the next one right after the previous end.
        assert!(ChunkRange::parse_at("0-9", 0).is_ok());
        assert!(ChunkRange::parse_at("10-19", 10).is_ok());
        let e = ChunkRange::parse_at("20-29", 10).unwrap_err();
        assert_eq!(
            e,
            ContentRangeError::OutOfOrder {
                expected: 10,
                start: 20
            }
        );
        assert!(e.is_out_of_order());
        assert_eq!(e.status(), 416);
        assert_eq!(ChunkRange::parse_at("0-9", 10).unwrap_err().status(), 416);
        let bad = ChunkRange::parse_at("x", 0).unwrap_err();
        assert!(!bad.is_out_of_order());
        assert_eq!(bad.status(), 400);
        let r = ChunkRange::parse("0-9").unwrap();
        assert!(r.check_length(10).is_ok());
        let e = r.check_length(9).unwrap_err();
        assert_eq!(e.error_code(), crate::errors::ErrorCode::SizeInvalid);
    }

    #[test]
    fn upload_status_value() {
        assert_eq!(upload_range_value(0), "0-0");
        assert_eq!(upload_range_value(1), "0-0");
        assert_eq!(upload_range_value(100), "0-99");
    }

    #[test]
    fn download_single_ranges() {
        assert_eq!(resolve_range(None, 100), Full);
        assert_eq!(
            resolve_range(Some("bytes=0-9"), 100),
            Partial { start: 0, end: 9 }
        );
        assert_eq!(
            resolve_range(Some("bytes=90-"), 100),
            Partial { start: 90, end: 99 }
        );
        assert_eq!(
            resolve_range(Some("bytes=-10"), 100),
            Partial { start: 90, end: 99 }
        );
        assert_eq!(
            resolve_range(Some("bytes=-500"), 100),
            Partial { start: 0, end: 99 }
        );
        assert_eq!(
            resolve_range(Some("bytes=50-500"), 100),
            Partial { start: 50, end: 99 }
        );
        assert_eq!(
            resolve_range(Some("Bytes=1-1"), 100),
            Partial { start: 1, end: 1 }
        );
        assert_eq!(resolve_range(Some("bytes=100-"), 100), Unsatisfiable);
        assert_eq!(resolve_range(Some("bytes=100-200"), 100), Unsatisfiable);
        assert_eq!(resolve_range(Some("bytes=-0"), 100), Unsatisfiable);
        assert_eq!(
            resolve_range(Some("bytes=99999999999999999999999-"), 100),
            Unsatisfiable
        );
        assert_eq!(
            resolve_range(Some("bytes=0-99999999999999999999999"), 100),
            Partial { start: 0, end: 99 }
        );
    }

    #[test]
    fn download_ignored_headers() {
        for h in [
            "bytes=0--1",
            "bytes=5-1",
            "items=0-1",
            "bytes=0-1,5-6",
            "bytes=",
            "bytes=x-1",
            "0-9",
            "bytes=+1-2",
        ] {
            assert_eq!(resolve_range(Some(h), 100), Full, "{h}");
        }
        assert_eq!(
            resolve_range(Some("bytes=0-1,"), 100),
            Partial { start: 0, end: 1 }
        );
    }

    #[test]
    fn ngcsdk_empty_file() {
        // ngcsdk asks for `bytes=0--1` when downloading an empty file: serve 200 with no body.
        assert_eq!(resolve_range(Some("bytes=0--1"), 0), Full);
        assert_eq!(resolve_range(Some("bytes=0-"), 0), Full);
        assert_eq!(Full.status(), 200);
        assert_eq!(Full.body_length(0), 0);
        assert_eq!(Full.content_range(0), None);
    }

    #[test]
    fn response_values() {
        assert_eq!(content_range_value(0, 9, 100), "bytes 0-9/100");
        let p = resolve_range(Some("bytes=10-19"), 100);
        assert_eq!(p.status(), 206);
        assert_eq!(p.content_range(100).as_deref(), Some("bytes 10-19/100"));
        assert_eq!(p.body_length(100), 10);
        assert_eq!(Unsatisfiable.status(), 416);
        assert_eq!(
            Unsatisfiable.content_range(100).as_deref(),
            Some("bytes */100")
        );
    }

    proptest! {
        #[test]
        fn parsers_never_panic(h in ".*", len in any::<u64>(), offset in any::<u64>()) {
            let _ = ChunkRange::parse_at(&h, offset);
            let _ = resolve_range(Some(&h), len);
        }

        #[test]
        fn partial_is_always_inside(h in "(bytes|BYTES|x)?=?[0-9]{0,4}-?-?[0-9]{0,4},?[0-9-]{0,3}", len in 0u64..10_000) {
            match resolve_range(Some(&h), len) {
                Partial { start, end } => {
                    prop_assert!(start <= end && end < len);
                    prop_assert_eq!(
                        Partial { start, end }.content_range(len),
                        Some(format!("bytes {start}-{end}/{len}"))
                    );
                }
                Unsatisfiable => prop_assert!(len > 0),
                Full => {}
            }
        }

        #[test]
        fn download_round_trip(len in 1u64..u64::MAX, a in any::<u64>(), b in any::<u64>()) {
            let (start, end) = (a.min(b) % len, a.max(b));
            prop_assert_eq!(
                resolve_range(Some(&format!("bytes={start}-{end}")), len),
                Partial { start, end: end.min(len - 1) }
            );
        }

        #[test]
        fn upload_round_trip(start in 0u64..u64::MAX / 2, n in 0u64..u64::MAX / 2) {
            let r = ChunkRange::parse_at(&format!("{}-{}", start, start + n), start).unwrap();
            prop_assert_eq!((r.start(), r.end(), r.len()), (start, start + n, n + 1));
            prop_assert_eq!(ChunkRange::parse(&r.to_string()).unwrap(), r);
        }

        #[test]
        fn wrong_start_is_out_of_order(start in any::<u32>(), len in 0u32..1000, offset in any::<u32>()) {
            prop_assume!(start != offset);
            let (start, offset) = (u64::from(start), u64::from(offset));
            let h = format!("{}-{}", start, start + u64::from(len));
            prop_assert_eq!(
                ChunkRange::parse_at(&h, offset),
                Err(ContentRangeError::OutOfOrder { expected: offset, start })
            );
        }
    }
}

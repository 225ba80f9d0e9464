//! Content digests (`algorithm:encoded`) as used in OCI descriptors and `/v2/` paths.
//!
//! The grammar is the image-spec one (`descriptor.md#digests`):
//!
//! ```text
//! digest                ::= algorithm ":" encoded
//! algorithm             ::= algorithm-component (algorithm-separator algorithm-component)*
//! algorithm-component   ::= [a-z0-9]+
//! algorithm-separator   ::= [+._-]
//! encoded               ::= [a-zA-Z0-9=_-]+
//! ```
//!
//! Arca supports the two registered algorithms only: `sha256` (64 lowercase hex characters) and
//! `sha512` (128 lowercase hex characters). A grammatically valid digest with any other algorithm
//! (`sha384`, `multihash+base58`, ...) is rejected with [`DigestError::UnsupportedAlgorithm`] so
//! the server can say *why* rather than "invalid".
//!
//! We do not reuse `oci_spec::image::Digest` as the primary type because it accepts every
//! algorithm (and keeps unknown ones as `Other`), whereas the registry must refuse what it cannot
//! verify; conversions both ways are provided.

use crate::util::clip;
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256, Sha512};
use std::fmt;
use std::str::FromStr;

/// A supported digest algorithm.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DigestAlgorithm {
    /// SHA-256: 64 lowercase hex characters. The default everywhere.
    Sha256,
    /// SHA-512: 128 lowercase hex characters.
    Sha512,
}

impl DigestAlgorithm {
    /// The algorithm's name as it appears before the `:`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Sha256 => "sha256",
            Self::Sha512 => "sha512",
        }
    }

    /// Number of hex characters in an encoded digest of this algorithm.
    pub const fn hex_len(self) -> usize {
        match self {
            Self::Sha256 => 64,
            Self::Sha512 => 128,
        }
    }
}

impl fmt::Display for DigestAlgorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a string is not an acceptable digest.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DigestError {
    /// No `:` between algorithm and encoded part.
    #[error("digest must have the form 'algorithm:encoded' (no ':' found)")]
    MissingSeparator,
    /// The algorithm part does not match `[a-z0-9]+([+._-][a-z0-9]+)*`.
    #[error("digest algorithm '{0}' does not match the grammar [a-z0-9]+([+._-][a-z0-9]+)*")]
    InvalidAlgorithm(String),
    /// The encoded part is empty or has characters outside `[a-zA-Z0-9=_-]`.
    #[error("encoded part of the digest is empty or has characters outside [a-zA-Z0-9=_-]")]
    InvalidEncoded,
    /// Grammatically valid, but not `sha256` or `sha512`.
    #[error("digest algorithm '{0}' is not supported (only sha256 and sha512 are)")]
    UnsupportedAlgorithm(String),
    /// The encoded part has the wrong length for its algorithm.
    #[error("{algorithm} digest must have {expected} hex characters, found {found}")]
    InvalidLength {
        /// The algorithm.
        algorithm: DigestAlgorithm,
        /// Required number of hex characters.
        expected: usize,
        /// Number found.
        found: usize,
    },
    /// The encoded part is not lowercase hexadecimal.
    #[error("{0} digest must be lowercase hexadecimal [0-9a-f]")]
    NotLowercaseHex(DigestAlgorithm),
}

/// A validated `sha256:` or `sha512:` digest.
///
/// Displays and serializes as `algorithm:hex`; orders and hashes by that string.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Digest {
    /// The full `algorithm:hex` text; the algorithm prefix always matches `algorithm`.
    value: String,
    algorithm: DigestAlgorithm,
}

fn valid_algorithm_grammar(alg: &str) -> bool {
    !alg.is_empty()
        && alg.split(['+', '.', '_', '-']).all(|c| {
            !c.is_empty()
                && c.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        })
}

impl Digest {
    /// Parses and validates a digest (same as [`FromStr`]).
    pub fn parse(s: &str) -> Result<Self, DigestError> {
        let (alg, encoded) = s.split_once(':').ok_or(DigestError::MissingSeparator)?;
        if !valid_algorithm_grammar(alg) {
            return Err(DigestError::InvalidAlgorithm(clip(alg, 32)));
        }
        if encoded.is_empty()
            || !encoded
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'=' | b'_' | b'-'))
        {
            return Err(DigestError::InvalidEncoded);
        }
        let algorithm = match alg {
            "sha256" => DigestAlgorithm::Sha256,
            "sha512" => DigestAlgorithm::Sha512,
            other => return Err(DigestError::UnsupportedAlgorithm(clip(other, 32))),
        };
        if encoded.len() != algorithm.hex_len() {
            return Err(DigestError::InvalidLength {
                algorithm,
                expected: algorithm.hex_len(),
                found: encoded.len(),
            });
        }
        if !encoded
            .bytes()
            .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
        {
            return Err(DigestError::NotLowercaseHex(algorithm));
        }
        Ok(Self {
            value: s.to_owned(),
            algorithm,
        })
    }

    fn from_raw(algorithm: DigestAlgorithm, raw: &[u8]) -> Self {
        Self {
            value: format!("{}:{}", algorithm.as_str(), hex::encode(raw)),
            algorithm,
        }
    }

    /// The SHA-256 digest of `data`.
    pub fn sha256_of(data: &[u8]) -> Self {
        Self::from_raw(DigestAlgorithm::Sha256, &Sha256::digest(data))
    }

    /// The SHA-512 digest of `data`.
    pub fn sha512_of(data: &[u8]) -> Self {
        Self::from_raw(DigestAlgorithm::Sha512, &Sha512::digest(data))
    }

    /// The digest of `data` with the given algorithm.
    pub fn compute(algorithm: DigestAlgorithm, data: &[u8]) -> Self {
        let mut h = DigestHasher::new(algorithm);
        h.update(data);
        h.finish()
    }

    /// A SHA-256 digest from its 32 raw bytes.
    pub fn from_sha256_bytes(bytes: [u8; 32]) -> Self {
        Self::from_raw(DigestAlgorithm::Sha256, &bytes)
    }

    /// A SHA-512 digest from its 64 raw bytes.
    pub fn from_sha512_bytes(bytes: [u8; 64]) -> Self {
        Self::from_raw(DigestAlgorithm::Sha512, &bytes)
    }

    /// An incremental SHA-256 hasher (for streamed uploads).
    pub fn sha256_hasher() -> DigestHasher {
        DigestHasher::new(DigestAlgorithm::Sha256)
    }

    /// The algorithm.
    pub fn algorithm(&self) -> DigestAlgorithm {
        self.algorithm
    }

    /// The lowercase hex part (after the `:`).
    pub fn hex(&self) -> &str {
        &self.value[self.algorithm.as_str().len() + 1..]
    }

    /// The full `algorithm:hex` text.
    pub fn as_str(&self) -> &str {
        &self.value
    }

    /// Whether `data` hashes (with this digest's algorithm) to this digest.
    pub fn matches(&self, data: &[u8]) -> bool {
        Self::compute(self.algorithm, data) == *self
    }

    /// The equivalent `oci_spec` digest (for building oci-spec descriptors).
    pub fn to_oci(&self) -> oci_spec::image::Digest {
        // Invariant: our grammar is a strict subset of oci-spec's (checked by a property test),
        // so this cannot fail for a value that passed `Digest::parse`.
        oci_spec::image::Digest::from_str(&self.value)
            .expect("a validated sha256/sha512 digest is a valid oci-spec digest")
    }
}

impl FromStr for Digest {
    type Err = DigestError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl TryFrom<String> for Digest {
    type Error = DigestError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

impl TryFrom<&oci_spec::image::Digest> for Digest {
    type Error = DigestError;
    fn try_from(d: &oci_spec::image::Digest) -> Result<Self, Self::Error> {
        Self::parse(d.as_ref())
    }
}

impl From<Digest> for String {
    fn from(d: Digest) -> String {
        d.value
    }
}

impl AsRef<str> for Digest {
    fn as_ref(&self) -> &str {
        &self.value
    }
}

impl fmt::Display for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.value)
    }
}

impl Serialize for Digest {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.value)
    }
}

impl<'de> Deserialize<'de> for Digest {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Self::parse(&s).map_err(serde::de::Error::custom)
    }
}

#[derive(Clone)]
enum HasherState {
    Sha256(Sha256),
    Sha512(Sha512),
}

/// Incremental digest computation: feed chunks with [`DigestHasher::update`], then
/// [`DigestHasher::finish`] into a [`Digest`].
#[derive(Clone)]
pub struct DigestHasher {
    state: HasherState,
    bytes: u64,
}

impl fmt::Debug for DigestHasher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DigestHasher")
            .field("algorithm", &self.algorithm())
            .field("bytes", &self.bytes)
            .finish()
    }
}

impl DigestHasher {
    /// A fresh hasher for `algorithm`.
    pub fn new(algorithm: DigestAlgorithm) -> Self {
        let state = match algorithm {
            DigestAlgorithm::Sha256 => HasherState::Sha256(Sha256::new()),
            DigestAlgorithm::Sha512 => HasherState::Sha512(Sha512::new()),
        };
        Self { state, bytes: 0 }
    }

    /// The algorithm being computed.
    pub fn algorithm(&self) -> DigestAlgorithm {
        match self.state {
            HasherState::Sha256(_) => DigestAlgorithm::Sha256,
            HasherState::Sha512(_) => DigestAlgorithm::Sha512,
        }
    }

    /// Feeds one chunk.
    pub fn update(&mut self, chunk: &[u8]) {
        match &mut self.state {
            HasherState::Sha256(h) => h.update(chunk),
            HasherState::Sha512(h) => h.update(chunk),
        }
        self.bytes = self.bytes.saturating_add(chunk.len() as u64);
    }

    /// Total number of bytes fed so far (the upload offset).
    pub fn bytes_hashed(&self) -> u64 {
        self.bytes
    }

    /// Finishes into a digest.
    pub fn finish(self) -> Digest {
        match self.state {
            HasherState::Sha256(h) => Digest::from_raw(DigestAlgorithm::Sha256, &h.finalize()),
            HasherState::Sha512(h) => Digest::from_raw(DigestAlgorithm::Sha512, &h.finalize()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    // Well-known values: sha256("") and sha256("{}") (the OCI empty descriptor's digest).
    const EMPTY_SHA256: &str =
        "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
    const EMPTY_JSON_SHA256: &str =
        "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a";
    const EMPTY_SHA512: &str = "sha512:cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e";

    #[test]
    fn spec_example_parses() {
        // The distribution-spec's own example digest.
        let s = "sha256:6c3c624b58dbbcd3c0dd82b4c53f04194d1247c6eebdaab7c610cf7d66709b3b";
        let d: Digest = s.parse().unwrap();
        assert_eq!(d.algorithm(), DigestAlgorithm::Sha256);
        assert_eq!(
            d.hex(),
            "6c3c624b58dbbcd3c0dd82b4c53f04194d1247c6eebdaab7c610cf7d66709b3b"
        );
        assert_eq!(d.to_string(), s);
    }

    #[test]
    fn known_hashes() {
        assert_eq!(Digest::sha256_of(b"").as_str(), EMPTY_SHA256);
        assert_eq!(Digest::sha256_of(b"{}").as_str(), EMPTY_JSON_SHA256);
        assert_eq!(Digest::sha512_of(b"").as_str(), EMPTY_SHA512);
        assert_eq!(
            EMPTY_SHA512.parse::<Digest>().unwrap().algorithm(),
            DigestAlgorithm::Sha512
        );
        assert!(Digest::parse(EMPTY_JSON_SHA256).unwrap().matches(b"{}"));
        assert!(!Digest::parse(EMPTY_JSON_SHA256).unwrap().matches(b"{ }"));
    }

    #[test]
    fn from_bytes() {
        let raw: [u8; 32] = Sha256::digest(b"{}").into();
        assert_eq!(Digest::from_sha256_bytes(raw).as_str(), EMPTY_JSON_SHA256);
        let raw: [u8; 64] = Sha512::digest(b"").into();
        assert_eq!(Digest::from_sha512_bytes(raw).as_str(), EMPTY_SHA512);
    }

    #[test]
    fn hasher_in_chunks_equals_one_shot() {
        let mut h = Digest::sha256_hasher();
        h.update(b"{");
        h.update(b"");
        h.update(b"}");
        assert_eq!(h.bytes_hashed(), 2);
        assert_eq!(h.finish().as_str(), EMPTY_JSON_SHA256);
        let mut h = DigestHasher::new(DigestAlgorithm::Sha512);
        assert_eq!(h.algorithm(), DigestAlgorithm::Sha512);
        h.update(b"");
        assert_eq!(h.finish().as_str(), EMPTY_SHA512);
    }

    #[test]
    fn rejections_are_typed() {
        let hex64 = "a".repeat(64);
        assert_eq!(Digest::parse("sha256"), Err(DigestError::MissingSeparator));
        assert!(matches!(
            Digest::parse(&format!("SHA256:{hex64}")),
            Err(DigestError::InvalidAlgorithm(_))
        ));
        assert!(matches!(
            Digest::parse(&format!("sha256+:{hex64}")),
            Err(DigestError::InvalidAlgorithm(_))
        ));
        assert_eq!(Digest::parse("sha256:"), Err(DigestError::InvalidEncoded));
        assert_eq!(
            Digest::parse("sha256:../../etc/passwd"),
            Err(DigestError::InvalidEncoded)
        );
        assert_eq!(
            Digest::parse(&format!("sha384:{}", "a".repeat(96))),
            Err(DigestError::UnsupportedAlgorithm("sha384".into()))
        );
        assert_eq!(
            Digest::parse("multihash+base58:QmRZxt2b1FVZPNqd8hsiykDL3TdBDeTSPX9Kv46HmX4Gx8"),
            Err(DigestError::UnsupportedAlgorithm("multihash+base58".into()))
        );
        assert_eq!(
            Digest::parse("sha256:abc"),
            Err(DigestError::InvalidLength {
                algorithm: DigestAlgorithm::Sha256,
                expected: 64,
                found: 3
            })
        );
        assert_eq!(
            Digest::parse(&format!("sha512:{hex64}")),
            Err(DigestError::InvalidLength {
                algorithm: DigestAlgorithm::Sha512,
                expected: 128,
                found: 64
            })
        );
        assert_eq!(
            Digest::parse(&format!("sha256:{}", "A".repeat(64))),
            Err(DigestError::NotLowercaseHex(DigestAlgorithm::Sha256))
        );
        let msg = Digest::parse(&format!("sha1:{}", "a".repeat(40)))
            .unwrap_err()
            .to_string();
        assert!(
            msg.contains("sha1") && msg.contains("not supported"),
            "{msg}"
        );
    }

    #[test]
    fn serde_as_string() {
        let d = Digest::parse(EMPTY_SHA256).unwrap();
        let json = serde_json::to_string(&d).unwrap();
        assert_eq!(json, format!("\"{EMPTY_SHA256}\""));
        assert_eq!(serde_json::from_str::<Digest>(&json).unwrap(), d);
        assert!(serde_json::from_str::<Digest>("\"sha256:nothex\"").is_err());
    }

    #[test]
    fn oci_spec_conversions() {
        let d = Digest::parse(EMPTY_SHA512).unwrap();
        let o = d.to_oci();
        assert_eq!(o.as_ref(), EMPTY_SHA512);
        assert_eq!(Digest::try_from(&o).unwrap(), d);
        let other =
            oci_spec::image::Digest::from_str(&format!("sha384:{}", "a".repeat(96))).unwrap();
        assert!(matches!(
            Digest::try_from(&other),
            Err(DigestError::UnsupportedAlgorithm(_))
        ));
    }

    fn spec_regex() -> regex::Regex {
        regex::Regex::new(r"^(sha256:[a-f0-9]{64}|sha512:[a-f0-9]{128})$").unwrap()
    }

    proptest! {
        #[test]
        fn never_panics(s in ".*") {
            let _ = Digest::parse(&s);
        }

        #[test]
        fn agrees_with_regex(s in "(sha256|sha512|sha384|SHA256|sha-256)?:?[0-9a-fA-F:]{0,130}") {
            prop_assert_eq!(Digest::parse(&s).is_ok(), spec_regex().is_match(&s));
        }

        #[test]
        fn round_trips(data in proptest::collection::vec(any::<u8>(), 0..256), sha512 in any::<bool>()) {
            let alg = if sha512 { DigestAlgorithm::Sha512 } else { DigestAlgorithm::Sha256 };
            let d = Digest::compute(alg, &data);
            prop_assert!(spec_regex().is_match(d.as_str()));
            let back: Digest = d.to_string().parse().unwrap();
            prop_assert_eq!(&back, &d);
            prop_assert_eq!(back.to_oci().to_string(), d.to_string());
            prop_assert!(d.matches(&data));
        }

        #[test]
        fn chunked_hashing_is_split_independent(
            data in proptest::collection::vec(any::<u8>(), 0..512),
            cut in any::<prop::sample::Index>(),
        ) {
            let at = cut.index(data.len() + 1);
            let mut h = Digest::sha256_hasher();
            h.update(&data[..at]);
            h.update(&data[at..]);
            prop_assert_eq!(h.bytes_hashed(), data.len() as u64);
            prop_assert_eq!(h.finish(), Digest::sha256_of(&data));
        }
    }
}

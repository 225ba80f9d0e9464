//! The secret format (R-KEY-5).
//!
//! A secret is `prefix` + `body` + `_` + `checksum`:
//!
//! * `prefix`: `arca_pk_`, `arca_sk_` or `arca_lk_` ([`KeyKind::prefix`]), so secret scanners
//!   can find leaked keys;
//! * `body`: the 32 random bytes, base64url without padding (43 characters);
//! * `checksum`: the first 6 characters of the base64url sha256 of `prefix + body`, so typos and
//!   truncations are rejected without a database lookup.
//!
//! Every secret is 58 ASCII characters. Only its sha256 ([`KeyHash`]) is stored.

use std::fmt;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::KeyKind;
use crate::error::KeyFormatError;

/// Random bytes per secret.
const RANDOM_BYTES: usize = 32;
/// Length of every prefix.
const PREFIX_LEN: usize = 8;
/// Length of the base64url body.
const BODY_LEN: usize = 43;
/// Length of the checksum.
const CHECKSUM_LEN: usize = 6;
/// Length of the hint kept for display.
const HINT_LEN: usize = 4;

/// The length of every Arca key secret, in characters (all ASCII).
pub const SECRET_LEN: usize = PREFIX_LEN + BODY_LEN + 1 + CHECKSUM_LEN;

/// The checksum of `prefix + body`.
fn checksum(prefix_and_body: &str) -> String {
    let digest = Sha256::digest(prefix_and_body.as_bytes());
    let mut encoded = URL_SAFE_NO_PAD.encode(&digest[..6]);
    encoded.truncate(CHECKSUM_LEN);
    encoded
}

/// A key secret. Shown to the user once, never stored, never logged: its `Debug` is redacted
/// and it has no `Display`.
#[derive(Clone, PartialEq, Eq)]
pub struct KeySecret(String);

impl KeySecret {
    /// Makes a new secret of `kind` from 32 random bytes supplied by the caller.
    pub fn generate(kind: KeyKind, random: [u8; RANDOM_BYTES]) -> GeneratedKey {
        let mut secret = String::with_capacity(SECRET_LEN);
        secret.push_str(kind.prefix());
        secret.push_str(&URL_SAFE_NO_PAD.encode(random));
        let sum = checksum(&secret);
        secret.push('_');
        secret.push_str(&sum);
        let hint = secret[SECRET_LEN - HINT_LEN..].to_owned();
        let hash = KeyHash::of_secret(&secret);
        GeneratedKey {
            kind,
            secret: KeySecret(secret),
            hash,
            hint,
        }
    }

    /// The secret text, to show the user once.
    pub fn expose_secret(&self) -> &str {
        &self.0
    }

    /// The secret text, consuming the wrapper.
    pub fn into_string(self) -> String {
        self.0
    }
}

impl fmt::Debug for KeySecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("KeySecret(<redacted>)")
    }
}

/// A freshly generated key: the secret to show once, and what to store.
#[derive(Clone, PartialEq, Eq)]
pub struct GeneratedKey {
    /// The key's kind.
    pub kind: KeyKind,
    /// The secret; show it once, never store it.
    pub secret: KeySecret,
    /// The hash to store and look the key up by.
    pub hash: KeyHash,
    /// The last four characters of the secret, to store and show so users can tell keys apart.
    pub hint: String,
}

impl fmt::Debug for GeneratedKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GeneratedKey")
            .field("kind", &self.kind)
            .field("secret", &self.secret)
            .field("hash", &self.hash)
            .field("hint", &self.hint)
            .finish()
    }
}

/// The hex sha256 of a whole secret: what is stored and looked up (R-KEY-5).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct KeyHash(String);

impl KeyHash {
    /// The hash of a secret text (no validation of the text).
    pub fn of_secret(secret: &str) -> KeyHash {
        KeyHash(hex::encode(Sha256::digest(secret.as_bytes())))
    }

    /// A stored hash read back: 64 lowercase hex digits, or `None`.
    pub fn from_hex(text: &str) -> Option<KeyHash> {
        let ok = text.len() == 64 && text.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
        ok.then(|| KeyHash(text.to_owned()))
    }

    /// The 64 lowercase hex digits.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for KeyHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for KeyHash {
    type Error = &'static str;

    fn try_from(text: String) -> Result<Self, Self::Error> {
        KeyHash::from_hex(&text).ok_or("a key hash is 64 lowercase hex digits")
    }
}

impl From<KeyHash> for String {
    fn from(hash: KeyHash) -> String {
        hash.0
    }
}

/// A well-formed secret presented by a client: its kind and the hash to look it up by.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PresentedKey {
    /// The kind, from the prefix.
    pub kind: KeyKind,
    /// The hash of the whole secret.
    pub hash: KeyHash,
}

/// Checks the form of a presented secret (prefix, length, alphabet, checksum) without any
/// lookup, and returns its kind and hash.
///
/// Accepts exactly the strings [`KeySecret::generate`] produces: no surrounding whitespace, no
/// non-canonical base64. Never panics, whatever the input.
pub fn parse_presented(text: &str) -> Result<PresentedKey, KeyFormatError> {
    let kind = KeyKind::from_secret_prefix(text).ok_or(KeyFormatError::UnknownPrefix)?;
    if text.len() != SECRET_LEN {
        return Err(KeyFormatError::WrongLength {
            expected: SECRET_LEN,
            actual: text.len(),
        });
    }
    if !text.is_ascii() {
        return Err(KeyFormatError::InvalidCharacters);
    }
    let bytes = text.as_bytes();
    let body_end = PREFIX_LEN + BODY_LEN;
    if bytes.get(body_end) != Some(&b'_') {
        return Err(KeyFormatError::InvalidCharacters);
    }
    let (Some(prefix_and_body), Some(body), Some(sum)) = (
        text.get(..body_end),
        text.get(PREFIX_LEN..body_end),
        text.get(body_end + 1..),
    ) else {
        return Err(KeyFormatError::InvalidCharacters);
    };
    match URL_SAFE_NO_PAD.decode(body) {
        Ok(random) if random.len() == RANDOM_BYTES => {}
        _ => return Err(KeyFormatError::InvalidCharacters),
    }
    if checksum(prefix_and_body) != sum {
        return Err(KeyFormatError::BadChecksum);
    }
    Ok(PresentedKey {
        kind,
        hash: KeyHash::of_secret(text),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn any_kind() -> impl Strategy<Value = KeyKind> {
        proptest::sample::select(KeyKind::ALL)
    }

    /// The random bytes inside a secret, decoded independently of `parse_presented`.
    fn random_of(secret: &str) -> Option<[u8; 32]> {
        let body = secret.get(PREFIX_LEN..PREFIX_LEN + BODY_LEN)?;
        URL_SAFE_NO_PAD.decode(body).ok()?.try_into().ok()
    }

    #[test]
    fn generated_secret_has_the_documented_shape() {
        let key = KeySecret::generate(KeyKind::Personal, [7u8; 32]);
        let s = key.secret.expose_secret();
        assert_eq!(s.len(), SECRET_LEN);
        assert_eq!(SECRET_LEN, 58);
        assert!(s.starts_with("arca_pk_"));
        assert_eq!(&s[51..52], "_");
        assert_eq!(key.hint, &s[54..]);
        assert_eq!(key.hash, KeyHash::of_secret(s));
        assert_eq!(key.hash.as_str().len(), 64);
        // Known answer: sha256 of the whole secret, hex.
        assert_eq!(key.hash.as_str(), hex::encode(Sha256::digest(s.as_bytes())));
        let parsed = parse_presented(s).unwrap();
        assert_eq!(parsed.kind, KeyKind::Personal);
        assert_eq!(parsed.hash, key.hash);
    }

    #[test]
    fn debug_output_is_redacted() {
        let key = KeySecret::generate(KeyKind::Service, [42u8; 32]);
        let secret = key.secret.expose_secret().to_owned();
        let body = &secret[PREFIX_LEN..PREFIX_LEN + BODY_LEN];
        for printed in [format!("{key:?}"), format!("{:?}", key.secret)] {
            assert!(!printed.contains(body), "{printed}");
            assert!(printed.contains("redacted"), "{printed}");
        }
    }

    #[test]
    fn rejections_name_the_problem() {
        assert_eq!(
            parse_presented("nvapi-xyz"),
            Err(KeyFormatError::UnknownPrefix)
        );
        assert_eq!(parse_presented(""), Err(KeyFormatError::UnknownPrefix));
        assert_eq!(
            parse_presented("arca_pk_short"),
            Err(KeyFormatError::WrongLength {
                expected: 58,
                actual: 13
            })
        );
        let good = KeySecret::generate(KeyKind::Legacy, [1u8; 32])
            .secret
            .into_string();
        let mut bad_sep = good.clone().into_bytes();
        bad_sep[51] = b'x';
        assert_eq!(
            parse_presented(std::str::from_utf8(&bad_sep).unwrap()),
            Err(KeyFormatError::InvalidCharacters)
        );
        let mut bad_sum = good.clone();
        bad_sum.pop();
        bad_sum.push(if good.ends_with('A') { 'B' } else { 'A' });
        assert_eq!(parse_presented(&bad_sum), Err(KeyFormatError::BadChecksum));
        let with_space = format!(" {}", &good[..SECRET_LEN - 1]);
        assert!(parse_presented(&with_space).is_err());
        // Same bytes under another prefix: the checksum covers the prefix.
        let other_kind = good.replacen("arca_lk_", "arca_pk_", 1);
        assert_eq!(
            parse_presented(&other_kind),
            Err(KeyFormatError::BadChecksum)
        );
    }

    #[test]
    fn key_hash_from_hex() {
        let h = KeyHash::of_secret("x");
        assert_eq!(KeyHash::from_hex(h.as_str()), Some(h.clone()));
        assert_eq!(KeyHash::from_hex("ABC"), None);
        assert_eq!(KeyHash::from_hex(&h.as_str().to_uppercase()), None);
        let json = serde_json::to_string(&h).unwrap();
        assert_eq!(serde_json::from_str::<KeyHash>(&json).unwrap(), h);
        assert!(serde_json::from_str::<KeyHash>("\"zz\"").is_err());
    }

    proptest! {
        // R-KEY-5
        #[test]
        fn round_trip(kind in any_kind(), random in any::<[u8; 32]>()) {
            let key = KeySecret::generate(kind, random);
            let parsed = parse_presented(key.secret.expose_secret()).unwrap();
            prop_assert_eq!(parsed.kind, kind);
            prop_assert_eq!(&parsed.hash, &key.hash);
            prop_assert_eq!(random_of(key.secret.expose_secret()), Some(random));
        }

        #[test]
        fn distinct_random_bytes_give_distinct_hashes(
            a in any::<[u8; 32]>(),
            b in any::<[u8; 32]>(),
        ) {
            prop_assume!(a != b);
            let ka = KeySecret::generate(KeyKind::Personal, a);
            let kb = KeySecret::generate(KeyKind::Personal, b);
            prop_assert_ne!(ka.hash, kb.hash);
        }

        #[test]
        fn a_flipped_character_is_rejected(
            kind in any_kind(),
            random in any::<[u8; 32]>(),
            position in 0..SECRET_LEN,
            replacement in any::<char>(),
        ) {
            let secret = KeySecret::generate(kind, random).secret.into_string();
            let original = secret.as_bytes()[position] as char;
            prop_assume!(replacement != original);
            let mut flipped = String::with_capacity(secret.len() + 4);
            flipped.push_str(&secret[..position]);
            flipped.push(replacement);
            flipped.push_str(&secret[position + 1..]);
            prop_assert!(parse_presented(&flipped).is_err(), "accepted {:?}", flipped);
        }

        #[test]
        fn arbitrary_strings_never_panic_and_only_generated_ones_pass(text in any::<String>()) {
            if let Ok(parsed) = parse_presented(&text) {
                let random = random_of(&text).expect("accepted text has a body");
                let regenerated = KeySecret::generate(parsed.kind, random);
                prop_assert_eq!(regenerated.secret.expose_secret(), text.as_str());
            }
        }

        #[test]
        fn near_misses_are_rejected_unless_generated(
            kind in any_kind(),
            body in "[A-Za-z0-9_-]{43}",
            sum in "[A-Za-z0-9_-]{6}",
        ) {
            let text = format!("{}{}_{}", kind.prefix(), body, sum);
            if let Ok(parsed) = parse_presented(&text) {
                let random = random_of(&text).expect("accepted text has a body");
                let regenerated = KeySecret::generate(parsed.kind, random);
                prop_assert_eq!(regenerated.secret.expose_secret(), text.as_str());
            }
        }
    }
}

//! A small macro for the closed vocabularies of this crate (roles, actions, services, …).
//!
//! Each vocabulary is a fieldless enum with one canonical wire name per variant (used by
//! `Display` and `Serialize`) and optional aliases accepted by `FromStr` and `Deserialize`.
//! Parsing is lenient about case, surrounding whitespace, `-` and inner spaces (all read as
//! `_`), so the guide's labels ("Org Owner", "Get Container") parse too.

/// Normalises a name for lookup: trimmed, ASCII upper case, `-` and spaces read as `_`.
pub(crate) fn normalize(s: &str) -> String {
    s.trim()
        .chars()
        .map(|c| match c {
            '-' | ' ' | '\t' => '_',
            c => c.to_ascii_uppercase(),
        })
        .collect()
}

/// Shortens user input before it is echoed in an error message.
pub(crate) fn echo(s: &str) -> String {
    const MAX: usize = 64;
    let trimmed = s.trim();
    match trimmed.char_indices().nth(MAX) {
        Some((cut, _)) => format!("{}…", &trimmed[..cut]),
        None => trimmed.to_owned(),
    }
}

/// Declares a wire vocabulary enum. See the module documentation.
macro_rules! wire_enum {
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident ($what:literal) {
            $(
                $(#[$vmeta:meta])*
                $variant:ident = $wire:literal $(| $alias:literal)*
            ),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        $vis enum $name {
            $(
                $(#[$vmeta])*
                $variant
            ),+
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The canonical wire name (what `Display` and `Serialize` produce).
            pub const fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $wire),+
                }
            }

            /// The canonical wire names, comma separated (for error messages).
            pub fn valid_names() -> String {
                let names: &[&str] = &[$($wire),+];
                names.join(", ")
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl ::std::str::FromStr for $name {
            type Err = $crate::error::AuthError;

            /// Parses a wire name or alias; case-insensitive, `-` and spaces read as `_`.
            fn from_str(s: &str) -> ::std::result::Result<Self, Self::Err> {
                match $crate::wire::normalize(s).as_str() {
                    $($wire $(| $alias)* => Ok($name::$variant),)+
                    _ => Err($crate::error::AuthError::UnknownName {
                        what: $what,
                        given: $crate::wire::echo(s),
                        valid: Self::valid_names(),
                    }),
                }
            }
        }

        impl ::serde::Serialize for $name {
            fn serialize<S: ::serde::Serializer>(
                &self,
                serializer: S,
            ) -> ::std::result::Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl<'de> ::serde::Deserialize<'de> for $name {
            fn deserialize<D: ::serde::Deserializer<'de>>(
                deserializer: D,
            ) -> ::std::result::Result<Self, D::Error> {
                let text = <::std::borrow::Cow<'de, str> as ::serde::Deserialize>::deserialize(
                    deserializer,
                )?;
                text.parse().map_err(::serde::de::Error::custom)
            }
        }
    };
}

pub(crate) use wire_enum;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalize_folds_case_dashes_and_spaces() {
        assert_eq!(normalize("  Org Owner "), "ORG_OWNER");
        assert_eq!(normalize("registry-read"), "REGISTRY_READ");
    }

    #[test]
    fn echo_truncates_long_input_on_char_boundary() {
        let long = "é".repeat(100);
        let e = echo(&long);
        assert_eq!(e.chars().count(), 65);
        assert!(e.ends_with('…'));
        assert_eq!(echo(" short "), "short");
    }
}

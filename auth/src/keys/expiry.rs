//! Key expiry choices and the usable / rejected decision (R-KEY-1, R-KEY-4, R-KEY-7).

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Months, SecondsFormat, TimeDelta, Utc};
use serde::{Deserialize, Serialize};

use crate::error::{AuthError, KeyRejection};
use crate::wire::echo;

/// The expiry a user picks for a key: the guide's choices, never, or a custom instant.
///
/// Text forms (`FromStr`, `Display`, serde): `1h`, `12h`, `24h`, `7d`, `14d`, `30d`, `3mo`,
/// `6mo`, `12mo`, `never`, or an RFC 3339 instant. Parsing is case-insensitive and also
/// accepts `3m`/`6m`/`12m` (months, never minutes) and the guide's labels such as "12 months",
/// "24 hours", "1 hour" and "Never Expire".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum ExpiryChoice {
    /// One hour.
    OneHour,
    /// Twelve hours.
    TwelveHours,
    /// Twenty-four hours.
    TwentyFourHours,
    /// Seven days.
    SevenDays,
    /// Fourteen days.
    FourteenDays,
    /// Thirty days.
    ThirtyDays,
    /// Three calendar months.
    ThreeMonths,
    /// Six calendar months.
    SixMonths,
    /// Twelve calendar months (the guide's default).
    #[default]
    TwelveMonths,
    /// Never expires.
    Never,
    /// Expires at this instant, which must be in the future when the key is made.
    Custom(DateTime<Utc>),
}

impl ExpiryChoice {
    /// Every choice except [`ExpiryChoice::Custom`], shortest first.
    pub const PRESETS: &'static [ExpiryChoice] = &[
        ExpiryChoice::OneHour,
        ExpiryChoice::TwelveHours,
        ExpiryChoice::TwentyFourHours,
        ExpiryChoice::SevenDays,
        ExpiryChoice::FourteenDays,
        ExpiryChoice::ThirtyDays,
        ExpiryChoice::ThreeMonths,
        ExpiryChoice::SixMonths,
        ExpiryChoice::TwelveMonths,
        ExpiryChoice::Never,
    ];

    /// The canonical short text of a preset (`None` for a custom instant).
    pub const fn preset_token(self) -> Option<&'static str> {
        Some(match self {
            ExpiryChoice::OneHour => "1h",
            ExpiryChoice::TwelveHours => "12h",
            ExpiryChoice::TwentyFourHours => "24h",
            ExpiryChoice::SevenDays => "7d",
            ExpiryChoice::FourteenDays => "14d",
            ExpiryChoice::ThirtyDays => "30d",
            ExpiryChoice::ThreeMonths => "3mo",
            ExpiryChoice::SixMonths => "6mo",
            ExpiryChoice::TwelveMonths => "12mo",
            ExpiryChoice::Never => "never",
            ExpiryChoice::Custom(_) => return None,
        })
    }

    /// When a key created at `now` with this choice expires; `None` means never.
    ///
    /// Hours and days are exact durations; months are calendar months (`chrono`'s
    /// `checked_add_months`: 31 January + 3 months is 30 April). A custom instant not after
    /// `now` is [`AuthError::ExpiryInPast`]; a date out of range is
    /// [`AuthError::ExpiryOutOfRange`].
    pub fn expires_at(self, now: DateTime<Utc>) -> Result<Option<DateTime<Utc>>, AuthError> {
        let hours = |n| TimeDelta::try_hours(n).and_then(|d| now.checked_add_signed(d));
        let days = |n| TimeDelta::try_days(n).and_then(|d| now.checked_add_signed(d));
        let months = |n| now.checked_add_months(Months::new(n));
        let at = match self {
            ExpiryChoice::OneHour => hours(1),
            ExpiryChoice::TwelveHours => hours(12),
            ExpiryChoice::TwentyFourHours => hours(24),
            ExpiryChoice::SevenDays => days(7),
            ExpiryChoice::FourteenDays => days(14),
            ExpiryChoice::ThirtyDays => days(30),
            ExpiryChoice::ThreeMonths => months(3),
            ExpiryChoice::SixMonths => months(6),
            ExpiryChoice::TwelveMonths => months(12),
            ExpiryChoice::Never => return Ok(None),
            ExpiryChoice::Custom(at) if at <= now => {
                return Err(AuthError::ExpiryInPast {
                    at: at.to_rfc3339_opts(SecondsFormat::AutoSi, true),
                })
            }
            ExpiryChoice::Custom(at) => Some(at),
        };
        at.map(Some).ok_or(AuthError::ExpiryOutOfRange)
    }
}

impl fmt::Display for ExpiryChoice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.preset_token(), self) {
            (Some(token), _) => f.write_str(token),
            (None, ExpiryChoice::Custom(at)) => {
                f.write_str(&at.to_rfc3339_opts(SecondsFormat::AutoSi, true))
            }
            (None, _) => Ok(()),
        }
    }
}

impl FromStr for ExpiryChoice {
    type Err = AuthError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let compact: String = text
            .chars()
            .filter(|c| !c.is_whitespace())
            .flat_map(char::to_lowercase)
            .collect();
        let preset = match compact.as_str() {
            "1h" | "1hour" => Some(ExpiryChoice::OneHour),
            "12h" | "12hours" => Some(ExpiryChoice::TwelveHours),
            "24h" | "24hours" => Some(ExpiryChoice::TwentyFourHours),
            "7d" | "7days" => Some(ExpiryChoice::SevenDays),
            "14d" | "14days" => Some(ExpiryChoice::FourteenDays),
            "30d" | "30days" => Some(ExpiryChoice::ThirtyDays),
            "3mo" | "3m" | "3months" => Some(ExpiryChoice::ThreeMonths),
            "6mo" | "6m" | "6months" => Some(ExpiryChoice::SixMonths),
            "12mo" | "12m" | "12months" => Some(ExpiryChoice::TwelveMonths),
            "never" | "neverexpire" | "neverexpires" => Some(ExpiryChoice::Never),
            _ => None,
        };
        if let Some(choice) = preset {
            return Ok(choice);
        }
        DateTime::parse_from_rfc3339(text.trim())
            .map(|at| ExpiryChoice::Custom(at.with_timezone(&Utc)))
            .map_err(|_| AuthError::InvalidExpiry { given: echo(text) })
    }
}

impl Serialize for ExpiryChoice {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for ExpiryChoice {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// The stored state of a key that decides whether it may be used now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyState {
    /// False when deactivated (R-KEY-4); can be set true again.
    pub active: bool,
    /// The expiry instant; `None` for never.
    pub expires_at: Option<DateTime<Utc>>,
}

impl KeyState {
    /// Whether the key is expired at `now` (an expiry instant is the first instant it is dead).
    pub fn is_expired(&self, now: DateTime<Utc>) -> bool {
        self.expires_at.is_some_and(|at| at <= now)
    }
}

/// Whether a key found by its hash may be used at `now` (R-KEY-7).
///
/// [`KeyRejection::Expired`] is reported before [`KeyRejection::Deactivated`] when both hold,
/// since reactivating would not help.
pub fn check_usable(state: &KeyState, now: DateTime<Utc>) -> Result<(), KeyRejection> {
    if state.is_expired(now) {
        Err(KeyRejection::Expired)
    } else if !state.active {
        Err(KeyRejection::Deactivated)
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use proptest::prelude::*;

    fn at(y: i32, m: u32, d: u32, h: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, m, d, h, 0, 0).unwrap()
    }

    // R-KEY-1
    #[test]
    fn presets_parse_and_print() {
        let texts = [
            "1h", "12h", "24h", "7d", "14d", "30d", "3mo", "6mo", "12mo", "never",
        ];
        assert_eq!(ExpiryChoice::PRESETS.len(), texts.len());
        for (choice, text) in ExpiryChoice::PRESETS.iter().zip(texts) {
            assert_eq!(choice.to_string(), text);
            assert_eq!(text.parse::<ExpiryChoice>().unwrap(), *choice);
        }
        assert_eq!(
            "3m".parse::<ExpiryChoice>().unwrap(),
            ExpiryChoice::ThreeMonths
        );
        assert_eq!(
            "6M".parse::<ExpiryChoice>().unwrap(),
            ExpiryChoice::SixMonths
        );
        assert_eq!(
            "12m".parse::<ExpiryChoice>().unwrap(),
            ExpiryChoice::TwelveMonths
        );
        assert_eq!(
            "12 months".parse::<ExpiryChoice>().unwrap(),
            ExpiryChoice::TwelveMonths
        );
        assert_eq!(
            "Never Expire".parse::<ExpiryChoice>().unwrap(),
            ExpiryChoice::Never
        );
        assert_eq!(
            "1 hour".parse::<ExpiryChoice>().unwrap(),
            ExpiryChoice::OneHour
        );
        assert_eq!(ExpiryChoice::default(), ExpiryChoice::TwelveMonths);
    }

    #[test]
    fn custom_instants_parse_print_and_serialize() {
        let c: ExpiryChoice = "2030-01-31T12:00:00+02:00".parse().unwrap();
        assert_eq!(c, ExpiryChoice::Custom(at(2030, 1, 31, 10)));
        assert_eq!(c.to_string(), "2030-01-31T10:00:00Z");
        let json = serde_json::to_string(&c).unwrap();
        assert_eq!(json, "\"2030-01-31T10:00:00Z\"");
        assert_eq!(serde_json::from_str::<ExpiryChoice>(&json).unwrap(), c);
        assert_eq!(
            serde_json::from_str::<ExpiryChoice>("\"7d\"").unwrap(),
            ExpiryChoice::SevenDays
        );
        let err = "5 fortnights".parse::<ExpiryChoice>().unwrap_err();
        assert!(matches!(err, AuthError::InvalidExpiry { .. }));
        assert!(err.to_string().contains("5 fortnights"));
    }

    #[test]
    fn expiry_arithmetic() {
        let now = at(2025, 1, 31, 8);
        let exp = |c: ExpiryChoice| c.expires_at(now).unwrap();
        assert_eq!(exp(ExpiryChoice::OneHour), Some(at(2025, 1, 31, 9)));
        assert_eq!(exp(ExpiryChoice::TwelveHours), Some(at(2025, 1, 31, 20)));
        assert_eq!(exp(ExpiryChoice::TwentyFourHours), Some(at(2025, 2, 1, 8)));
        assert_eq!(exp(ExpiryChoice::SevenDays), Some(at(2025, 2, 7, 8)));
        assert_eq!(exp(ExpiryChoice::FourteenDays), Some(at(2025, 2, 14, 8)));
        assert_eq!(exp(ExpiryChoice::ThirtyDays), Some(at(2025, 3, 2, 8)));
        // Calendar months clamp to the end of a shorter month.
        assert_eq!(exp(ExpiryChoice::ThreeMonths), Some(at(2025, 4, 30, 8)));
        assert_eq!(exp(ExpiryChoice::SixMonths), Some(at(2025, 7, 31, 8)));
        assert_eq!(exp(ExpiryChoice::TwelveMonths), Some(at(2026, 1, 31, 8)));
        assert_eq!(exp(ExpiryChoice::Never), None);
        assert_eq!(
            exp(ExpiryChoice::Custom(at(2025, 2, 1, 0))),
            Some(at(2025, 2, 1, 0))
        );
    }

    #[test]
    fn custom_expiry_must_be_in_the_future() {
        let now = at(2025, 1, 31, 8);
        for past in [now, at(2020, 1, 1, 0)] {
            let err = ExpiryChoice::Custom(past).expires_at(now).unwrap_err();
            assert!(matches!(err, AuthError::ExpiryInPast { .. }), "{err:?}");
        }
    }

    #[test]
    fn out_of_range_expiry_is_an_error() {
        let now = DateTime::<Utc>::MAX_UTC;
        assert_eq!(
            ExpiryChoice::TwelveMonths.expires_at(now),
            Err(AuthError::ExpiryOutOfRange)
        );
        assert_eq!(
            ExpiryChoice::OneHour.expires_at(now),
            Err(AuthError::ExpiryOutOfRange)
        );
        assert_eq!(ExpiryChoice::Never.expires_at(now), Ok(None));
    }

    // R-KEY-4, R-KEY-7
    #[test]
    fn usable_keys() {
        let now = at(2025, 6, 1, 0);
        let live = KeyState {
            active: true,
            expires_at: Some(at(2025, 6, 1, 1)),
        };
        assert_eq!(check_usable(&live, now), Ok(()));
        let forever = KeyState {
            active: true,
            expires_at: None,
        };
        assert_eq!(check_usable(&forever, now), Ok(()));
        let off = KeyState {
            active: false,
            ..live
        };
        assert_eq!(check_usable(&off, now), Err(KeyRejection::Deactivated));
        let expired = KeyState {
            active: true,
            expires_at: Some(now),
        };
        assert_eq!(check_usable(&expired, now), Err(KeyRejection::Expired));
        let both = KeyState {
            active: false,
            ..expired
        };
        assert_eq!(check_usable(&both, now), Err(KeyRejection::Expired));
    }

    proptest! {
        #[test]
        fn from_str_never_panics(text in any::<String>()) {
            let _ = text.parse::<ExpiryChoice>();
        }

        #[test]
        fn from_str_never_panics_on_date_like_text(text in "[0-9T:+.zZ -]{0,40}") {
            let _ = text.parse::<ExpiryChoice>();
        }

        #[test]
        fn expiry_is_after_now_or_never(
            secs in 0i64..4_000_000_000,
            index in 0usize..10,
        ) {
            let now = DateTime::<Utc>::from_timestamp(secs, 0).unwrap();
            let choice = ExpiryChoice::PRESETS[index];
            match choice.expires_at(now).unwrap() {
                Some(at) => prop_assert!(at > now),
                None => prop_assert_eq!(choice, ExpiryChoice::Never),
            }
        }

        #[test]
        fn custom_round_trips_through_text(
            secs in 0i64..4_000_000_000,
            nanos in 0u32..1_000_000_000,
        ) {
            let instant = DateTime::<Utc>::from_timestamp(secs, nanos).unwrap();
            let choice = ExpiryChoice::Custom(instant);
            prop_assert_eq!(choice.to_string().parse::<ExpiryChoice>().unwrap(), choice);
        }

        #[test]
        fn key_is_usable_iff_active_and_unexpired(
            active in any::<bool>(),
            expiry_offset in proptest::option::of(-1000i64..1000),
        ) {
            let now = at(2025, 6, 1, 0);
            let state = KeyState {
                active,
                expires_at: expiry_offset.map(|s| now + TimeDelta::seconds(s)),
            };
            let unexpired = !matches!(expiry_offset, Some(s) if s <= 0);
            prop_assert_eq!(check_usable(&state, now).is_ok(), active && unexpired);
        }
    }
}

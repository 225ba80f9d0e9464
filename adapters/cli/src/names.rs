//! Arca's naming rule for org and team ids.

/// Longest org or team id.
pub const MAX_NAME_LEN: usize = 64;

/// Checks an org or team id against Arca's naming rule, `^[a-z0-9][a-z0-9_-]{0,63}$`.
///
/// `kind` ("org", "team") names the thing in the error message.
pub fn validate_name(kind: &str, value: &str) -> Result<(), String> {
    let mut chars = value.chars();
    let first_ok = chars
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
    let rest_ok =
        chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_');
    if first_ok && rest_ok && value.len() <= MAX_NAME_LEN {
        Ok(())
    } else {
        Err(format!(
            "invalid {kind} name {value:?}: use 1 to {MAX_NAME_LEN} characters among lowercase \
             letters, digits, '-' and '_', starting with a letter or digit"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_valid_names() {
        for ok in ["a", "0", "acme", "nv-team_1", &"a".repeat(64)] {
            assert!(validate_name("org", ok).is_ok(), "{ok}");
        }
    }

    #[test]
    fn rejects_invalid_names_with_a_clear_message() {
        for bad in [
            "",
            "Acme",
            "-a",
            "_a",
            "a b",
            "a.b",
            "é",
            "a/b",
            &"a".repeat(65),
        ] {
            let err = validate_name("team", bad).unwrap_err();
            assert!(err.starts_with("invalid team name"), "{err}");
        }
    }
}

//! Small helpers shared by the parsers.

/// Client input echoed in an error message: at most `max` characters, control characters
/// escaped (`\n`, `\u{1b}`), `...` appended when cut.
pub(crate) fn clip(s: &str, max: usize) -> String {
    let mut out = String::new();
    for c in s.chars().take(max) {
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    if s.chars().nth(max).is_some() {
        out.push_str("...");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::clip;

    #[test]
    fn clips_and_escapes() {
        assert_eq!(clip("abc", 3), "abc");
        assert_eq!(clip("abcd", 3), "abc...");
        assert_eq!(clip("a\nb", 8), "a\\nb");
        assert_eq!(clip("", 8), "");
        assert_eq!(clip("\"é\u{1b}", 8), "\"é\\u{1b}");
    }
}

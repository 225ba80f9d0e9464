//! Reading what the server prints: ANSI colours, API keys, the CA path.

/// The prefix of every Arca API key secret (R-KEY-5: recognizable by secret scanners).
pub const KEY_PREFIX: &str = "arca_pk_";

/// `text` without ANSI escape sequences (the server colours its text logs even when they go to
/// a file).
pub fn strip_ansi(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\u{1b}' {
            out.push(c);
            continue;
        }
        match chars.peek() {
            // CSI: ESC [ parameters… final byte in 0x40..=0x7e.
            Some('[') => {
                chars.next();
                for c in chars.by_ref() {
                    if ('\u{40}'..='\u{7e}').contains(&c) {
                        break;
                    }
                }
            }
            // Any other two-character escape.
            Some(_) => {
                chars.next();
            }
            None => {}
        }
    }
    out
}

/// Whether `token` looks like an API key secret: the prefix, then at least 16 characters of
/// the URL-safe alphabet.
pub fn is_api_key(token: &str) -> bool {
    token.strip_prefix(KEY_PREFIX).is_some_and(|rest| {
        rest.len() >= 16
            && rest
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    })
}

/// The key of the server's first-start banner: the first line consisting of whitespace
/// followed by a key and nothing else, as in
///
/// ```text
/// API key for admin@localhost (shown only this once, store it now):
///   arca_pk_…
/// ```
pub fn banner_key(stdout: &str) -> Option<String> {
    stdout.lines().find_map(|line| {
        let token = line.trim();
        (line.starts_with(char::is_whitespace) && is_api_key(token)).then(|| token.to_string())
    })
}

/// Every key-looking token in `text`, in order (to check that no key leaks where it should
/// not be).
pub fn api_keys_in(text: &str) -> Vec<String> {
    let mut keys = Vec::new();
    let mut rest = text;
    while let Some(pos) = rest.find(KEY_PREFIX) {
        let tail = &rest[pos..];
        let end = tail
            .char_indices()
            .find(|(_, c)| !(c.is_ascii_alphanumeric() || *c == '-' || *c == '_'))
            .map_or(tail.len(), |(i, _)| i);
        keys.push(tail[..end].to_string());
        rest = &tail[end.max(KEY_PREFIX.len())..];
    }
    keys
}

/// The CA certificate path the server prints with `--tls-self-signed`
/// (`… Trust it with: --ca-file <path> (arca) …`).
pub fn ca_file_path(stdout: &str) -> Option<String> {
    stdout.lines().find_map(|line| {
        let (_, rest) = line.split_once("--ca-file ")?;
        rest.split_whitespace().next().map(str::to_string)
    })
}

/// The last `n` lines of `text`.
pub fn tail(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strips_colours() {
        let line = "\u{1b}[2m2026\u{1b}[0m \u{1b}[32m INFO\u{1b}[0m server stopped";
        assert_eq!(strip_ansi(line), "2026  INFO server stopped");
        assert_eq!(strip_ansi("plain"), "plain");
    }

    #[test]
    fn finds_the_banner_key_only_on_its_own_line() {
        let out = "First start\nAPI key:\n  arca_pk_0123456789abcdefXYZ_-\n  arca config set --api-key arca_pk_zzzzzzzzzzzzzzzzzzzz\n";
        assert_eq!(
            banner_key(out).as_deref(),
            Some("arca_pk_0123456789abcdefXYZ_-")
        );
        assert_eq!(banner_key("Arca is listening on http://x\n"), None);
        assert_eq!(banner_key("arca_pk_0123456789abcdefXYZ\n"), None);
    }

    #[test]
    fn lists_keys_in_text() {
        let text = "a arca_pk_0123456789abcdef. b=arca_pk_ZZZZZZZZZZZZZZZZ_x\narca_pk_";
        assert_eq!(
            api_keys_in(text),
            [
                "arca_pk_0123456789abcdef",
                "arca_pk_ZZZZZZZZZZZZZZZZ_x",
                "arca_pk_"
            ]
        );
    }

    #[test]
    fn finds_the_ca_path() {
        let out = "HTTPS with a generated CA. Trust it with: --ca-file /d/tls/ca.pem (arca), X\n";
        assert_eq!(ca_file_path(out).as_deref(), Some("/d/tls/ca.pem"));
        assert_eq!(ca_file_path("nothing"), None);
    }
}

//! A minimal YAML emitter for `index.yaml`.
//!
//! `index.yaml` can hold tens of thousands of versions and is regenerated often, so it is written
//! straight into a `String` instead of going through a generic serializer. Only two scalar forms
//! are produced: plain, for text that every YAML 1.1 and 1.2 parser reads back as the same
//! string, and double-quoted with escapes for everything else. Arbitrary values (dependency
//! `import-values`) are written in flow style.

use std::fmt::Write as _;

/// Keys longer than this use the explicit `? key` form: YAML limits implicit keys to 1024
/// characters, and libyaml enforces it.
const MAX_IMPLICIT_KEY: usize = 1000;

/// Words that YAML 1.1 resolves to booleans or null when plain.
const RESERVED: &[&str] = &["y", "yes", "n", "no", "true", "false", "on", "off", "null"];

/// Whether `s` may be written as a plain scalar and still read back as this exact string.
fn is_plain_safe(s: &str) -> bool {
    let bytes = s.as_bytes();
    let Some(&first) = bytes.first() else {
        return false;
    };
    if !(first.is_ascii_alphabetic() || first == b'/') || bytes.len() > MAX_IMPLICIT_KEY {
        return false;
    }
    if bytes.last() == Some(&b' ') || bytes.last() == Some(&b':') {
        return false;
    }
    let allowed = |b: u8| b.is_ascii_alphanumeric() || b" -._/+:@=,;()".contains(&b);
    if !bytes.iter().all(|&b| allowed(b)) {
        return false;
    }
    if s.contains(": ") {
        return false;
    }
    !RESERVED.iter().any(|w| w.eq_ignore_ascii_case(s))
}

/// Writes `s` double-quoted, escaping quotes, backslashes, line breaks and every character that
/// is not printable in YAML.
pub(crate) fn write_quoted(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if (c as u32) < 0x20
                || ('\u{7f}'..='\u{9f}').contains(&c)
                || matches!(
                    c,
                    '\u{2028}' | '\u{2029}' | '\u{feff}' | '\u{fffe}' | '\u{ffff}'
                ) =>
            {
                let _ = write!(out, "\\u{:04X}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Writes a scalar value (after `key: ` or `- `).
pub(crate) fn write_scalar(out: &mut String, s: &str) {
    if is_plain_safe(s) {
        out.push_str(s);
    } else {
        write_quoted(out, s);
    }
}

/// Writes `key:` at `indent`, using the explicit form for keys too long to be implicit; the
/// caller then writes ` value` or a newline and a nested block.
pub(crate) fn write_key(out: &mut String, indent: usize, key: &str) {
    push_indent(out, indent);
    if key.len() > MAX_IMPLICIT_KEY {
        out.push_str("? ");
        write_quoted(out, key);
        out.push('\n');
        push_indent(out, indent);
        out.push(':');
    } else {
        write_scalar(out, key);
        out.push(':');
    }
}

/// Writes `indent` spaces.
pub(crate) fn push_indent(out: &mut String, indent: usize) {
    for _ in 0..indent {
        out.push(' ');
    }
}

/// Writes a JSON value in YAML flow style (`{"child": "a", "parent": "b"}`), which every YAML
/// parser reads back as the same value.
pub(crate) fn write_flow(out: &mut String, v: &serde_json::Value) {
    match v {
        serde_json::Value::Null => out.push_str("null"),
        serde_json::Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        serde_json::Value::Number(n) => {
            let _ = write!(out, "{n}");
        }
        serde_json::Value::String(s) => write_quoted(out, s),
        serde_json::Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_flow(out, item);
            }
            out.push(']');
        }
        serde_json::Value::Object(map) => {
            out.push('{');
            for (i, (k, item)) in map.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_quoted(out, k);
                out.push_str(": ");
                write_flow(out, item);
            }
            out.push('}');
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn roundtrip(s: &str) -> String {
        let mut doc = String::from("k: ");
        write_scalar(&mut doc, s);
        doc.push('\n');
        let v: std::collections::BTreeMap<String, String> =
            serde_yaml_ng::from_str(&doc).unwrap_or_else(|e| panic!("{doc:?}: {e}"));
        v["k"].clone()
    }

    #[test]
    fn plain_only_when_unambiguous() {
        assert!(is_plain_safe("nginx"));
        assert!(is_plain_safe("https://example.com/a.tgz"));
        assert!(is_plain_safe("A web server"));
        assert!(is_plain_safe("/api/acme"));
        for s in [
            "",
            "1.0",
            "1.2.3",
            "yes",
            "No",
            "null",
            "true",
            "~",
            "-x",
            "a: b",
            "a #b",
            "a:",
            "a ",
            " a",
            "é",
            ".inf",
            "0x1F",
            "2024-01-01",
        ] {
            assert!(!is_plain_safe(s), "{s:?} must be quoted");
        }
    }

    #[test]
    fn scalars_read_back_unchanged() {
        for s in [
            "plain",
            "/api/x",
            "/",
            "1.0",
            "yes",
            "a: b",
            "quote \" and \\ backslash",
            "line\nbreak\ttab\r",
            "\u{0}\u{7}\u{7f}\u{85}\u{2028}\u{feff}\u{ffff}",
            "ünïcödé 🚀",
            "",
            "#comment",
            "- item",
            "{flow}",
            "'single'",
            "%TAG",
            "@at",
            "`tick",
        ] {
            assert_eq!(roundtrip(s), s);
        }
    }

    #[test]
    fn long_keys_use_the_explicit_form() {
        let key = "k".repeat(5000);
        let mut doc = String::new();
        write_key(&mut doc, 0, &key);
        doc.push_str(" v\n");
        assert!(doc.starts_with("? "));
        let v: std::collections::BTreeMap<String, String> = serde_yaml_ng::from_str(&doc).unwrap();
        assert_eq!(v[&key], "v");
    }

    #[test]
    fn flow_values_read_back_unchanged() {
        let v =
            serde_json::json!([{"child": "a:b", "parent": "x\ny"}, "data", [1, true, null], {}]);
        let mut doc = String::from("k: ");
        write_flow(&mut doc, &v);
        doc.push('\n');
        let back: std::collections::BTreeMap<String, serde_json::Value> =
            serde_yaml_ng::from_str(&doc).unwrap();
        assert_eq!(back["k"], v);
    }
}

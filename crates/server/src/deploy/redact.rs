//! The redactor every log line passes before it is stored: each occurrence of a known secret
//! becomes `[secret]`.
//!
//! Lines reach it whole (the process reader splits output at newlines only, however it was
//! written), so a secret printed in pieces is still caught. A multi-line secret (an SSH key) is
//! known line by line too, since it is stored line by line. A secret is also known in the forms
//! a program is likely to print it in: base64 (standard and URL-safe, at any alignment inside a
//! longer encoded text), percent-encoded and JSON-escaped; and it is found even when terminal
//! escape codes (colours) were printed in the middle of it.

use aho_corasick::AhoCorasick;
use base64::Engine;
use base64::engine::general_purpose::{STANDARD_NO_PAD, URL_SAFE_NO_PAD};
use keyless_api_types::secret::REDACTED;

/// Encoded forms shorter than this are not learnt: they would mask ordinary text.
const MIN_ENCODED: usize = 6;

/// The secrets of one deployment, each in every form it is looked for in, and one automaton
/// that finds them all in a single pass over a line (every line of a deployment passes here).
#[derive(Debug, Default)]
pub struct Redactor {
    secrets: Vec<String>,
    matcher: Option<AhoCorasick>,
}

impl Redactor {
    /// Learns a secret: the whole value and each of its lines, each with its encoded forms.
    /// Blank values are ignored.
    pub fn add(&mut self, secret: &str) {
        let parts = std::iter::once(secret).chain(secret.lines());
        for part in parts {
            let part = part.trim_matches(['\r', '\n']);
            if part.trim().is_empty() {
                continue;
            }
            self.learn(part.to_owned());
            for form in encoded_forms(part) {
                if form.len() >= MIN_ENCODED {
                    self.learn(form);
                }
            }
        }
        // Secrets are learnt a few times per deployment; lines are redacted by the million.
        self.matcher = AhoCorasick::new(&self.secrets).ok();
    }

    fn learn(&mut self, form: String) {
        if !self.secrets.contains(&form) {
            self.secrets.push(form);
        }
    }

    /// `text` with every occurrence of a secret replaced; overlapping occurrences become one
    /// `[secret]`. Escape sequences inside an occurrence are replaced with it.
    pub fn redact(&self, text: &str) -> String {
        let Some(matcher) = &self.matcher else {
            return match self.secrets.is_empty() {
                true => text.to_owned(),
                // The automaton could not be built: nothing may pass unchecked.
                false => "[line withheld: the redactor failed]".to_owned(),
            };
        };
        let visible = Visible::of(text);
        let mut ranges: Vec<(usize, usize)> = matcher
            .find_overlapping_iter(visible.text.as_ref())
            .map(|found| visible.original(found.start(), found.end()))
            .collect();
        if ranges.is_empty() {
            return text.to_owned();
        }
        ranges.sort_unstable();
        let mut out = String::with_capacity(text.len());
        let mut copied = 0;
        let mut covered = 0;
        for (start, end) in ranges {
            if start >= covered {
                out.push_str(&text[copied..start]);
                out.push_str(REDACTED);
                copied = end;
                covered = end;
            } else if end > covered {
                // Overlaps the previous match: extend the redaction.
                copied = end;
                covered = end;
            }
        }
        out.push_str(&text[copied..]);
        out
    }
}

/// Text with its terminal escape sequences (`ESC [ … final`, and two-byte `ESC x`) taken out,
/// and where each of its bytes was in the original.
struct Visible<'a> {
    text: std::borrow::Cow<'a, str>,
    /// The original offset of each byte of `text`, and one past the end; empty when `text` is
    /// the original.
    offsets: Vec<usize>,
}

impl<'a> Visible<'a> {
    fn of(original: &'a str) -> Self {
        if !original.contains('\x1b') {
            return Self {
                text: original.into(),
                offsets: Vec::new(),
            };
        }
        let bytes = original.as_bytes();
        let mut text = Vec::with_capacity(bytes.len());
        let mut offsets = Vec::with_capacity(bytes.len() + 1);
        let mut i = 0;
        while i < bytes.len() {
            if bytes[i] == 0x1b {
                i += 1;
                if bytes.get(i) == Some(&b'[') {
                    i += 1;
                    while i < bytes.len() && !(0x40..=0x7e).contains(&bytes[i]) {
                        i += 1;
                    }
                }
                i += 1;
                continue;
            }
            text.push(bytes[i]);
            offsets.push(i);
            i += 1;
        }
        offsets.push(bytes.len());
        match String::from_utf8(text) {
            Ok(text) => Self {
                text: text.into(),
                offsets,
            },
            // A malformed sequence took part of a character with it: look at the text as it is.
            Err(_) => Self {
                text: original.into(),
                offsets: Vec::new(),
            },
        }
    }

    /// The original byte range of `start..end` in the visible text. Characters are copied
    /// byte by byte (escape sequences are ASCII and never split one), so the byte after the
    /// last one's original is the range's end.
    fn original(&self, start: usize, end: usize) -> (usize, usize) {
        if self.offsets.is_empty() {
            return (start, end);
        }
        (self.offsets[start], self.offsets[end - 1] + 1)
    }
}

/// The forms a secret is commonly printed in besides itself.
fn encoded_forms(secret: &str) -> Vec<String> {
    let mut forms = Vec::new();
    for engine in [&STANDARD_NO_PAD, &URL_SAFE_NO_PAD] {
        forms.extend(base64_fragments(engine, secret.as_bytes()));
    }
    forms.push(percent_encoded(secret, false));
    forms.push(percent_encoded(secret, true));
    let json = serde_json::to_string(secret).unwrap_or_default();
    forms.push(json[1..json.len().saturating_sub(1).max(1)].to_owned());
    forms.push(ascii_json(secret));
    forms.retain(|form| form != secret);
    forms
}

/// The part of the base64 encoding of `secret` that is the same wherever it sits in a longer
/// encoded text: for each of the three alignments, the characters made of its bytes alone.
fn base64_fragments(engine: &impl Engine, secret: &[u8]) -> Vec<String> {
    (0..3)
        .map(|offset| {
            let mut bytes = vec![0u8; offset];
            bytes.extend_from_slice(secret);
            let encoded = engine.encode(&bytes);
            // Characters holding bits of the padding bytes before, or of the bytes after.
            let skip = [0, 2, 3][offset];
            let whole = bytes.len() * 8 / 6;
            encoded
                .get(skip..whole.max(skip))
                .unwrap_or_default()
                .to_owned()
        })
        .collect()
}

/// `secret` percent-encoded as URLs and forms do: every byte but the unreserved ones, with
/// upper- or lower-case hex digits.
fn percent_encoded(secret: &str, lower: bool) -> String {
    let mut out = String::with_capacity(secret.len() * 3);
    for &byte in secret.as_bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
            out.push(byte as char);
        } else if lower {
            out.push_str(&format!("%{byte:02x}"));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// `secret` as a JSON string's contents with every non-ASCII character escaped as `\uXXXX`
/// (Python's `json.dumps` default).
fn ascii_json(secret: &str) -> String {
    let json = serde_json::to_string(secret).unwrap_or_default();
    let inner = &json[1..json.len().saturating_sub(1).max(1)];
    let mut out = String::with_capacity(inner.len());
    for c in inner.chars() {
        if c.is_ascii() {
            out.push(c);
        } else {
            let mut units = [0u16; 2];
            for unit in c.encode_utf16(&mut units) {
                out.push_str(&format!("\\u{unit:04x}"));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn redactor(secrets: &[&str]) -> Redactor {
        let mut r = Redactor::default();
        for s in secrets {
            r.add(s);
        }
        r
    }

    #[test]
    fn replaces_every_occurrence() {
        let r = redactor(&["hunter2"]);
        assert_eq!(
            r.redact("pw=hunter2 again hunter2\n"),
            "pw=[secret] again [secret]\n"
        );
        assert_eq!(r.redact("nothing here"), "nothing here");
    }

    #[test]
    fn overlapping_and_nested_secrets_leave_nothing_behind() {
        let r = redactor(&["abcdef", "defghi", "cd"]);
        assert_eq!(r.redact("xxabcdefghiyy"), "xx[secret]yy");
        assert_eq!(r.redact("cd"), "[secret]");
        // A secret that is a substring of the marker does not mangle earlier redactions.
        let r = redactor(&["secret", "token-1"]);
        assert_eq!(r.redact("token-1 secret"), "[secret] [secret]");
    }

    #[test]
    fn multi_line_secrets_are_redacted_line_by_line() {
        let key = "-----BEGIN KEY-----\nAAAAbbbbCCCC\r\nddddEEEE\n-----END KEY-----\n";
        let r = redactor(&[key]);
        for line in key.lines() {
            assert_eq!(r.redact(&format!("{line}\n")), "[secret]\n", "{line}");
        }
        assert_eq!(r.redact(key), "[secret]\n");
    }

    #[test]
    fn blank_secrets_are_ignored() {
        let r = redactor(&["", "  ", "\n"]);
        assert_eq!(r.redact("a b\n"), "a b\n");
    }

    #[test]
    fn non_ascii_text_around_secrets() {
        let r = redactor(&["clé-secrète"]);
        assert_eq!(r.redact("→ clé-secrète ←"), "→ [secret] ←");
    }

    const SECRET: &str = "s3cr3t/v4lue+with \"quotes\" & é";

    fn leaks(printed: &str) -> bool {
        redactor(&[SECRET]).redact(printed) == printed
    }

    #[test]
    fn base64_forms_at_any_alignment() {
        for prefix in ["", "u", "us", "user:", "user:x"] {
            for suffix in ["", "\n", ":tail", "xy"] {
                let plain = format!("{prefix}{SECRET}{suffix}");
                for engine in [
                    &base64::engine::general_purpose::STANDARD,
                    &base64::engine::general_purpose::URL_SAFE,
                ] {
                    let printed = format!("token {}", engine.encode(&plain));
                    assert!(!leaks(&printed), "{prefix:?}+{suffix:?}: {printed}");
                }
            }
        }
    }

    #[test]
    fn percent_and_json_forms() {
        let r = redactor(&[SECRET]);
        for printed in [
            percent_encoded(SECRET, false),
            percent_encoded(SECRET, true),
            serde_json::to_string(SECRET).expect("json"),
            format!("\"{}\"", ascii_json(SECRET)),
            serde_json::to_string(&serde_json::json!({"password": SECRET})).expect("json"),
        ] {
            let redacted = r.redact(&printed);
            assert!(redacted.contains(REDACTED), "{printed} → {redacted}");
            assert!(!redacted.contains("v4lue"), "{printed} → {redacted}");
        }
    }

    #[test]
    fn colour_codes_inside_a_secret_are_redacted_with_it() {
        let r = redactor(&["hunter22"]);
        assert_eq!(
            r.redact("pw=\x1b[31mhun\x1b[0mter22 ok\n"),
            "pw=\x1b[31m[secret] ok\n"
        );
        assert_eq!(
            r.redact("\x1b[1mbold\x1b[0m hunter22"),
            "\x1b[1mbold\x1b[0m [secret]"
        );
        let r = redactor(&["clé-secrète"]);
        assert_eq!(r.redact("→ clé\x1b[32m-secrète ←"), "→ [secret] ←");
        // An escape sequence that swallows part of a character does not break redaction.
        assert_eq!(
            r.redact("\x1b[\u{e9}m clé-secrète"),
            "\x1b[\u{e9}m [secret]"
        );
    }

    #[test]
    fn a_secret_overlapping_itself_is_redacted_whole() {
        let r = redactor(&["abab"]);
        assert_eq!(r.redact("xababab y"), "x[secret] y");
    }

    #[test]
    fn short_encodings_are_not_learnt() {
        let r = redactor(&["ab"]);
        assert_eq!(r.redact("YWI= is not redacted"), "YWI= is not redacted");
    }
}

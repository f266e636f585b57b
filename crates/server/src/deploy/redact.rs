//! The redactor every log line passes before it is stored: each occurrence of a known secret
//! becomes `[secret]`.
//!
//! Lines reach it whole (the process reader splits output at newlines only, however it was
//! written), so a secret printed in pieces is still caught. A multi-line secret (an SSH key) is
//! known line by line too, since it is stored line by line.

use keyless_api_types::secret::REDACTED;

/// The secrets of one deployment.
#[derive(Debug, Default)]
pub struct Redactor {
    secrets: Vec<String>,
}

impl Redactor {
    /// Learns a secret: the whole value and each of its lines. Blank values are ignored.
    pub fn add(&mut self, secret: &str) {
        let parts = std::iter::once(secret).chain(secret.lines());
        for part in parts {
            let part = part.trim_matches(['\r', '\n']);
            if !part.trim().is_empty() && !self.secrets.iter().any(|s| s == part) {
                self.secrets.push(part.to_owned());
            }
        }
    }

    /// `text` with every occurrence of a secret replaced; overlapping occurrences become one
    /// `[secret]`.
    pub fn redact(&self, text: &str) -> String {
        let mut ranges: Vec<(usize, usize)> = self
            .secrets
            .iter()
            .flat_map(|secret| {
                text.match_indices(secret.as_str())
                    .map(|(start, found)| (start, start + found.len()))
            })
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
}

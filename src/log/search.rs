//! Search over the whole log, collapsed steps included: plain text (case-insensitive for ASCII
//! letters unless asked otherwise) in Rust, or a regular expression run by the browser's own
//! `RegExp` (the `regex` crate would weigh more than the rest of the console).

use super::LogText;

/// The most matches kept; the count says "or more" beyond it.
pub const MAX_MATCHES: usize = 1_000_000;

/// One match: a byte range of one line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Match {
    pub line: u32,
    pub start: u32,
    pub end: u32,
}

/// What to look for.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Query {
    pub text: String,
    pub regex: bool,
    pub case_sensitive: bool,
}

/// The matches of `query` in lines `from_line..` of `log`, appended to `out` (at most
/// [`MAX_MATCHES`] in all). A bad regular expression is an error for the user.
pub fn find(
    log: &LogText,
    query: &Query,
    from_line: usize,
    out: &mut Vec<Match>,
) -> Result<(), String> {
    if query.text.is_empty() || from_line >= log.len() {
        return Ok(());
    }
    if query.regex {
        find_regex(log, query, from_line, out)
    } else {
        find_text(log, &query.text, query.case_sensitive, from_line, out);
        Ok(())
    }
}

/// The matches within line `line`, from a sorted match list.
pub fn in_line(matches: &[Match], line: u32) -> &[Match] {
    let from = matches.partition_point(|m| m.line < line);
    let to = from + matches[from..].partition_point(|m| m.line == line);
    &matches[from..to]
}

/// The first match at or after line `line`, wrapping round to the first.
pub fn first_from(matches: &[Match], line: u32) -> Option<usize> {
    if matches.is_empty() {
        return None;
    }
    let index = matches.partition_point(|m| m.line < line);
    Some(if index == matches.len() { 0 } else { index })
}

fn find_text(
    log: &LogText,
    needle: &str,
    case_sensitive: bool,
    from_line: usize,
    out: &mut Vec<Match>,
) {
    let text = log.text().as_bytes();
    let needle = needle.as_bytes();
    let fold = !case_sensitive;
    let cases = |b: u8| {
        if fold {
            (b.to_ascii_lowercase(), b.to_ascii_uppercase())
        } else {
            (b, b)
        }
    };
    let pair = Pair {
        first: cases(needle[0]),
        last: cases(needle[needle.len() - 1]),
        gap: needle.len() - 1,
    };
    let is_match = |start: usize| {
        let end = start + needle.len();
        end <= text.len()
            && if fold {
                text[start..end].eq_ignore_ascii_case(needle)
            } else {
                &text[start..end] == needle
            }
    };
    let mut at = log.start(from_line);
    let mut line = from_line;
    while out.len() < MAX_MATCHES {
        let Some(start) = pair.find(text, at, is_match) else {
            break;
        };
        let end = start + needle.len();
        if text[start..end].contains(&b'\n') {
            at = start + 1;
            continue;
        }
        while line + 1 < log.len() && log.start(line + 1) <= start {
            line += 1;
        }
        let line_start = log.start(line);
        out.push(Match {
            line: line as u32,
            start: (start - line_start) as u32,
            end: (end - line_start) as u32,
        });
        at = end;
    }
}

/// The needle's first and last bytes (each in both cases when folding), `gap` apart: positions
/// where both are present are the only candidates worth comparing, found eight at a time.
struct Pair {
    first: (u8, u8),
    last: (u8, u8),
    gap: usize,
}

const LOW: u64 = 0x0101_0101_0101_0101;
const HIGH: u64 = 0x8080_8080_8080_8080;

#[inline(always)]
/// A mask with the high bit set in (at least) every byte of `word` equal to `a` or `b`.
fn bytes_equal(word: u64, (a, b): (u8, u8)) -> u64 {
    let zero = |x: u64| x.wrapping_sub(LOW) & !x & HIGH;
    zero(word ^ (LOW * u64::from(a))) | zero(word ^ (LOW * u64::from(b)))
}

#[inline(always)]
fn word(haystack: &[u8], at: usize) -> u64 {
    let mut bytes = [0; 8];
    bytes.copy_from_slice(&haystack[at..at + 8]);
    u64::from_le_bytes(bytes)
}

impl Pair {
    /// The first position from `at` where the pair occurs and `is_match` agrees.
    fn find(
        &self,
        haystack: &[u8],
        mut at: usize,
        is_match: impl Fn(usize) -> bool,
    ) -> Option<usize> {
        let hit = |i: usize| {
            let (a, b) = self.first;
            let (c, d) = self.last;
            let (x, y) = (haystack[i], haystack[i + self.gap]);
            (x == a || x == b) && (y == c || y == d) && is_match(i)
        };
        while at + self.gap + 8 <= haystack.len() {
            let mask = bytes_equal(word(haystack, at), self.first)
                & bytes_equal(word(haystack, at + self.gap), self.last);
            if mask != 0
                && let Some(i) = (at..at + 8).find(|&i| hit(i))
            {
                return Some(i);
            }
            at += 8;
        }
        (at..haystack.len().saturating_sub(self.gap)).find(|&i| hit(i))
    }
}

/// Runs a JavaScript `RegExp` over the text after line `from_line` (one string, built here);
/// `^` and `$` match at line ends, and a match never runs past its line.
fn find_regex(
    log: &LogText,
    query: &Query,
    from_line: usize,
    out: &mut Vec<Match>,
) -> Result<(), String> {
    use wasm_bindgen::JsCast;
    let flags = if query.case_sensitive { "gmu" } else { "gimu" };
    let constructor: js_sys::Function = js_sys::RegExp::new("", "").constructor();
    let args = js_sys::Array::of2(&query.text.as_str().into(), &flags.into());
    let regex: js_sys::RegExp = js_sys::Reflect::construct(&constructor, &args)
        .map_err(|err| {
            let message = err
                .dyn_ref::<js_sys::Error>()
                .map(|e| String::from(e.message()))
                .unwrap_or_else(|| "invalid pattern".into());
            format!("Not a valid regular expression: {message}")
        })?
        .unchecked_into();
    let base = log.start(from_line);
    let slice = &log.text()[base..];
    let haystack = js_sys::JsString::from(slice);
    // UTF-16 offsets into `slice` → byte offsets, one line at a time.
    let units = Utf16Index::new(log, from_line);
    // `RegExp::exec` of js-sys takes a `&str`, which would copy the whole text on every call.
    let exec: js_sys::Function = js_sys::Reflect::get(&regex, &"exec".into())
        .map_err(|_| "This browser has no RegExp.exec".to_owned())?
        .unchecked_into();
    while out.len() < MAX_MATCHES {
        let Ok(found) = exec.call1(&regex, &haystack) else {
            break;
        };
        if found.is_null() {
            break;
        }
        let found: js_sys::Array = found.unchecked_into();
        let index = js_sys::Reflect::get(&found, &"index".into())
            .ok()
            .and_then(|v| v.as_f64())
            .unwrap_or_default() as usize;
        let length = found
            .get(0)
            .as_string()
            .map_or(0, |s| s.encode_utf16().count());
        if length == 0 {
            regex.set_last_index(regex.last_index() + 1);
            continue;
        }
        let (line, start) = units.locate(log, index);
        let (_, end) = units.locate_in(log, line, index + length);
        out.push(Match {
            line: line as u32,
            start: start as u32,
            end: end.max(start) as u32,
        });
    }
    Ok(())
}

/// Maps UTF-16 offsets of the text from a line on to (line, byte offset in the line).
struct Utf16Index {
    from_line: usize,
    /// UTF-16 start of each line after `from_line`; empty when the text is ASCII.
    starts: Vec<u32>,
}

impl Utf16Index {
    fn new(log: &LogText, from_line: usize) -> Self {
        let mut starts = Vec::new();
        if !log.is_ascii() {
            let mut at = 0u32;
            for line in from_line..log.len() {
                starts.push(at);
                at += log.line(line).encode_utf16().count() as u32 + 1;
            }
        }
        Self { from_line, starts }
    }

    fn line_start_units(&self, log: &LogText, line: usize) -> usize {
        if self.starts.is_empty() {
            log.start(line) - log.start(self.from_line)
        } else {
            self.starts[line - self.from_line] as usize
        }
    }

    fn locate(&self, log: &LogText, units: usize) -> (usize, usize) {
        let line = if self.starts.is_empty() {
            log.line_at(log.start(self.from_line) + units)
        } else {
            self.from_line
                + self
                    .starts
                    .partition_point(|&s| s as usize <= units)
                    .saturating_sub(1)
        };
        self.locate_in(log, line, units)
    }

    /// The byte offset in `line` of UTF-16 offset `units`, clamped to the line's end.
    fn locate_in(&self, log: &LogText, line: usize, units: usize) -> (usize, usize) {
        let text = log.line(line);
        let wanted = units.saturating_sub(self.line_start_units(log, line));
        if self.starts.is_empty() {
            return (line, wanted.min(text.len()));
        }
        let mut seen = 0;
        for (byte, c) in text.char_indices() {
            if seen >= wanted {
                return (line, byte);
            }
            seen += c.len_utf16();
        }
        (line, text.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn log(lines: &[&str]) -> LogText {
        let mut log = LogText::new();
        for line in lines {
            log.push_line(line, None);
        }
        log
    }

    fn text(log: &LogText, needle: &str, case_sensitive: bool) -> Vec<(u32, u32, u32)> {
        let mut out = Vec::new();
        let query = Query {
            text: needle.into(),
            regex: false,
            case_sensitive,
        };
        find(log, &query, 0, &mut out).expect("text search cannot fail");
        out.iter().map(|m| (m.line, m.start, m.end)).collect()
    }

    #[test]
    fn finds_every_match_case_insensitively_by_default() {
        let log = log(&[
            "Error: one",
            "no match here",
            "an error, another ERROR",
            "err",
        ]);
        assert_eq!(
            text(&log, "error", false),
            [(0, 0, 5), (2, 3, 8), (2, 18, 23)]
        );
        assert_eq!(text(&log, "ERROR", true), [(2, 18, 23)]);
        assert!(text(&log, "", false).is_empty());
        assert!(text(&log, "missing", false).is_empty());
    }

    #[test]
    fn matches_do_not_span_lines_and_long_lines_are_scanned_in_words() {
        let log = log(&[
            "abc",
            "def",
            &"x".repeat(100),
            &format!("{}needle", "y".repeat(37)),
        ]);
        assert!(text(&log, "c\nd", false).is_empty());
        assert_eq!(text(&log, "needle", false), [(3, 37, 43)]);
        assert_eq!(text(&log, "xx", false).len(), 50);
    }

    #[test]
    fn searching_on_from_a_line_appends() {
        let log = log(&["hit", "miss", "hit"]);
        let mut out = Vec::new();
        let query = Query {
            text: "hit".into(),
            ..Query::default()
        };
        find(&log, &query, 1, &mut out).expect("searches");
        assert_eq!(
            out,
            [Match {
                line: 2,
                start: 0,
                end: 3
            }]
        );
    }

    #[test]
    fn navigation_helpers() {
        let matches = [
            Match {
                line: 1,
                start: 0,
                end: 1,
            },
            Match {
                line: 1,
                start: 2,
                end: 3,
            },
            Match {
                line: 4,
                start: 0,
                end: 1,
            },
        ];
        assert_eq!(in_line(&matches, 1).len(), 2);
        assert!(in_line(&matches, 2).is_empty());
        assert_eq!(first_from(&matches, 2), Some(2));
        assert_eq!(first_from(&matches, 5), Some(0));
        assert_eq!(first_from(&[], 0), None);
        let pair = Pair {
            first: (b'a', b'A'),
            last: (b'c', b'C'),
            gap: 2,
        };
        assert_eq!(pair.find(b"0123456789abxaBcdZ", 0, |_| true), Some(13));
        assert_eq!(pair.find(b"abc", 0, |_| true), Some(0));
        assert_eq!(pair.find(b"ab", 0, |_| true), None);
    }
}

//! Search over the whole log, collapsed steps included, in the lines as shown: a line's time
//! and a space before its text when times are shown (so `17:34:00` finds the lines of that
//! second). Plain text (case-insensitive for ASCII letters unless asked otherwise) in Rust,
//! scanning the text's segments eight bytes at a time; or a regular expression run by the
//! browser's own `RegExp` (the `regex` crate would weigh more than the rest of the console),
//! one segment at a time.

use super::LogText;
use super::times::Timestamps;

/// The most matches kept; the count says "or more" beyond it.
pub const MAX_MATCHES: usize = 1_000_000;

/// One match: a byte range of one line as shown (its time and a space first, when shown).
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

/// The matches of `query` in lines `from_line..` of `log` as shown with `timestamps`, appended
/// to `out` (at most [`MAX_MATCHES`] in all). A bad regular expression is an error for the
/// user.
pub fn find(
    log: &LogText,
    query: &Query,
    timestamps: Timestamps,
    from_line: usize,
    out: &mut Vec<Match>,
) -> Result<(), String> {
    if query.text.is_empty() || from_line >= log.len() {
        return Ok(());
    }
    if query.regex {
        find_regex(log, query, timestamps, from_line, out)
    } else {
        find_text(log, query, timestamps, from_line, out);
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

fn same(candidate: &[u8], needle: &[u8], fold: bool) -> bool {
    if fold {
        candidate.eq_ignore_ascii_case(needle)
    } else {
        candidate == needle
    }
}

/// Text matches: those in the lines' text, found by scanning the segments, and with times
/// shown, those that start in a line's time, found line by line; in order, never overlapping.
fn find_text(
    log: &LogText,
    query: &Query,
    timestamps: Timestamps,
    from_line: usize,
    out: &mut Vec<Match>,
) {
    let needle = query.text.as_bytes();
    let fold = !query.case_sensitive;
    let hits = TextHits::new(log, needle, fold, from_line);
    if timestamps == Timestamps::Off {
        out.extend(hits.take(MAX_MATCHES.saturating_sub(out.len())));
        return;
    }
    let mut hits = hits.peekable();
    let (mut time, mut shown) = (String::new(), Vec::new());
    for line in from_line..log.len() {
        if out.len() >= MAX_MATCHES {
            return;
        }
        let mut prefix = 0;
        let mut covered = 0;
        if timestamps.write(log, line, &mut time) {
            prefix = time.len() + 1;
            // The time, a space, and as much of the text as a match starting in them can reach.
            let text = log.line(line).as_bytes();
            shown.clear();
            shown.extend_from_slice(time.as_bytes());
            shown.push(b' ');
            shown.extend_from_slice(&text[..text.len().min(needle.len() - 1)]);
            let mut at = 0;
            while at < prefix && at + needle.len() <= shown.len() {
                if same(&shown[at..at + needle.len()], needle, fold) {
                    covered = at + needle.len();
                    out.push(Match {
                        line: line as u32,
                        start: at as u32,
                        end: covered as u32,
                    });
                    at = covered;
                } else {
                    at += 1;
                }
            }
        }
        while let Some(hit) = hits.next_if(|m| m.line as usize == line) {
            if hit.start as usize + prefix >= covered {
                out.push(Match {
                    line: hit.line,
                    start: hit.start + prefix as u32,
                    end: hit.end + prefix as u32,
                });
            }
        }
    }
    out.truncate(MAX_MATCHES);
}

/// The matches of a needle in the lines' text (offsets into the text, without times), in order.
struct TextHits<'a> {
    log: &'a LogText,
    needle: &'a [u8],
    fold: bool,
    pair: Pair,
    /// The segment being scanned, where in it, and the line the last match was on.
    segment: usize,
    at: usize,
    line: usize,
}

impl<'a> TextHits<'a> {
    fn new(log: &'a LogText, needle: &'a [u8], fold: bool, from_line: usize) -> Self {
        let cases = |b: u8| {
            if fold {
                (b.to_ascii_lowercase(), b.to_ascii_uppercase())
            } else {
                (b, b)
            }
        };
        let segment = log.segment_of(from_line);
        Self {
            log,
            needle,
            fold,
            pair: Pair {
                first: cases(needle[0]),
                last: cases(needle[needle.len() - 1]),
                gap: needle.len() - 1,
            },
            segment,
            at: log.start(from_line) - log.segments()[segment].base(),
            line: from_line,
        }
    }
}

impl Iterator for TextHits<'_> {
    type Item = Match;

    fn next(&mut self) -> Option<Match> {
        let (log, needle, fold) = (self.log, self.needle, self.fold);
        loop {
            let segment = log.segments().get(self.segment)?;
            let text = segment.text().as_bytes();
            let is_match = |start: usize| {
                let end = start + needle.len();
                end <= text.len() && same(&text[start..end], needle, fold)
            };
            let Some(start) = self.pair.find(text, self.at, is_match) else {
                self.segment += 1;
                self.at = 0;
                continue;
            };
            let end = start + needle.len();
            if text[start..end].contains(&b'\n') {
                self.at = start + 1;
                continue;
            }
            self.at = end;
            let start = segment.base() + start;
            while self.line + 1 < log.len() && log.start(self.line + 1) <= start {
                self.line += 1;
            }
            let line_start = log.start(self.line);
            return Some(Match {
                line: self.line as u32,
                start: (start - line_start) as u32,
                end: (start + needle.len() - line_start) as u32,
            });
        }
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

/// Runs a JavaScript `RegExp` over the lines as shown, one segment at a time (one string each,
/// built here); `^` and `$` match at line ends, and a match never runs past its line.
fn find_regex(
    log: &LogText,
    query: &Query,
    timestamps: Timestamps,
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
    // `RegExp::exec` of js-sys takes a `&str`, which would copy the text on every call.
    let exec: js_sys::Function = js_sys::Reflect::get(&regex, &"exec".into())
        .map_err(|_| "This browser has no RegExp.exec".to_owned())?
        .unchecked_into();
    let mut haystack = Haystack::default();
    for segment in log.segment_of(from_line)..log.segments().len() {
        haystack.fill(log, segment, from_line, timestamps);
        let text = js_sys::JsString::from(haystack.text.as_str());
        regex.set_last_index(0);
        while out.len() < MAX_MATCHES {
            let Ok(found) = exec.call1(&regex, &text) else {
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
            let length = found.get(0).unchecked_into::<js_sys::JsString>().length() as usize;
            if length == 0 {
                regex.set_last_index(regex.last_index() + 1);
                continue;
            }
            out.push(haystack.locate(index, length));
        }
    }
    Ok(())
}

/// One segment's lines as shown, each followed by `\n`, for a `RegExp`; with where each line
/// starts in bytes and in UTF-16 units (the `RegExp`'s offsets).
#[derive(Default)]
struct Haystack {
    text: String,
    first_line: usize,
    bytes: Vec<u32>,
    units: Vec<u32>,
    time: String,
}

impl Haystack {
    /// Fills it with the lines of segment `segment` from line `from_line` on.
    fn fill(&mut self, log: &LogText, segment: usize, from_line: usize, timestamps: Timestamps) {
        let first = log.segments()[segment].first_line().max(from_line);
        let end = log
            .segments()
            .get(segment + 1)
            .map_or(log.len(), |s| s.first_line());
        self.text.clear();
        self.bytes.clear();
        self.units.clear();
        self.first_line = first;
        let mut units = 0;
        for line in first..end {
            let from = self.text.len();
            self.bytes.push(from as u32);
            self.units.push(units);
            if timestamps.write(log, line, &mut self.time) {
                self.text.push_str(&self.time);
                self.text.push(' ');
            }
            self.text.push_str(log.line(line));
            let shown = &self.text[from..];
            units += utf16_len(shown) as u32 + 1;
            self.text.push('\n');
        }
    }

    /// The match of `length` UTF-16 units at unit `index`, cut at the end of its line.
    fn locate(&self, index: usize, length: usize) -> Match {
        let at = self
            .units
            .partition_point(|&u| u as usize <= index)
            .saturating_sub(1);
        let from = self.bytes[at] as usize;
        let to = self
            .bytes
            .get(at + 1)
            .map_or(self.text.len(), |&b| b as usize);
        let shown = &self.text[from..to - 1];
        let begin = index - self.units[at] as usize;
        let start = byte_offset(shown, begin);
        let end = byte_offset(shown, begin + length);
        Match {
            line: (self.first_line + at) as u32,
            start: start as u32,
            end: end.max(start) as u32,
        }
    }
}

fn utf16_len(text: &str) -> usize {
    if text.is_ascii() {
        text.len()
    } else {
        text.encode_utf16().count()
    }
}

/// The byte offset in `text` of UTF-16 offset `units`, clamped to its end.
fn byte_offset(text: &str, units: usize) -> usize {
    if text.is_ascii() {
        return units.min(text.len());
    }
    let mut seen = 0;
    for (byte, c) in text.char_indices() {
        if seen >= units {
            return byte;
        }
        seen += c.len_utf16();
    }
    text.len()
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

    fn shown(
        log: &LogText,
        needle: &str,
        case_sensitive: bool,
        timestamps: Timestamps,
    ) -> Vec<(u32, u32, u32)> {
        let mut out = Vec::new();
        let query = Query {
            text: needle.into(),
            regex: false,
            case_sensitive,
        };
        find(log, &query, timestamps, 0, &mut out).expect("text search cannot fail");
        out.iter().map(|m| (m.line, m.start, m.end)).collect()
    }

    fn text(log: &LogText, needle: &str, case_sensitive: bool) -> Vec<(u32, u32, u32)> {
        shown(log, needle, case_sensitive, Timestamps::Off)
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
        find(&log, &query, Timestamps::Off, 1, &mut out).expect("searches");
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

    /// 2026-11-25T17:34:00Z, in milliseconds since the Unix epoch.
    const T0: i64 = 1_795_628_040_000;

    #[test]
    fn with_times_shown_the_times_are_searched_too() {
        let mut log = LogText::new();
        log.push_line("started at 17:34", Some(T0));
        log.push_line("done", Some(T0 + 1_250));
        // Off: only the text.
        assert_eq!(text(&log, "17:34", false), [(0, 11, 16)]);
        // Shown: "17:34:00.000 started at 17:34", "17:34:01.250 done".
        assert_eq!(
            shown(&log, "17:34", false, Timestamps::Absolute),
            [(0, 0, 5), (0, 24, 29), (1, 0, 5)]
        );
        assert_eq!(
            shown(&log, "01.250 DONE", false, Timestamps::Absolute),
            [(1, 6, 17)]
        );
        assert!(shown(&log, "01.250 DONE", true, Timestamps::Absolute).is_empty());
        assert_eq!(
            shown(&log, "+0:01", false, Timestamps::Relative),
            [(1, 0, 5)]
        );
        // A match that starts in the time hides one in the text it overlaps.
        let mut log = LogText::new();
        log.push_line("0 00", Some(T0));
        assert_eq!(
            shown(&log, "0 0", false, Timestamps::Absolute),
            [(0, 11, 14)]
        );
    }

    #[test]
    fn every_segment_is_searched_and_matches_keep_their_lines() {
        let mut log = LogText::new();
        let filler = "x".repeat(1_000);
        for n in 0..3_000 {
            log.push_line(&format!("{filler} line {n}"), None);
        }
        assert!(log.segments().len() > 2);
        let hits = text(&log, "line 2999", false);
        assert_eq!(hits, [(2_999, 1_001, 1_010)]);
        let hits = text(&log, "line 1", false);
        assert_eq!(hits.len(), 1_111);
        assert!(hits.iter().all(|&(line, start, _)| {
            log.line(line as usize)[start as usize..].starts_with("line 1")
        }));
    }

    #[test]
    fn regex_offsets_map_back_to_lines_as_shown() {
        let mut log = LogText::new();
        log.push_line("héllo wörld", Some(T0));
        log.push_line("plain", Some(T0));
        let mut haystack = Haystack::default();
        haystack.fill(&log, 0, 0, Timestamps::Absolute);
        assert_eq!(
            haystack.text,
            "17:34:00.000 héllo wörld\n17:34:00.000 plain\n"
        );
        // "wörld" is UTF-16 units 19..24 of line 0; "plain" starts at unit 25 + 13.
        let line = "17:34:00.000 héllo wörld";
        let wörld = line.find("wörld").expect("there");
        assert_eq!(
            haystack.locate(19, 5),
            Match {
                line: 0,
                start: wörld as u32,
                end: line.len() as u32
            }
        );
        assert_eq!(
            haystack.locate(25 + 13, 99),
            Match {
                line: 1,
                start: 13,
                end: 18
            }
        );
        haystack.fill(&log, 0, 1, Timestamps::Off);
        assert_eq!(
            (haystack.text.as_str(), haystack.first_line),
            ("plain\n", 1)
        );
    }
}

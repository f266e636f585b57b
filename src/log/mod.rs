//! A deployment's log held compactly for the viewer: one `String` of plain text (escape
//! sequences interpreted at arrival), line start offsets, per-line times as milliseconds after
//! the first line, sparse style runs and the steps. A million lines cost the text plus about
//! eight bytes a line, with no allocation per line.
//!
//! Plain logic, natively tested: [`ansi`] (escape sequences), [`search`] (text and regex),
//! [`layout`] (which rows show, steps collapsed or lines wrapped), [`window`] (the virtual
//! list's arithmetic), [`link`] (`#L120-L140` deep links) and [`oidc`] (the credentials step).
//!
//! The credentials step's `##[keyless:oidc-…]` marker lines are for the OIDC card, not for
//! people: they are kept aside (read once, as they arrive) and shown nowhere in the log, but
//! written back in place to the raw file.

pub mod ansi;
pub mod layout;
pub mod link;
pub mod oidc;
pub mod search;
pub mod window;

use keyless_api_types::oidc_log::{OidcLogEvent, parse_marker};
use keyless_api_types::{DeploymentLogLine, GROUP_MARKER};

use self::ansi::Style;
use crate::time::{format_rfc3339_ms, parse_rfc3339_ms};

/// One step of the log: its header and the lines after it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogStep {
    /// The step's name; empty for lines before any header.
    pub name: String,
    /// The index of its first line.
    pub first_line: u32,
    /// How many lines it has.
    pub line_count: u32,
    /// When its header was written, in milliseconds since the Unix epoch.
    pub started_ms: Option<i64>,
}

/// A marker line kept out of the shown lines.
#[derive(Clone, Debug)]
struct Marker {
    /// Its step, and the shown line it came before.
    step: usize,
    before: u32,
    at: Option<i64>,
    text: String,
    event: OidcLogEvent,
}

/// The whole log. Lines are numbered from 0 here and from 1 on screen.
#[derive(Clone, Debug, Default)]
pub struct LogText {
    /// Every line's plain text, each followed by `\n`.
    text: String,
    /// Where each line starts in `text`.
    starts: Vec<u32>,
    /// Each line's time in milliseconds after `base_ms` (0 when unknown).
    times: Vec<u32>,
    base_ms: Option<i64>,
    /// The distinct styles in use.
    style_table: Vec<Style>,
    /// (offset in `text`, index into `style_table`): the style from there on.
    style_runs: Vec<(u32, u16)>,
    steps: Vec<LogStep>,
    /// The style in force at the end of the last line.
    carry: Style,
    /// Whether every line so far is ASCII (byte and UTF-16 offsets agree).
    ascii: bool,
    /// The credentials step's marker lines, in order.
    markers: Vec<Marker>,
}

impl LogText {
    /// An empty log.
    pub fn new() -> Self {
        Self {
            ascii: true,
            ..Self::default()
        }
    }

    /// How many lines there are.
    pub fn len(&self) -> usize {
        self.starts.len()
    }

    /// Whether there is no line.
    pub fn is_empty(&self) -> bool {
        self.starts.is_empty()
    }

    /// The whole plain text, each line followed by `\n`.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// Whether the text is all ASCII.
    pub fn is_ascii(&self) -> bool {
        self.ascii
    }

    /// Where line `index` starts in [`text`](Self::text).
    pub fn start(&self, index: usize) -> usize {
        self.starts[index] as usize
    }

    /// The line holding byte `offset` of [`text`](Self::text).
    pub fn line_at(&self, offset: usize) -> usize {
        self.starts
            .partition_point(|&s| s as usize <= offset)
            .saturating_sub(1)
    }

    /// Line `index`'s plain text, without its newline.
    pub fn line(&self, index: usize) -> &str {
        let start = self.starts[index] as usize;
        let end = self
            .starts
            .get(index + 1)
            .map_or(self.text.len(), |&e| e as usize);
        &self.text[start..end - 1]
    }

    /// Line `index`'s style changes, as byte offsets into [`line`](Self::line); the first
    /// applies from offset 0 when the line starts styled.
    pub fn line_styles(&self, index: usize) -> Vec<(usize, Style)> {
        let start = self.starts[index];
        let end = start + self.line(index).len() as u32;
        let first = self.style_runs.partition_point(|&(at, _)| at <= start);
        let mut changes = Vec::new();
        if let Some(&(_, style)) = first.checked_sub(1).map(|i| &self.style_runs[i]) {
            let style = self.style_table[usize::from(style)];
            if !style.is_plain() {
                changes.push((0, style));
            }
        }
        for &(at, style) in self.style_runs[first..]
            .iter()
            .take_while(|(at, _)| *at < end)
        {
            changes.push(((at - start) as usize, self.style_table[usize::from(style)]));
        }
        changes
    }

    /// When line `index` was written, in milliseconds since the Unix epoch, if known.
    pub fn time_ms(&self, index: usize) -> Option<i64> {
        self.base_ms.map(|base| base + i64::from(self.times[index]))
    }

    /// When the log started, in milliseconds since the Unix epoch, if known.
    pub fn start_ms(&self) -> Option<i64> {
        self.base_ms
    }

    /// What the credentials step's marker lines said, in order.
    pub fn oidc_events(&self) -> impl Iterator<Item = &OidcLogEvent> {
        self.markers.iter().map(|m| &m.event)
    }

    /// The steps, in order.
    pub fn steps(&self) -> &[LogStep] {
        &self.steps
    }

    /// The step holding line `index`.
    pub fn step_of_line(&self, index: usize) -> usize {
        self.steps
            .partition_point(|s| s.first_line as usize <= index)
            .saturating_sub(1)
    }

    /// Starts a step named `name`, written at `timestamp_ms`.
    pub fn push_header(&mut self, name: &str, timestamp_ms: Option<i64>) {
        self.note_time(timestamp_ms);
        self.steps.push(LogStep {
            name: name.to_owned(),
            first_line: self.starts.len() as u32,
            line_count: 0,
            started_ms: timestamp_ms,
        });
        if !self.carry.is_plain() {
            self.carry = Style::default();
            self.push_style(self.text.len() as u32, Style::default());
        }
    }

    /// Adds what a step printed (escape sequences included); inner newlines make more lines,
    /// and a carriage return keeps what a terminal would show (the text after it).
    pub fn push_line(&mut self, raw: &str, timestamp_ms: Option<i64>) {
        self.note_time(timestamp_ms);
        let raw = raw.strip_suffix('\n').unwrap_or(raw);
        for part in raw.split('\n') {
            let part = part.strip_suffix('\r').unwrap_or(part);
            let part = part.rsplit('\r').next().unwrap_or(part);
            self.push_one(part, timestamp_ms);
        }
    }

    fn push_one(&mut self, raw: &str, timestamp_ms: Option<i64>) {
        if self.steps.is_empty() {
            self.steps.push(LogStep {
                name: String::new(),
                first_line: 0,
                line_count: 0,
                started_ms: timestamp_ms,
            });
        }
        let step = self.steps.len() - 1;
        if self.steps[step].name == oidc::STEP_NAME
            && let Some(event) = parse_marker(raw)
        {
            self.markers.push(Marker {
                step,
                before: self.starts.len() as u32,
                at: timestamp_ms,
                text: raw.to_owned(),
                event,
            });
            return;
        }
        let start = self.text.len() as u32;
        let (parsed, end_style) = ansi::parse(raw, self.carry);
        // `carry` is also the style of the last run: only real changes are recorded.
        let mut current = self.carry;
        for (at, style) in parsed.changes {
            if style != current {
                self.push_style(start + at as u32, style);
                current = style;
            }
        }
        if end_style != current {
            self.push_style(start + parsed.text.len() as u32, end_style);
        }
        self.carry = end_style;
        self.ascii &= parsed.text.is_ascii();
        self.text.push_str(&parsed.text);
        self.text.push('\n');
        self.starts.push(start);
        let time = match (self.base_ms, timestamp_ms) {
            (Some(base), Some(at)) => (at - base).clamp(0, i64::from(u32::MAX)) as u32,
            _ => self.times.last().copied().unwrap_or(0),
        };
        self.times.push(time);
        if let Some(step) = self.steps.last_mut() {
            step.line_count += 1;
        }
    }

    fn note_time(&mut self, timestamp_ms: Option<i64>) {
        if self.base_ms.is_none() {
            self.base_ms = timestamp_ms;
        }
    }

    fn push_style(&mut self, at: u32, style: Style) {
        let index = match self.style_table.iter().position(|s| *s == style) {
            Some(index) => index,
            None => {
                self.style_table.push(style);
                self.style_table.len() - 1
            }
        };
        let index = u16::try_from(index).unwrap_or(0);
        match self.style_runs.last_mut() {
            Some(last) if last.0 == at => last.1 = index,
            _ => self.style_runs.push((at, index)),
        }
    }

    /// Adds lines as the logs API returns them.
    pub fn extend_from_api(&mut self, lines: &[DeploymentLogLine]) {
        for line in lines {
            let at = parse_rfc3339_ms(&line.timestamp);
            if let Some(header) = &line.header {
                self.push_header(header, at);
            }
            if let Some(text) = &line.line {
                self.push_line(text, at);
            }
        }
    }

    /// The log as a text file: `<time> ##[group]<step>` for each step, `<time> <line>` for
    /// each line with its colours as SGR sequences (times omitted when unknown).
    pub fn to_raw(&self) -> String {
        let mut out = String::with_capacity(self.text.len() + self.len() * 25);
        let stamp = |out: &mut String, at: Option<i64>| {
            if let Some(at) = at {
                out.push_str(&format_rfc3339_ms(at));
                out.push(' ');
            }
        };
        let mut markers = self.markers.iter().peekable();
        let mut markers_before = |out: &mut String, step: usize, line: u32| {
            while let Some(marker) = markers.next_if(|m| m.step == step && m.before <= line) {
                stamp(out, marker.at);
                out.push_str(&marker.text);
                out.push('\n');
            }
        };
        for (index, step) in self.steps.iter().enumerate() {
            if !(index == 0 && step.name.is_empty()) {
                stamp(&mut out, step.started_ms.or(self.base_ms));
                out.push_str(GROUP_MARKER);
                out.push_str(&step.name);
                out.push('\n');
            }
            let end = step.first_line + step.line_count;
            for line in step.first_line..end {
                markers_before(&mut out, index, line);
                let line = line as usize;
                stamp(&mut out, self.time_ms(line));
                ansi::encode(self.line(line), &self.line_styles(line), &mut out);
                out.push('\n');
            }
            markers_before(&mut out, index, end);
        }
        out
    }

    /// Reads a log file: the format [`to_raw`](Self::to_raw) writes, or any text file (each
    /// line a log line; a leading RFC 3339 time is taken as the line's time).
    pub fn from_raw(raw: &str) -> Self {
        let mut log = Self::new();
        log.push_raw(raw);
        log
    }

    /// Adds the lines of a piece of a log file (whole lines; see [`from_raw`](Self::from_raw)).
    pub fn push_raw(&mut self, raw: &str) {
        let raw = raw.strip_suffix('\n').unwrap_or(raw);
        if raw.is_empty() {
            return;
        }
        for line in raw.split('\n') {
            let (at, rest) = match line.split_once(' ') {
                Some((first, rest)) => match parse_rfc3339_ms(first) {
                    Some(at) => (Some(at), rest),
                    None => (None, line),
                },
                None => (None, line),
            };
            match rest.strip_prefix(GROUP_MARKER) {
                Some(name) => self.push_header(name.trim_end_matches('\r'), at),
                None => self.push_line(rest, at),
            }
        }
    }

    /// Where to cut `raw` after about `at` bytes, at a line's end (or at its end).
    pub fn chunk_end(raw: &str, at: usize) -> usize {
        if at >= raw.len() {
            return raw.len();
        }
        raw.as_bytes()[at..]
            .iter()
            .position(|&b| b == b'\n')
            .map_or(raw.len(), |p| at + p + 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn api(header: Option<&str>, line: Option<&str>, at: &str) -> DeploymentLogLine {
        DeploymentLogLine {
            header: header.map(Into::into),
            timestamp: at.into(),
            line: line.map(Into::into),
        }
    }

    fn sample() -> LogText {
        let mut log = LogText::new();
        log.extend_from_api(&[
            api(Some("Setup"), None, "2026-11-25T17:34:00.000Z"),
            api(None, Some("first\n"), "2026-11-25T17:34:00.250Z"),
            api(
                None,
                Some("\x1b[31mred\nstill red\x1b[0m plain\n"),
                "2026-11-25T17:34:01Z",
            ),
            api(None, Some("\x1b[1mbold\x1b[0m\n"), "2026-11-25T17:34:01Z"),
            api(Some("Get source"), None, "2026-11-25T17:34:02Z"),
            api(
                None,
                Some("<script>alert(1)</script>\r\n"),
                "2026-11-25T17:34:03Z",
            ),
        ]);
        log
    }

    #[test]
    fn lines_steps_and_times_are_stored_compactly() {
        let log = sample();
        assert_eq!(log.len(), 5);
        assert_eq!(log.line(0), "first");
        assert_eq!(log.line(1), "red");
        assert_eq!(log.line(2), "still red plain");
        assert_eq!(log.line(3), "bold");
        assert_eq!(log.line(4), "<script>alert(1)</script>");
        assert_eq!(
            log.text(),
            "first\nred\nstill red plain\nbold\n<script>alert(1)</script>\n"
        );
        assert_eq!(log.steps().len(), 2);
        assert_eq!(
            (log.steps()[1].first_line, log.steps()[1].line_count),
            (4, 1)
        );
        assert_eq!(log.step_of_line(3), 0);
        assert_eq!(log.step_of_line(4), 1);
        assert_eq!(log.time_ms(0), Some(1_795_628_040_250));
        assert_eq!(log.start_ms(), Some(1_795_628_040_000));
        assert_eq!(log.line_at(0), 0);
        assert_eq!(log.line_at(6), 1);
        assert_eq!(log.line_at(log.start(4) + 2), 4);
    }

    #[test]
    fn styles_carry_across_lines_until_reset() {
        let log = sample();
        let red = log.line_styles(1);
        assert_eq!(red.len(), 1);
        assert_eq!(red[0].0, 0);
        assert_eq!(red[0].1.fg, ansi::Color::Index(1));
        let still = log.line_styles(2);
        assert_eq!(still[0].0, 0);
        assert_eq!(still[1], (9, Style::default()));
        assert!(log.line_styles(0).is_empty());
        assert_eq!(log.line_styles(3).len(), 1);
        // Guards against a reset at the very end of a line leaking its style into the next.
        assert!(log.line_styles(4).is_empty());
    }

    #[test]
    fn carriage_returns_keep_the_last_overwrite() {
        let mut log = LogText::new();
        log.push_line("10%\r50%\r100%\n", None);
        assert_eq!(log.line(0), "100%");
        assert_eq!(log.steps()[0].name, "");
        assert_eq!(log.time_ms(0), None);
    }

    #[test]
    fn the_raw_file_reads_back_as_the_same_log() {
        let log = sample();
        let raw = log.to_raw();
        assert!(raw.starts_with("2026-11-25T17:34:00.000Z ##[group]Setup\n"));
        let again = LogText::from_raw(&raw);
        assert_eq!(again.text(), log.text());
        assert_eq!(again.steps(), log.steps());
        assert_eq!(again.line_styles(2), log.line_styles(2));
        assert_eq!(again.line_styles(3), log.line_styles(3));
        assert_eq!(again.time_ms(4), log.time_ms(4));
    }

    #[test]
    fn a_file_read_in_pieces_is_the_same_log() {
        let raw = sample().to_raw();
        let whole = LogText::from_raw(&raw);
        let mut pieces = LogText::new();
        let mut from = 0;
        while from < raw.len() {
            let to = LogText::chunk_end(&raw, from + 30);
            pieces.push_raw(&raw[from..to]);
            from = to;
        }
        assert_eq!(pieces.text(), whole.text());
        assert_eq!(pieces.steps(), whole.steps());
        assert_eq!(pieces.line_styles(2), whole.line_styles(2));
        assert_eq!(LogText::chunk_end("ab\ncd", 1), 3);
        assert_eq!(LogText::chunk_end("ab\ncd", 4), 5);
        assert_eq!(LogText::chunk_end("ab", 9), 2);
    }

    #[test]
    fn oidc_markers_are_kept_aside_and_written_back_to_the_file() {
        let marker = r#"##[keyless:oidc-failure] {"cloud":"aws","code":null,"message":"m","explanation":"e","presented":{"iss":"i","aud":"a","sub":"s"}}"#;
        let mut log = LogText::new();
        log.extend_from_api(&[
            api(Some("Setup"), None, "2026-11-25T17:34:00Z"),
            // Only the credentials step's markers are read.
            api(None, Some(&format!("{marker}\n")), "2026-11-25T17:34:00Z"),
            api(Some(oidc::STEP_NAME), None, "2026-11-25T17:34:01Z"),
            api(None, Some("AWS said: m\n"), "2026-11-25T17:34:01Z"),
            api(None, Some(&format!("{marker}\n")), "2026-11-25T17:34:02Z"),
            api(Some("Pulumi"), None, "2026-11-25T17:34:03Z"),
            api(None, Some("after\n"), "2026-11-25T17:34:03Z"),
        ]);
        assert_eq!(log.text(), format!("{marker}\nAWS said: m\nafter\n"));
        assert_eq!(
            (log.steps()[1].line_count, log.steps()[2].first_line),
            (1, 2)
        );
        let events: Vec<&OidcLogEvent> = log.oidc_events().collect();
        assert!(matches!(events.as_slice(), [OidcLogEvent::Failure(f)] if f.message == "m"));
        let raw = log.to_raw();
        assert!(
            raw.contains(&format!(
                "AWS said: m\n2026-11-25T17:34:02.000Z {marker}\n2026-11-25T17:34:03.000Z ##[group]Pulumi"
            )),
            "{raw}"
        );
        let again = LogText::from_raw(&raw);
        assert_eq!(again.text(), log.text());
        assert_eq!(again.oidc_events().count(), 1);
        assert_eq!(again.to_raw(), raw);
    }

    #[test]
    fn any_text_file_opens() {
        let log = LogText::from_raw("one\ntwo\n");
        assert_eq!(log.len(), 2);
        assert_eq!(log.steps().len(), 1);
        assert!(LogText::from_raw("").is_empty());
    }
}

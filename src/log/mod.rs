//! A deployment's log held compactly for the viewer: its plain text in fixed segments
//! ([`segments`]; escape sequences interpreted at arrival), line starts, per-line times as
//! milliseconds after the first line, sparse style runs and the steps. A million lines cost the
//! text plus about eight bytes a line, with no allocation per line and no buffer that doubles.
//!
//! Plain logic, natively tested: [`ansi`] (escape sequences), [`raw`] (the log file format, read
//! in pieces of any size), [`search`] (text and regex), [`times`] (the times shown beside lines),
//! [`layout`] (which rows show, steps collapsed or lines wrapped), [`window`] (the virtual
//! list's arithmetic), [`link`] (`#L120-L140` deep links) and [`oidc`] (the credentials step).
//! [`live`] is the log as the viewer watches it grow, and [`stream`] feeds it from the browser's
//! streams.
//!
//! The credentials step's `##[keyless:oidc-…]` marker lines are for the OIDC card, not for
//! people: they are kept aside (read once, as they arrive) and shown nowhere in the log, but
//! written back in place to the raw file.

pub mod ansi;
pub mod layout;
pub mod link;
pub mod live;
pub mod oidc;
pub mod raw;
pub mod search;
pub mod segments;
pub mod stream;
pub mod times;
pub mod window;

use keyless_api_types::DeploymentLogLine;
use keyless_api_types::oidc_log::{OidcLogEvent, parse_marker};
use memchr::memchr2;

use self::ansi::Style;
use self::segments::{Segment, Segments};
use crate::time::parse_rfc3339_ms;

/// One step of the log: its header and the lines after it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogStep {
    /// The step's name; empty for lines before any header, or after a `##[endgroup]`.
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
    /// Every line's plain text.
    text: Segments,
    /// Each line's time in milliseconds after `base_ms` (0 when unknown).
    times: Vec<u32>,
    base_ms: Option<i64>,
    /// The distinct styles in use.
    style_table: Vec<Style>,
    /// (offset in the text, index into `style_table`): the style from there on.
    style_runs: Vec<(u32, u16)>,
    steps: Vec<LogStep>,
    /// Whether a `##[endgroup]` closed the last step: the next line starts an unnamed one.
    step_closed: bool,
    /// The style in force at the end of the last line.
    carry: Style,
    /// The credentials step's marker lines, in order.
    markers: Vec<Marker>,
    /// The style changes of the line being added (kept to reuse its allocation).
    changes: Vec<(usize, Style)>,
}

impl LogText {
    /// An empty log.
    pub fn new() -> Self {
        Self::default()
    }

    /// How many lines there are.
    pub fn len(&self) -> usize {
        self.text.len()
    }

    /// Whether there is no line.
    pub fn is_empty(&self) -> bool {
        self.text.is_empty()
    }

    /// The text's segments, in order: each holds whole lines, each followed by `\n`.
    pub fn segments(&self) -> &[Segment] {
        self.text.segments()
    }

    /// The segment holding line `index`.
    pub fn segment_of(&self, index: usize) -> usize {
        self.text.segment_of(index)
    }

    /// Where line `index` starts in the text (its segments end to end).
    pub fn start(&self, index: usize) -> usize {
        self.text.start(index)
    }

    /// The line holding byte `offset` of the text.
    pub fn line_at(&self, offset: usize) -> usize {
        self.text.line_at(offset)
    }

    /// Line `index`'s plain text, without its newline.
    pub fn line(&self, index: usize) -> &str {
        self.text.line(index)
    }

    /// Line `index`'s style changes, as byte offsets into [`line`](Self::line); the first
    /// applies from offset 0 when the line starts styled.
    pub fn line_styles(&self, index: usize) -> Vec<(usize, Style)> {
        let start = self.text.start(index) as u32;
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
        self.start_step(name, timestamp_ms);
        if !self.carry.is_plain() {
            self.carry = Style::default();
            self.push_style(self.text.text_len() as u32, Style::default());
        }
    }

    /// Ends the current step (`##[endgroup]`): lines after it go to a step without a name.
    pub fn end_step(&mut self) {
        self.step_closed = true;
    }

    fn start_step(&mut self, name: &str, timestamp_ms: Option<i64>) {
        self.step_closed = false;
        self.steps.push(LogStep {
            name: name.to_owned(),
            first_line: self.text.len() as u32,
            line_count: 0,
            started_ms: timestamp_ms,
        });
    }

    /// Adds what a step printed (escape sequences included); inner newlines make more lines,
    /// and a carriage return keeps what a terminal would show (the text after it).
    pub fn push_line(&mut self, raw: &str, timestamp_ms: Option<i64>) {
        self.note_time(timestamp_ms);
        // Most lines are one line as they come: one fast scan says so.
        if memchr2(b'\n', b'\r', raw.as_bytes()).is_none() {
            self.push_one(raw, timestamp_ms);
            return;
        }
        let raw = raw.strip_suffix('\n').unwrap_or(raw);
        for part in raw.split('\n') {
            let part = part.strip_suffix('\r').unwrap_or(part);
            let part = part.rsplit('\r').next().unwrap_or(part);
            self.push_one(part, timestamp_ms);
        }
    }

    fn push_one(&mut self, raw: &str, timestamp_ms: Option<i64>) {
        if self.steps.is_empty() || self.step_closed {
            self.start_step("", timestamp_ms);
        }
        let step = self.steps.len() - 1;
        if self.steps[step].name == oidc::STEP_NAME
            && let Some(event) = parse_marker(raw)
        {
            self.markers.push(Marker {
                step,
                before: self.text.len() as u32,
                at: timestamp_ms,
                text: raw.to_owned(),
                event,
            });
            return;
        }
        let (carry, changes) = (self.carry, &mut self.changes);
        // The plain text is never longer than the raw line.
        let (start, (end_style, len)) = self.text.push_with(raw.len(), |out| {
            let origin = out.len();
            let end_style = ansi::parse(raw, carry, out, changes);
            (end_style, out.len() - origin)
        });
        // `carry` is also the style of the last run: only real changes are recorded.
        let mut current = carry;
        for index in 0..self.changes.len() {
            let (at, style) = self.changes[index];
            if style != current {
                self.push_style(start + at as u32, style);
                current = style;
            }
        }
        if end_style != current {
            self.push_style(start + len as u32, end_style);
        }
        self.carry = end_style;
        let time = match (self.base_ms, timestamp_ms) {
            (Some(base), Some(at)) => (at - base).clamp(0, i64::from(u32::MAX)) as u32,
            _ => self.times.last().copied().unwrap_or(0),
        };
        self.times.push(time);
        self.steps[step].line_count += 1;
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
        assert_eq!(log.segments().len(), 1);
        assert_eq!(
            log.segments()[0].text(),
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
        let lines: Vec<&str> = (0..log.len()).map(|i| log.line(i)).collect();
        assert_eq!(lines, [marker, "AWS said: m", "after"]);
        assert_eq!(
            (log.steps()[1].line_count, log.steps()[2].first_line),
            (1, 2)
        );
        let events: Vec<&OidcLogEvent> = log.oidc_events().collect();
        assert!(matches!(events.as_slice(), [OidcLogEvent::Failure(f)] if f.message == "m"));
        let mut raw = String::new();
        log.write_raw(1 << 20, |piece| raw.push_str(piece));
        assert!(
            raw.contains(&format!(
                "AWS said: m\n2026-11-25T17:34:02.000Z {marker}\n2026-11-25T17:34:03.000Z ##[group]Pulumi"
            )),
            "{raw}"
        );
        let again = LogText::from_raw(raw.as_bytes());
        assert_eq!(again.len(), log.len());
        assert_eq!(again.oidc_events().count(), 1);
        let mut written = String::new();
        again.write_raw(16, |piece| written.push_str(piece));
        assert_eq!(written, raw);
    }
}

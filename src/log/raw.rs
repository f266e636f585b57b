//! The log file format: what the console's Download saves and `logs/raw` sends,
//! `<time> ##[group]<step>` to start each step and `<time> <line>` for each line, with its
//! colours as SGR sequences. Any text file reads as a log: each line a log line, a leading
//! RFC 3339 time taken as the line's time; GitHub Actions' logs read with their steps too
//! (`##[group]`, `##[endgroup]`, a byte-order mark first).
//!
//! [`RawReader`] takes the file's bytes in pieces of any size, as a stream hands them over, and
//! never holds more of the file than the line it has not seen the end of.

use std::borrow::Cow;

use keyless_api_types::GROUP_MARKER;
use memchr::memchr;

use super::{LogText, ansi};
use crate::time::{format_rfc3339_ms, parse_rfc3339_ms};

/// What ends a step in GitHub Actions' logs; lines after it belong to no step until the next
/// `##[group]`.
pub const END_GROUP_MARKER: &str = "##[endgroup]";

/// Reads a log file into a [`LogText`] from its bytes, fed in pieces cut anywhere (even inside
/// a UTF-8 sequence).
#[derive(Debug, Default)]
pub struct RawReader {
    /// The start of a line whose end has not arrived yet.
    carry: Vec<u8>,
    /// Whether the first line was read (it may start with a byte-order mark).
    started: bool,
}

impl RawReader {
    /// Adds the whole lines `bytes` completes; keeps the rest for the next piece.
    pub fn feed(&mut self, log: &mut LogText, bytes: &[u8]) {
        let mut rest = bytes;
        if !self.carry.is_empty() {
            let Some(end) = memchr(b'\n', rest) else {
                self.carry.extend_from_slice(rest);
                return;
            };
            self.carry.extend_from_slice(&rest[..end]);
            let mut line = std::mem::take(&mut self.carry);
            self.read_line(log, &line);
            line.clear();
            self.carry = line;
            rest = &rest[end + 1..];
        }
        while let Some(end) = memchr(b'\n', rest) {
            self.read_line(log, &rest[..end]);
            rest = &rest[end + 1..];
        }
        self.carry.extend_from_slice(rest);
    }

    /// Adds the last line, when the file does not end with a newline.
    pub fn finish(&mut self, log: &mut LogText) {
        if !self.carry.is_empty() {
            let line = std::mem::take(&mut self.carry);
            self.read_line(log, &line);
        }
    }

    fn read_line(&mut self, log: &mut LogText, bytes: &[u8]) {
        // Bytes that are not UTF-8 show as U+FFFD, as the browser's own text decoding does
        // (checked first the fast way: the lossy one reads byte by byte).
        let text = match std::str::from_utf8(bytes) {
            Ok(text) => Cow::Borrowed(text),
            Err(_) => String::from_utf8_lossy(bytes),
        };
        let mut line: &str = &text;
        if !self.started {
            self.started = true;
            line = line.strip_prefix('\u{feff}').unwrap_or(line);
        }
        let (at, rest) = match line.split_once(' ') {
            Some((first, rest)) => match parse_rfc3339_ms(first) {
                Some(at) => (Some(at), rest),
                None => (None, line),
            },
            None => (None, line),
        };
        if let Some(name) = rest.strip_prefix(GROUP_MARKER) {
            log.push_header(name.trim_end_matches('\r'), at);
        } else if rest.trim_end_matches('\r') == END_GROUP_MARKER {
            log.end_step();
        } else {
            log.push_line(rest, at);
        }
    }
}

impl LogText {
    /// Reads a whole log file (see [`RawReader`]).
    pub fn from_raw(raw: &[u8]) -> Self {
        let mut log = Self::new();
        let mut reader = RawReader::default();
        reader.feed(&mut log, raw);
        reader.finish(&mut log);
        log
    }

    /// Writes the log as a file, handing it to `emit` in pieces of about `piece` bytes (whole
    /// lines), so that a long log is never one string in memory: a step's `##[group]` header
    /// (`##[endgroup]` for lines after one), every line with its colours, the credentials
    /// step's marker lines in place, times omitted when unknown.
    pub fn write_raw(&self, piece: usize, mut emit: impl FnMut(&str)) {
        let mut out = String::with_capacity(piece + 4096);
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
            if index > 0 || !step.name.is_empty() {
                stamp(&mut out, step.started_ms.or(self.base_ms));
                if step.name.is_empty() {
                    out.push_str(END_GROUP_MARKER);
                } else {
                    out.push_str(GROUP_MARKER);
                    out.push_str(&step.name);
                }
                out.push('\n');
            }
            let end = step.first_line + step.line_count;
            for line in step.first_line..end {
                markers_before(&mut out, index, line);
                let line = line as usize;
                stamp(&mut out, self.time_ms(line));
                ansi::encode(self.line(line), &self.line_styles(line), &mut out);
                out.push('\n');
                if out.len() >= piece {
                    emit(&out);
                    out.clear();
                }
            }
            markers_before(&mut out, index, end);
        }
        if !out.is_empty() {
            emit(&out);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The whole file `log` writes.
    fn raw(log: &LogText) -> String {
        let mut out = String::new();
        log.write_raw(64, |piece| out.push_str(piece));
        out
    }

    const KEYLESS: &str = "2026-11-25T17:34:00.000Z ##[group]Setup\n\
        2026-11-25T17:34:00.250Z \x1b[31mred\x1b[0m é\n\
        2026-11-25T17:34:01.000Z plain\n\
        2026-11-25T17:34:02.000Z ##[group]Get source\n\
        2026-11-25T17:34:03.000Z <script>alert(1)</script>\n";

    #[test]
    fn a_file_fed_in_pieces_cut_anywhere_is_the_same_log() {
        let whole = LogText::from_raw(KEYLESS.as_bytes());
        assert_eq!(whole.len(), 3);
        assert_eq!(whole.steps().len(), 2);
        // Every cut, one inside "é" (two bytes) included.
        for cut in 0..KEYLESS.len() {
            for size in [1, 7, 4096] {
                let mut log = LogText::new();
                let mut reader = RawReader::default();
                reader.feed(&mut log, &KEYLESS.as_bytes()[..cut]);
                for piece in KEYLESS.as_bytes()[cut..].chunks(size) {
                    reader.feed(&mut log, piece);
                }
                reader.finish(&mut log);
                assert_eq!(raw(&log), raw(&whole), "cut at {cut}, pieces of {size}");
            }
        }
        assert_eq!(whole.line(0), "red é");
    }

    #[test]
    fn the_written_file_reads_back_as_the_same_log_in_pieces() {
        let log = LogText::from_raw(KEYLESS.as_bytes());
        let mut pieces = Vec::new();
        log.write_raw(40, |piece| pieces.push(piece.to_owned()));
        assert!(pieces.len() > 1, "a long log is written in pieces");
        assert!(pieces.iter().all(|p| p.ends_with('\n')), "of whole lines");
        let written = pieces.concat();
        assert!(written.starts_with("2026-11-25T17:34:00.000Z ##[group]Setup\n"));
        let again = LogText::from_raw(written.as_bytes());
        assert_eq!(raw(&again), written);
        assert_eq!(again.steps(), log.steps());
        for line in 0..log.len() {
            assert_eq!(again.line(line), log.line(line));
            assert_eq!(again.line_styles(line), log.line_styles(line));
            assert_eq!(again.time_ms(line), log.time_ms(line));
        }
    }

    #[test]
    fn github_actions_logs_have_their_steps() {
        let github = "\u{feff}2024-05-01T10:00:00.1234567Z ##[group]Run actions/checkout@v4\r\n\
            2024-05-01T10:00:00.2000000Z with: repository\r\n\
            2024-05-01T10:00:00.3000000Z ##[endgroup]\r\n\
            2024-05-01T10:00:01.0000000Z Syncing repository\r\n\
            2024-05-01T10:00:02.0000000Z ##[group]Getting Git version info\r\n\
            2024-05-01T10:00:02.5000000Z git version 2.45\r\n";
        let log = LogText::from_raw(github.as_bytes());
        let steps: Vec<(&str, u32, u32)> = log
            .steps()
            .iter()
            .map(|s| (s.name.as_str(), s.first_line, s.line_count))
            .collect();
        assert_eq!(
            steps,
            [
                ("Run actions/checkout@v4", 0, 1),
                ("", 1, 1),
                ("Getting Git version info", 2, 1)
            ]
        );
        assert_eq!(log.line(1), "Syncing repository");
        assert_eq!(log.time_ms(0), Some(1_714_557_600_200));
        // Written back, the lines after `##[endgroup]` are still outside any group.
        let again = LogText::from_raw(raw(&log).as_bytes());
        assert_eq!(again.steps(), log.steps());
        assert!(raw(&log).contains("Z ##[endgroup]\n"));
    }

    #[test]
    fn any_text_file_opens() {
        let log = LogText::from_raw(b"one\ntwo\n\xffthree");
        assert_eq!(log.len(), 3);
        assert_eq!(log.steps().len(), 1);
        assert_eq!(log.line(2), "\u{fffd}three");
        assert_eq!(log.time_ms(0), None);
        assert!(LogText::from_raw(b"").is_empty());
    }
}

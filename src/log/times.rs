//! The time shown beside each line: its time of day (UTC), its time since the log's start, or
//! nothing. The viewer shows it and search reads it from the same function, so that what is
//! found is what is on screen. Written digit by digit into a reused string: a search with
//! times shown formats every line's.

use super::LogText;

/// How the time of each line is shown.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Timestamps {
    /// Not shown.
    #[default]
    Off,
    /// The time of day, UTC: `17:34:00.250`.
    Absolute,
    /// The time since the log's start: `+1:01.500`.
    Relative,
}

impl Timestamps {
    /// Writes line `index`'s time as shown into `out` (emptied first); `false` when nothing is
    /// shown beside the line.
    pub fn write(self, log: &LogText, index: usize, out: &mut String) -> bool {
        out.clear();
        let Some(at) = log.time_ms(index) else {
            return false;
        };
        match self {
            Self::Off => return false,
            Self::Absolute => push_clock(at, out),
            Self::Relative => push_offset(at - log.start_ms().unwrap_or(at), out),
        }
        true
    }
}

fn push_digits(value: i64, width: usize, out: &mut String) {
    let mut digits = [b'0'; 20];
    let (mut value, mut at) = (value.unsigned_abs(), digits.len());
    while value > 0 || digits.len() - at < width {
        at -= 1;
        digits[at] = b'0' + (value % 10) as u8;
        value /= 10;
    }
    for &digit in &digits[at..] {
        out.push(char::from(digit));
    }
}

/// `17:34:00.123`, the UTC time of day.
fn push_clock(ms: i64, out: &mut String) {
    let day_ms = ms.rem_euclid(86_400_000);
    push_digits(day_ms / 3_600_000, 2, out);
    out.push(':');
    push_digits(day_ms / 60_000 % 60, 2, out);
    out.push(':');
    push_digits(day_ms / 1_000 % 60, 2, out);
    out.push('.');
    push_digits(day_ms % 1_000, 3, out);
}

/// `+1:02.345` (minutes:seconds.millis; hours when needed).
fn push_offset(ms: i64, out: &mut String) {
    let ms = ms.max(0);
    out.push('+');
    let hours = ms / 3_600_000;
    if hours > 0 {
        push_digits(hours, 1, out);
        out.push(':');
        push_digits(ms / 60_000 % 60, 2, out);
    } else {
        push_digits(ms / 60_000 % 60, 1, out);
    }
    out.push(':');
    push_digits(ms / 1_000 % 60, 2, out);
    out.push('.');
    push_digits(ms % 1_000, 3, out);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::{format_clock, format_offset};

    #[test]
    fn times_are_written_as_the_console_formats_them() {
        let mut out = String::new();
        for ms in [
            0,
            1,
            999,
            61_500,
            3_599_999,
            3_600_000,
            86_399_999,
            1_795_628_040_250,
        ] {
            out.clear();
            push_clock(ms, &mut out);
            assert_eq!(out, format_clock(ms), "{ms}");
            out.clear();
            push_offset(ms, &mut out);
            assert_eq!(out, format_offset(ms), "{ms}");
        }
    }

    #[test]
    fn each_line_shows_its_time_or_nothing() {
        let mut log = LogText::new();
        log.push_line("untimed", None);
        let mut untimed = LogText::new();
        untimed.push_line("untimed", None);
        log.push_line("first", Some(1_795_628_040_250));
        log.push_line("later", Some(1_795_628_101_750));
        let mut out = String::from("stale");
        assert!(!Timestamps::Off.write(&log, 1, &mut out));
        assert!(out.is_empty());
        assert!(!Timestamps::Absolute.write(&untimed, 0, &mut out));
        assert!(Timestamps::Absolute.write(&log, 2, &mut out));
        assert_eq!(out, "17:35:01.750");
        assert!(Timestamps::Relative.write(&log, 2, &mut out));
        assert_eq!(out, "+1:01.500");
    }
}

//! Times as the API writes them (RFC 3339, UTC) and as the console shows them.

/// Milliseconds since the Unix epoch of an RFC 3339 time such as `2026-11-25T17:34:00.123456Z`
/// or `2026-11-25T18:34:00+01:00`.
pub fn parse_rfc3339_ms(text: &str) -> Option<i64> {
    let b = text.as_bytes();
    if b.len() < 20
        || b[4] != b'-'
        || b[7] != b'-'
        || !matches!(b[10], b'T' | b't' | b' ')
        || b[13] != b':'
        || b[16] != b':'
    {
        return None;
    }
    // Every log line's time comes through here: digits are read straight off the bytes.
    let num = |from: usize, to: usize| digits(&b[from..to]);
    let (year, month, day) = (num(0, 4)?, num(5, 7)?, num(8, 10)?);
    let (hour, minute, second) = (num(11, 13)?, num(14, 16)?, num(17, 19)?);
    // A second of 60 is a leap second's.
    if !(1..=12).contains(&month)
        || day < 1
        || day > days_in_month(year, month)
        || hour > 23
        || minute > 59
        || second > 60
    {
        return None;
    }
    let mut rest = &text[19..];
    let mut millis = 0;
    if let Some(fraction) = rest.strip_prefix('.') {
        let count = fraction.bytes().take_while(u8::is_ascii_digit).count();
        if count == 0 {
            return None;
        }
        // The first three digits, padded with zeros.
        millis = fraction.as_bytes()[..count.min(3)]
            .iter()
            .chain(std::iter::repeat(&b'0'))
            .take(3)
            .fold(0, |ms, &c| ms * 10 + i64::from(c - b'0'));
        rest = &fraction[count..];
    }
    let offset_minutes = match rest.as_bytes().first()? {
        b'Z' | b'z' if rest.len() == 1 => 0,
        sign @ (b'+' | b'-') if rest.len() == 6 && rest.as_bytes()[3] == b':' => {
            let hours = digits(&rest.as_bytes()[1..3])?;
            let minutes = digits(&rest.as_bytes()[4..6])?;
            if hours > 23 || minutes > 59 {
                return None;
            }
            let total = hours * 60 + minutes;
            if *sign == b'+' { total } else { -total }
        }
        _ => return None,
    };
    let days = days_from_civil(year, month, day);
    let seconds = days * 86_400 + hour * 3_600 + minute * 60 + second - offset_minutes * 60;
    Some(seconds * 1_000 + millis)
}

/// The number `bytes` spell in decimal, if they are all digits (at most a few).
fn digits(bytes: &[u8]) -> Option<i64> {
    bytes.iter().try_fold(0, |n, &c| {
        c.is_ascii_digit().then(|| n * 10 + i64::from(c - b'0'))
    })
}

/// How many days `month` (1 to 12) of `year` has.
fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Howard Hinnant's days-from-civil.
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// A duration for people: `850ms`, `12s`, `3m 05s`, `1h 02m`.
pub fn format_duration(ms: i64) -> String {
    let ms = ms.max(0);
    let seconds = ms / 1_000;
    match seconds {
        0 if ms < 1_000 => format!("{ms}ms"),
        0..60 => format!("{seconds}s"),
        60..3_600 => format!("{}m {:02}s", seconds / 60, seconds % 60),
        _ => format!("{}h {:02}m", seconds / 3_600, seconds / 60 % 60),
    }
}

/// The UTC time of day with milliseconds, `17:34:00.123`.
pub fn format_clock(ms: i64) -> String {
    let day_ms = ms.rem_euclid(86_400_000);
    format!(
        "{:02}:{:02}:{:02}.{:03}",
        day_ms / 3_600_000,
        day_ms / 60_000 % 60,
        day_ms / 1_000 % 60,
        day_ms % 1_000
    )
}

/// Time since a start, `+1:02.345` (minutes:seconds.millis; hours when needed).
pub fn format_offset(ms: i64) -> String {
    let ms = ms.max(0);
    let (hours, minutes) = (ms / 3_600_000, ms / 60_000 % 60);
    let (seconds, millis) = (ms / 1_000 % 60, ms % 1_000);
    if hours > 0 {
        format!("+{hours}:{minutes:02}:{seconds:02}.{millis:03}")
    } else {
        format!("+{minutes}:{seconds:02}.{millis:03}")
    }
}

/// An RFC 3339 UTC time with milliseconds, `2026-11-25T17:34:00.123Z`.
pub fn format_rfc3339_ms(ms: i64) -> String {
    format!("{}T{}Z", format_date(ms), format_clock(ms))
}

/// The calendar date of `ms` (shifted beforehand for local dates), `2026-11-25`.
fn format_date(ms: i64) -> String {
    // Howard Hinnant's civil-from-days.
    let z = ms.div_euclid(86_400_000) + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}")
}

/// The exact time `ms` where the reader is (`offset_minutes` east of UTC), to the second:
/// `2026-11-25 18:34:00 UTC+01:00`. Shown on hover beside [`format_relative`].
pub fn format_local(ms: i64, offset_minutes: i64) -> String {
    let local = ms + offset_minutes * 60_000;
    let sign = if offset_minutes < 0 { '-' } else { '+' };
    let offset = offset_minutes.abs();
    format!(
        "{} {} UTC{sign}{:02}:{:02}",
        format_date(local),
        &format_clock(local)[..8],
        offset / 60,
        offset % 60
    )
}

/// `at` as people say it at `now`: `just now`, `3 min ago`, `2 h ago`, `yesterday`,
/// `5 days ago` (and `in 3 min` … `tomorrow` … `in 5 days` ahead), then the reader's date
/// (`offset_minutes` east of UTC) once it is a week or more away. The one format of times
/// in the console, so a list reads at a glance; the exact time goes beside it on hover.
pub fn format_relative(at: i64, now: i64, offset_minutes: i64) -> String {
    let ago = now - at;
    let (minutes, hours, days) = (
        ago.abs() / 60_000,
        ago.abs() / 3_600_000,
        ago.abs() / 86_400_000,
    );
    let (amount, unit) = match (minutes, hours, days) {
        (0, _, _) => return "just now".to_owned(),
        (_, 0, _) => (minutes, "min"),
        (_, _, 0) => (hours, "h"),
        (_, _, 1) if ago > 0 => return "yesterday".to_owned(),
        (_, _, 1) => return "tomorrow".to_owned(),
        (_, _, 2..7) => (days, "days"),
        _ => return format_date(at + offset_minutes * 60_000),
    };
    if ago > 0 {
        format!("{amount} {unit} ago")
    } else {
        format!("in {amount} {unit}")
    }
}

/// Minutes east of UTC of the browser's time zone at `ms` (daylight saving included).
pub fn local_offset_minutes(ms: i64) -> i64 {
    -(js_sys::Date::new(&(ms as f64).into()).get_timezone_offset() as i64)
}

/// Now, in milliseconds since the Unix epoch.
pub fn now_ms() -> i64 {
    js_sys::Date::now() as i64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_api_timestamps() {
        assert_eq!(parse_rfc3339_ms("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(
            parse_rfc3339_ms("2026-11-25T17:34:00.123456Z"),
            Some(1_795_628_040_123)
        );
        assert_eq!(
            parse_rfc3339_ms("2026-11-25T18:34:00.1+01:00"),
            Some(1_795_628_040_100)
        );
        assert_eq!(
            parse_rfc3339_ms("2000-02-29T12:34:56Z"),
            Some(951_827_696_000)
        );
        assert_eq!(
            parse_rfc3339_ms("1970-01-01T00:00:00-01:30"),
            Some(5_400_000)
        );
        assert_eq!(
            parse_rfc3339_ms("2024-02-29T00:00:00Z"),
            Some(1_709_164_800_000)
        );
        // A leap second reads as the next minute's first.
        assert_eq!(parse_rfc3339_ms("1970-01-01T00:00:60Z"), Some(60_000));
        for bad in [
            "",
            "2026-11-25",
            "2026-13-01T00:00:00Z",
            "2026-11-25T17:34:00",
            "x026-11-25T17:34:00Z",
            "2026-11-25T17:34:00.Z",
            "2026-02-29T00:00:00Z",
            "1900-02-29T00:00:00Z",
            "2026-04-31T00:00:00Z",
            "2026-11-00T00:00:00Z",
            "2026-11-25T17x34:00Z",
            "2026-11-25T17:34x00Z",
            "2026-11-25T17:34:61Z",
            "2026-11-25T17:34:00+1:000",
            "2026-11-25T17:34:00+01-00",
            "2026-11-25T17:34:00+24:00",
            "2026-11-25T17:34:00+01:60",
            "2026-11-25T17:34:00+0a:00",
            "2026-11-25T17:34:00+01:00 ",
            "2026-11-25T17:34:00Zé",
            "2026-11-25T17:34:0é",
            "2026-11-25T17:34:00.12é",
            "2026-11-25T17:34:00é+01:00",
            "2026-11-25T17:3é:00Z",
            "２０２６-11-25T17:34:00Z",
        ] {
            assert_eq!(parse_rfc3339_ms(bad), None, "{bad}");
        }
    }

    #[test]
    fn formats_durations_and_times() {
        assert_eq!(format_duration(850), "850ms");
        assert_eq!(format_duration(12_400), "12s");
        assert_eq!(format_duration(185_000), "3m 05s");
        assert_eq!(format_duration(3_720_000), "1h 02m");
        assert_eq!(format_clock(1_795_628_040_123), "17:34:00.123");
        assert_eq!(format_offset(62_345), "+1:02.345");
        assert_eq!(format_offset(3_723_004), "+1:02:03.004");
        assert_eq!(
            format_rfc3339_ms(1_795_628_040_123),
            "2026-11-25T17:34:00.123Z"
        );
        assert_eq!(
            format_rfc3339_ms(951_827_696_000),
            "2000-02-29T12:34:56.000Z"
        );
        assert_eq!(format_rfc3339_ms(0), "1970-01-01T00:00:00.000Z");
    }

    /// 2026-11-25T17:34:00Z.
    const NOW: i64 = 1_795_628_040_000;
    const MINUTE: i64 = 60_000;
    const HOUR: i64 = 60 * MINUTE;
    const DAY: i64 = 24 * HOUR;

    #[test]
    fn relative_times_read_like_speech() {
        let ago = |ms: i64| format_relative(NOW - ms, NOW, 0);
        assert_eq!(ago(0), "just now");
        assert_eq!(ago(59_999), "just now");
        assert_eq!(
            ago(-30_000),
            "just now",
            "a clock a little behind the server's"
        );
        assert_eq!(ago(MINUTE), "1 min ago");
        assert_eq!(ago(3 * MINUTE + 59_000), "3 min ago");
        assert_eq!(ago(59 * MINUTE), "59 min ago");
        assert_eq!(ago(2 * HOUR + 5 * MINUTE), "2 h ago");
        assert_eq!(ago(23 * HOUR), "23 h ago");
        assert_eq!(ago(DAY + HOUR), "yesterday");
        assert_eq!(ago(2 * DAY), "2 days ago");
        assert_eq!(ago(6 * DAY + 23 * HOUR), "6 days ago");
        assert_eq!(ago(7 * DAY), "2026-11-18");
        assert_eq!(ago(400 * DAY), "2025-10-21");
    }

    #[test]
    fn relative_times_ahead_and_dates_where_the_reader_is() {
        let ahead = |ms: i64| format_relative(NOW + ms, NOW, 0);
        assert_eq!(ahead(5 * MINUTE), "in 5 min");
        assert_eq!(ahead(3 * HOUR), "in 3 h");
        assert_eq!(ahead(DAY + HOUR), "tomorrow");
        assert_eq!(ahead(30 * DAY), "2026-12-25");
        // 2026-11-18T17:34Z is already the 19th in Auckland (UTC+13:00), still the 18th in Hawaii.
        assert_eq!(format_relative(NOW - 7 * DAY, NOW, 13 * 60), "2026-11-19");
        assert_eq!(format_relative(NOW - 7 * DAY, NOW, -10 * 60), "2026-11-18");
    }

    #[test]
    fn exact_local_times_name_their_offset() {
        assert_eq!(format_local(NOW + 123, 0), "2026-11-25 17:34:00 UTC+00:00");
        assert_eq!(format_local(NOW, 60), "2026-11-25 18:34:00 UTC+01:00");
        assert_eq!(
            format_local(NOW, -(9 * 60 + 30)),
            "2026-11-25 08:04:00 UTC-09:30"
        );
        assert_eq!(format_local(NOW, 7 * 60), "2026-11-26 00:34:00 UTC+07:00");
    }
}

//! Times as the API writes them (RFC 3339, UTC) and as the console shows them.

/// Milliseconds since the Unix epoch of an RFC 3339 time such as `2026-11-25T17:34:00.123456Z`
/// or `2026-11-25T18:34:00+01:00`.
pub fn parse_rfc3339_ms(text: &str) -> Option<i64> {
    let b = text.as_bytes();
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b't' | b' ') {
        return None;
    }
    let num = |from: usize, to: usize| -> Option<i64> {
        let part = text.get(from..to)?;
        part.bytes()
            .all(|c| c.is_ascii_digit())
            .then(|| part.parse().ok())?
    };
    let (year, month, day) = (num(0, 4)?, num(5, 7)?, num(8, 10)?);
    let (hour, minute, second) = (num(11, 13)?, num(14, 16)?, num(17, 19)?);
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) || hour > 23 || minute > 59 {
        return None;
    }
    let mut rest = &text[19..];
    let mut millis = 0;
    if let Some(fraction) = rest.strip_prefix('.') {
        let digits = fraction.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return None;
        }
        let mut padded: String = fraction[..digits.min(3)].to_owned();
        while padded.len() < 3 {
            padded.push('0');
        }
        millis = padded.parse().ok()?;
        rest = &fraction[digits..];
    }
    let offset_minutes = match rest.as_bytes().first()? {
        b'Z' | b'z' if rest.len() == 1 => 0,
        sign @ (b'+' | b'-') if rest.len() == 6 && rest.as_bytes()[3] == b':' => {
            let hours: i64 = rest[1..3].parse().ok()?;
            let minutes: i64 = rest[4..6].parse().ok()?;
            let total = hours * 60 + minutes;
            if *sign == b'+' { total } else { -total }
        }
        _ => return None,
    };
    let days = days_from_civil(year, month, day);
    let seconds = days * 86_400 + hour * 3_600 + minute * 60 + second - offset_minutes * 60;
    Some(seconds * 1_000 + millis)
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
    let date = crate::pages::stacks::format_utc(ms.div_euclid(1_000));
    // `format_utc` gives `YYYY-MM-DD HH:MM UTC`; seconds and millis come from here.
    format!("{}T{}Z", &date[..10], format_clock(ms))
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
        for bad in [
            "",
            "2026-11-25",
            "2026-13-01T00:00:00Z",
            "2026-11-25T17:34:00",
            "x026-11-25T17:34:00Z",
            "2026-11-25T17:34:00.Z",
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
    }
}

//! Go-style durations (`1h30m`, `900s`, `1.5h`), echoed normalised as Go prints them (`1h30m0s`).

/// Parses a Go duration string into whole seconds. Fractions below a second are rejected,
/// since no duration setting here has sub-second meaning. Counted in u64 nanoseconds, as Go
/// counts them (Go's limit is about 292 years, this one 584): 128-bit arithmetic would cost
/// the console's wasm a kilobyte.
pub fn parse(text: &str) -> Result<u64, String> {
    let s = text.trim();
    if s.is_empty() {
        return Err("is empty; use a duration like 1h0m0s".into());
    }
    if s == "0" {
        return Ok(0);
    }
    let too_long = || format!("\"{s}\" is too long");
    let mut rest = s;
    let mut nanos: u64 = 0;
    while !rest.is_empty() {
        let number_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .ok_or_else(|| format!("\"{s}\" is missing a unit (h, m or s)"))?;
        if number_len == 0 {
            return Err(format!("\"{s}\" is not a duration like 1h0m0s"));
        }
        let (number, tail) = rest.split_at(number_len);
        let unit_len = tail
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(tail.len());
        let (unit, tail) = tail.split_at(unit_len);
        let unit_nanos: u64 = match unit {
            "ns" => 1,
            "us" | "µs" => 1_000,
            "ms" => 1_000_000,
            "s" => 1_000_000_000,
            "m" => 60_000_000_000,
            "h" => 3_600_000_000_000,
            _ => {
                return Err(format!(
                    "\"{s}\" has an unknown unit \"{unit}\"; use h, m or s"
                ));
            }
        };
        let part = match scaled(number, unit_nanos) {
            Scaled::Nanos(part) => part,
            Scaled::Malformed => return Err(format!("\"{s}\" is not a duration like 1h0m0s")),
            Scaled::TooLong => return Err(too_long()),
        };
        nanos = nanos.checked_add(part).ok_or_else(too_long)?;
        rest = tail;
    }
    if !nanos.is_multiple_of(1_000_000_000) {
        return Err(format!("\"{s}\" is not a whole number of seconds"));
    }
    Ok(nanos / 1_000_000_000)
}

enum Scaled {
    Nanos(u64),
    Malformed,
    TooLong,
}

/// `number` (digits with an optional fraction) times `unit` nanoseconds.
fn scaled(number: &str, unit: u64) -> Scaled {
    let (whole, fraction) = number.split_once('.').unwrap_or((number, ""));
    if whole.is_empty() && fraction.is_empty() || fraction.contains('.') {
        return Scaled::Malformed;
    }
    // Only digits are left: a whole part that does not parse is too big.
    let whole: u64 = match whole {
        "" => 0,
        digits => match digits.parse() {
            Ok(whole) => whole,
            Err(_) => return Scaled::TooLong,
        },
    };
    let Some(mut total) = whole.checked_mul(unit) else {
        return Scaled::TooLong;
    };
    let mut scale = unit;
    for digit in fraction.bytes() {
        scale /= 10;
        total = match total.checked_add(u64::from(digit - b'0') * scale) {
            Some(total) => total,
            None => return Scaled::TooLong,
        };
    }
    Scaled::Nanos(total)
}

/// Formats whole seconds the way Go's `time.Duration.String` does: `1h0m0s`, `15m0s`, `45s`, `0s`.
pub fn format(seconds: u64) -> String {
    let (h, m, s) = (seconds / 3600, seconds / 60 % 60, seconds % 60);
    match (h, m) {
        (0, 0) => format!("{s}s"),
        (0, _) => format!("{m}m{s}s"),
        _ => format!("{h}h{m}m{s}s"),
    }
}

/// Parses and re-formats, so `90m` becomes `1h30m0s`.
pub fn normalize(text: &str) -> Result<String, String> {
    parse(text).map(format)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_go_durations() {
        for (text, seconds) in [
            ("1h", 3600),
            ("1h0m0s", 3600),
            ("90m", 5400),
            ("15m", 900),
            ("900s", 900),
            ("1.5h", 5400),
            ("2h45m30s", 9930),
            ("2000ms", 2),
        ] {
            assert_eq!(parse(text), Ok(seconds), "{text}");
        }
    }

    #[test]
    fn rejects_what_go_rejects() {
        for text in ["", "1", "h", "1x", "1h-", "-1h", "1.2.3h", "1500ms", "1d"] {
            assert!(parse(text).is_err(), "{text} should be rejected");
        }
    }

    #[test]
    fn fractions_and_the_longest_durations() {
        assert_eq!(parse("0.5m"), Ok(30));
        assert_eq!(parse(".5h"), Ok(1800));
        assert_eq!(
            parse("1.000000001s").unwrap_err(),
            "\"1.000000001s\" is not a whole number of seconds"
        );
        // u64 nanoseconds hold 18446744073 whole seconds.
        assert_eq!(parse("18446744073s"), Ok(18_446_744_073));
        assert_eq!(parse("5124095h34m33s"), Ok(18_446_744_073));
        for text in [
            "18446744074s",
            "5124096h",
            "99999999999999999999h",
            "5124095h34m34s",
            "3000000000000000h1s",
        ] {
            assert_eq!(
                parse(text),
                Err(format!("\"{text}\" is too long")),
                "{text}"
            );
        }
    }

    #[test]
    fn formats_like_go() {
        assert_eq!(format(0), "0s");
        assert_eq!(format(45), "45s");
        assert_eq!(format(900), "15m0s");
        assert_eq!(format(3600), "1h0m0s");
        assert_eq!(format(43200), "12h0m0s");
        assert_eq!(normalize("90m").as_deref(), Ok("1h30m0s"));
    }
}

//! Timestamps as the API writes them: RFC 3339 in UTC with microseconds, fixed width so that
//! they sort as text.

use time::OffsetDateTime;
use time::macros::format_description;

/// The current time, e.g. `2026-12-01T09:30:00.123456Z`.
pub fn now() -> String {
    format(OffsetDateTime::now_utc())
}

/// `at` in the API's format.
pub fn format(at: OffsetDateTime) -> String {
    let description =
        format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:6]Z");
    at.to_offset(time::UtcOffset::UTC)
        .format(description)
        .unwrap_or_else(|_| at.unix_timestamp().to_string())
}

/// Whole seconds (rounded) from `start` to `end`, both RFC 3339; 0 when `end` is earlier.
/// Computed here rather than in SQL, where every engine spells it differently.
pub fn seconds_between(start: &str, end: &str) -> Result<u64, time::error::Parse> {
    let rfc3339 = &time::format_description::well_known::Rfc3339;
    let elapsed = OffsetDateTime::parse(end, rfc3339)? - OffsetDateTime::parse(start, rfc3339)?;
    let millis = elapsed.whole_milliseconds().max(0);
    Ok(u64::try_from((millis + 500) / 1000).unwrap_or(u64::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixed_width_utc() {
        let at =
            OffsetDateTime::from_unix_timestamp_nanos(1_800_000_000_123_456_789).expect("in range");
        assert_eq!(format(at), "2027-01-15T08:00:00.123456Z");
        assert_eq!(now().len(), 27);
    }

    #[test]
    fn seconds_between_rounds_and_never_goes_negative() {
        let start = "2026-12-01T09:30:00.000000Z";
        assert_eq!(
            seconds_between(start, "2026-12-01T09:32:05.600000Z"),
            Ok(126)
        );
        assert_eq!(seconds_between(start, "2026-12-01T09:30:00.400000Z"), Ok(0));
        assert_eq!(seconds_between(start, "2026-12-01T09:29:00.000000Z"), Ok(0));
        assert!(seconds_between(start, "yesterday").is_err());
    }
}

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
}

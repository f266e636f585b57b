//! The lifetime advisor: warns when cloud sessions end before this stack's runs usually do.

use keyless_api_types::{PulumiOperation, duration};

/// Fewer successful runs than this say too little to warn about.
pub const MIN_SAMPLES: usize = 3;

/// The longest session AWS (`DurationSeconds`) and Google (`lifetime`, with the org policy
/// exception) grant: 12 hours.
pub const MAX_SESSION: u64 = 12 * 60 * 60;

/// Recommendations are rounded up to a quarter of an hour.
const STEP: u64 = 15 * 60;

/// The 95th percentile by nearest rank: the smallest sample with at least 95% of the samples at
/// or below it. `None` without samples.
pub fn p95(samples: &[u64]) -> Option<u64> {
    let mut sorted = samples.to_vec();
    sorted.sort_unstable();
    let rank = (95 * sorted.len()).div_ceil(100);
    sorted.get(rank.checked_sub(1)?).copied()
}

/// A warning when sessions of `lifetime` seconds are shorter than the p95 of `durations`, the
/// seconds recent successful runs of `operation` took; `None` when they are long enough or there
/// are fewer than [`MIN_SAMPLES`] runs. The advice adds a quarter for headroom, rounded up to a
/// quarter hour, at most [`MAX_SESSION`].
pub fn advise(lifetime: u64, operation: PulumiOperation, durations: &[u64]) -> Option<String> {
    if durations.len() < MIN_SAMPLES {
        return None;
    }
    let p95 = p95(durations)?;
    if lifetime >= p95 {
        return None;
    }
    let advised = (p95 + p95.div_ceil(4)).div_ceil(STEP) * STEP;
    Some(format!(
        "Sessions last {} but this stack's recent {} runs took up to {} (p95): raise the Session \
         Duration to at least {}",
        duration::format(lifetime),
        operation.as_str(),
        compact(p95),
        compact(advised.min(MAX_SESSION)),
    ))
}

/// A duration without zero parts: `22m`, `1h30m`, `45s`, `0s`.
pub(crate) fn compact(seconds: u64) -> String {
    let (h, m, s) = (seconds / 3600, seconds / 60 % 60, seconds % 60);
    let text: String = [(h, "h"), (m, "m"), (s, "s")]
        .iter()
        .filter(|(n, _)| *n > 0)
        .map(|(n, unit)| format!("{n}{unit}"))
        .collect();
    if text.is_empty() { "0s".into() } else { text }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIN: u64 = 60;

    #[test]
    fn p95_is_nearest_rank() {
        assert_eq!(p95(&[]), None);
        assert_eq!(p95(&[7]), Some(7));
        assert_eq!(p95(&[5, 1, 4, 2, 3]), Some(5));
        let hundred: Vec<u64> = (1..=100).collect();
        assert_eq!(p95(&hundred), Some(95));
        let twenty: Vec<u64> = (1..=20).rev().collect();
        assert_eq!(p95(&twenty), Some(19));
    }

    #[test]
    fn warns_when_sessions_end_before_long_runs() {
        let runs = [10 * MIN, 22 * MIN, 12 * MIN, 15 * MIN, 9 * MIN];
        assert_eq!(
            advise(15 * MIN, PulumiOperation::Destroy, &runs).as_deref(),
            Some(
                "Sessions last 15m0s but this stack's recent destroy runs took up to 22m (p95): \
                 raise the Session Duration to at least 30m"
            )
        );
        let long = [3 * 3600 + 10 * MIN, 2 * 3600, 3600];
        assert_eq!(
            advise(3600, PulumiOperation::Update, &long).as_deref(),
            Some(
                "Sessions last 1h0m0s but this stack's recent update runs took up to 3h10m \
                 (p95): raise the Session Duration to at least 4h"
            )
        );
        let endless = [20 * 3600, 20 * 3600, 20 * 3600];
        let text = advise(3600, PulumiOperation::Refresh, &endless).expect("warns");
        assert!(text.ends_with("up to 20h (p95): raise the Session Duration to at least 12h"));
    }

    #[test]
    fn silent_when_long_enough_or_too_few_runs() {
        assert_eq!(
            advise(3600, PulumiOperation::Update, &[100, 3600, 200]),
            None
        );
        assert_eq!(advise(60, PulumiOperation::Update, &[3600, 3600]), None);
        assert_eq!(advise(60, PulumiOperation::Update, &[]), None);
    }

    #[test]
    fn compact_durations_drop_zero_parts() {
        assert_eq!(compact(0), "0s");
        assert_eq!(compact(45), "45s");
        assert_eq!(compact(22 * MIN + 5), "22m5s");
        assert_eq!(compact(5400), "1h30m");
    }
}

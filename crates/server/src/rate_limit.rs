//! A sliding-window rate limit per key, in memory (a restart forgets it).

use std::collections::{HashMap, VecDeque};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

/// At most `max` hits per key within any `window`.
pub struct RateLimiter {
    max: usize,
    window: Duration,
    hits: Mutex<HashMap<String, VecDeque<Instant>>>,
}

impl RateLimiter {
    pub fn new(max: usize, window: Duration) -> Self {
        Self {
            max,
            window,
            hits: Mutex::default(),
        }
    }

    /// Counts a hit for `key`, or, when `max` hits already fall in the window, returns the
    /// whole seconds until the oldest leaves it (at least 1) without counting.
    pub fn hit(&self, key: &str) -> Result<(), u64> {
        let now = Instant::now();
        let mut hits = self.hits.lock().unwrap_or_else(PoisonError::into_inner);
        hits.retain(|_, times| {
            times.retain(|t| now.duration_since(*t) < self.window);
            !times.is_empty()
        });
        let times = hits.entry(key.to_owned()).or_default();
        match times.front() {
            Some(oldest) if times.len() >= self.max => {
                let wait = self.window.saturating_sub(now.duration_since(*oldest));
                Err(wait.as_secs_f64().ceil().max(1.0) as u64)
            }
            _ => {
                times.push_back(now);
                Ok(())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_past_the_limit_per_key() {
        let limiter = RateLimiter::new(2, Duration::from_secs(60));
        assert_eq!(limiter.hit("a"), Ok(()));
        assert_eq!(limiter.hit("a"), Ok(()));
        let wait = limiter.hit("a").expect_err("third hit");
        assert!((59..=60).contains(&wait), "{wait}");
        assert_eq!(limiter.hit("b"), Ok(()));
    }

    #[test]
    fn the_window_slides() {
        let limiter = RateLimiter::new(1, Duration::from_millis(20));
        assert_eq!(limiter.hit("a"), Ok(()));
        assert_eq!(limiter.hit("a"), Err(1));
        std::thread::sleep(Duration::from_millis(30));
        assert_eq!(limiter.hit("a"), Ok(()));
    }
}

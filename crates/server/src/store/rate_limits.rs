//! Rate limits kept in the store, so that servers sharing it enforce one limit together.

use async_trait::async_trait;

use super::StoreError;

/// At most `max` hits per key within any `window` milliseconds.
#[derive(Clone, Copy, Debug)]
pub struct Limit {
    pub max: usize,
    pub window: i64,
}

#[async_trait]
pub trait RateLimitStore: Send + Sync {
    /// Counts a hit for `key` now, by the database's clock (which every server sharing the
    /// store agrees on); or, when `limit.max` hits already fall in the window, counts nothing
    /// and returns the milliseconds until the oldest leaves it. Hits that left the window are
    /// forgotten.
    async fn hit(&self, key: &str, limit: Limit) -> Result<Result<(), i64>, StoreError>;
}

//! Shared rate limits, in SQL both engines run.

/// [`RateLimitStore`](crate::store::RateLimitStore) for an engine's store (see
/// `deployment_store!`).
macro_rules! rate_limit_store {
    ($store:ident, $db:ident) => {
        mod rate_limit_store {
            use async_trait::async_trait;

            use super::$store as This;
            use crate::store::StoreError;
            use crate::store::rate_limits::{Limit, RateLimitStore};

            #[async_trait]
            impl RateLimitStore for This {
                async fn hit(
                    &self,
                    key: &str,
                    limit: Limit,
                ) -> Result<Result<(), i64>, StoreError> {
                    let mut tx = self.pool.begin().await?;
                    // Count and insert as one, or concurrent hits would all see room.
                    super::serialize_on(&mut tx, key).await?;
                    let (now,): (i64,) = sqlx::query_as(&format!("SELECT {}", super::NOW_MILLIS))
                        .fetch_one(&mut *tx)
                        .await?;
                    sqlx::query("DELETE FROM rate_limit_hits WHERE key = $1 AND at <= $2")
                        .bind(key)
                        .bind(now - limit.window)
                        .execute(&mut *tx)
                        .await?;
                    let (count, oldest): (i64, Option<i64>) = sqlx::query_as(
                        "SELECT COUNT(*), MIN(at) FROM rate_limit_hits WHERE key = $1",
                    )
                    .bind(key)
                    .fetch_one(&mut *tx)
                    .await?;
                    if usize::try_from(count).unwrap_or(usize::MAX) >= limit.max {
                        let wait = oldest.map_or(limit.window, |at| at + limit.window - now);
                        tx.commit().await?;
                        return Ok(Err(wait.max(1)));
                    }
                    sqlx::query("INSERT INTO rate_limit_hits (key, at) VALUES ($1, $2)")
                        .bind(key)
                        .bind(now)
                        .execute(&mut *tx)
                        .await?;
                    tx.commit().await?;
                    Ok(Ok(()))
                }
            }
        }
    };
}
pub(crate) use rate_limit_store;

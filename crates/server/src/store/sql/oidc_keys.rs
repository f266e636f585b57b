//! The OIDC key ring, in SQL both engines run.

/// [`OidcKeyStore`](crate::store::OidcKeyStore) for an engine's store (see
/// `deployment_store!`).
macro_rules! oidc_key_store {
    ($store:ident, $db:ident) => {
        mod oidc_key_store {
            use async_trait::async_trait;

            use super::$store as This;
            use crate::store::StoreError;
            use crate::store::oidc_keys::{OidcKeyStore, StoredKeyRing};

            #[async_trait]
            impl OidcKeyStore for This {
                async fn key_ring(&self) -> Result<Option<StoredKeyRing>, StoreError> {
                    let row: Option<(String, i64)> = sqlx::query_as(
                        "SELECT ring, version FROM oidc_key_ring WHERE name = 'ring'",
                    )
                    .fetch_optional(&self.pool)
                    .await?;
                    Ok(row.map(|(ring, version)| StoredKeyRing { ring, version }))
                }

                async fn key_ring_version(&self) -> Result<Option<i64>, StoreError> {
                    let row: Option<(i64,)> =
                        sqlx::query_as("SELECT version FROM oidc_key_ring WHERE name = 'ring'")
                            .fetch_optional(&self.pool)
                            .await?;
                    Ok(row.map(|(version,)| version))
                }

                async fn save_key_ring(
                    &self,
                    ring: &str,
                    read: Option<i64>,
                ) -> Result<i64, StoreError> {
                    let Some(read) = read else {
                        sqlx::query(
                            "INSERT INTO oidc_key_ring (name, ring, version) VALUES ('ring', $1, 1)",
                        )
                        .bind(ring)
                        .execute(&self.pool)
                        .await?;
                        return Ok(1);
                    };
                    let saved = sqlx::query(
                        "UPDATE oidc_key_ring SET ring = $1, version = $2
                         WHERE name = 'ring' AND version = $3",
                    )
                    .bind(ring)
                    .bind(read + 1)
                    .bind(read)
                    .execute(&self.pool)
                    .await?;
                    if saved.rows_affected() == 1 {
                        Ok(read + 1)
                    } else {
                        Err(StoreError::Conflict)
                    }
                }
            }
        }
    };
}
pub(crate) use oidc_key_store;

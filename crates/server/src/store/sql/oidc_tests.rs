//! "Test OIDC" runs and deployment durations, in SQL both engines run.

/// [`OidcTestStore`](crate::store::OidcTestStore) for an engine's store (see `deployment_store!`).
macro_rules! oidc_test_store {
    ($store:ident, $db:ident) => {
        mod oidc_test_store {
            use async_trait::async_trait;
            use keyless_api_types::PulumiOperation;

            use super::$store as This;
            use crate::store::backend;
            use crate::store::oidc_tests::{NewOidcTest, OidcTestRecord, OidcTestStore};
            use crate::store::{StackId, StoreError};
            use crate::timestamp;

            fn to_text(value: &serde_json::Value) -> Result<String, StoreError> {
                serde_json::to_string(value).map_err(backend)
            }

            fn from_text(text: &str) -> Result<serde_json::Value, StoreError> {
                serde_json::from_str(text).map_err(backend)
            }

            #[async_trait]
            impl OidcTestStore for This {
                async fn record_oidc_test(&self, test: NewOidcTest<'_>) -> Result<(), StoreError> {
                    sqlx::query(
                        "INSERT INTO oidc_tests (id, stack_id, requested_by, operation, created, jti, claims,
                                                 results)
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                    )
                    .bind(test.id)
                    .bind(test.stack_id)
                    .bind(test.requested_by)
                    .bind(test.operation.as_str())
                    .bind(test.created)
                    .bind(test.jti)
                    .bind(to_text(test.claims)?)
                    .bind(to_text(test.results)?)
                    .execute(&self.pool)
                    .await?;
                    Ok(())
                }

                async fn oidc_tests(
                    &self,
                    stack_id: &StackId,
                    limit: u32,
                ) -> Result<Vec<OidcTestRecord>, StoreError> {
                    let rows: Vec<(String, String, String, String, String, String)> =
                        sqlx::query_as(
                            "SELECT t.id, u.login, t.operation, t.created, t.claims, t.results
                         FROM oidc_tests t JOIN users u ON u.id = t.requested_by
                         WHERE t.stack_id = $1 ORDER BY t.seq DESC LIMIT $2",
                        )
                        .bind(stack_id)
                        .bind(i64::from(limit))
                        .fetch_all(&self.pool)
                        .await?;
                    rows.into_iter()
                        .map(|(id, requested_by, operation, created, claims, results)| {
                            Ok(OidcTestRecord {
                                id,
                                requested_by,
                                operation: PulumiOperation::parse(&operation).ok_or_else(|| {
                                    StoreError::Backend(
                                        format!("unknown operation {operation:?}").into(),
                                    )
                                })?,
                                created,
                                claims: from_text(&claims)?,
                                results: from_text(&results)?,
                            })
                        })
                        .collect()
                }

                async fn succeeded_durations(
                    &self,
                    stack_id: &StackId,
                    operation: PulumiOperation,
                    limit: u32,
                ) -> Result<Vec<u64>, StoreError> {
                    // A succeeded deployment was last modified when it finished.
                    let rows: Vec<(String, String)> = sqlx::query_as(
                        "SELECT started, modified
                         FROM deployments
                         WHERE stack_id = $1 AND operation = $2 AND status = 'succeeded'
                               AND started IS NOT NULL
                         ORDER BY seq DESC LIMIT $3",
                    )
                    .bind(stack_id)
                    .bind(operation.as_str())
                    .bind(i64::from(limit))
                    .fetch_all(&self.pool)
                    .await?;
                    rows.iter()
                        .map(|(started, finished)| timestamp::seconds_between(started, finished))
                        .collect::<Result<_, _>>()
                        .map_err(backend)
                }
            }
        }
    };
}
pub(crate) use oidc_test_store;

//! [`OidcTestStore`] for [`SqliteStore`].

use async_trait::async_trait;
use keyless_api_types::PulumiOperation;

use super::oidc_tests::{NewOidcTest, OidcTestRecord, OidcTestStore};
use super::sqlite::{SqliteStore, backend};
use super::{StackId, StoreError};

fn to_text(value: &serde_json::Value) -> Result<String, StoreError> {
    serde_json::to_string(value).map_err(backend)
}

fn from_text(text: &str) -> Result<serde_json::Value, StoreError> {
    serde_json::from_str(text).map_err(backend)
}

#[async_trait]
impl OidcTestStore for SqliteStore {
    async fn record_oidc_test(&self, test: NewOidcTest<'_>) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO oidc_tests (id, stack_id, requested_by, operation, created, jti, claims,
                                     results)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
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
        let rows: Vec<(String, String, String, String, String, String)> = sqlx::query_as(
            "SELECT t.id, u.login, t.operation, t.created, t.claims, t.results
             FROM oidc_tests t JOIN users u ON u.id = t.requested_by
             WHERE t.stack_id = ? ORDER BY t.seq DESC LIMIT ?",
        )
        .bind(stack_id)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter()
            .map(|(id, requested_by, operation, created, claims, results)| {
                Ok(OidcTestRecord {
                    id,
                    requested_by,
                    operation: PulumiOperation::parse(&operation).ok_or_else(|| {
                        StoreError::Backend(format!("unknown operation {operation:?}").into())
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
        let rows: Vec<(i64,)> = sqlx::query_as(
            "SELECT CAST(ROUND((julianday(modified) - julianday(started)) * 86400) AS INTEGER)
             FROM deployments
             WHERE stack_id = ? AND operation = ? AND status = 'succeeded'
                   AND started IS NOT NULL
             ORDER BY seq DESC LIMIT ?",
        )
        .bind(stack_id)
        .bind(operation.as_str())
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(seconds,)| u64::try_from(seconds).unwrap_or(0))
            .collect())
    }
}

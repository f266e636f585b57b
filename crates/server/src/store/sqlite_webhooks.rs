//! [`WebhookStore`] for [`SqliteStore`].

use async_trait::async_trait;
use keyless_api_types::{DeliveryOutcome, GitHubDelivery, StackRef};

use super::sqlite::{SqliteStore, backend};
use super::webhooks::{NewDelivery, WebhookSecret, WebhookStore};
use super::{StackRecord, StoreError, StoredSettings};

/// How many deliveries an organization's log keeps.
const KEPT_DELIVERIES: i64 = 1000;

fn outcome_name(outcome: DeliveryOutcome) -> &'static str {
    match outcome {
        DeliveryOutcome::Pending => "pending",
        DeliveryOutcome::Started => "started",
        DeliveryOutcome::Ignored => "ignored",
        DeliveryOutcome::Duplicate => "duplicate",
        DeliveryOutcome::Rejected => "rejected",
    }
}

fn parse_outcome(name: &str) -> Result<DeliveryOutcome, StoreError> {
    [
        DeliveryOutcome::Pending,
        DeliveryOutcome::Started,
        DeliveryOutcome::Ignored,
        DeliveryOutcome::Duplicate,
        DeliveryOutcome::Rejected,
    ]
    .into_iter()
    .find(|o| outcome_name(*o) == name)
    .ok_or_else(|| StoreError::Backend(format!("unknown delivery outcome {name:?}").into()))
}

type DeliveryRow = (String, String, String, String, String, String);

#[async_trait]
impl WebhookStore for SqliteStore {
    async fn set_webhook_secret(
        &self,
        org: &str,
        secret: &WebhookSecret,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO github_webhook_secrets (organization, ciphertext, created_by, created)
             VALUES (?, ?, ?, ?)
             ON CONFLICT (organization) DO UPDATE SET ciphertext = excluded.ciphertext,
                 created_by = excluded.created_by, created = excluded.created",
        )
        .bind(org)
        .bind(&secret.ciphertext)
        .bind(&secret.created_by)
        .bind(&secret.created)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn webhook_secret(&self, org: &str) -> Result<Option<WebhookSecret>, StoreError> {
        let row: Option<(String, String, String)> = sqlx::query_as(
            "SELECT ciphertext, created_by, created FROM github_webhook_secrets
             WHERE organization = ?",
        )
        .bind(org)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(|(ciphertext, created_by, created)| WebhookSecret {
            ciphertext,
            created_by,
            created,
        }))
    }

    async fn add_delivery(&self, new: NewDelivery<'_>) -> Result<i64, StoreError> {
        let mut tx = self.pool.begin().await?;
        let (row,): (i64,) = sqlx::query_as(
            "INSERT INTO github_deliveries (organization, delivery_id, event, received, outcome,
                                            message)
             VALUES (?, ?, ?, ?, ?, ?) RETURNING seq",
        )
        .bind(new.org)
        .bind(new.delivery_id)
        .bind(new.event)
        .bind(new.received)
        .bind(outcome_name(new.outcome))
        .bind(new.message)
        .fetch_one(&mut *tx)
        .await?;
        sqlx::query("DELETE FROM github_deliveries WHERE organization = ? AND seq <= ? - ?")
            .bind(new.org)
            .bind(row)
            .bind(KEPT_DELIVERIES)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(row)
    }

    async fn finish_delivery(
        &self,
        row: i64,
        outcome: DeliveryOutcome,
        message: &str,
        deployment_ids: &[String],
    ) -> Result<(), StoreError> {
        let ids = serde_json::to_string(deployment_ids).map_err(backend)?;
        sqlx::query(
            "UPDATE github_deliveries SET outcome = ?, message = ?, deployment_ids = ?
             WHERE seq = ?",
        )
        .bind(outcome_name(outcome))
        .bind(message)
        .bind(ids)
        .bind(row)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn deliveries(&self, org: &str, limit: u32) -> Result<Vec<GitHubDelivery>, StoreError> {
        let rows: Vec<DeliveryRow> = sqlx::query_as(
            "SELECT delivery_id, event, received, outcome, message, deployment_ids
             FROM github_deliveries WHERE organization = ? ORDER BY seq DESC LIMIT ?",
        )
        .bind(org)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter()
            .map(|(id, event, received, outcome, message, ids)| {
                Ok(GitHubDelivery {
                    id,
                    event,
                    received,
                    outcome: parse_outcome(&outcome)?,
                    message,
                    deployment_ids: serde_json::from_str(&ids).map_err(backend)?,
                })
            })
            .collect()
    }

    async fn stacks_with_settings(
        &self,
        org: &str,
    ) -> Result<Vec<(StackRecord, StoredSettings)>, StoreError> {
        let rows: Vec<(String, String, String, String, String, i64)> = sqlx::query_as(
            "SELECT s.id, s.project, s.name, d.document, d.source, d.version
             FROM stacks s JOIN deployment_settings d ON d.stack_id = s.id
             WHERE s.organization = ? ORDER BY s.project, s.name",
        )
        .bind(org)
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter()
            .map(|(id, project, name, document, source, version)| {
                let record = StackRecord {
                    id,
                    stack: StackRef::new(org, &project, &name),
                };
                let settings = StoredSettings {
                    document: serde_json::from_str(&document).map_err(backend)?,
                    source,
                    version,
                };
                Ok((record, settings))
            })
            .collect()
    }
}

//! GitHub webhook secrets and deliveries, in SQL both engines run.

/// [`WebhookStore`](crate::store::WebhookStore) for an engine's store (see `deployment_store!`).
macro_rules! webhook_store {
    ($store:ident, $db:ident) => {
        mod webhook_store {
            use async_trait::async_trait;
            use keyless_api_types::{DeliveryOutcome, GitHubDelivery, StackRef};

            use super::$store as This;
            use crate::store::backend;
            use crate::store::webhooks::{Claim, NewDelivery, WebhookSecret, WebhookStore};
            use crate::store::{DeploymentId, StackId, StackRecord, StoreError, StoredSettings};
            use crate::timestamp;

            /// How many handled deliveries an organization's log keeps.
            const KEPT_DELIVERIES: i64 = 1000;
            /// How many refused deliveries an organization's log keeps.
            const KEPT_REFUSED: i64 = 100;
            /// Claims are kept while among an organization's newest this many…
            const KEPT_CLAIMS: i64 = 10_000;
            /// …or younger than this.
            const CLAIMS_KEPT_FOR: time::Duration = time::Duration::days(30);

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
                .ok_or_else(|| {
                    StoreError::Backend(format!("unknown delivery outcome {name:?}").into())
                })
            }

            type DeliveryRow = (String, String, String, String, String, String);

            #[async_trait]
            impl WebhookStore for This {
                async fn set_webhook_secret(
                    &self,
                    org: &str,
                    secret: &WebhookSecret,
                ) -> Result<(), StoreError> {
                    sqlx::query(
                        "INSERT INTO github_webhook_secrets (organization, ciphertext, created_by, created)
                         VALUES ($1, $2, $3, $4)
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

                async fn webhook_secret(
                    &self,
                    org: &str,
                ) -> Result<Option<WebhookSecret>, StoreError> {
                    let row: Option<(String, String, String)> = sqlx::query_as(
                        "SELECT ciphertext, created_by, created FROM github_webhook_secrets
                         WHERE organization = $1",
                    )
                    .bind(org)
                    .fetch_optional(&self.pool)
                    .await?;
                    Ok(row.map(secret))
                }

                async fn set_repository_secret(
                    &self,
                    org: &str,
                    repository: &str,
                    secret: &WebhookSecret,
                ) -> Result<(), StoreError> {
                    sqlx::query(
                        "INSERT INTO github_webhook_repository_secrets
                             (organization, repository, ciphertext, created_by, created)
                         VALUES ($1, $2, $3, $4, $5)
                         ON CONFLICT (organization, repository) DO UPDATE SET
                             ciphertext = excluded.ciphertext, created_by = excluded.created_by,
                             created = excluded.created",
                    )
                    .bind(org)
                    .bind(repository)
                    .bind(&secret.ciphertext)
                    .bind(&secret.created_by)
                    .bind(&secret.created)
                    .execute(&self.pool)
                    .await?;
                    Ok(())
                }

                async fn repository_secret(
                    &self,
                    org: &str,
                    repository: &str,
                ) -> Result<Option<WebhookSecret>, StoreError> {
                    let row: Option<(String, String, String)> = sqlx::query_as(
                        "SELECT ciphertext, created_by, created FROM github_webhook_repository_secrets
                         WHERE organization = $1 AND repository = $2",
                    )
                    .bind(org)
                    .bind(repository)
                    .fetch_optional(&self.pool)
                    .await?;
                    Ok(row.map(secret))
                }

                async fn delete_repository_secret(
                    &self,
                    org: &str,
                    repository: &str,
                ) -> Result<bool, StoreError> {
                    let done = sqlx::query(
                        "DELETE FROM github_webhook_repository_secrets
                         WHERE organization = $1 AND repository = $2",
                    )
                    .bind(org)
                    .bind(repository)
                    .execute(&self.pool)
                    .await?;
                    Ok(done.rows_affected() > 0)
                }

                async fn claim_delivery(
                    &self,
                    new: NewDelivery<'_>,
                    body_sha256: &str,
                ) -> Result<Claim, StoreError> {
                    let mut tx = self.pool.begin().await?;
                    let claimed = sqlx::query(
                        "INSERT INTO github_delivery_claims (organization, delivery_id, body_sha256, received)
                         VALUES ($1, $2, $3, $4)",
                    )
                    .bind(new.org)
                    .bind(new.delivery_id)
                    .bind(body_sha256)
                    .bind(new.received)
                    .execute(&mut *tx)
                    .await;
                    match claimed.map_err(StoreError::from) {
                        Ok(_) => {}
                        Err(StoreError::Conflict) => {
                            tx.rollback().await?;
                            let (same_id,): (bool,) = sqlx::query_as(
                                "SELECT EXISTS (SELECT 1 FROM github_delivery_claims
                                                WHERE organization = $1 AND delivery_id = $2)",
                            )
                            .bind(new.org)
                            .bind(new.delivery_id)
                            .fetch_one(&self.pool)
                            .await?;
                            return Ok(if same_id {
                                Claim::SeenId
                            } else {
                                Claim::SeenBody
                            });
                        }
                        Err(err) => return Err(err),
                    }
                    let old = timestamp::format(time::OffsetDateTime::now_utc() - CLAIMS_KEPT_FOR);
                    sqlx::query(
                        "DELETE FROM github_delivery_claims
                         WHERE organization = $1 AND received < $2 AND seq <= (
                             SELECT seq FROM github_delivery_claims WHERE organization = $1
                             ORDER BY seq DESC LIMIT 1 OFFSET $3)",
                    )
                    .bind(new.org)
                    .bind(old)
                    .bind(KEPT_CLAIMS)
                    .execute(&mut *tx)
                    .await?;
                    let (row,): (i64,) = sqlx::query_as(
                        "INSERT INTO github_deliveries (organization, delivery_id, event, received, outcome,
                                                        message)
                         VALUES ($1, $2, $3, $4, $5, $6) RETURNING seq",
                    )
                    .bind(new.org)
                    .bind(new.delivery_id)
                    .bind(new.event)
                    .bind(new.received)
                    .bind(outcome_name(new.outcome))
                    .bind(new.message)
                    .fetch_one(&mut *tx)
                    .await?;
                    sqlx::query(
                        "DELETE FROM github_deliveries WHERE organization = $1 AND seq <= (
                             SELECT seq FROM github_deliveries WHERE organization = $1
                             ORDER BY seq DESC LIMIT 1 OFFSET $2)",
                    )
                    .bind(new.org)
                    .bind(KEPT_DELIVERIES)
                    .execute(&mut *tx)
                    .await?;
                    tx.commit().await?;
                    Ok(Claim::New(row))
                }

                async fn add_refused_delivery(
                    &self,
                    new: NewDelivery<'_>,
                    since: &str,
                    max_since: u32,
                ) -> Result<bool, StoreError> {
                    let mut tx = self.pool.begin().await?;
                    // Counted and inserted in one statement, and one organization's at a time, so
                    // that concurrent deliveries cannot all pass the count.
                    super::serialize_on(&mut tx, &format!("refused-deliveries {}", new.org))
                        .await?;
                    let added = sqlx::query(
                        "INSERT INTO github_refused_deliveries (organization, delivery_id, event, received,
                                                                outcome, message)
                         SELECT $1, $2, $3, $4, $5, $6
                         WHERE (SELECT count(*) FROM (
                             SELECT received FROM github_refused_deliveries WHERE organization = $1
                             ORDER BY seq DESC LIMIT $8) AS recent WHERE received >= $7) < $8",
                    )
                    .bind(new.org)
                    .bind(new.delivery_id)
                    .bind(new.event)
                    .bind(new.received)
                    .bind(outcome_name(new.outcome))
                    .bind(new.message)
                    .bind(since)
                    .bind(i64::from(max_since))
                    .execute(&mut *tx)
                    .await?
                    .rows_affected()
                        > 0;
                    if added {
                        sqlx::query(
                            "DELETE FROM github_refused_deliveries WHERE organization = $1 AND seq <= (
                                 SELECT seq FROM github_refused_deliveries WHERE organization = $1
                                 ORDER BY seq DESC LIMIT 1 OFFSET $2)",
                        )
                        .bind(new.org)
                        .bind(KEPT_REFUSED)
                        .execute(&mut *tx)
                        .await?;
                    }
                    tx.commit().await?;
                    Ok(added)
                }

                async fn finish_delivery(
                    &self,
                    row: i64,
                    outcome: DeliveryOutcome,
                    message: &str,
                    deployment_ids: &[DeploymentId],
                ) -> Result<(), StoreError> {
                    let ids: Vec<&str> = deployment_ids.iter().map(DeploymentId::as_str).collect();
                    let ids = serde_json::to_string(&ids).map_err(backend)?;
                    sqlx::query(
                        "UPDATE github_deliveries SET outcome = $1, message = $2, deployment_ids = $3
                         WHERE seq = $4",
                    )
                    .bind(outcome_name(outcome))
                    .bind(message)
                    .bind(ids)
                    .bind(row)
                    .execute(&self.pool)
                    .await?;
                    Ok(())
                }

                async fn deliveries(
                    &self,
                    org: &str,
                    limit: u32,
                ) -> Result<Vec<GitHubDelivery>, StoreError> {
                    let rows: Vec<DeliveryRow> = sqlx::query_as(
                        "SELECT delivery_id, event, received, outcome, message, deployment_ids FROM (
                             SELECT * FROM (
                                 SELECT delivery_id, event, received, outcome, message, deployment_ids
                                 FROM github_deliveries WHERE organization = $1 ORDER BY seq DESC LIMIT $2)
                                 AS handled
                             UNION ALL
                             SELECT * FROM (
                                 SELECT delivery_id, event, received, outcome, message, '[]'
                                 FROM github_refused_deliveries WHERE organization = $1
                                 ORDER BY seq DESC LIMIT $2) AS refused) AS deliveries
                         ORDER BY received DESC",
                    )
                    .bind(org)
                    .bind(i64::from(limit))
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
                    let rows: Vec<(StackId, String, String, String, String, i64)> = sqlx::query_as(
                        "SELECT s.id, s.project, s.name, d.document, d.source, d.version
                         FROM stacks s JOIN deployment_settings d ON d.stack_id = s.id
                         WHERE s.organization = $1 ORDER BY s.project, s.name",
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

            /// A secret from its `ciphertext, created_by, created` columns.
            fn secret(
                (ciphertext, created_by, created): (String, String, String),
            ) -> WebhookSecret {
                WebhookSecret {
                    ciphertext,
                    created_by,
                    created,
                }
            }
        }
    };
}
pub(crate) use webhook_store;

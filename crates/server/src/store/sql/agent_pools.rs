//! Agent pools, in SQL both engines run.

/// [`AgentPoolStore`](crate::store::AgentPoolStore) for an engine's store (see
/// `deployment_store!`).
macro_rules! agent_pool_store {
    ($store:ident, $db:ident) => {
        mod agent_pool_store {
            use async_trait::async_trait;

            use super::NOW_MILLIS;
            use super::$store as This;
            use crate::store::StoreError;
            use crate::store::agent_pools::{
                AgentPoolRecord, AgentPoolStore, AgentRecord, AgentSeen, NewAgentPool,
            };

            type PoolRow = (String, String, String, String, i64);

            const COLUMNS: &str = "id, organization, name, description, created";

            fn pool_record((id, org, name, description, created): PoolRow) -> AgentPoolRecord {
                AgentPoolRecord {
                    id,
                    org,
                    name,
                    description,
                    created,
                }
            }

            #[async_trait]
            impl AgentPoolStore for This {
                async fn create_agent_pool(
                    &self,
                    pool: NewAgentPool<'_>,
                ) -> Result<AgentPoolRecord, StoreError> {
                    let record = AgentPoolRecord {
                        id: uuid::Uuid::new_v4().to_string(),
                        org: pool.org.to_owned(),
                        name: pool.name.to_owned(),
                        description: pool.description.to_owned(),
                        created: pool.created,
                    };
                    sqlx::query(
                        "INSERT INTO agent_pools
                             (id, organization, name, description, token_hash, created)
                         VALUES ($1, $2, $3, $4, $5, $6)",
                    )
                    .bind(&record.id)
                    .bind(pool.org)
                    .bind(pool.name)
                    .bind(pool.description)
                    .bind(pool.token_hash)
                    .bind(pool.created)
                    .execute(&self.pool)
                    .await?;
                    Ok(record)
                }

                async fn agent_pools(&self, org: &str) -> Result<Vec<AgentPoolRecord>, StoreError> {
                    let rows: Vec<PoolRow> = sqlx::query_as(&format!(
                        "SELECT {COLUMNS} FROM agent_pools WHERE organization = $1
                         ORDER BY name, id"
                    ))
                    .bind(org)
                    .fetch_all(&self.pool)
                    .await?;
                    Ok(rows.into_iter().map(pool_record).collect())
                }

                async fn agent_pool(
                    &self,
                    org: &str,
                    id: &str,
                ) -> Result<Option<AgentPoolRecord>, StoreError> {
                    let row: Option<PoolRow> = sqlx::query_as(&format!(
                        "SELECT {COLUMNS} FROM agent_pools WHERE organization = $1 AND id = $2"
                    ))
                    .bind(org)
                    .bind(id)
                    .fetch_optional(&self.pool)
                    .await?;
                    Ok(row.map(pool_record))
                }

                async fn update_agent_pool(
                    &self,
                    org: &str,
                    id: &str,
                    name: &str,
                    description: &str,
                ) -> Result<Option<AgentPoolRecord>, StoreError> {
                    let row: Option<PoolRow> = sqlx::query_as(&format!(
                        "UPDATE agent_pools SET name = $1, description = $2
                         WHERE organization = $3 AND id = $4 RETURNING {COLUMNS}"
                    ))
                    .bind(name)
                    .bind(description)
                    .bind(org)
                    .bind(id)
                    .fetch_optional(&self.pool)
                    .await?;
                    Ok(row.map(pool_record))
                }

                async fn delete_agent_pool(&self, org: &str, id: &str) -> Result<bool, StoreError> {
                    let deleted =
                        sqlx::query("DELETE FROM agent_pools WHERE organization = $1 AND id = $2")
                            .bind(org)
                            .bind(id)
                            .execute(&self.pool)
                            .await?;
                    Ok(deleted.rows_affected() > 0)
                }

                async fn agent_seen(&self, agent: AgentSeen<'_>) -> Result<(), StoreError> {
                    sqlx::query(&format!(
                        "INSERT INTO agents
                             (id, pool_id, hostname, version, platform, pid, last_seen)
                         VALUES ($1, $2, $3, $4, $5, $6, {NOW_MILLIS})
                         ON CONFLICT (id) DO UPDATE SET hostname = $7, version = $8,
                             platform = $9, pid = $10, last_seen = {NOW_MILLIS}"
                    ))
                    .bind(agent.id)
                    .bind(agent.pool_id)
                    .bind(agent.hostname)
                    .bind(agent.version)
                    .bind(agent.platform)
                    .bind(agent.pid)
                    .bind(agent.hostname)
                    .bind(agent.version)
                    .bind(agent.platform)
                    .bind(agent.pid)
                    .execute(&self.pool)
                    .await?;
                    Ok(())
                }

                async fn agents(&self, org: &str) -> Result<Vec<AgentRecord>, StoreError> {
                    type AgentRow = (String, String, String, String, String, String, i64, i64);
                    let rows: Vec<AgentRow> = sqlx::query_as(&format!(
                        "SELECT a.id, a.pool_id, a.hostname, a.version, a.platform, a.pid,
                                a.last_seen, {NOW_MILLIS} - a.last_seen
                         FROM agents a JOIN agent_pools p ON p.id = a.pool_id
                         WHERE p.organization = $1 ORDER BY a.last_seen DESC, a.id"
                    ))
                    .bind(org)
                    .fetch_all(&self.pool)
                    .await?;
                    Ok(rows
                        .into_iter()
                        .map(
                            |(id, pool_id, hostname, version, platform, pid, last_seen, silent)| {
                                AgentRecord {
                                    id,
                                    pool_id,
                                    hostname,
                                    version,
                                    platform,
                                    pid,
                                    last_seen,
                                    silent_millis: silent,
                                }
                            },
                        )
                        .collect())
                }

                async fn agent_pool_by_token(
                    &self,
                    token_hash: &str,
                ) -> Result<Option<AgentPoolRecord>, StoreError> {
                    let row: Option<PoolRow> = sqlx::query_as(&format!(
                        "SELECT {COLUMNS} FROM agent_pools WHERE token_hash = $1"
                    ))
                    .bind(token_hash)
                    .fetch_optional(&self.pool)
                    .await?;
                    Ok(row.map(pool_record))
                }
            }
        }
    };
}
pub(crate) use agent_pool_store;

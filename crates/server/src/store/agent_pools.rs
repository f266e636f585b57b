//! What the store keeps of agent pools: a name and description per organization, and the hash
//! of the pool's token, never its value.

use async_trait::async_trait;

use super::StoreError;

/// A pool to record; the store picks its id.
#[derive(Clone, Debug)]
pub struct NewAgentPool<'a> {
    pub org: &'a str,
    pub name: &'a str,
    pub description: &'a str,
    /// The SHA-256 hex hash of the pool's token.
    pub token_hash: &'a str,
    /// Unix seconds.
    pub created: i64,
}

/// A recorded pool.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AgentPoolRecord {
    pub id: String,
    pub org: String,
    pub name: String,
    pub description: String,
    /// Unix seconds.
    pub created: i64,
}

/// What an agent says of itself when it is heard from.
#[derive(Clone, Copy, Debug)]
pub struct AgentSeen<'a> {
    /// Its lease holder name, which names its pool.
    pub id: &'a str,
    pub pool_id: &'a str,
    pub hostname: &'a str,
    pub version: &'a str,
    pub platform: &'a str,
    pub pid: &'a str,
}

/// A recorded agent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AgentRecord {
    pub id: String,
    pub pool_id: String,
    pub hostname: String,
    pub version: String,
    pub platform: String,
    pub pid: String,
    /// Unix milliseconds.
    pub last_seen: i64,
    /// How long ago, by the store's clock.
    pub silent_millis: i64,
}

#[async_trait]
pub trait AgentPoolStore: Send + Sync {
    /// Records a pool; [`StoreError::Conflict`] when the organization has one of that name.
    async fn create_agent_pool(
        &self,
        pool: NewAgentPool<'_>,
    ) -> Result<AgentPoolRecord, StoreError>;
    /// The organization's pools, by name.
    async fn agent_pools(&self, org: &str) -> Result<Vec<AgentPoolRecord>, StoreError>;
    /// The organization's pool `id`; another organization's is `None`, as an unknown one.
    async fn agent_pool(&self, org: &str, id: &str) -> Result<Option<AgentPoolRecord>, StoreError>;
    /// Renames or redescribes the organization's pool `id`; `None` when it has none such,
    /// [`StoreError::Conflict`] when another of its pools has the name.
    async fn update_agent_pool(
        &self,
        org: &str,
        id: &str,
        name: &str,
        description: &str,
    ) -> Result<Option<AgentPoolRecord>, StoreError>;
    /// Deletes the organization's pool `id`, and with it its token; `false` when it has none
    /// such.
    async fn delete_agent_pool(&self, org: &str, id: &str) -> Result<bool, StoreError>;
    /// Records that an agent was heard from, now by the store's clock.
    async fn agent_seen(&self, agent: AgentSeen<'_>) -> Result<(), StoreError>;
    /// The agents of the organization's pools, last heard from first.
    async fn agents(&self, org: &str) -> Result<Vec<AgentRecord>, StoreError>;
    /// The pool whose token has this SHA-256 hex hash.
    async fn agent_pool_by_token(
        &self,
        token_hash: &str,
    ) -> Result<Option<AgentPoolRecord>, StoreError>;
}

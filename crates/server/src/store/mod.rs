//! Persistence behind a narrow [`Store`] trait, in SQLite ([`SqliteStore`], the default) or
//! PostgreSQL ([`PostgresStore`]). Only plain Rust, `serde_json` and `keyless_api_types` types
//! cross it (stacks and deployments by [`StackId`] and [`DeploymentId`]). Both engines run the
//! one implementation in `sql/`; `tests/store` holds them to the same behaviour.

pub mod agent_pools;
pub mod copy;
pub mod deployments;
mod ids;
pub mod oidc_keys;
pub mod oidc_tests;
mod postgres;
pub mod rate_limits;
mod sql;
mod sqlite;
pub mod tokens;
pub mod webhooks;

use std::collections::BTreeMap;
use std::sync::Arc;

use async_trait::async_trait;
use keyless_api_types::{OrgRole, StackRef};
use serde_json::Value;

pub use agent_pools::*;
pub use deployments::*;
pub use ids::{DeploymentId, StackId};
pub use oidc_keys::*;
pub use oidc_tests::*;
pub use postgres::PostgresStore;
pub use rate_limits::*;
pub use sqlite::SqliteStore;
pub use tokens::*;
pub use webhooks::*;

/// Why a store operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The row already exists, or changed since it was read (optimistic concurrency).
    #[error("conflicting write")]
    Conflict,
    /// A row the operation refers to does not exist.
    #[error("referenced row not found")]
    Missing,
    /// The database failed; the text is for logs only.
    #[error("database error: {0}")]
    Backend(Box<dyn std::error::Error + Send + Sync>),
}

/// The engines' errors in the store's terms: a unique violation is a [`StoreError::Conflict`]
/// (409 in the API), a foreign key violation [`StoreError::Missing`].
impl From<sqlx::Error> for StoreError {
    fn from(err: sqlx::Error) -> Self {
        match err.as_database_error() {
            Some(db) if db.is_unique_violation() => Self::Conflict,
            Some(db) if db.is_foreign_key_violation() => Self::Missing,
            _ => Self::Backend(Box::new(err)),
        }
    }
}

fn backend(err: impl std::error::Error + Send + Sync + 'static) -> StoreError {
    StoreError::Backend(Box::new(err))
}

/// A role as the store writes it.
fn role_name(role: OrgRole) -> &'static str {
    match role {
        OrgRole::Admin => "admin",
        OrgRole::Member => "member",
        OrgRole::ReadOnly => "read-only",
    }
}

/// A stored role.
fn parse_role(text: &str) -> Result<OrgRole, StoreError> {
    match text {
        "admin" => Ok(OrgRole::Admin),
        "member" => Ok(OrgRole::Member),
        other => Err(StoreError::Backend(
            format!("unknown role {other:?} in memberships").into(),
        )),
    }
}

/// A user account.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Account {
    pub id: String,
    pub login: String,
    pub name: String,
    pub email: String,
    pub avatar_url: String,
}

/// What is needed to create an [`Account`]; the store picks its id.
#[derive(Clone, Debug)]
pub struct NewAccount<'a> {
    pub login: &'a str,
    pub name: &'a str,
    pub email: &'a str,
}

/// A user's membership in one organization.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Membership {
    pub org: String,
    pub org_display_name: String,
    pub role: OrgRole,
}

/// A stack and its stable id.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct StackRecord {
    pub id: StackId,
    pub stack: StackRef,
}

/// Which stacks to list: those of `orgs` (optionally one project), in org/project/stack order,
/// starting after `after`, at most `limit` of them.
#[derive(Clone, Debug, Default)]
pub struct StackQuery {
    pub orgs: Vec<String>,
    pub project: Option<String>,
    pub after: Option<StackRef>,
    pub limit: Option<u32>,
}

/// A stack's stored deployment settings.
#[derive(Clone, Debug, PartialEq)]
pub struct StoredSettings {
    /// The settings' JSON without `source` and `version`; secrets only as ciphertext.
    pub document: Value,
    pub source: String,
    pub version: i64,
}

/// Everything the server keeps.
#[async_trait]
pub trait Store:
    AgentPoolStore
    + DeploymentStore
    + OidcKeyStore
    + RateLimitStore
    + WebhookStore
    + OidcTestStore
    + TokenStore
    + Send
    + Sync
{
    /// Brings the schema up to date.
    async fn migrate(&self) -> Result<(), StoreError>;
    /// Whether several servers may share this store (PostgreSQL), or it is one server's alone
    /// (SQLite).
    fn shared(&self) -> bool;
    /// Whether nothing has been created yet (no organization).
    async fn is_empty(&self) -> Result<bool, StoreError>;

    async fn create_organization(&self, name: &str, display_name: &str) -> Result<(), StoreError>;
    async fn create_account(&self, account: NewAccount<'_>) -> Result<Account, StoreError>;
    async fn add_member(&self, org: &str, user_id: &str, role: OrgRole) -> Result<(), StoreError>;
    /// Records an access token that never expires (the demo tokens) by its SHA-256 hex hash.
    async fn add_token(
        &self,
        user_id: &str,
        token_hash: &str,
        description: &str,
    ) -> Result<(), StoreError> {
        let token = NewToken {
            user_id,
            token_hash,
            description,
            expires: None,
        };
        self.create_token(token).await.map(drop)
    }
    async fn create_stack(
        &self,
        stack: &StackRef,
        tags: &BTreeMap<String, String>,
    ) -> Result<StackRecord, StoreError>;

    /// The account owning the token with this SHA-256 hex hash; `None` once the token is
    /// deleted or expired. Records the use, at most once per
    /// [`crate::tokens::LAST_USED_GRANULARITY`].
    async fn account_by_token(&self, token_hash: &str) -> Result<Option<Account>, StoreError> {
        let now = crate::tokens::unix_now();
        let Some((account, token)) = self.token_by_hash(token_hash).await? else {
            return Ok(None);
        };
        if !crate::tokens::is_live(token.expires, now) {
            return Ok(None);
        }
        if crate::tokens::use_is_news(token.last_used, now)
            && let Err(err) = self.record_token_use(&token.id, now).await
        {
            // Bookkeeping: a busy database must not refuse a valid token.
            tracing::warn!(error = %err, "could not record an access token's use");
        }
        Ok(Some(account))
    }
    /// The user's organizations, by name.
    async fn memberships(&self, user_id: &str) -> Result<Vec<Membership>, StoreError>;
    async fn stack(&self, stack: &StackRef) -> Result<Option<StackRecord>, StoreError>;
    async fn list_stacks(&self, query: &StackQuery) -> Result<Vec<StackRecord>, StoreError>;
    async fn stack_tags(&self, stack_id: &StackId) -> Result<BTreeMap<String, String>, StoreError>;

    async fn settings(&self, stack_id: &StackId) -> Result<Option<StoredSettings>, StoreError>;
    /// Writes settings if the stored version is still `expected` (`None`: no settings yet),
    /// in one transaction; returns the new version, or [`StoreError::Conflict`].
    async fn save_settings(
        &self,
        stack_id: &StackId,
        expected: Option<i64>,
        document: &Value,
        source: &str,
    ) -> Result<i64, StoreError>;
    async fn delete_settings(&self, stack_id: &StackId) -> Result<(), StoreError>;
}

/// Opens the store a database URL names: `sqlite:…` (the default, a file in the data dir) or
/// `postgres://…` (several servers may share one).
pub async fn open(url: &str) -> Result<Arc<dyn Store>, StoreError> {
    if url.starts_with("sqlite:") {
        Ok(Arc::new(SqliteStore::connect(url).await?))
    } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Ok(Arc::new(PostgresStore::connect(url).await?))
    } else {
        Err(StoreError::Backend(
            "unsupported database URL scheme; use sqlite: or postgres:".into(),
        ))
    }
}

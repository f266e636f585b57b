//! What the store keeps of access tokens: their hashes, never their values, with a
//! description, an optional expiry and the time each was last used.

use async_trait::async_trait;

use super::{Account, StoreError};

/// A token to record, by the SHA-256 hex hash of its value.
#[derive(Clone, Debug)]
pub struct NewToken<'a> {
    pub user_id: &'a str,
    pub token_hash: &'a str,
    pub description: &'a str,
    /// Unix seconds; `None`: never.
    pub expires: Option<i64>,
}

/// A recorded token, as its owner may see it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TokenRecord {
    pub id: String,
    pub description: String,
    /// RFC 3339, UTC.
    pub created: String,
    /// Unix seconds; `None`: never.
    pub expires: Option<i64>,
    /// Unix seconds; `None`: never used.
    pub last_used: Option<i64>,
}

#[async_trait]
pub trait TokenStore: Send + Sync {
    /// Records a token; the store picks its id.
    async fn create_token(&self, token: NewToken<'_>) -> Result<TokenRecord, StoreError>;
    /// The user's tokens, expired ones too, newest first.
    async fn tokens(&self, user_id: &str) -> Result<Vec<TokenRecord>, StoreError>;
    /// Deletes the user's token `id`; `false` when the user has no such token.
    async fn delete_token(&self, user_id: &str, id: &str) -> Result<bool, StoreError>;
    /// The token with this SHA-256 hex hash, expired or not, and the account owning it.
    async fn token_by_hash(
        &self,
        token_hash: &str,
    ) -> Result<Option<(Account, TokenRecord)>, StoreError>;
    /// Records that token `id` authenticated a request at `at` (Unix seconds); an earlier
    /// time than the one recorded is ignored.
    async fn record_token_use(&self, id: &str, at: i64) -> Result<(), StoreError>;
}

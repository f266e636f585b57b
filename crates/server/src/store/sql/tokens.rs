//! Access tokens, in SQL both engines run.

/// [`TokenStore`](crate::store::TokenStore) for an engine's store (see `deployment_store!`).
macro_rules! token_store {
    ($store:ident, $db:ident) => {
        mod token_store {
            use async_trait::async_trait;
            use sqlx::Row;

            use super::$store as This;
            use crate::store::tokens::{NewToken, TokenRecord, TokenStore};
            use crate::store::{Account, StoreError};

            type TokenRow = (String, String, String, Option<i64>, Option<i64>);

            fn token_record(
                (id, description, created, expires, last_used): TokenRow,
            ) -> TokenRecord {
                TokenRecord {
                    id,
                    description,
                    created,
                    expires,
                    last_used,
                }
            }

            #[async_trait]
            impl TokenStore for This {
                async fn create_token(
                    &self,
                    token: NewToken<'_>,
                ) -> Result<TokenRecord, StoreError> {
                    let record = TokenRecord {
                        id: uuid::Uuid::new_v4().to_string(),
                        description: token.description.to_owned(),
                        created: crate::timestamp::now(),
                        expires: token.expires,
                        last_used: None,
                    };
                    sqlx::query(
                        "INSERT INTO access_tokens (token_hash, user_id, description, id, created_at, expires)
                         VALUES ($1, $2, $3, $4, $5, $6)",
                    )
                    .bind(token.token_hash)
                    .bind(token.user_id)
                    .bind(token.description)
                    .bind(&record.id)
                    .bind(&record.created)
                    .bind(record.expires)
                    .execute(&self.pool)
                    .await?;
                    Ok(record)
                }

                async fn tokens(&self, user_id: &str) -> Result<Vec<TokenRecord>, StoreError> {
                    let rows: Vec<TokenRow> = sqlx::query_as(
                        "SELECT id, description, created_at, expires, last_used FROM access_tokens
                         WHERE user_id = $1 ORDER BY created_at DESC, id",
                    )
                    .bind(user_id)
                    .fetch_all(&self.pool)
                    .await?;
                    Ok(rows.into_iter().map(token_record).collect())
                }

                async fn delete_token(&self, user_id: &str, id: &str) -> Result<bool, StoreError> {
                    let deleted =
                        sqlx::query("DELETE FROM access_tokens WHERE user_id = $1 AND id = $2")
                            .bind(user_id)
                            .bind(id)
                            .execute(&self.pool)
                            .await?;
                    Ok(deleted.rows_affected() > 0)
                }

                async fn token_by_hash(
                    &self,
                    token_hash: &str,
                ) -> Result<Option<(Account, TokenRecord)>, StoreError> {
                    let row = sqlx::query(
                        "SELECT u.id, u.login, u.name, u.email, u.avatar_url,
                                t.id, t.description, t.created_at, t.expires, t.last_used
                         FROM access_tokens t JOIN users u ON u.id = t.user_id
                         WHERE t.token_hash = $1",
                    )
                    .bind(token_hash)
                    .fetch_optional(&self.pool)
                    .await?;
                    let Some(row) = row else {
                        return Ok(None);
                    };
                    let account = Account {
                        id: row.try_get(0)?,
                        login: row.try_get(1)?,
                        name: row.try_get(2)?,
                        email: row.try_get(3)?,
                        avatar_url: row.try_get(4)?,
                    };
                    let token = TokenRecord {
                        id: row.try_get(5)?,
                        description: row.try_get(6)?,
                        created: row.try_get(7)?,
                        expires: row.try_get(8)?,
                        last_used: row.try_get(9)?,
                    };
                    Ok(Some((account, token)))
                }

                async fn record_token_use(&self, id: &str, at: i64) -> Result<(), StoreError> {
                    sqlx::query(
                        "UPDATE access_tokens SET last_used = $1
                         WHERE id = $2 AND (last_used IS NULL OR last_used < $3)",
                    )
                    .bind(at)
                    .bind(id)
                    .bind(at)
                    .execute(&self.pool)
                    .await?;
                    Ok(())
                }
            }
        }
    };
}
pub(crate) use token_store;

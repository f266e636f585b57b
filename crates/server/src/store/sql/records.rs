//! Organizations, accounts, stacks and settings, in SQL both engines run.

/// [`Store`](crate::store::Store) for an engine's store, its schema from the engine module's
/// `MIGRATOR` (`store!(SqliteStore, Sqlite)` in the engine's module).
macro_rules! store {
    ($store:ident, $db:ident) => {
        mod store {
            use std::collections::BTreeMap;

            use async_trait::async_trait;
            use keyless_api_types::{OrgRole, StackRef};
            use serde_json::Value;
            use sqlx::$db as Db;
            use sqlx::QueryBuilder;

            use super::$store as This;
            use crate::store::{
                Account, Membership, NewAccount, StackId, StackQuery, StackRecord, Store,
                StoreError, StoredSettings, backend, parse_role, role_name,
            };

            type StackRow = (StackId, String, String, String);

            fn stack_record((id, org, project, name): StackRow) -> StackRecord {
                StackRecord {
                    id,
                    stack: StackRef {
                        org,
                        project,
                        stack: name,
                    },
                }
            }

            #[async_trait]
            impl Store for This {
                async fn migrate(&self) -> Result<(), StoreError> {
                    super::MIGRATOR.run(&self.pool).await.map_err(backend)
                }

                fn shared(&self) -> bool {
                    super::SHARED
                }

                async fn is_empty(&self) -> Result<bool, StoreError> {
                    let (count,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM organizations")
                        .fetch_one(&self.pool)
                        .await?;
                    Ok(count == 0)
                }

                async fn create_organization(
                    &self,
                    name: &str,
                    display_name: &str,
                ) -> Result<(), StoreError> {
                    sqlx::query("INSERT INTO organizations (name, display_name) VALUES ($1, $2)")
                        .bind(name)
                        .bind(display_name)
                        .execute(&self.pool)
                        .await?;
                    Ok(())
                }

                async fn create_account(
                    &self,
                    account: NewAccount<'_>,
                ) -> Result<Account, StoreError> {
                    let id = uuid::Uuid::new_v4().to_string();
                    sqlx::query(
                        "INSERT INTO users (id, login, name, email) VALUES ($1, $2, $3, $4)",
                    )
                    .bind(&id)
                    .bind(account.login)
                    .bind(account.name)
                    .bind(account.email)
                    .execute(&self.pool)
                    .await?;
                    Ok(Account {
                        id,
                        login: account.login.into(),
                        name: account.name.into(),
                        email: account.email.into(),
                        avatar_url: String::new(),
                    })
                }

                async fn add_member(
                    &self,
                    org: &str,
                    user_id: &str,
                    role: OrgRole,
                ) -> Result<(), StoreError> {
                    sqlx::query(
                        "INSERT INTO memberships (organization, user_id, role) VALUES ($1, $2, $3)",
                    )
                    .bind(org)
                    .bind(user_id)
                    .bind(role_name(role))
                    .execute(&self.pool)
                    .await?;
                    Ok(())
                }

                async fn create_stack(
                    &self,
                    stack: &StackRef,
                    tags: &BTreeMap<String, String>,
                ) -> Result<StackRecord, StoreError> {
                    let id = StackId::random();
                    let mut tx = self.pool.begin().await?;
                    sqlx::query("INSERT INTO stacks (id, organization, project, name) VALUES ($1, $2, $3, $4)")
                        .bind(&id)
                        .bind(&stack.org)
                        .bind(&stack.project)
                        .bind(&stack.stack)
                        .execute(&mut *tx)
                        .await?;
                    for (name, value) in tags {
                        sqlx::query(
                            "INSERT INTO stack_tags (stack_id, name, value) VALUES ($1, $2, $3)",
                        )
                        .bind(&id)
                        .bind(name)
                        .bind(value)
                        .execute(&mut *tx)
                        .await?;
                    }
                    tx.commit().await?;
                    Ok(StackRecord {
                        id,
                        stack: stack.clone(),
                    })
                }

                async fn memberships(&self, user_id: &str) -> Result<Vec<Membership>, StoreError> {
                    let rows: Vec<(String, String, String)> = sqlx::query_as(
                        "SELECT o.name, o.display_name, m.role
                         FROM memberships m JOIN organizations o ON o.name = m.organization
                         WHERE m.user_id = $1
                         ORDER BY o.name",
                    )
                    .bind(user_id)
                    .fetch_all(&self.pool)
                    .await?;
                    rows.into_iter()
                        .map(|(org, org_display_name, role)| {
                            Ok(Membership {
                                org,
                                org_display_name,
                                role: parse_role(&role)?,
                            })
                        })
                        .collect()
                }

                async fn stack(&self, stack: &StackRef) -> Result<Option<StackRecord>, StoreError> {
                    let row: Option<StackRow> = sqlx::query_as(
                        "SELECT id, organization, project, name FROM stacks
                         WHERE organization = $1 AND project = $2 AND name = $3",
                    )
                    .bind(&stack.org)
                    .bind(&stack.project)
                    .bind(&stack.stack)
                    .fetch_optional(&self.pool)
                    .await?;
                    Ok(row.map(stack_record))
                }

                async fn list_stacks(
                    &self,
                    query: &StackQuery,
                ) -> Result<Vec<StackRecord>, StoreError> {
                    if query.orgs.is_empty() {
                        return Ok(Vec::new());
                    }
                    let mut sql = QueryBuilder::<Db>::new(
                        "SELECT id, organization, project, name FROM stacks WHERE organization IN (",
                    );
                    let mut orgs = sql.separated(", ");
                    for org in &query.orgs {
                        orgs.push_bind(org);
                    }
                    sql.push(")");
                    if let Some(project) = &query.project {
                        sql.push(" AND project = ").push_bind(project);
                    }
                    if let Some(after) = &query.after {
                        // Keyset pagination over the unique (organization, project, name) order.
                        sql.push(" AND (organization, project, name) > (")
                            .push_bind(&after.org)
                            .push(", ")
                            .push_bind(&after.project)
                            .push(", ")
                            .push_bind(&after.stack)
                            .push(")");
                    }
                    sql.push(" ORDER BY organization, project, name");
                    if let Some(limit) = query.limit {
                        sql.push(" LIMIT ").push_bind(i64::from(limit));
                    }
                    let rows: Vec<StackRow> = sql.build_query_as().fetch_all(&self.pool).await?;
                    Ok(rows.into_iter().map(stack_record).collect())
                }

                async fn stack_tags(
                    &self,
                    stack_id: &StackId,
                ) -> Result<BTreeMap<String, String>, StoreError> {
                    let rows: Vec<(String, String)> =
                        sqlx::query_as("SELECT name, value FROM stack_tags WHERE stack_id = $1")
                            .bind(stack_id)
                            .fetch_all(&self.pool)
                            .await?;
                    Ok(rows.into_iter().collect())
                }

                async fn settings(
                    &self,
                    stack_id: &StackId,
                ) -> Result<Option<StoredSettings>, StoreError> {
                    let row: Option<(String, String, i64)> = sqlx::query_as(
                        "SELECT document, source, version FROM deployment_settings WHERE stack_id = $1",
                    )
                    .bind(stack_id)
                    .fetch_optional(&self.pool)
                    .await?;
                    row.map(|(document, source, version)| {
                        Ok(StoredSettings {
                            document: serde_json::from_str(&document).map_err(backend)?,
                            source,
                            version,
                        })
                    })
                    .transpose()
                }

                async fn save_settings(
                    &self,
                    stack_id: &StackId,
                    expected: Option<i64>,
                    document: &Value,
                    source: &str,
                ) -> Result<i64, StoreError> {
                    let document = serde_json::to_string(document).map_err(backend)?;
                    // One statement each way, so the check and the write are a single transaction.
                    let (result, version) = match expected {
                        None => {
                            let result = sqlx::query(
                                "INSERT INTO deployment_settings (stack_id, document, source, version)
                                 VALUES ($1, $2, $3, 1)
                                 ON CONFLICT (stack_id) DO NOTHING",
                            )
                            .bind(stack_id)
                            .bind(&document)
                            .bind(source)
                            .execute(&self.pool)
                            .await?;
                            (result, 1)
                        }
                        Some(previous) => {
                            let result = sqlx::query(
                                "UPDATE deployment_settings
                                 SET document = $1, source = $2, version = version + 1,
                                     updated_at = CURRENT_TIMESTAMP
                                 WHERE stack_id = $3 AND version = $4",
                            )
                            .bind(&document)
                            .bind(source)
                            .bind(stack_id)
                            .bind(previous)
                            .execute(&self.pool)
                            .await?;
                            (result, previous + 1)
                        }
                    };
                    if result.rows_affected() == 1 {
                        Ok(version)
                    } else {
                        Err(StoreError::Conflict)
                    }
                }

                async fn delete_settings(&self, stack_id: &StackId) -> Result<(), StoreError> {
                    sqlx::query("DELETE FROM deployment_settings WHERE stack_id = $1")
                        .bind(stack_id)
                        .execute(&self.pool)
                        .await?;
                    Ok(())
                }
            }
        }
    };
}
pub(crate) use store;

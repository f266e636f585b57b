//! Deployments, their steps, logs and pauses, in SQL both engines run.

/// [`DeploymentStore`](crate::store::DeploymentStore) for an engine's store, in SQL every engine
/// runs: `deployment_store!(SqliteStore, Sqlite)` in the engine's module.
macro_rules! deployment_store {
    ($store:ident, $db:ident) => {
        mod deployment_store {
            use async_trait::async_trait;
            use keyless_api_types::{
                DeploymentCounts, DeploymentStatus, PulumiOperation, StackRef, StepStatus, UserInfo,
            };
            use sqlx::$db as Db;
            use sqlx::QueryBuilder;

            use super::$store as This;
            use super::NOW_MILLIS;
            use crate::store::backend;
            use crate::store::deployments::{
                DeploymentPage, DeploymentRecord, DeploymentScope, DeploymentStore, Lease,
                LogRecord, NewDeployment, NewLogLine, Report, Reported, StepRecord,
            };
            use crate::store::{DeploymentId, StackId, StackRecord, StoreError};

            /// The columns of a [`DeploymentRow`].
            const SELECT: &str = "SELECT d.seq AS seq, d.id AS id, s.id AS stack_id,
                    s.organization AS org, s.project AS project, s.name AS stack, d.version AS version,
                    d.operation AS operation, d.status AS status, u.name AS user_name,
                    u.login AS user_login, u.avatar_url AS user_avatar, d.initiator AS initiator,
                    d.settings AS settings, d.created AS created, d.modified AS modified,
                    d.started AS started, d.trigger_info AS trigger_info,
                    d.lease_holder AS lease_holder
                FROM deployments d JOIN stacks s ON s.id = d.stack_id JOIN users u ON u.id = d.requested_by";

            #[derive(sqlx::FromRow)]
            struct DeploymentRow {
                seq: i64,
                id: DeploymentId,
                stack_id: StackId,
                org: String,
                project: String,
                stack: String,
                version: i64,
                operation: String,
                status: String,
                user_name: String,
                user_login: String,
                user_avatar: String,
                initiator: String,
                settings: String,
                created: String,
                modified: String,
                started: Option<String>,
                trigger_info: Option<String>,
                lease_holder: Option<String>,
            }

            fn corrupt(what: &str, value: &str) -> StoreError {
                StoreError::Backend(format!("unknown {what} {value:?} in the database").into())
            }

            fn record(row: DeploymentRow) -> Result<DeploymentRecord, StoreError> {
                Ok(DeploymentRecord {
                    seq: row.seq,
                    id: row.id,
                    stack: StackRecord {
                        id: row.stack_id,
                        stack: StackRef::new(&row.org, &row.project, &row.stack),
                    },
                    version: row.version,
                    operation: PulumiOperation::parse(&row.operation)
                        .ok_or_else(|| corrupt("operation", &row.operation))?,
                    status: DeploymentStatus::parse(&row.status)
                        .ok_or_else(|| corrupt("status", &row.status))?,
                    requested_by: UserInfo {
                        name: row.user_name,
                        github_login: row.user_login,
                        avatar_url: row.user_avatar,
                    },
                    initiator: row.initiator,
                    trigger: row
                        .trigger_info
                        .as_deref()
                        .map(serde_json::from_str)
                        .transpose()
                        .map_err(backend)?,
                    settings: serde_json::from_str(&row.settings).map_err(backend)?,
                    created: row.created,
                    modified: row.modified,
                    started: row.started,
                    lease_holder: row.lease_holder,
                })
            }

            fn records(rows: Vec<DeploymentRow>) -> Result<Vec<DeploymentRecord>, StoreError> {
                rows.into_iter().map(record).collect()
            }

            type LogRow = (i64, i64, String, Option<String>, Option<String>);

            fn log_records(rows: Vec<LogRow>) -> Vec<LogRecord> {
                rows.into_iter()
                    .map(|(id, step, timestamp, header, line)| LogRecord {
                        id,
                        step,
                        timestamp,
                        header,
                        line,
                    })
                    .collect()
            }

            type Conn = <Db as sqlx::Database>::Connection;

            async fn update_step(
                conn: &mut Conn,
                id: &DeploymentId,
                position: i64,
                status: StepStatus,
                now: &str,
            ) -> Result<(), StoreError> {
                sqlx::query(
                    "UPDATE deployment_steps
                     SET status = $1, last_updated = $2, started = COALESCE(started, $3)
                     WHERE deployment_id = $4 AND position = $5",
                )
                .bind(status.as_str())
                .bind(now)
                .bind(now)
                .bind(id)
                .bind(position)
                .execute(&mut *conn)
                .await?;
                sqlx::query("UPDATE deployments SET modified = $1 WHERE id = $2")
                    .bind(now)
                    .bind(id)
                    .execute(&mut *conn)
                    .await?;
                Ok(())
            }

            async fn insert_logs(
                conn: &mut Conn,
                id: &DeploymentId,
                lines: &[NewLogLine],
            ) -> Result<(), StoreError> {
                // SQLite allows 32766 bound values per statement; 6 per row.
                const ROWS_PER_STATEMENT: usize = 5000;
                for chunk in lines.chunks(ROWS_PER_STATEMENT) {
                    let mut sql = QueryBuilder::<Db>::new(
                        "INSERT INTO deployment_logs
                         (deployment_id, step, step_offset, timestamp, header, line) ",
                    );
                    sql.push_values(chunk, |mut row, line| {
                        row.push_bind(id)
                            .push_bind(line.step)
                            .push_bind(line.step_offset)
                            .push_bind(&line.timestamp)
                            .push_bind(&line.header)
                            .push_bind(&line.line);
                    });
                    sql.build().execute(&mut *conn).await?;
                }
                Ok(())
            }

            fn push_statuses(sql: &mut QueryBuilder<'_, Db>, statuses: &[DeploymentStatus]) {
                sql.push("(");
                let mut list = sql.separated(", ");
                for status in statuses {
                    list.push_bind(status.as_str());
                }
                sql.push(")");
            }

            #[async_trait]
            impl DeploymentStore for This {
                async fn create_deployment(
                    &self,
                    new: NewDeployment<'_>,
                ) -> Result<DeploymentRecord, StoreError> {
                    let id = DeploymentId::random();
                    let settings = serde_json::to_string(new.settings).map_err(backend)?;
                    let trigger = new
                        .trigger
                        .map(serde_json::to_string)
                        .transpose()
                        .map_err(backend)?;
                    // The version is computed inside the insert, so two requests cannot take the same one;
                    // should they race anyway, UNIQUE (stack_id, version) answers Conflict.
                    sqlx::query(
                        "INSERT INTO deployments (id, stack_id, version, operation, status, requested_by,
                                                  initiator, trigger_info, settings, created, modified)
                         SELECT $1, $2, COALESCE(MAX(version), 0) + 1, $3, 'not-started', $4, $5, $6, $7, $8, $9
                         FROM deployments WHERE stack_id = $10",
                    )
                    .bind(&id)
                    .bind(new.stack_id)
                    .bind(new.operation.as_str())
                    .bind(new.requested_by)
                    .bind(new.initiator)
                    .bind(trigger)
                    .bind(&settings)
                    .bind(new.now)
                    .bind(new.now)
                    .bind(new.stack_id)
                    .execute(&self.pool)
                    .await?;
                    self.deployment(&id).await?.ok_or(StoreError::Missing)
                }

                async fn deployment(
                    &self,
                    id: &DeploymentId,
                ) -> Result<Option<DeploymentRecord>, StoreError> {
                    let row: Option<DeploymentRow> =
                        sqlx::query_as(&format!("{SELECT} WHERE d.id = $1"))
                            .bind(id)
                            .fetch_optional(&self.pool)
                            .await?;
                    row.map(record).transpose()
                }

                async fn deployment_by_version(
                    &self,
                    stack_id: &StackId,
                    version: i64,
                ) -> Result<Option<DeploymentRecord>, StoreError> {
                    let row: Option<DeploymentRow> = sqlx::query_as(&format!(
                        "{SELECT} WHERE d.stack_id = $1 AND d.version = $2"
                    ))
                    .bind(stack_id)
                    .bind(version)
                    .fetch_optional(&self.pool)
                    .await?;
                    row.map(record).transpose()
                }

                async fn list_deployments(
                    &self,
                    page: &DeploymentPage,
                ) -> Result<(Vec<DeploymentRecord>, i64), StoreError> {
                    let filter = |sql: &mut QueryBuilder<'_, Db>| {
                        match &page.scope {
                            DeploymentScope::Stack(id) => {
                                sql.push(" WHERE d.stack_id = ").push_bind(id.clone())
                            }
                            DeploymentScope::Org(org) => {
                                sql.push(" WHERE s.organization = ").push_bind(org.clone())
                            }
                        };
                        if let Some(status) = page.status {
                            sql.push(" AND d.status = ").push_bind(status.as_str());
                        }
                    };
                    let mut count = QueryBuilder::<Db>::new(
                        "SELECT COUNT(*) FROM deployments d JOIN stacks s ON s.id = d.stack_id",
                    );
                    filter(&mut count);
                    let (total,): (i64,) = count.build_query_as().fetch_one(&self.pool).await?;
                    let mut sql = QueryBuilder::<Db>::new(SELECT);
                    filter(&mut sql);
                    let order = if page.ascending { "ASC" } else { "DESC" };
                    sql.push(format!(" ORDER BY d.seq {order} LIMIT "))
                        .push_bind(i64::from(page.limit))
                        .push(" OFFSET ")
                        .push_bind(i64::from(page.offset));
                    let rows: Vec<DeploymentRow> =
                        sql.build_query_as().fetch_all(&self.pool).await?;
                    Ok((records(rows)?, total))
                }

                async fn latest_version(&self, stack_id: &StackId) -> Result<i64, StoreError> {
                    let (version,): (i64,) = sqlx::query_as(
                        "SELECT COALESCE(MAX(version), 0) FROM deployments WHERE stack_id = $1",
                    )
                    .bind(stack_id)
                    .fetch_one(&self.pool)
                    .await?;
                    Ok(version)
                }

                async fn deployments_with_status(
                    &self,
                    statuses: &[DeploymentStatus],
                ) -> Result<Vec<DeploymentRecord>, StoreError> {
                    if statuses.is_empty() {
                        return Ok(Vec::new());
                    }
                    let mut sql = QueryBuilder::<Db>::new(SELECT);
                    sql.push(" WHERE d.status IN ");
                    push_statuses(&mut sql, statuses);
                    sql.push(" ORDER BY d.seq");
                    let rows: Vec<DeploymentRow> =
                        sql.build_query_as().fetch_all(&self.pool).await?;
                    records(rows)
                }

                async fn transition(
                    &self,
                    id: &DeploymentId,
                    from: &[DeploymentStatus],
                    to: DeploymentStatus,
                    now: &str,
                ) -> Result<bool, StoreError> {
                    if from.is_empty() {
                        return Ok(false);
                    }
                    let mut sql = QueryBuilder::<Db>::new("UPDATE deployments SET status = ");
                    sql.push_bind(to.as_str())
                        .push(", modified = ")
                        .push_bind(now)
                        .push(" WHERE id = ")
                        .push_bind(id)
                        .push(" AND status IN ");
                    push_statuses(&mut sql, from);
                    let result = sql.build().execute(&self.pool).await?;
                    Ok(result.rows_affected() == 1)
                }

                async fn start_job(
                    &self,
                    id: &DeploymentId,
                    steps: &[String],
                    now: &str,
                    lease: Lease<'_>,
                ) -> Result<bool, StoreError> {
                    let mut tx = self.pool.begin().await?;
                    let started = sqlx::query(&format!(
                        "UPDATE deployments SET status = 'running', started = $1, modified = $2,
                                lease_holder = $3, lease_until = {NOW_MILLIS} + $4
                         WHERE id = $5 AND status IN ('not-started', 'accepted')"
                    ))
                    .bind(now)
                    .bind(now)
                    .bind(lease.holder)
                    .bind(lease.millis)
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
                    if started.rows_affected() != 1 {
                        tx.rollback().await?;
                        return Ok(false);
                    }
                    for (position, name) in steps.iter().enumerate() {
                        sqlx::query(
                            "INSERT INTO deployment_steps (deployment_id, position, name, status)
                             VALUES ($1, $2, $3, 'not-started')",
                        )
                        .bind(id)
                        .bind(position as i64)
                        .bind(name)
                        .execute(&mut *tx)
                        .await?;
                    }
                    tx.commit().await?;
                    Ok(true)
                }

                async fn finish_job(
                    &self,
                    id: &DeploymentId,
                    holder: &str,
                    status: DeploymentStatus,
                    now: &str,
                ) -> Result<bool, StoreError> {
                    let finished = sqlx::query(
                        "UPDATE deployments SET status = $1, modified = $2
                         WHERE id = $3 AND status = 'running' AND lease_holder = $4",
                    )
                    .bind(status.as_str())
                    .bind(now)
                    .bind(id)
                    .bind(holder)
                    .execute(&self.pool)
                    .await?;
                    Ok(finished.rows_affected() == 1)
                }

                async fn lock_queue(&self, lease: Lease<'_>) -> Result<bool, StoreError> {
                    let taken = sqlx::query(&format!(
                        "INSERT INTO queue_lock (name, holder, until)
                         VALUES ('queue', $1, {NOW_MILLIS} + $2)
                         ON CONFLICT (name) DO UPDATE SET holder = $3, until = {NOW_MILLIS} + $4
                         WHERE queue_lock.until < {NOW_MILLIS} OR queue_lock.holder = $5"
                    ))
                    .bind(lease.holder)
                    .bind(lease.millis)
                    .bind(lease.holder)
                    .bind(lease.millis)
                    .bind(lease.holder)
                    .execute(&self.pool)
                    .await?;
                    Ok(taken.rows_affected() == 1)
                }

                async fn unlock_queue(&self, holder: &str) -> Result<(), StoreError> {
                    sqlx::query("UPDATE queue_lock SET until = 0 WHERE name = 'queue' AND holder = $1")
                        .bind(holder)
                        .execute(&self.pool)
                        .await?;
                    Ok(())
                }

                async fn renew_leases(
                    &self,
                    lease: Lease<'_>,
                    ids: &[DeploymentId],
                ) -> Result<Vec<(DeploymentId, Option<String>)>, StoreError> {
                    if ids.is_empty() {
                        return Ok(Vec::new());
                    }
                    let mut sql = QueryBuilder::<Db>::new(format!(
                        "UPDATE deployments SET lease_until = {NOW_MILLIS} + "
                    ));
                    sql.push_bind(lease.millis)
                        .push(" WHERE lease_holder = ")
                        .push_bind(lease.holder)
                        .push(" AND status = 'running' AND id IN (");
                    let mut list = sql.separated(", ");
                    for id in ids {
                        list.push_bind(id);
                    }
                    sql.push(") RETURNING id, cancel_requested_by");
                    Ok(sql.build_query_as().fetch_all(&self.pool).await?)
                }

                async fn lapsed_leases(&self) -> Result<Vec<DeploymentRecord>, StoreError> {
                    let rows: Vec<DeploymentRow> = sqlx::query_as(&format!(
                        "{SELECT} WHERE d.status = 'running'
                         AND (d.lease_until IS NULL OR d.lease_until < {NOW_MILLIS})
                         ORDER BY d.seq"
                    ))
                    .fetch_all(&self.pool)
                    .await?;
                    records(rows)
                }

                async fn take_lapsed(
                    &self,
                    id: &DeploymentId,
                    lease: Lease<'_>,
                ) -> Result<bool, StoreError> {
                    let taken = sqlx::query(&format!(
                        "UPDATE deployments SET lease_holder = $1, lease_until = {NOW_MILLIS} + $2
                         WHERE id = $3 AND status = 'running'
                         AND (lease_until IS NULL OR lease_until < {NOW_MILLIS})"
                    ))
                    .bind(lease.holder)
                    .bind(lease.millis)
                    .bind(id)
                    .execute(&self.pool)
                    .await?;
                    Ok(taken.rows_affected() == 1)
                }

                async fn request_cancel(
                    &self,
                    id: &DeploymentId,
                    user: &str,
                ) -> Result<bool, StoreError> {
                    let running: Option<(Option<String>,)> = sqlx::query_as(
                        "UPDATE deployments SET cancel_requested_by = COALESCE(cancel_requested_by, $1)
                         WHERE id = $2 AND status = 'running' RETURNING cancel_requested_by",
                    )
                    .bind(user)
                    .bind(id)
                    .fetch_optional(&self.pool)
                    .await?;
                    Ok(running.is_some())
                }

                async fn steps(&self, id: &DeploymentId) -> Result<Vec<StepRecord>, StoreError> {
                    let rows: Vec<(String, String, Option<String>, Option<String>)> =
                        sqlx::query_as(
                            "SELECT name, status, started, last_updated FROM deployment_steps
                         WHERE deployment_id = $1 ORDER BY position",
                        )
                        .bind(id)
                        .fetch_all(&self.pool)
                        .await?;
                    rows.into_iter()
                        .map(|(name, status, started, last_updated)| {
                            Ok(StepRecord {
                                status: StepStatus::parse(&status)
                                    .ok_or_else(|| corrupt("step status", &status))?,
                                name,
                                started,
                                last_updated,
                            })
                        })
                        .collect()
                }

                async fn set_step(
                    &self,
                    id: &DeploymentId,
                    position: i64,
                    status: StepStatus,
                    now: &str,
                ) -> Result<(), StoreError> {
                    let mut tx = self.pool.begin().await?;
                    update_step(&mut tx, id, position, status, now).await?;
                    tx.commit().await?;
                    Ok(())
                }

                async fn apply_report(
                    &self,
                    id: &DeploymentId,
                    holder: &str,
                    report: Report<'_>,
                ) -> Result<Reported, StoreError> {
                    let mut tx = self.pool.begin().await?;
                    let next = sqlx::query(
                        "UPDATE deployments SET report_seq = $1
                         WHERE id = $2 AND status = 'running' AND lease_holder = $3
                         AND report_seq = $4",
                    )
                    .bind(report.seq)
                    .bind(id)
                    .bind(holder)
                    .bind(report.seq - 1)
                    .execute(&mut *tx)
                    .await?;
                    if next.rows_affected() != 1 {
                        let stored: Option<(i64, Option<String>)> = sqlx::query_as(
                            "SELECT report_seq, lease_holder FROM deployments WHERE id = $1",
                        )
                        .bind(id)
                        .fetch_optional(&mut *tx)
                        .await?;
                        tx.rollback().await?;
                        return Ok(match stored {
                            Some((seq, Some(held))) if held == holder && seq >= report.seq => {
                                Reported::Again
                            }
                            _ => Reported::NotHeld,
                        });
                    }
                    if let Some((position, status, now)) = report.step {
                        update_step(&mut tx, id, position, status, now).await?;
                    }
                    insert_logs(&mut tx, id, report.lines).await?;
                    if let Some((status, now)) = report.finish {
                        sqlx::query(
                            "UPDATE deployments SET status = $1, modified = $2 WHERE id = $3",
                        )
                        .bind(status.as_str())
                        .bind(now)
                        .bind(id)
                        .execute(&mut *tx)
                        .await?;
                    }
                    tx.commit().await?;
                    Ok(Reported::Stored)
                }

                async fn append_logs(
                    &self,
                    id: &DeploymentId,
                    lines: &[NewLogLine],
                ) -> Result<(), StoreError> {
                    let mut tx = self.pool.begin().await?;
                    insert_logs(&mut tx, id, lines).await?;
                    tx.commit().await?;
                    Ok(())
                }

                async fn next_step_offset(
                    &self,
                    id: &DeploymentId,
                    step: i64,
                ) -> Result<i64, StoreError> {
                    let (next,): (i64,) = sqlx::query_as(
                        "SELECT COALESCE(MAX(step_offset) + 1, 0) FROM deployment_logs
                         WHERE deployment_id = $1 AND step = $2",
                    )
                    .bind(id)
                    .bind(step)
                    .fetch_one(&self.pool)
                    .await?;
                    Ok(next)
                }

                async fn logs_after(
                    &self,
                    id: &DeploymentId,
                    after: i64,
                    limit: u32,
                ) -> Result<Vec<LogRecord>, StoreError> {
                    let rows: Vec<LogRow> = sqlx::query_as(
                        "SELECT id, step, timestamp, header, line FROM deployment_logs
                         WHERE deployment_id = $1 AND id > $2 ORDER BY id LIMIT $3",
                    )
                    .bind(id)
                    .bind(after)
                    .bind(i64::from(limit))
                    .fetch_all(&self.pool)
                    .await?;
                    Ok(log_records(rows))
                }

                async fn log_text(
                    &self,
                    id: &DeploymentId,
                    after: i64,
                    until: i64,
                    limit: u32,
                    group_marker: &str,
                ) -> Result<Option<(String, i64)>, StoreError> {
                    // One row back: the engine concatenates the batch in id order (an ordered aggregate:
                    // SQLite 3.44+, PostgreSQL).
                    let (last, text): (Option<i64>, Option<String>) = sqlx::query_as(
                        "SELECT MAX(id), string_agg(
                             CASE WHEN header IS NULL THEN ''
                                  ELSE timestamp || ' ' || $1 || header || '\n' END
                             || CASE WHEN line IS NULL THEN ''
                                     ELSE timestamp || ' ' || line
                                          || CASE WHEN substr(line, length(line), 1) = '\n' THEN ''
                                                  ELSE '\n' END END,
                             '' ORDER BY id)
                         FROM (SELECT id, timestamp, header, line FROM deployment_logs
                               WHERE deployment_id = $2 AND id > $3 AND id <= $4 ORDER BY id LIMIT $5)
                              AS batch",
                    )
                    .bind(group_marker)
                    .bind(id)
                    .bind(after)
                    .bind(until)
                    .bind(i64::from(limit))
                    .fetch_one(&self.pool)
                    .await?;
                    Ok(last.map(|last| (text.unwrap_or_default(), last)))
                }

                async fn last_log_id(&self, id: &DeploymentId) -> Result<Option<i64>, StoreError> {
                    let last: Option<i64> = sqlx::query_scalar(
                        "SELECT MAX(id) FROM deployment_logs WHERE deployment_id = $1",
                    )
                    .bind(id)
                    .fetch_one(&self.pool)
                    .await?;
                    Ok(last)
                }

                async fn save_log_archive(
                    &self,
                    id: &DeploymentId,
                    pieces: &[Vec<u8>],
                ) -> Result<bool, StoreError> {
                    let mut tx = self.pool.begin().await?;
                    // The first piece claims the archive: a concurrent builder (another server's)
                    // waits here and then stores nothing of its own.
                    for (piece, bytes) in pieces.iter().enumerate() {
                        let stored = sqlx::query(
                            "INSERT INTO deployment_log_archives (deployment_id, piece, bytes)
                             VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
                        )
                        .bind(id)
                        .bind(piece as i64)
                        .bind(bytes)
                        .execute(&mut *tx)
                        .await?;
                        if stored.rows_affected() != 1 {
                            tx.rollback().await?;
                            return Ok(false);
                        }
                    }
                    tx.commit().await?;
                    Ok(!pieces.is_empty())
                }

                async fn log_archive_len(&self, id: &DeploymentId) -> Result<Option<u64>, StoreError> {
                    let len: Option<i64> = sqlx::query_scalar(
                        "SELECT CAST(SUM(length(bytes)) AS BIGINT) FROM deployment_log_archives
                         WHERE deployment_id = $1",
                    )
                    .bind(id)
                    .fetch_one(&self.pool)
                    .await?;
                    Ok(len.and_then(|len| u64::try_from(len).ok()))
                }

                async fn log_archive_piece(
                    &self,
                    id: &DeploymentId,
                    piece: i64,
                ) -> Result<Option<Vec<u8>>, StoreError> {
                    let bytes: Option<Vec<u8>> = sqlx::query_scalar(
                        "SELECT bytes FROM deployment_log_archives
                         WHERE deployment_id = $1 AND piece = $2",
                    )
                    .bind(id)
                    .bind(piece)
                    .fetch_optional(&self.pool)
                    .await?;
                    Ok(bytes)
                }

                async fn step_logs(
                    &self,
                    id: &DeploymentId,
                    step: i64,
                    offset: i64,
                    limit: u32,
                ) -> Result<Vec<LogRecord>, StoreError> {
                    let rows: Vec<LogRow> = sqlx::query_as(
                        "SELECT id, step, timestamp, header, line FROM deployment_logs
                         WHERE deployment_id = $1 AND step = $2 AND step_offset >= $3
                         ORDER BY step_offset LIMIT $4",
                    )
                    .bind(id)
                    .bind(step)
                    .bind(offset)
                    .bind(i64::from(limit))
                    .fetch_all(&self.pool)
                    .await?;
                    Ok(log_records(rows))
                }

                async fn set_paused(
                    &self,
                    org: &str,
                    stack_id: Option<&StackId>,
                    paused: bool,
                ) -> Result<(), StoreError> {
                    // The organization's own pause is stored with an empty stack id.
                    let stack_id = stack_id.map_or("", StackId::as_str);
                    let sql = if paused {
                        "INSERT INTO deployment_pauses (organization, stack_id) VALUES ($1, $2)
                         ON CONFLICT DO NOTHING"
                    } else {
                        "DELETE FROM deployment_pauses WHERE organization = $1 AND stack_id = $2"
                    };
                    sqlx::query(sql)
                        .bind(org)
                        .bind(stack_id)
                        .execute(&self.pool)
                        .await?;
                    Ok(())
                }

                async fn pauses(&self) -> Result<Vec<(String, Option<StackId>)>, StoreError> {
                    let rows: Vec<(String, String)> =
                        sqlx::query_as("SELECT organization, stack_id FROM deployment_pauses")
                            .fetch_all(&self.pool)
                            .await?;
                    Ok(rows
                        .into_iter()
                        .map(|(org, stack)| {
                            (
                                org,
                                Some(stack).filter(|s| !s.is_empty()).map(StackId::from),
                            )
                        })
                        .collect())
                }

                async fn deployment_counts(
                    &self,
                    org: &str,
                ) -> Result<DeploymentCounts, StoreError> {
                    let rows: Vec<(String, i64)> = sqlx::query_as(
                        "SELECT d.status, COUNT(*) FROM deployments d JOIN stacks s ON s.id = d.stack_id
                         WHERE s.organization = $1 GROUP BY d.status",
                    )
                    .bind(org)
                    .fetch_all(&self.pool)
                    .await?;
                    let mut counts = DeploymentCounts::default();
                    for (status, n) in rows {
                        let slot = match DeploymentStatus::parse(&status) {
                            Some(DeploymentStatus::NotStarted) => &mut counts.not_started,
                            Some(DeploymentStatus::Accepted) => &mut counts.accepted,
                            Some(DeploymentStatus::Running) => &mut counts.running,
                            Some(DeploymentStatus::Failed) => &mut counts.failed,
                            Some(DeploymentStatus::Succeeded) => &mut counts.succeeded,
                            Some(DeploymentStatus::Skipped) => &mut counts.skipped,
                            Some(DeploymentStatus::Unknown) | None => {
                                return Err(corrupt("status", &status));
                            }
                        };
                        *slot += n;
                        counts.total += n;
                    }
                    Ok(counts)
                }
            }
        }
    };
}
pub(crate) use deployment_store;

//! `keyless-server migrate-store`: copies a SQLite store into an empty PostgreSQL one, table by
//! table in one transaction, and verifies every table's row count. Rows are copied as stored
//! (ids, queue order, sealed secrets, hashes), so the data dir's keys open them as before.

use sqlx::sqlite::SqliteRow;
use sqlx::{Postgres, QueryBuilder, Row, SqlitePool};

use super::{PostgresStore, SqliteStore, Store, StoreError, backend};

/// A column's type in both schemas.
#[derive(Clone, Copy)]
enum Kind {
    Text,
    Int,
}

use Kind::{Int, Text};

/// Every table, parents before children, with its columns.
const TABLES: &[(&str, &[(&str, Kind)])] = &[
    ("organizations", &[("name", Text), ("display_name", Text)]),
    (
        "users",
        &[
            ("id", Text),
            ("login", Text),
            ("name", Text),
            ("email", Text),
            ("avatar_url", Text),
        ],
    ),
    (
        "memberships",
        &[("organization", Text), ("user_id", Text), ("role", Text)],
    ),
    (
        "access_tokens",
        &[
            ("token_hash", Text),
            ("user_id", Text),
            ("description", Text),
            ("created_at", Text),
            ("id", Text),
            ("expires", Int),
            ("last_used", Int),
        ],
    ),
    (
        "agent_pools",
        &[
            ("id", Text),
            ("organization", Text),
            ("name", Text),
            ("description", Text),
            ("token_hash", Text),
            ("created", Int),
        ],
    ),
    (
        "agents",
        &[
            ("id", Text),
            ("pool_id", Text),
            ("hostname", Text),
            ("version", Text),
            ("platform", Text),
            ("pid", Text),
            ("last_seen", Int),
        ],
    ),
    (
        "stacks",
        &[
            ("id", Text),
            ("organization", Text),
            ("project", Text),
            ("name", Text),
        ],
    ),
    (
        "stack_tags",
        &[("stack_id", Text), ("name", Text), ("value", Text)],
    ),
    (
        "deployment_settings",
        &[
            ("stack_id", Text),
            ("document", Text),
            ("source", Text),
            ("version", Int),
            ("updated_at", Text),
        ],
    ),
    (
        "deployments",
        &[
            ("seq", Int),
            ("id", Text),
            ("stack_id", Text),
            ("version", Int),
            ("operation", Text),
            ("status", Text),
            ("requested_by", Text),
            ("initiator", Text),
            ("settings", Text),
            ("created", Text),
            ("modified", Text),
            ("started", Text),
            ("trigger_info", Text),
            ("lease_holder", Text),
            ("lease_until", Int),
            ("cancel_requested_by", Text),
            ("report_seq", Int),
        ],
    ),
    (
        "deployment_steps",
        &[
            ("deployment_id", Text),
            ("position", Int),
            ("name", Text),
            ("status", Text),
            ("started", Text),
            ("last_updated", Text),
        ],
    ),
    (
        "deployment_logs",
        &[
            ("id", Int),
            ("deployment_id", Text),
            ("step", Int),
            ("step_offset", Int),
            ("timestamp", Text),
            ("header", Text),
            ("line", Text),
        ],
    ),
    (
        "deployment_pauses",
        &[("organization", Text), ("stack_id", Text)],
    ),
    (
        "github_webhook_secrets",
        &[
            ("organization", Text),
            ("ciphertext", Text),
            ("created_by", Text),
            ("created", Text),
        ],
    ),
    (
        "github_webhook_repository_secrets",
        &[
            ("organization", Text),
            ("repository", Text),
            ("ciphertext", Text),
            ("created_by", Text),
            ("created", Text),
        ],
    ),
    (
        "github_deliveries",
        &[
            ("seq", Int),
            ("organization", Text),
            ("delivery_id", Text),
            ("event", Text),
            ("received", Text),
            ("outcome", Text),
            ("message", Text),
            ("deployment_ids", Text),
        ],
    ),
    (
        "github_delivery_claims",
        &[
            ("seq", Int),
            ("organization", Text),
            ("delivery_id", Text),
            ("body_sha256", Text),
            ("received", Text),
        ],
    ),
    (
        "github_refused_deliveries",
        &[
            ("seq", Int),
            ("organization", Text),
            ("delivery_id", Text),
            ("event", Text),
            ("received", Text),
            ("outcome", Text),
            ("message", Text),
        ],
    ),
    (
        "queue_lock",
        &[("name", Text), ("holder", Text), ("until", Int)],
    ),
    ("rate_limit_hits", &[("key", Text), ("at", Int)]),
    (
        "oidc_key_ring",
        &[("name", Text), ("ring", Text), ("version", Int)],
    ),
    (
        "oidc_tests",
        &[
            ("seq", Int),
            ("id", Text),
            ("stack_id", Text),
            ("requested_by", Text),
            ("operation", Text),
            ("created", Text),
            ("jti", Text),
            ("claims", Text),
            ("results", Text),
        ],
    ),
];

/// The identity columns whose sequences must continue after the copied rows.
const SEQUENCES: &[(&str, &str)] = &[
    ("deployments", "seq"),
    ("deployment_logs", "id"),
    ("github_deliveries", "seq"),
    ("github_delivery_claims", "seq"),
    ("github_refused_deliveries", "seq"),
    ("oidc_tests", "seq"),
];

/// Tables derived from the others and built again when missing: not copied.
const DERIVED: &[&str] = &["deployment_log_archives"];

/// Rows per read and per insert (PostgreSQL takes at most 65,535 parameters a statement).
const BATCH: i64 = 4000;

/// Why a copy did not happen.
#[derive(Debug, thiserror::Error)]
pub enum CopyError {
    #[error("the source must be a sqlite: URL and the target a postgres:// URL")]
    Urls,
    #[error("the target already holds data (table {0} has rows); copy into an empty database")]
    TargetNotEmpty(&'static str),
    #[error("the schema has {0}, which this copy does not know; it would be left behind")]
    Uncovered(String),
    #[error("table {table}: {source_rows} rows in the source, {target_rows} copied")]
    Count {
        table: &'static str,
        source_rows: i64,
        target_rows: i64,
    },
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<sqlx::Error> for CopyError {
    fn from(err: sqlx::Error) -> Self {
        Self::Store(err.into())
    }
}

/// Copies the SQLite store at `from` into the empty PostgreSQL database at `to` (creating its
/// schema); returns each table with its row count, verified on both sides.
pub async fn copy(from: &str, to: &str) -> Result<Vec<(&'static str, i64)>, CopyError> {
    let postgres = to.starts_with("postgres://") || to.starts_with("postgresql://");
    if !from.starts_with("sqlite:") || !postgres {
        return Err(CopyError::Urls);
    }
    let source = SqliteStore::connect(from).await?;
    // The source is brought up to date too, so that both have the same columns.
    source.migrate().await?;
    let target = PostgresStore::connect(to).await?;
    target.migrate().await?;
    let (source, target) = (&source.pool, &target.pool);
    covers_schema(target).await?;
    for (table, _) in TABLES {
        if count(target, table).await? > 0 {
            return Err(CopyError::TargetNotEmpty(table));
        }
    }
    let mut tx = target.begin().await?;
    for (table, columns) in TABLES {
        copy_table(source, &mut tx, table, columns).await?;
    }
    for (table, column) in SEQUENCES {
        sqlx::query(&format!(
            "SELECT setval(pg_get_serial_sequence('{table}', '{column}'),
                           COALESCE((SELECT MAX({column}) FROM {table}), 0) + 1, false)"
        ))
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    let mut counts = Vec::new();
    for (table, _) in TABLES {
        let (source_rows, target_rows) = (count(source, table).await?, count(target, table).await?);
        if source_rows != target_rows {
            return Err(CopyError::Count {
                table,
                source_rows,
                target_rows,
            });
        }
        counts.push((*table, target_rows));
    }
    Ok(counts)
}

/// Fails unless [`TABLES`] names every column of the target's schema, so that a migration that
/// adds one cannot leave its data behind unnoticed.
async fn covers_schema(target: &sqlx::PgPool) -> Result<(), CopyError> {
    let columns: Vec<(String, String)> = sqlx::query_as(
        "SELECT table_name, column_name FROM information_schema.columns
         WHERE table_schema = current_schema() AND table_name <> '_sqlx_migrations'",
    )
    .fetch_all(target)
    .await?;
    for (table, column) in columns {
        let known = DERIVED.contains(&table.as_str())
            || TABLES
                .iter()
                .any(|(t, cs)| *t == table && cs.iter().any(|(c, _)| *c == column));
        if !known {
            return Err(CopyError::Uncovered(format!("{table}.{column}")));
        }
    }
    Ok(())
}

/// How many rows `table` has, in either engine.
async fn count<'e, E>(pool: E, table: &str) -> Result<i64, sqlx::Error>
where
    E: sqlx::Executor<'e>,
    (i64,): for<'r> sqlx::FromRow<'r, <E::Database as sqlx::Database>::Row>,
    for<'q> <E::Database as sqlx::Database>::Arguments<'q>: sqlx::IntoArguments<'q, E::Database>,
{
    let (rows,): (i64,) = sqlx::query_as(&format!("SELECT COUNT(*) FROM {table}"))
        .fetch_one(pool)
        .await?;
    Ok(rows)
}

/// Copies one table in batches, in the order rows were written (SQLite's rowid).
async fn copy_table(
    source: &SqlitePool,
    target: &mut sqlx::PgConnection,
    table: &str,
    columns: &[(&str, Kind)],
) -> Result<(), CopyError> {
    let names: Vec<&str> = columns.iter().map(|(name, _)| *name).collect();
    let list = names.join(", ");
    let mut after: i64 = 0;
    loop {
        let rows: Vec<SqliteRow> = sqlx::query(&format!(
            "SELECT {list}, rowid FROM {table} WHERE rowid > $1 ORDER BY rowid LIMIT $2"
        ))
        .bind(after)
        .bind(BATCH)
        .fetch_all(source)
        .await?;
        let Some(last) = rows.last() else {
            return Ok(());
        };
        after = last.try_get(columns.len())?;
        let mut insert = QueryBuilder::<Postgres>::new(format!("INSERT INTO {table} ({list}) "));
        let mut failed = None;
        insert.push_values(&rows, |mut values, row| {
            for (i, (_, kind)) in columns.iter().enumerate() {
                let value = match kind {
                    Text => row.try_get::<Option<String>, _>(i).map(Value::Text),
                    Int => row.try_get::<Option<i64>, _>(i).map(Value::Int),
                };
                match value {
                    Ok(Value::Text(text)) => values.push_bind(text),
                    Ok(Value::Int(int)) => values.push_bind(int),
                    Err(err) => {
                        failed.get_or_insert(err);
                        values.push_bind(None::<String>)
                    }
                };
            }
        });
        if let Some(err) = failed {
            return Err(CopyError::Store(backend(err)));
        }
        insert.build().execute(&mut *target).await?;
    }
}

/// One cell on its way across.
enum Value {
    Text(Option<String>),
    Int(Option<i64>),
}

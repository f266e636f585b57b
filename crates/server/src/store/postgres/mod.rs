//! The PostgreSQL [`Store`](super::Store), for installations that outgrow one machine's disk:
//! the same SQL as SQLite's (`sql/`), its own schema (`migrations-postgres/`: `BIGINT`
//! counters, and `COLLATE "C"` on text so that listings sort by byte order as SQLite's do).

use std::str::FromStr;

use sqlx::PgPool;
use sqlx::migrate::Migrator;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};

use super::{StoreError, sql};

/// The schema, migration by migration (`migrations-postgres/`).
static MIGRATOR: Migrator = sqlx::migrate!("./migrations-postgres");

/// A [`Store`](super::Store) in a PostgreSQL database.
#[derive(Clone, Debug)]
pub struct PostgresStore {
    pub(super) pool: PgPool,
}

impl PostgresStore {
    /// Connects to the database a `postgres:` URL names, which must exist; `migrate` creates
    /// the schema in it.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        // Every query is prepared, and the plan it needs does not depend on its parameters:
        // keyset reads down an index. Custom plans, made for a statement's first five runs on
        // each connection, trust row estimates that lag a table growing by a million log lines
        // (a 10,000-line read of a fresh log took 300 ms as a bitmap scan and sort, 7 ms down
        // the index).
        let options =
            PgConnectOptions::from_str(url)?.options([("plan_cache_mode", "force_generic_plan")]);
        let pool = PgPoolOptions::new()
            .max_connections(16)
            .connect_with(options)
            .await?;
        Ok(Self { pool })
    }
}

/// Makes the transaction the only one working on `key` until it ends (a transaction-scoped
/// advisory lock): under READ COMMITTED, concurrent transactions that count rows and then insert
/// would all see the same count, and all insert.
pub(super) async fn serialize_on(tx: &mut sqlx::PgConnection, key: &str) -> Result<(), StoreError> {
    sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))")
        .bind(key)
        .execute(tx)
        .await?;
    Ok(())
}

/// Several servers may share it (see `deploy`'s leases and queue lock).
pub(super) const SHARED: bool = true;

/// Now in Unix milliseconds by the database's clock: the one clock every server sharing the
/// store agrees on, for leases and the queue lock.
pub(super) const NOW_MILLIS: &str = "CAST(EXTRACT(EPOCH FROM clock_timestamp()) * 1000 AS BIGINT)";

sql::agent_pools::agent_pool_store!(PostgresStore, Postgres);
sql::records::store!(PostgresStore, Postgres);
sql::deployments::deployment_store!(PostgresStore, Postgres);
sql::webhooks::webhook_store!(PostgresStore, Postgres);
sql::oidc_keys::oidc_key_store!(PostgresStore, Postgres);
sql::oidc_tests::oidc_test_store!(PostgresStore, Postgres);
sql::rate_limits::rate_limit_store!(PostgresStore, Postgres);
sql::tokens::token_store!(PostgresStore, Postgres);

//! The SQLite [`Store`]: one file, WAL journal, foreign keys on, migrations from `migrations/`.

use std::str::FromStr;
use std::time::Duration;

use sqlx::SqlitePool;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};

use sqlx::migrate::Migrator;

use super::{StoreError, sql};

/// The schema, migration by migration (`migrations/`).
static MIGRATOR: Migrator = sqlx::migrate!("./migrations");

/// A [`Store`](super::Store) in one SQLite database file.
#[derive(Clone, Debug)]
pub struct SqliteStore {
    pub(super) pool: SqlitePool,
}

impl SqliteStore {
    /// Opens (creating if missing) the database a `sqlite:` URL names.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        let options = SqliteConnectOptions::from_str(url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(5));
        let pool = SqlitePoolOptions::new()
            .max_connections(8)
            .connect_with(options)
            .await?;
        Ok(Self { pool })
    }
}

/// Makes the transaction the only one working on `key` until it ends (see the PostgreSQL
/// store's). SQLite runs one writing statement at a time, and the statements that need it count
/// and insert in one: nothing to take.
pub(super) async fn serialize_on(
    _: &mut sqlx::SqliteConnection,
    _key: &str,
) -> Result<(), StoreError> {
    Ok(())
}

/// One server's file: no other server runs what it runs.
pub(super) const SHARED: bool = false;

/// Now in Unix milliseconds by the database's clock: the one clock every server sharing the
/// store agrees on, for leases and the queue lock.
pub(super) const NOW_MILLIS: &str = "CAST(unixepoch('subsec') * 1000 AS INTEGER)";

sql::agent_pools::agent_pool_store!(SqliteStore, Sqlite);
sql::records::store!(SqliteStore, Sqlite);
sql::deployments::deployment_store!(SqliteStore, Sqlite);
sql::webhooks::webhook_store!(SqliteStore, Sqlite);
sql::oidc_keys::oidc_key_store!(SqliteStore, Sqlite);
sql::oidc_tests::oidc_test_store!(SqliteStore, Sqlite);
sql::rate_limits::rate_limit_store!(SqliteStore, Sqlite);
sql::tokens::token_store!(SqliteStore, Sqlite);

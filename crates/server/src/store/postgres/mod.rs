//! The PostgreSQL [`Store`](super::Store), for installations that outgrow one machine's disk:
//! the same SQL as SQLite's (`sql/`), its own schema (`migrations-postgres/`: `BIGINT`
//! counters, and `COLLATE "C"` on text so that listings sort by byte order as SQLite's do).

use sqlx::PgPool;
use sqlx::postgres::PgPoolOptions;

use sqlx::migrate::Migrator;

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
        let pool = PgPoolOptions::new()
            .max_connections(16)
            .connect(url)
            .await?;
        Ok(Self { pool })
    }
}

sql::records::store!(PostgresStore, Postgres);
sql::deployments::deployment_store!(PostgresStore, Postgres);
sql::webhooks::webhook_store!(PostgresStore, Postgres);
sql::oidc_tests::oidc_test_store!(PostgresStore, Postgres);
sql::tokens::token_store!(PostgresStore, Postgres);

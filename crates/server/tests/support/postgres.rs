//! A PostgreSQL schema of a test's own, so that tests and runs never see each other's rows,
//! dropped when its guard is (or, if the test process died or kept it, by the next run: schemas
//! are named after the process that made them). The server is the one `KEYLESS_TEST_POSTGRES`
//! names (default: the local one, as on CI machines).

#![allow(dead_code)] // each test binary uses a subset

/// The PostgreSQL server the tests use, unless `KEYLESS_TEST_POSTGRES` names another.
const POSTGRES: &str = "postgres://postgres@127.0.0.1:5432/test";

pub struct Schema {
    url: String,
    name: String,
}

impl Schema {
    /// A new, empty schema, and the database URL of a store that lives in it.
    pub async fn create() -> (Self, String) {
        let url = std::env::var("KEYLESS_TEST_POSTGRES").unwrap_or_else(|_| POSTGRES.into());
        let pid = std::process::id();
        let name = format!("keyless_test_{pid}_{}", uuid::Uuid::new_v4().simple());
        let admin = sqlx::PgPool::connect(&url)
            .await
            .unwrap_or_else(|e| panic!("PostgreSQL at {url}: {e}"));
        sweep(&admin).await;
        sqlx::query(&format!("CREATE SCHEMA {name}"))
            .execute(&admin)
            .await
            .expect("schema created");
        admin.close().await;
        // Its sessions carry its name, so that they can be found in `pg_stat_activity`.
        let scoped = format!("{url}?options[search_path]={name}&application_name={name}");
        (Self { url, name }, scoped)
    }

    /// How many of this schema's sessions are inside a transaction that is not running a
    /// statement. Asked from another thread while the caller's stays blocked, so a transaction
    /// dropped without a commit or rollback (whose rollback sqlx defers to a task of the
    /// caller's runtime) is counted.
    pub fn transactions_left_open(&self) -> i64 {
        let url = self.url.clone();
        let name = self.name.clone();
        apart(async move {
            let pool = sqlx::PgPool::connect(&url).await.expect("connects");
            sqlx::query_scalar(
                "SELECT COUNT(*) FROM pg_stat_activity
                 WHERE application_name = $1 AND state LIKE 'idle in transaction%'",
            )
            .bind(name)
            .fetch_one(&pool)
            .await
            .expect("sessions counted")
        })
        .expect("counted")
    }
}

/// Runs `work` on a runtime of its own, in a thread of its own, while the caller's thread (a
/// test's runtime, or its end) waits.
fn apart<T: Send + 'static>(
    work: impl Future<Output = T> + Send + 'static,
) -> std::thread::Result<T> {
    std::thread::spawn(move || {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime")
            .block_on(work)
    })
    .join()
}

/// Drops the schemas of test processes that are gone.
async fn sweep(admin: &sqlx::PgPool) {
    let names: Vec<String> = sqlx::query_scalar(
        "SELECT schema_name FROM information_schema.schemata
         WHERE schema_name LIKE 'keyless\\_test\\_%'",
    )
    .fetch_all(admin)
    .await
    .unwrap_or_default();
    for name in names {
        let pid = name.split('_').nth(2).unwrap_or_default();
        if !std::path::Path::new("/proc").join(pid).exists() {
            // Another test may be dropping it too.
            let _ = sqlx::query(&format!("DROP SCHEMA IF EXISTS {name} CASCADE"))
                .execute(admin)
                .await;
        }
    }
}

/// Every row of every table in the schema at `url` (a store's URL from [`Schema::create`]), as
/// text: what the database holds, for tests that grep it for secrets.
pub async fn contents(url: &str) -> Vec<u8> {
    let pool = sqlx::PgPool::connect(url).await.expect("connects");
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()",
    )
    .fetch_all(&pool)
    .await
    .expect("tables listed");
    let mut bytes = Vec::new();
    for table in tables {
        let rows: Vec<String> =
            sqlx::query_scalar(&format!("SELECT CAST(t AS TEXT) FROM {table} t"))
                .fetch_all(&pool)
                .await
                .expect("rows read");
        for row in rows {
            bytes.extend(row.into_bytes());
            bytes.push(b'\n');
        }
    }
    bytes
}

impl Drop for Schema {
    fn drop(&mut self) {
        let url = self.url.clone();
        let name = self.name.clone();
        // The test's runtime is ending; drop the schema from a runtime of its own. Its sessions
        // are ended first: one whose work waits on the test's blocked runtime (a deferred
        // rollback, say) would otherwise hold a lock that the drop waits for, forever.
        let _ = apart(async move {
            let pool = sqlx::PgPool::connect(&url).await?;
            sqlx::query(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
                 WHERE application_name = $1 AND pid <> pg_backend_pid()",
            )
            .bind(&name)
            .execute(&pool)
            .await?;
            sqlx::query(&format!("DROP SCHEMA IF EXISTS {name} CASCADE"))
                .execute(&pool)
                .await
                .map(drop)
        });
    }
}

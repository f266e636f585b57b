//! The store's behaviour, written once against the `Store` trait and run against every backend:
//! SQLite in a temporary directory, PostgreSQL in a schema of its own (`support/postgres.rs`).
//! `backends!` at the end lists the tests. These pin what every engine must match: ordering,
//! pagination, versions, conflicts and what "not found" looks like.

mod agent_pools;
mod deployments;
mod records;
mod shared;
#[path = "../support/postgres.rs"]
mod support;
mod webhooks;

use std::sync::Arc;

use keyless_server::store::{Account, NewAccount, PostgresStore, SqliteStore, Store};
use support::Schema;
use tempfile::TempDir;

/// A migrated, empty store, and where its data lives (removed when the test ends).
pub struct Fixture {
    pub store: Arc<dyn Store>,
    _dir: Option<TempDir>,
    schema: Option<Schema>,
}

impl Fixture {
    /// A fresh SQLite store in its own directory.
    pub async fn sqlite() -> Self {
        let dir = tempfile::tempdir().expect("temporary directory");
        let url = format!("sqlite://{}", dir.path().join("keyless.db").display());
        let store = SqliteStore::connect(&url).await.expect("connects");
        store.migrate().await.expect("migrates");
        Self {
            store: Arc::new(store),
            _dir: Some(dir),
            schema: None,
        }
    }

    /// A fresh PostgreSQL store, in a schema of its own.
    pub async fn postgres() -> Self {
        let (schema, url) = Schema::create().await;
        let store = PostgresStore::connect(&url).await.expect("connects");
        store.migrate().await.expect("migrates");
        Self {
            store: Arc::new(store),
            _dir: None,
            schema: Some(schema),
        }
    }

    /// Fails if the store left a transaction open: one that holds its locks until a task of
    /// the caller's runtime gets to run its rollback. PostgreSQL only; SQLite's driver rolls
    /// back on its own thread.
    pub fn assert_no_transaction_left_open(&self) {
        if let Some(schema) = &self.schema {
            assert_eq!(schema.transactions_left_open(), 0, "transactions left open");
        }
    }

    /// An organization `org` with one member, `login`, who is its admin.
    pub async fn org_with_admin(&self, org: &str, login: &str) -> Account {
        self.store
            .create_organization(org, &org.to_uppercase())
            .await
            .expect("organization created");
        let account = self
            .store
            .create_account(NewAccount {
                login,
                name: login,
                email: &format!("{login}@example.com"),
            })
            .await
            .expect("account created");
        self.store
            .add_member(org, &account.id, keyless_api_types::OrgRole::Admin)
            .await
            .expect("member added");
        account
    }
}

/// Runs each named test (an `async fn(Fixture)` in a module of this crate) against every
/// backend.
macro_rules! backends {
    ($($module:ident :: $test:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test]
                async fn $test() {
                    crate::$module::$test(crate::Fixture::sqlite().await).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test]
                async fn $test() {
                    crate::$module::$test(crate::Fixture::postgres().await).await;
                }
            )*
        }
    };
}

backends!(
    agent_pools::pools_are_named_per_organization_and_found_by_token,
    records::organizations_accounts_and_members,
    records::stacks_list_in_byte_order_page_by_key_and_stay_unique,
    records::settings_count_versions_and_refuse_stale_writes,
    records::tokens_are_found_by_hash_and_deleted_only_by_their_owner,
    deployments::versions_count_per_stack_and_lists_page_in_queue_order,
    deployments::transitions_happen_only_from_the_states_named,
    deployments::jobs_record_their_steps,
    deployments::logs_are_read_in_order_by_line_and_by_step,
    deployments::pauses_hold_a_stack_or_an_organization,
    deployments::leases_are_renewed_by_their_holder_and_lapse_without_them,
    deployments::the_queue_lock_has_one_holder_until_it_lapses,
    deployments::reports_are_stored_once_in_order_and_only_from_the_holder,
    deployments::a_log_archive_is_stored_once_and_read_piece_by_piece,
    agent_pools::an_organizations_agents_are_listed_last_heard_first,
    webhooks::refused_deliveries_keep_their_limit_under_concurrency,
    shared::the_key_ring_is_versioned_and_stale_writes_are_refused,
    shared::rate_limits_hold_under_concurrency,
);

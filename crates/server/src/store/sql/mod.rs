//! The store's implementation, once, for every SQL engine: each file is a macro that an engine's
//! module (`sqlite/`, `postgres/`) expands for its store type. The SQL is what both engines
//! run (`$n` parameters, standard functions); what differs is each engine's connection and
//! schema.

pub mod agent_pools;
pub mod deployments;
pub mod oidc_keys;
pub mod oidc_tests;
pub mod rate_limits;
pub mod records;
pub mod tokens;
pub mod webhooks;

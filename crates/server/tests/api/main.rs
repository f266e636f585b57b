//! API tests: each starts the real server on 127.0.0.1:0 with a fresh, seeded data directory
//! (see `helpers::spawn_app`) and talks HTTP to it.

mod access;
mod agent_pools;
mod agents;
mod cors;
mod deployments;
mod fixtures;
mod headers;
mod helpers;
mod input_bombs;
mod migrate_store;
mod oidc;
mod oidc_assistant;
mod openapi;
mod pulumi_clients;
mod queue;
mod raw_logs;
mod replicas;
mod sandbox;
mod secrets;
mod seed;
mod settings;
mod spa;
mod stacks;
#[path = "../support/postgres.rs"]
mod support;
mod tls;
mod tokens;
mod user;
mod validation;
mod webhooks;

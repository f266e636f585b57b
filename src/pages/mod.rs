//! One module per page of the console.

pub mod agent_pools;
pub mod deploy_settings;
pub mod deployment;
pub mod deployments;
pub mod log_file;
pub mod not_found;
pub mod sign_in;
pub mod stack;
pub mod stacks;
pub mod tokens;

//! Wire types and validation shared by the Keyless console and server.
//!
//! The JSON shapes follow the Pulumi Cloud Deployments REST API: camelCase keys on output,
//! case-insensitive keys on input (see [`keys`]), and one set of validators ([`validate`])
//! that the server enforces and the console runs as the admin types.

pub mod agent_pools;
pub mod cloud;
pub mod console_config;
pub mod deployment;
pub mod duration;
pub mod error;
pub mod glob;
pub mod input;
pub mod merge_patch;
pub mod oidc_assistant;
pub mod oidc_log;
pub mod secret;
pub mod session_name;
pub mod settings;
pub mod stack;
pub mod tokens;
pub mod trust;
pub mod user;
pub mod validate;
pub mod webhook;

pub use cloud::{Cloud, PerCloud};
pub use deployment::*;
pub use error::{ApiError, ErrorDetail, ErrorType};
pub use oidc_assistant::*;
pub use secret::{EncryptedSecret, EnvValue, SecretValue};
pub use settings::*;
pub use stack::{ListStacksResponse, Stack, StackRef, StackSummary};
pub use user::{OrgRole, OrganizationSummaryWithRole, User};
pub use validate::FieldError;
pub use webhook::*;

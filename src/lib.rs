//! The Keyless web console: a Leptos single-page app for stacks' deployment settings.
//!
//! [`app::App`] is the root component; [`api`] is the only module that knows the backend's
//! URLs; [`deploy_form`] holds the Deploy panel's logic as plain, natively tested Rust.

pub mod api;
pub mod app;
pub mod clipboard;
pub mod components;
pub mod deploy_form;
pub mod deployment_json;
pub mod lazy;
pub mod load;
pub mod log;
pub mod pages;
pub mod router;
pub mod session;
pub mod time;
pub mod trust_view;
pub mod unsaved;

//! The Keyless web console: a Leptos single-page app for stacks' deployment settings.

pub mod deploy_form;

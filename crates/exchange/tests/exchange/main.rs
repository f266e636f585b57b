//! The exchanges against the local relying parties, with a tiny OIDC issuer per test.

mod aws;
mod azure;
mod gcp;
mod support;
mod transport;

//! The cloud side of Keyless OIDC: what each cloud must trust, and why it does not.
//!
//! - **Generate** ([`aws::generate`], [`azure::generate`], [`gcp::generate`], or [`generate`]
//!   for every configured cloud): from a stack's OIDC settings, the issuer URL and a [`Scope`],
//!   the exact AWS trust policy, Azure federated identity credentials or Google Cloud workload
//!   identity provider and bindings, each as JSON plus shell-quoted CLI commands and [`Note`]s.
//! - **Explain** ([`aws::explain`], [`azure::explain`], [`gcp::explain`]): evaluate the trust
//!   configuration an admin pastes against a token's [`Claims`] the way the cloud does, and name
//!   the first condition that fails ([`Verdict`]).
//! - **Advise** ([`lifetime::advise`]): warn when sessions are shorter than recent runs.
//!
//! Pure functions over `serde` types: no I/O, no clock (callers pass `now`), builds for wasm32.

pub mod aws;
pub mod azure;
pub mod explain;
pub mod gcp;
pub mod lifetime;
pub mod scope;
mod shell;

use keyless_api_types::OidcConfig;
use serde::Serialize;

pub use explain::{Claims, ExplainError, Verdict};
pub use keyless_api_types::trust::{Command, Level, Note};
pub use scope::{STANDARD_OPERATIONS, Scope, Target};

/// The trust configuration of every cloud a stack's OIDC settings enable.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct TrustConfig {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub aws: Option<aws::AwsTrust>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub azure: Option<azure::AzureTrust>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gcp: Option<gcp::GcpTrust>,
}

/// Generates the trust configuration of each cloud `oidc` enables, for `target`.
pub fn generate(target: &Target, oidc: &OidcConfig) -> TrustConfig {
    TrustConfig {
        aws: oidc.aws.as_ref().map(|s| aws::generate(target, s)),
        azure: oidc.azure.as_ref().map(|s| azure::generate(target, s)),
        gcp: oidc.gcp.as_ref().map(|s| gcp::generate(target, s)),
    }
}

#[cfg(test)]
mod tests {
    use keyless_api_types::{AwsOidc, GcpOidc, StackRef};

    use super::*;

    #[test]
    fn generates_for_the_enabled_clouds_only() {
        let target = Target::new(
            StackRef::new("Acme", "website", "prod"),
            "https://keyless.example.com/oidc",
            Scope::Stack,
        );
        let oidc = OidcConfig {
            aws: Some(AwsOidc::default()),
            azure: None,
            gcp: Some(GcpOidc::default()),
        };
        let config = generate(&target, &oidc);
        assert!(config.aws.is_some() && config.azure.is_none() && config.gcp.is_some());
        let json = serde_json::to_value(&config).expect("serialises");
        assert_eq!(json["aws"]["provider"]["audience"], "acme");
        assert_eq!(json["gcp"]["notes"][0]["level"], "error");
        assert!(json.get("azure").is_none());
    }
}

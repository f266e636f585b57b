//! The local stand-ins for AWS STS, Microsoft Entra ID and Google STS + IAM as one process, for
//! end-to-end tests (and trying Keyless's OIDC without a cloud account).
//!
//! ```text
//! cargo run -p keyless-exchange --example relying_parties --features relying-parties -- CONFIG.json
//! cargo run -p keyless-exchange --example relying_parties --features relying-parties -- --json '{…}'
//! ```
//!
//! Starts the three on `127.0.0.1:<free port>`, prints one JSON line with their URLs —
//! `{"aws":"http://…","azure":"http://…","gcp":"http://…"}` — and serves until killed. Point the
//! server at them with `--aws-sts-endpoint <aws> --azure-authority-host <azure>
//! --gcp-sts-endpoint <gcp> --gcp-iam-credentials-endpoint <gcp>`.
//!
//! The configuration says what each cloud trusts, in the shapes the console's "Set up trust"
//! generates (every part optional; a missing cloud trusts nothing):
//!
//! ```json
//! {
//!   "aws": {
//!     "providers": [{"url": "https://issuer/oidc", "clientIds": ["acme"]}],
//!     "roles": {"arn:aws:iam::123456789012:role/deploy": {"Version": "2012-10-17", "Statement": []}},
//!     "maxSessionDuration": 3600
//!   },
//!   "azure": {
//!     "tenantId": "…",
//!     "apps": {"<client id>": [{"issuer": "…", "subject": "…", "audiences": ["acme"]}]}
//!   },
//!   "gcp": {
//!     "projectNumber": "123456789012", "poolId": "keyless-pool", "providerId": "keyless-provider",
//!     "provider": {"oidc": {"issuerUri": "…", "allowedAudiences": ["acme"]}, "attributeCondition": "…"},
//!     "serviceAccounts": {"deploy@p.iam.gserviceaccount.com": {"bindings": [
//!       {"role": "roles/iam.workloadIdentityUser", "members": ["principalSet://…"]}]}},
//!     "maxLifetime": 3600
//!   }
//! }
//! ```
//!
//! AWS roles map an ARN to its trust policy document, judged as IAM does; Azure apps map a
//! client id to its federated identity credentials (one per audience); Google takes the
//! workload identity provider (issuer, audiences, CEL attribute condition) and, per service
//! account, its IAM policy, whose `roles/iam.workloadIdentityUser` members may impersonate it.

use std::collections::BTreeMap;

use keyless_exchange::relying_party::{aws, azure, gcp};
use serde::Deserialize;

const USAGE: &str = "usage: relying_parties CONFIG.json | relying_parties --json '{...}'";

#[derive(Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
struct Config {
    aws: Aws,
    azure: Azure,
    gcp: Option<Gcp>,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase", deny_unknown_fields)]
struct Aws {
    providers: Vec<Provider>,
    /// Role ARN → trust policy document.
    roles: BTreeMap<String, serde_json::Value>,
    max_session_duration: Option<u64>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Provider {
    url: String,
    client_ids: Vec<String>,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase", deny_unknown_fields)]
struct Azure {
    tenant_id: String,
    /// Client id → federated identity credentials.
    apps: BTreeMap<String, Vec<Credential>>,
}

/// A federated identity credential as Graph (and "Set up trust") writes it; other fields ignored.
#[derive(Deserialize)]
struct Credential {
    issuer: String,
    subject: String,
    audiences: Vec<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Gcp {
    project_number: String,
    pool_id: String,
    provider_id: String,
    provider: GcpProvider,
    /// Service account email → its IAM policy.
    #[serde(default)]
    service_accounts: BTreeMap<String, IamPolicy>,
    #[serde(default)]
    max_lifetime: Option<u64>,
}

/// A workload identity pool provider as the IAM API (and "Set up trust") writes it.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct GcpProvider {
    oidc: GcpOidc,
    attribute_condition: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct GcpOidc {
    issuer_uri: String,
    #[serde(default)]
    allowed_audiences: Vec<String>,
}

#[derive(Deserialize)]
struct IamPolicy {
    #[serde(default)]
    bindings: Vec<Binding>,
}

#[derive(Deserialize)]
struct Binding {
    role: String,
    members: Vec<String>,
}

fn read_config() -> Result<Config, String> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let text = match args.as_slice() {
        [flag, json] if flag == "--json" => json.clone(),
        [path] if !path.starts_with('-') => {
            std::fs::read_to_string(path).map_err(|e| format!("reading {path}: {e}"))?
        }
        _ => return Err(USAGE.to_owned()),
    };
    serde_json::from_str(&text).map_err(|e| format!("the configuration: {e}"))
}

fn aws_config(aws: Aws) -> aws::AwsConfig {
    let max_session_duration = aws.max_session_duration.unwrap_or(3600);
    aws::AwsConfig {
        providers: aws
            .providers
            .into_iter()
            .map(|p| aws::OidcProvider {
                url: p.url,
                client_ids: p.client_ids,
            })
            .collect(),
        roles: aws
            .roles
            .into_iter()
            .map(|(arn, policy)| aws::Role {
                arn,
                issuer: String::new(),
                audience: String::new(),
                subject_like: String::new(),
                max_session_duration,
                trust_policy: Some(policy),
            })
            .collect(),
    }
}

fn azure_config(azure: Azure) -> azure::AzureConfig {
    azure::AzureConfig {
        tenant_id: azure.tenant_id,
        apps: azure
            .apps
            .into_iter()
            .map(|(client_id, credentials)| azure::App {
                client_id,
                federated_credentials: credentials
                    .into_iter()
                    .flat_map(|c| {
                        c.audiences
                            .into_iter()
                            .map(move |audience| azure::FederatedCredential {
                                issuer: c.issuer.clone(),
                                subject: c.subject.clone(),
                                audience,
                            })
                    })
                    .collect(),
            })
            .collect(),
    }
}

/// Google's configuration; without one, a pool whose issuer matches no token.
fn gcp_config(gcp: Option<Gcp>) -> gcp::GcpConfig {
    let Some(gcp) = gcp else {
        return gcp::GcpConfig {
            project_number: "0".into(),
            pool_id: "none".into(),
            provider_id: "none".into(),
            issuer: String::new(),
            allowed_audiences: Vec::new(),
            subject_condition: None,
            attribute_condition: None,
            service_accounts: Vec::new(),
            max_lifetime: 3600,
        };
    };
    gcp::GcpConfig {
        project_number: gcp.project_number,
        pool_id: gcp.pool_id,
        provider_id: gcp.provider_id,
        issuer: gcp.provider.oidc.issuer_uri,
        allowed_audiences: gcp.provider.oidc.allowed_audiences,
        subject_condition: None,
        attribute_condition: gcp.provider.attribute_condition,
        service_accounts: gcp
            .service_accounts
            .into_iter()
            .map(|(email, policy)| gcp::ServiceAccount {
                email,
                workload_identity_users: policy
                    .bindings
                    .into_iter()
                    .filter(|b| b.role == "roles/iam.workloadIdentityUser")
                    .flat_map(|b| b.members)
                    .collect(),
            })
            .collect(),
        max_lifetime: gcp.max_lifetime.unwrap_or(3600),
    }
}

#[tokio::main]
async fn main() -> Result<(), String> {
    let config = read_config()?;
    let started = |e: std::io::Error| format!("starting a relying party: {e}");
    let aws = aws::spawn(aws_config(config.aws)).await.map_err(started)?;
    let azure = azure::spawn(azure_config(config.azure))
        .await
        .map_err(started)?;
    let gcp = gcp::spawn(gcp_config(config.gcp)).await.map_err(started)?;
    let urls = serde_json::json!({"aws": aws.url(), "azure": azure.url(), "gcp": gcp.url()});
    // println! flushes on the newline; whoever started us reads this one line.
    println!("{urls}");
    // Serves until the process is killed (the relying parties stop when dropped).
    std::future::pending::<()>().await;
    Ok(())
}

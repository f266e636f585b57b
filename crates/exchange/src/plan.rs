//! The exchanges an `operationContext.oidc` block asks for: which cloud takes which settings
//! and in what order, written once for deployments and for "Test OIDC".

use keyless_api_types::session_name::{self, SessionVars};
use keyless_api_types::settings::{AwsOidc, AzureOidc, GcpOidc};
use keyless_api_types::{Cloud, OidcConfig};

use crate::credentials::Credentials;
use crate::endpoints::Endpoint;
use crate::error::ExchangeError;
use crate::exchanger::Exchanger;

/// One cloud's exchange, as the settings configure it.
pub struct Exchange<'a> {
    setting: Setting<'a>,
}

enum Setting<'a> {
    /// The session name is expanded for the deployment up front; a template that cannot be
    /// expanded fails the exchange without asking AWS.
    Aws(&'a AwsOidc, Result<String, String>),
    Azure(&'a AzureOidc),
    Gcp(&'a GcpOidc),
}

/// Every exchange `oidc` configures, in [`Cloud::ALL`]'s order; `vars` names the deployment
/// (AWS's session name is made from them).
pub fn exchanges<'a>(oidc: &'a OidcConfig, vars: &SessionVars) -> Vec<Exchange<'a>> {
    Cloud::ALL
        .into_iter()
        .filter_map(|cloud| {
            let setting = match cloud {
                Cloud::Aws => oidc
                    .aws
                    .as_ref()
                    .map(|aws| Setting::Aws(aws, session_name::expand(&aws.session_name, vars))),
                Cloud::Azure => oidc.azure.as_ref().map(Setting::Azure),
                Cloud::Gcp => oidc.gcp.as_ref().map(Setting::Gcp),
            }?;
            Some(Exchange { setting })
        })
        .collect()
}

impl Exchange<'_> {
    pub fn cloud(&self) -> Cloud {
        match self.setting {
            Setting::Aws(..) => Cloud::Aws,
            Setting::Azure(_) => Cloud::Azure,
            Setting::Gcp(_) => Cloud::Gcp,
        }
    }

    /// The endpoint the exchange starts at.
    pub fn endpoint(&self) -> Endpoint {
        match self.setting {
            Setting::Aws(..) => Endpoint::AwsSts,
            Setting::Azure(_) => Endpoint::AzureToken,
            Setting::Gcp(_) => Endpoint::GcpSts,
        }
    }

    /// What the exchange does, in one sentence for a log.
    pub fn describe(&self) -> String {
        match &self.setting {
            Setting::Aws(aws, Ok(session)) => format!(
                "AWS: AssumeRoleWithWebIdentity into {} as session {session}",
                aws.role_arn
            ),
            Setting::Aws(aws, Err(_)) => {
                format!("AWS: AssumeRoleWithWebIdentity into {}", aws.role_arn)
            }
            Setting::Azure(azure) => format!(
                "Azure: client assertion for app {} in tenant {}",
                azure.client_id, azure.tenant_id
            ),
            Setting::Gcp(gcp) => format!(
                "Google Cloud: workload identity pool {} provider {} (project {}), then {}",
                gcp.workload_pool_id, gcp.provider_id, gcp.project_id, gcp.service_account
            ),
        }
    }

    /// Trades `token` for the cloud's credentials.
    pub async fn run(
        &self,
        exchanger: &Exchanger,
        token: &str,
    ) -> Result<Credentials, ExchangeError> {
        match &self.setting {
            Setting::Aws(aws, Ok(session)) => exchanger.aws(aws, session, token).await,
            Setting::Aws(_, Err(problem)) => Err(ExchangeError::InvalidSetting {
                cloud: Cloud::Aws,
                field: "sessionName",
                problem: problem.clone(),
            }),
            Setting::Azure(azure) => exchanger.azure(azure, token).await,
            Setting::Gcp(gcp) => exchanger.gcp(gcp, token).await,
        }
    }
}

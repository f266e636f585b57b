//! Where each cloud's token endpoints live.

use std::fmt;

/// Base URLs of the cloud endpoints; the defaults are the public ones.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Endpoints {
    /// AWS STS, e.g. `https://sts.amazonaws.com` or a regional `https://sts.eu-west-1.amazonaws.com`.
    pub aws_sts: String,
    /// Microsoft Entra ID authority host; the tenant and `/oauth2/v2.0/token` are appended.
    pub azure_authority_host: String,
    /// Google Security Token Service; `/v1/token` is appended.
    pub gcp_sts: String,
    /// Google IAM Service Account Credentials API; `/v1/projects/-/serviceAccounts/…` is appended.
    pub gcp_iam_credentials: String,
}

impl Default for Endpoints {
    fn default() -> Self {
        Self {
            aws_sts: Endpoint::AwsSts.default_url().into(),
            azure_authority_host: Endpoint::AzureToken.default_url().into(),
            gcp_sts: Endpoint::GcpSts.default_url().into(),
            gcp_iam_credentials: Endpoint::GcpIamCredentials.default_url().into(),
        }
    }
}

impl Endpoints {
    /// The defaults, each overridden by its environment variable ([`Endpoint::env_var`]) when set
    /// and not empty.
    pub fn from_env() -> Self {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// The defaults, each overridden by `lookup(variable name)` when that gives a non-empty value.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Self {
        let mut endpoints = Self::default();
        for endpoint in Endpoint::ALL {
            if let Some(url) = lookup(endpoint.env_var()).filter(|v| !v.trim().is_empty()) {
                *endpoints.base_mut(endpoint) = url.trim().to_owned();
            }
        }
        endpoints
    }

    /// The configured base URL of `endpoint`, without a trailing slash.
    pub fn base(&self, endpoint: Endpoint) -> &str {
        let url = match endpoint {
            Endpoint::AwsSts => &self.aws_sts,
            Endpoint::AzureToken => &self.azure_authority_host,
            Endpoint::GcpSts => &self.gcp_sts,
            Endpoint::GcpIamCredentials => &self.gcp_iam_credentials,
        };
        url.trim_end_matches('/')
    }

    /// The base URL of `endpoint` when it is not the cloud's own (a proxy, a private endpoint
    /// or a local stand-in): deployment logs say so, since what answers there is not the cloud.
    pub fn configured(&self, endpoint: Endpoint) -> Option<&str> {
        let base = self.base(endpoint);
        (base != endpoint.default_url()).then_some(base)
    }

    fn base_mut(&mut self, endpoint: Endpoint) -> &mut String {
        match endpoint {
            Endpoint::AwsSts => &mut self.aws_sts,
            Endpoint::AzureToken => &mut self.azure_authority_host,
            Endpoint::GcpSts => &mut self.gcp_sts,
            Endpoint::GcpIamCredentials => &mut self.gcp_iam_credentials,
        }
    }
}

/// One of the endpoints an exchange talks to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Endpoint {
    AwsSts,
    AzureToken,
    GcpSts,
    GcpIamCredentials,
}

impl Endpoint {
    /// Every endpoint.
    pub const ALL: [Endpoint; 4] = [
        Endpoint::AwsSts,
        Endpoint::AzureToken,
        Endpoint::GcpSts,
        Endpoint::GcpIamCredentials,
    ];

    /// The public URL used when nothing else is configured.
    pub fn default_url(self) -> &'static str {
        match self {
            Endpoint::AwsSts => "https://sts.amazonaws.com",
            Endpoint::AzureToken => "https://login.microsoftonline.com",
            Endpoint::GcpSts => "https://sts.googleapis.com",
            Endpoint::GcpIamCredentials => "https://iamcredentials.googleapis.com",
        }
    }

    /// The environment variable [`Endpoints::from_env`] reads this endpoint's URL from; the
    /// server's flag of the same name ([`Endpoint::flag`]) falls back to it too.
    pub fn env_var(self) -> &'static str {
        match self {
            Endpoint::AwsSts => "KEYLESS_AWS_STS_ENDPOINT",
            Endpoint::AzureToken => "KEYLESS_AZURE_AUTHORITY_HOST",
            Endpoint::GcpSts => "KEYLESS_GCP_STS_ENDPOINT",
            Endpoint::GcpIamCredentials => "KEYLESS_GCP_IAM_CREDENTIALS_ENDPOINT",
        }
    }

    /// The `keyless-server` flag that sets this endpoint's URL.
    pub fn flag(self) -> &'static str {
        match self {
            Endpoint::AwsSts => "--aws-sts-endpoint",
            Endpoint::AzureToken => "--azure-authority-host",
            Endpoint::GcpSts => "--gcp-sts-endpoint",
            Endpoint::GcpIamCredentials => "--gcp-iam-credentials-endpoint",
        }
    }
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Endpoint::AwsSts => "AWS STS",
            Endpoint::AzureToken => "the Microsoft Entra ID token endpoint",
            Endpoint::GcpSts => "Google Security Token Service",
            Endpoint::GcpIamCredentials => "Google IAM Service Account Credentials",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookup_overrides_only_set_values_and_trailing_slashes_are_ignored() {
        let endpoints = Endpoints::from_lookup(|name| match name {
            "KEYLESS_AWS_STS_ENDPOINT" => Some("http://127.0.0.1:9/".into()),
            "KEYLESS_GCP_STS_ENDPOINT" => Some("  ".into()),
            _ => None,
        });
        assert_eq!(endpoints.base(Endpoint::AwsSts), "http://127.0.0.1:9");
        assert_eq!(endpoints.gcp_sts, "https://sts.googleapis.com");
        assert_eq!(
            endpoints.base(Endpoint::AzureToken),
            "https://login.microsoftonline.com"
        );
    }
}

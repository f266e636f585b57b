//! Wire types of the OIDC setup assistant under
//! `/api/stacks/{org}/{project}/{stack}/deployments/oidc/…`: "Test OIDC" runs and the lifetime
//! advice. Generated trust configurations and verdicts are `keyless-trust` types.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::trust::Explained;
use crate::{Cloud, OidcConfig, PulumiOperation};

/// `POST …/oidc/test`: mint a token with the real claims of `operation` and exchange it with
/// every cloud `settings` (default: the saved settings) configure.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct OidcTestRequest {
    #[serde(default = "update")]
    pub operation: PulumiOperation,
    /// An unsaved `operationContext.oidc` block.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub settings: Option<OidcConfig>,
    /// Pasted trust configuration per cloud, explained when that cloud refuses.
    #[serde(default, skip_serializing_if = "PastedTrust::is_empty")]
    pub trust: PastedTrust,
}

fn update() -> PulumiOperation {
    PulumiOperation::Update
}

/// Trust configuration an admin pasted, per cloud: the AWS trust policy (or `get-role` output),
/// the Azure federated credential list, Google's `{ "provider", "policy" }`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PastedTrust {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aws: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub azure: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gcp: Option<Value>,
}

impl PastedTrust {
    pub fn is_empty(&self) -> bool {
        Cloud::ALL
            .into_iter()
            .all(|cloud| self.get(cloud).is_none())
    }

    /// What was pasted for `cloud`.
    pub fn get(&self, cloud: Cloud) -> Option<&Value> {
        match cloud {
            Cloud::Aws => self.aws.as_ref(),
            Cloud::Azure => self.azure.as_ref(),
            Cloud::Gcp => self.gcp.as_ref(),
        }
    }

    /// Sets what was pasted for `cloud`.
    pub fn set(&mut self, cloud: Cloud, value: Option<Value>) {
        *match cloud {
            Cloud::Aws => &mut self.aws,
            Cloud::Azure => &mut self.azure,
            Cloud::Gcp => &mut self.gcp,
        } = value;
    }
}

/// One recorded "Test OIDC" run.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OidcTestRun {
    pub id: String,
    /// The admin's login.
    pub requested_by: String,
    /// RFC 3339.
    pub created: String,
    pub operation: PulumiOperation,
    /// The test token's decoded claims (never the token): a deployment's claim set, with
    /// `deployment` 0, which no deployment has.
    pub claims: Value,
    pub results: Vec<CloudResult>,
}

/// What one cloud answered.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CloudResult {
    pub cloud: Cloud,
    pub success: bool,
    /// On success: the identity granted (role session, app, service account).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identity: Option<String>,
    /// On success: when the credentials expire, RFC 3339.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<String>,
    /// On failure: the cloud's error code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    /// On failure: what the cloud said.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// On failure: what to change.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub explanation: Option<String>,
    /// On failure with pasted trust for this cloud: the explainer's verdict, or why it could
    /// not judge.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verdict: Option<Explained>,
}

/// `GET …/oidc/tests`: the stack's recent runs, newest first.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OidcTestList {
    pub tests: Vec<OidcTestRun>,
}

/// `GET …/oidc/lifetime?operation=`: whether sessions outlast recent runs.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LifetimeAdvice {
    pub operation: PulumiOperation,
    /// The p95 of the durations of the stack's last successful runs of `operation`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub p95_seconds: Option<u64>,
    /// How many runs it is drawn from (at most 20).
    pub samples: usize,
    pub warnings: Vec<LifetimeWarning>,
}

/// A cloud whose sessions end before long runs do.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LifetimeWarning {
    /// A cloud whose session length the settings set: AWS or Google Cloud.
    pub cloud: Cloud,
    pub text: String,
}

/// `POST …/oidc/explain`: why `cloud` would refuse a token, judged against pasted `trust`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ExplainRequest {
    pub cloud: Cloud,
    /// A token's decoded claims, e.g. from a failed deployment's log; by default the claims
    /// this stack's token for `operation` carries, issued now.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub claims: Option<Value>,
    /// `update` when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operation: Option<PulumiOperation>,
    /// The AWS trust policy (or `get-role` output), the Azure federated credential list (or
    /// Graph's `{ "value": [...] }`), or Google's `{ "provider": …, "policy": … }`.
    pub trust: Value,
    /// An unsaved `operationContext.oidc` block; the saved settings by default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub settings: Option<OidcConfig>,
}

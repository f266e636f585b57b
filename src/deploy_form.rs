//! The Deploy panel's form as plain Rust, free of any UI: form state ⇄ [`DeploymentSettings`],
//! the minimal merge patch to save it, and validation or API errors mapped onto form fields.
//!
//! The panel owns `operationContext.oidc.{aws,azure,gcp}` (within each cloud only the keys it
//! shows), the push-to-deploy keys of `gitHub` (`repository`, `deployCommits`,
//! `previewPullRequests`, `paths`, `deployTags`, `tagFilters`) and `sourceContext.git.branch`.
//! Everything else in the loaded settings (the rest of the source, environment variables,
//! secrets, keys this console does not know) is carried over untouched, so the patch never
//! mentions it.

use std::collections::BTreeMap;

use keyless_api_types::{
    ApiError, AwsOidc, AzureOidc, Cloud, DeploymentSettings, ErrorType, FieldError, GcpOidc,
    GitHubSettings, OidcConfig, OperationContext, PerCloud, SourceContext, SourceContextGit,
    merge_patch, stack::StackRef, validate,
};
use serde_json::{Map, Value};

/// Where the OIDC settings live in the settings document.
const OIDC_PATH: [&str; 2] = ["operationContext", "oidc"];

/// Where the push-to-deploy settings live.
const GITHUB_PATH: [&str; 1] = ["gitHub"];

/// Where the git source (and so the branch) lives.
const GIT_PATH: [&str; 2] = ["sourceContext", "git"];

/// Shown on Branch when the source it belongs to has no repository URL, which this panel
/// does not set.
pub const NO_REPO_URL: &str = "The stack's source has no repository URL \
                               (sourceContext.git.repoUrl), so a branch cannot be saved; set \
                               the source through the API first.";

/// What the Deploy panel shows for each cloud.
pub trait CloudForm {
    /// The label of the switch that turns the integration on.
    fn switch_label(self) -> &'static str;
    /// The inputs of this cloud's form, in display order; their keys are also the keys of the
    /// cloud's settings that the form owns (other keys are left as loaded).
    fn fields(self) -> &'static [Field];
}

impl CloudForm for Cloud {
    fn switch_label(self) -> &'static str {
        match self {
            Cloud::Aws => "Enable AWS Integration",
            Cloud::Azure => "Enable Azure Integration",
            Cloud::Gcp => "Enable Google Cloud Integration",
        }
    }

    fn fields(self) -> &'static [Field] {
        match self {
            Cloud::Aws => &[
                Field::AwsRoleArn,
                Field::AwsSessionName,
                Field::AwsPolicyArns,
                Field::AwsDuration,
            ],
            Cloud::Azure => &[
                Field::AzureClientId,
                Field::AzureTenantId,
                Field::AzureSubscriptionId,
            ],
            Cloud::Gcp => &[
                Field::GcpProjectNumber,
                Field::GcpWorkloadPoolId,
                Field::GcpProviderId,
                Field::GcpServiceAccount,
                Field::GcpRegion,
                Field::GcpTokenLifetime,
            ],
        }
    }
}

/// One input of the panel. Variants are declared in display order, which `Ord` follows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Field {
    AwsRoleArn,
    AwsSessionName,
    /// One row of the policy list, by index.
    AwsPolicyArn(usize),
    /// The policy list as a whole.
    AwsPolicyArns,
    AwsDuration,
    AzureClientId,
    AzureTenantId,
    AzureSubscriptionId,
    GcpProjectNumber,
    GcpWorkloadPoolId,
    GcpProviderId,
    GcpServiceAccount,
    GcpRegion,
    GcpTokenLifetime,
    GitHubRepository,
    Branch,
    /// One row of the path filters, by index.
    GitHubPath(usize),
    /// The path filters as a whole.
    GitHubPaths,
    /// One row of the tag filters, by index.
    GitHubTagFilter(usize),
    /// The tag filters as a whole.
    GitHubTagFilters,
}

impl Field {
    /// The cloud the field belongs to; `None` for the push-to-deploy fields.
    pub fn cloud(self) -> Option<Cloud> {
        match self {
            Field::AwsRoleArn
            | Field::AwsSessionName
            | Field::AwsPolicyArns
            | Field::AwsPolicyArn(_)
            | Field::AwsDuration => Some(Cloud::Aws),
            Field::AzureClientId | Field::AzureTenantId | Field::AzureSubscriptionId => {
                Some(Cloud::Azure)
            }
            Field::GcpProjectNumber
            | Field::GcpWorkloadPoolId
            | Field::GcpProviderId
            | Field::GcpServiceAccount
            | Field::GcpRegion
            | Field::GcpTokenLifetime => Some(Cloud::Gcp),
            Field::GitHubRepository
            | Field::Branch
            | Field::GitHubPath(_)
            | Field::GitHubPaths
            | Field::GitHubTagFilter(_)
            | Field::GitHubTagFilters => None,
        }
    }

    /// Whether the field is an editable list (its rows are fields of their own).
    pub fn is_list(self) -> bool {
        matches!(
            self,
            Field::AwsPolicyArns | Field::GitHubPaths | Field::GitHubTagFilters
        )
    }

    /// Row `i` of a list; other fields are returned as they are.
    pub fn nth(self, i: usize) -> Field {
        match self {
            Field::AwsPolicyArns => Field::AwsPolicyArn(i),
            Field::GitHubPaths => Field::GitHubPath(i),
            Field::GitHubTagFilters => Field::GitHubTagFilter(i),
            other => other,
        }
    }

    /// For a row of a list: the list and the row's index.
    pub fn row(self) -> Option<(Field, usize)> {
        match self {
            Field::AwsPolicyArn(i) => Some((Field::AwsPolicyArns, i)),
            Field::GitHubPath(i) => Some((Field::GitHubPaths, i)),
            Field::GitHubTagFilter(i) => Some((Field::GitHubTagFilters, i)),
            _ => None,
        }
    }

    /// The name of one row of a list, e.g. "Policy ARN" (rows are labelled "Policy ARN 1", …).
    pub fn item_label(self) -> &'static str {
        match self.row().map_or(self, |(list, _)| list) {
            Field::AwsPolicyArns => "Policy ARN",
            Field::GitHubPaths => "Path",
            Field::GitHubTagFilters => "Tag filter",
            _ => "",
        }
    }

    /// The key inside the cloud's object; list rows share their list's key.
    fn wire_key(self) -> &'static str {
        match self {
            Field::AwsRoleArn => "roleArn",
            Field::AwsSessionName => "sessionName",
            Field::AwsPolicyArns | Field::AwsPolicyArn(_) => "policyArns",
            Field::AwsDuration => "duration",
            Field::AzureClientId => "clientId",
            Field::AzureTenantId => "tenantId",
            Field::AzureSubscriptionId => "subscriptionId",
            Field::GcpProjectNumber => "projectId",
            Field::GcpWorkloadPoolId => "workloadPoolId",
            Field::GcpProviderId => "providerId",
            Field::GcpServiceAccount => "serviceAccount",
            Field::GcpRegion => "region",
            Field::GcpTokenLifetime => "tokenLifetime",
            Field::GitHubRepository => "repository",
            Field::Branch => "branch",
            Field::GitHubPaths | Field::GitHubPath(_) => "paths",
            Field::GitHubTagFilters | Field::GitHubTagFilter(_) => "tagFilters",
        }
    }

    /// The label users see.
    pub fn label(self) -> String {
        match self {
            Field::AwsRoleArn => "Role ARN".into(),
            Field::AwsSessionName => "Session Name".into(),
            Field::AwsPolicyArns => "Policy ARNs".into(),
            Field::AwsPolicyArn(i) | Field::GitHubPath(i) | Field::GitHubTagFilter(i) => {
                format!("{} {}", self.item_label(), i + 1)
            }
            Field::AwsDuration | Field::GcpTokenLifetime => "Session Duration".into(),
            Field::AzureClientId => "Client ID".into(),
            Field::AzureTenantId => "Tenant ID".into(),
            Field::AzureSubscriptionId => "Subscription ID".into(),
            Field::GcpProjectNumber => "Project Number".into(),
            Field::GcpWorkloadPoolId => "Workload Pool ID".into(),
            Field::GcpProviderId => "Identity Provider ID".into(),
            Field::GcpServiceAccount => "Service Account Email Address".into(),
            Field::GcpRegion => "Region".into(),
            Field::GitHubRepository => "Repository".into(),
            Field::Branch => "Branch".into(),
            Field::GitHubPaths => "Paths".into(),
            Field::GitHubTagFilters => "Tag filters".into(),
        }
    }

    /// A document-unique element id for the field's input; row `i` of a list is the list's id
    /// followed by `-{i}`.
    pub fn dom_id(self) -> String {
        let key = self.wire_key();
        let section = match self.cloud() {
            Some(cloud) => format!("oidc-{}", cloud.key()),
            None => "github".to_owned(),
        };
        match self.row() {
            Some((_, i)) => format!("{section}-{key}-{i}"),
            None => format!("{section}-{key}"),
        }
    }

    /// The same field after row `removed` of `list` is deleted: later rows of that list move
    /// up one, the removed row is gone, other fields stay.
    pub fn after_row_removed(self, list: Field, removed: usize) -> Option<Field> {
        match self.row() {
            Some((l, i)) if l == list && i == removed => None,
            Some((l, i)) if l == list && i > removed => Some(list.nth(i - 1)),
            _ => Some(self),
        }
    }

    /// The field a dotted path names, if the panel shows it.
    pub fn from_attribute(attribute: &str) -> Option<Field> {
        if attribute == "sourceContext.git.branch" {
            return Some(Field::Branch);
        }
        if let Some(key) = attribute.strip_prefix("gitHub.") {
            let list_row = |list: Field, prefix: &str| {
                let index = key.strip_prefix(prefix)?.strip_prefix('.')?;
                index.parse().ok().map(|i| list.nth(i))
            };
            return match key {
                "repository" => Some(Field::GitHubRepository),
                "paths" => Some(Field::GitHubPaths),
                "tagFilters" => Some(Field::GitHubTagFilters),
                _ => list_row(Field::GitHubPaths, "paths")
                    .or_else(|| list_row(Field::GitHubTagFilters, "tagFilters")),
            };
        }
        let rest = attribute.strip_prefix("operationContext.oidc.")?;
        let (cloud, rest) = rest.split_once('.')?;
        let cloud = Cloud::from_key(cloud)?;
        if cloud == Cloud::Aws
            && let Some(index) = rest.strip_prefix("policyArns.")
        {
            return index.parse().ok().map(Field::AwsPolicyArn);
        }
        cloud
            .fields()
            .iter()
            .copied()
            .find(|f| f.wire_key() == rest)
    }

    /// Help shown under the label: what the value is, and whether it may be left empty.
    pub fn hint(self) -> &'static str {
        match self {
            Field::AwsRoleArn => "The IAM role deployments assume with AssumeRoleWithWebIdentity.",
            Field::AwsSessionName => {
                "Placeholders: ${organization.name}, ${project.name}, ${stack.name}, ${operation}, \
                 ${deployment.version}, ${deployment.id}. At most 64 characters once expanded."
            }
            Field::AwsPolicyArns | Field::AwsPolicyArn(_) => {
                "Optional. Managed policies that further limit the session."
            }
            Field::AwsDuration => "Optional. 15m to 12h, e.g. 1h0m0s; AWS uses 1 hour when empty.",
            Field::AzureClientId => {
                "The application (client) ID of the app registration that trusts this stack."
            }
            Field::AzureTenantId => "The directory (tenant) ID of your Microsoft Entra tenant.",
            Field::AzureSubscriptionId => "The subscription deployments manage.",
            Field::GcpProjectNumber => {
                "The numeric project number (not the project ID) of the project holding the \
                 workload identity pool."
            }
            Field::GcpWorkloadPoolId => "The ID of the workload identity pool.",
            Field::GcpProviderId => "The ID of the OIDC provider in that pool.",
            Field::GcpServiceAccount => "The service account deployments impersonate.",
            Field::GcpRegion => "Optional. Sets GOOGLE_REGION for deployments.",
            Field::GcpTokenLifetime => {
                "Optional. Lifetime of the access token, up to 12h (over 1h needs an \
                 organization policy)."
            }
            Field::GitHubRepository => {
                "The GitHub repository as owner/repo. Its webhook deliveries start this stack's \
                 deployments."
            }
            Field::Branch => {
                "The branch deployments check out: pushes to it deploy, pull requests into it \
                 preview."
            }
            Field::GitHubPaths | Field::GitHubPath(_) => {
                "Optional. Globs of files a push must change to deploy (*, **, ?, [a-z], {a,b}); \
                 a leading ! excludes. Empty: every push deploys."
            }
            Field::GitHubTagFilters | Field::GitHubTagFilter(_) => {
                "Optional. Globs of tag names that deploy when Deploy tags is on, e.g. v*. \
                 Empty: every tag."
            }
        }
    }

    /// A realistic example value, shown while the input is empty.
    pub fn placeholder(self) -> &'static str {
        match self {
            Field::AwsRoleArn => "arn:aws:iam::123456789012:role/pulumi-deployments",
            Field::AwsSessionName => "pulumi-${stack.name}-${deployment.version}",
            Field::AwsPolicyArns | Field::AwsPolicyArn(_) => {
                "arn:aws:iam::aws:policy/ReadOnlyAccess"
            }
            Field::AwsDuration | Field::GcpTokenLifetime => "1h0m0s",
            Field::AzureClientId => "8c3b2f1e-5d4a-4e6b-9a7c-1f2e3d4c5b6a",
            Field::AzureTenantId => "72f988bf-86f1-41af-91ab-2d7cd011db47",
            Field::AzureSubscriptionId => "0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0",
            Field::GcpProjectNumber => "123456789012",
            Field::GcpWorkloadPoolId => "pulumi-deployments",
            Field::GcpProviderId => "keyless-oidc",
            Field::GcpServiceAccount => "deployer@my-project.iam.gserviceaccount.com",
            Field::GcpRegion => "us-central1",
            Field::GitHubRepository => "acme/website",
            Field::Branch => "refs/heads/main",
            Field::GitHubPaths | Field::GitHubPath(_) => "infra/**",
            Field::GitHubTagFilters | Field::GitHubTagFilter(_) => "v*",
        }
    }
}

/// An on/off setting of push to deploy.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PushSwitch {
    DeployCommits,
    PreviewPullRequests,
    DeployTags,
}

impl PushSwitch {
    /// The key under `gitHub`.
    pub fn key(self) -> &'static str {
        match self {
            PushSwitch::DeployCommits => "deployCommits",
            PushSwitch::PreviewPullRequests => "previewPullRequests",
            PushSwitch::DeployTags => "deployTags",
        }
    }

    /// The switch's label.
    pub fn label(self) -> &'static str {
        match self {
            PushSwitch::DeployCommits => "Deploy commits",
            PushSwitch::PreviewPullRequests => "Preview pull requests",
            PushSwitch::DeployTags => "Deploy tags",
        }
    }

    /// Whether the switch is on for `github`, with the server's defaults for absent keys.
    fn value(self, github: &GitHubSettings) -> bool {
        match self {
            PushSwitch::DeployCommits => github.deploys_commits(),
            PushSwitch::PreviewPullRequests => github.previews_pull_requests(),
            PushSwitch::DeployTags => github.deploys_tags(),
        }
    }
}

/// The push-to-deploy form: the `gitHub` keys the panel owns and the source's branch. Switches
/// show what the server does, defaults included.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PushForm {
    pub repository: String,
    pub branch: String,
    pub deploy_commits: bool,
    pub preview_pull_requests: bool,
    pub paths: Vec<String>,
    pub deploy_tags: bool,
    pub tag_filters: Vec<String>,
}

impl Default for PushForm {
    fn default() -> Self {
        Self::new(&GitHubSettings::default(), String::new())
    }
}

impl PushForm {
    fn new(github: &GitHubSettings, branch: String) -> Self {
        Self {
            repository: github.repository.clone().unwrap_or_default(),
            branch,
            deploy_commits: PushSwitch::DeployCommits.value(github),
            preview_pull_requests: PushSwitch::PreviewPullRequests.value(github),
            paths: github.paths.clone().unwrap_or_default(),
            deploy_tags: PushSwitch::DeployTags.value(github),
            tag_filters: github.tag_filters.clone().unwrap_or_default(),
        }
    }

    /// Whether a switch is on.
    pub fn switch(&self, switch: PushSwitch) -> bool {
        match switch {
            PushSwitch::DeployCommits => self.deploy_commits,
            PushSwitch::PreviewPullRequests => self.preview_pull_requests,
            PushSwitch::DeployTags => self.deploy_tags,
        }
    }

    /// Turns a switch on or off.
    pub fn set_switch(&mut self, switch: PushSwitch, on: bool) {
        match switch {
            PushSwitch::DeployCommits => self.deploy_commits = on,
            PushSwitch::PreviewPullRequests => self.preview_pull_requests = on,
            PushSwitch::DeployTags => self.deploy_tags = on,
        }
    }
}

/// A list's rows trimmed, or `None` for an empty list (saved as absent).
fn list_value(items: &[String]) -> Option<Value> {
    (!items.is_empty()).then(|| Value::from(items.iter().map(|i| trimmed(i)).collect::<Vec<_>>()))
}

/// The AWS form.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AwsForm {
    pub role_arn: String,
    pub session_name: String,
    pub policy_arns: Vec<String>,
    pub duration: String,
}

/// The Azure form.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AzureForm {
    pub client_id: String,
    pub tenant_id: String,
    pub subscription_id: String,
}

/// The Google Cloud form.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct GcpForm {
    pub project_number: String,
    pub workload_pool_id: String,
    pub provider_id: String,
    pub service_account: String,
    pub region: String,
    pub token_lifetime: String,
}

/// What the admin sees and edits. A cloud switched off keeps its values, so switching it back
/// on restores them; only switched-on clouds reach the settings.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DeployForm {
    /// Which clouds' switches are on.
    pub enabled: PerCloud<bool>,
    pub aws: AwsForm,
    pub azure: AzureForm,
    pub gcp: GcpForm,
    pub push: PushForm,
}

fn trimmed(value: &str) -> String {
    value.trim().to_owned()
}

fn optional(value: &str) -> Option<String> {
    Some(trimmed(value)).filter(|v| !v.is_empty())
}

impl DeployForm {
    /// The form for loaded OIDC settings (`None` when no cloud is configured).
    pub fn from_oidc(oidc: Option<&OidcConfig>) -> Self {
        let oidc = oidc.cloned().unwrap_or_default();
        let mut form = DeployForm {
            enabled: PerCloud::new(|cloud| oidc.has(cloud)),
            ..DeployForm::default()
        };
        if let Some(aws) = oidc.aws {
            form.aws = AwsForm {
                role_arn: aws.role_arn,
                session_name: aws.session_name,
                policy_arns: aws.policy_arns.unwrap_or_default(),
                duration: aws.duration.unwrap_or_default(),
            };
        }
        if let Some(azure) = oidc.azure {
            form.azure = AzureForm {
                client_id: azure.client_id,
                tenant_id: azure.tenant_id,
                subscription_id: azure.subscription_id,
            };
        }
        if let Some(gcp) = oidc.gcp {
            form.gcp = GcpForm {
                project_number: gcp.project_id,
                workload_pool_id: gcp.workload_pool_id,
                provider_id: gcp.provider_id,
                service_account: gcp.service_account,
                region: gcp.region.unwrap_or_default(),
                token_lifetime: gcp.token_lifetime.unwrap_or_default(),
            };
        }
        form
    }

    /// The form for settings as the API returned them (an empty object when there are none).
    /// Only the parts the form owns are decoded: the rest is carried as JSON, untouched.
    pub fn from_json(settings: &Value) -> Result<Self, String> {
        let at = |pointer: &str| settings.pointer(pointer).cloned().unwrap_or(Value::Null);
        let oidc = serde_json::from_value::<Option<OidcConfig>>(at("/operationContext/oidc"))
            .map_err(|e| format!("The OpenID Connect settings could not be read: {e}"))?;
        let github = serde_json::from_value::<Option<GitHubSettings>>(at("/gitHub"))
            .map_err(|e| format!("The push-to-deploy settings could not be read: {e}"))?;
        let branch = serde_json::from_value::<Option<String>>(at("/sourceContext/git/branch"))
            .map_err(|e| format!("The source branch could not be read: {e}"))?;
        Ok(DeployForm {
            push: PushForm::new(&github.unwrap_or_default(), branch.unwrap_or_default()),
            ..Self::from_oidc(oidc.as_ref())
        })
    }

    /// Whether a cloud's switch is on.
    pub fn enabled(&self, cloud: Cloud) -> bool {
        self.enabled[cloud]
    }

    /// Turns a cloud's switch on or off.
    pub fn set_enabled(&mut self, cloud: Cloud, on: bool) {
        self.enabled[cloud] = on;
    }

    /// A list field's rows (none for fields that are not lists).
    pub fn list(&self, list: Field) -> &[String] {
        match list {
            Field::AwsPolicyArns => &self.aws.policy_arns,
            Field::GitHubPaths => &self.push.paths,
            Field::GitHubTagFilters => &self.push.tag_filters,
            _ => &[],
        }
    }

    /// A list field's rows, to add or remove one.
    pub fn list_mut(&mut self, list: Field) -> Option<&mut Vec<String>> {
        match list {
            Field::AwsPolicyArns => Some(&mut self.aws.policy_arns),
            Field::GitHubPaths => Some(&mut self.push.paths),
            Field::GitHubTagFilters => Some(&mut self.push.tag_filters),
            _ => None,
        }
    }

    /// A text field's value as typed (empty for a list as a whole or a missing row).
    pub fn text(&self, field: Field) -> &str {
        if let Some((list, i)) = field.row() {
            return self.list(list).get(i).map_or("", String::as_str);
        }
        match field {
            Field::AwsRoleArn => &self.aws.role_arn,
            Field::AwsSessionName => &self.aws.session_name,
            Field::AwsDuration => &self.aws.duration,
            Field::AzureClientId => &self.azure.client_id,
            Field::AzureTenantId => &self.azure.tenant_id,
            Field::AzureSubscriptionId => &self.azure.subscription_id,
            Field::GcpProjectNumber => &self.gcp.project_number,
            Field::GcpWorkloadPoolId => &self.gcp.workload_pool_id,
            Field::GcpProviderId => &self.gcp.provider_id,
            Field::GcpServiceAccount => &self.gcp.service_account,
            Field::GcpRegion => &self.gcp.region,
            Field::GcpTokenLifetime => &self.gcp.token_lifetime,
            Field::GitHubRepository => &self.push.repository,
            Field::Branch => &self.push.branch,
            _ => "",
        }
    }

    /// Sets a text field's value; a no-op for a list as a whole or a missing row.
    pub fn set_text(&mut self, field: Field, value: String) {
        if let Some((list, i)) = field.row() {
            if let Some(slot) = self.list_mut(list).and_then(|rows| rows.get_mut(i)) {
                *slot = value;
            }
            return;
        }
        let slot = match field {
            Field::AwsRoleArn => &mut self.aws.role_arn,
            Field::AwsSessionName => &mut self.aws.session_name,
            Field::AwsDuration => &mut self.aws.duration,
            Field::AzureClientId => &mut self.azure.client_id,
            Field::AzureTenantId => &mut self.azure.tenant_id,
            Field::AzureSubscriptionId => &mut self.azure.subscription_id,
            Field::GcpProjectNumber => &mut self.gcp.project_number,
            Field::GcpWorkloadPoolId => &mut self.gcp.workload_pool_id,
            Field::GcpProviderId => &mut self.gcp.provider_id,
            Field::GcpServiceAccount => &mut self.gcp.service_account,
            Field::GcpRegion => &mut self.gcp.region,
            Field::GcpTokenLifetime => &mut self.gcp.token_lifetime,
            Field::GitHubRepository => &mut self.push.repository,
            Field::Branch => &mut self.push.branch,
            _ => return,
        };
        *slot = value;
    }

    /// The OIDC settings the form describes: values trimmed, empty optional fields and an empty
    /// policy list left out.
    pub fn oidc(&self) -> OidcConfig {
        let aws = self.enabled[Cloud::Aws].then(|| AwsOidc {
            role_arn: trimmed(&self.aws.role_arn),
            session_name: trimmed(&self.aws.session_name),
            policy_arns: Some(self.aws.policy_arns.iter().map(|a| trimmed(a)).collect())
                .filter(|arns: &Vec<String>| !arns.is_empty()),
            duration: optional(&self.aws.duration),
        });
        let azure = self.enabled[Cloud::Azure].then(|| AzureOidc {
            client_id: trimmed(&self.azure.client_id),
            tenant_id: trimmed(&self.azure.tenant_id),
            subscription_id: trimmed(&self.azure.subscription_id),
        });
        let gcp = self.enabled[Cloud::Gcp].then(|| GcpOidc {
            project_id: trimmed(&self.gcp.project_number),
            workload_pool_id: trimmed(&self.gcp.workload_pool_id),
            provider_id: trimmed(&self.gcp.provider_id),
            service_account: trimmed(&self.gcp.service_account),
            region: optional(&self.gcp.region),
            token_lifetime: optional(&self.gcp.token_lifetime),
        });
        OidcConfig { aws, azure, gcp }
    }

    /// Problems with the form's values saved over `loaded`, from the shared validators: the
    /// OIDC clouds as the form has them, `gitHub` and `sourceContext.git` as they would be saved.
    pub fn validate(&self, stack: &StackRef, loaded: &Value) -> FieldErrors {
        let edited = self.apply_to(loaded);
        fn decode<T: serde::de::DeserializeOwned>(value: &Value, pointer: &str) -> Option<T> {
            serde_json::from_value(value.pointer(pointer)?.clone()).ok()
        }
        let git = decode::<SourceContextGit>(&edited, "/sourceContext/git");
        let settings = DeploymentSettings {
            operation_context: Some(OperationContext {
                oidc: Some(self.oidc()),
                ..OperationContext::default()
            }),
            github: decode(&edited, "/gitHub"),
            source_context: git.map(|git| SourceContext {
                git: Some(git),
                ..SourceContext::default()
            }),
            ..DeploymentSettings::default()
        };
        let mut errors = FieldErrors::from_validation(&validate::settings(&settings, stack));
        // Pulumi's schema requires none of Azure's ids, so the API takes a block without them;
        // signing in to Azure needs all three, so the form asks for each.
        if self.enabled[Cloud::Azure] {
            for field in Cloud::Azure.fields() {
                if self.text(*field).trim().is_empty() {
                    let attribute = format!("{}.azure.{}", OIDC_PATH.join("."), field.wire_key());
                    errors.push(&attribute, default_message(ErrorType::Required));
                }
            }
        }
        errors
    }

    /// The example expansion of the session name for this stack, when it is valid.
    pub fn session_name_preview(&self, stack: &StackRef) -> Option<String> {
        validate::aws_session_name(self.aws.session_name.trim(), stack)
            .ok()
            .map(|name| format!("For update #1 of this stack: {name}"))
    }

    /// `loaded` with the form's OIDC settings written over the keys the form owns.
    pub fn apply_to(&self, loaded: &Value) -> Value {
        let mut edited = loaded.clone();
        let oidc = self.oidc();
        let clouds = [
            (Cloud::Aws, oidc.aws.map(serde_json::to_value)),
            (Cloud::Azure, oidc.azure.map(serde_json::to_value)),
            (Cloud::Gcp, oidc.gcp.map(serde_json::to_value)),
        ];
        for (cloud, value) in clouds {
            match value {
                Some(Ok(Value::Object(fields))) => {
                    let oidc = object_at(&mut edited, &OIDC_PATH);
                    let target = oidc
                        .entry(cloud.key())
                        .or_insert_with(|| Value::Object(Map::new()));
                    if !target.is_object() {
                        *target = Value::Object(Map::new());
                    }
                    let Value::Object(target) = target else {
                        unreachable!("target was just made an object")
                    };
                    for key in cloud.fields().iter().map(|f| f.wire_key()) {
                        match fields.get(key) {
                            Some(value) => target.insert(key.to_owned(), value.clone()),
                            None => target.remove(key),
                        };
                    }
                }
                _ => {
                    if let Some(oidc) = existing_object_at(&mut edited, &OIDC_PATH) {
                        oidc.remove(cloud.key());
                    }
                }
            }
        }
        self.apply_push(&mut edited);
        edited
    }

    /// Writes the push-to-deploy form over `edited`. Text and lists are written as they are
    /// (empty: removed); a switch is written only when it differs from what `edited` already
    /// means, so defaults stay implicit.
    fn apply_push(&self, edited: &mut Value) {
        let push = &self.push;
        let loaded = edited
            .pointer("/gitHub")
            .and_then(|g| serde_json::from_value::<GitHubSettings>(g.clone()).ok())
            .unwrap_or_default();
        let mut writes = vec![
            ("repository", optional(&push.repository).map(Value::String)),
            ("paths", list_value(&push.paths)),
            ("tagFilters", list_value(&push.tag_filters)),
        ];
        for switch in [
            PushSwitch::DeployCommits,
            PushSwitch::PreviewPullRequests,
            PushSwitch::DeployTags,
        ] {
            let on = push.switch(switch);
            if on != switch.value(&loaded) {
                writes.push((switch.key(), Some(Value::Bool(on))));
            }
        }
        write_keys(edited, &GITHUB_PATH, writes);
        let branch = optional(&push.branch).map(Value::String);
        write_keys(edited, &GIT_PATH, vec![("branch", branch)]);
    }

    /// The smallest merge patch that saves the form over `loaded`, or `None` when nothing changed.
    pub fn patch(&self, loaded: &Value) -> Option<Value> {
        merge_patch::diff(loaded, &self.apply_to(loaded))
    }
}

/// The object at `path` inside `value`, created (over anything that is not an object) as needed.
fn object_at<'a>(value: &'a mut Value, path: &[&str]) -> &'a mut Map<String, Value> {
    if !value.is_object() {
        *value = Value::Object(Map::new());
    }
    let Value::Object(fields) = value else {
        unreachable!("value was just made an object")
    };
    match path.split_first() {
        None => fields,
        Some((first, rest)) => object_at(
            fields
                .entry(*first)
                .or_insert_with(|| Value::Object(Map::new())),
            rest,
        ),
    }
}

/// Sets (`Some`) or removes (`None`) keys of the object at `path`, creating it only to set.
fn write_keys(value: &mut Value, path: &[&str], writes: Vec<(&str, Option<Value>)>) {
    for (key, write) in writes {
        match write {
            Some(new) => {
                object_at(value, path).insert(key.to_owned(), new);
            }
            None => {
                if let Some(object) = existing_object_at(value, path) {
                    object.remove(key);
                }
            }
        }
    }
}

/// The object at `path` inside `value`, when there is one.
fn existing_object_at<'a>(
    value: &'a mut Value,
    path: &[&str],
) -> Option<&'a mut Map<String, Value>> {
    path.iter()
        .try_fold(value, |value, key| value.get_mut(*key))?
        .as_object_mut()
}

/// Messages for the panel: one per field it shows, and the rest for a summary.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FieldErrors {
    /// Messages shown under their field, e.g. "Tenant ID must be a GUID like …".
    pub fields: BTreeMap<Field, String>,
    /// Messages about things the panel does not show.
    pub other: Vec<String>,
}

impl FieldErrors {
    /// The message for one field.
    pub fn get(&self, field: Field) -> Option<&str> {
        self.fields.get(&field).map(String::as_str)
    }

    /// The first field with a problem, in the order the panel shows them (the order of
    /// [`Field`]'s variants).
    pub fn first_field(&self) -> Option<Field> {
        self.fields.keys().next().copied()
    }

    fn push(&mut self, attribute: &str, message: &str) {
        if attribute == "sourceContext.git.repoUrl" {
            self.fields
                .entry(Field::Branch)
                .or_insert_with(|| NO_REPO_URL.to_owned());
            return;
        }
        match Field::from_attribute(attribute) {
            Some(field) => {
                self.fields
                    .entry(field)
                    .or_insert_with(|| sentence(&field.label(), message));
            }
            None => self.other.push(sentence(attribute, message)),
        }
    }

    /// Maps the shared validators' findings.
    pub fn from_validation(errors: &[FieldError]) -> Self {
        let mut out = Self::default();
        for error in errors {
            out.push(&error.attribute, &error.message);
        }
        out
    }

    /// Maps an API error: field details land on their field; details about fields the panel
    /// does not show, or the error's message when there are no details, go to the summary.
    pub fn from_api(error: &ApiError) -> Self {
        let mut out = Self::default();
        for detail in &error.errors {
            let message = if detail.custom_message.is_empty() {
                default_message(detail.error_type)
            } else {
                detail.custom_message.as_str()
            };
            out.push(&detail.attribute, message);
        }
        if error.errors.is_empty() {
            out.other.push(error.message.clone());
        }
        out
    }
}

fn default_message(kind: ErrorType) -> &'static str {
    match kind {
        ErrorType::Required => "is required",
        ErrorType::NotFound => "was not found",
        ErrorType::AlreadyExists => "already exists",
        ErrorType::Invalid | ErrorType::Custom => "is not valid",
    }
}

/// Joins a subject and a validator's message ("is required") into a sentence; messages that
/// are already sentences are kept as they are.
fn sentence(subject: &str, message: &str) -> String {
    if message.starts_with(|c: char| c.is_lowercase()) {
        format!("{subject} {message}")
    } else {
        message.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use keyless_api_types::ErrorDetail;
    use serde_json::json;

    const GUID: &str = "8c3b2f1e-5d4a-4e6b-9a7c-1f2e3d4c5b6a";
    const ROLE: &str = "arn:aws:iam::123456789012:role/pulumi-deploy";

    fn stack() -> StackRef {
        StackRef::new("acme", "website", "prod")
    }

    /// Settings as the server returns them, with parts the panel does not own.
    fn loaded() -> Value {
        json!({
            "sourceContext": {"git": {"repoUrl": "https://github.com/acme/infra", "branch": "refs/heads/main",
                "gitAuth": {"accessToken": {"secret": "[secret]", "ciphertext": "AAEC"}}}},
            "operationContext": {
                "environmentVariables": {"REGION": "eu-west-1", "TOKEN": {"secret": "[secret]", "ciphertext": "AQID"}},
                "preRunCommands": ["make deps"],
                "oidc": {
                    "aws": {"roleArn": ROLE, "sessionName": "pulumi-${stack.name}", "duration": "1h0m0s",
                        "policyArns": ["arn:aws:iam::aws:policy/ReadOnlyAccess"]},
                    "azure": {"clientId": GUID, "tenantId": GUID, "subscriptionId": GUID}
                }
            },
            "agentPoolID": "pool-1",
            "version": 7
        })
    }

    /// The dotted path the validators and the API use for `field`.
    fn attribute(field: Field) -> String {
        let section = match (field, field.cloud()) {
            (Field::Branch, _) => GIT_PATH.join("."),
            (_, Some(cloud)) => format!("{}.{}", OIDC_PATH.join("."), cloud.key()),
            (_, None) => GITHUB_PATH.join("."),
        };
        let base = format!("{section}.{}", field.wire_key());
        match field.row() {
            Some((_, i)) => format!("{base}.{i}"),
            None => base,
        }
    }

    fn form() -> DeployForm {
        DeployForm::from_json(&loaded()).expect("loaded settings decode")
    }

    #[test]
    fn loads_settings_into_the_form() {
        let form = form();
        assert!(
            form.enabled(Cloud::Aws) && form.enabled(Cloud::Azure) && !form.enabled(Cloud::Gcp)
        );
        assert_eq!(form.aws.role_arn, ROLE);
        assert_eq!(form.aws.duration, "1h0m0s");
        assert_eq!(
            form.aws.policy_arns,
            ["arn:aws:iam::aws:policy/ReadOnlyAccess"]
        );
        assert_eq!(form.azure.tenant_id, GUID);
        assert_eq!(form.text(Field::AzureTenantId), GUID);
        assert_eq!(DeployForm::from_json(&json!({})), Ok(DeployForm::default()));
    }

    #[test]
    fn an_unchanged_form_needs_no_patch() {
        assert_eq!(form().patch(&loaded()), None);
        assert_eq!(DeployForm::default().patch(&json!({})), None);
    }

    /// Guards against switching a cloud off leaving it configured on the server.
    #[test]
    fn switching_a_cloud_off_sends_null_for_it() {
        let mut form = form();
        form.set_enabled(Cloud::Azure, false);
        assert_eq!(
            form.patch(&loaded()),
            Some(json!({"operationContext": {"oidc": {"azure": null}}}))
        );
        // Its values are kept, so switching back on restores the loaded settings.
        form.set_enabled(Cloud::Azure, true);
        assert_eq!(form.patch(&loaded()), None);
    }

    #[test]
    fn enabling_a_cloud_sends_only_its_filled_fields() {
        let mut form = DeployForm::default();
        form.set_enabled(Cloud::Gcp, true);
        form.set_text(Field::GcpProjectNumber, " 123456789012 ".into());
        form.set_text(Field::GcpWorkloadPoolId, "pulumi-pool".into());
        form.set_text(Field::GcpProviderId, "keyless-oidc".into());
        form.set_text(
            Field::GcpServiceAccount,
            "deployer@acme.iam.gserviceaccount.com".into(),
        );
        assert_eq!(
            form.patch(&json!({})),
            Some(json!({"operationContext": {"oidc": {"gcp": {
                "projectId": "123456789012", "workloadPoolId": "pulumi-pool",
                "providerId": "keyless-oidc", "serviceAccount": "deployer@acme.iam.gserviceaccount.com"}}}}))
        );
        assert_eq!(form.validate(&stack(), &json!({})), FieldErrors::default());
    }

    #[test]
    fn clearing_optional_fields_sends_null() {
        let mut form = form();
        form.set_text(Field::AwsDuration, "  ".into());
        form.aws.policy_arns.clear();
        assert_eq!(
            form.patch(&loaded()),
            Some(
                json!({"operationContext": {"oidc": {"aws": {"duration": null, "policyArns": null}}}})
            )
        );
    }

    /// Guards against the panel wiping settings it does not show (source, secrets, env vars,
    /// keys this console does not know).
    #[test]
    fn the_patch_preserves_everything_the_form_does_not_own() {
        let mut loaded = loaded();
        loaded["operationContext"]["oidc"]["aws"]["futureKey"] = json!("kept");
        let mut form = DeployForm::from_json(&loaded).expect("decodes");
        form.set_text(
            Field::AwsRoleArn,
            "arn:aws:iam::123456789012:role/other".into(),
        );
        form.set_enabled(Cloud::Azure, false);
        let patch = form.patch(&loaded).expect("changed");
        assert_eq!(
            patch,
            json!({"operationContext": {"oidc": {
                "aws": {"roleArn": "arn:aws:iam::123456789012:role/other"}, "azure": null}}})
        );
        let mut saved = loaded.clone();
        merge_patch::apply(&mut saved, &patch);
        assert_eq!(saved["sourceContext"], loaded["sourceContext"]);
        assert_eq!(
            saved["operationContext"]["environmentVariables"],
            loaded["operationContext"]["environmentVariables"]
        );
        assert_eq!(
            saved["operationContext"]["oidc"]["aws"]["futureKey"],
            "kept"
        );
        assert_eq!(saved["agentPoolID"], "pool-1");
    }

    #[test]
    fn the_first_cloud_creates_the_oidc_object() {
        let mut form = DeployForm::default();
        form.set_enabled(Cloud::Aws, true);
        form.set_text(Field::AwsRoleArn, ROLE.into());
        form.set_text(Field::AwsSessionName, "pulumi".into());
        let loaded = json!({"operationContext": {"preRunCommands": ["make"]}});
        assert_eq!(
            form.patch(&loaded),
            Some(
                json!({"operationContext": {"oidc": {"aws": {"roleArn": ROLE, "sessionName": "pulumi"}}}})
            )
        );
    }

    #[test]
    fn validation_errors_land_on_their_fields() {
        let mut form = form();
        form.set_text(Field::AzureTenantId, "contoso.onmicrosoft.com".into());
        form.aws
            .policy_arns
            .push("arn:aws:iam::aws:role/Nope".into());
        let errors = form.validate(&stack(), &loaded());
        assert_eq!(
            errors.fields.keys().copied().collect::<Vec<_>>(),
            [Field::AwsPolicyArn(1), Field::AzureTenantId]
        );
        assert_eq!(
            errors.get(Field::AzureTenantId),
            Some("Tenant ID must be a GUID like 00000000-0000-0000-0000-000000000000")
        );
        assert!(errors.other.is_empty());
        // The API takes Azure without its ids (Pulumi requires none); the form asks for each.
        form.set_text(Field::AzureSubscriptionId, "  ".into());
        assert_eq!(
            form.validate(&stack(), &loaded())
                .get(Field::AzureSubscriptionId),
            Some("Subscription ID is required")
        );
        // Fields of a switched-off cloud are not checked.
        form.set_enabled(Cloud::Azure, false);
        assert_eq!(
            form.validate(&stack(), &loaded()).get(Field::AzureTenantId),
            None
        );
    }

    #[test]
    fn first_field_follows_display_order() {
        let mut form = DeployForm::default();
        form.set_enabled(Cloud::Aws, true);
        form.set_enabled(Cloud::Gcp, true);
        form.aws.duration = "2m".into();
        form.aws.policy_arns = vec![String::new()];
        form.aws.role_arn = ROLE.into();
        form.aws.session_name = "pulumi".into();
        let errors = form.validate(&stack(), &json!({}));
        assert_eq!(errors.first_field(), Some(Field::AwsPolicyArn(0)));
        form.aws.policy_arns.clear();
        assert_eq!(
            form.validate(&stack(), &json!({})).first_field(),
            Some(Field::AwsDuration)
        );
    }

    #[test]
    fn api_errors_map_to_fields_and_a_summary() {
        let detail = |attribute: &str, message: &str| ErrorDetail {
            resource: "DeploymentSettings".into(),
            attribute: attribute.into(),
            error_type: ErrorType::Invalid,
            custom_message: message.into(),
        };
        let error = ApiError {
            code: 400,
            message: "Invalid deployment settings".into(),
            errors: vec![
                detail("operationContext.oidc.azure.tenantId", "is not a tenant"),
                detail("operationContext.oidc.aws.policyArns.0", ""),
                detail("sourceContext.git.repoUrl", "is required"),
                detail("agentPoolID", "was not found"),
                detail(
                    "operationContext.oidc.gcp.region",
                    "Region europe-north9 does not exist.",
                ),
            ],
        };
        let mapped = FieldErrors::from_api(&error);
        assert_eq!(
            mapped.get(Field::AzureTenantId),
            Some("Tenant ID is not a tenant")
        );
        assert_eq!(
            mapped.get(Field::AwsPolicyArn(0)),
            Some("Policy ARN 1 is not valid")
        );
        assert_eq!(
            mapped.get(Field::GcpRegion),
            Some("Region europe-north9 does not exist.")
        );
        assert_eq!(mapped.other, ["agentPoolID was not found"]);
        // The panel sets the branch of a source whose URL it does not show.
        assert_eq!(mapped.get(Field::Branch), Some(NO_REPO_URL));

        let forbidden = FieldErrors::from_api(&ApiError::new(403, "Forbidden"));
        assert!(forbidden.fields.is_empty());
        assert_eq!(forbidden.other, ["Forbidden"]);
    }

    #[test]
    fn attributes_round_trip() {
        let mut fields: Vec<Field> = Cloud::ALL
            .iter()
            .flat_map(|c| c.fields().iter().copied())
            .collect();
        fields.extend([
            Field::AwsPolicyArn(3),
            Field::GitHubRepository,
            Field::Branch,
            Field::GitHubPaths,
            Field::GitHubPath(2),
            Field::GitHubTagFilters,
            Field::GitHubTagFilter(0),
        ]);
        for field in fields {
            assert_eq!(
                Field::from_attribute(&attribute(field)),
                Some(field),
                "{field:?}"
            );
        }
        assert_eq!(
            attribute(Field::GcpTokenLifetime),
            "operationContext.oidc.gcp.tokenLifetime"
        );
        assert_eq!(
            Field::from_attribute("operationContext.oidc.aws.policyArns.x"),
            None
        );
        assert_eq!(
            Field::from_attribute("operationContext.oidc.azure.roleArn"),
            None
        );
    }

    #[test]
    fn removing_a_policy_row_moves_later_rows_up() {
        let policies = Field::AwsPolicyArns;
        assert_eq!(Field::AwsPolicyArn(1).after_row_removed(policies, 1), None);
        assert_eq!(
            Field::AwsPolicyArn(2).after_row_removed(policies, 1),
            Some(Field::AwsPolicyArn(1))
        );
        assert_eq!(
            Field::AwsPolicyArn(0).after_row_removed(policies, 1),
            Some(Field::AwsPolicyArn(0))
        );
        assert_eq!(
            Field::AzureTenantId.after_row_removed(policies, 0),
            Some(Field::AzureTenantId)
        );
        // Rows of another list stay where they are.
        assert_eq!(
            Field::GitHubPath(2).after_row_removed(policies, 1),
            Some(Field::GitHubPath(2))
        );
        assert_eq!(
            Field::GitHubPath(2).after_row_removed(Field::GitHubPaths, 1),
            Some(Field::GitHubPath(1))
        );
    }

    #[test]
    fn session_name_preview_expands_for_this_stack() {
        let mut form = DeployForm::default();
        form.aws.session_name = "pulumi-${stack.name}-${deployment.version}".into();
        assert_eq!(
            form.session_name_preview(&stack()).as_deref(),
            Some("For update #1 of this stack: pulumi-prod-1")
        );
        form.aws.session_name = "pulumi ${stack}".into();
        assert_eq!(form.session_name_preview(&stack()), None);
    }

    // --- Push to deploy ----------------------------------------------------------------------

    /// Settings with push to deploy set up, and `gitHub` keys the panel does not own.
    fn loaded_push() -> Value {
        json!({
            "sourceContext": {"git": {"repoUrl": "https://github.com/acme/website", "branch": "refs/heads/main",
                "repoDir": "infra"}},
            "gitHub": {"repository": "acme/website", "previewPullRequests": false,
                "paths": ["infra/**", "!infra/docs/**"], "tagFilters": ["v*"],
                "reviewStackLabels": ["review"], "installationId": "42"},
            "version": 3
        })
    }

    #[test]
    fn loads_push_settings_with_the_servers_defaults() {
        let form = DeployForm::from_json(&loaded_push()).expect("decodes");
        assert_eq!(
            form.push,
            PushForm {
                repository: "acme/website".into(),
                branch: "refs/heads/main".into(),
                deploy_commits: true,
                preview_pull_requests: false,
                paths: vec!["infra/**".into(), "!infra/docs/**".into()],
                deploy_tags: false,
                tag_filters: vec!["v*".into()],
            }
        );
        assert_eq!(form.text(Field::GitHubPath(1)), "!infra/docs/**");
        assert_eq!(form.list(Field::GitHubTagFilters), ["v*"]);
        // No settings: pushes and pull requests would deploy, tags would not.
        let empty = DeployForm::from_json(&json!({})).expect("decodes").push;
        assert!(empty.deploy_commits && empty.preview_pull_requests && !empty.deploy_tags);
        assert_eq!(form.patch(&loaded_push()), None);
    }

    #[test]
    fn unreadable_push_settings_are_reported() {
        let error = DeployForm::from_json(&json!({"gitHub": {"paths": "infra/**"}}))
            .expect_err("paths is not a list");
        assert!(
            error.starts_with("The push-to-deploy settings could not be read"),
            "{error}"
        );
    }

    #[test]
    fn setting_up_push_to_deploy_sends_only_what_changed() {
        let mut form = DeployForm::from_json(&loaded()).expect("decodes");
        form.set_text(Field::GitHubRepository, " acme/infra ".into());
        form.set_text(Field::Branch, "refs/heads/release".into());
        form.list_mut(Field::GitHubPaths)
            .expect("a list")
            .push("src/**".into());
        form.push.set_switch(PushSwitch::DeployTags, true);
        // Flipped twice: back to the default, so not written.
        form.push.set_switch(PushSwitch::DeployCommits, false);
        form.push.set_switch(PushSwitch::DeployCommits, true);
        assert_eq!(
            form.patch(&loaded()),
            Some(json!({
                "gitHub": {"repository": "acme/infra", "paths": ["src/**"], "deployTags": true},
                "sourceContext": {"git": {"branch": "refs/heads/release"}}
            }))
        );
        assert_eq!(form.validate(&stack(), &loaded()), FieldErrors::default());
    }

    /// Guards against a cleared list staying on the server (merge patch needs an explicit null),
    /// and against the panel wiping `gitHub` keys it does not show.
    #[test]
    fn clearing_push_lists_sends_null_and_keeps_the_rest() {
        let loaded = loaded_push();
        let mut form = DeployForm::from_json(&loaded).expect("decodes");
        form.list_mut(Field::GitHubPaths).expect("a list").clear();
        form.list_mut(Field::GitHubTagFilters)
            .expect("a list")
            .clear();
        form.push.set_switch(PushSwitch::PreviewPullRequests, true);
        form.set_text(Field::Branch, String::new());
        let patch = form.patch(&loaded).expect("changed");
        assert_eq!(
            patch,
            json!({
                "gitHub": {"paths": null, "tagFilters": null, "previewPullRequests": true},
                "sourceContext": {"git": {"branch": null}}
            })
        );
        let mut saved = loaded.clone();
        merge_patch::apply(&mut saved, &patch);
        assert_eq!(saved["gitHub"]["installationId"], "42");
        assert_eq!(saved["gitHub"]["reviewStackLabels"], json!(["review"]));
        assert_eq!(saved["sourceContext"]["git"]["repoDir"], "infra");
    }

    #[test]
    fn an_untouched_push_form_adds_nothing_to_settings_without_it() {
        let mut form = DeployForm::default();
        form.set_enabled(Cloud::Azure, true);
        form.set_text(Field::AzureClientId, GUID.into());
        form.set_text(Field::AzureTenantId, GUID.into());
        form.set_text(Field::AzureSubscriptionId, GUID.into());
        let patch = form.patch(&json!({})).expect("changed");
        assert!(patch.get("gitHub").is_none() && patch.get("sourceContext").is_none());
    }

    #[test]
    fn push_errors_land_on_their_fields() {
        let mut form = DeployForm::from_json(&loaded_push()).expect("decodes");
        form.set_text(
            Field::GitHubRepository,
            "https://github.com/acme/website".into(),
        );
        form.list_mut(Field::GitHubPaths)
            .expect("a list")
            .push("src/[abc".into());
        form.set_text(Field::GitHubTagFilter(0), "v{1".into());
        let errors = form.validate(&stack(), &loaded_push());
        assert_eq!(
            errors.fields.keys().copied().collect::<Vec<_>>(),
            [
                Field::GitHubRepository,
                Field::GitHubPath(2),
                Field::GitHubTagFilter(0)
            ]
        );
        assert_eq!(
            errors.get(Field::GitHubPath(2)),
            Some("Path 3 has a [ without its ]")
        );
        assert!(errors.other.is_empty(), "{:?}", errors.other);

        // A trigger switched on without a repository.
        let mut form = DeployForm::default();
        form.push.set_switch(PushSwitch::DeployTags, true);
        assert_eq!(
            form.validate(&stack(), &json!({}))
                .get(Field::GitHubRepository),
            Some("Repository is required to deploy on pushes, pull requests or tags")
        );
    }

    #[test]
    fn a_branch_without_a_source_repository_says_why_on_branch() {
        let mut form = DeployForm::default();
        form.set_text(Field::Branch, "refs/heads/main".into());
        let errors = form.validate(&stack(), &json!({}));
        assert_eq!(errors.get(Field::Branch), Some(NO_REPO_URL));
        assert!(errors.other.is_empty());
        // With the source's URL loaded, the branch is fine.
        assert_eq!(form.validate(&stack(), &loaded()), FieldErrors::default());
    }

    #[test]
    fn push_api_errors_map_to_fields() {
        let error = ApiError {
            code: 400,
            message: "Invalid deployment settings".into(),
            errors: vec![ErrorDetail {
                resource: "DeploymentSettings".into(),
                attribute: "gitHub.paths.2".into(),
                error_type: ErrorType::Invalid,
                custom_message: "has a [ without its ]".into(),
            }],
        };
        assert_eq!(
            FieldErrors::from_api(&error).get(Field::GitHubPath(2)),
            Some("Path 3 has a [ without its ]")
        );
    }
}

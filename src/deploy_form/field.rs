//! The panel's inputs: [`Field`], with one catalogue entry per field saying where its value is
//! saved and how it is shown, and the fields of each cloud's form ([`CloudForm`]).

use keyless_api_types::Cloud;

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
    /// The agent pool that runs the stack's deployments (`agentPoolID`); empty: this server's
    /// own agents.
    AgentPool,
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
    /// The cloud the field belongs to; `None` for the agent pool and push to deploy.
    pub fn cloud(self) -> Option<Cloud> {
        self.spec().cloud
    }

    /// Whether the field is an editable list (its rows are fields of their own).
    pub fn is_list(self) -> bool {
        self.row().is_none() && self.spec().item.is_some()
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
        self.spec().item.unwrap_or_default()
    }

    /// The key inside the cloud's object; list rows share their list's key.
    pub(super) fn wire_key(self) -> &'static str {
        self.spec().key
    }

    /// The label users see.
    pub fn label(self) -> String {
        match self.row() {
            Some((_, i)) => format!("{} {}", self.item_label(), i + 1),
            None => self.spec().label.to_owned(),
        }
    }

    /// A document-unique element id for the field's input; row `i` of a list is the list's id
    /// followed by `-{i}`.
    pub fn dom_id(self) -> String {
        let key = self.wire_key();
        let section = match self.cloud() {
            Some(cloud) => format!("oidc-{}", cloud.key()),
            None if self == Field::AgentPool => "deploy".to_owned(),
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
        match attribute {
            "sourceContext.git.branch" => return Some(Field::Branch),
            "agentPoolID" => return Some(Field::AgentPool),
            _ => {}
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
        self.spec().hint
    }

    /// A realistic example value, shown while the input is empty.
    pub fn placeholder(self) -> &'static str {
        self.spec().placeholder
    }

    /// The catalogue entry of the field (of its list, for a row).
    fn spec(self) -> &'static Spec {
        const AWS: Option<Cloud> = Some(Cloud::Aws);
        const AZURE: Option<Cloud> = Some(Cloud::Azure);
        const GCP: Option<Cloud> = Some(Cloud::Gcp);
        match self.row().map_or(self, |(list, _)| list) {
            Field::AgentPool => &Spec {
                cloud: None,
                key: "agentPoolID",
                label: "Agent pool",
                item: None,
                hint: "The machines that run this stack's deployments. Admins add pools under \
                       Agent pools.",
                placeholder: "",
            },
            Field::AwsRoleArn => &Spec {
                cloud: AWS,
                key: "roleArn",
                label: "Role ARN",
                item: None,
                hint: "The IAM role deployments assume with AssumeRoleWithWebIdentity.",
                placeholder: "arn:aws:iam::123456789012:role/pulumi-deployments",
            },
            Field::AwsSessionName => &Spec {
                cloud: AWS,
                key: "sessionName",
                label: "Session Name",
                item: None,
                hint: "Placeholders: ${organization.name}, ${project.name}, ${stack.name}, \
                       ${operation}, ${deployment.version}, ${deployment.id}. At most 64 \
                       characters once expanded.",
                placeholder: "pulumi-${stack.name}-${deployment.version}",
            },
            Field::AwsPolicyArns | Field::AwsPolicyArn(_) => &Spec {
                cloud: AWS,
                key: "policyArns",
                label: "Policy ARNs",
                item: Some("Policy ARN"),
                hint: "Optional. Managed policies that further limit the session.",
                placeholder: "arn:aws:iam::aws:policy/ReadOnlyAccess",
            },
            Field::AwsDuration => &Spec {
                cloud: AWS,
                key: "duration",
                label: "Session Duration",
                item: None,
                hint: "Optional. 15m to 12h, e.g. 1h0m0s; AWS uses 1 hour when empty.",
                placeholder: "1h0m0s",
            },
            Field::AzureClientId => &Spec {
                cloud: AZURE,
                key: "clientId",
                label: "Client ID",
                item: None,
                hint: "The application (client) ID of the app registration that trusts this \
                       stack.",
                placeholder: "8c3b2f1e-5d4a-4e6b-9a7c-1f2e3d4c5b6a",
            },
            Field::AzureTenantId => &Spec {
                cloud: AZURE,
                key: "tenantId",
                label: "Tenant ID",
                item: None,
                hint: "The directory (tenant) ID of your Microsoft Entra tenant.",
                placeholder: "72f988bf-86f1-41af-91ab-2d7cd011db47",
            },
            Field::AzureSubscriptionId => &Spec {
                cloud: AZURE,
                key: "subscriptionId",
                label: "Subscription ID",
                item: None,
                hint: "The subscription deployments manage.",
                placeholder: "0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0",
            },
            Field::GcpProjectNumber => &Spec {
                cloud: GCP,
                key: "projectId",
                label: "Project Number",
                item: None,
                hint: "The numeric project number (not the project ID) of the project holding \
                       the workload identity pool.",
                placeholder: "123456789012",
            },
            Field::GcpWorkloadPoolId => &Spec {
                cloud: GCP,
                key: "workloadPoolId",
                label: "Workload Pool ID",
                item: None,
                hint: "The ID of the workload identity pool.",
                placeholder: "pulumi-deployments",
            },
            Field::GcpProviderId => &Spec {
                cloud: GCP,
                key: "providerId",
                label: "Identity Provider ID",
                item: None,
                hint: "The ID of the OIDC provider in that pool.",
                placeholder: "keyless-oidc",
            },
            Field::GcpServiceAccount => &Spec {
                cloud: GCP,
                key: "serviceAccount",
                label: "Service Account Email Address",
                item: None,
                hint: "The service account deployments impersonate.",
                placeholder: "deployer@my-project.iam.gserviceaccount.com",
            },
            Field::GcpRegion => &Spec {
                cloud: GCP,
                key: "region",
                label: "Region",
                item: None,
                hint: "Optional. Sets GOOGLE_REGION for deployments.",
                placeholder: "us-central1",
            },
            Field::GcpTokenLifetime => &Spec {
                cloud: GCP,
                key: "tokenLifetime",
                label: "Session Duration",
                item: None,
                hint: "Optional. Lifetime of the access token, up to 12h (over 1h needs an \
                       organization policy).",
                placeholder: "1h0m0s",
            },
            Field::GitHubRepository => &Spec {
                cloud: None,
                key: "repository",
                label: "Repository",
                item: None,
                hint: "The GitHub repository as owner/repo. Its webhook deliveries start this \
                       stack's deployments.",
                placeholder: "acme/website",
            },
            Field::Branch => &Spec {
                cloud: None,
                key: "branch",
                label: "Branch",
                item: None,
                hint: "The branch deployments check out: pushes to it deploy, pull requests \
                       into it preview.",
                placeholder: "refs/heads/main",
            },
            Field::GitHubPaths | Field::GitHubPath(_) => &Spec {
                cloud: None,
                key: "paths",
                label: "Paths",
                item: Some("Path"),
                hint: "Optional. Globs of files a push must change to deploy (*, **, ?, [a-z], \
                       {a,b}); a leading ! excludes. Empty: every push deploys.",
                placeholder: "infra/**",
            },
            Field::GitHubTagFilters | Field::GitHubTagFilter(_) => &Spec {
                cloud: None,
                key: "tagFilters",
                label: "Tag filters",
                item: Some("Tag filter"),
                hint: "Optional. Globs of tag names that deploy when Deploy tags is on, e.g. \
                       v*. Empty: every tag.",
                placeholder: "v*",
            },
        }
    }
}

/// What the panel knows of one input: where its value is saved and how it is shown. One entry
/// per field in [`Field::spec`], the one place a field is described.
struct Spec {
    /// The cloud whose block holds it; `None` for the agent pool and push to deploy.
    cloud: Option<Cloud>,
    /// The key inside its object (the cloud's, `gitHub`, the git source for the branch, the
    /// settings themselves for the agent pool).
    key: &'static str,
    label: &'static str,
    /// For a list: the name of one row.
    item: Option<&'static str>,
    hint: &'static str,
    placeholder: &'static str,
}

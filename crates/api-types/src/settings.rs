//! `DeploymentSettings`, as in the spec's `DeploymentSettings` schema. Fields the spec marks
//! required default to empty on input so that validation, not the decoder, names what is missing.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::Cloud;
use crate::secret::{EnvValue, SecretValue};

/// The deployment settings of one stack.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeploymentSettings {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tag: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub executor_context: Option<ExecutorContext>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_context: Option<SourceContext>,
    #[serde(default, rename = "gitHub", skip_serializing_if = "Option::is_none")]
    pub github: Option<GitHubSettings>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vcs: Option<VcsSettings>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operation_context: Option<OperationContext>,
    #[serde(
        default,
        rename = "agentPoolID",
        skip_serializing_if = "Option::is_none"
    )]
    pub agent_pool_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_options: Option<CacheOptions>,
    /// Read-only: where the settings were last written from (`console`, `api`, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// Read-only: increases by one on every write.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<i64>,
}

/// Where the source code comes from.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SourceContext {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub git: Option<SourceContextGit>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hg: Option<SourceContextHg>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub template: Option<SourceContextTemplate>,
}

/// A git repository to deploy from.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SourceContextGit {
    /// May be left out when a `gitHub` block names the repository (see
    /// [`DeploymentSettings::git_source`]).
    #[serde(
        default,
        deserialize_with = "crate::input::empty_as_none",
        skip_serializing_if = "Option::is_none"
    )]
    pub repo_url: Option<String>,
    #[serde(
        default,
        deserialize_with = "crate::input::empty_as_none",
        skip_serializing_if = "Option::is_none"
    )]
    pub branch: Option<String>,
    #[serde(
        default,
        deserialize_with = "crate::input::empty_as_none",
        skip_serializing_if = "Option::is_none"
    )]
    pub repo_dir: Option<String>,
    #[serde(
        default,
        deserialize_with = "crate::input::empty_as_none",
        skip_serializing_if = "Option::is_none"
    )]
    pub commit: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tag: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub git_auth: Option<GitAuthConfig>,
}

/// A Mercurial repository to deploy from.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SourceContextHg {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repo_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub branch: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revision: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repo_dir: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hg_auth: Option<GitAuthConfig>,
}

/// A template to deploy from.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SourceContextTemplate {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project_source_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub git_auth: Option<GitAuthConfig>,
}

/// Git credentials: SSH key, personal access token or basic auth.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GitAuthConfig {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_token: Option<SecretValue>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ssh_auth: Option<SshAuth>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub basic_auth: Option<BasicAuth>,
}

/// SSH private key with an optional passphrase.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SshAuth {
    pub ssh_private_key: SecretValue,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<SecretValue>,
}

/// Basic-auth user name and password.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BasicAuth {
    pub user_name: SecretValue,
    pub password: SecretValue,
}

/// What to do: OIDC, commands, environment and options.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OperationContext {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oidc: Option<OidcConfig>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pre_run_commands: Option<Vec<String>>,
    #[serde(
        default,
        deserialize_with = "crate::input::empty_as_none",
        skip_serializing_if = "Option::is_none"
    )]
    pub operation: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub environment_variables: Option<BTreeMap<String, EnvValue>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub options: Option<OperationOptions>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<DeploymentRole>,
}

/// Per-cloud OIDC configuration; a cloud is on when its entry is present.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OidcConfig {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aws: Option<AwsOidc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub azure: Option<AzureOidc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gcp: Option<GcpOidc>,
}

impl OidcConfig {
    /// Whether no cloud is configured.
    pub fn is_empty(&self) -> bool {
        self.clouds().next().is_none()
    }

    /// Whether `cloud` is configured.
    pub fn has(&self, cloud: Cloud) -> bool {
        match cloud {
            Cloud::Aws => self.aws.is_some(),
            Cloud::Azure => self.azure.is_some(),
            Cloud::Gcp => self.gcp.is_some(),
        }
    }

    /// The clouds configured, in [`Cloud::ALL`]'s order.
    pub fn clouds(&self) -> impl Iterator<Item = Cloud> + '_ {
        Cloud::ALL.into_iter().filter(|&cloud| self.has(cloud))
    }
}

/// AWS: `AssumeRoleWithWebIdentity` into `role_arn`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AwsOidc {
    /// Session length as a Go duration, 15m–12h; AWS's default (1h) when absent.
    #[serde(
        default,
        deserialize_with = "crate::input::empty_as_none",
        skip_serializing_if = "Option::is_none"
    )]
    pub duration: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy_arns: Option<Vec<String>>,
    #[serde(default)]
    pub role_arn: String,
    /// `RoleSessionName`, with `${…}` templates (see [`crate::session_name`]).
    #[serde(default)]
    pub session_name: String,
}

/// Azure: a federated workload identity. Pulumi's schema makes no field required, so each is
/// checked only when given (empty: absent, and left out of the output).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AzureOidc {
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub client_id: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub tenant_id: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub subscription_id: String,
}

/// Google Cloud: workload identity federation, then service account impersonation.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GcpOidc {
    /// The numeric project number (not the project id).
    #[serde(default)]
    pub project_id: String,
    #[serde(
        default,
        deserialize_with = "crate::input::empty_as_none",
        skip_serializing_if = "Option::is_none"
    )]
    pub region: Option<String>,
    #[serde(default)]
    pub workload_pool_id: String,
    #[serde(default)]
    pub provider_id: String,
    #[serde(default)]
    pub service_account: String,
    #[serde(
        default,
        deserialize_with = "crate::input::empty_as_none",
        skip_serializing_if = "Option::is_none"
    )]
    pub token_lifetime: Option<String>,
}

/// Switches that change how a deployment runs.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OperationOptions {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub skip_install_dependencies: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub skip_intermediate_deployments: Option<bool>,
    #[serde(
        default,
        deserialize_with = "crate::input::empty_as_none",
        skip_serializing_if = "Option::is_none"
    )]
    pub shell: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delete_after_destroy: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remediate_if_drift_detected: Option<bool>,
}

/// A deployment role to assume.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeploymentRole {
    #[serde(default)]
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_identifier: Option<String>,
}

/// The execution environment.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExecutorContext {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub executor_image: Option<DockerImage>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub executor_root_path: Option<String>,
}

/// A container image reference with optional pull credentials. On input also a bare string,
/// the reference alone (Pulumi's docs and CLI write `"executorImage": "pulumi/pulumi:latest"`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DockerImage {
    #[serde(default)]
    pub reference: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_default: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credentials: Option<DockerImageCredentials>,
}

impl<'de> Deserialize<'de> for DockerImage {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        /// The object form, decoded field by field so that errors keep their path.
        #[derive(Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct Object {
            #[serde(default)]
            reference: String,
            #[serde(default)]
            is_default: Option<bool>,
            #[serde(default)]
            credentials: Option<DockerImageCredentials>,
        }

        struct ImageVisitor;

        impl<'de> serde::de::Visitor<'de> for ImageVisitor {
            type Value = DockerImage;

            fn expecting(&self, formatter: &mut std::fmt::Formatter) -> std::fmt::Result {
                formatter.write_str("an image reference, or {\"reference\":\"…\"}")
            }

            fn visit_str<E: serde::de::Error>(self, reference: &str) -> Result<DockerImage, E> {
                Ok(DockerImage {
                    reference: reference.to_owned(),
                    ..DockerImage::default()
                })
            }

            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                map: A,
            ) -> Result<DockerImage, A::Error> {
                let image = Object::deserialize(serde::de::value::MapAccessDeserializer::new(map))?;
                Ok(DockerImage {
                    reference: image.reference,
                    is_default: image.is_default,
                    credentials: image.credentials,
                })
            }
        }

        deserializer.deserialize_any(ImageVisitor)
    }
}

/// Registry credentials for a [`DockerImage`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DockerImageCredentials {
    pub username: String,
    pub password: SecretValue,
}

/// Push-to-deploy settings for a GitHub repository. With `repository` set, pushes to the
/// stack's branch deploy and pull requests into it preview unless turned off (Pulumi's
/// defaults); tags deploy only when `deployTags` is on.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GitHubSettings {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repository: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deploy_commits: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preview_pull_requests: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pull_request_template: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deploy_pull_request: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub paths: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deploy_tags: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tag_filters: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub review_stack_labels: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub installation_id: Option<String>,
}

/// VCS-provider settings (`provider` is one of [`VCS_PROVIDERS`]).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VcsSettings {
    #[serde(default)]
    pub provider: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repository: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deploy_commits: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preview_pull_requests: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pull_request_template: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deploy_pull_request: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub paths: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deploy_tags: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tag_filters: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub installation_id: Option<String>,
}

/// The VCS providers Pulumi's schema names for `vcs.provider`.
pub const VCS_PROVIDERS: &[&str] = &["github", "gitlab", "bitbucket", "azure_devops", "custom"];

/// Dependency caching between runs.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CacheOptions {
    #[serde(default)]
    pub enable: bool,
}

impl GitHubSettings {
    /// Whether pushes to the stack's branch start an `update` (default on).
    pub fn deploys_commits(&self) -> bool {
        self.deploy_commits.unwrap_or(true)
    }

    /// Whether pull requests into the stack's branch start a `preview` (default on).
    pub fn previews_pull_requests(&self) -> bool {
        self.preview_pull_requests.unwrap_or(true)
    }

    /// Whether pushed tags matching `tagFilters` start an `update` (default off).
    pub fn deploys_tags(&self) -> bool {
        self.deploy_tags.unwrap_or(false)
    }
}

impl DeploymentSettings {
    /// The OIDC configuration, when any cloud is set.
    pub fn oidc(&self) -> Option<&OidcConfig> {
        self.operation_context.as_ref()?.oidc.as_ref()
    }

    /// The git source a deployment clones: `sourceContext.git` with its `repoUrl`, or, when that
    /// is left out, the repository the `gitHub` block names (as Pulumi does, whose docs leave
    /// `repoUrl` out beside a `gitHub` block). `None` when neither names a repository.
    pub fn git_source(&self) -> Option<SourceContextGit> {
        let mut git = self
            .source_context
            .as_ref()
            .and_then(|s| s.git.clone())
            .unwrap_or_default();
        if git.repo_url.as_deref().is_none_or(|u| u.trim().is_empty()) {
            let repository = self.github.as_ref()?.repository.as_deref()?.trim();
            if repository.is_empty() {
                return None;
            }
            git.repo_url = Some(format!("https://github.com/{repository}.git"));
        }
        Some(git)
    }

    /// Rewrites durations the way the API echoes them (`90m` → `1h30m0s`); values that do not
    /// parse are left for validation to report.
    pub fn normalize(&mut self) {
        let Some(oidc) = self
            .operation_context
            .as_mut()
            .and_then(|o| o.oidc.as_mut())
        else {
            return;
        };
        let fields = [
            oidc.aws.as_mut().and_then(|a| a.duration.as_mut()),
            oidc.gcp.as_mut().and_then(|g| g.token_lifetime.as_mut()),
        ];
        for field in fields.into_iter().flatten() {
            if let Ok(normal) = crate::duration::normalize(field) {
                *field = normal;
            }
        }
    }

    /// Every secret slot in the settings, with its dotted attribute path.
    pub fn secrets_mut(&mut self) -> Vec<(String, &mut SecretValue)> {
        let mut out = Vec::new();
        if let Some(ctx) = self.operation_context.as_mut() {
            for (name, value) in ctx.environment_variables.iter_mut().flatten() {
                if let EnvValue::Secret(secret) = value {
                    out.push((
                        format!("operationContext.environmentVariables.{name}"),
                        secret,
                    ));
                }
            }
        }
        if let Some(src) = self.source_context.as_mut() {
            let auths = [
                (
                    "sourceContext.git.gitAuth",
                    src.git.as_mut().and_then(|g| g.git_auth.as_mut()),
                ),
                (
                    "sourceContext.hg.hgAuth",
                    src.hg.as_mut().and_then(|h| h.hg_auth.as_mut()),
                ),
                (
                    "sourceContext.template.gitAuth",
                    src.template.as_mut().and_then(|t| t.git_auth.as_mut()),
                ),
            ];
            for (path, auth) in auths {
                if let Some(auth) = auth {
                    auth.push_secrets(path, &mut out);
                }
            }
        }
        if let Some(creds) = self
            .executor_context
            .as_mut()
            .and_then(|e| e.executor_image.as_mut())
            .and_then(|i| i.credentials.as_mut())
        {
            out.push((
                "executorContext.executorImage.credentials.password".into(),
                &mut creds.password,
            ));
        }
        out
    }
}

impl GitAuthConfig {
    fn push_secrets<'a>(&'a mut self, path: &str, out: &mut Vec<(String, &'a mut SecretValue)>) {
        if let Some(token) = self.access_token.as_mut() {
            out.push((format!("{path}.accessToken"), token));
        }
        if let Some(ssh) = self.ssh_auth.as_mut() {
            out.push((
                format!("{path}.sshAuth.sshPrivateKey"),
                &mut ssh.ssh_private_key,
            ));
            if let Some(password) = ssh.password.as_mut() {
                out.push((format!("{path}.sshAuth.password"), password));
            }
        }
        if let Some(basic) = self.basic_auth.as_mut() {
            out.push((format!("{path}.basicAuth.userName"), &mut basic.user_name));
            out.push((format!("{path}.basicAuth.password"), &mut basic.password));
        }
    }
}

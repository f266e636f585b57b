//! The Deploy panel's form as plain Rust, free of any UI: form state ⇄ [`DeploymentSettings`],
//! the minimal merge patch to save it, and validation or API errors mapped onto form fields.
//!
//! The panel owns `agentPoolID`, `operationContext.oidc.{aws,azure,gcp}` (within each cloud only
//! the keys it shows), the push-to-deploy keys of `gitHub` (`repository`, `deployCommits`,
//! `previewPullRequests`, `paths`, `deployTags`, `tagFilters`) and `sourceContext.git.branch`.
//! Everything else in the loaded settings (the rest of the source, environment variables,
//! secrets, keys this console does not know) is carried over untouched, so the patch never
//! mentions it.

mod errors;
mod field;
mod oidc_json;
mod push;

use keyless_api_types::{
    AwsOidc, AzureOidc, Cloud, DeploymentSettings, ErrorType, GcpOidc, GitHubSettings, OidcConfig,
    OperationContext, PerCloud, SourceContext, SourceContextGit, merge_patch, stack::StackRef,
    validate,
};
use serde_json::{Map, Value};

use errors::default_message;
pub use errors::{FieldErrors, FieldMessages};
pub use field::{CloudForm, Field};
use push::list_value;
pub use push::{PushForm, PushSwitch};

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
    /// The id of the agent pool that runs deployments; empty: this server's own agents.
    pub agent_pool: String,
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
        let oidc = oidc_json::read(settings.pointer("/operationContext/oidc"))
            .map_err(|e| format!("The OpenID Connect settings could not be read: {e}"))?;
        let github = serde_json::from_value::<Option<GitHubSettings>>(at("/gitHub"))
            .map_err(|e| format!("The push-to-deploy settings could not be read: {e}"))?;
        let branch = serde_json::from_value::<Option<String>>(at("/sourceContext/git/branch"))
            .map_err(|e| format!("The source branch could not be read: {e}"))?;
        let pool = serde_json::from_value::<Option<String>>(at("/agentPoolID"))
            .map_err(|e| format!("The agent pool could not be read: {e}"))?;
        Ok(DeployForm {
            agent_pool: pool.unwrap_or_default(),
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
            Field::AgentPool => &self.agent_pool,
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
            Field::AgentPool => &mut self.agent_pool,
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
        // Only what the git checks read: decoding all of `sourceContext.git` would bring the
        // decoders of its sealed `gitAuth` into the panel's wasm.
        let text = |git: &Value, key: &str| {
            git.get(key)
                .and_then(Value::as_str)
                .filter(|text| !text.is_empty())
                .map(str::to_owned)
        };
        let git = edited
            .pointer("/sourceContext/git")
            .filter(|git| git.is_object())
            .map(|git| SourceContextGit {
                repo_url: text(git, "repoUrl"),
                branch: text(git, "branch"),
                commit: text(git, "commit"),
                ..SourceContextGit::default()
            });
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

    /// `loaded` with the form's values written over the keys the form owns.
    pub fn apply_to(&self, loaded: &Value) -> Value {
        let mut edited = loaded.clone();
        let pool = optional(&self.agent_pool).map(Value::String);
        write_keys(&mut edited, &[], vec![(Field::AgentPool.wire_key(), pool)]);
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
                            Some(value) => {
                                target.insert(key.to_owned(), value.clone());
                            }
                            None => remove_key(target, key),
                        }
                    }
                }
                _ => {
                    if let Some(oidc) = existing_object_at(&mut edited, &OIDC_PATH) {
                        remove_key(oidc, cloud.key());
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
                    remove_key(object, key);
                }
            }
        }
    }
}

/// Removes `key` from `object` by building it again without it: `Map::remove` would bring
/// the B-tree's rebalancing into the panel's wasm (3 KB) for objects of a few keys.
fn remove_key(object: &mut Map<String, Value>, key: &str) {
    if object.contains_key(key) {
        for (name, value) in std::mem::take(object) {
            if name != key {
                object.insert(name, value);
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

#[cfg(test)]
mod tests {
    use super::*;
    use keyless_api_types::{ApiError, ErrorDetail};
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
            (Field::AgentPool, _) => return field.wire_key().to_owned(),
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

    /// Guards against "This server's agents" leaving the old pool saved (merge patch needs an
    /// explicit null) and against an empty id being saved as a pool.
    #[test]
    fn choosing_an_agent_pool_and_going_back_to_the_servers_agents() {
        let mut form = form();
        assert_eq!(form.text(Field::AgentPool), "pool-1");
        form.set_text(Field::AgentPool, "pool-2".into());
        assert_eq!(
            form.patch(&loaded()),
            Some(json!({"agentPoolID": "pool-2"}))
        );
        form.set_text(Field::AgentPool, String::new());
        assert_eq!(form.patch(&loaded()), Some(json!({"agentPoolID": null})));
        assert_eq!(DeployForm::default().patch(&json!({})), None);
        assert_eq!(Field::AgentPool.dom_id(), "deploy-agentPoolID");
        let error = DeployForm::from_json(&json!({"agentPoolID": 7})).expect_err("not a string");
        assert!(
            error.starts_with("The agent pool could not be read"),
            "{error}"
        );
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
            errors.fields.keys().collect::<Vec<_>>(),
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
        assert_eq!(
            mapped.get(Field::AgentPool),
            Some("Agent pool was not found")
        );
        assert!(mapped.other.is_empty(), "{:?}", mapped.other);
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
            Field::AgentPool,
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
            errors.fields.keys().collect::<Vec<_>>(),
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
    fn the_loaded_source_is_checked_as_the_server_checks_it() {
        let mut form = DeployForm::default();
        form.set_text(Field::Branch, "refs/heads/main".into());
        let with = |git: Value| json!({"sourceContext": {"git": git}});
        let pinned = with(
            json!({"repoUrl": "https://github.com/acme/infra", "commit": "abc123",
                                 "gitAuth": {"accessToken": {"secret": "sealed"}}}),
        );
        assert_eq!(
            form.validate(&stack(), &pinned).other,
            ["sourceContext.git.commit cannot be set together with a branch"]
        );
        // A URL with credentials is not a missing URL.
        let leaky = with(json!({"repoUrl": "https://bot:ghp_token@github.com/acme/infra"}));
        let errors = form.validate(&stack(), &leaky);
        assert_eq!(errors.get(Field::Branch), None);
        assert!(
            errors.other.len() == 1
                && errors.other[0]
                    .starts_with("sourceContext.git.repoUrl must not hold credentials"),
            "{:?}",
            errors.other
        );
        // What the checks do not read may be anything.
        let odd =
            with(json!({"repoUrl": "https://github.com/acme/infra", "gitAuth": 7, "tag": []}));
        assert_eq!(form.validate(&stack(), &odd), FieldErrors::default());
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

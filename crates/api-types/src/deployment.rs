//! Deployments: the spec's `CreateDeploymentResponse`, `GetDeploymentResponse`,
//! `ListDeploymentResponseV2`, `DeploymentJob`, `StepRun`, the two log shapes and the stack and
//! organization metadata. Timestamps are RFC 3339 strings in UTC.
//!
//! Reading is lenient where Pulumi's schema makes a field optional (or may add enum values),
//! so that the console also reads Pulumi Cloud's answers: absent fields take their defaults and
//! an operation the console does not know reads as `None`.

use serde::{Deserialize, Serialize};

/// A pulumi operation a deployment runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PulumiOperation {
    Update,
    Preview,
    Destroy,
    Refresh,
    DetectDrift,
    RemediateDrift,
}

impl PulumiOperation {
    /// Every operation, in the spec's order.
    pub const ALL: [Self; 6] = [
        Self::Update,
        Self::Preview,
        Self::Destroy,
        Self::Refresh,
        Self::DetectDrift,
        Self::RemediateDrift,
    ];

    /// The wire name, e.g. `detect-drift`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Update => "update",
            Self::Preview => "preview",
            Self::Destroy => "destroy",
            Self::Refresh => "refresh",
            Self::DetectDrift => "detect-drift",
            Self::RemediateDrift => "remediate-drift",
        }
    }

    /// The operation a wire name names.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|op| op.as_str() == name)
    }

    /// The wire name of a deployment's operation, or a neutral label when the answer named
    /// none (Pulumi's deployments older than the field) or one this console does not know.
    pub fn label(operation: Option<Self>) -> &'static str {
        operation.map_or("unknown operation", Self::as_str)
    }
}

/// Reads a deployment's `pulumiOperation`: absent, `null` or an unknown name is `None`.
fn lenient_operation<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<PulumiOperation>, D::Error> {
    let name = Option::<String>::deserialize(deserializer)?;
    Ok(name.as_deref().and_then(PulumiOperation::parse))
}

/// The status of a deployment or of its job.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DeploymentStatus {
    NotStarted,
    Accepted,
    Running,
    Failed,
    Succeeded,
    Skipped,
    /// A status this version does not know (a newer server's, or Pulumi's): shown as unknown
    /// rather than failing the whole answer. Keyless never stores or sends it.
    #[serde(other)]
    Unknown,
}

impl DeploymentStatus {
    /// Every status, in the spec's order.
    pub const ALL: [Self; 6] = [
        Self::NotStarted,
        Self::Accepted,
        Self::Running,
        Self::Failed,
        Self::Succeeded,
        Self::Skipped,
    ];

    /// The wire name, e.g. `not-started`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::NotStarted => "not-started",
            Self::Accepted => "accepted",
            Self::Running => "running",
            Self::Failed => "failed",
            Self::Succeeded => "succeeded",
            Self::Skipped => "skipped",
            Self::Unknown => "unknown",
        }
    }

    /// The status a wire name names.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == name)
    }

    /// Whether the deployment is over: it will not change again.
    pub fn is_finished(self) -> bool {
        matches!(self, Self::Failed | Self::Succeeded | Self::Skipped)
    }

    /// Whether the deployment waits in its queue.
    pub fn is_queued(self) -> bool {
        matches!(self, Self::NotStarted | Self::Accepted)
    }
}

/// The status of one step of a job.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum StepStatus {
    NotStarted,
    Running,
    Failed,
    Succeeded,
    /// A status this version does not know, as [`DeploymentStatus::Unknown`].
    #[serde(other)]
    Unknown,
}

impl StepStatus {
    /// The wire name, e.g. `not-started`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::NotStarted => "not-started",
            Self::Running => "running",
            Self::Failed => "failed",
            Self::Succeeded => "succeeded",
            Self::Unknown => "unknown",
        }
    }

    /// The status a wire name names.
    pub fn parse(name: &str) -> Option<Self> {
        [
            Self::NotStarted,
            Self::Running,
            Self::Failed,
            Self::Succeeded,
        ]
        .into_iter()
        .find(|s| s.as_str() == name)
    }
}

/// The answer to `POST …/deployments`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateDeploymentResponse {
    pub id: String,
    #[serde(default)]
    pub console_url: String,
    pub version: i64,
}

/// The body of `POST …/deployments` that runs the stack's saved settings as they are.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateDeploymentRequest {
    pub operation: PulumiOperation,
    /// Whether the stack's saved settings apply (always, from the console).
    pub inherit_settings: bool,
}

/// Who asked for a deployment (the spec's `UserInfo`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UserInfo {
    pub name: String,
    pub github_login: String,
    pub avatar_url: String,
}

/// One step of a job.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StepRun {
    #[serde(default)]
    pub name: String,
    pub status: StepStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_updated: Option<String>,
}

/// A deployment's job: its steps, run in order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeploymentJob {
    pub status: DeploymentStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_updated: Option<String>,
    #[serde(default)]
    pub steps: Vec<StepRun>,
}

/// An environment variable of a deployment; a secret one has no value.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EnvironmentVariable {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    #[serde(default)]
    pub secret: bool,
}

/// Where a deployment's code came from, without credentials.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeploymentSource {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub git: Option<DeploymentSourceGit>,
}

/// A git source, without its credentials.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeploymentSourceGit {
    #[serde(rename = "repoURL")]
    pub repo_url: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub branch: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repo_dir: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commit: Option<String>,
}

/// What a deployment ran with: its variables and source.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeploymentConfiguration {
    #[serde(default)]
    pub environment_variables: Vec<EnvironmentVariable>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<DeploymentSource>,
}

/// What started a deployment from GitHub (a Keyless extension: the spec's `initiator` only
/// names the source). Present when `initiator` is `github-push` or `github-pull-request`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeploymentTrigger {
    /// `owner/repo`, as GitHub spelled it.
    pub repository: String,
    /// The pushed ref (`refs/heads/main`, `refs/tags/v1.0.0`), or a pull request's head ref.
    #[serde(rename = "ref")]
    pub git_ref: String,
    /// The commit the deployment checks out.
    pub commit: String,
    /// The head commit's message, or the pull request's title.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// The head commit's author, or the pull request's author.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub author: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pull_request: Option<i64>,
    /// The webhook delivery (`X-GitHub-Delivery`) that started it.
    pub delivery_id: String,
}

/// One deployment, as `GET …/deployments/{id}` returns it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GetDeploymentResponse {
    pub id: String,
    pub created: String,
    pub modified: String,
    pub status: DeploymentStatus,
    pub version: i64,
    pub latest_version: i64,
    pub requested_by: UserInfo,
    /// `None` when the answer names no operation the console knows (see
    /// [`PulumiOperation::label`]); Keyless always sends one.
    #[serde(
        default,
        deserialize_with = "lenient_operation",
        skip_serializing_if = "Option::is_none"
    )]
    pub pulumi_operation: Option<PulumiOperation>,
    /// Empty when the answer does not say.
    #[serde(default)]
    pub initiator: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trigger: Option<DeploymentTrigger>,
    #[serde(default)]
    pub configuration: DeploymentConfiguration,
    /// Omitted until the deployment has started.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub jobs: Vec<DeploymentJob>,
}

/// One deployment in a listing.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ListDeploymentSnapshot {
    pub id: String,
    pub created: String,
    pub modified: String,
    pub status: DeploymentStatus,
    pub version: i64,
    pub requested_by: UserInfo,
    #[serde(default)]
    pub project_name: String,
    #[serde(default)]
    pub stack_name: String,
    #[serde(default)]
    pub paused: bool,
    /// As in [`GetDeploymentResponse::pulumi_operation`].
    #[serde(
        default,
        deserialize_with = "lenient_operation",
        skip_serializing_if = "Option::is_none"
    )]
    pub pulumi_operation: Option<PulumiOperation>,
    /// Pulumi updates the deployment made; this server records none.
    #[serde(default)]
    pub updates: Vec<serde_json::Value>,
    #[serde(default)]
    pub jobs: Vec<DeploymentJob>,
    #[serde(default)]
    pub initiator: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trigger: Option<DeploymentTrigger>,
}

/// A page of deployments.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ListDeploymentResponseV2 {
    pub deployments: Vec<ListDeploymentSnapshot>,
    pub items_per_page: i64,
    pub total: i64,
}

/// A Pulumi update a deployment made, as `GET …/deployments/{id}/updates` lists them (the CLI's
/// `GetDeploymentUpdatesUpdateInfo`). Keyless hosts no Pulumi state, so the list is empty.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeploymentUpdateInfo {
    #[serde(rename = "updateID")]
    pub update_id: String,
    pub version: i64,
    pub latest_version: i64,
}

/// How a step's header line starts in a log as a text file (`<time> ##[group]<step>`): the
/// server's `logs/raw` writes it and the console reads and downloads it. The convention is
/// GitHub Actions', so their logs open as steps too.
pub const GROUP_MARKER: &str = "##[group]";

/// A line of the whole deployment's log; a line with `header` starts a step.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeploymentLogLine {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub header: Option<String>,
    pub timestamp: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line: Option<String>,
}

/// Streaming logs: lines after a continuation token.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeploymentLogs {
    /// Absent from a poll that found no new lines.
    #[serde(default)]
    pub lines: Vec<DeploymentLogLine>,
    /// Pass back as `continuationToken`; absent once the deployment has finished and every
    /// line was returned.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_token: Option<String>,
}

/// A line of one step's log.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeploymentStepLogLine {
    pub timestamp: String,
    pub line: String,
}

/// Step logs: a window of one step's lines.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeploymentLogsStep {
    pub name: String,
    pub lines: Vec<DeploymentStepLogLine>,
    /// The offset to ask for next; absent at the end of a finished step.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_offset: Option<i64>,
}

/// The logs endpoint's answer, told apart by `__type` (the spec's `DeploymentLogsBase`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "__type")]
pub enum DeploymentLogsBase {
    DeploymentLogs(DeploymentLogs),
    DeploymentLogsStep(DeploymentLogsStep),
}

/// `GET …/deployments/metadata` of a stack.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StackDeploymentsMetadataResponse {
    /// Whether new deployments of this stack wait, by a stack or an organization pause.
    #[serde(default)]
    pub paused: bool,
    #[serde(default)]
    pub stack_paused: bool,
    #[serde(default)]
    pub organization_paused: bool,
    #[serde(default)]
    pub has_schedules: bool,
}

/// How many of an organization's deployments are in each status.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeploymentCounts {
    pub not_started: i64,
    pub accepted: i64,
    pub running: i64,
    pub failed: i64,
    pub succeeded: i64,
    pub skipped: i64,
    pub total: i64,
}

/// `GET /api/orgs/{org}/deployments/metadata`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrgDeploymentsMetadataResponse {
    pub paused: bool,
    /// How many of the organization's deployments may run at once.
    pub concurrency: i64,
    pub deployment_counts: DeploymentCounts,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn unknown_statuses_read_as_unknown_and_are_never_parsed_from_the_store() {
        let status: DeploymentStatus = serde_json::from_value(json!("paused")).expect("reads");
        assert_eq!(status, DeploymentStatus::Unknown);
        assert!(!status.is_finished() && !status.is_queued());
        let step: StepStatus = serde_json::from_value(json!("cancelled")).expect("reads");
        assert_eq!(step, StepStatus::Unknown);
        assert_eq!(DeploymentStatus::parse("unknown"), None);
        assert_eq!(StepStatus::parse("unknown"), None);
    }

    #[test]
    fn logs_carry_their_type_tag() {
        let logs = DeploymentLogsBase::DeploymentLogsStep(DeploymentLogsStep {
            name: "Setup".into(),
            lines: vec![DeploymentStepLogLine {
                timestamp: "2026-01-01T00:00:00.000000Z".into(),
                line: "hi\n".into(),
            }],
            next_offset: None,
        });
        let value = serde_json::to_value(&logs).expect("serialises");
        assert_eq!(
            value,
            json!({"__type": "DeploymentLogsStep", "name": "Setup",
                   "lines": [{"timestamp": "2026-01-01T00:00:00.000000Z", "line": "hi\n"}]})
        );
        assert_eq!(
            serde_json::from_value::<DeploymentLogsBase>(value).expect("parses"),
            logs
        );
    }

    #[test]
    fn create_request_puts_the_operation_at_the_top_level() {
        let request = CreateDeploymentRequest {
            operation: PulumiOperation::Destroy,
            inherit_settings: true,
        };
        assert_eq!(
            serde_json::to_value(&request).expect("serialises"),
            json!({"operation": "destroy", "inheritSettings": true})
        );
    }

    #[test]
    fn operations_read_leniently() {
        let read = |operation: serde_json::Value| {
            let mut snapshot = json!({"id": "d", "created": "c", "modified": "m",
                "status": "running", "version": 1,
                "requestedBy": {"name": "", "githubLogin": "a", "avatarUrl": ""}});
            if !operation.is_null() {
                snapshot["pulumiOperation"] = operation;
            }
            serde_json::from_value::<ListDeploymentSnapshot>(snapshot)
                .expect("reads")
                .pulumi_operation
        };
        assert_eq!(
            read(json!("detect-drift")),
            Some(PulumiOperation::DetectDrift)
        );
        assert_eq!(read(json!("import")), None);
        assert_eq!(read(serde_json::Value::Null), None);
        assert_eq!(PulumiOperation::label(None), "unknown operation");
    }

    #[test]
    fn names_round_trip() {
        for op in PulumiOperation::ALL {
            assert_eq!(PulumiOperation::parse(op.as_str()), Some(op));
            assert_eq!(
                serde_json::to_value(op).expect("serialises"),
                json!(op.as_str())
            );
        }
        assert_eq!(
            DeploymentStatus::parse("not-started"),
            Some(DeploymentStatus::NotStarted)
        );
        assert_eq!(StepStatus::parse("running"), Some(StepStatus::Running));
        assert!(DeploymentStatus::Skipped.is_finished());
        assert!(DeploymentStatus::Accepted.is_queued());
    }
}

//! What crosses between the server and its agents, as JSON under `/api/agent/…`, each request
//! with the pool's token (`Authorization: token …`) and the agent's id ([`AGENT_HEADER`],
//! new at every start of the agent; the server holds leases in the name of both). An agent claims a deployment and receives
//! an [`Assignment`]: that deployment alone, its secrets opened, nothing else. While it runs,
//! the agent renews its lease (and hears of cancels), asks for the deployment's OIDC token when
//! its step comes, and sends numbered [`Report`]s of steps and lines, which the server stores
//! once each however often they are sent.

use keyless_api_types::{DeploymentSettings, DeploymentStatus, PulumiOperation, StepStatus};
use serde::{Deserialize, Serialize};

use crate::store::{DeploymentId, NewLogLine, StackRecord};

/// The header that carries the agent's id.
pub const AGENT_HEADER: &str = "keyless-agent";

/// The longest agent id, in bytes.
pub const MAX_AGENT_ID: usize = 64;

/// What an agent says of itself with every claim and renewal, for its pool's list of agents.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AgentInfo {
    #[serde(default)]
    pub hostname: String,
    #[serde(default)]
    pub version: String,
    #[serde(default)]
    pub platform: String,
    #[serde(default)]
    pub pid: String,
}

/// The longest a claim waits for a deployment to start.
pub const MAX_CLAIM_WAIT_MILLIS: u64 = 20_000;

/// `POST /api/agent/claim`: answered with an [`Assignment`] as soon as one of the pool's
/// deployments may start, or 204 when none could within `waitMillis`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ClaimRequest {
    #[serde(default)]
    pub agent: AgentInfo,
    /// At most [`MAX_CLAIM_WAIT_MILLIS`]; 0 answers at once.
    #[serde(default)]
    pub wait_millis: u64,
}

/// One deployment, as an agent runs it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Assignment {
    pub id: DeploymentId,
    pub stack: StackRecord,
    pub version: i64,
    pub operation: PulumiOperation,
    /// The GitHub login of who asked for it.
    pub requested_by: String,
    /// Its settings, secrets opened: the only plaintext secrets an agent ever receives.
    pub settings: DeploymentSettings,
    /// Its steps' names, as the server recorded them.
    pub steps: Vec<String>,
    /// How long it may run before it is cancelled, in seconds.
    pub timeout_secs: u64,
    /// The most log bytes it keeps.
    pub max_log_bytes: u64,
    /// How long its lease lasts unless renewed, in milliseconds.
    pub lease_millis: u64,
}

/// `POST /api/agent/leases`: renews the leases of the deployments the agent runs.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RenewRequest {
    pub agent: AgentInfo,
    pub deployments: Vec<DeploymentId>,
}

/// The deployments whose lease the agent still holds; any other it must stop.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RenewResponse {
    pub held: Vec<Held>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Held {
    pub id: DeploymentId,
    /// Who asked to cancel it, if anyone has.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cancel_requested_by: Option<String>,
}

/// `POST /api/agent/deployments/{id}/token`: the deployment's OIDC token, minted now.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MintedToken {
    pub token: String,
    pub issuer: String,
    pub subject: String,
    pub audience: String,
    /// Unix seconds.
    pub expires_at: u64,
}

/// `POST /api/agent/deployments/{id}/reports`: what happened since the last report.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Report {
    /// From 1, one more for each report of this deployment.
    pub seq: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub step: Option<StepChange>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub lines: Vec<LogLine>,
    /// The deployment's end, stored after the lines.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finish: Option<Finish>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StepChange {
    pub position: i64,
    pub status: StepStatus,
    pub at: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Finish {
    pub status: DeploymentStatus,
    pub at: String,
}

/// A log line as stored (see [`NewLogLine`]).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LogLine {
    pub step: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub step_offset: Option<i64>,
    pub timestamp: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub header: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line: Option<String>,
}

impl From<&NewLogLine> for LogLine {
    fn from(line: &NewLogLine) -> Self {
        Self {
            step: line.step,
            step_offset: line.step_offset,
            timestamp: line.timestamp.clone(),
            header: line.header.clone(),
            line: line.line.clone(),
        }
    }
}

impl From<LogLine> for NewLogLine {
    fn from(line: LogLine) -> Self {
        Self {
            step: line.step,
            step_offset: line.step_offset,
            timestamp: line.timestamp,
            header: line.header,
            line: line.line,
        }
    }
}

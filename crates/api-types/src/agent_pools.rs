//! Agent pools, in Pulumi's shapes: `GET|POST /api/orgs/{org}/agent-pools` and
//! `GET|PATCH|DELETE /api/orgs/{org}/agent-pools/{poolId}`, with the rules the server enforces
//! and the console checks as the admin types. A pool's token is shown once, when it is made.

use serde::{Deserialize, Serialize};

/// The longest name a pool may have, in characters.
pub const MAX_NAME_CHARS: usize = 255;
/// The longest description a pool may have, in characters.
pub const MAX_DESCRIPTION_CHARS: usize = 1024;

/// Whether any agent of a pool (or an agent itself) has been heard from lately.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AgentStatus {
    Online,
    /// Also any status this console does not know, so that a newer server's answer reads.
    #[serde(other)]
    Offline,
}

/// One pool as listed (Pulumi's `AgentPool`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AgentPool {
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub description: String,
    /// When it was made, in Unix seconds.
    pub created: i64,
    /// When any of its agents was last heard from, in Unix seconds; 0 if never.
    #[serde(default)]
    pub last_seen: i64,
    pub status: AgentStatus,
    /// When its agents last started a deployment, in Unix seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_deployment: Option<i64>,
}

/// `GET /api/orgs/{org}/agent-pools`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ListAgentPoolsResponse {
    pub agent_pools: Vec<AgentPool>,
}

/// An agent of a pool, as the pool's detail lists it (Pulumi's `DeploymentAgentMetadata`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AgentMetadata {
    #[serde(default)]
    pub version: String,
    #[serde(default)]
    pub platform: String,
    #[serde(default)]
    pub hostname: String,
    #[serde(default)]
    pub ip: String,
    #[serde(default)]
    pub pid: String,
    /// In Unix seconds.
    #[serde(default)]
    pub last_seen: i64,
    pub status: AgentStatus,
    /// The deployments it is running (Keyless's addition to Pulumi's shape).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub running: Vec<AgentRun>,
}

/// A deployment an agent is running: its stack in the pool's organization, and its version.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AgentRun {
    pub project: String,
    pub stack: String,
    pub version: i64,
}

/// `GET /api/orgs/{org}/agent-pools/{poolId}` (Pulumi's `AgentPoolDetail`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AgentPoolDetail {
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub description: String,
    /// In Unix seconds.
    pub created: i64,
    #[serde(default)]
    pub agents: Vec<AgentMetadata>,
}

/// `POST /api/orgs/{org}/agent-pools` and `PATCH …/{poolId}` (which takes the same body).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgentPoolRequest {
    /// Required; absent reads as empty, so that the answer names the field.
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub description: String,
}

/// The answer to `POST /api/orgs/{org}/agent-pools`: the only time the token is shown.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateAgentPoolResponse {
    pub id: String,
    pub token_value: String,
}

/// A pool's name: required, one line, bounded.
pub fn name(text: &str) -> Result<(), String> {
    if text.trim().is_empty() {
        Err("is required".into())
    } else if text.chars().any(char::is_control) {
        Err("must be one line of text".into())
    } else if text.chars().count() > MAX_NAME_CHARS {
        Err(format!("must be at most {MAX_NAME_CHARS} characters"))
    } else {
        Ok(())
    }
}

/// A pool's description: optional, bounded.
pub fn description(text: &str) -> Result<(), String> {
    if text.chars().count() > MAX_DESCRIPTION_CHARS {
        Err(format!(
            "must be at most {MAX_DESCRIPTION_CHARS} characters"
        ))
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn names_are_required_one_line_and_bounded() {
        assert!(name("on-prem").is_ok());
        assert!(name("").is_err());
        assert!(name(" ").is_err());
        assert!(name("two\nlines").is_err());
        assert!(name(&"é".repeat(MAX_NAME_CHARS)).is_ok());
        assert!(name(&"é".repeat(MAX_NAME_CHARS + 1)).is_err());
        assert!(description("").is_ok());
        assert!(description(&"x".repeat(MAX_DESCRIPTION_CHARS + 1)).is_err());
    }

    #[test]
    fn pulumis_answers_read() {
        let listed: ListAgentPoolsResponse = serde_json::from_value(json!({
            "agentPools": [{"id": "p1", "name": "on-prem", "description": "", "created": 1,
                            "lastSeen": 2, "status": "busy", "isDefault": false}],
            "defaultAgentPoolID": "p1"
        }))
        .expect("reads");
        assert_eq!(listed.agent_pools[0].status, AgentStatus::Offline);
        let detail: AgentPoolDetail = serde_json::from_value(json!({
            "id": "p1", "name": "on-prem", "description": "", "created": 1,
            "agents": [{"version": "v1", "platform": "linux", "hostname": "h", "ip": "10.0.0.1",
                        "pid": "42", "lastSeen": 2, "status": "online"}]
        }))
        .expect("reads");
        assert_eq!(detail.agents[0].status, AgentStatus::Online);
    }
}

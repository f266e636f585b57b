//! An organization's agent pools: `GET|POST /api/orgs/{org}/agent-pools` and
//! `GET|PATCH|DELETE /api/orgs/{org}/agent-pools/{poolId}`, for its admins only. A pool's
//! token is shown once, when the pool is made; the store keeps its hash.

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use keyless_api_types::DeploymentStatus;
use keyless_api_types::agent_pools::{
    self as rules, AgentMetadata, AgentPool, AgentPoolDetail, AgentPoolRequest, AgentRun,
    AgentStatus, CreateAgentPoolResponse, ListAgentPoolsResponse,
};
use serde::Deserialize;

use super::extract::{JsonBody, OrgAdmin};
use super::{AppState, Routes};
use crate::error::{Error, Result};
use crate::store::{AgentRecord, NewAgentPool, StoreError};
use crate::tokens;

const POOLS: &str = "/api/orgs/{org}/agent-pools";
const POOL: &str = "/api/orgs/{org}/agent-pools/{poolId}";

/// Agents ask for work every second and renew every two while they run: one not heard from in
/// this long is gone, or cut off.
const ONLINE_WITHIN: std::time::Duration = std::time::Duration::from_secs(30);

pub fn router() -> Routes {
    Routes::default()
        .get(POOLS, list)
        .post(POOLS, create)
        .get(POOL, get)
        .patch(POOL, update)
        .delete(POOL, delete)
}

async fn list(
    State(state): State<AppState>,
    OrgAdmin(access): OrgAdmin,
) -> Result<Json<ListAgentPoolsResponse>> {
    let agents = state.store.agents(&access.org).await?;
    let pools = state.store.agent_pools(&access.org).await?;
    Ok(Json(ListAgentPoolsResponse {
        agent_pools: pools
            .into_iter()
            .map(|pool| {
                // Last heard from first: the pool's latest contact.
                let latest = agents.iter().find(|a| a.pool_id == pool.id);
                AgentPool {
                    last_seen: latest.map_or(0, |a| a.last_seen / 1000),
                    status: latest.map_or(AgentStatus::Offline, status),
                    id: pool.id,
                    name: pool.name,
                    description: pool.description,
                    created: pool.created,
                    last_deployment: None,
                }
            })
            .collect(),
    }))
}

/// Makes a pool; the answer is the only place its token appears.
async fn create(
    State(state): State<AppState>,
    OrgAdmin(access): OrgAdmin,
    JsonBody(request): JsonBody<AgentPoolRequest>,
) -> Result<Json<CreateAgentPoolResponse>> {
    check(&request)?;
    let token = tokens::generate();
    let pool = state
        .store
        .create_agent_pool(NewAgentPool {
            org: &access.org,
            name: request.name.trim(),
            description: &request.description,
            token_hash: &tokens::hash(&token),
            created: tokens::unix_now(),
        })
        .await
        .map_err(|err| name_taken(err, &request.name))?;
    Ok(Json(CreateAgentPoolResponse {
        id: pool.id,
        token_value: token,
    }))
}

async fn get(
    State(state): State<AppState>,
    OrgAdmin(access): OrgAdmin,
    Path((_, id)): Path<(String, String)>,
) -> Result<Json<AgentPoolDetail>> {
    let pool = state
        .store
        .agent_pool(&access.org, &id)
        .await?
        .ok_or_else(|| not_found(&id))?;
    let mut agents = state.store.agents(&access.org).await?;
    agents.retain(|agent| agent.pool_id == pool.id);
    let running = state
        .store
        .deployments_with_status(&[DeploymentStatus::Running])
        .await?;
    let runs_of = |agent: &AgentRecord| -> Vec<AgentRun> {
        running
            .iter()
            .filter(|d| d.lease_holder.as_deref() == Some(agent.id.as_str()))
            .map(|d| AgentRun {
                project: d.stack.stack.project.clone(),
                stack: d.stack.stack.stack.clone(),
                version: d.version,
            })
            .collect()
    };
    Ok(Json(AgentPoolDetail {
        id: pool.id,
        name: pool.name,
        description: pool.description,
        created: pool.created,
        agents: agents
            .iter()
            .map(|agent| AgentMetadata {
                version: agent.version.clone(),
                platform: agent.platform.clone(),
                hostname: agent.hostname.clone(),
                ip: String::new(),
                pid: agent.pid.clone(),
                last_seen: agent.last_seen / 1000,
                status: status(agent),
                running: runs_of(agent),
            })
            .collect(),
    }))
}

/// Renames or redescribes a pool (Pulumi's PATCH takes both fields); its token stays.
async fn update(
    State(state): State<AppState>,
    OrgAdmin(access): OrgAdmin,
    Path((_, id)): Path<(String, String)>,
    JsonBody(request): JsonBody<AgentPoolRequest>,
) -> Result<StatusCode> {
    check(&request)?;
    state
        .store
        .update_agent_pool(&access.org, &id, request.name.trim(), &request.description)
        .await
        .map_err(|err| name_taken(err, &request.name))?
        .ok_or_else(|| not_found(&id))?;
    Ok(StatusCode::NO_CONTENT)
}

/// The query of `DELETE …/agent-pools/{poolId}`.
#[derive(Deserialize)]
struct DeleteParams {
    /// Pulumi's name: delete a pool that stacks' settings still name.
    #[serde(default)]
    force: bool,
}

/// Deletes a pool and its token. A pool that stacks' settings name is kept (409, naming them)
/// unless `force=true`: those settings then keep naming a pool that is gone, until an admin
/// picks another.
async fn delete(
    State(state): State<AppState>,
    OrgAdmin(access): OrgAdmin,
    Path((_, id)): Path<(String, String)>,
    params: Result<Query<DeleteParams>, QueryRejection>,
) -> Result<StatusCode> {
    let Query(params) = params.map_err(|rejection| Error::bad_request(rejection.body_text()))?;
    if state.store.agent_pool(&access.org, &id).await?.is_none() {
        return Err(not_found(&id));
    }
    if !params.force {
        let users =
            crate::settings::stacks_using_pool(state.store.as_ref(), &access.org, &id).await?;
        if !users.is_empty() {
            return Err(Error::Conflict(format!(
                "Agent pool '{id}' is named by the deployment settings of {}; choose another \
                 pool for them first, or delete with force=true",
                users.join(", ")
            )));
        }
    }
    if state.store.delete_agent_pool(&access.org, &id).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(not_found(&id))
    }
}

fn check(request: &AgentPoolRequest) -> Result<()> {
    rules::name(&request.name).map_err(|m| Error::invalid_field("AgentPool", "name", m))?;
    rules::description(&request.description)
        .map_err(|m| Error::invalid_field("AgentPool", "description", m))
}

fn name_taken(err: StoreError, name: &str) -> Error {
    match err {
        StoreError::Conflict => Error::Conflict(format!(
            "The organization already has an agent pool named '{}'",
            name.trim()
        )),
        other => other.into(),
    }
}

fn not_found(id: &str) -> Error {
    Error::NotFound(format!("Agent pool '{id}' not found"))
}

/// An agent is online while it has been heard from within [`ONLINE_WITHIN`].
fn status(agent: &AgentRecord) -> AgentStatus {
    if agent.silent_millis < ONLINE_WITHIN.as_millis() as i64 {
        AgentStatus::Online
    } else {
        AgentStatus::Offline
    }
}

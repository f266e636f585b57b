//! The agents' side of the API (`/api/agent/…`, shapes in [`crate::deploy::protocol`]): claim
//! a deployment of the pool, renew leases and hear of cancels, get a deployment's OIDC token,
//! report its steps and lines. Each request carries a pool's token; what it may touch is what
//! the pool's agents hold. Not part of Pulumi's API, nor of the OpenAPI document.

use std::time::Duration;

use axum::extract::{DefaultBodyLimit, FromRequestParts, Path, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use keyless_api_types::{DeploymentStatus, StepStatus};

use super::AppState;
use super::extract::{JsonBody, access_token};
use crate::deploy::agent_holder;
use crate::deploy::protocol::{
    AGENT_HEADER, AgentInfo, ClaimRequest, Held, MAX_AGENT_ID, MAX_CLAIM_WAIT_MILLIS, MintedToken,
    RenewRequest, RenewResponse, Report,
};
use crate::error::{Error, Result};
use crate::store::{AgentPoolRecord, AgentSeen, DeploymentId, NewLogLine, Reported};
use crate::tokens;

/// The largest report: agents send lines in reports of at most a quarter of this.
pub const REPORT_LIMIT: usize = 16 * 1024 * 1024;

/// The longest timestamp a reported line may carry (RFC 3339 with nanoseconds is 30 bytes).
const MAX_TIMESTAMP: usize = 64;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/agent/claim", post(claim))
        .route("/api/agent/leases", post(renew))
        .route("/api/agent/deployments/{id}/token", post(token))
        .route(
            "/api/agent/deployments/{id}/reports",
            post(report).layer(DefaultBodyLimit::max(REPORT_LIMIT)),
        )
}

/// Marks requests that came through the loopback listener of the server's local agents, the
/// only place their token is taken.
#[derive(Clone, Copy, Debug)]
pub struct LocalListener;

/// An agent of a pool: the pool from `Authorization: token <pool token>` (401 when missing,
/// unknown or deleted), the agent from its id header (400 when missing or malformed). A local
/// agent of this server (its token, through its listener) has no pool.
pub struct PoolAgent {
    pub pool: Option<AgentPoolRecord>,
    /// The name its leases are held in.
    pub holder: String,
}

impl FromRequestParts<AppState> for PoolAgent {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self> {
        let token = access_token(parts).ok_or(Error::Unauthorized)?;
        let hash = tokens::hash(token);
        let local =
            parts.extensions.get::<LocalListener>().is_some() && state.local_agents.accepts(&hash);
        let pool = match local {
            true => None,
            false => Some(
                state
                    .store
                    .agent_pool_by_token(&hash)
                    .await?
                    .ok_or(Error::Unauthorized)?,
            ),
        };
        let id = parts
            .headers
            .get(AGENT_HEADER)
            .and_then(|value| value.to_str().ok())
            .filter(|id| {
                !id.is_empty()
                    && id.len() <= MAX_AGENT_ID
                    && id
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
            })
            .ok_or_else(|| {
                Error::bad_request(format!(
                    "the {AGENT_HEADER} header must be the agent's id: 1 to {MAX_AGENT_ID} \
                     letters, digits, '-' or '_'"
                ))
            })?;
        let holder = agent_holder(pool.as_ref().map(|p| p.id.as_str()), id);
        Ok(Self { pool, holder })
    }
}

impl PoolAgent {
    /// Records the agent of a pool as heard from, for its pool's list.
    async fn seen(&self, state: &AppState, info: &AgentInfo) -> Result<()> {
        let Some(pool) = &self.pool else {
            return Ok(());
        };
        let cut = |text: &str| text.chars().take(255).collect::<String>();
        state
            .store
            .agent_seen(AgentSeen {
                id: &self.holder,
                pool_id: &pool.id,
                hostname: &cut(&info.hostname),
                version: &cut(&info.version),
                platform: &cut(&info.platform),
                pid: &cut(&info.pid),
            })
            .await?;
        Ok(())
    }
}

/// The pool's next deployment that may start, leased to the agent; 204 when none could start
/// within the wait asked for.
async fn claim(
    State(state): State<AppState>,
    agent: PoolAgent,
    JsonBody(request): JsonBody<ClaimRequest>,
) -> Result<Response> {
    agent.seen(&state, &request.agent).await?;
    let wait = Duration::from_millis(request.wait_millis.min(MAX_CLAIM_WAIT_MILLIS));
    let pool = agent.pool.as_ref().map(|p| p.id.as_str());
    let claimed = state.deployments.claim(pool, &agent.holder, wait).await?;
    Ok(match claimed {
        Some(assignment) => {
            tracing::info!(deployment = %assignment.id, agent = %agent.holder, "claimed");
            Json(assignment).into_response()
        }
        None => StatusCode::NO_CONTENT.into_response(),
    })
}

async fn renew(
    State(state): State<AppState>,
    agent: PoolAgent,
    JsonBody(request): JsonBody<RenewRequest>,
) -> Result<Json<RenewResponse>> {
    agent.seen(&state, &request.agent).await?;
    let held = state
        .deployments
        .renew_for(&agent.holder, &request.deployments)
        .await?;
    Ok(Json(RenewResponse {
        held: held
            .into_iter()
            .map(|(id, cancel_requested_by)| Held {
                id,
                cancel_requested_by,
            })
            .collect(),
    }))
}

async fn token(
    State(state): State<AppState>,
    agent: PoolAgent,
    Path(id): Path<String>,
) -> Result<Json<MintedToken>> {
    let id = DeploymentId::from(id);
    match state.deployments.mint_for(&id, &agent.holder).await? {
        Some(minted) => Ok(Json(minted)),
        None => Err(not_held(&id)),
    }
}

async fn report(
    State(state): State<AppState>,
    agent: PoolAgent,
    Path(id): Path<String>,
    JsonBody(report): JsonBody<Report>,
) -> Result<StatusCode> {
    let id = DeploymentId::from(id);
    if report.seq < 1 {
        return Err(Error::bad_request("seq counts reports from 1"));
    }
    if let Some(step) = &report.step
        && !matches!(
            step.status,
            StepStatus::Running | StepStatus::Succeeded | StepStatus::Failed
        )
    {
        return Err(Error::bad_request(
            "a step reported is running, succeeded or failed",
        ));
    }
    if let Some(finish) = &report.finish
        && !matches!(
            finish.status,
            DeploymentStatus::Succeeded | DeploymentStatus::Failed
        )
    {
        return Err(Error::bad_request(
            "a deployment finishes succeeded or failed",
        ));
    }
    if let Some(bad) = report.lines.iter().position(|line| {
        line.step < 0
            || line.header.is_some() == line.line.is_some()
            || line.header.is_some() != line.step_offset.is_none()
            || line.timestamp.len() > MAX_TIMESTAMP
    }) {
        return Err(Error::bad_request(format!(
            "lines[{bad}] must be a header (no stepOffset) or a line (with one), of a step from 0, \
             with a timestamp"
        )));
    }
    let lines: Vec<NewLogLine> = report.lines.into_iter().map(NewLogLine::from).collect();
    let stored = state
        .store
        .apply_report(
            &id,
            &agent.holder,
            crate::store::Report {
                seq: report.seq,
                step: report
                    .step
                    .as_ref()
                    .map(|s| (s.position, s.status, s.at.as_str())),
                lines: &lines,
                finish: report.finish.as_ref().map(|f| (f.status, f.at.as_str())),
            },
        )
        .await?;
    match stored {
        Reported::Stored | Reported::Again => {
            if report.finish.is_some() {
                // The stack's next deployment may start.
                state.deployments.wake();
                state.log_archives.build_in_background(id);
            }
            Ok(StatusCode::NO_CONTENT)
        }
        Reported::NotHeld => Err(not_held(&id)),
    }
}

/// 409: the agent does not hold the deployment (any more): it must stop it.
fn not_held(id: &DeploymentId) -> Error {
    Error::Conflict(format!(
        "this agent does not hold deployment '{id}': its lease lapsed and the deployment was \
         failed, or it was never this agent's"
    ))
}

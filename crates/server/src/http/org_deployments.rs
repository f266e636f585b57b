//! An organization's deployments: `GET /api/orgs/{org}/deployments` (every stack's),
//! `POST …/pause` and `…/resume` (admins only) and `GET …/metadata`.

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use keyless_api_types::{ListDeploymentResponseV2, OrgDeploymentsMetadataResponse};

use super::deployments::{ListParams, list_page};
use super::extract::{OrgAccess, OrgAdmin};
use super::{AppState, Routes};
use crate::deploy::queue::Pauses;
use crate::error::Result;
use crate::store::DeploymentScope;

pub fn router() -> Routes {
    Routes::default()
        .get("/api/orgs/{org}/deployments", list)
        .post("/api/orgs/{org}/deployments/pause", pause)
        .post("/api/orgs/{org}/deployments/resume", resume)
        .get("/api/orgs/{org}/deployments/metadata", metadata)
}

async fn list(
    State(state): State<AppState>,
    access: OrgAccess,
    params: Result<Query<ListParams>, QueryRejection>,
) -> Result<Json<ListDeploymentResponseV2>> {
    let page = ListParams::page(params, DeploymentScope::Org(access.org))?;
    list_page(&state, page).await.map(Json)
}

async fn pause(State(state): State<AppState>, OrgAdmin(access): OrgAdmin) -> Result<StatusCode> {
    state
        .deployments
        .set_paused(&access.org, None, true)
        .await?;
    Ok(StatusCode::OK)
}

async fn resume(State(state): State<AppState>, OrgAdmin(access): OrgAdmin) -> Result<StatusCode> {
    state
        .deployments
        .set_paused(&access.org, None, false)
        .await?;
    Ok(StatusCode::OK)
}

async fn metadata(
    State(state): State<AppState>,
    access: OrgAccess,
) -> Result<Json<OrgDeploymentsMetadataResponse>> {
    let pauses = Pauses::from_list(state.store.pauses().await?);
    Ok(Json(OrgDeploymentsMetadataResponse {
        paused: pauses.orgs.contains(&access.org),
        concurrency: state.deployments.max_concurrent() as i64,
        deployment_counts: state.store.deployment_counts(&access.org).await?,
    }))
}

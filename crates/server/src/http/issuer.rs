//! The OIDC issuer's documents, under the issuer URL's path: `GET {path}/.well-known/
//! openid-configuration` (discovery) and `GET {path}/.well-known/jwks`, which clouds fetch to
//! verify deployments' tokens.

use axum::Json;
use axum::extract::State;
use axum::routing::get;
use keyless_oidc::{Discovery, Jwks};

use super::AppState;
use crate::error::{Error, Result};

/// The issuer's routes under `issuer_path` (not under `/api`: the issuer URL says where).
pub fn router(issuer_path: &str) -> axum::Router<AppState> {
    axum::Router::new()
        .route(
            &format!("{issuer_path}/.well-known/openid-configuration"),
            get(discovery),
        )
        .route(&format!("{issuer_path}/.well-known/jwks"), get(jwks))
}

async fn discovery(State(state): State<AppState>) -> Json<Discovery> {
    Json(state.oidc.discovery())
}

async fn jwks(State(state): State<AppState>) -> Result<Json<Jwks>> {
    state
        .oidc
        .jwks()
        .await
        .map(Json)
        .map_err(|err| Error::Internal(format!("cannot read the OIDC keys: {err}")))
}

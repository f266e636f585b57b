//! The signed-in user's access tokens: `GET|POST /api/user/tokens` and
//! `DELETE /api/user/tokens/{tokenId}`. A token's value is shown once, when it is made.

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use keyless_api_types::tokens::{
    self as rules, AccessToken, CreateAccessTokenRequest, CreateAccessTokenResponse,
    ListAccessTokensResponse,
};
use serde::Deserialize;

use super::extract::{AuthUser, JsonBody};
use super::{AppState, Routes};
use crate::error::{Error, Result};
use crate::store::{NewToken, TokenRecord};
use crate::tokens;

pub fn router() -> Routes {
    Routes::default()
        .get("/api/user/tokens", list)
        .post("/api/user/tokens", create)
        .delete("/api/user/tokens/{tokenId}", delete)
}

/// The query of `GET /api/user/tokens`.
#[derive(Deserialize)]
struct ListParams {
    /// Pulumi's name: expired tokens are left out unless asked for.
    #[serde(default)]
    show_expired: bool,
}

/// The caller's tokens, newest first, without their values.
async fn list(
    State(state): State<AppState>,
    user: AuthUser,
    params: Result<Query<ListParams>, QueryRejection>,
) -> Result<Json<ListAccessTokensResponse>> {
    let Query(params) = params.map_err(|rejection| Error::bad_request(rejection.body_text()))?;
    let now = tokens::unix_now();
    let listed = state
        .store
        .tokens(&user.account.id)
        .await?
        .into_iter()
        .filter(|token| params.show_expired || tokens::is_live(token.expires, now))
        .map(to_wire)
        .collect();
    Ok(Json(ListAccessTokensResponse { tokens: listed }))
}

/// Makes a token for the caller; the answer is the only place its value appears.
async fn create(
    State(state): State<AppState>,
    user: AuthUser,
    JsonBody(request): JsonBody<CreateAccessTokenRequest>,
) -> Result<Json<CreateAccessTokenResponse>> {
    rules::description(&request.description)
        .map_err(|m| Error::invalid_field("AccessToken", "description", m))?;
    rules::expires(request.expires, tokens::unix_now())
        .map_err(|m| Error::invalid_field("AccessToken", "expires", m))?;
    let value = tokens::generate();
    let record = state
        .store
        .create_token(NewToken {
            user_id: &user.account.id,
            token_hash: &tokens::hash(&value),
            description: &request.description,
            expires: (request.expires != 0).then_some(request.expires),
        })
        .await?;
    Ok(Json(CreateAccessTokenResponse {
        id: record.id,
        token_value: value,
    }))
}

/// Deletes one of the caller's tokens; it stops working at once. Other users' tokens answer
/// 404, exactly like unknown ones.
async fn delete(
    State(state): State<AppState>,
    user: AuthUser,
    Path(id): Path<String>,
) -> Result<StatusCode> {
    if state.store.delete_token(&user.account.id, &id).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(Error::NotFound(format!("Access token '{id}' not found")))
    }
}

fn to_wire(token: TokenRecord) -> AccessToken {
    AccessToken {
        id: token.id,
        description: token.description,
        created: token.created,
        last_used: token.last_used.unwrap_or(0),
        expires: token.expires.unwrap_or(0),
    }
}

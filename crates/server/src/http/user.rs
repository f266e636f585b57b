//! The signed-in user: `GET /api/user` and `GET /api/user/stacks`.

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use keyless_api_types::{
    ListStacksResponse, OrganizationSummaryWithRole, StackRef, StackSummary, User,
};
use serde::Deserialize;

use super::extract::AuthUser;
use super::{AppState, Routes};
use crate::error::{Error, Result};
use crate::store::StackQuery;

pub fn router() -> Routes {
    Routes::default()
        .get("/api/user", current_user)
        .get("/api/user/stacks", list_stacks)
}

async fn current_user(user: AuthUser) -> Json<User> {
    let AuthUser {
        account,
        memberships,
    } = user;
    Json(User {
        id: account.id,
        github_login: account.login,
        name: account.name,
        email: account.email,
        avatar_url: account.avatar_url,
        organizations: memberships
            .into_iter()
            .map(|m| OrganizationSummaryWithRole {
                github_login: m.org,
                name: m.org_display_name,
                avatar_url: String::new(),
                role: m.role,
            })
            .collect(),
        identities: Vec::new(),
        has_mfa: false,
        is_org_managed: false,
        is_managed_by_multi_org: false,
    })
}

/// The query of `GET /api/user/stacks`.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ListParams {
    organization: Option<String>,
    project: Option<String>,
    max_results: Option<u32>,
    continuation_token: Option<String>,
}

/// Every stack of the caller's organizations, in org/project/stack order, a page at a time.
async fn list_stacks(
    State(state): State<AppState>,
    user: AuthUser,
    params: Result<Query<ListParams>, QueryRejection>,
) -> Result<Json<ListStacksResponse>> {
    let Query(params) = params.map_err(|rejection| Error::bad_request(rejection.body_text()))?;
    if params.max_results == Some(0) {
        return Err(Error::bad_request("maxResults must be at least 1"));
    }
    let after = params
        .continuation_token
        .as_deref()
        .map(decode_token)
        .transpose()?;
    let orgs = user
        .memberships
        .into_iter()
        .map(|m| m.org)
        .filter(|org| {
            params
                .organization
                .as_ref()
                .is_none_or(|wanted| wanted == org)
        })
        .collect();
    // One more than asked for tells whether another page follows.
    let query = StackQuery {
        orgs,
        project: params.project,
        after,
        limit: params.max_results.map(|n| n.saturating_add(1)),
    };
    let mut stacks = state.store.list_stacks(&query).await?;
    let continuation_token = match params.max_results {
        Some(max) if stacks.len() > max as usize => {
            stacks.truncate(max as usize);
            stacks.last().map(|last| encode_token(&last.stack))
        }
        _ => None,
    };
    Ok(Json(ListStacksResponse {
        stacks: stacks
            .into_iter()
            .map(|record| StackSummary {
                id: record.id.into(),
                org_name: record.stack.org,
                project_name: record.stack.project,
                stack_name: record.stack.stack,
                last_update: None,
                resource_count: None,
            })
            .collect(),
        continuation_token,
    }))
}

/// The opaque continuation token: the last stack returned, base64url-encoded.
fn encode_token(stack: &StackRef) -> String {
    URL_SAFE_NO_PAD.encode(stack.to_string())
}

fn decode_token(token: &str) -> Result<StackRef> {
    let invalid = || Error::bad_request("Invalid continuation token");
    let bytes = URL_SAFE_NO_PAD.decode(token).map_err(|_| invalid())?;
    let text = String::from_utf8(bytes).map_err(|_| invalid())?;
    match text.split('/').collect::<Vec<_>>()[..] {
        [org, project, stack] if ![org, project, stack].contains(&"") => {
            Ok(StackRef::new(org, project, stack))
        }
        _ => Err(invalid()),
    }
}

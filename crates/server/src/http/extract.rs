//! Extractors: the signed-in user, the stack a path names (with the caller's role in its
//! organization), and a JSON body whose rejections are API error bodies.

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Path, Request};
use axum::http::StatusCode;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use keyless_api_types::{OrgRole, StackRef};
use serde::de::DeserializeOwned;

use super::AppState;
use crate::error::{Error, Result};
use crate::store::{Account, DeploymentId, DeploymentRecord, Membership, StackRecord};
use crate::tokens;

/// The caller, from `Authorization: token <access-token>`; 401 when missing or unknown.
pub struct AuthUser {
    pub account: Account,
    pub memberships: Vec<Membership>,
}

impl AuthUser {
    /// The caller's role in `org`, if they belong to it.
    pub fn role_in(&self, org: &str) -> Option<OrgRole> {
        self.memberships
            .iter()
            .find(|m| m.org == org)
            .map(|m| m.role)
    }
}

pub(super) fn access_token(parts: &Parts) -> Option<&str> {
    let value = parts.headers.get(AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.trim().split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("token") && !token.is_empty()).then_some(token)
}

impl FromRequestParts<AppState> for AuthUser {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self> {
        let token = access_token(parts).ok_or(Error::Unauthorized)?;
        let account = state
            .store
            .account_by_token(&tokens::hash(token))
            .await?
            .ok_or(Error::Unauthorized)?;
        let memberships = state.store.memberships(&account.id).await?;
        Ok(Self {
            account,
            memberships,
        })
    }
}

/// The stack named by the `{org}/{project}/{stack}` path parameters, visible to the caller.
/// Stacks of organizations the caller is not in answer 404, exactly like unknown stacks.
pub struct StackAccess {
    pub stack: StackRecord,
    pub role: OrgRole,
    pub user: AuthUser,
}

impl FromRequestParts<AppState> for StackAccess {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self> {
        let user = AuthUser::from_request_parts(parts, state).await?;
        let params = path_params(parts, state).await?;
        let wanted = StackRef {
            org: param(&params, "org")?,
            project: param(&params, "project")?,
            stack: param(&params, "stack")?,
        };
        let Some(role) = user.role_in(&wanted.org) else {
            return Err(stack_not_found(&wanted));
        };
        match state.store.stack(&wanted).await? {
            Some(stack) => Ok(Self { stack, role, user }),
            None => Err(stack_not_found(&wanted)),
        }
    }
}

/// A deployment, by the `{id}` of a route under `…/deployments/{id}`, of a stack the caller
/// may read: the stack's access first, then the deployment (404 when it does not exist or
/// belongs to another stack).
pub struct DeploymentAccess {
    pub access: StackAccess,
    pub record: DeploymentRecord,
}

impl FromRequestParts<AppState> for DeploymentAccess {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self> {
        let access = StackAccess::from_request_parts(parts, state).await?;
        let id = DeploymentId::from(param(&path_params(parts, state).await?, "id")?);
        match state.store.deployment(&id).await? {
            Some(record) if record.stack.id == access.stack.id => Ok(Self { access, record }),
            _ => Err(Error::NotFound(format!("Deployment '{id}' not found"))),
        }
    }
}

/// The path's parameters by name (routes may have more than the stack's three).
async fn path_params(parts: &mut Parts, state: &AppState) -> Result<Vec<(String, String)>> {
    let Path(params) = Path::<Vec<(String, String)>>::from_request_parts(parts, state)
        .await
        .map_err(|rejection| Error::bad_request(rejection.body_text()))?;
    Ok(params)
}

fn param(params: &[(String, String)], name: &str) -> Result<String> {
    params
        .iter()
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.clone())
        .ok_or_else(|| Error::Internal(format!("the route has no {{{name}}} parameter")))
}

/// The organization named by the `{org}` path parameter, which the caller belongs to; other
/// organizations answer 404.
pub struct OrgAccess {
    pub org: String,
    pub role: OrgRole,
    /// The caller's account id.
    pub user_id: String,
}

impl FromRequestParts<AppState> for OrgAccess {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self> {
        let user = AuthUser::from_request_parts(parts, state).await?;
        let org = param(&path_params(parts, state).await?, "org")?;
        match user.role_in(&org) {
            Some(role) => Ok(Self {
                org,
                role,
                user_id: user.account.id,
            }),
            None => Err(Error::NotFound(format!("Organization '{org}' not found"))),
        }
    }
}

/// An [`OrgAccess`] whose caller is an admin of the organization; 403 for members.
pub struct OrgAdmin(pub OrgAccess);

impl FromRequestParts<AppState> for OrgAdmin {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self> {
        let access = OrgAccess::from_request_parts(parts, state).await?;
        if access.role == OrgRole::Admin {
            Ok(Self(access))
        } else {
            Err(Error::admins_only(&access.org))
        }
    }
}

fn stack_not_found(stack: &StackRef) -> Error {
    Error::NotFound(format!("Stack '{stack}' not found"))
}

/// A [`StackAccess`] whose caller is an admin of the stack's organization; 403 for members.
pub struct StackAdmin(pub StackRecord);

impl FromRequestParts<AppState> for StackAdmin {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self> {
        let access = StackAccess::from_request_parts(parts, state).await?;
        if access.role == OrgRole::Admin {
            Ok(Self(access.stack))
        } else {
            Err(Error::admins_only(&access.stack.stack.org))
        }
    }
}

/// Which client made a request, as recorded on what it writes: a deployment's `initiator` and
/// settings' `source`. The console says so with `X-Keyless-Client: console`; Pulumi's clients
/// with `X-Pulumi-Deployment-Initiator` (the CLI sends `automation-api`) and `X-Pulumi-Source`
/// (the Pulumi Service provider sends `provider`). Anything else is `api`.
pub struct Origin {
    /// A deployment's `initiator`.
    pub initiator: String,
    /// Settings' `source`: one of Pulumi's values a client can be.
    pub settings_source: &'static str,
}

const CONSOLE: &str = "console";
const API: &str = "api";
/// The values of Pulumi's settings `source` that name a client (the others name the service's
/// own writers, such as review stacks).
const CLIENT_SOURCES: [&str; 3] = [CONSOLE, API, "provider"];

impl<S: Send + Sync> FromRequestParts<S> for Origin {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let header = |name: &str| {
            parts
                .headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::trim)
        };
        if header("x-keyless-client") == Some(CONSOLE) {
            return Ok(Self {
                initiator: CONSOLE.into(),
                settings_source: CONSOLE,
            });
        }
        let initiator = header("x-pulumi-deployment-initiator")
            .filter(|i| client_initiator(i))
            .unwrap_or(API);
        let source = header("x-pulumi-source").map(str::to_ascii_lowercase);
        let settings_source = CLIENT_SOURCES
            .into_iter()
            .find(|known| source.as_deref() == Some(*known))
            .unwrap_or(API);
        Ok(Self {
            initiator: initiator.to_owned(),
            settings_source,
        })
    }
}

/// Whether a client may name itself `initiator`: a short lowercase word (`automation-api`),
/// and none of the initiators the server gives deployments it starts itself, which come with
/// their trigger.
fn client_initiator(initiator: &str) -> bool {
    (1..=64).contains(&initiator.len())
        && initiator
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !crate::webhook::matching::INITIATORS.contains(&initiator)
}

/// A JSON request body. Malformed JSON answers 400 and an oversized body 413, both in the
/// API's error shape; the `Content-Type` is not checked, as the real service does not either.
pub struct JsonBody<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for JsonBody<T> {
    type Rejection = Error;

    async fn from_request(request: Request, state: &S) -> Result<Self> {
        let bytes =
            Bytes::from_request(request, state)
                .await
                .map_err(|rejection| match rejection.status() {
                    StatusCode::PAYLOAD_TOO_LARGE => Error::PayloadTooLarge,
                    _ => Error::bad_request(rejection.body_text()),
                })?;
        serde_json::from_slice(&bytes)
            .map(JsonBody)
            .map_err(|err| Error::bad_request(format!("The request body is not valid JSON: {err}")))
    }
}

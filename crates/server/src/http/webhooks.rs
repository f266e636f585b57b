//! GitHub push-to-deploy over HTTP:
//!
//! - `POST /api/webhooks/github/{org}`: GitHub's deliveries (`push`, `pull_request`, `ping`),
//!   verified by `X-Hub-Signature-256` under the organization's secret. No token: the
//!   signature is the credential.
//! - `POST /api/orgs/{org}/webhooks/github/secret` (admins): makes a new secret, replacing any
//!   old one, and shows it this once with the payload URL.
//! - `GET /api/orgs/{org}/webhooks/github/deliveries` (admins): the payload URL, when the
//!   secret was made, and the newest deliveries with what became of each.
//!
//! Every delivery is logged, rejected ones too (never their body). A verified delivery id is
//! handled once; a repeat answers 200 and starts nothing. Deployments a delivery starts are
//! requested by the admin who made the secret.

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use keyless_api_types::{
    ApiError, DeliveryOutcome, DeploymentSettings, GitHubWebhookDeliveries, GitHubWebhookReply,
    GitHubWebhookSecret, merge_patch,
};
use serde_json::{Value, json};

use super::extract::OrgAdmin;
use super::{AppState, Routes};
use crate::error::{Error, Result};
use crate::store::{NewDelivery, NewDeployment, StackRecord, StoreError, WebhookSecret};
use crate::timestamp;
use crate::webhook::matching::{Event, Start};
use crate::webhook::signature;

const RECEIVE: &str = "/api/webhooks/github/{org}";
const SECRET: &str = "/api/orgs/{org}/webhooks/github/secret";
const DELIVERIES: &str = "/api/orgs/{org}/webhooks/github/deliveries";

/// How many deliveries the log shows.
const SHOWN_DELIVERIES: u32 = 100;

pub fn router() -> Routes {
    Routes::default()
        .post(RECEIVE, receive)
        .post(SECRET, new_secret)
        .get(DELIVERIES, deliveries)
}

/// What a secret is sealed for: it opens for its organization only.
fn secret_context(org: &str) -> String {
    format!("github-webhook:{org}")
}

fn payload_url(state: &AppState, org: &str) -> String {
    format!("{}/api/webhooks/github/{org}", state.public_url)
}

async fn new_secret(
    State(state): State<AppState>,
    OrgAdmin(access): OrgAdmin,
) -> Result<Json<GitHubWebhookSecret>> {
    let secret = hex::encode(rand::random::<[u8; 32]>());
    let stored = WebhookSecret {
        ciphertext: state.cipher.seal(&secret, &secret_context(&access.org))?,
        created_by: access.user_id,
        created: timestamp::now(),
    };
    state.store.set_webhook_secret(&access.org, &stored).await?;
    Ok(Json(GitHubWebhookSecret {
        secret,
        url: payload_url(&state, &access.org),
    }))
}

async fn deliveries(
    State(state): State<AppState>,
    OrgAdmin(access): OrgAdmin,
) -> Result<Json<GitHubWebhookDeliveries>> {
    let secret = state.store.webhook_secret(&access.org).await?;
    Ok(Json(GitHubWebhookDeliveries {
        url: payload_url(&state, &access.org),
        secret_created: secret.map(|s| s.created),
        deliveries: state
            .store
            .deliveries(&access.org, SHOWN_DELIVERIES)
            .await?,
    }))
}

/// One delivery's headers and arrival, for the log.
struct Delivery {
    org: String,
    id: String,
    event: String,
    received: String,
}

impl Delivery {
    fn new(org: String, headers: &HeaderMap) -> Self {
        let header = |name: &str| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_owned()
        };
        Self {
            org,
            id: header("x-github-delivery"),
            event: header("x-github-event"),
            received: timestamp::now(),
        }
    }

    fn log<'a>(&'a self, outcome: DeliveryOutcome, message: &'a str) -> NewDelivery<'a> {
        NewDelivery {
            org: &self.org,
            delivery_id: &self.id,
            event: &self.event,
            received: &self.received,
            outcome,
            message,
        }
    }

    /// Logs the delivery as rejected (unless its organization does not exist) and answers.
    async fn reject(&self, state: &AppState, status: StatusCode, reason: &str) -> Result<Response> {
        let message = format!("rejected: {reason}");
        match state
            .store
            .add_delivery(self.log(DeliveryOutcome::Rejected, &message))
            .await
        {
            Ok(_) | Err(StoreError::Missing) => {}
            Err(err) => return Err(err.into()),
        }
        let body = ApiError {
            code: status.as_u16(),
            message,
            errors: Vec::new(),
        };
        Ok((status, Json(body)).into_response())
    }
}

fn reply(outcome: DeliveryOutcome, message: String, deployment_ids: Vec<String>) -> Response {
    Json(GitHubWebhookReply {
        outcome,
        message,
        deployment_ids,
    })
    .into_response()
}

/// Verifies a delivery, claims its id, and starts what it asks for.
async fn receive(
    State(state): State<AppState>,
    Path(org): Path<String>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response> {
    let delivery = Delivery::new(org, &headers);
    let Some(secret) = state.store.webhook_secret(&delivery.org).await? else {
        let reason = "no GitHub webhook secret is set for this organization";
        return delivery
            .reject(&state, StatusCode::UNAUTHORIZED, reason)
            .await;
    };
    let body = match body {
        Ok(body) => body,
        Err(rejection) if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            let reason = "the body is larger than 1 MiB";
            return delivery
                .reject(&state, StatusCode::PAYLOAD_TOO_LARGE, reason)
                .await;
        }
        Err(_) => {
            let reason = "the body could not be read";
            return delivery
                .reject(&state, StatusCode::BAD_REQUEST, reason)
                .await;
        }
    };
    let key = state
        .cipher
        .open(&secret.ciphertext, &secret_context(&delivery.org))?;
    let header = headers
        .get("x-hub-signature-256")
        .and_then(|v| v.to_str().ok());
    if let Err(err) = signature::verify(key.as_bytes(), &body, header) {
        let reason = format!("bad signature: {err}");
        return delivery
            .reject(&state, StatusCode::UNAUTHORIZED, &reason)
            .await;
    }
    if delivery.id.is_empty() {
        let reason = "no X-GitHub-Delivery header";
        return delivery
            .reject(&state, StatusCode::BAD_REQUEST, reason)
            .await;
    }
    let pending = delivery.log(DeliveryOutcome::Pending, "being handled");
    let row = match state.store.add_delivery(pending).await {
        Ok(row) => row,
        Err(StoreError::Conflict) => {
            let message = format!(
                "ignored because delivery {} was already received; nothing started again",
                delivery.id
            );
            let duplicate = delivery.log(DeliveryOutcome::Duplicate, &message);
            state.store.add_delivery(duplicate).await?;
            return Ok(reply(DeliveryOutcome::Duplicate, message, Vec::new()));
        }
        Err(err) => return Err(err.into()),
    };
    let result = handle(&state, &delivery, &body, &secret.created_by).await;
    let (outcome, message, ids) = match result {
        Ok(handled) => handled,
        Err(err) => {
            let message = "failed: an internal error (see the server log); nothing more starts \
                           for this delivery";
            state
                .store
                .finish_delivery(row, DeliveryOutcome::Ignored, message, &[])
                .await?;
            return Err(err);
        }
    };
    state
        .store
        .finish_delivery(row, outcome, &message, &ids)
        .await?;
    if !ids.is_empty() {
        state.deployments.wake();
    }
    Ok(reply(outcome, message, ids))
}

type Handled = (DeliveryOutcome, String, Vec<String>);

fn ignored(reason: impl std::fmt::Display) -> Result<Handled> {
    Ok((
        DeliveryOutcome::Ignored,
        format!("ignored because {reason}"),
        Vec::new(),
    ))
}

/// Starts a deployment on every stack of the organization the event concerns and asks for one.
async fn handle(
    state: &AppState,
    delivery: &Delivery,
    body: &[u8],
    requested_by: &str,
) -> Result<Handled> {
    let name = delivery.event.as_str();
    if name == "ping" {
        return ignored("it is a ping: the webhook is set up");
    }
    let event = match Event::parse(name, body) {
        Ok(Some(event)) => event,
        Ok(None) => return ignored(format!("\"{name}\" events start nothing")),
        Err(err) => return ignored(format!("the {name} payload does not decode: {err}")),
    };
    if let Some(reason) = event.ignored() {
        return ignored(reason);
    }
    let (mut started, mut skipped, mut ids) = (Vec::new(), Vec::new(), Vec::new());
    for (stack, stored) in state.store.stacks_with_settings(&delivery.org).await? {
        let Ok(settings) = serde_json::from_value::<DeploymentSettings>(stored.document.clone())
        else {
            skipped.push(format!("{}: its settings do not decode", stack.stack));
            continue;
        };
        let Some(github) = settings.github.as_ref().filter(|g| {
            g.repository
                .as_deref()
                .is_some_and(|r| r.eq_ignore_ascii_case(event.repository()))
        }) else {
            continue;
        };
        let branch = settings
            .source_context
            .as_ref()
            .and_then(|s| s.git.as_ref())
            .and_then(|g| g.branch.as_deref());
        let start = match event.decide(&delivery.id, github, branch) {
            Ok(start) => start,
            Err(reason) => {
                skipped.push(format!("{}: {reason}", stack.stack));
                continue;
            }
        };
        match queue(state, &stack, stored.document, &start, requested_by).await {
            Ok(id) => {
                started.push(format!("{} ({})", stack.stack, start.operation.as_str()));
                ids.push(id);
            }
            Err(Error::BadRequest { message, .. }) => {
                skipped.push(format!("{}: {message}", stack.stack));
            }
            Err(err) => return Err(err),
        }
    }
    if started.is_empty() {
        return match skipped.is_empty() {
            true => ignored(format!(
                "no stack of {} deploys from {}",
                delivery.org,
                event.repository()
            )),
            false => ignored(skipped.join("; ")),
        };
    }
    let plural = if started.len() == 1 { "" } else { "s" };
    let mut message = format!(
        "started {} deployment{plural}: {}",
        started.len(),
        started.join(", ")
    );
    if !skipped.is_empty() {
        message.push_str(&format!("; not {}", skipped.join("; ")));
    }
    Ok((DeliveryOutcome::Started, message, ids))
}

/// Queues `start` on `stack` with its stored settings at the event's commit; a 400 says why
/// the settings cannot run.
async fn queue(
    state: &AppState,
    stack: &StackRecord,
    mut document: Value,
    start: &Start,
    requested_by: &str,
) -> Result<String> {
    if document
        .pointer("/sourceContext/git")
        .is_none_or(Value::is_null)
    {
        return Err(Error::bad_request(
            "it has no sourceContext.git to deploy from",
        ));
    }
    let exact_commit = json!({"sourceContext": {"git": {
        "commit": start.trigger.commit, "branch": null, "tag": null
    }}});
    merge_patch::apply(&mut document, &exact_commit);
    let settings = super::prepare_settings(document, stack, &state.cipher)?;
    let settings = serde_json::to_value(&settings)
        .map_err(|err| Error::Internal(format!("cannot serialise settings: {err}")))?;
    let now = timestamp::now();
    let record = state
        .store
        .create_deployment(NewDeployment {
            stack_id: &stack.id,
            operation: start.operation,
            requested_by,
            initiator: start.initiator,
            trigger: Some(&start.trigger),
            settings: &settings,
            now: &now,
        })
        .await?;
    Ok(record.id)
}

//! GitHub push-to-deploy over HTTP:
//!
//! - `POST /api/webhooks/github/{org}`: GitHub's deliveries (`push`, `pull_request`, `ping`),
//!   verified by `X-Hub-Signature-256` under the repository's secret when its admin made one,
//!   else the organization's. No token: the signature is the credential.
//! - `POST /api/orgs/{org}/webhooks/github/secret` (admins): makes a new organization secret,
//!   replacing any old one, and shows it this once with the payload URL.
//! - `POST`/`DELETE /api/orgs/{org}/webhooks/github/repositories/{owner}/{repo}/secret`
//!   (admins): the same for one repository's own secret; deleting it brings the repository's
//!   deliveries back under the organization's.
//! - `GET /api/orgs/{org}/webhooks/github/deliveries` (admins): the payload URL, when the
//!   secret was made, and the newest deliveries with what became of each.
//!
//! A verified delivery is handled once: neither its id nor its body (the signature covers the
//! body alone, so a captured body could come back under a new id) starts anything again.
//! Refused deliveries (rejected, or repeats) are logged apart, a few a second at most, so that
//! no flood of them pushes handled ones out of the log; bodies are never kept. Deployments a
//! delivery starts are requested by the admin who made the secret it verified under.

use std::collections::HashMap;
use std::net::IpAddr;

use axum::Extension;
use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{ConnectInfo, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use keyless_api_types::{
    ApiError, DeliveryOutcome, DeploymentSettings, GitHubWebhookDeliveries, GitHubWebhookReply,
    GitHubWebhookSecret, SecretValue, SourceContextGit, merge_patch,
};
use serde_json::{Value, json};

use super::extract::OrgAdmin;
use super::{AppState, Routes};
use crate::ClientAddr;
use crate::error::{Error, Result};
use crate::store::{
    Claim, DeploymentId, NewDelivery, NewDeployment, StackRecord, StoreError, WebhookSecret,
};
use crate::timestamp;
use crate::webhook::matching::{Event, Start};
use crate::webhook::reachability::{self, Remote};
use crate::webhook::{secrets, signature};

const RECEIVE: &str = "/api/webhooks/github/{org}";
const SECRET: &str = "/api/orgs/{org}/webhooks/github/secret";
const REPOSITORY_SECRET: &str =
    "/api/orgs/{org}/webhooks/github/repositories/{owner}/{repo}/secret";
const DELIVERIES: &str = "/api/orgs/{org}/webhooks/github/deliveries";

/// How many handled deliveries the log shows (and as many refused ones).
const SHOWN_DELIVERIES: u32 = 100;
/// How many refused deliveries an organization logs a second; later ones are answered but not
/// logged.
const REFUSED_PER_SECOND: u32 = 5;
/// How many refused deliveries one source (an IP address) gets logged a minute, across
/// organizations: one sender cannot fill every organization's log.
pub const REFUSED_DELIVERIES_PER_MINUTE: usize = 30;
/// How much of a header value a delivery's log keeps: the sender chooses them.
const HEADER_CHARS: usize = 200;

pub fn router() -> Routes {
    Routes::default()
        .post(RECEIVE, receive)
        .post(SECRET, new_secret)
        .post(REPOSITORY_SECRET, new_repository_secret)
        .delete(REPOSITORY_SECRET, delete_repository_secret)
        .get(DELIVERIES, deliveries)
}

fn payload_url(state: &AppState, org: &str) -> String {
    format!("{}/api/webhooks/github/{org}", state.public_url)
}

/// A fresh secret, sealed for `org` (and `repository`), made by `user_id`.
fn make_secret(
    state: &AppState,
    org: &str,
    repository: Option<&str>,
    user_id: &str,
) -> Result<(String, WebhookSecret)> {
    let secret = hex::encode(rand::random::<[u8; 32]>());
    let stored = WebhookSecret {
        ciphertext: state
            .cipher
            .seal(&secret, &secrets::context(org, repository))?,
        created_by: user_id.to_owned(),
        created: timestamp::now(),
    };
    Ok((secret, stored))
}

async fn new_secret(
    State(state): State<AppState>,
    OrgAdmin(access): OrgAdmin,
) -> Result<Json<GitHubWebhookSecret>> {
    let (secret, stored) = make_secret(&state, &access.org, None, &access.user_id)?;
    state.store.set_webhook_secret(&access.org, &stored).await?;
    Ok(Json(GitHubWebhookSecret {
        secret,
        url: payload_url(&state, &access.org),
    }))
}

/// The `owner/repo` of a repository-secret path.
fn repository_param(params: &[(String, String)]) -> Result<String> {
    let param = |name: &str| {
        params
            .iter()
            .find(|(key, _)| key == name)
            .map_or("", |(_, value)| value.as_str())
    };
    secrets::repository_name(param("owner"), param("repo")).map_err(Error::bad_request)
}

async fn new_repository_secret(
    State(state): State<AppState>,
    OrgAdmin(access): OrgAdmin,
    Path(params): Path<Vec<(String, String)>>,
) -> Result<Json<GitHubWebhookSecret>> {
    let repository = repository_param(&params)?;
    let (secret, stored) = make_secret(&state, &access.org, Some(&repository), &access.user_id)?;
    state
        .store
        .set_repository_secret(&access.org, &repository, &stored)
        .await?;
    Ok(Json(GitHubWebhookSecret {
        secret,
        url: payload_url(&state, &access.org),
    }))
}

async fn delete_repository_secret(
    State(state): State<AppState>,
    OrgAdmin(access): OrgAdmin,
    Path(params): Path<Vec<(String, String)>>,
) -> Result<Json<bool>> {
    let repository = repository_param(&params)?;
    if state
        .store
        .delete_repository_secret(&access.org, &repository)
        .await?
    {
        Ok(Json(true))
    } else {
        Err(Error::NotFound(format!(
            "Repository {repository} has no webhook secret of its own"
        )))
    }
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

/// One delivery's headers (cut to [`HEADER_CHARS`]) and arrival, for the log.
struct Delivery {
    org: String,
    id: String,
    event: String,
    received: String,
    /// The IP address it came from, when the server knows it.
    source: Option<IpAddr>,
}

impl Delivery {
    fn new(org: String, headers: &HeaderMap, source: Option<IpAddr>) -> Self {
        let header = |name: &str| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .chars()
                .take(HEADER_CHARS)
                .collect()
        };
        Self {
            org,
            id: header("x-github-delivery"),
            event: header("x-github-event"),
            received: timestamp::now(),
            source,
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

    /// Logs a refused delivery, unless its source had [`REFUSED_DELIVERIES_PER_MINUTE`] logged
    /// in the last minute, its organization [`REFUSED_PER_SECOND`] in the last second, or its
    /// organization does not exist.
    async fn log_refused(
        &self,
        state: &AppState,
        outcome: DeliveryOutcome,
        message: &str,
    ) -> Result<()> {
        if let Some(source) = self.source
            && state.refused_deliveries.hit(&source.to_string()).is_err()
        {
            return Ok(());
        }
        let since = timestamp::format(time::OffsetDateTime::now_utc() - time::Duration::SECOND);
        match state
            .store
            .add_refused_delivery(self.log(outcome, message), &since, REFUSED_PER_SECOND)
            .await
        {
            Ok(_) | Err(StoreError::Missing) => Ok(()),
            Err(err) => Err(err.into()),
        }
    }

    /// Logs the delivery as rejected and answers.
    async fn reject(&self, state: &AppState, status: StatusCode, reason: &str) -> Result<Response> {
        let message = format!("rejected: {reason}");
        self.log_refused(state, DeliveryOutcome::Rejected, &message)
            .await?;
        let body = ApiError {
            code: status.as_u16(),
            message,
            errors: Vec::new(),
        };
        Ok((status, Json(body)).into_response())
    }
}

fn reply(outcome: DeliveryOutcome, message: String, deployment_ids: Vec<DeploymentId>) -> Response {
    Json(GitHubWebhookReply {
        outcome,
        message,
        deployment_ids: deployment_ids.into_iter().map(String::from).collect(),
    })
    .into_response()
}

/// Verifies a delivery, claims its id and body, and starts what it asks for.
async fn receive(
    State(state): State<AppState>,
    Path(org): Path<String>,
    client: Option<Extension<ConnectInfo<ClientAddr>>>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response> {
    let source = client.map(|Extension(ConnectInfo(ClientAddr(addr)))| addr.ip());
    let delivery = Delivery::new(org, &headers, source);
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
    let repository = secrets::repository_of(&body);
    let own = match &repository {
        Some(name) => state
            .store
            .repository_secret(&delivery.org, name)
            .await?
            .map(|secret| (secret, Some(name.as_str()))),
        None => None,
    };
    let (secret, verified_for) = match own {
        Some(found) => found,
        None => match state.store.webhook_secret(&delivery.org).await? {
            Some(secret) => (secret, None),
            None => {
                let reason = "no GitHub webhook secret is set for this organization";
                return delivery
                    .reject(&state, StatusCode::UNAUTHORIZED, reason)
                    .await;
            }
        },
    };
    let context = secrets::context(&delivery.org, verified_for);
    let key = state.cipher.open(&secret.ciphertext, &context)?;
    let header = headers
        .get("x-hub-signature-256")
        .and_then(|v| v.to_str().ok());
    if let Err(err) = signature::verify(key.as_bytes(), &body, header) {
        let reason = match verified_for {
            Some(name) => format!("bad signature for repository {name}: {err}"),
            None => format!("bad signature: {err}"),
        };
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
    let seen = match state
        .store
        .claim_delivery(pending, &signature::digest(&body))
        .await?
    {
        Claim::New(row) => {
            // Handled to the end even if GitHub stops waiting (after 10 seconds) and the
            // request is dropped: a claimed delivery never stays pending.
            let requested_by = secret.created_by;
            let task = tokio::spawn(async move {
                handle_and_finish(&state, &delivery, row, &body, &requested_by).await
            });
            return task
                .await
                .map_err(|err| Error::Internal(format!("the delivery's task failed: {err}")))?;
        }
        Claim::SeenId => format!("delivery {} was already received", delivery.id),
        Claim::SeenBody => "its body was already received in another delivery".to_owned(),
    };
    let message = format!("ignored because {seen}; nothing started again");
    delivery
        .log_refused(&state, DeliveryOutcome::Duplicate, &message)
        .await?;
    Ok(reply(DeliveryOutcome::Duplicate, message, Vec::new()))
}

/// Handles a claimed delivery and records how it ended in its log row.
async fn handle_and_finish(
    state: &AppState,
    delivery: &Delivery,
    row: i64,
    body: &[u8],
    requested_by: &str,
) -> Result<Response> {
    let (outcome, message, ids) = match handle(state, delivery, body, requested_by).await {
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
    Ok(reply(outcome, message, ids))
}

type Handled = (DeliveryOutcome, String, Vec<DeploymentId>);

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
    let mut asked = Asked::new();
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
        if let (Event::Push(_), Some(git)) = (&event, settings.git_source())
            && let Err(reason) = confirm_push(state, &stack, &git, &start, &mut asked).await
        {
            skipped.push(format!("{}: {reason}", stack.stack));
            continue;
        }
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

/// What repositories answered during one delivery, by repository and ref.
type Asked = HashMap<(String, String), std::result::Result<(), String>>;

/// Checks with the stack's repository, with its git credentials, that the pushed commit is on
/// the pushed branch or tag; stacks that share the repository and ref ask once.
async fn confirm_push(
    state: &AppState,
    stack: &StackRecord,
    git: &SourceContextGit,
    start: &Start,
    asked: &mut Asked,
) -> std::result::Result<(), String> {
    let open = |secret: &SecretValue| {
        let ciphertext = secret.ciphertext.as_deref()?;
        state.cipher.open(ciphertext, stack.id.as_str()).ok()
    };
    let remote = Remote::new(git, open)?;
    // A local repository is asked only where a deployment could be shown it.
    state.deployments.local_repository(remote.url())?;
    let trigger = &start.trigger;
    let key = (remote.url().to_owned(), trigger.git_ref.clone());
    if let Some(answer) = asked.get(&key) {
        return answer.clone();
    }
    let answer = reachability::verify(&remote, &trigger.git_ref, &trigger.commit).await;
    asked.insert(key, answer.clone());
    answer
}

/// Queues `start` on `stack` with its stored settings at the event's commit; a 400 says why
/// the settings cannot run.
async fn queue(
    state: &AppState,
    stack: &StackRecord,
    mut document: Value,
    start: &Start,
    requested_by: &str,
) -> Result<DeploymentId> {
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
    let settings = crate::settings::prepare(document, stack, &state.cipher)?;
    let settings = serde_json::to_value(&settings)
        .map_err(|err| Error::Internal(format!("cannot serialise settings: {err}")))?;
    let now = timestamp::now();
    let record = state
        .deployments
        .enqueue(NewDeployment {
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

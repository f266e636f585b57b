//! A stack's deployments: create (`POST S/deployments`), list, read by id or version, list the
//! Pulumi updates one made, cancel, pause and resume the stack's queue, and its metadata. `S` is
//! `/api/stacks/{org}/{project}/{stack}`. Members may do all of it, but create a deployment
//! only as the stack's admins configured it (no settings overrides).

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use keyless_api_types::{
    CreateDeploymentResponse, DeploymentConfiguration, DeploymentJob, DeploymentSettings,
    DeploymentSource, DeploymentSourceGit, DeploymentStatus, DeploymentUpdateInfo, EnvValue,
    EnvironmentVariable, ErrorDetail, ErrorType, GetDeploymentResponse, ListDeploymentResponseV2,
    ListDeploymentSnapshot, OrgRole, PulumiOperation, StackDeploymentsMetadataResponse, StepRun,
    input, merge_patch, validate,
};
use serde::Deserialize;
use serde_json::{Map, Value};

use super::extract::{DeploymentAccess, JsonBody, Origin, StackAccess};
use super::{AppState, Routes};
use crate::deploy::CancelError;
use crate::deploy::queue::Pauses;
use crate::error::{Error, Result};
use crate::store::{
    DeploymentPage, DeploymentRecord, DeploymentScope, NewDeployment, StackRecord, Store,
};
use crate::timestamp;

const DEPLOYMENTS: &str = stack_route!("/deployments");
const ONE: &str = stack_route!("/deployments/{id}");
const BY_VERSION: &str = stack_route!("/deployments/version/{version}");
const CANCEL: &str = stack_route!("/deployments/{id}/cancel");
const UPDATES: &str = stack_route!("/deployments/{id}/updates");
const PAUSE: &str = stack_route!("/deployments/pause");
const RESUME: &str = stack_route!("/deployments/resume");
const METADATA: &str = stack_route!("/deployments/metadata");

pub fn router() -> Routes {
    Routes::default()
        .post(DEPLOYMENTS, create)
        .get(DEPLOYMENTS, list)
        .get(ONE, get_by_id)
        .get(BY_VERSION, get_by_version)
        .get(UPDATES, updates)
        .post(CANCEL, cancel)
        .post(PAUSE, pause)
        .post(RESUME, resume)
        .get(METADATA, metadata)
}

/// Queues a deployment: the request's settings patch merged over the stack's settings (unless
/// `inheritSettings` is false), validated, with new secrets sealed.
async fn create(
    State(state): State<AppState>,
    access: StackAccess,
    origin: Origin,
    JsonBody(mut body): JsonBody<Value>,
) -> Result<(StatusCode, Json<CreateDeploymentResponse>)> {
    input::canonicalize_keys(&mut body);
    let Value::Object(mut fields) = body else {
        return Err(Error::bad_request("The request body must be a JSON object"));
    };
    drop_empty_values(&mut fields);
    if fields
        .get("operationContext")
        .and_then(|c| c.get("operation"))
        .is_some()
    {
        return Err(Error::bad_request(
            "'operation' must only be set at the top level, not in operationContext",
        ));
    }
    let operation = match fields.remove("operation") {
        Some(Value::String(name)) => PulumiOperation::parse(&name),
        None | Some(Value::Null) => {
            return Err(Error::bad_request(
                "Missing top level required field 'operation'",
            ));
        }
        Some(_) => None,
    }
    .ok_or_else(|| {
        Error::invalid_field(
            "Deployment",
            "operation",
            format!("must be one of {}", validate::OPERATIONS.join(", ")),
        )
    })?;
    if access.role != OrgRole::Admin {
        members_may_only_choose_the_operation(&fields, &access.stack.stack.org)?;
    }
    let inherit = match fields.remove("inheritSettings") {
        None | Some(Value::Null) => true,
        Some(Value::Bool(inherit)) => inherit,
        Some(_) => return Err(Error::bad_request("inheritSettings must be true or false")),
    };
    fields.remove("source");
    fields.remove("version");

    let stack = &access.stack;
    let stored = match inherit {
        true => state.store.settings(&stack.id).await?,
        false => None,
    };
    let mut document = stored
        .as_ref()
        .map_or_else(|| Value::Object(Map::new()), |s| s.document.clone());
    merge_patch::apply(&mut document, &Value::Object(fields));
    let settings = crate::settings::prepare(document, stack, &state.cipher)?;
    crate::settings::check_agent_pool(state.store.as_ref(), stack, &settings, stored.as_ref())
        .await?;
    if settings.git_source().is_none() {
        let other = settings
            .source_context
            .as_ref()
            .is_some_and(|s| s.hg.is_some() || s.template.is_some());
        return Err(Error::bad_request(if other {
            "Only git sources (sourceContext.git) can be deployed by this server"
        } else {
            "The stack has no deployment settings with a source, and the request gives none: \
             set sourceContext.git.repoUrl, or gitHub.repository"
        }));
    }
    let settings = serde_json::to_value(&settings)
        .map_err(|err| Error::Internal(format!("cannot serialise settings: {err}")))?;
    let now = timestamp::now();
    let record = state
        .deployments
        .enqueue(NewDeployment {
            stack_id: &stack.id,
            operation,
            requested_by: &access.user.account.id,
            initiator: &origin.initiator,
            trigger: None,
            settings: &settings,
            now: &now,
        })
        .await?;
    let response = CreateDeploymentResponse {
        console_url: console_url(&state, stack, record.version),
        id: record.id.into(),
        version: record.version,
    };
    Ok((StatusCode::ACCEPTED, Json(response)))
}

/// Removes every `null`, `""`, `[]` and `{}` (once emptied of those) from a request, whoever
/// sends it: Pulumi's CLI sends the fields a user did not set that way (`pulumi deployment run
/// update` sends `"environmentVariables": {}`, `"preRunCommands": []`,
/// `"operationContext": {"operation": ""}`, `"agentPoolID": null` …). They are dropped rather
/// than merged, as merged they would clear the stack's own settings for the run.
fn drop_empty_values(fields: &mut Map<String, Value>) {
    fields.retain(|_, value| {
        if let Value::Object(inner) = value {
            drop_empty_values(inner);
        }
        match value {
            Value::Null => false,
            Value::String(text) => !text.is_empty(),
            Value::Array(items) => !items.is_empty(),
            Value::Object(inner) => !inner.is_empty(),
            Value::Bool(_) | Value::Number(_) => true,
        }
    });
}

/// A member deploys the stack as its admins configured it: besides `operation` (taken out
/// before this) and values that say nothing (see [`drop_empty_values`]), only
/// `inheritSettings: true` may be sent. Anything else would let a member choose what runs
/// (source, pre-run commands) or which cloud identity it gets (OIDC), so it is refused naming
/// each field.
fn members_may_only_choose_the_operation(fields: &Map<String, Value>, org: &str) -> Result<()> {
    let mut overridden = Vec::new();
    for (name, value) in fields {
        match value {
            Value::Bool(true) if name == "inheritSettings" => {}
            Value::Object(inner) => {
                overridden.extend(inner.keys().map(|key| format!("{name}.{key}")));
            }
            _ => overridden.push(name.clone()),
        }
    }
    if overridden.is_empty() {
        return Ok(());
    }
    let errors = overridden
        .iter()
        .map(|attribute| ErrorDetail {
            resource: "Deployment".into(),
            attribute: attribute.clone(),
            error_type: ErrorType::Custom,
            custom_message: format!(
                "Only admins of organization '{org}' may override the stack's settings"
            ),
        })
        .collect();
    Err(Error::Forbidden {
        message: format!(
            "Only admins of organization '{org}' may override deployment settings; members may \
             send only the operation (overridden: {})",
            overridden.join(", ")
        ),
        errors,
    })
}

/// Where the console shows a deployment.
fn console_url(state: &AppState, stack: &StackRecord, version: i64) -> String {
    let s = &stack.stack;
    format!(
        "{}/{}/{}/{}/deployments/{version}",
        state.public_url, s.org, s.project, s.stack
    )
}

/// The query of the listing endpoints.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct ListParams {
    page: Option<i64>,
    page_size: Option<i64>,
    sort: Option<String>,
    asc: Option<bool>,
    /// Only deployments in this status (Pulumi's docs); all when absent or empty.
    status: Option<String>,
}

impl ListParams {
    /// The page of `scope` these parameters ask for; 400 when they are out of range.
    pub(super) fn page(
        params: Result<Query<ListParams>, QueryRejection>,
        scope: DeploymentScope,
    ) -> Result<DeploymentPage> {
        let Query(params) = params.map_err(|r| Error::bad_request(r.body_text()))?;
        let page = params.page.unwrap_or(1);
        let size = params.page_size.unwrap_or(10);
        if page < 1 {
            return Err(Error::bad_request("page must be at least 1"));
        }
        if !(1..=100).contains(&size) {
            return Err(Error::bad_request("pageSize must be between 1 and 100"));
        }
        // Every listed order is the queue's order.
        if let Some(sort) = params.sort.as_deref()
            && !["", "created", "version", "modified"].contains(&sort)
        {
            return Err(Error::bad_request(
                "sort must be created, version or modified",
            ));
        }
        let status = match params.status.as_deref() {
            None | Some("") => None,
            Some(name) => Some(DeploymentStatus::parse(name).ok_or_else(|| {
                let statuses: Vec<&str> =
                    DeploymentStatus::ALL.iter().map(|s| s.as_str()).collect();
                Error::invalid_field(
                    "Deployment",
                    "status",
                    format!("must be one of {}", statuses.join(", ")),
                )
            })?),
        };
        let offset = (page - 1).saturating_mul(size);
        Ok(DeploymentPage {
            scope,
            status,
            offset: u32::try_from(offset).map_err(|_| Error::bad_request("page is too large"))?,
            limit: size as u32,
            ascending: params.asc.unwrap_or(false),
        })
    }
}

async fn list(
    State(state): State<AppState>,
    access: StackAccess,
    params: Result<Query<ListParams>, QueryRejection>,
) -> Result<Json<ListDeploymentResponseV2>> {
    let page = ListParams::page(params, DeploymentScope::Stack(access.stack.id.clone()))?;
    list_page(&state, page).await.map(Json)
}

/// A page of deployments as the listing endpoints return it.
pub(super) async fn list_page(
    state: &AppState,
    page: DeploymentPage,
) -> Result<ListDeploymentResponseV2> {
    let (records, total) = state.store.list_deployments(&page).await?;
    let pauses = Pauses::from_list(state.store.pauses().await?);
    let mut deployments = Vec::with_capacity(records.len());
    for record in records {
        let jobs = jobs(state.store.as_ref(), &record).await?;
        let stack = &record.stack;
        deployments.push(ListDeploymentSnapshot {
            paused: pauses.orgs.contains(&stack.stack.org) || pauses.stacks.contains(&stack.id),
            project_name: stack.stack.project.clone(),
            stack_name: stack.stack.stack.clone(),
            id: record.id.into(),
            created: record.created,
            modified: record.modified,
            status: record.status,
            version: record.version,
            requested_by: record.requested_by,
            pulumi_operation: Some(record.operation),
            updates: Vec::new(),
            jobs,
            initiator: record.initiator,
            trigger: record.trigger,
        });
    }
    Ok(ListDeploymentResponseV2 {
        deployments,
        items_per_page: i64::from(page.limit),
        total,
    })
}

async fn get_by_id(
    State(state): State<AppState>,
    deployment: DeploymentAccess,
) -> Result<Json<GetDeploymentResponse>> {
    response(&state, deployment.record).await.map(Json)
}

/// The `{version}` of `…/deployments/version/{version}` (the stack's are read by
/// [`StackAccess`]).
#[derive(Deserialize)]
struct VersionParam {
    version: String,
}

async fn get_by_version(
    State(state): State<AppState>,
    access: StackAccess,
    Path(VersionParam { version }): Path<VersionParam>,
) -> Result<Json<GetDeploymentResponse>> {
    let not_found = || Error::NotFound(format!("Deployment version '{version}' not found"));
    let number: i64 = version.parse().map_err(|_| not_found())?;
    let record = state
        .store
        .deployment_by_version(&access.stack.id, number)
        .await?
        .ok_or_else(not_found)?;
    response(&state, record).await.map(Json)
}

/// The Pulumi updates a deployment made: none, as Keyless hosts no Pulumi state. The list is
/// answered all the same (Pulumi's CLI stops following a deployment on a 404).
async fn updates(_deployment: DeploymentAccess) -> Json<Vec<DeploymentUpdateInfo>> {
    Json(Vec::new())
}

async fn response(state: &AppState, record: DeploymentRecord) -> Result<GetDeploymentResponse> {
    let latest_version = state.store.latest_version(&record.stack.id).await?;
    let jobs = jobs(state.store.as_ref(), &record).await?;
    let settings: DeploymentSettings = serde_json::from_value(record.settings)
        .map_err(|err| Error::Internal(format!("stored deployment settings: {err}")))?;
    Ok(GetDeploymentResponse {
        id: record.id.into(),
        created: record.created,
        modified: record.modified,
        status: record.status,
        version: record.version,
        latest_version,
        requested_by: record.requested_by,
        pulumi_operation: Some(record.operation),
        initiator: record.initiator,
        trigger: record.trigger,
        configuration: configuration(&settings),
        jobs,
    })
}

/// The one job of a started deployment; none before it starts.
async fn jobs(store: &dyn Store, record: &DeploymentRecord) -> Result<Vec<DeploymentJob>> {
    if record.started.is_none() {
        return Ok(Vec::new());
    }
    let steps = store.steps(&record.id).await?;
    Ok(vec![DeploymentJob {
        status: record.status,
        started: record.started.clone(),
        last_updated: Some(record.modified.clone()),
        steps: steps
            .into_iter()
            .map(|s| StepRun {
                name: s.name,
                status: s.status,
                started: s.started,
                last_updated: s.last_updated,
            })
            .collect(),
    }])
}

/// The variables (secret ones without their value) and the source, without credentials.
fn configuration(settings: &DeploymentSettings) -> DeploymentConfiguration {
    let variables = settings
        .operation_context
        .as_ref()
        .and_then(|c| c.environment_variables.as_ref());
    let environment_variables = variables
        .into_iter()
        .flatten()
        .map(|(name, value)| match value {
            EnvValue::Plain(value) => EnvironmentVariable {
                name: name.clone(),
                value: Some(value.clone()),
                secret: false,
            },
            EnvValue::Secret(_) => EnvironmentVariable {
                name: name.clone(),
                value: None,
                secret: true,
            },
        })
        .collect();
    let source = settings.git_source().map(|git| DeploymentSource {
        git: Some(DeploymentSourceGit {
            repo_url: git.repo_url.unwrap_or_default(),
            branch: git.branch,
            repo_dir: git.repo_dir,
            commit: git.commit,
        }),
    });
    DeploymentConfiguration {
        environment_variables,
        source,
    }
}

async fn cancel(
    State(state): State<AppState>,
    DeploymentAccess { access, record }: DeploymentAccess,
) -> Result<StatusCode> {
    let user = &access.user.account.login;
    match state.deployments.cancel(&record.id, user).await {
        Ok(()) => Ok(StatusCode::OK),
        Err(CancelError::Finished) => Err(Error::bad_request(format!(
            "Deployment '{}' has already finished",
            record.id
        ))),
        Err(CancelError::Store(err)) => Err(err.into()),
    }
}

async fn pause(State(state): State<AppState>, access: StackAccess) -> Result<StatusCode> {
    set_paused(&state, &access.stack, true).await
}

async fn resume(State(state): State<AppState>, access: StackAccess) -> Result<StatusCode> {
    set_paused(&state, &access.stack, false).await
}

async fn set_paused(state: &AppState, stack: &StackRecord, paused: bool) -> Result<StatusCode> {
    if state.store.settings(&stack.id).await?.is_none() {
        return Err(Error::bad_request(
            "Attempted to pause or resume deployments on stack before it has been configured \
             for deployments",
        ));
    }
    state
        .deployments
        .set_paused(&stack.stack.org, Some(&stack.id), paused)
        .await?;
    Ok(StatusCode::OK)
}

async fn metadata(
    State(state): State<AppState>,
    access: StackAccess,
) -> Result<Json<StackDeploymentsMetadataResponse>> {
    let pauses = Pauses::from_list(state.store.pauses().await?);
    let stack_paused = pauses.stacks.contains(&access.stack.id);
    let organization_paused = pauses.orgs.contains(&access.stack.stack.org);
    Ok(Json(StackDeploymentsMetadataResponse {
        paused: stack_paused || organization_paused,
        stack_paused,
        organization_paused,
        has_schedules: false,
    }))
}

//! Deployments: a stack's Deployments tab (Deploy, pause and resume, the list) and an
//! organization's list. Lists with a queued or running deployment refresh themselves.

use keyless_api_types::{
    DeploymentStatus, ListDeploymentResponseV2, ListDeploymentSnapshot, PulumiOperation,
    stack::StackRef,
};
use leptos::prelude::*;
use leptos::task::spawn_local;
use serde_json::Value;

use crate::api::{ApiFailure, PageRequest};
use crate::components::{PageTitle, StatusBadge, Trigger, api_time};
use crate::load::{every, load, load_failed, load_live, loading};
use crate::pages::stack::use_stack_ref;
use crate::router::{A, use_location, use_param};
use crate::session::use_session;
use crate::time::{format_duration, now_ms, parse_rfc3339_ms};

/// Deployments per page.
pub const PAGE_SIZE: u32 = 10;

/// The operations the Deploy button offers, with their labels.
pub const DEPLOY_OPERATIONS: [(PulumiOperation, &str); 4] = [
    (PulumiOperation::Update, "Update"),
    (PulumiOperation::Preview, "Preview"),
    (PulumiOperation::Refresh, "Refresh"),
    (PulumiOperation::Destroy, "Destroy"),
];

/// Why deploying is not possible now, if it is not.
pub fn deploy_blocker(settings: &Value, paused: bool, organization_paused: bool) -> Option<String> {
    let has_git = settings
        .pointer("/sourceContext/git")
        .is_some_and(|git| git.is_object());
    if !has_git {
        return Some(
            "This stack has no deployment settings with a git source yet. Set them up under \
             Settings → Deploy."
                .into(),
        );
    }
    if organization_paused {
        return Some("Deployments are paused for the whole organization.".into());
    }
    paused.then(|| "Deployments of this stack are paused. Resume them to deploy.".into())
}

/// How long a deployment ran (or has been running, at `now_ms`).
pub fn deployment_duration(deployment: &ListDeploymentSnapshot, now_ms: i64) -> Option<String> {
    let job = deployment.jobs.first()?;
    let started = parse_rfc3339_ms(job.started.as_deref()?)?;
    let end = if deployment.status.is_finished() {
        parse_rfc3339_ms(job.last_updated.as_deref().unwrap_or(&deployment.modified))?
    } else {
        now_ms
    };
    Some(format_duration(end - started))
}

/// "Page 2 of 5", and whether there are pages before and after.
pub fn page_info(page: u32, total: i64, page_size: u32) -> (String, bool, bool) {
    let pages = (total.max(0) as u64).div_ceil(u64::from(page_size)).max(1);
    (
        format!("Page {page} of {pages}"),
        page > 1,
        u64::from(page) < pages,
    )
}

/// The stack's Deployments tab; Deploy, pause and Cancel only for roles that may deploy.
#[component]
pub fn StackDeploymentsPage() -> impl IntoView {
    let session = use_session();
    let stack_ref = use_stack_ref();
    let page = RwSignal::new(1_u32);
    let refresh = RwSignal::new(0_u32);
    let list = load_live(move || {
        let client = session.client();
        let (stack, page) = (stack_ref.get(), page.get());
        refresh.track();
        async move {
            let stack =
                stack.ok_or_else(|| ApiFailure::Network("no stack in the address".into()))?;
            client
                .deployments(
                    &stack,
                    PageRequest {
                        page,
                        page_size: PAGE_SIZE,
                    },
                )
                .await
        }
    });
    refresh_while_active(list, refresh);
    let title = Signal::derive(move || match stack_ref.get() {
        Some(stack) => format!("Deployments · {stack}"),
        None => "Deployments".to_owned(),
    });
    let on_change = Callback::new(move |()| refresh.update(|n| *n += 1));
    view! {
        <PageTitle text=title />
        {move || {
            stack_ref
                .get()
                .filter(|stack| session.can_deploy_in(&stack.org))
                .map(|stack| view! { <DeployControls stack on_change /> })
        }}
        <section class="card" aria-labelledby="deployments-heading">
            <h2 id="deployments-heading">"Deployments"</h2>
            <DeploymentList list page show_stack=false on_change />
        </section>
    }
}

/// `/orgs/:org/deployments`: every deployment of an organization the user can see.
#[component]
pub fn OrgDeploymentsPage() -> impl IntoView {
    let session = use_session();
    let org = use_param("org");
    let org = Memo::new(move |_| org.get().unwrap_or_default());
    let page = RwSignal::new(1_u32);
    let refresh = RwSignal::new(0_u32);
    let list = load_live(move || {
        let client = session.client();
        let (org, page) = (org.get(), page.get());
        refresh.track();
        async move {
            client
                .org_deployments(
                    &org,
                    PageRequest {
                        page,
                        page_size: PAGE_SIZE,
                    },
                )
                .await
        }
    });
    refresh_while_active(list, refresh);
    let title = Signal::derive(move || format!("Deployments · {}", org.get()));
    let on_change = Callback::new(move |()| refresh.update(|n| *n += 1));
    view! {
        <PageTitle text=title />
        <div class="page-header">
            <p class="breadcrumb">{move || org.get()}</p>
            <h1>"Deployments"</h1>
        </div>
        <section class="card" aria-label="Deployments">
            <DeploymentList list page show_stack=true on_change />
        </section>
    }
}

/// Reloads `list` every two seconds while one of its deployments is queued or running.
fn refresh_while_active(
    list: crate::load::Loaded<ListDeploymentResponseV2>,
    refresh: RwSignal<u32>,
) {
    every(2_000, move || {
        let active = list.with_untracked(|l| {
            l.as_ref()
                .and_then(|r| r.as_ref().ok())
                .is_some_and(|l| l.deployments.iter().any(|d| !d.status.is_finished()))
        });
        if active {
            refresh.update(|n| *n += 1);
        }
    });
}

/// A page of deployments as a table, with pagination and Cancel for the unfinished ones.
#[component]
fn DeploymentList(
    /// The loaded page.
    list: crate::load::Loaded<ListDeploymentResponseV2>,
    /// The page shown, from 1.
    page: RwSignal<u32>,
    /// Whether to show each deployment's project and stack (the organization's list).
    show_stack: bool,
    /// Called after a deployment was cancelled.
    #[prop(into)]
    on_change: Callback<()>,
) -> impl IntoView {
    let session = use_session();
    let route_org = use_param("org");
    let route_stack = use_stack_ref();
    let message = RwSignal::new(None::<String>);
    let now = RwSignal::new(now_ms());
    every(1_000, move || now.set(now_ms()));
    let cancel = move |stack: StackRef, id: String, version: i64| {
        let client = session.client();
        spawn_local(async move {
            let text = match client.cancel_deployment(&stack, &id).await {
                Ok(()) => format!("Deployment {version} was cancelled."),
                Err(failure) => format!("Deployment {version} could not be cancelled. {failure}"),
            };
            message.set(Some(text));
            on_change.run(());
        });
    };
    let row = move |deployment: ListDeploymentSnapshot| {
        let org = route_org.get_untracked().unwrap_or_default();
        // Pulumi's listings may leave out the project and stack; a stack's own list knows them.
        let stack = match route_stack.get_untracked() {
            Some(stack)
                if deployment.project_name.is_empty() || deployment.stack_name.is_empty() =>
            {
                stack
            }
            _ => StackRef::new(&org, &deployment.project_name, &deployment.stack_name),
        };
        let href = format!("/{stack}/deployments/{}", deployment.version);
        let status = deployment.status.as_str();
        let version = deployment.version;
        let cancellable = cancellable(deployment.status) && session.can_deploy_in(&org);
        let id = deployment.id.clone();
        let stack_name = show_stack.then(|| format!("{}/{}", stack.project, stack.stack));
        let duration = {
            let deployment = deployment.clone();
            move || deployment_duration(&deployment, now.get()).unwrap_or_else(|| "—".into())
        };
        let operation = PulumiOperation::label(deployment.pulumi_operation);
        let cancel_stack = stack.clone();
        view! {
            <tr>
                <td><StatusBadge status=status /></td>
                {stack_name.map(|name| view! { <td>{name}</td> })}
                <td>{operation}</td>
                <td><A href=href>{format!("#{version}")}</A></td>
                <td>
                    <Trigger
                        initiator=deployment.initiator.clone()
                        requested_by=deployment.requested_by.clone()
                        trigger=deployment.trigger.clone()
                    />
                </td>
                <td>{api_time(&deployment.created)}</td>
                <td>{duration}</td>
                <td>
                    {cancellable.then(|| view! {
                        <button
                            type="button"
                            class="button secondary small"
                            aria-label=format!("Cancel deployment {version}")
                            on:click=move |_| cancel(cancel_stack.clone(), id.clone(), version)
                        >
                            "Cancel"
                        </button>
                    })}
                </td>
            </tr>
        }
    };
    view! {
        <p class="status" role="status">{move || message.get()}</p>
        {move || match list.get() {
            None => loading("deployments"),
            Some(Err(failure)) => load_failed("deployments", &failure),
            Some(Ok(list)) if list.deployments.is_empty() && page.get_untracked() == 1 => view! {
                <p class="muted">"No deployments yet."</p>
            }
            .into_any(),
            Some(Ok(list)) => {
                let (label, has_previous, has_next) = page_info(page.get_untracked(), list.total, PAGE_SIZE);
                view! {
                    <div class="table-scroll">
                        <table class="deployments">
                            <thead>
                                <tr>
                                    <th scope="col">"Status"</th>
                                    {show_stack.then(|| view! { <th scope="col">"Stack"</th> })}
                                    <th scope="col">"Operation"</th>
                                    <th scope="col">"Version"</th>
                                    <th scope="col">"Started by"</th>
                                    <th scope="col">"Created"</th>
                                    <th scope="col">"Duration"</th>
                                    <th scope="col"><span class="visually-hidden">"Actions"</span></th>
                                </tr>
                            </thead>
                            <tbody>{list.deployments.into_iter().map(row).collect_view()}</tbody>
                        </table>
                    </div>
                    <nav class="pagination" aria-label="Pages">
                        <button
                            type="button"
                            class="button secondary"
                            disabled=!has_previous
                            on:click=move |_| page.update(|p| *p = p.saturating_sub(1).max(1))
                        >
                            "Previous"
                        </button>
                        <span>{label}</span>
                        <button
                            type="button"
                            class="button secondary"
                            disabled=!has_next
                            on:click=move |_| page.update(|p| *p += 1)
                        >
                            "Next"
                        </button>
                    </nav>
                }
                .into_any()
            }
        }}
    }
}

/// Deploy (with the operation; destroy asks for the stack's name), and pause or resume the
/// stack's deployments. Deploying is disabled, with the reason, without settings or when paused.
#[component]
fn DeployControls(
    /// The stack.
    stack: StackRef,
    /// Called after a pause or resume.
    #[prop(into)]
    on_change: Callback<()>,
) -> impl IntoView {
    let session = use_session();
    let location = use_location();
    let refresh = RwSignal::new(0_u32);
    let state = {
        let stack = stack.clone();
        load(move || {
            let client = session.client();
            let stack = stack.clone();
            refresh.track();
            async move {
                let settings = client.deployment_settings(&stack).await?;
                let metadata = client.deployments_metadata(&stack).await?;
                Ok((settings, metadata))
            }
        })
    };
    let operation = RwSignal::new(PulumiOperation::Update);
    let confirming = RwSignal::new(false);
    let typed = RwSignal::new(String::new());
    let busy = RwSignal::new(false);
    let error = RwSignal::new(None::<String>);
    let blocker = Signal::derive(move || {
        state.with(|s| match s {
            Some(Ok((settings, metadata))) => deploy_blocker(
                settings,
                metadata.stack_paused,
                metadata.organization_paused,
            ),
            Some(Err(failure)) => Some(format!(
                "The deployment settings could not be loaded. {failure}"
            )),
            None => Some("Loading the deployment settings…".into()),
        })
    });
    let stack_paused =
        Signal::derive(move || state.with(|s| matches!(s, Some(Ok((_, m))) if m.stack_paused)));
    let has_settings = Signal::derive(move || {
        state.with(|s| matches!(s, Some(Ok((settings, _))) if settings.as_object().is_some_and(|o| !o.is_empty())))
    });
    let deploy = {
        let stack = stack.clone();
        move || {
            let client = session.client();
            let stack = stack.clone();
            busy.set(true);
            error.set(None);
            spawn_local(async move {
                match client
                    .create_deployment(&stack, operation.get_untracked())
                    .await
                {
                    Ok(created) => {
                        location.navigate(&format!("/{stack}/deployments/{}", created.version));
                    }
                    Err(failure) => {
                        error.set(Some(format!("The deployment was not started. {failure}")))
                    }
                }
                busy.set(false);
            });
        }
    };
    let deploy_clicked = {
        let deploy = deploy.clone();
        move |_| {
            if operation.get_untracked() == PulumiOperation::Destroy {
                typed.set(String::new());
                confirming.set(true);
                request_animation_frame(|| crate::components::focus_by_id("destroy-confirm"));
            } else {
                deploy();
            }
        }
    };
    let toggle_pause = {
        let stack = stack.clone();
        move |_| {
            let client = session.client();
            let stack = stack.clone();
            let pause = !stack_paused.get_untracked();
            spawn_local(async move {
                if let Err(failure) = client.set_paused(&stack, pause).await {
                    error.set(Some(failure.to_string()));
                }
                refresh.update(|n| *n += 1);
                on_change.run(());
            });
        }
    };
    let stack_name = stack.stack.clone();
    let name_matches = {
        let stack_name = stack_name.clone();
        move || typed.get() == stack_name
    };
    view! {
        <section class="card deploy-controls" aria-labelledby="deploy-heading">
            <h2 id="deploy-heading">"Deploy"</h2>
            <div class="deploy-row">
                <label for="deploy-operation">"Operation"</label>
                <select
                    id="deploy-operation"
                    on:change=move |ev| {
                        if let Some(op) = PulumiOperation::parse(&event_target_value(&ev)) {
                            operation.set(op);
                            confirming.set(false);
                        }
                    }
                >
                    {DEPLOY_OPERATIONS
                        .into_iter()
                        .map(|(op, label)| view! { <option value=op.as_str()>{label}</option> })
                        .collect_view()}
                </select>
                <button
                    type="button"
                    class="button primary"
                    disabled=move || blocker.read().is_some() || busy.get()
                    aria-describedby="deploy-blocker"
                    on:click=deploy_clicked
                >
                    {move || if busy.get() { "Deploying…" } else { "Deploy" }}
                </button>
                <button
                    type="button"
                    class="button secondary"
                    disabled=move || !has_settings.get()
                    on:click=toggle_pause
                >
                    {move || if stack_paused.get() { "Resume deployments" } else { "Pause deployments" }}
                </button>
            </div>
            <p id="deploy-blocker" class="field-hint">{move || blocker.get()}</p>
            <Show when=move || confirming.get()>
                <div class="destroy-confirm" role="group" aria-labelledby="destroy-heading">
                    <h3 id="destroy-heading">"Destroy every resource of this stack?"</h3>
                    <label for="destroy-confirm">
                        "Type the stack name, " <code>{stack_name.clone()}</code> ", to confirm"
                    </label>
                    <input
                        id="destroy-confirm"
                        type="text"
                        autocomplete="off"
                        spellcheck="false"
                        prop:value=move || typed.get()
                        on:input=move |ev| typed.set(event_target_value(&ev))
                    />
                    <div class="form-actions">
                        <button
                            type="button"
                            class="button danger"
                            disabled={
                                let name_matches = name_matches.clone();
                                move || !name_matches() || busy.get()
                            }
                            on:click={
                                let deploy = deploy.clone();
                                move |_| {
                                    confirming.set(false);
                                    deploy();
                                }
                            }
                        >
                            "Destroy"
                        </button>
                        <button type="button" class="button secondary" on:click=move |_| confirming.set(false)>
                            "Keep the stack"
                        </button>
                    </div>
                </div>
            </Show>
            {move || error.get().map(|text| view! { <p class="alert" role="alert">{text}</p> })}
        </section>
    }
}

/// Whether a deployment status is one a user can cancel.
pub fn cancellable(status: DeploymentStatus) -> bool {
    !status.is_finished()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn deploying_needs_a_git_source_and_no_pause() {
        let git = json!({"sourceContext": {"git": {"repoUrl": "https://example.com/r.git"}}});
        assert!(
            deploy_blocker(&json!({}), false, false)
                .is_some_and(|r| r.contains("Settings → Deploy"))
        );
        assert!(deploy_blocker(&git, true, false).is_some_and(|r| r.contains("paused")));
        assert!(deploy_blocker(&git, false, true).is_some_and(|r| r.contains("organization")));
        assert_eq!(deploy_blocker(&git, false, false), None);
    }

    #[test]
    fn pages_are_counted_from_the_total() {
        assert_eq!(page_info(1, 0, 10), ("Page 1 of 1".into(), false, false));
        assert_eq!(page_info(1, 25, 10), ("Page 1 of 3".into(), false, true));
        assert_eq!(page_info(3, 25, 10), ("Page 3 of 3".into(), true, false));
    }

    #[test]
    fn durations_run_until_now_or_the_end() {
        let mut deployment: ListDeploymentSnapshot = serde_json::from_value(json!({
            "id": "d1", "created": "2026-11-25T17:34:00Z", "modified": "2026-11-25T17:36:05Z",
            "status": "succeeded", "version": 3,
            "requestedBy": {"name": "", "githubLogin": "alice", "avatarUrl": ""},
            "projectName": "website", "stackName": "prod", "paused": false,
            "pulumiOperation": "update", "updates": [], "initiator": "console",
            "jobs": [{"status": "succeeded", "started": "2026-11-25T17:34:00Z",
                      "lastUpdated": "2026-11-25T17:36:05Z", "steps": []}]
        }))
        .expect("a listed deployment");
        assert_eq!(
            deployment_duration(&deployment, 0).as_deref(),
            Some("2m 05s")
        );
        deployment.status = DeploymentStatus::Running;
        let now = parse_rfc3339_ms("2026-11-25T17:34:10Z").expect("time");
        assert_eq!(
            deployment_duration(&deployment, now).as_deref(),
            Some("10s")
        );
        deployment.jobs.clear();
        assert_eq!(deployment_duration(&deployment, now), None);
        assert!(cancellable(DeploymentStatus::NotStarted));
        assert!(!cancellable(DeploymentStatus::Failed));
    }
}

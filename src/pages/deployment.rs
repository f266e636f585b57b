//! One deployment: its status, Cancel, the OIDC card and the live log.

use keyless_api_types::{GetDeploymentResponse, StepRun};
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::hooks::use_params_map;
use wasm_bindgen_futures::JsFuture;

use crate::api::ApiFailure;
use crate::components::{LiveLog, LogViewer, OidcCard, PageTitle, StatusBadge, Trigger, api_time};
use crate::load::{every, load_live};
use crate::pages::stack::use_stack_ref;
use crate::session::use_session;
use crate::time::{format_duration, now_ms, parse_rfc3339_ms};

/// How often a running deployment's log is asked for more lines (what the pulumi CLI does).
pub const LOG_POLL_MS: i32 = 500;

/// Waits `millis` milliseconds.
async fn sleep(millis: i32) {
    let promise = js_sys::Promise::new(&mut |resolve, _| {
        let _ = window().set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, millis);
    });
    let _ = JsFuture::from(promise).await;
}

/// `/:org/:project/:stack/deployments/:version`.
#[component]
pub fn DeploymentPage() -> impl IntoView {
    let session = use_session();
    let stack_ref = use_stack_ref();
    let params = use_params_map();
    let version = Memo::new(move |_| {
        params
            .read()
            .get("version")
            .and_then(|v| v.parse::<i64>().ok())
    });
    let refresh = RwSignal::new(0_u32);
    let deployment = load_live(move || {
        let client = session.client();
        let (stack, version) = (stack_ref.get(), version.get());
        refresh.track();
        async move {
            match (stack, version) {
                (Some(stack), Some(version)) => client.deployment(&stack, version).await,
                _ => Err(ApiFailure::Network("no deployment in the address".into())),
            }
        }
    });
    let finished = move || deployment.with(|d| matches!(d, Some(Ok(d)) if d.status.is_finished()));
    every(1_000, move || {
        if !deployment.with_untracked(|d| matches!(d, Some(Ok(d)) if d.status.is_finished())) {
            refresh.update(|n| *n += 1);
        }
    });
    let log = LiveLog::new();
    // Streams the log once the deployment's id is known.
    let streaming = StoredValue::new(None::<String>);
    Effect::new(move |_| {
        let Some(Ok(current)) = deployment.get() else {
            return;
        };
        if streaming.with_value(|s| s.as_deref() == Some(current.id.as_str())) {
            return;
        }
        streaming.set_value(Some(current.id.clone()));
        let (Some(stack), client) = (stack_ref.get_untracked(), session.client()) else {
            return;
        };
        let id = current.id.clone();
        spawn_local(async move {
            let mut token: Option<String> = None;
            loop {
                match client.deployment_logs(&stack, &id, token.as_deref()).await {
                    Ok(page) => {
                        let full = page.lines.len() >= 2_000;
                        if !page.lines.is_empty() {
                            if streaming.try_with_value(|_| ()).is_none() {
                                return;
                            }
                            log.update(|text| text.extend_from_api(&page.lines));
                        }
                        match page.next_token {
                            Some(next) => token = Some(next),
                            None => {
                                log.complete.set(true);
                                return;
                            }
                        }
                        if !full {
                            sleep(LOG_POLL_MS).await;
                        }
                    }
                    Err(_) => sleep(LOG_POLL_MS * 4).await,
                }
                // Stop once the page is gone.
                if streaming.try_with_value(|_| ()).is_none() {
                    return;
                }
            }
        });
    });
    let steps = Signal::derive(move || {
        deployment.with(|d| match d {
            Some(Ok(d)) => d.jobs.first().map(|j| j.steps.clone()).unwrap_or_default(),
            _ => Vec::<StepRun>::new(),
        })
    });
    let title = Signal::derive(move || match (stack_ref.get(), version.get()) {
        (Some(stack), Some(version)) => format!("Deployment {version} · {stack}"),
        _ => "Deployment".to_owned(),
    });
    let file_name = Signal::derive(move || match (stack_ref.get(), version.get()) {
        (Some(s), Some(v)) => format!("{}-{}-{}-{v}.log", s.org, s.project, s.stack),
        _ => "deployment.log".to_owned(),
    });
    let message = RwSignal::new(None::<String>);
    let cancel = move |_| {
        let Some(Ok(current)) = deployment.get_untracked() else {
            return;
        };
        let Some(stack) = stack_ref.get_untracked() else {
            return;
        };
        let client = session.client();
        spawn_local(async move {
            let text = match client.cancel_deployment(&stack, &current.id).await {
                Ok(()) => "Cancelling the deployment…".to_owned(),
                Err(failure) => format!("The deployment could not be cancelled. {failure}"),
            };
            message.set(Some(text));
            refresh.update(|n| *n += 1);
        });
    };
    let now = RwSignal::new(now_ms());
    every(1_000, move || now.set(now_ms()));
    view! {
        <PageTitle text=title />
        {move || match deployment.get() {
            None => view! { <p class="loading" role="status">"Loading the deployment…"</p> }.into_any(),
            Some(Err(failure)) => view! {
                <p class="alert" role="alert">{format!("The deployment could not be loaded. {failure}")}</p>
            }
            .into_any(),
            Some(Ok(current)) => view! { <DeploymentSummary deployment=current now /> }.into_any(),
        }}
        <div class="deployment-actions">
            <Show when=move || deployment.with(|d| matches!(d, Some(Ok(_)))) && !finished()>
                <button type="button" class="button secondary" on:click=cancel>"Cancel deployment"</button>
            </Show>
            <p class="status" role="status">{move || message.get()}</p>
        </div>
        <OidcCard log stack=stack_ref />
        <LogViewer log steps file_name />
    }
}

/// The deployment's status (announced as it changes), operation, how it started and when.
#[component]
fn DeploymentSummary(
    /// The deployment.
    deployment: GetDeploymentResponse,
    /// Now, for the running timer.
    now: RwSignal<i64>,
) -> impl IntoView {
    let status = deployment.status.as_str();
    let job = deployment.jobs.first().cloned();
    let finished = deployment.status.is_finished();
    let duration = move || {
        let job = job.as_ref()?;
        let started = parse_rfc3339_ms(job.started.as_deref()?)?;
        let end = if finished {
            parse_rfc3339_ms(job.last_updated.as_deref()?)?
        } else {
            now.get()
        };
        Some(format_duration(end - started))
    };
    view! {
        <section class="card deployment-summary" aria-labelledby="deployment-heading">
            <h2 id="deployment-heading">
                {format!("Deployment {} · {}", deployment.version, keyless_api_types::PulumiOperation::label(deployment.pulumi_operation))}
            </h2>
            <p aria-live="polite"><StatusBadge status=status /></p>
            <dl class="details">
                <dt>"Started by"</dt>
                <dd>
                    <Trigger
                        initiator=deployment.initiator.clone()
                        requested_by=deployment.requested_by.clone()
                        trigger=deployment.trigger.clone()
                    />
                </dd>
                <dt>"Created"</dt>
                <dd>{api_time(&deployment.created)}</dd>
                <dt>"Duration"</dt>
                <dd>{move || duration().unwrap_or_else(|| "not started".into())}</dd>
            </dl>
        </section>
    }
}

//! One deployment: its status, Cancel, the OIDC card and the live log.
//!
//! The log is read whole in one streamed, compressed `logs/raw` reply (a finished log, or what
//! a running one has written so far), fed into the viewer as it arrives; a running
//! deployment's later lines then come from the logs API, from where that reply ended.

use keyless_api_types::{GetDeploymentResponse, StackRef, StepRun};
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::api::{ApiFailure, Client};
use crate::components::{LiveLog, LogViewer, OidcCard, PageTitle, StatusBadge, Trigger, api_time};
use crate::load::{every, load_failed, load_live, loading};
use crate::log::LogText;
use crate::log::stream::{self, sleep};
use crate::pages::stack::use_stack_ref;
use crate::router::use_param;
use crate::session::use_session;
use crate::time::{format_duration, now_ms, parse_rfc3339_ms};

/// How often a running deployment's log is asked for more lines (what the pulumi CLI does).
pub const LOG_POLL_MS: i32 = 500;
/// A full page of the logs API: more lines are waiting.
const FULL_PAGE: usize = 2_000;

/// Streams deployment `id`'s log into `log` until it is complete, or the page is gone. Marks
/// `keyless-log-open` when the read starts, for the browser's performance tools.
async fn stream_log(client: Client, stack: StackRef, id: String, log: LiveLog) {
    if let Some(performance) = window().performance() {
        let _ = performance.mark("keyless-log-open");
    }
    // Everything written so far, in one read; read again from the start if it was cut short.
    let mut token = loop {
        if let Ok(raw) = client.deployment_logs_raw(&stack, &id, None).await {
            match stream::read_into(&raw.body, log, || true).await {
                Ok(true) => break raw.next_token,
                Ok(false) => return,
                Err(_) => {}
            }
        }
        if !log.try_update_quietly(|text| *text = LogText::new()) {
            return;
        }
        log.notify();
        sleep(LOG_POLL_MS * 4).await;
    };
    // Then, while it runs, the lines written after that read.
    while let Some(current) = token.take() {
        match client.deployment_logs(&stack, &id, Some(&current)).await {
            Ok(page) => {
                if !log.try_update_quietly(|text| text.extend_from_api(&page.lines)) {
                    return;
                }
                if !page.lines.is_empty() {
                    log.notify();
                }
                token = page.next_token;
                if token.is_some() && page.lines.len() < FULL_PAGE {
                    sleep(LOG_POLL_MS).await;
                }
            }
            Err(_) if log.is_gone() => return,
            Err(_) => {
                token = Some(current);
                sleep(LOG_POLL_MS * 4).await;
            }
        }
    }
    let _ = log.complete.try_set(true);
}

/// `/:org/:project/:stack/deployments/:version`.
#[component]
pub fn DeploymentPage() -> impl IntoView {
    let session = use_session();
    let stack_ref = use_stack_ref();
    let version = use_param("version");
    let version = Memo::new(move |_| version.read().as_deref()?.parse::<i64>().ok());
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
        spawn_local(stream_log(client, stack, current.id.clone(), log));
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
            None => loading("deployment"),
            Some(Err(failure)) => load_failed("deployment", &failure),
            Some(Ok(current)) => view! { <DeploymentSummary deployment=current now /> }.into_any(),
        }}
        <div class="deployment-actions">
            <Show when=move || {
                deployment.with(|d| matches!(d, Some(Ok(_))))
                    && !finished()
                    && stack_ref.with(|s| s.as_ref().is_some_and(|s| session.can_deploy_in(&s.org)))
            }>
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

//! The organization's GitHub webhook for admins: payload URL, secret (shown once), recent
//! deliveries with their outcomes and the deployments they started. The section says what the
//! webhook is at once; its settings and deliveries, set up once per organization, arrive as a
//! module of their own when the admin opens them.

use std::collections::BTreeMap;

use keyless_api_types::{DeliveryOutcome, GitHubDelivery, GitHubWebhookDeliveries};
use leptos::prelude::*;

use crate::api::PageRequest;
use crate::components::api_time;
use crate::lazy::{OnRequest, lazy_part_with};
use crate::load::{load_failed, load_live, loading};
use crate::router::A;
use crate::session::use_session;

/// Shown beside a secret that was just made.
pub const COPY_NOW: &str = "Copy it now: it will not be shown again.";

/// Where a deployment a delivery started lives: its page and its name.
#[derive(Clone, Debug, PartialEq, Eq)]
struct DeploymentLink {
    href: String,
    text: String,
}

/// The outcome as a short label.
fn outcome_label(outcome: DeliveryOutcome) -> &'static str {
    match outcome {
        DeliveryOutcome::Pending => "Being handled",
        DeliveryOutcome::Started => "Started",
        DeliveryOutcome::Ignored => "Ignored",
        DeliveryOutcome::Duplicate => "Duplicate",
        DeliveryOutcome::Rejected => "Rejected",
    }
}

/// Whose webhook the Deploy panel shows, for [`WebhookPart`].
#[derive(Clone)]
pub struct WebhookOrg(pub String);

/// Opens the webhook's settings and deliveries.
const SHOW_WEBHOOK: &str = "Show the payload URL, secret and deliveries";

/// The organization's GitHub webhook section, for its admins: what the webhook does and, once
/// opened, the [`GitHubWebhook`] itself.
#[component]
pub fn WebhookSection(
    /// The organization whose webhook this is.
    org: String,
) -> impl IntoView {
    let open = RwSignal::new(false);
    let hint = format!(
        "One webhook serves every stack of {org}: GitHub signs each delivery with its secret, and deliveries for a stack's repository start its deployments."
    );
    let org = WebhookOrg(org);
    view! {
        <section class="panel webhook" aria-labelledby="webhook-heading">
            <h2 id="webhook-heading">"GitHub webhook"</h2>
            <p class="section-hint">{hint}</p>
            <OnRequest open label=SHOW_WEBHOOK>
                {lazy_part_with(org.clone(), |parts| parts.github_webhook, "GitHub webhook")}
            </OnRequest>
        </section>
    }
}

/// The [`GitHubWebhook`] of the [`WebhookOrg`] in context, which pages load as a part of its
/// own ([`crate::lazy`]).
#[component]
pub fn WebhookPart() -> impl IntoView {
    let WebhookOrg(org) = expect_context();
    view! { <GitHubWebhook org /> }
}

/// The organization's GitHub webhook, for its admins: the payload URL to give GitHub, a
/// button that makes (or replaces) the secret and shows it this once, and the recent
/// deliveries with what became of each, linked to the deployments they started. Shown in a
/// [`WebhookSection`].
///
/// Needs a [`crate::session::Session`] in context. The API answers 403 to members, so pages
/// show this to admins only.
#[component]
pub fn GitHubWebhook(
    /// The organization whose webhook this is.
    #[prop(into)]
    org: String,
) -> impl IntoView {
    let session = use_session();
    let refresh = RwSignal::new(0_u32);
    let loaded = {
        let org = org.clone();
        load_live(move || {
            refresh.track();
            let client = session.client();
            let org = org.clone();
            async move {
                let webhook = client.github_webhook_deliveries(&org).await?;
                // The log names deployments by id; the organization's newest deployments say
                // where each one lives (older ones are shown without a link).
                let mut links = BTreeMap::new();
                if webhook
                    .deliveries
                    .iter()
                    .any(|d| !d.deployment_ids.is_empty())
                {
                    let page = PageRequest {
                        page: 1,
                        page_size: 100,
                    };
                    if let Ok(list) = client.org_deployments(&org, page).await {
                        for d in list.deployments {
                            let link = DeploymentLink {
                                href: format!(
                                    "/{org}/{}/{}/deployments/{}",
                                    d.project_name, d.stack_name, d.version
                                ),
                                text: format!("{}/{} #{}", d.project_name, d.stack_name, d.version),
                            };
                            links.insert(d.id, link);
                        }
                    }
                }
                Ok((webhook, links))
            }
        })
    };

    // The new secret lives here only while the page is open, and only until it is replaced.
    let secret = RwSignal::new(None::<String>);
    on_cleanup(move || {
        secret.try_update(|secret| {
            if let Some(secret) = secret.take() {
                // Overwrite this copy; the browser's own copies (the input's value, the
                // response text) go with the page's garbage.
                let mut bytes = secret.into_bytes();
                bytes.fill(0);
                std::hint::black_box(&bytes);
            }
        });
    });
    let copied = RwSignal::new(false);
    let generate = {
        let org = org.clone();
        Action::new_local(move |_: &()| {
            let client = session.client();
            let org = org.clone();
            async move {
                let made = client.new_github_webhook_secret(&org).await;
                if let Ok(made) = &made {
                    secret.set(Some(made.secret.clone()));
                    copied.set(false);
                    refresh.update(|n| *n += 1);
                }
                made.map(drop)
            }
        })
    };
    let generating = generate.pending();
    let generate_error = move || {
        generate
            .value()
            .get()
            .and_then(Result::err)
            .map(|failure| format!("The webhook secret was not made. {failure}"))
    };
    let copy = move |_| {
        if let Some(secret) = secret.read_untracked().as_deref() {
            let _ = window().navigator().clipboard().write_text(secret);
            copied.set(true);
        }
    };

    let settings = move |webhook: &GitHubWebhookDeliveries| {
        let has_secret = webhook.secret_created.is_some();
        let made = webhook.secret_created.as_deref().map_or_else(
            || "No secret yet: GitHub's deliveries are rejected until you generate one.".into_any(),
            |created| view! { "A secret exists, made " {api_time(created)} "." }.into_any(),
        );
        let label = if has_secret {
            "Rotate webhook secret"
        } else {
            "Generate webhook secret"
        };
        view! {
            <div class="field">
                <label for="webhook-url">"Payload URL"</label>
                <p class="field-hint" id="webhook-url-hint">
                    "In the repository's Settings → Webhooks, add this URL with content type application/json."
                </p>
                <input id="webhook-url" type="text" readonly aria-describedby="webhook-url-hint" prop:value=webhook.url.clone() />
            </div>
            <p class="webhook-secret-state">{made}</p>
            {has_secret.then(|| view! {
                <p class="section-hint">"Rotating replaces the secret at once: update it in GitHub too, or its deliveries are rejected."</p>
            })}
            <button
                type="button"
                class="button secondary"
                disabled=move || generating.get()
                on:click=move |_| {
                    generate.dispatch(());
                }
            >
                {label}
            </button>
        }
    };

    let delivery_view = move |delivery: GitHubDelivery,
                              links: &BTreeMap<String, DeploymentLink>| {
        let started: Vec<_> = delivery
            .deployment_ids
            .iter()
            .map(|id| links.get(id).cloned().ok_or_else(|| id.clone()))
            .collect();
        let event = if delivery.event.is_empty() {
            "(no event)".to_owned()
        } else {
            delivery.event
        };
        view! {
            <li class="delivery">
                <div class="delivery-head">
                    <span class="delivery-outcome">{outcome_label(delivery.outcome)}</span>
                    <strong class="delivery-event">{event}</strong>
                    {api_time(&delivery.received)}
                </div>
                <p class="delivery-message">{delivery.message}</p>
                {(!started.is_empty()).then(|| view! {
                    <ul class="delivery-deployments" aria-label="Deployments started">
                        {started.into_iter().map(|link| match link {
                            Ok(link) => view! { <li><A href=link.href>{link.text}</A></li> }.into_any(),
                            Err(id) => view! { <li><code>{id}</code></li> }.into_any(),
                        }).collect_view()}
                    </ul>
                })}
            </li>
        }
    };

    view! {
        {move || secret.get().map(|value| view! {
            <div class="field secret-once" role="group" aria-label="New webhook secret">
                <label for="webhook-secret">"Webhook secret"</label>
                <p class="field-hint" id="webhook-secret-hint">{COPY_NOW}</p>
                <div class="list-row-controls">
                    <input id="webhook-secret" type="text" readonly autocomplete="off" spellcheck="false"
                        aria-describedby="webhook-secret-hint" prop:value=value />
                    <button type="button" class="button secondary" on:click=copy>"Copy secret"</button>
                </div>
                <p class="status" role="status">{move || copied.get().then_some("Copied.")}</p>
            </div>
        })}
        {move || generate_error().map(|message| view! { <p class="alert" role="alert">{message}</p> })}
        {move || match loaded.get() {
            None => loading("webhook"),
            Some(Err(failure)) => load_failed("webhook", &failure),
            Some(Ok((webhook, links))) => {
                let empty = webhook.deliveries.is_empty();
                view! {
                    {settings(&webhook)}
                    <div class="deliveries-head">
                        <h3 id="deliveries-heading">"Recent deliveries"</h3>
                        <button type="button" class="button secondary" on:click=move |_| refresh.update(|n| *n += 1)>
                            "Refresh deliveries"
                        </button>
                    </div>
                    {empty.then(|| view! { <p class="section-hint">"No deliveries yet."</p> })}
                    <ul class="deliveries" aria-labelledby="deliveries-heading">
                        {webhook.deliveries.into_iter().map(|d| delivery_view(d, &links)).collect_view()}
                    </ul>
                }.into_any()
            }
        }}
    }
}

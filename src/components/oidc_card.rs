//! The card that makes the "Fetch credentials via OIDC" step stand out in a deployment's log.

use keyless_api_types::ExplainRequest;
use keyless_api_types::oidc_log::{FailureEvent, GrantEvent, TokenEvent};
use keyless_api_types::stack::StackRef;
use leptos::prelude::*;

use super::ExplainTrust;
use crate::components::LiveLog;
use crate::log::oidc::{self, OidcStep};
use crate::time::{format_duration, format_local, local_offset_minutes, now_ms, parse_rfc3339_ms};

/// A countdown to an RFC 3339 time: "expires in 59m 12s", or "expired".
fn countdown(until: &str, now: i64) -> String {
    match oidc::millis_left(until, now) {
        Some(left) if left > 0 => format!("expires in {}", format_duration(left)),
        Some(_) => "expired".to_owned(),
        None => String::new(),
    }
}

/// The exact local time of an RFC 3339 time: a countdown's hover, as [`super::RelativeTime`]'s.
fn exact(at: &str) -> Option<String> {
    parse_rfc3339_ms(at).map(|ms| format_local(ms, local_offset_minutes(ms)))
}

/// The "Fetch credentials via OIDC" step at a glance: the clouds, the identity each granted and
/// its session's expiry counting down, the token's decoded claims — or the cloud's refusal,
/// explained.
#[component]
pub fn OidcCard(
    /// The deployment's log, read as it grows.
    log: LiveLog,
    /// The deployment's stack, for explaining a refusal.
    #[prop(into)]
    stack: Signal<Option<StackRef>>,
) -> impl IntoView {
    let step = Memo::new(move |_| {
        log.revision.track();
        log.with(|text| OidcStep::from_events(text.oidc_events()))
    });
    let now = RwSignal::new(now_ms());
    crate::load::every(1_000, move || now.set(now_ms()));
    move || {
        step.get().map(|step: OidcStep| {
            let OidcStep { token, grants, failure } = step;
            view! {
                <section class="card oidc-card" aria-labelledby="oidc-card-heading">
                    <h2 id="oidc-card-heading">"Credentials via OIDC"</h2>
                    {failure.map(|failure| view! { <FailureNote failure token=token.clone() stack /> })}
                    {grants.into_iter().map(|grant| view! { <GrantNote grant now /> }).collect_view()}
                    {token.map(|token| view! { <TokenNote token now /> })}
                </section>
            }
        })
    }
}

/// The deployment's token: subject, issuer, expiry, decoded claims and header.
#[component]
fn TokenNote(
    /// The minted token, decoded.
    token: TokenEvent,
    /// Now, in milliseconds since the epoch.
    now: RwSignal<i64>,
) -> impl IntoView {
    let TokenEvent {
        issuer,
        subject,
        audience,
        expires_at,
        header,
        claims,
    } = token;
    let until = expires_at.clone();
    view! {
        <h3>"The deployment's token"</h3>
        <dl class="details">
            <dt>"Subject"</dt><dd><code>{subject}</code></dd>
            <dt>"Audience"</dt><dd><code>{audience}</code></dd>
            <dt>"Issuer"</dt><dd><code>{issuer}</code></dd>
            <dt>"Token expiry"</dt>
            <dd>
                <time datetime=expires_at.clone() title=exact(&expires_at)>
                    {move || countdown(&until, now.get())}
                </time>
            </dd>
        </dl>
        <table class="claims">
            <caption>"Decoded claims (the signature is never shown)"</caption>
            <thead><tr><th scope="col">"Claim"</th><th scope="col">"Value"</th></tr></thead>
            <tbody>
                {claims.into_iter().map(|(name, value)| {
                    let shown = oidc::show_claim(&name, &value);
                    view! { <tr><th scope="row"><code>{name}</code></th><td><code>{shown}</code></td></tr> }
                }).collect_view()}
            </tbody>
        </table>
        <details>
            <summary>"Token header"</summary>
            <dl class="details">
                {header.into_iter().map(|(name, value)| view! {
                    <dt><code>{name}</code></dt><dd><code>{oidc::show_claim("", &value)}</code></dd>
                }).collect_view()}
            </dl>
        </details>
    }
}

/// What one cloud granted, with its session's expiry counting down.
#[component]
fn GrantNote(
    /// The grant.
    grant: GrantEvent,
    /// Now, in milliseconds since the epoch.
    now: RwSignal<i64>,
) -> impl IntoView {
    let GrantEvent {
        cloud,
        identity,
        expires_at,
        variables,
        details,
    } = grant;
    let until = expires_at.clone();
    view! {
        <div class="grant">
            <h3>{cloud.name()}</h3>
            <dl class="details">
                <dt>"Identity"</dt>
                <dd><code>{identity}</code></dd>
                <dt>"Session"</dt>
                <dd>
                    <strong>
                        <time datetime=expires_at.clone() title=exact(&expires_at)>
                            {move || countdown(&until, now.get())}
                        </time>
                    </strong>
                </dd>
                <dt>"Variables set"</dt>
                <dd>{variables.join(", ")}</dd>
                {details.into_iter().map(|(name, value)| view! { <dt>{name}</dt><dd><code>{value}</code></dd> }).collect_view()}
            </dl>
        </div>
    }
}

/// A refusal: the cloud's words, its code and what to change, then the explainer for it.
#[component]
fn FailureNote(
    /// The refusal.
    failure: FailureEvent,
    /// The token the cloud refused, when its marker was read.
    token: Option<TokenEvent>,
    /// The deployment's stack.
    stack: Signal<Option<StackRef>>,
) -> impl IntoView {
    let FailureEvent {
        cloud,
        code,
        message,
        explanation,
        presented,
    } = failure;
    let title = match cloud {
        Some(cloud) => format!("{cloud} did not grant credentials"),
        None => "The exchange failed".to_owned(),
    };
    let shown = format!(
        "iss {}, aud {}, sub {}",
        presented.iss, presented.aud, presented.sub
    );
    let claims =
        move || oidc::explain_claims(token.as_ref(), &presented, (now_ms() / 1_000) as u64);
    view! {
        <div class="alert oidc-failure" role="alert">
            <p class="alert-title">{title}</p>
            <p><strong>"What to do: "</strong>{explanation}</p>
            <dl class="details">
                <dt>"The cloud said"</dt>
                <dd>{message}</dd>
                {code.map(|c| view! { <dt>"Error code"</dt><dd><code>{c}</code></dd> })}
                <dt>"Presented"</dt>
                <dd><code>{shown}</code></dd>
            </dl>
        </div>
        {cloud.map(|cloud| {
            let explain = move |trust| {
                stack.get_untracked().map(|stack| {
                    let request = ExplainRequest {
                        cloud,
                        claims: Some(claims()),
                        operation: None,
                        trust,
                        settings: None,
                    };
                    (stack, request)
                })
            };
            view! {
                <ExplainTrust summary="Explain this failure" id="explain-failure-trust"
                    label="Paste your trust configuration (JSON)" text=RwSignal::new(String::new())
                    request=explain />
            }
        })}
    }
}

use leptos::prelude::*;

use crate::components::LiveLog;
use crate::log::oidc::{self, Failure, Grant, OidcStep, STEP_NAME};
use crate::time::{format_duration, now_ms};

/// A countdown to an RFC 3339 time: "expires in 59m 12s", or "expired".
fn countdown(until: &str, now: i64) -> String {
    match oidc::millis_left(until, now) {
        Some(left) if left > 0 => format!("expires in {}", format_duration(left)),
        Some(_) => "expired".to_owned(),
        None => String::new(),
    }
}

/// The "Fetch credentials via OIDC" step at a glance: the clouds, the identity each granted and
/// its session's expiry counting down, the token's decoded claims — or the cloud's refusal,
/// explained.
#[component]
pub fn OidcCard(
    /// The deployment's log, read as it grows.
    log: LiveLog,
) -> impl IntoView {
    let step = Memo::new(move |_| {
        log.revision.track();
        log.with(|text| {
            let index = text.steps().iter().position(|s| s.name == STEP_NAME)?;
            let info = &text.steps()[index];
            let lines = info.first_line as usize..(info.first_line + info.line_count) as usize;
            let parsed = oidc::parse(lines.map(|line| text.line(line)));
            Some(parsed)
        })
    });
    let now = RwSignal::new(now_ms());
    crate::load::every(1_000, move || now.set(now_ms()));
    move || {
        step.get().map(|step: OidcStep| {
            let OidcStep { subject, issuer, header, claims, token_expires, grants, failure } = step;
            view! {
                <section class="card oidc-card" aria-labelledby="oidc-card-heading">
                    <h2 id="oidc-card-heading">"Credentials via OIDC"</h2>
                    {failure.map(|failure| view! { <FailureNote failure /> })}
                    {grants.into_iter().map(|grant| view! { <GrantNote grant now /> }).collect_view()}
                    <h3>"The deployment's token"</h3>
                    <dl class="details">
                        {subject.map(|s| view! { <dt>"Subject"</dt><dd><code>{s}</code></dd> })}
                        {issuer.map(|s| view! { <dt>"Issuer"</dt><dd><code>{s}</code></dd> })}
                        {token_expires.map(|at| {
                            let shown = at.clone();
                            view! {
                                <dt>"Token expiry"</dt>
                                <dd>{shown}" · "{move || countdown(&at, now.get())}</dd>
                            }
                        })}
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
                </section>
            }
        })
    }
}

/// What one cloud granted, with its session's expiry counting down.
#[component]
fn GrantNote(
    /// The grant.
    grant: Grant,
    /// Now, in milliseconds since the epoch.
    now: RwSignal<i64>,
) -> impl IntoView {
    let Grant {
        cloud,
        request,
        identity,
        valid_until,
        variables,
        details,
    } = grant;
    let until = valid_until.clone();
    view! {
        <div class="grant">
            <h3>{cloud}</h3>
            {request.map(|r| view! { <p class="muted">{r}</p> })}
            <dl class="details">
                <dt>"Identity"</dt>
                <dd><code>{identity}</code></dd>
                <dt>"Session"</dt>
                <dd>"valid until "{valid_until}" · "<strong>{move || countdown(&until, now.get())}</strong></dd>
                <dt>"Variables set"</dt>
                <dd>{variables.join(", ")}</dd>
                {details.into_iter().map(|(name, value)| view! { <dt>{name}</dt><dd><code>{value}</code></dd> }).collect_view()}
            </dl>
        </div>
    }
}

/// A cloud's refusal: its words, its code and what to change.
#[component]
fn FailureNote(
    /// The refusal.
    failure: Failure,
) -> impl IntoView {
    let Failure {
        cloud,
        request,
        code,
        message,
        advice,
    } = failure;
    view! {
        <div class="alert oidc-failure" role="alert">
            <p class="alert-title">{format!("{cloud} did not grant credentials")}</p>
            {advice.map(|a| view! { <p><strong>"What to do: "</strong>{a}</p> })}
            <dl class="details">
                {request.map(|r| view! { <dt>"Asked for"</dt><dd>{r}</dd> })}
                <dt>"The cloud said"</dt>
                <dd>{message}</dd>
                {code.map(|c| view! { <dt>"Error code"</dt><dd><code>{c}</code></dd> })}
            </dl>
        </div>
    }
}

use keyless_api_types::ExplainRequest;
use keyless_api_types::oidc_log::{FailureEvent, GrantEvent, TokenEvent};
use keyless_api_types::stack::StackRef;
use leptos::prelude::*;

use super::VerdictView;
use crate::api::ApiFailure;
use crate::components::LiveLog;
use crate::log::oidc::{self, OidcStep};
use crate::session::use_session;
use crate::time::{format_duration, now_ms};
use crate::trust_view::{Verdict, cloud_name, parse_pasted};

/// A countdown to an RFC 3339 time: "expires in 59m 12s", or "expired".
fn countdown(until: &str, now: i64) -> String {
    match oidc::millis_left(until, now) {
        Some(left) if left > 0 => format!("expires in {}", format_duration(left)),
        Some(_) => "expired".to_owned(),
        None => String::new(),
    }
}

/// What a failed explain call says beside the pasted configuration: the message for the
/// field at fault (`trust` or `claims`) when there is one.
fn explain_error(failure: &ApiFailure) -> String {
    match failure {
        ApiFailure::Api(error) => error
            .message_for("trust")
            .or_else(|| error.message_for("claims"))
            .unwrap_or(&error.message)
            .to_owned(),
        ApiFailure::Network(_) => failure.to_string(),
    }
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
            <dd>{expires_at}" · "{move || countdown(&until, now.get())}</dd>
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
            <h3>{cloud_name(cloud.as_str()).to_owned()}</h3>
            <dl class="details">
                <dt>"Identity"</dt>
                <dd><code>{identity}</code></dd>
                <dt>"Session"</dt>
                <dd>"valid until "{expires_at}" · "<strong>{move || countdown(&until, now.get())}</strong></dd>
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
        Some(cloud) => format!("{} did not grant credentials", cloud_name(cloud.as_str())),
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
            view! { <ExplainFailure explain /> }
        })}
    }
}

/// "Explain this failure": pasted trust configuration judged against the presented claims.
#[component]
fn ExplainFailure(
    /// The request for pasted trust; `None` without a stack.
    explain: impl Fn(serde_json::Value) -> Option<(StackRef, ExplainRequest)> + 'static,
) -> impl IntoView {
    let session = use_session();
    let text = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let action = Action::new_local(move |(stack, request): &(StackRef, ExplainRequest)| {
        let (client, stack, request) = (session.client(), stack.clone(), request.clone());
        async move { client.explain_oidc(&stack, &request).await }
    });
    Effect::new(move |_| {
        if let Some(Err(failure)) = action.value().get() {
            error.set(Some(explain_error(&failure)));
        }
    });
    let on_explain = move |_| match parse_pasted(&text.get_untracked()) {
        Ok(Some(trust)) => {
            error.set(None);
            if let Some(request) = explain(trust) {
                action.dispatch(request);
            }
        }
        Ok(None) => error.set(Some("Paste the configuration first.".to_owned())),
        Err(reason) => error.set(Some(reason)),
    };
    let verdict = move || {
        action
            .value()
            .get()
            .and_then(Result::ok)
            .and_then(|value| Verdict::from_json(&value))
    };
    view! {
        <details class="pasted-trust explain-failure">
            <summary>"Explain this failure"</summary>
            <label for="explain-failure-trust">"Paste your trust configuration (JSON)"</label>
            <textarea id="explain-failure-trust" rows="8" spellcheck="false"
                aria-invalid=move || error.read().is_some().then_some("true")
                aria-describedby=move || error.read().is_some().then_some("explain-failure-error")
                prop:value=move || text.get()
                on:input=move |event| {
                    text.set(event_target_value(&event));
                    error.set(None);
                }></textarea>
            {move || error.get().map(|message| view! {
                <p class="field-error" id="explain-failure-error" role="alert">{message}</p>
            })}
            <button type="button" class="button" on:click=on_explain disabled=move || action.pending().get()>
                "Explain"
            </button>
            {move || verdict().map(|verdict| view! { <VerdictView verdict /> })}
        </details>
    }
}

#[cfg(test)]
mod tests {
    use keyless_api_types::{ApiError, ErrorDetail, ErrorType};

    use super::*;

    #[test]
    fn explain_errors_name_the_field_at_fault() {
        let mut error = ApiError {
            code: 400,
            message: "Bad request".into(),
            errors: Vec::new(),
        };
        assert_eq!(
            explain_error(&ApiFailure::Api(error.clone())),
            "Bad request"
        );
        error.errors.push(ErrorDetail {
            resource: "ExplainRequest".into(),
            attribute: "trust".into(),
            error_type: ErrorType::Invalid,
            custom_message: "the trust policy has no Statement".into(),
        });
        assert_eq!(
            explain_error(&ApiFailure::Api(error)),
            "the trust policy has no Statement"
        );
        assert!(explain_error(&ApiFailure::Network("offline".into())).contains("offline"));
    }
}

//! "Test OIDC": a token minted with a deployment's real claims, exchanged with each cloud.

use keyless_api_types::stack::StackRef;
use keyless_api_types::trust::{Explained, Verdict};
use keyless_api_types::{
    Cloud, CloudResult, ExplainRequest, OidcConfig, OidcTestRequest, OidcTestRun, PastedTrust,
    PerCloud, PulumiOperation,
};
use leptos::prelude::*;
use serde_json::Value;

use super::{ExplainTrust, OperationSelect};
use crate::api::ApiFailure;
use crate::load::every;
use crate::session::use_session;
use crate::time::{now_ms, parse_rfc3339_ms};
use crate::trust_view::{claim_rows, countdown, parse_pasted, too_many_tests};

/// What a failed call tells the admin.
fn failure_text(failure: &ApiFailure) -> String {
    match failure {
        ApiFailure::Throttled {
            error,
            retry_after_seconds,
        } => too_many_tests(*retry_after_seconds, &error.message),
        ApiFailure::Api(error) if error.code == 403 => {
            "Only organization admins can test OIDC.".to_owned()
        }
        ApiFailure::Api(error) => error
            .errors
            .first()
            .map_or_else(|| error.message.clone(), |e| e.custom_message.clone()),
        ApiFailure::Network(_) => failure.to_string(),
    }
}

/// "Test OIDC" (admins only): mints a token with the real claims of the chosen operation, runs
/// the exchange with every enabled cloud using the form's current settings, and shows each
/// outcome with the token's decoded claims. Pasted trust configuration per cloud explains a
/// refusal, or is judged alone with "Explain".
#[component]
pub fn OidcTest(
    /// The stack tested.
    #[prop(into)]
    stack: Signal<StackRef>,
    /// The form's OIDC block when it validates; `None` while it has errors.
    #[prop(into)]
    oidc: Signal<Option<OidcConfig>>,
    /// The operation whose claims the token carries.
    operation: RwSignal<PulumiOperation>,
) -> impl IntoView {
    let session = use_session();
    let is_admin = Signal::derive(move || session.is_admin_of(&stack.read().org));
    let pasted = PerCloud::new(|_| RwSignal::new(String::new()));
    let problem = RwSignal::new(None::<String>);

    let run = Action::new_local(move |request: &OidcTestRequest| {
        let request = request.clone();
        let client = session.client();
        let stack = stack.get_untracked();
        async move { client.test_oidc(&stack, &request).await }
    });
    let running = run.pending();
    let start = move |_| {
        let Some(settings) = oidc.get_untracked() else {
            problem.set(Some("Fix the errors above before testing.".to_owned()));
            return;
        };
        let mut trust = PastedTrust::default();
        for (cloud, text) in pasted.iter() {
            match parse_pasted(&text.get_untracked()) {
                Ok(value) => trust.set(cloud, value),
                Err(reason) => {
                    problem.set(Some(format!("The pasted {cloud} trust: {reason}")));
                    return;
                }
            }
        }
        problem.set(None);
        run.dispatch(OidcTestRequest {
            operation: operation.get_untracked(),
            settings: Some(settings),
            trust,
        });
    };

    let clouds = Memo::new(move |_| {
        oidc.read()
            .as_ref()
            .map(|oidc| oidc.clouds().collect::<Vec<_>>())
            .unwrap_or_default()
    });
    let paste_view = move || {
        clouds
            .get()
            .into_iter()
            .map(|cloud| view! { <PastedTrustField stack oidc operation cloud text=pasted[cloud] /> })
            .collect_view()
    };

    view! {
        <Show when=move || is_admin.get()>
            <section class="oidc-test" aria-labelledby="oidc-test-heading">
                <h4 id="oidc-test-heading">"Test OIDC"</h4>
                <p class="section-hint">
                    "Mints a token with the real claims of a deployment of this stack and exchanges it with each cloud, using the settings above (saved or not). No deployment runs."
                </p>
                <div class="oidc-test-controls">
                    <OperationSelect id="oidc-test-operation" operation />
                    <button type="button" class="button" on:click=start disabled=move || running.get()>
                        "Test OIDC"
                    </button>
                </div>
                {paste_view}
                <div role="status" aria-live="polite" class="oidc-test-status">
                    {move || running.get().then_some("Testing the exchange with each cloud…")}
                </div>
                {move || problem.get().map(|message| view! { <p class="alert" role="alert">{message}</p> })}
                {move || match run.value().get() {
                    None => None,
                    Some(Err(failure)) => Some(view! {
                        <p class="alert" role="alert">{failure_text(&failure)}</p>
                    }.into_any()),
                    Some(Ok(outcome)) => Some(view! { <OidcTestOutcome run=outcome /> }.into_any()),
                }}
            </section>
        </Show>
    }
}

/// One "Test OIDC" run: each cloud's outcome, then the token's decoded claims.
#[component]
pub fn OidcTestOutcome(
    /// The run, as the API answered it.
    run: OidcTestRun,
) -> impl IntoView {
    view! {
        <div class="oidc-test-outcome">
            <ul class="cloud-results">
                {run.results.into_iter().map(|result| view! { <CloudOutcome result /> }).collect_view()}
            </ul>
            <ClaimsTable claims=run.claims />
        </div>
    }
}

/// What one cloud answered: the identity and a countdown to its expiry, or the cloud's error
/// with what to change and, with pasted trust, the explainer's verdict.
#[component]
fn CloudOutcome(
    /// The cloud's result.
    result: CloudResult,
) -> impl IntoView {
    let name = result.cloud.name();
    if result.success {
        let expires = result.expires_at.as_deref().and_then(parse_rfc3339_ms);
        let now = RwSignal::new(now_ms());
        every(1_000, move || now.set(now_ms()));
        let left = move || expires.map(|at| countdown((at - now.get()) / 1_000));
        return view! {
            <li class="cloud-result success">
                <strong>{format!("{name}: credentials obtained")}</strong>
                <p>"Identity: " <code>{result.identity.unwrap_or_default()}</code></p>
                <p class="expiry">{left}</p>
            </li>
        }
        .into_any();
    }
    let verdict = result.verdict.clone();
    view! {
        <li class="cloud-result failure">
            <strong>{format!("{name}: refused")}</strong>
            <p>
                {result.code.map(|code| view! { <code>{code}</code> " " })}
                {result.message.unwrap_or_default()}
            </p>
            {result.explanation.map(|text| view! { <p class="explanation">{text}</p> })}
            {verdict.map(|verdict| view! { <VerdictView verdict /> })}
        </li>
    }
    .into_any()
}

/// The explainer's verdict on pasted trust.
#[component]
pub fn VerdictView(
    /// What the explainer concluded.
    verdict: Explained,
) -> impl IntoView {
    match verdict {
        Explained::Verdict(Verdict::Accepted { matched }) => view! {
            <div class="verdict accepted">
                <strong>"Accepted"</strong>
                <p>{format!("Matched: {matched}")}</p>
            </div>
        }
        .into_any(),
        Explained::Verdict(Verdict::Rejected {
            condition,
            reason,
            hint,
        }) => view! {
            <div class="verdict rejected">
                <strong>"Rejected"</strong>
                <dl class="facts">
                    <dt>"Condition"</dt>
                    <dd><code>{condition}</code></dd>
                    <dt>"Reason"</dt>
                    <dd>{reason}</dd>
                    <dt>"Hint"</dt>
                    <dd>{hint}</dd>
                </dl>
            </div>
        }
        .into_any(),
        Explained::Unjudged(why) => view! {
            <div class="verdict unjudged">
                <strong>"Could not judge the pasted configuration"</strong>
                <p>{why.to_string()}</p>
            </div>
        }
        .into_any(),
    }
}

/// A token's decoded claims (the payload; never the token) as a compact table.
#[component]
fn ClaimsTable(
    /// The claims object.
    claims: Value,
) -> impl IntoView {
    let rows = claim_rows(&claims);
    (!rows.is_empty()).then(|| {
        view! {
            <table class="claims">
                <caption>"The test token's claims"</caption>
                <thead><tr><th scope="col">"Claim"</th><th scope="col">"Value"</th></tr></thead>
                <tbody>
                    {rows
                        .into_iter()
                        .map(|(name, value)| view! {
                            <tr><th scope="row"><code>{name}</code></th><td><code>{value}</code></td></tr>
                        })
                        .collect_view()}
                </tbody>
            </table>
        }
    })
}

/// "Paste your trust configuration" for one cloud: JSON sent with the next test so a refusal
/// comes with a verdict, or judged alone with "Explain" (no exchange runs).
#[component]
fn PastedTrustField(
    /// The stack whose token is judged.
    #[prop(into)]
    stack: Signal<StackRef>,
    /// The form's OIDC block when it validates.
    #[prop(into)]
    oidc: Signal<Option<OidcConfig>>,
    /// The operation whose claims are judged.
    operation: RwSignal<PulumiOperation>,
    /// The cloud the configuration is for.
    cloud: Cloud,
    /// The pasted text.
    text: RwSignal<String>,
) -> impl IntoView {
    let hint = match cloud {
        Cloud::Aws => "The role's trust policy, or the output of `aws iam get-role`.",
        Cloud::Azure => {
            "The app's federated credentials, as `az ad app federated-credential list` prints them."
        }
        Cloud::Gcp => {
            r#"{ "provider": <the provider, as `gcloud … providers describe --format=json` prints it>, "policy": <the service account's IAM policy> }"#
        }
    };
    let request = move |trust: Value| {
        let request = ExplainRequest {
            cloud,
            claims: None,
            operation: Some(operation.get_untracked()),
            trust,
            settings: oidc.get_untracked(),
        };
        Some((stack.get_untracked(), request))
    };
    let summary = format!("Paste your {cloud} trust configuration");
    view! {
        <ExplainTrust summary id=format!("pasted-trust-{}", cloud.key())
            label="Trust configuration (JSON)" hint text request />
    }
}

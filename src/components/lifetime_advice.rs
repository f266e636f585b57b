//! The lifetime advisor's warnings beside the Deploy panel's session lifetimes.

use keyless_api_types::stack::StackRef;
use keyless_api_types::{Cloud, PulumiOperation};
use leptos::prelude::*;

use crate::load::load;
use crate::session::use_session;
use crate::time::format_duration;

/// The lifetime advisor: warns when the saved AWS session duration or Google token lifetime is
/// shorter than the p95 duration of this stack's recent successful runs of `operation`.
#[component]
pub fn LifetimeAdvice(
    /// The stack whose runs are measured.
    #[prop(into)]
    stack: Signal<StackRef>,
    /// The operation whose runs are measured.
    #[prop(into)]
    operation: Signal<PulumiOperation>,
) -> impl IntoView {
    let session = use_session();
    let advice = load(move || {
        let (stack, operation) = (stack.get(), operation.get());
        let client = session.client();
        async move { client.oidc_lifetime(&stack, operation).await }
    });
    let field = |cloud| match cloud {
        Cloud::Aws => "AWS Session Duration",
        Cloud::Gcp => "Google Cloud Session Duration",
        Cloud::Azure => "Session lifetime",
    };
    view! {
        <div class="lifetime-advice" aria-live="polite">
            // No saved OIDC settings (404) or no answer: nothing to advise.
            {move || advice.get().and_then(Result::ok).map(|advice| {
                let measured = advice.p95_seconds.map(|p95| format!(
                    "Recent successful {} runs of this stack take up to {} (p95 of {}).",
                    advice.operation.as_str(),
                    format_duration(i64::try_from(p95).unwrap_or(i64::MAX).saturating_mul(1_000)),
                    advice.samples,
                ));
                view! {
                    <p class="field-hint">{measured}</p>
                    <ul class="notes">
                        {advice.warnings.into_iter().map(|warning| view! {
                            <li class="note note-warning">
                                <span class="note-level">{format!("{}: ", field(warning.cloud))}</span>
                                {warning.text}
                            </li>
                        }).collect_view()}
                    </ul>
                }
            })}
        </div>
    }
}

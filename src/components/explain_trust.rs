//! "Explain": pasted trust configuration judged against a token's claims. The disclosure is
//! part of the page; what it holds arrives as a module of its own when it is first opened.

use std::sync::Arc;

use keyless_api_types::ExplainRequest;
use keyless_api_types::stack::StackRef;
use keyless_api_types::trust::Explained;
use leptos::prelude::*;
use serde_json::Value;

use super::VerdictView;
use crate::api::ApiFailure;
use crate::lazy::lazy_part_with;
use crate::session::use_session;
use crate::trust_view::parse_pasted;

/// What a failed explain call says beside the pasted configuration: the message for the
/// field at fault (`trust` or `claims`) when there is one.
fn explain_error(failure: &ApiFailure) -> String {
    match failure {
        ApiFailure::Api(error) | ApiFailure::Throttled { error, .. } => error
            .message_for("trust")
            .or_else(|| error.message_for("claims"))
            .unwrap_or(&error.message)
            .to_owned(),
        ApiFailure::Network(_) => failure.to_string(),
    }
}

/// Builds the explain request for pasted trust; `None` when it cannot be made yet.
type MakeRequest = Arc<dyn Fn(Value) -> Option<(StackRef, ExplainRequest)> + Send + Sync>;

/// What [`ExplainTrust`] hands its body, which arrives as a part of its own ([`crate::lazy`]).
#[derive(Clone)]
pub struct ExplainInputs {
    label: String,
    id: String,
    hint: Option<String>,
    text: RwSignal<String>,
    request: MakeRequest,
}

/// A disclosure where the admin pastes a cloud's trust configuration and has the server judge
/// it against a token's claims: Accepted (what matched) or Rejected (the condition, why, and
/// what to change). Used by "Test OIDC" and by a refused "Fetch credentials via OIDC" step.
#[component]
pub fn ExplainTrust(
    /// The disclosure's summary line.
    #[prop(into)]
    summary: String,
    /// The textarea's label.
    #[prop(into)]
    label: String,
    /// The textarea's id; its error message's id is `<id>-error`.
    #[prop(into)]
    id: String,
    /// What to paste, shown under the label.
    #[prop(optional, into)]
    hint: Option<String>,
    /// The pasted text (owned by the caller, which may send it elsewhere too).
    text: RwSignal<String>,
    /// Builds the explain request for pasted trust; `None` when it cannot be made yet.
    request: impl Fn(Value) -> Option<(StackRef, ExplainRequest)> + Send + Sync + 'static,
) -> impl IntoView {
    let inputs = ExplainInputs {
        label,
        id,
        hint,
        text,
        request: Arc::new(request),
    };
    let opened = RwSignal::new(false);
    view! {
        <details class="pasted-trust" on:toggle=move |_| opened.set(true)>
            <summary>{summary}</summary>
            <Show when=move || opened.get()>
                {lazy_part_with(inputs.clone(), |parts| parts.explain_trust, "explainer")}
            </Show>
        </details>
    }
}

/// The inside of an [`ExplainTrust`] disclosure, for the [`ExplainInputs`] in context.
#[component]
pub fn ExplainTrustPart() -> impl IntoView {
    let ExplainInputs {
        label,
        id,
        hint,
        text,
        request,
    } = expect_context();
    let session = use_session();
    let error_id = format!("{id}-error");
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
            if let Some(request) = request(trust) {
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
            .map(Explained::Verdict)
    };
    let described_by = error_id.clone();
    view! {
        <label for=id.clone()>{label}</label>
        {hint.map(|hint| view! { <p class="field-hint">{hint}</p> })}
        <textarea id=id rows="8" spellcheck="false"
            aria-invalid=move || error.read().is_some().then_some("true")
            aria-describedby=move || error.read().is_some().then(|| described_by.clone())
            prop:value=move || text.get()
            on:input=move |event| {
                text.set(event_target_value(&event));
                error.set(None);
            }></textarea>
        {move || error.get().map(|message| view! {
            <p class="field-error" id=error_id.clone() role="alert">{message}</p>
        })}
        <button type="button" class="button" on:click=on_explain disabled=move || action.pending().get()>
            "Explain"
        </button>
        {move || verdict().map(|verdict| view! { <VerdictView verdict /> })}
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

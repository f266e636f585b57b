//! The OIDC setup assistant under the Deploy panel's OpenID Connect section.

use keyless_api_types::stack::StackRef;
use keyless_api_types::{OidcConfig, PulumiOperation};
use leptos::prelude::*;
use serde_json::Value;

use super::{LifetimeAdvice, OidcTest, TrustSetup};
use crate::deploy_form::DeployForm;

/// The OIDC setup assistant under the Deploy panel's "OpenID Connect" section, shown while a
/// cloud is switched on: the trust each enabled cloud needs ("Set up trust"), the lifetime
/// advice and, for admins, "Test OIDC" — all for the form's current values, with one operation
/// shared between them.
#[component]
pub fn OidcAssistant(
    /// The stack being configured.
    #[prop(into)]
    stack: Signal<StackRef>,
    /// The form as the admin has filled it in.
    #[prop(into)]
    form: Signal<DeployForm>,
    /// The settings as last loaded or saved.
    #[prop(into)]
    loaded: Signal<Value>,
) -> impl IntoView {
    // The form's OIDC block, once its OIDC fields validate.
    let oidc = Memo::new(move |_| {
        let form = form.read();
        let errors = form.validate(&stack.read(), &loaded.read());
        errors
            .fields
            .keys()
            .all(|field| field.cloud().is_none())
            .then(|| form.oidc())
    });
    let saved = Memo::new(move |_| {
        DeployForm::from_json(&loaded.read())
            .map(|f| f.oidc())
            .unwrap_or_default()
    });
    let changed = Signal::derive(move || oidc.read().as_ref() != Some(&*saved.read()));
    let valid: Signal<Option<OidcConfig>> = oidc.into();
    let operation = RwSignal::new(PulumiOperation::Update);

    view! {
        <div class="oidc-assistant">
            <TrustSetup stack oidc=valid changed operation />
            <LifetimeAdvice stack operation />
            <OidcTest stack oidc=valid operation />
        </div>
    }
}

/// What the Deploy panel hands the assistant, which it loads as a part of its own
/// ([`crate::lazy`]).
#[derive(Clone, Copy)]
pub struct AssistantInputs {
    pub stack: Signal<StackRef>,
    pub form: Signal<DeployForm>,
    pub loaded: Signal<Value>,
}

/// The [`OidcAssistant`] for the [`AssistantInputs`] in context.
#[component]
pub fn OidcAssistantPart() -> impl IntoView {
    let AssistantInputs {
        stack,
        form,
        loaded,
    } = expect_context();
    view! { <OidcAssistant stack form loaded /> }
}

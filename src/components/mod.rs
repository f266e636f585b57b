//! Reusable UI pieces, one component per concept.

mod copy_button;
mod explain_trust;
mod github_webhook;
mod lifetime_advice;
mod list_field;
mod log_viewer;
mod oidc_assistant;
mod oidc_card;
mod oidc_test;
mod operation_select;
mod page_title;
mod relative_time;
mod status_badge;
mod switch;
mod tabs;
mod text_field;
mod trigger;
mod trust_setup;

pub use copy_button::CopyButton;
pub use explain_trust::{ExplainTrust, ExplainTrustPart};
pub use github_webhook::{COPY_NOW, GitHubWebhook, WebhookOrg, WebhookPart, WebhookSection};
pub use lifetime_advice::LifetimeAdvice;
pub use list_field::ListField;
pub use log_viewer::{LiveLog, LogViewer};
pub use oidc_assistant::{AssistantInputs, OidcAssistant, OidcAssistantPart};
pub use oidc_card::OidcCard;
pub use oidc_test::{OidcTest, OidcTestOutcome, VerdictView};
pub use operation_select::OperationSelect;
pub use page_title::PageTitle;
pub use relative_time::{RelativeTime, api_time};
pub use status_badge::{StatusBadge, status_label};
pub use switch::Switch;
pub use tabs::{Tab, TabNav};
pub use text_field::TextField;
pub use trigger::{Trigger, TriggerText, trigger_text};
pub use trust_setup::{CodeBlock, NoteList, ScopePicker, TrustConfigView, TrustSetup};

/// Moves keyboard focus to the element with `id`, when it is on the page.
pub fn focus_by_id(id: &str) {
    use leptos::wasm_bindgen::JsCast;
    if let Some(element) = leptos::prelude::document()
        .get_element_by_id(id)
        .and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok())
    {
        let _ = element.focus();
    }
}

//! Parts of a page that are wasm modules of their own, fetched when the part is first shown,
//! so that a page's first visit downloads only what it shows at once: the log viewer of
//! `/logs/open`, and under Settings → Deploy the OIDC assistant and the GitHub webhook.
//!
//! Each part's split function lives here, in the main module, and pages reach it through
//! [`LazyParts`] in context: called from a page's own (split) module, the part's loader import
//! would stay unresolved in unsplit builds (the browser tests'), and naming the part's
//! component there would put it back in the page's module. A part reads its inputs from a
//! context its page provides.

use std::future::Future;
use std::pin::Pin;

use leptos::prelude::*;
use leptos::wasm_split::wasm_split;
use send_wrapper::SendWrapper;

use crate::components::{OidcAssistantPart, WebhookPart};
use crate::load::loading;
use crate::pages::log_file::LogFileViewer;

/// A part's view, once its module has arrived.
type PartFuture = Pin<Box<dyn Future<Output = AnyView>>>;

/// The lazily loaded parts, by what shows them.
#[derive(Clone, Copy)]
pub struct LazyParts {
    /// `/logs/open`'s viewer, once a file is chosen.
    pub log_file_viewer: fn() -> PartFuture,
    /// "Set up trust", the lifetime advice and "Test OIDC", once a cloud is switched on.
    pub oidc_assistant: fn() -> PartFuture,
    /// The organization's GitHub webhook, for admins.
    pub github_webhook: fn() -> PartFuture,
}

impl LazyParts {
    /// Each part from its own module, as the app provides them.
    pub fn split() -> Self {
        Self {
            log_file_viewer: || Box::pin(log_file_viewer()),
            oidc_assistant: || Box::pin(oidc_assistant()),
            github_webhook: || Box::pin(github_webhook()),
        }
    }

    /// Each part rendered in place, for builds that are not split: the browser tests, which
    /// mount pages without the app (there a split function's loader is an unresolved import).
    pub fn in_place() -> Self {
        Self {
            log_file_viewer: || Box::pin(async { view! { <LogFileViewer /> }.into_any() }),
            oidc_assistant: || Box::pin(async { view! { <OidcAssistantPart /> }.into_any() }),
            github_webhook: || Box::pin(async { view! { <WebhookPart /> }.into_any() }),
        }
    }
}

/// Shows the part `pick` chooses once its module has loaded, "Loading the {what}…" until then.
pub fn lazy_part(pick: fn(&LazyParts) -> fn() -> PartFuture, what: &'static str) -> impl IntoView {
    let load = pick(&expect_context::<LazyParts>());
    view! {
        <Suspense fallback=move || loading(what)>
            {Suspend::new(SendWrapper::new(load()))}
        </Suspense>
    }
}

#[wasm_split(log_file_viewer, wasm_split_path = ::leptos::wasm_split)]
fn log_file_viewer() -> AnyView {
    view! { <LogFileViewer /> }.into_any()
}

#[wasm_split(oidc_assistant, wasm_split_path = ::leptos::wasm_split)]
fn oidc_assistant() -> AnyView {
    view! { <OidcAssistantPart /> }.into_any()
}

#[wasm_split(github_webhook, wasm_split_path = ::leptos::wasm_split)]
fn github_webhook() -> AnyView {
    view! { <WebhookPart /> }.into_any()
}

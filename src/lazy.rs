//! Parts of a page that are wasm modules of their own, fetched when the part is first shown,
//! so that a page's first visit downloads only what it shows at once: the log viewer of
//! `/logs/open`, under Settings → Deploy the OIDC assistant and the GitHub webhook, and the
//! trust explainer of a refused OIDC step and of "Test OIDC".
//!
//! Each part's split function lives here, in the main module, and pages reach it through
//! [`LazyParts`] in context: called from a page's own (split) module, the part's loader import
//! would stay unresolved in unsplit builds (the browser tests'), and naming the part's
//! component there would put it back in the page's module. A part reads its inputs from a
//! context its page provides, or [`lazy_part_with`] provides for it.

use std::future::Future;
use std::pin::Pin;

use leptos::prelude::*;
use leptos::tachys::reactive_graph::OwnedView;
use leptos::wasm_split::wasm_split;
use send_wrapper::SendWrapper;

use crate::components::{ExplainTrustPart, OidcAssistantPart, WebhookPart};
use crate::load::loading;
use crate::pages::log_file::LogFileViewer;

/// A part's view, once its module has arrived.
type PartFuture = Pin<Box<dyn Future<Output = AnyView>>>;

/// The lazily loaded parts, by what shows them.
#[derive(Clone, Copy)]
pub struct LazyParts {
    /// `/logs/open`'s viewer, once a file is chosen.
    pub log_file_viewer: fn() -> PartFuture,
    /// "Set up trust", the lifetime advice and "Test OIDC", once a cloud is switched on or the
    /// admin asks for them.
    pub oidc_assistant: fn() -> PartFuture,
    /// The organization's GitHub webhook, for admins, once they open it.
    pub github_webhook: fn() -> PartFuture,
    /// The trust explainer, once its disclosure is opened.
    pub explain_trust: fn() -> PartFuture,
}

impl LazyParts {
    /// Each part from its own module, as the app provides them.
    pub fn split() -> Self {
        Self {
            log_file_viewer: || Box::pin(log_file_viewer()),
            oidc_assistant: || Box::pin(oidc_assistant()),
            github_webhook: || Box::pin(github_webhook()),
            explain_trust: || Box::pin(explain_trust()),
        }
    }

    /// Each part rendered in place, for builds that are not split: the browser tests, which
    /// mount pages without the app (there a split function's loader is an unresolved import).
    pub fn in_place() -> Self {
        Self {
            log_file_viewer: || Box::pin(async { view! { <LogFileViewer /> }.into_any() }),
            oidc_assistant: || Box::pin(async { view! { <OidcAssistantPart /> }.into_any() }),
            github_webhook: || Box::pin(async { view! { <WebhookPart /> }.into_any() }),
            explain_trust: || Box::pin(async { view! { <ExplainTrustPart /> }.into_any() }),
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

/// [`lazy_part`] with `inputs` in a context of the part's own: for a part shown more than once
/// on a page, each with its inputs.
pub fn lazy_part_with<T: Send + Sync + 'static>(
    inputs: T,
    pick: fn(&LazyParts) -> fn() -> PartFuture,
    what: &'static str,
) -> impl IntoView {
    let owner = Owner::new();
    let view = owner.with(|| {
        provide_context(inputs);
        lazy_part(pick, what)
    });
    OwnedView::new_with_owner(view, owner)
}

/// A part offered behind a button labelled `label` until `open` is set (by the button, or by
/// the page), then `children`: what arrives as a module of its own is fetched only if wanted.
#[component]
pub fn OnRequest(open: RwSignal<bool>, label: &'static str, children: ChildrenFn) -> impl IntoView {
    view! {
        <Show
            when=move || open.get()
            fallback=move || view! {
                <button type="button" class="button secondary" aria-expanded="false" on:click=move |_| open.set(true)>
                    {label}
                </button>
            }
        >
            {children()}
        </Show>
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

#[wasm_split(explain_trust, wasm_split_path = ::leptos::wasm_split)]
fn explain_trust() -> AnyView {
    view! { <ExplainTrustPart /> }.into_any()
}

//! A copy button that says whether the text reached the clipboard.

use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::clipboard;

/// A button that copies a text to the clipboard and announces "Copied" (or why it could not)
/// in a polite live region beside it.
#[component]
pub fn CopyButton(
    /// What to copy.
    #[prop(into)]
    text: Signal<String>,
    /// The button's accessible name, e.g. "Copy the trust policy".
    #[prop(into)]
    label: String,
) -> impl IntoView {
    let announced = RwSignal::new(None::<&'static str>);
    let copy = move |_| {
        let text = text.get_untracked();
        spawn_local(async move {
            let outcome = if clipboard::copy(&text).await {
                "Copied"
            } else {
                "Could not copy: select the text and copy it instead."
            };
            announced.set(Some(outcome));
        });
    };
    view! {
        <span class="copy">
            <button type="button" class="button small" aria-label=label on:click=copy>"Copy"</button>
            <span class="copy-status" role="status" aria-live="polite">{move || announced.get()}</span>
        </span>
    }
}

use leptos::prelude::*;
use leptos::task::spawn_local;
use wasm_bindgen_futures::JsFuture;

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
        let promise = window()
            .navigator()
            .clipboard()
            .write_text(&text.get_untracked());
        spawn_local(async move {
            let outcome = match JsFuture::from(promise).await {
                Ok(_) => "Copied",
                Err(_) => "Could not copy: select the text and copy it instead.",
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

//! The document title of the page on screen.

use leptos::prelude::*;

/// Sets the document title to `text` followed by the app's name, for as long as it is mounted.
#[component]
pub fn PageTitle(
    /// What the page shows, e.g. "Stacks".
    #[prop(into)]
    text: Signal<String>,
) -> impl IntoView {
    Effect::new(move |_| document().set_title(&format!("{} · Keyless", text.get())));
}

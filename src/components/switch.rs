//! An accessible on/off switch (the per-cloud OIDC toggles).

use leptos::prelude::*;
use web_sys::KeyboardEvent;

/// An on/off switch: a `<button role="switch">` whose visible text is its label. It flips on
/// click, Space and Enter, and reports the new state through `on_change`.
#[component]
pub fn Switch(
    /// The visible label, which is also the switch's accessible name.
    #[prop(into)]
    label: Signal<String>,
    /// Whether the switch is on.
    #[prop(into)]
    checked: Signal<bool>,
    /// Called with the new state when the user flips the switch.
    #[prop(into)]
    on_change: Callback<bool>,
    /// Whether the switch only shows its state (read-only).
    #[prop(into, optional)]
    disabled: Signal<bool>,
) -> impl IntoView {
    let flip = move || {
        if !disabled.get_untracked() {
            on_change.run(!checked.get_untracked());
        }
    };
    view! {
        <button
            type="button"
            role="switch"
            class="switch"
            aria-checked=move || if checked.get() { "true" } else { "false" }
            disabled=move || disabled.get()
            on:click=move |_| flip()
            on:keydown=move |event: KeyboardEvent| {
                // Handled here (and the browser's own click suppressed) so that both keys
                // behave the same everywhere.
                if matches!(event.key().as_str(), " " | "Enter") {
                    event.prevent_default();
                    flip();
                }
            }
        >
            <span class="switch-track" aria-hidden="true">
                <span class="switch-thumb"></span>
            </span>
            <span class="switch-label">{move || label.get()}</span>
        </button>
    }
}

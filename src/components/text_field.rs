//! A labelled, accessible text input with its hint, note and error.

use leptos::prelude::*;

/// A labelled text input with an optional hint, a live note and an error message, each linked
/// to the input through `aria-describedby`; an error also sets `aria-invalid`.
#[component]
pub fn TextField(
    /// The input's element id; the ids of its hint, note and error derive from it.
    #[prop(into)]
    id: String,
    /// The visible label.
    #[prop(into)]
    label: Signal<String>,
    /// The current value.
    #[prop(into)]
    value: Signal<String>,
    /// Called with the new value on every edit.
    #[prop(into)]
    on_input: Callback<String>,
    /// The message to show when the value is not valid.
    #[prop(into, optional)]
    error: MaybeProp<String>,
    /// Help shown under the label, e.g. the expected format.
    #[prop(into, optional)]
    hint: MaybeProp<String>,
    /// Extra information derived from the value, shown under the input.
    #[prop(into, optional)]
    note: MaybeProp<String>,
    /// An example value shown while the input is empty.
    #[prop(into, optional)]
    placeholder: MaybeProp<String>,
    /// Whether the input is read-only.
    #[prop(into, optional)]
    disabled: Signal<bool>,
    /// The input type, `text` unless set (e.g. `password`).
    #[prop(optional)]
    input_type: Option<&'static str>,
    /// The `autocomplete` hint, `off` unless set.
    #[prop(optional)]
    autocomplete: Option<&'static str>,
    /// Whether an error is announced as soon as it appears (`role="alert"`), for forms that
    /// show it only after submitting.
    #[prop(optional)]
    announce_error: bool,
) -> impl IntoView {
    let hint_id = format!("{id}-hint");
    let note_id = format!("{id}-note");
    let error_id = format!("{id}-error");
    let described_by = {
        let (hint_id, note_id, error_id) = (hint_id.clone(), note_id.clone(), error_id.clone());
        move || {
            let ids: Vec<&str> = [
                (hint.read().is_some(), hint_id.as_str()),
                (note.read().is_some(), note_id.as_str()),
                (error.read().is_some(), error_id.as_str()),
            ]
            .into_iter()
            .filter_map(|(present, id)| present.then_some(id))
            .collect();
            (!ids.is_empty()).then(|| ids.join(" "))
        }
    };
    view! {
        <div class="field" class:has-error=move || error.read().is_some()>
            <label for=id.clone()>{move || label.get()}</label>
            {move || hint.get().map(|text| view! { <p class="field-hint" id=hint_id.clone()>{text}</p> })}
            <input
                id=id
                type=input_type.unwrap_or("text")
                autocomplete=autocomplete.unwrap_or("off")
                spellcheck="false"
                prop:value=move || value.get()
                placeholder=move || placeholder.get()
                disabled=move || disabled.get()
                aria-invalid=move || error.read().is_some().then_some("true")
                aria-describedby=described_by
                on:input=move |event| on_input.run(event_target_value(&event))
            />
            {move || note.get().map(|text| view! { <p class="field-note" id=note_id.clone()>{text}</p> })}
            {move || error.get().map(|text| view! {
                <p class="field-error" id=error_id.clone() role=announce_error.then_some("alert")>
                    {text}
                </p>
            })}
        </div>
    }
}

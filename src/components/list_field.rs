//! An editable list of text values, one labelled input per row.

use leptos::prelude::*;

use super::focus_by_id;

/// An editable list of text values (e.g. policy ARNs): a fieldset whose rows each have their
/// own label, input, error and Remove button, plus an Add button.
#[component]
pub fn ListField(
    /// The id prefix: row `i`'s input is `{id}-{i}`.
    #[prop(into)]
    id: String,
    /// The visible name of the whole list (the fieldset's legend).
    #[prop(into)]
    label: Signal<String>,
    /// The name of one row; rows are labelled "{item_label} 1", "{item_label} 2", ….
    #[prop(into)]
    item_label: Signal<String>,
    /// The rows' values.
    #[prop(into)]
    items: Signal<Vec<String>>,
    /// Called with a row's index and new value on every edit.
    #[prop(into)]
    on_input: Callback<(usize, String)>,
    /// Called when the user adds an empty row at the end.
    #[prop(into)]
    on_add: Callback<()>,
    /// Called with a row's index when the user removes it.
    #[prop(into)]
    on_remove: Callback<usize>,
    /// The error message of a row, by index.
    #[prop(into, optional)]
    row_error: Option<Callback<usize, Option<String>>>,
    /// A message about the list as a whole.
    #[prop(into, optional)]
    error: MaybeProp<String>,
    /// Help shown under the legend.
    #[prop(into, optional)]
    hint: MaybeProp<String>,
    /// An example value shown in empty rows.
    #[prop(into, optional)]
    placeholder: MaybeProp<String>,
    /// Whether the list is read-only.
    #[prop(into, optional)]
    disabled: Signal<bool>,
) -> impl IntoView {
    let hint_id = format!("{id}-hint");
    let error_id = format!("{id}-error");
    let add_id = format!("{id}-add");
    let list_error_id = error_id.clone();
    let row_label = move |i: usize| format!("{} {}", item_label.get(), i + 1);
    let row_error = move |i: usize| row_error.and_then(|f| f.run(i));
    let row = {
        let (id, hint_id) = (id.clone(), hint_id.clone());
        move |i: usize| {
            let input_id = format!("{id}-{i}");
            let row_error_id = format!("{input_id}-error");
            let described_by = {
                let (hint_id, row_error_id) = (hint_id.clone(), row_error_id.clone());
                move || {
                    let mut ids = Vec::new();
                    if hint.read().is_some() {
                        ids.push(hint_id.clone());
                    }
                    if row_error(i).is_some() {
                        ids.push(row_error_id.clone());
                    }
                    (!ids.is_empty()).then(|| ids.join(" "))
                }
            };
            view! {
                <li class="list-row" class:has-error=move || row_error(i).is_some()>
                    <label class="visually-hidden" for=input_id.clone()>{move || row_label(i)}</label>
                    <div class="list-row-controls">
                        <input
                            id=input_id
                            type="text"
                            autocomplete="off"
                            spellcheck="false"
                            prop:value=move || items.read().get(i).cloned().unwrap_or_default()
                            placeholder=move || placeholder.get()
                            disabled=move || disabled.get()
                            aria-invalid=move || row_error(i).is_some().then_some("true")
                            aria-describedby=described_by
                            on:input=move |event| on_input.run((i, event_target_value(&event)))
                        />
                        <button
                            type="button"
                            class="button secondary"
                            aria-label=move || format!("Remove {}", row_label(i))
                            disabled=move || disabled.get()
                            on:click={
                                let add_id = format!("{id}-add");
                                move |_| {
                                    on_remove.run(i);
                                    focus_by_id(&add_id);
                                }
                            }
                        >
                            "Remove"
                        </button>
                    </div>
                    {move || row_error(i).map(|text| view! {
                        <p class="field-error" id=row_error_id.clone()>{text}</p>
                    })}
                </li>
            }
        }
    };
    // The rows are built again only when their number changes (typing into one keeps it):
    // `<For>` would do the same for a row's index as its key, with kilobytes more wasm.
    let count = Memo::new(move |_| items.read().len());
    let add = {
        let id = id.clone();
        move |_| {
            let new_row = format!("{id}-{}", items.read_untracked().len());
            on_add.run(());
            request_animation_frame(move || focus_by_id(&new_row));
        }
    };
    view! {
        <fieldset
            class="field list-field"
            class:has-error=move || error.read().is_some()
            aria-describedby=move || error.read().is_some().then(|| list_error_id.clone())
        >
            <legend>{move || label.get()}</legend>
            {move || hint.get().map(|text| view! { <p class="field-hint" id=hint_id.clone()>{text}</p> })}
            <ul class="list-rows">
                {move || (0..count.get()).map(row.clone()).collect_view()}
            </ul>
            {move || error.get().map(|text| view! { <p class="field-error" id=error_id.clone()>{text}</p> })}
            <button type="button" class="button secondary add-row" id=add_id disabled=move || disabled.get() on:click=add>
                {move || format!("Add {}", item_label.get())}
            </button>
        </fieldset>
    }
}

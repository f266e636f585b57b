//! Choosing a pulumi operation.

use keyless_api_types::PulumiOperation;
use leptos::prelude::*;

/// A labelled select of the pulumi operations, bound to `operation`.
#[component]
pub fn OperationSelect(
    /// The select's element id.
    #[prop(into)]
    id: String,
    /// The operation selected; the select writes to it.
    operation: RwSignal<PulumiOperation>,
    /// Whether the select is disabled.
    #[prop(into, optional)]
    disabled: Signal<bool>,
) -> impl IntoView {
    view! {
        <span class="operation-select">
            <label for=id.clone()>"Operation"</label>
            <select id=id disabled=move || disabled.get()
                on:change=move |event| {
                    if let Some(picked) = PulumiOperation::parse(&event_target_value(&event)) {
                        operation.set(picked);
                    }
                }>
                {PulumiOperation::ALL
                    .map(|op| view! {
                        <option value=op.as_str() prop:selected=move || operation.get() == op>{op.as_str()}</option>
                    })
                    .into_iter()
                    .collect_view()}
            </select>
        </span>
    }
}

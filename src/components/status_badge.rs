//! Statuses of deployments, jobs and steps, as words and badges.

use leptos::prelude::*;

/// The word shown for a deployment's, job's or step's wire status.
pub fn status_label(status: &str) -> &'static str {
    match status {
        "not-started" => "Queued",
        "accepted" => "Accepted",
        "running" => "Running",
        "failed" => "Failed",
        "succeeded" => "Succeeded",
        "skipped" => "Skipped",
        _ => "Unknown",
    }
}

/// A deployment's or step's status as a coloured badge with its word (colour is never the only
/// cue).
#[component]
pub fn StatusBadge(
    /// The wire status, e.g. `running` or `not-started`.
    #[prop(into)]
    status: Signal<&'static str>,
) -> impl IntoView {
    view! {
        <span class=move || format!("badge status-{}", status.get())>
            {move || status_label(status.get())}
        </span>
    }
}

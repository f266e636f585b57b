//! The page for addresses that match no route.

use leptos::prelude::*;

use crate::components::PageTitle;
use crate::router::A;

/// Shown for addresses that match no page.
#[component]
pub fn NotFoundPage() -> impl IntoView {
    view! {
        <PageTitle text="Page not found" />
        <section class="empty-state">
            <h1>"Page not found"</h1>
            <p>"There is nothing at this address. It may have moved, or the link may be mistyped."</p>
            <p>
                <A href="/stacks">"Go to your stacks"</A>
            </p>
        </section>
    }
}

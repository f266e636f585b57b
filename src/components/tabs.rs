//! Navigation tabs between the pages of one stack.

use leptos::prelude::*;

use crate::router::A;

/// One tab of a [`TabNav`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Tab {
    /// The visible name.
    pub label: &'static str,
    /// Where the tab leads.
    pub href: String,
    /// Whether the tab is current only on exactly `href` (else on `href` and below it).
    pub exact: bool,
}

/// Navigation tabs: links between the pages of one thing, the current one marked with
/// `aria-current="page"`.
#[component]
pub fn TabNav(
    /// The accessible name of the navigation, e.g. "Stack".
    #[prop(into)]
    label: String,
    /// The tabs, in order.
    #[prop(into)]
    tabs: Signal<Vec<Tab>>,
    /// Extra class for the layout (`tabs` or `subnav`).
    #[prop(into, optional)]
    variant: Option<&'static str>,
) -> impl IntoView {
    view! {
        <nav aria-label=label class=variant.unwrap_or("tabs")>
            <ul>
                {move || {
                    tabs.get()
                        .into_iter()
                        .map(|tab| view! {
                            <li>
                                <A href=tab.href exact=tab.exact>
                                    {tab.label}
                                </A>
                            </li>
                        })
                        .collect_view()
                }}
            </ul>
        </nav>
    }
}

//! A time as the console shows every time: relative, with the exact local time on hover.

use leptos::prelude::*;

use crate::load::every;
use crate::time::{
    format_local, format_relative, format_rfc3339_ms, local_offset_minutes, now_ms,
    parse_rfc3339_ms,
};

/// `ms` (since the Unix epoch) as `3 min ago`, kept current; `title` holds the exact local time
/// and `datetime` the machine-readable one.
#[component]
pub fn RelativeTime(
    /// The time, in milliseconds since the Unix epoch.
    ms: i64,
) -> impl IntoView {
    let now = RwSignal::new(now_ms());
    // The coarsest unit shown is a minute: refreshing more often would change nothing.
    every(30_000, move || now.set(now_ms()));
    let offset = local_offset_minutes(ms);
    view! {
        <time datetime=format_rfc3339_ms(ms) title=format_local(ms, offset)>
            {move || format_relative(ms, now.get(), offset)}
        </time>
    }
}

/// An RFC 3339 time from the API as a [`RelativeTime`]; shown as written if it does not parse.
pub fn api_time(text: &str) -> AnyView {
    match parse_rfc3339_ms(text) {
        Some(ms) => view! { <RelativeTime ms /> }.into_any(),
        None => view! { <time>{text.to_owned()}</time> }.into_any(),
    }
}

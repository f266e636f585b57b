//! `/tokens`: the signed-in user's access tokens — make one (its value shown this once), see
//! when each was made, last used and expires, and delete one.

use keyless_api_types::tokens::{self as rules, AccessToken, CreateAccessTokenRequest};
use leptos::prelude::*;

use crate::components::{COPY_NOW, CopyButton, PageTitle, RelativeTime, TextField, api_time};
use crate::load::{load_failed, load_live, loading};
use crate::session::use_session;
use crate::time::now_ms;

/// The lifetimes offered for a new token, in days (`None`: never expires), with their labels.
pub const LIFETIMES: &[(Option<i64>, &str)] = &[
    (Some(30), "30 days"),
    (Some(90), "90 days"),
    (Some(365), "365 days"),
    (None, "Never"),
];

/// The `expires` to send for a token made at `now` (Unix seconds) that lives `days`.
pub fn expires_at(days: Option<i64>, now: i64) -> i64 {
    days.map_or(0, |days| now + days * 86_400)
}

/// A Unix time from the API (0: none) as the console shows it.
fn unix_time(seconds: i64, none: &'static str) -> AnyView {
    if seconds == 0 {
        none.into_any()
    } else {
        view! { <RelativeTime ms=seconds * 1_000 /> }.into_any()
    }
}

/// A token just made: what it is for and its value.
#[derive(Clone)]
struct Made {
    description: String,
    value: String,
}

/// The access tokens page.
#[component]
pub fn TokensPage() -> impl IntoView {
    let session = use_session();
    let refresh = RwSignal::new(0_u32);
    let tokens = load_live(move || {
        refresh.track();
        let client = session.client();
        async move { client.access_tokens().await }
    });

    let description = RwSignal::new(String::new());
    // Errors show once the user has tried to submit, not while they start typing.
    let submitted = RwSignal::new(false);
    let lifetime = RwSignal::new(1_usize);
    let description_error = move || {
        submitted
            .get()
            .then(|| rules::description(&description.read()).err())
            .flatten()
            .map(|message| format!("The description {message}."))
    };
    let made = RwSignal::new(None::<Made>);
    let create = Action::new_local(move |request: &CreateAccessTokenRequest| {
        let client = session.client();
        let request = request.clone();
        async move {
            let answer = client.create_access_token(&request).await?;
            made.set(Some(Made {
                description: request.description,
                value: answer.token_value,
            }));
            description.set(String::new());
            submitted.set(false);
            refresh.update(|n| *n += 1);
            Ok(())
        }
    });
    let creating = create.pending();
    let create_error = move || {
        create
            .value()
            .get()
            .and_then(Result::err)
            .map(|failure: crate::api::ApiFailure| format!("The token was not created. {failure}"))
    };
    let on_submit = move |event: leptos::ev::SubmitEvent| {
        event.prevent_default();
        submitted.set(true);
        if rules::description(&description.get_untracked()).is_err() {
            crate::components::focus_by_id("token-description");
            return;
        }
        let days = LIFETIMES
            .get(lifetime.get_untracked())
            .and_then(|(days, _)| *days);
        create.dispatch(CreateAccessTokenRequest {
            description: description.get_untracked(),
            expires: expires_at(days, now_ms().div_euclid(1_000)),
        });
    };

    let confirming = RwSignal::new(None::<String>);
    let delete = Action::new_local(move |id: &String| {
        let client = session.client();
        let id = id.clone();
        async move {
            client.delete_access_token(&id).await?;
            confirming.set(None);
            refresh.update(|n| *n += 1);
            Ok(())
        }
    });
    let deleting = delete.pending();
    let delete_error = move || {
        delete
            .value()
            .get()
            .and_then(Result::err)
            .map(|failure: crate::api::ApiFailure| format!("The token was not deleted. {failure}"))
    };

    let row = move |token: AccessToken| {
        let id = token.id.clone();
        let asking = {
            let id = id.clone();
            move || confirming.read().as_deref() == Some(id.as_str())
        };
        let delete_label = format!("Delete {}", token.description);
        view! {
            <tr>
                <td class="token-description">{token.description.clone()}</td>
                <td>{api_time(&token.created)}</td>
                <td>{unix_time(token.last_used, "never")}</td>
                <td>{unix_time(token.expires, "never")}</td>
                <td class="token-actions">
                    <Show
                        when=asking
                        fallback={
                            let id = id.clone();
                            let delete_label = delete_label.clone();
                            move || {
                                let id = id.clone();
                                view! {
                                    <button
                                        type="button"
                                        class="button secondary small"
                                        aria-label=delete_label.clone()
                                        on:click=move |_| confirming.set(Some(id.clone()))
                                    >
                                        "Delete"
                                    </button>
                                }
                            }
                        }
                    >
                        <div class="token-confirm" role="group" aria-label="Confirm deletion">
                            <span>"Requests made with this token will be refused."</span>
                            <button
                                type="button"
                                class="button danger small"
                                disabled=move || deleting.get()
                                on:click={
                                    let id = id.clone();
                                    move |_| {
                                        delete.dispatch(id.clone());
                                    }
                                }
                            >
                                "Delete token"
                            </button>
                            <button
                                type="button"
                                class="button secondary small"
                                on:click=move |_| confirming.set(None)
                            >
                                "Cancel"
                            </button>
                        </div>
                    </Show>
                </td>
            </tr>
        }
    };

    view! {
        <PageTitle text="Access tokens" />
        <div class="page-header">
            <h1>"Access tokens"</h1>
        </div>
        <p class="section-hint">
            "An access token signs in the console, the Pulumi CLI or a script as you: send it as "
            <code>"Authorization: token <value>"</code> "."
        </p>
        <section class="panel" aria-labelledby="new-token-heading">
            <h2 id="new-token-heading">"New token"</h2>
            <form on:submit=on_submit novalidate>
                <TextField
                    id="token-description"
                    label="Description"
                    hint="What the token is for, e.g. the machine or pipeline that will use it."
                    value=description
                    on_input=Callback::new(move |text| description.set(text))
                    error=Signal::derive(description_error)
                    announce_error=true
                />
                <div class="field">
                    <label for="token-lifetime">"Expires"</label>
                    <select
                        id="token-lifetime"
                        on:change=move |event| {
                            if let Ok(index) = event_target_value(&event).parse() {
                                lifetime.set(index);
                            }
                        }
                    >
                        {LIFETIMES
                            .iter()
                            .enumerate()
                            .map(|(index, (days, label))| {
                                let text = if days.is_some() {
                                    format!("In {label}")
                                } else {
                                    (*label).to_owned()
                                };
                                view! {
                                    <option value=index.to_string() selected=move || lifetime.get() == index>
                                        {text}
                                    </option>
                                }
                            })
                            .collect_view()}
                    </select>
                </div>
                <div class="form-actions">
                    <button type="submit" class="button primary" disabled=move || creating.get()>
                        "Create token"
                    </button>
                </div>
            </form>
            {move || create_error().map(|message| view! { <p class="alert" role="alert">{message}</p> })}
            {move || made.get().map(|made| {
                let value = made.value.clone();
                view! {
                    <div class="field secret-once new-token" role="group" aria-label="New access token">
                        <label for="new-token-value">{format!("Access token “{}”", made.description)}</label>
                        <p class="field-hint" id="new-token-hint">{COPY_NOW}</p>
                        <div class="list-row-controls">
                            <input
                                id="new-token-value"
                                type="text"
                                readonly
                                autocomplete="off"
                                spellcheck="false"
                                aria-describedby="new-token-hint"
                                prop:value=made.value
                            />
                            <CopyButton text=value label="Copy the access token" />
                        </div>
                    </div>
                }
            })}
        </section>
        <section class="panel" aria-labelledby="tokens-heading">
            <h2 id="tokens-heading">"Your tokens"</h2>
            {move || delete_error().map(|message| view! { <p class="alert" role="alert">{message}</p> })}
            {move || match tokens.get() {
                None => loading("tokens"),
                Some(Err(failure)) => load_failed("tokens", &failure),
                Some(Ok(list)) if list.tokens.is_empty() => {
                    view! { <p class="muted">"No tokens yet."</p> }.into_any()
                }
                Some(Ok(list)) => view! {
                    <div class="table-scroll">
                        <table class="deployments tokens" aria-labelledby="tokens-heading">
                            <thead>
                                <tr>
                                    <th scope="col">"Description"</th>
                                    <th scope="col">"Created"</th>
                                    <th scope="col">"Last used"</th>
                                    <th scope="col">"Expires"</th>
                                    <th scope="col"><span class="visually-hidden">"Actions"</span></th>
                                </tr>
                            </thead>
                            <tbody>{list.tokens.into_iter().map(row).collect_view()}</tbody>
                        </table>
                    </div>
                }
                .into_any(),
            }}
        </section>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lifetimes_become_unix_expiries() {
        assert_eq!(expires_at(None, 1_000), 0);
        assert_eq!(expires_at(Some(30), 1_000), 1_000 + 30 * 86_400);
        let days: Vec<_> = LIFETIMES.iter().map(|(days, _)| *days).collect();
        assert_eq!(days, [Some(30), Some(90), Some(365), None]);
    }
}

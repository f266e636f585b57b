//! Signing in with an access token.

use leptos::prelude::*;
use web_sys::SubmitEvent;

use crate::api::{ApiFailure, Client, config_error};
use crate::components::{PageTitle, TextField};
use crate::router::use_location;
use crate::session::{after_sign_in, use_session};

/// Sign in with an access token, checked against `GET /api/user`; afterwards goes on to the
/// page that asked for it (`?next=`) or to the stacks. A `config.json` the console cannot use
/// is shown here, since no sign-in can work without it.
#[component]
pub fn SignInPage() -> impl IntoView {
    let session = use_session();
    let location = use_location();
    let (token, set_token) = signal(String::new());

    let error = RwSignal::new(None::<String>);
    let sign_in = Action::new_local(move |token: &String| {
        let token = token.trim().to_owned();
        async move {
            match Client::new(token.clone(), None).user().await {
                Ok(user) => session.sign_in(token, user),
                Err(ApiFailure::Api(failure)) if failure.code == 401 => error.set(Some(
                    "That access token was not accepted. Check that you copied all of it and \
                     that it has not been revoked."
                        .to_owned(),
                )),
                Err(failure) => error.set(Some(failure.to_string())),
            }
        }
    });
    let pending = sign_in.pending();

    Effect::new(move |_| {
        if session.user.read().is_some() {
            let next = untrack(|| location.query("next"));
            location.replace(&after_sign_in(next.as_deref()));
        }
    });

    let on_submit = move |event: SubmitEvent| {
        event.prevent_default();
        if pending.get_untracked() {
            return;
        }
        if token.read_untracked().trim().is_empty() {
            error.set(Some("Enter an access token.".to_owned()));
        } else {
            error.set(None);
            sign_in.dispatch(token.get_untracked());
        }
    };

    view! {
        <PageTitle text="Sign in" />
        <section class="signin card">
            <h1>"Sign in to Keyless"</h1>
            <p class="lead">"Paste an access token to manage your stacks' deployment settings."</p>
            {config_error().map(|why| {
                view! {
                    <p class="alert" role="alert">
                        {why}
                        " Ask whoever deployed this console to fix it."
                    </p>
                }
            })}
            <form on:submit=on_submit novalidate>
                <TextField
                    id="access-token"
                    label="Access token"
                    input_type="password"
                    autocomplete="current-password"
                    value=token
                    on_input=Callback::new(move |value| {
                        set_token.set(value);
                        error.set(None);
                    })
                    hint="A personal or organization access token, e.g. pul-7d1c…"
                    error=error
                    announce_error=true
                />
                <button
                    type="submit"
                    class="button primary"
                    disabled=move || pending.get()
                >
                    {move || if pending.get() { "Signing in…" } else { "Sign in" }}
                </button>
                <p class="status" role="status" aria-live="polite">
                    {move || pending.get().then_some("Checking the access token…")}
                </p>
            </form>
        </section>
    }
}

//! Settings → Deploy: the stack's deployment settings, the agent pool that runs them, OpenID
//! Connect per cloud, push to deploy; editable by admins, read-only for members.

use keyless_api_types::Cloud;
use keyless_api_types::stack::StackRef;
use leptos::prelude::*;
use serde_json::Value;
use web_sys::SubmitEvent;

use crate::api::ApiFailure;
use crate::components::{
    AssistantInputs, ListField, PageTitle, Switch, TextField, WebhookSection, focus_by_id,
};
use crate::deploy_form::{CloudForm, DeployForm, Field, FieldErrors, FieldMessages, PushSwitch};
use crate::lazy::{OnRequest, lazy_part};
use crate::load::{load, load_failed, loading};
use crate::pages::stack::use_stack_ref;
use crate::session::use_session;
use crate::unsaved::UnsavedChanges;

/// Shown to organization members, who may look but not change.
pub const READ_ONLY_NOTICE: &str = "Only organization admins can change deployment settings.";

/// The agent pool choice that saves no `agentPoolID`.
pub const DEFAULT_AGENTS: &str = "This server's agents (default)";

/// Shown once the server has accepted the configuration.
pub const SAVED: &str = "Deployment configuration saved";

/// Opens the OIDC assistant when the panel was loaded with a cloud already on.
pub const SHOW_ASSISTANT: &str = "Set up trust and test OIDC";

/// Settings → Deploy: loads the stack's deployment settings and shows the [`DeploySettingsForm`],
/// editable for organization admins and read-only for members.
#[component]
pub fn DeploySettingsPage() -> impl IntoView {
    let session = use_session();
    let stack_ref = use_stack_ref();
    let settings = load(move || {
        let client = session.client();
        let stack_ref = stack_ref.get();
        // Only admins may list the organization's agent pools (and choose one). Read in the
        // same load as the settings: a load of its own costs this page kilobytes of wasm.
        let admin = stack_ref
            .as_ref()
            .is_some_and(|stack| session.is_admin_of(&stack.org));
        async move {
            let stack =
                stack_ref.ok_or_else(|| ApiFailure::Network("no stack in the address".into()))?;
            let settings = client.deployment_settings(&stack).await?;
            let pools = match admin {
                true => Some(client.agent_pool_names(&stack.org).await),
                false => None,
            };
            Ok((stack, settings, pools))
        }
    });
    let title = Signal::derive(move || match stack_ref.get() {
        Some(stack) => format!("Deploy settings · {stack}"),
        None => "Deploy settings".to_owned(),
    });
    view! {
        <PageTitle text=title />
        {move || match settings.get() {
            None => loading("deployment settings"),
            Some(Ok((stack, settings, agent_pools))) => {
                        let org = stack.org.clone();
                        let admin = session.is_admin_of(&org);
                        let read_only = Signal::derive(move || !session.is_admin_of(&org));
                        let webhook_org = stack.org.clone();
                        view! {
                            <DeploySettingsForm stack settings read_only agent_pools />
                            // Members may not see the secret or the deliveries (the API answers 403).
                            {admin.then(|| view! { <WebhookSection org=webhook_org /> })}
                        }
                        .into_any()
                    }
            Some(Err(failure)) => load_failed("deployment settings", &failure),
        }}
    }
}

/// The Deploy panel: the "OpenID Connect" switches and per-cloud forms and the "Push to deploy"
/// settings, validated as the admin types with the shared validators, saved as a minimal merge
/// patch.
///
/// Needs a [`crate::session::Session`] in context to save; asks before leaving with unsaved
/// changes when an [`UnsavedChanges`] is in context.
#[component]
pub fn DeploySettingsForm(
    /// The stack whose settings these are.
    #[prop(into)]
    stack: Signal<StackRef>,
    /// The settings as the API returned them (an empty object when the stack has none).
    settings: Value,
    /// Whether the user may only look (organization members).
    #[prop(into, optional)]
    read_only: Signal<bool>,
    /// The organization's agent pools as ids and names (or why they could not be read), for
    /// admins; without them the pool choice offers only this server's agents and the saved pool.
    #[prop(optional_no_strip)]
    agent_pools: Option<Result<Vec<(String, String)>, ApiFailure>>,
) -> impl IntoView {
    let session = use_session();
    let initial = DeployForm::from_json(&settings);
    let unreadable = initial.as_ref().err().cloned();
    let loaded = RwSignal::new(settings);
    let form = RwSignal::new(initial.unwrap_or_default());
    provide_context(AssistantInputs {
        stack,
        form: form.into(),
        loaded: loaded.into(),
    });
    // The fields edited since the last save: a handful, so a list (less wasm than a set).
    let touched = RwSignal::new(Vec::<Field>::new());
    let submitted = RwSignal::new(false);
    let server_errors = RwSignal::new(FieldErrors::default());
    let status = RwSignal::new(None::<&'static str>);
    // The OIDC assistant opens by itself when a cloud is switched on here; a panel loaded with
    // clouds already on, trusted and tested before, offers it (and fetches it) on request.
    let assistant_open = RwSignal::new(false);

    // Settings this console cannot read are never overwritten from it.
    let cannot_read = unreadable.is_some();
    let read_only = Signal::derive(move || read_only.get() || cannot_read);
    let errors = Memo::new(move |_| form.read().validate(&stack.read(), &loaded.read()));
    let dirty = Memo::new(move |_| form.read().patch(&loaded.read()).is_some());

    let save = Action::new_local(move |patch: &Value| {
        let patch = patch.clone();
        let client = session.client();
        let stack = stack.get_untracked();
        async move {
            match client.patch_deployment_settings(&stack, &patch).await {
                Ok(saved) => {
                    if let Ok(saved_form) = DeployForm::from_json(&saved) {
                        form.set(saved_form);
                    }
                    loaded.set(saved);
                    touched.set(Vec::new());
                    submitted.set(false);
                    server_errors.set(FieldErrors::default());
                    status.set(Some(SAVED));
                }
                Err(failure) => {
                    let errors = match &failure {
                        ApiFailure::Api(error) if error.code == 403 => FieldErrors {
                            other: vec![READ_ONLY_NOTICE.to_owned()],
                            ..FieldErrors::default()
                        },
                        ApiFailure::Api(error) | ApiFailure::Throttled { error, .. } => {
                            FieldErrors::from_api(error)
                        }
                        ApiFailure::Network(_) => FieldErrors {
                            other: vec![failure.to_string()],
                            ..FieldErrors::default()
                        },
                    };
                    if let Some(first) = errors.first_field() {
                        focus_by_id(&first.dom_id());
                    }
                    server_errors.set(errors);
                }
            }
        }
    });
    let saving = save.pending();
    let locked = Signal::derive(move || read_only.get() || saving.get());

    if let Some(unsaved) = use_context::<UnsavedChanges>() {
        Effect::new(move |_| unsaved.set(dirty.get() && !read_only.get()));
        on_cleanup(move || unsaved.set(false));
    }

    // A field's own error shows once it was edited, every error after a save attempt; the
    // server's verdict on a field shows until that field is edited again.
    let error_for = move |field: Field| -> Option<String> {
        let shown = submitted.get() || touched.read().contains(&field);
        shown
            .then(|| errors.read().get(field).map(str::to_owned))
            .flatten()
            .or_else(|| server_errors.read().get(field).map(str::to_owned))
    };
    let edited = move |field: Field| {
        touched.update(|t| {
            if !t.contains(&field) {
                t.push(field);
            }
        });
        server_errors.update(|e| e.fields.remove(field));
        status.set(None);
    };
    let edit = move |field: Field, value: String| {
        form.update(|f| f.set_text(field, value));
        edited(field);
    };
    let toggle = move |cloud: Cloud, on: bool| {
        form.update(|f| f.set_enabled(cloud, on));
        if on {
            assistant_open.set(true);
        }
        server_errors.update(|e| e.fields.retain(|(f, _)| f.cloud() != Some(cloud)));
        status.set(None);
    };
    let flip = move |switch: PushSwitch, on: bool| {
        form.update(|f| f.push.set_switch(switch, on));
        // Turning a trigger on can make the repository required.
        edited(Field::GitHubRepository);
    };

    // One input; lists (policy ARNs, paths, tag filters) get a row per value.
    let field_view = move |field: Field| {
        if field.is_list() {
            return view! {
                <ListField
                    id=field.dom_id()
                    label=field.label()
                    item_label=field.item_label()
                    items=Signal::derive(move || form.read().list(field).to_vec())
                    on_input=Callback::new(move |(i, value)| edit(field.nth(i), value))
                    on_add=Callback::new(move |()| {
                        form.update(|f| f.list_mut(field).into_iter().for_each(|rows| rows.push(String::new())));
                        status.set(None);
                    })
                    on_remove=Callback::new(move |i: usize| {
                        form.update(|f| {
                            if let Some(rows) = f.list_mut(field) {
                                rows.remove(i);
                            }
                        });
                        touched.update(|t| t.retain_mut(|f| match f.after_row_removed(field, i) {
                            Some(moved) => {
                                *f = moved;
                                true
                            }
                            None => false,
                        }));
                        // Rebuilt row by row: each message moves with its row.
                        server_errors.update(|e| {
                            let mut moved = FieldMessages::default();
                            for (f, m) in std::mem::take(&mut e.fields) {
                                if let Some(f) = f.after_row_removed(field, i) {
                                    moved.insert(f, m);
                                }
                            }
                            e.fields = moved;
                        });
                        edited(field);
                    })
                    row_error=Callback::new(move |i| error_for(field.nth(i)))
                    error=Signal::derive(move || error_for(field))
                    hint=field.hint()
                    placeholder=field.placeholder()
                    disabled=locked
                />
            }
            .into_any();
        }
        // Under Session Name: what it expands to for this stack.
        let note = Signal::derive(move || {
            (field == Field::AwsSessionName)
                .then(|| form.read().session_name_preview(&stack.read()))
                .flatten()
        });
        view! {
            <TextField
                id=field.dom_id()
                label=field.label()
                value=Signal::derive(move || form.read().text(field).to_owned())
                on_input=Callback::new(move |value| edit(field, value))
                error=Signal::derive(move || error_for(field))
                hint=field.hint()
                placeholder=field.placeholder()
                note
                disabled=locked
            />
        }
        .into_any()
    };
    // This server's agents, the organization's pools, and the saved pool even when it is not
    // among them (deleted with force, or pools unknown to a member).
    let pool_view = {
        let field = Field::AgentPool;
        let id = field.dom_id();
        let (hint_id, error_id) = (format!("{id}-hint"), format!("{id}-error"));
        // The error's id is named even while there is none: it is then skipped.
        let described_by = format!("{hint_id} {error_id}");
        let saved = form.read_untracked().agent_pool.clone();
        let saved_id = saved.clone();
        let (listed, unlisted) = match agent_pools {
            Some(Ok(pools)) => (Some(pools), None),
            Some(Err(failure)) => (
                None,
                Some(format!(
                    "The organization's agent pools could not be loaded. {failure}"
                )),
            ),
            None => (None, None),
        };
        let known = listed.is_some();
        let mut options = vec![(String::new(), DEFAULT_AGENTS.to_owned())];
        options.extend(listed.into_iter().flatten());
        if !saved.is_empty() && options.iter().all(|(id, _)| *id != saved) {
            let label = if known {
                format!("{saved} (no longer exists)")
            } else {
                format!("Agent pool {saved}")
            };
            options.push((saved, label));
        }
        // Chosen once, as loaded: afterwards the select holds the admin's choice, which the
        // form follows, and a save keeps it.
        let options = options
            .into_iter()
            .map(|(value, label)| {
                let chosen = value == saved_id;
                view! { <option value=value selected=chosen>{label}</option> }
            })
            .collect_view();
        view! {
            <div class="field">
                <label for=id.clone()>{field.label()}</label>
                <p class="field-hint" id=hint_id>{field.hint()}</p>
                <select
                    id=id
                    disabled=move || locked.get()
                    aria-invalid=move || error_for(field).is_some().then_some("true")
                    aria-describedby=described_by
                    on:change=move |event| edit(field, event_target_value(&event))
                >
                    {options}
                </select>
                {unlisted.map(|text| view! { <p class="field-note">{text}</p> })}
                {move || error_for(field).map(|text| view! { <p class="field-error" id=error_id.clone()>{text}</p> })}
            </div>
        }
    };
    let cloud_view = move |cloud: Cloud| {
        view! {
            <div class="cloud">
                <Switch
                    label=cloud.switch_label()
                    checked=Signal::derive(move || form.read().enabled(cloud))
                    on_change=Callback::new(move |on| toggle(cloud, on))
                    disabled=locked
                />
                <Show when=move || form.read().enabled(cloud)>
                    <div class="cloud-form" role="group" aria-label=cloud.name()>
                        {cloud.fields().iter().map(|field| field_view(*field)).collect_view()}
                    </div>
                </Show>
            </div>
        }
    };
    let switch_view = move |switch: PushSwitch| {
        view! {
            <Switch
                label=switch.label()
                checked=Signal::derive(move || form.read().push.switch(switch))
                on_change=Callback::new(move |on| flip(switch, on))
                disabled=locked
            />
        }
    };

    let on_submit = move |event: SubmitEvent| {
        event.prevent_default();
        if read_only.get_untracked() || saving.get_untracked() {
            return;
        }
        submitted.set(true);
        status.set(None);
        if let Some(first) = errors.read_untracked().first_field() {
            focus_by_id(&first.dom_id());
            return;
        }
        match form.read_untracked().patch(&loaded.read_untracked()) {
            Some(patch) => {
                save.dispatch(patch);
            }
            None => status.set(Some("There are no changes to save.")),
        }
    };

    // What stops the configuration from being saved, for the summary at the top: field
    // problems in display order, then the rest.
    let problems = move || {
        let mut fields = server_errors.read().fields.clone();
        if submitted.get() {
            fields.extend(errors.read().fields.clone());
        }
        (fields, server_errors.read().other.clone())
    };

    view! {
        <section class="panel" aria-labelledby="deploy-heading">
            <h2 id="deploy-heading">"Deploy"</h2>
            {move || read_only.get().then(|| view! { <p class="notice">{READ_ONLY_NOTICE}</p> })}
            {unreadable.map(|reason| view! { <p class="alert" role="alert">{reason}</p> })}
            <div role="alert" class="summary-region">
                {move || {
                    let (fields, other) = problems();
                    (!fields.is_empty() || !other.is_empty()).then(|| view! {
                        <div class="alert error-summary">
                            <p class="alert-title">"The deployment configuration was not saved."</p>
                            <ul>
                                {other.into_iter().map(|m| view! { <li>{m}</li> }).collect_view()}
                                {fields.into_iter().map(|(field, message)| view! {
                                    <li>
                                        <button type="button" class="link" on:click=move |_| focus_by_id(&field.dom_id())>
                                            {message}
                                        </button>
                                    </li>
                                }).collect_view()}
                            </ul>
                        </div>
                    })
                }}
            </div>
            <form on:submit=on_submit novalidate>
                <section aria-labelledby="agents-heading">
                    <h3 id="agents-heading">"Agents"</h3>
                    {pool_view}
                </section>
                <section class="oidc" aria-labelledby="oidc-heading">
                    <h3 id="oidc-heading">"OpenID Connect"</h3>
                    <p class="section-hint">
                        "Deployments exchange a short-lived OIDC token for cloud credentials, so no long-lived keys are stored."
                    </p>

                    {Cloud::ALL.map(cloud_view).into_iter().collect_view()}
                    <Show when=move || !form.read().oidc().is_empty()>
                        <OnRequest open=assistant_open label=SHOW_ASSISTANT>
                            {lazy_part(|parts| parts.oidc_assistant, "OIDC assistant")}
                        </OnRequest>
                    </Show>
                </section>

                <section class="push-to-deploy" aria-labelledby="push-heading">
                    <h3 id="push-heading">"Push to deploy"</h3>
                    <p class="section-hint">
                        "With a GitHub repository set, pushes to the branch deploy this stack and pull requests into it preview. GitHub reaches Keyless through the organization's webhook."
                    </p>
                    {field_view(Field::GitHubRepository)}
                    {field_view(Field::Branch)}
                    {switch_view(PushSwitch::DeployCommits)}
                    {switch_view(PushSwitch::PreviewPullRequests)}
                    {field_view(Field::GitHubPaths)}
                    {switch_view(PushSwitch::DeployTags)}
                    {field_view(Field::GitHubTagFilters)}
                </section>

                <div class="form-actions">
                    <Show when=move || !read_only.get()>
                        <button type="submit" class="button primary" disabled=move || saving.get() || !dirty.get()>
                            {move || if saving.get() { "Saving…" } else { "Save deployment configuration" }}
                        </button>
                    </Show>
                    <p class="status" role="status" aria-live="polite">
                        {move || if saving.get() { Some("Saving…") } else { status.get() }}
                    </p>
                </div>
            </form>
        </section>
    }
}

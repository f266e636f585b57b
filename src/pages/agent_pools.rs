//! `/orgs/:org/agent-pools`, for the organization's admins: its agent pools and their agents;
//! make a pool (its token and the command that starts an agent shown this once), rename or
//! redescribe one, delete one (asking again when stacks' settings still choose it).

use keyless_api_types::agent_pools::{
    self as rules, AgentMetadata, AgentPool, AgentPoolRequest, AgentStatus,
};
use leptos::prelude::*;

use crate::api::{self, ApiFailure};
use crate::components::{COPY_NOW, CodeBlock, CopyButton, PageTitle, RelativeTime, TextField};
use crate::load::{load, load_failed, load_live, loading};
use crate::router::use_param;
use crate::session::use_session;

/// Shown to anyone but the organization's admins, who alone may see its pools.
pub const ADMINS_ONLY: &str = "Only organization admins can manage agent pools.";

/// The command that starts an agent of the pool whose token is `token`, reaching the server at
/// `server`. The token goes in the environment, never on the command line of a running process.
pub fn agent_command(token: &str, server: &str) -> String {
    format!("KEYLESS_AGENT_TOKEN={token} keyless-server agent --server {server}")
}

/// What the shared validators say of a pool's name and description, as sentences for the
/// fields labelled "Name" and "Description".
pub fn problems(name: &str, description: &str) -> (Option<String>, Option<String>) {
    (
        rules::name(name).err().map(|m| format!("Name {m}.")),
        rules::description(description)
            .err()
            .map(|m| format!("Description {m}.")),
    )
}

/// A Unix time in seconds (0: never) as the console shows it.
fn seen(seconds: i64) -> AnyView {
    if seconds == 0 {
        "never".into_any()
    } else {
        view! { <RelativeTime ms=seconds * 1_000 /> }.into_any()
    }
}

/// A pool's or an agent's status as a badge with its word.
fn status_badge(status: AgentStatus) -> impl IntoView {
    match status {
        AgentStatus::Online => view! { <span class="badge online">"Online"</span> },
        AgentStatus::Offline => view! { <span class="badge">"Offline"</span> },
    }
}

/// A pool just made: its name and the token shown this once.
#[derive(Clone)]
struct Made {
    name: String,
    token: String,
}

/// The agent pools page: the pools of the organization in the address, for its admins.
#[component]
pub fn AgentPoolsPage() -> impl IntoView {
    let session = use_session();
    let org = use_param("org");
    let org = Memo::new(move |_| org.get().unwrap_or_default());
    let title = Signal::derive(move || format!("Agent pools · {}", org.get()));
    view! {
        <PageTitle text=title />
        <div class="page-header">
            <p class="breadcrumb">{move || org.get()}</p>
            <h1>"Agent pools"</h1>
        </div>
        <p class="section-hint">
            "An agent pool runs deployments on machines you choose. A stack's Settings → Deploy picks the pool that runs its deployments; stacks that pick none run on this server's own agents."
        </p>
        {move || {
            let org = org.get();
            if session.is_admin_of(&org) {
                view! { <AgentPools org /> }.into_any()
            } else {
                view! { <p class="notice">{ADMINS_ONLY}</p> }.into_any()
            }
        }}
    }
}

/// The create form and the list of `org`'s pools.
#[component]
fn AgentPools(
    /// The organization whose pools these are.
    org: String,
) -> impl IntoView {
    let session = use_session();
    let org = StoredValue::new(org);
    let refresh = RwSignal::new(0_u32);
    let pools = load_live(move || {
        refresh.track();
        let client = session.client();
        let org = org.get_value();
        async move { client.agent_pools(&org).await }
    });
    let on_change = Callback::new(move |()| refresh.update(|n| *n += 1));

    let name = RwSignal::new(String::new());
    let description = RwSignal::new(String::new());
    // An error shows once its field was edited, every error once the admin tried to create.
    let touched = RwSignal::new((false, false));
    let submitted = RwSignal::new(false);
    let errors = Memo::new(move |_| problems(&name.read(), &description.read()));
    let name_error = move || {
        (submitted.get() || touched.get().0)
            .then(|| errors.get().0)
            .flatten()
    };
    let description_error = move || {
        (submitted.get() || touched.get().1)
            .then(|| errors.get().1)
            .flatten()
    };
    let made = RwSignal::new(None::<Made>);
    let create = Action::new_local(move |request: &AgentPoolRequest| {
        let client = session.client();
        let request = request.clone();
        let org = org.get_value();
        async move {
            let answer = client.create_agent_pool(&org, &request).await?;
            made.set(Some(Made {
                name: request.name,
                token: answer.token_value,
            }));
            name.set(String::new());
            description.set(String::new());
            touched.set((false, false));
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
            .map(|failure: ApiFailure| format!("The agent pool was not created. {failure}"))
    };
    let on_submit = move |event: leptos::ev::SubmitEvent| {
        event.prevent_default();
        submitted.set(true);
        match errors.get_untracked() {
            (Some(_), _) => crate::components::focus_by_id("pool-name"),
            (None, Some(_)) => crate::components::focus_by_id("pool-description"),
            (None, None) => {
                made.set(None);
                create.dispatch(AgentPoolRequest {
                    name: name.get_untracked().trim().to_owned(),
                    description: description.get_untracked(),
                });
            }
        }
    };

    view! {
        <section class="panel" aria-labelledby="new-pool-heading">
            <h2 id="new-pool-heading">"New pool"</h2>
            <form on:submit=on_submit novalidate>
                <TextField
                    id="pool-name"
                    label="Name"
                    hint="Required. Unique in the organization, e.g. where its machines are."
                    placeholder="on-premises"
                    value=name
                    on_input=Callback::new(move |text| {
                        name.set(text);
                        touched.update(|t| t.0 = true);
                    })
                    error=Signal::derive(name_error)
                    announce_error=true
                />
                <TextField
                    id="pool-description"
                    label="Description"
                    hint="Optional. What the pool's machines are for or can reach."
                    value=description
                    on_input=Callback::new(move |text| {
                        description.set(text);
                        touched.update(|t| t.1 = true);
                    })
                    error=Signal::derive(description_error)
                    announce_error=true
                />
                <div class="form-actions">
                    <button type="submit" class="button primary" disabled=move || creating.get()>
                        "Create pool"
                    </button>
                </div>
            </form>
            {move || create_error().map(|message| view! { <p class="alert" role="alert">{message}</p> })}
            {move || made.get().map(|made| {
                let command = agent_command(&made.token, &api::server_url());
                view! {
                    <div class="secret-once new-pool" role="group" aria-label="New agent pool">
                        <div class="field">
                            <label for="new-pool-token">{format!("Token of agent pool “{}”", made.name)}</label>
                            <p class="field-hint" id="new-pool-token-hint">{COPY_NOW}</p>
                            <div class="list-row-controls">
                                <input
                                    id="new-pool-token"
                                    type="text"
                                    readonly
                                    autocomplete="off"
                                    spellcheck="false"
                                    aria-describedby="new-pool-token-hint"
                                    prop:value=made.token.clone()
                                />
                                <CopyButton text=made.token label="Copy the pool's token" />
                            </div>
                        </div>
                        <p class="section-hint">
                            "Start an agent with this command on each machine that should run the pool's deployments. It takes the token from its environment only."
                        </p>
                        <CodeBlock label="Command to start an agent" text=command />
                    </div>
                }
            })}
        </section>
        <section class="panel" aria-labelledby="pools-heading">
            <h2 id="pools-heading">"Pools"</h2>
            {move || match pools.get() {
                None => loading("agent pools"),
                Some(Err(failure)) => load_failed("agent pools", &failure),
                Some(Ok(list)) if list.agent_pools.is_empty() => {
                    view! { <p class="muted">"No agent pools yet."</p> }.into_any()
                }
                Some(Ok(list)) => view! {
                    <ul class="pools">
                        {list
                            .agent_pools
                            .into_iter()
                            .map(|pool| view! { <PoolItem org=org.get_value() pool on_change /> })
                            .collect_view()}
                    </ul>
                }
                .into_any(),
            }}
        </section>
    }
}

/// What a pool's card is doing besides showing it.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    Showing,
    Editing,
    Deleting,
}

/// One pool: its name, description, status and last contact; its agents on demand; editing
/// and deleting.
#[component]
fn PoolItem(
    /// The organization the pool belongs to.
    org: String,
    /// The pool as listed.
    pool: AgentPool,
    /// Called once the pool was changed or deleted, to reload the list.
    on_change: Callback<()>,
) -> impl IntoView {
    let session = use_session();
    let AgentPool {
        id,
        name: saved_name,
        description: saved_description,
        last_seen,
        status,
        ..
    } = pool;
    let target = StoredValue::new((org, id.clone()));
    let mode = RwSignal::new(Mode::Showing);
    let expanded = RwSignal::new(false);
    let agents_id = format!("pool-{id}-agents");

    let name = RwSignal::new(saved_name.clone());
    let description = RwSignal::new(saved_description.clone());
    let errors = Memo::new(move |_| problems(&name.read(), &description.read()));
    let update = Action::new_local(move |request: &AgentPoolRequest| {
        let client = session.client();
        let request = request.clone();
        let (org, id) = target.get_value();
        async move {
            client.update_agent_pool(&org, &id, &request).await?;
            on_change.run(());
            Ok(())
        }
    });
    let saving = update.pending();
    let update_error = move || {
        update
            .value()
            .get()
            .and_then(Result::err)
            .map(|failure: ApiFailure| format!("The agent pool was not saved. {failure}"))
    };
    let name_id = format!("pool-{id}-name");
    let description_id = format!("pool-{id}-description");
    let on_save = {
        let (name_id, description_id) = (name_id.clone(), description_id.clone());
        move |event: leptos::ev::SubmitEvent| {
            event.prevent_default();
            match errors.get_untracked() {
                (Some(_), _) => crate::components::focus_by_id(&name_id),
                (None, Some(_)) => crate::components::focus_by_id(&description_id),
                (None, None) => {
                    update.dispatch(AgentPoolRequest {
                        name: name.get_untracked().trim().to_owned(),
                        description: description.get_untracked(),
                    });
                }
            }
        }
    };
    let cancel_edit = {
        let (saved_name, saved_description) = (saved_name.clone(), saved_description.clone());
        move |_| {
            name.set(saved_name.clone());
            description.set(saved_description.clone());
            mode.set(Mode::Showing);
        }
    };

    let delete = Action::new_local(move |force: &bool| {
        let client = session.client();
        let force = *force;
        let (org, id) = target.get_value();
        async move {
            client.delete_agent_pool(&org, &id, force).await?;
            on_change.run(());
            Ok(())
        }
    });
    let deleting = delete.pending();
    // Deletes the pool, forced past the stacks that still choose it or not.
    let delete_button = move |force: bool, label: &'static str| {
        view! {
            <button
                type="button"
                class="button danger small"
                disabled=move || deleting.get()
                on:click=move |_| {
                    delete.dispatch(force);
                }
            >
                {label}
            </button>
        }
    };
    // A 409: stacks' settings still choose the pool, which the server's message names.
    let delete_refusal = move || match delete.value().get() {
        Some(Err(ApiFailure::Api(error))) if error.code == 409 => Some((error.message, true)),
        Some(Err(failure)) => Some((format!("The agent pool was not deleted. {failure}"), false)),
        _ => None,
    };

    let editing = move || {
        view! {
            <form class="pool-edit" on:submit=on_save.clone() novalidate>
                <TextField
                    id=name_id.clone()
                    label="Name"
                    value=name
                    on_input=Callback::new(move |text| name.set(text))
                    error=Signal::derive(move || errors.get().0)
                />
                <TextField
                    id=description_id.clone()
                    label="Description"
                    value=description
                    on_input=Callback::new(move |text| description.set(text))
                    error=Signal::derive(move || errors.get().1)
                />
                {move || update_error().map(|message| view! { <p class="alert" role="alert">{message}</p> })}
                <div class="form-actions">
                    <button type="submit" class="button primary small" disabled=move || saving.get()>
                        "Save pool"
                    </button>
                    <button type="button" class="button secondary small" on:click=cancel_edit.clone()>
                        "Cancel"
                    </button>
                </div>
            </form>
        }
    };
    let confirming = move || {
        view! {
            <div class="token-confirm" role="group" aria-label="Confirm deletion">
                {move || match delete_refusal() {
                    Some((message, true)) => view! {
                        <p class="alert" role="alert">{message}</p>
                        {delete_button(true, "Delete anyway")}
                    }
                    .into_any(),
                    refusal => view! {
                        {refusal.map(|(message, _)| view! { <p class="alert" role="alert">{message}</p> })}
                        <span>"Its token stops working and its agents stop taking deployments."</span>
                        {delete_button(false, "Delete pool")}
                    }
                    .into_any(),
                }}
                <button
                    type="button"
                    class="button secondary small"
                    on:click=move |_| {
                        delete.value().set(None);
                        mode.set(Mode::Showing);
                    }
                >
                    "Cancel"
                </button>
            </div>
        }
    };

    let agents = move || {
        let (org, id) = target.get_value();
        let org_of_rows = org.clone();
        let detail = load(move || {
            let client = session.client();
            let (org, id) = (org.clone(), id.clone());
            async move { client.agent_pool(&org, &id).await }
        });
        move || match detail.get() {
            None => loading("agents"),
            Some(Err(failure)) => load_failed("agents", &failure),
            Some(Ok(detail)) if detail.agents.is_empty() => {
                view! { <p class="muted">"No agent has connected to this pool yet."</p> }.into_any()
            }
            Some(Ok(detail)) => view! {
                <div class="table-scroll">
                    <table class="deployments">
                        <thead>
                            <tr>
                                <th scope="col">"Hostname"</th>
                                <th scope="col">"Version"</th>
                                <th scope="col">"Platform"</th>
                                <th scope="col">"PID"</th>
                                <th scope="col">"Last seen"</th>
                                <th scope="col">"Status"</th>
                                <th scope="col">"Running"</th>
                            </tr>
                        </thead>
                        <tbody>
                            {detail
                                .agents
                                .into_iter()
                                .map(|agent| agent_row(&org_of_rows, agent))
                                .collect_view()}
                        </tbody>
                    </table>
                </div>
            }
            .into_any(),
        }
    };

    let label = |action: &str| format!("{action} {saved_name}");
    view! {
        <li class="pool">
            <div class="pool-head">
                <div class="pool-name">
                    <h3>{saved_name.clone()}</h3>
                    {(!saved_description.is_empty())
                        .then(|| view! { <p class="muted">{saved_description.clone()}</p> })}
                </div>
                <p class="pool-state">
                    {status_badge(status)}
                    <span class="meta">"Last seen " {seen(last_seen)}</span>
                </p>
            </div>
            <div class="pool-actions">
                <button
                    type="button"
                    class="button secondary small"
                    aria-label=label("Agents of")
                    aria-expanded=move || expanded.get().to_string()
                    aria-controls=agents_id.clone()
                    on:click=move |_| expanded.update(|open| *open = !*open)
                >
                    {move || if expanded.get() { "Hide agents" } else { "Show agents" }}
                </button>
                <button
                    type="button"
                    class="button secondary small"
                    aria-label=label("Edit")
                    on:click=move |_| mode.set(Mode::Editing)
                >
                    "Edit"
                </button>
                <button
                    type="button"
                    class="button secondary small"
                    aria-label=label("Delete")
                    on:click=move |_| mode.set(Mode::Deleting)
                >
                    "Delete"
                </button>
            </div>
            {move || match mode.get() {
                Mode::Showing => ().into_any(),
                Mode::Editing => editing().into_any(),
                Mode::Deleting => confirming().into_any(),
            }}
            <div id=agents_id class="pool-agents">
                {move || expanded.get().then(agents)}
            </div>
        </li>
    }
}

/// One agent of a pool of `org` as a table row, linking the deployments it runs.
fn agent_row(org: &str, agent: AgentMetadata) -> impl IntoView {
    let running = agent
        .running
        .into_iter()
        .map(|run| {
            let href = format!(
                "/{org}/{}/{}/deployments/{}",
                run.project, run.stack, run.version
            );
            let name = format!("{}/{} #{}", run.project, run.stack, run.version);
            view! { <a href=href>{name}</a> " " }
        })
        .collect_view();
    view! {
        <tr>
            <td>{agent.hostname}</td>
            <td>{agent.version}</td>
            <td>{agent.platform}</td>
            <td>{agent.pid}</td>
            <td>{seen(agent.last_seen)}</td>
            <td>{status_badge(agent.status)}</td>
            <td>{running}</td>
        </tr>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_command_passes_the_token_in_the_environment() {
        assert_eq!(
            agent_command("pul-abc", "https://keyless.example.com"),
            "KEYLESS_AGENT_TOKEN=pul-abc keyless-server agent --server https://keyless.example.com"
        );
    }

    #[test]
    fn problems_are_sentences_about_their_fields() {
        assert_eq!(problems("on-prem", ""), (None, None));
        assert_eq!(
            problems(" ", ""),
            (Some("Name is required.".to_owned()), None)
        );
        assert_eq!(
            problems("two\nlines", &"x".repeat(rules::MAX_DESCRIPTION_CHARS + 1)),
            (
                Some("Name must be one line of text.".to_owned()),
                Some("Description must be at most 1024 characters.".to_owned())
            )
        );
    }
}

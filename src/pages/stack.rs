//! One stack: its name, tabs, and the route parameters that name it.

use keyless_api_types::{Stack, stack::StackRef};
use leptos::prelude::*;

use crate::api::ApiFailure;
use crate::components::{PageTitle, Tab, TabNav};
use crate::load::{Loaded, load, load_failed, loading};
use crate::router::{A, Outlet, Redirect, use_param};
use crate::session::use_session;

/// The stack named by the current route, when all three parts are present.
pub fn use_stack_ref() -> Memo<Option<StackRef>> {
    let (org, project, stack) = (use_param("org"), use_param("project"), use_param("stack"));
    Memo::new(move |_| {
        Some(StackRef::new(
            org.read().as_deref()?,
            project.read().as_deref()?,
            stack.read().as_deref()?,
        ))
    })
}

/// The loaded stack, shared by the stack's pages.
#[derive(Clone, Copy)]
struct LoadedStack(Loaded<Stack>);

/// A stack's pages: its name, the "Overview" and "Settings" tabs, and the current tab. The tab
/// starts, and asks for its own data, while the stack loads: it shows once the stack has loaded
/// and gives way to why not if the stack cannot be read (a deployment's log is asked for a round
/// trip sooner).
#[component]
pub fn StackLayout() -> impl IntoView {
    let session = use_session();
    let stack_ref = use_stack_ref();
    let stack = load(move || {
        let client = session.client();
        let stack_ref = stack_ref.get();
        async move {
            match stack_ref {
                Some(stack_ref) => client.stack(&stack_ref).await,
                None => Err(ApiFailure::Api(keyless_api_types::ApiError::new(
                    404,
                    "Stack not found",
                ))),
            }
        }
    });
    provide_context(LoadedStack(stack));
    let base = move || stack_ref.get().map(|s| format!("/{s}")).unwrap_or_default();
    let tabs = Signal::derive(move || {
        vec![
            Tab {
                label: "Overview",
                href: base(),
                exact: true,
            },
            Tab {
                label: "Deployments",
                href: format!("{}/deployments", base()),
                exact: false,
            },
            Tab {
                label: "Settings",
                href: format!("{}/settings/deploy", base()),
                exact: false,
            },
        ]
    });
    let part = move |f: fn(&StackRef) -> &str| {
        move || {
            stack_ref
                .read()
                .as_ref()
                .map(|s| f(s).to_owned())
                .unwrap_or_default()
        }
    };
    let loaded = move || {
        stack.with(|s| {
            s.as_ref()
                .map(|r| r.as_ref().map(drop).map_err(Clone::clone))
        })
    };
    view! {
        <div class="page-header stack-header">
            <p class="breadcrumb">
                <A href="/stacks">"Stacks"</A>
                <span aria-hidden="true">" / "</span>
                <span>{part(|s| &s.org)}</span>
                <span aria-hidden="true">" / "</span>
                <span>{part(|s| &s.project)}</span>
            </p>
            <h1>{part(|s| &s.stack)}</h1>
        </div>
        <TabNav label="Stack" tabs />
        {move || match loaded() {
            None => loading("stack"),
            Some(Ok(())) => ().into_any(),
            Some(Err(failure)) if failure.status() == Some(404) => view! {
                        <PageTitle text="Stack not found" />
                        <section class="empty-state">
                            <h2>"Stack not found"</h2>
                            <p>"This stack does not exist, or you do not have access to it."</p>
                        </section>
                    }
                    .into_any(),
            Some(Err(failure)) => load_failed("stack", &failure),
        }}
        <Show when=move || !matches!(loaded(), Some(Err(_)))>
            <div class:hidden=move || loaded().is_none()>
                <Outlet />
            </div>
        </Show>
    }
}

/// The stack's Overview tab.
#[component]
pub fn StackOverview() -> impl IntoView {
    let LoadedStack(stack) = expect_context();
    let title = move || {
        stack
            .get()
            .and_then(Result::ok)
            .map(|s| format!("{}/{}/{}", s.org_name, s.project_name, s.stack_name))
            .unwrap_or_else(|| "Stack".to_owned())
    };
    view! {
        <PageTitle text=Signal::derive(title) />
        {move || stack.get().and_then(Result::ok).map(|stack| {
            let settings_href = format!("/{}/settings/deploy", StackRef::new(&stack.org_name, &stack.project_name, &stack.stack_name));
            let deployments_href = format!("/{}/deployments", StackRef::new(&stack.org_name, &stack.project_name, &stack.stack_name));
            let last_update = if stack.active_update.is_empty() {
                "Never updated".to_owned()
            } else {
                stack.active_update.clone()
            };
            let tags = stack.tags.clone();
            view! {
                <section class="card" aria-labelledby="overview-heading">
                    <h2 id="overview-heading">"Overview"</h2>
                    <dl class="details">
                        <dt>"Organization"</dt>
                        <dd>{stack.org_name.clone()}</dd>
                        <dt>"Project"</dt>
                        <dd>{stack.project_name.clone()}</dd>
                        <dt>"Stack"</dt>
                        <dd>{stack.stack_name.clone()}</dd>
                        <dt>"Latest update"</dt>
                        <dd><code>{last_update}</code></dd>
                        <dt>"Version"</dt>
                        <dd>{stack.version}</dd>
                    </dl>
                </section>
                <section class="card" aria-labelledby="tags-heading">
                    <h2 id="tags-heading">"Tags"</h2>
                    {if tags.is_empty() {
                        view! { <p class="muted">"This stack has no tags."</p> }.into_any()
                    } else {
                        view! {
                            <dl class="details">
                                {tags.into_iter().map(|(name, value)| view! {
                                    <dt>{name}</dt>
                                    <dd>{value}</dd>
                                }).collect_view()}
                            </dl>
                        }.into_any()
                    }}
                </section>
                <section class="card" aria-labelledby="deploy-heading">
                    <h2 id="deploy-heading">"Deployments"</h2>
                    <p>
                        "Let deployments of this stack get short-lived cloud credentials through OpenID Connect under "
                        <A href=settings_href>"Settings → Deploy"</A>
                        ", then deploy it from the "
                        <A href=deployments_href>"Deployments"</A>
                        " tab."
                    </p>
                </section>
            }
        })}
    }
}

/// The stack's Settings tab: a sub-navigation and the chosen settings panel.
#[component]
pub fn SettingsLayout() -> impl IntoView {
    let stack_ref = use_stack_ref();
    let tabs = Signal::derive(move || {
        let base = stack_ref.get().map(|s| format!("/{s}")).unwrap_or_default();
        vec![Tab {
            label: "Deploy",
            href: format!("{base}/settings/deploy"),
            exact: false,
        }]
    });
    view! {
        <div class="settings">
            <TabNav label="Settings" tabs variant="subnav" />
            <div class="settings-panel">
                <Outlet />
            </div>
        </div>
    }
}

/// `…/settings` itself: goes on to the first settings panel.
#[component]
pub fn SettingsIndex() -> impl IntoView {
    let stack_ref = use_stack_ref();
    let target = stack_ref
        .get_untracked()
        .map(|s| format!("/{s}/settings/deploy"))
        .unwrap_or_else(|| "/stacks".to_owned());
    view! { <Redirect path=target /> }
}

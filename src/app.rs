//! The router and the shell around every page: a header with the signed-in user and a
//! Sign out button. Each page is its own lazily loaded wasm module (`lazy_page!`), split off
//! by `cargo xtask split-console` when trunk builds the console.

use keyless_api_types::OrgRole;
use leptos::prelude::*;
use leptos_router::components::{A, ParentRoute, Redirect, Route, Router, Routes};
use leptos_router::hooks::{use_location, use_navigate};
use leptos_router::{Lazy, LazyRoute, NavigateOptions, path};

use crate::lazy::LazyParts;
use crate::load::loading;
use crate::pages::agent_pools::AgentPoolsPage;
use crate::pages::deploy_settings::DeploySettingsPage;
use crate::pages::deployment::DeploymentPage;
use crate::pages::deployments::{OrgDeploymentsPage, StackDeploymentsPage};
use crate::pages::log_file::LogFilePage;
use crate::pages::not_found::NotFoundPage;
use crate::pages::sign_in::SignInPage;
use crate::pages::stack::{SettingsIndex, SettingsLayout, StackLayout, StackOverview};
use crate::pages::stacks::StacksPage;
use crate::pages::tokens::TokensPage;
use crate::session::{SIGN_IN, SessionProvider, sign_in_path, use_session};
use crate::unsaved::{UnsavedChanges, provide_unsaved_changes};

/// The whole console.
#[component]
pub fn App() -> impl IntoView {
    provide_context(LazyParts::split());
    view! {
        <SessionProvider>
            <Router>
                <Shell />
            </Router>
        </SessionProvider>
    }
}

/// The header and the routed page.
#[component]
fn Shell() -> impl IntoView {
    provide_unsaved_changes();
    view! {
        <a class="skip-link" href="#main">"Skip to content"</a>
        <Header />
        <main id="main" class="main" tabindex="-1">
            <Routes fallback=|| view! { <NotFoundPage /> }>
                <Route path=path!("/") view=Home />
                <Route path=path!("/signin") view={Lazy::<SignInRoute>::new()} />
                <Route path=path!("/logs/open") view={Lazy::<LogFileRoute>::new()} />
                <Route path=path!("/stacks") view={Lazy::<StacksRoute>::new()} />
                <Route path=path!("/tokens") view={Lazy::<TokensRoute>::new()} />
                <Route
                    path=path!("/orgs/:org/deployments")
                    view={Lazy::<OrgDeploymentsRoute>::new()}
                />
                <Route
                    path=path!("/orgs/:org/agent-pools")
                    view={Lazy::<AgentPoolsRoute>::new()}
                />
                <ParentRoute path=path!("/:org/:project/:stack") view={Lazy::<StackRoute>::new()}>
                    <Route path=path!("") view={Lazy::<StackOverviewRoute>::new()} />
                    <Route
                        path=path!("deployments")
                        view={Lazy::<StackDeploymentsRoute>::new()}
                    />
                    <Route
                        path=path!("deployments/:version")
                        view={Lazy::<DeploymentRoute>::new()}
                    />
                    <ParentRoute path=path!("settings") view=SettingsLayout>
                        <Route path=path!("") view=SettingsIndex />
                        <Route path=path!("deploy") view={Lazy::<DeploySettingsRoute>::new()} />
                    </ParentRoute>
                </ParentRoute>
            </Routes>
        </main>
    }
}

/// Declares a route whose page is split into the wasm module `$page`, fetched when the page
/// is first visited: the first download holds only the shell and the page opened.
macro_rules! lazy_page {
    ($route:ident, $page:ident => $($view:tt)*) => {
        struct $route;

        impl LazyRoute for $route {
            fn data() -> Self {
                Self
            }

            async fn view(_this: Self) -> AnyView {
                $page().await
            }
        }

        #[leptos::wasm_split::wasm_split($page, wasm_split_path = ::leptos::wasm_split)]
        fn $page() -> AnyView {
            view! { $($view)* }.into_any()
        }
    };
}

lazy_page!(SignInRoute, sign_in => <SignInPage />);
lazy_page!(StacksRoute, stacks => <RequireAuth><StacksPage /></RequireAuth>);
lazy_page!(TokensRoute, tokens => <RequireAuth><TokensPage /></RequireAuth>);
lazy_page!(OrgDeploymentsRoute, org_deployments =>
    <RequireAuth><OrgDeploymentsPage /></RequireAuth>);
lazy_page!(AgentPoolsRoute, agent_pools =>
    <RequireAuth><AgentPoolsPage /></RequireAuth>);
lazy_page!(StackRoute, stack => <RequireAuth><StackLayout /></RequireAuth>);
lazy_page!(StackOverviewRoute, stack_overview => <StackOverview />);
lazy_page!(StackDeploymentsRoute, stack_deployments => <StackDeploymentsPage />);
lazy_page!(DeploymentRoute, deployment => <DeploymentPage />);
lazy_page!(LogFileRoute, log_file => <LogFilePage />);
lazy_page!(DeploySettingsRoute, deploy_settings => <DeploySettingsPage />);

/// The app's header: the product name and, when signed in, the user and Sign out.
#[component]
fn Header() -> impl IntoView {
    let session = use_session();
    let unsaved = expect_context::<UnsavedChanges>();
    let navigate = use_navigate();
    let sign_out = move |_| {
        if unsaved.confirm_leave() {
            unsaved.set(false);
            session.sign_out();
            navigate(SIGN_IN, NavigateOptions::default());
        }
    };
    let user_name = move || {
        session.user.read().as_ref().map(|user| {
            if user.name.is_empty() {
                user.github_login.clone()
            } else {
                user.name.clone()
            }
        })
    };
    let deployments_href = move || {
        session.user.read().as_ref().and_then(|user| {
            user.organizations
                .first()
                .map(|org| format!("/orgs/{}/deployments", org.github_login))
        })
    };
    // Only admins may see an organization's agent pools: those of the first one they administer.
    let agent_pools_href = move || {
        session.user.read().as_ref().and_then(|user| {
            user.organizations
                .iter()
                .find(|org| org.role == OrgRole::Admin)
                .map(|org| format!("/orgs/{}/agent-pools", org.github_login))
        })
    };
    view! {
        <header class="app-header">
            <A href="/stacks" {..} class="brand">
                <span class="brand-mark" aria-hidden="true"></span>
                "Keyless"
            </A>
            <nav class="app-nav" aria-label="Console" class:hidden=move || user_name().is_none()>
                <A href="/stacks">"Stacks"</A>
                {move || deployments_href().map(|href| view! { <A href=href>"Deployments"</A> })}
                <A href="/logs/open">"Open a log file"</A>
                {move || agent_pools_href().map(|href| view! { <A href=href>"Agent pools"</A> })}
                <A href="/tokens">"Access tokens"</A>
            </nav>
            <div class="account" class:hidden=move || user_name().is_none()>
                <span class="user">
                    "Signed in as " <strong>{user_name}</strong>
                </span>
                <button type="button" class="button secondary" on:click=sign_out>
                    "Sign out"
                </button>
            </div>
        </header>
    }
}

/// `/`: the stacks when signed in, else sign-in.
#[component]
fn Home() -> impl IntoView {
    let signed_in = use_session().token.get_untracked().is_some();
    view! { <Redirect path=if signed_in { "/stacks" } else { "/signin" } /> }
}

/// Shows its children to a signed-in user; sends anyone else to sign in and back here after.
#[component]
fn RequireAuth(children: ChildrenFn) -> impl IntoView {
    let session = use_session();
    let navigate = use_navigate();
    let location = use_location();
    Effect::new(move |_| {
        // After an explicit sign-out the header has already gone to the sign-in page.
        let signing_in = location.pathname.get_untracked().starts_with(SIGN_IN);
        if session.token.read().is_none() && !signing_in {
            // The hash too: a deep link to log lines survives signing in.
            let here = format!(
                "{}{}{}",
                location.pathname.get_untracked(),
                location.search.get_untracked(),
                location.hash.get_untracked()
            );
            navigate(
                &sign_in_path(&here),
                NavigateOptions {
                    replace: true,
                    ..NavigateOptions::default()
                },
            );
        }
    });
    let waiting = move || match session.load_error.get() {
        Some(reason) => view! { <p class="alert" role="alert">{reason}</p> }.into_any(),
        None => loading("session"),
    };
    view! {
        <Show when=move || session.user.read().is_some() fallback=waiting>
            {children()}
        </Show>
    }
}

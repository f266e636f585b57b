//! The router and the shell around every page: a header with the signed-in user and a
//! Sign out button. Each page is its own lazily loaded wasm module (`lazy_page!`), split off
//! by `cargo xtask split-console` when trunk builds the console.

use keyless_api_types::OrgRole;
use leptos::prelude::*;
use send_wrapper::SendWrapper;
// Not leptos's: a page's module may be fetched before the console is mounted (see `preload`).
use wasm_bindgen_futures::spawn_local;

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
use crate::router::{A, Redirect, Route, Router, Routes, use_location};
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
            <Routes routes=ROUTES fallback=|| view! { <NotFoundPage /> }.into_any() />
        </main>
    }
}

/// Every page, by address. All but `/` are modules of their own, fetched on a first visit; the
/// pages under a stack's are fetched while the stack's own arrives, and the first page's while
/// the console reads its configuration ([`preload`]).
static ROUTES: &[Route] = &[
    Route::leaf("/", || view! { <Home /> }.into_any()),
    Route::leaf("/signin", || lazy(sign_in)).preloaded(|| spawn_local(preload_sign_in())),
    Route::leaf("/logs/open", || lazy(log_file)).preloaded(|| spawn_local(preload_log_file())),
    Route::leaf("/stacks", || lazy(stacks)).preloaded(|| spawn_local(preload_stacks())),
    Route::leaf("/tokens", || lazy(tokens)).preloaded(|| spawn_local(preload_tokens())),
    Route::leaf("/orgs/:org/deployments", || lazy(org_deployments))
        .preloaded(|| spawn_local(preload_org_deployments())),
    Route::leaf("/orgs/:org/agent-pools", || lazy(agent_pools))
        .preloaded(|| spawn_local(preload_agent_pools())),
    Route {
        path: "/:org/:project/:stack",
        view: || lazy(stack),
        children: &[
            Route::leaf("", || lazy(stack_overview))
                .preloaded(|| spawn_local(preload_stack_overview())),
            Route::leaf("deployments", || lazy(stack_deployments))
                .preloaded(|| spawn_local(preload_stack_deployments())),
            Route::leaf("deployments/:version", || lazy(deployment))
                .preloaded(|| spawn_local(preload_deployment())),
            Route {
                path: "settings",
                view: || view! { <SettingsLayout /> }.into_any(),
                children: &[
                    Route::leaf("", || view! { <SettingsIndex /> }.into_any()),
                    Route::leaf("deploy", || lazy(deploy_settings))
                        .preloaded(|| spawn_local(preload_deploy_settings())),
                ],
                preload: None,
            },
        ],
        preload: Some(|| spawn_local(preload_stack())),
    },
];

/// Starts fetching the modules of the page the browser is at: called before the console is
/// mounted, so that they arrive while `config.json` is read (neither needs the other).
pub fn preload() {
    crate::router::preload(ROUTES);
}

/// A page from its own module, shown once the module has arrived (nothing until then).
fn lazy<F: Future<Output = AnyView> + 'static>(page: fn() -> F) -> AnyView {
    view! { <Suspense>{Suspend::new(SendWrapper::new(page()))}</Suspense> }.into_any()
}

/// Declares a page split into the wasm module `$page`, fetched when the page is first
/// visited (or by `$preload`, which fetches it without showing it): the first download holds
/// only the shell and the page opened.
macro_rules! lazy_page {
    ($page:ident $(, $preload:ident)? => $($view:tt)*) => {
        #[leptos::wasm_split::wasm_split($page, wasm_split_path = ::leptos::wasm_split $(, preload($preload))?)]
        fn $page() -> AnyView {
            view! { $($view)* }.into_any()
        }
    };
}

lazy_page!(sign_in, preload_sign_in => <SignInPage />);
lazy_page!(stacks, preload_stacks => <RequireAuth><StacksPage /></RequireAuth>);
lazy_page!(tokens, preload_tokens => <RequireAuth><TokensPage /></RequireAuth>);
lazy_page!(org_deployments, preload_org_deployments => <RequireAuth><OrgDeploymentsPage /></RequireAuth>);
lazy_page!(agent_pools, preload_agent_pools => <RequireAuth><AgentPoolsPage /></RequireAuth>);
lazy_page!(stack, preload_stack => <RequireAuth><StackLayout /></RequireAuth>);
lazy_page!(stack_overview, preload_stack_overview => <StackOverview />);
lazy_page!(stack_deployments, preload_stack_deployments => <StackDeploymentsPage />);
lazy_page!(deployment, preload_deployment => <DeploymentPage />);
lazy_page!(log_file, preload_log_file => <LogFilePage />);
lazy_page!(deploy_settings, preload_deploy_settings => <DeploySettingsPage />);

/// The app's header: the product name and, when signed in, the user and Sign out.
#[component]
fn Header() -> impl IntoView {
    let session = use_session();
    let unsaved = expect_context::<UnsavedChanges>();
    let location = use_location();
    let sign_out = move |_| {
        if unsaved.confirm_leave() {
            unsaved.set(false);
            session.sign_out();
            location.navigate(SIGN_IN);
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
            <A href="/stacks" class="brand">
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
    let location = use_location();
    Effect::new(move |_| {
        let url = untrack(|| location.url());
        // After an explicit sign-out the header has already gone to the sign-in page.
        if session.token.read().is_none() && !url.path.starts_with(SIGN_IN) {
            // The hash too: a deep link to log lines survives signing in.
            let here = format!("{}{}{}", url.path, url.search, url.hash);
            location.replace(&sign_in_path(&here));
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

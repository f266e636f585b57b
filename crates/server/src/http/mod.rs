//! The HTTP API: one module per resource, each exposing `router()`.

/// A route under one stack: `/api/stacks/{org}/{project}/{stack}` followed by `$rest`, made at
/// compile time (routes are `&'static str`). Defined before the modules that use it.
macro_rules! stack_route {
    ($rest:literal) => {
        concat!("/api/stacks/{org}/{project}/{stack}", $rest)
    };
}

pub mod agent;
mod agent_pools;
mod deployments;
pub mod extract;
mod health;
pub mod issuer;
mod logs;
mod oidc_assistant;
mod openapi;
mod org_deployments;
mod raw_logs;
mod settings;
mod stacks;
mod tokens;
mod user;
mod webhooks;

use std::path::PathBuf;
use std::sync::Arc;

use axum::Router;
use axum::handler::Handler;
use axum::http::Method;
use axum::routing::{self, MethodRouter};
use keyless_exchange::Exchanger;

use crate::agent::local::LocalAgents;
use crate::cors::ApiCors;
use crate::crypto::Cipher;
use crate::deploy::Engine;
use crate::error::Error;
use crate::log_archive::LogArchives;
use crate::oidc::OidcIssuer;
use crate::rate_limit::RateLimiter;
use crate::store::Store;

pub use oidc_assistant::OIDC_TESTS_PER_MINUTE;
pub use webhooks::REFUSED_DELIVERIES_PER_MINUTE;

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub store: Arc<dyn Store>,
    pub cipher: Arc<Cipher>,
    /// The built console to serve, if any.
    pub dist: Option<PathBuf>,
    /// The origin of the API the served console calls, from its `config.json`, when it names
    /// one: the console's Content-Security-Policy lets it connect there.
    pub console_api_origin: Option<String>,
    /// Which browser origins may call the API (`--cors-origin`); `None`: no CORS at all.
    pub cors: Option<Arc<ApiCors>>,
    /// Where this server is reached, e.g. `http://127.0.0.1:8080`: the base of console URLs.
    pub public_url: String,
    pub deployments: Arc<Engine>,
    pub oidc: Arc<OidcIssuer>,
    /// Trades OIDC tokens for cloud credentials (deployments and "Test OIDC").
    pub exchanger: Exchanger,
    /// Limits how many refused webhook deliveries each source gets logged.
    pub refused_deliveries: Arc<RateLimiter>,
    /// The server's own agents, and their token.
    pub local_agents: Arc<LocalAgents>,
    /// Builds finished deployments' log archives.
    pub log_archives: Arc<LogArchives>,
}

/// A router that remembers the method and path of each route it holds, so that tests can hold
/// the routes against the OpenAPI document.
#[derive(Default)]
pub struct Routes {
    router: Router<AppState>,
    list: Vec<(Method, &'static str)>,
}

impl Routes {
    fn add(mut self, method: Method, path: &'static str, route: MethodRouter<AppState>) -> Self {
        self.list.push((method, path));
        self.router = self.router.route(path, route);
        self
    }

    fn get<H: Handler<T, AppState>, T: 'static>(self, path: &'static str, handler: H) -> Self {
        self.add(Method::GET, path, routing::get(handler))
    }

    fn post<H: Handler<T, AppState>, T: 'static>(self, path: &'static str, handler: H) -> Self {
        self.add(Method::POST, path, routing::post(handler))
    }

    fn put<H: Handler<T, AppState>, T: 'static>(self, path: &'static str, handler: H) -> Self {
        self.add(Method::PUT, path, routing::put(handler))
    }

    fn patch<H: Handler<T, AppState>, T: 'static>(self, path: &'static str, handler: H) -> Self {
        self.add(Method::PATCH, path, routing::patch(handler))
    }

    fn delete<H: Handler<T, AppState>, T: 'static>(self, path: &'static str, handler: H) -> Self {
        self.add(Method::DELETE, path, routing::delete(handler))
    }

    fn merge(mut self, other: Routes) -> Self {
        self.router = self.router.merge(other.router);
        self.list.extend(other.list);
        self
    }

    /// Every (method, path) served, paths in the router's `{param}` syntax.
    pub fn list(&self) -> &[(Method, &'static str)] {
        &self.list
    }

    /// The routes as an axum router.
    pub fn into_router(self) -> Router<AppState> {
        self.router
    }
}

/// Every route of the server, outside the console's static files.
pub fn routes() -> Routes {
    health::router()
        .merge(openapi::router())
        .merge(user::router())
        .merge(tokens::router())
        .merge(agent_pools::router())
        .merge(stacks::router())
        .merge(settings::router())
        .merge(deployments::router())
        .merge(logs::router())
        .merge(raw_logs::router())
        .merge(org_deployments::router())
        .merge(webhooks::router())
        .merge(oidc_assistant::router())
}

/// The answer to an API path that does not exist.
pub async fn not_found() -> Error {
    Error::NotFound("No such API endpoint".into())
}

/// The answer to a method an API path does not support.
pub async fn method_not_allowed() -> Error {
    Error::MethodNotAllowed
}

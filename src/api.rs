//! The typed API client: the only place that knows the backend's URLs and headers.
//!
//! Requests go through gloo-net's `fetch` wrapper (its `http` feature), and JSON bodies through
//! one parser (`serde_json::Value` first, then the type; a deployment and its log's pages by
//! hand, [`deployment_json`]). Measured when gloo-net replaced a hand-written web-sys `fetch`:
//! 5.5 KB more gzipped, 4.6 KB of it in the shell's wasm (+2.9 %), under 1 % of the whole
//! console; the price of answers whose headers callers can read (`Retry-After`, the raw log's
//! next token).
//!
//! The API may live on another origin than the console (another Keyless, or a proxy in front of
//! Pulumi Cloud): [`configure`] reads `config.json` beside `index.html` once at start, and every
//! URL is built by [`api_url`] from its `apiBaseUrl`. One build then serves any backend.

use gloo_net::http::{Method, RequestBuilder, Response};
use keyless_api_types::agent_pools::{
    AgentPoolDetail, AgentPoolRequest, CreateAgentPoolResponse, ListAgentPoolsResponse,
};
use keyless_api_types::tokens::{
    CreateAccessTokenRequest, CreateAccessTokenResponse, ListAccessTokensResponse,
};
use keyless_api_types::trust::{Scope, Verdict};
use keyless_api_types::{
    ApiError, CreateDeploymentRequest, CreateDeploymentResponse, DeploymentLogs,
    GetDeploymentResponse, ListDeploymentResponseV2, ListStacksResponse, PulumiOperation, Stack,
    StackDeploymentsMetadataResponse, User, stack::StackRef,
};
use keyless_api_types::{ExplainRequest, LifetimeAdvice, OidcConfig, OidcTestRequest, OidcTestRun};
use leptos::prelude::{Callable, Callback};
use serde::de::DeserializeOwned;
use serde_json::Value;
use std::sync::OnceLock;

use keyless_api_types::console_config;

use crate::deployment_json;

/// Where the API is, as [`configure`] found it: the prefix of every API path (empty for the
/// console's own origin), or why `config.json` could not be used.
static API_BASE: OnceLock<Result<String, String>> = OnceLock::new();

/// Reads `config.json` once, before the console starts. Without the file (a 404, or the
/// server's `index.html` fallback answering instead of JSON) the API is on the console's own
/// origin; a file that cannot be used is kept as an error that every call and the sign-in page
/// show, rather than calling a backend nobody configured.
pub async fn configure() {
    let path = console_config::PATH;
    let base = match gloo_net::http::Request::get(path).send().await {
        Ok(response) if response.status() == 404 => Ok(String::new()),
        Ok(response) if !response.ok() => Err(format!(
            "{path} could not be read (HTTP {}).",
            response.status()
        )),
        Ok(response) if !is_json(response.headers().get("Content-Type").as_deref()) => {
            Ok(String::new())
        }
        Ok(response) => match response.text().await {
            Ok(text) => console_config::api_base_url(&text),
            Err(error) => Err(format!("{path} could not be read ({error}).")),
        },
        Err(error) => Err(format!("{path} could not be read ({error}).")),
    };
    // The console configures itself once; a second call keeps the first answer.
    let _ = API_BASE.set(base);
}

fn is_json(content_type: Option<&str>) -> bool {
    content_type.is_some_and(|value| {
        value
            .split(';')
            .next()
            .is_some_and(|essence| essence.trim().eq_ignore_ascii_case("application/json"))
    })
}

/// Why `config.json` could not be used, if it could not.
pub fn config_error() -> Option<String> {
    API_BASE.get().and_then(|base| base.as_ref().err().cloned())
}

/// The URL of the API path `path` (which starts with `/api/`) on the configured backend; the
/// console's own origin until [`configure`] has run (as in component tests).
pub fn api_url(path: &str) -> Result<String, ApiFailure> {
    match API_BASE.get() {
        None => Ok(path.to_owned()),
        Some(Ok(base)) => Ok(format!("{base}{path}")),
        Some(Err(why)) => Err(ApiFailure::Network(why.clone())),
    }
}

/// The absolute URL of the configured backend, as an agent started elsewhere reaches it
/// (`keyless-server agent --server`): `apiBaseUrl` made absolute against the console's origin.
pub fn server_url() -> String {
    let base = match API_BASE.get() {
        Some(Ok(base)) => base.as_str(),
        _ => "",
    };
    if base.starts_with("http://") || base.starts_with("https://") {
        base.to_owned()
    } else {
        let origin = leptos::prelude::window().location().origin();
        format!("{}{base}", origin.unwrap_or_default())
    }
}

/// Why a call failed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ApiFailure {
    /// The server could not be reached, or its answer could not be read.
    Network(String),
    /// The server answered with an error.
    Api(ApiError),
    /// The server answered 429: too many requests of this kind for now.
    Throttled {
        error: ApiError,
        /// The wait its `Retry-After` header names, when it names one in seconds.
        retry_after_seconds: Option<u64>,
    },
}

impl ApiFailure {
    /// The HTTP status, when the server answered.
    pub fn status(&self) -> Option<u16> {
        match self {
            ApiFailure::Network(_) => None,
            ApiFailure::Api(error) | ApiFailure::Throttled { error, .. } => Some(error.code),
        }
    }
}

impl std::fmt::Display for ApiFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ApiFailure::Network(reason) => {
                write!(f, "The Keyless API could not be reached ({reason}).")
            }
            ApiFailure::Api(error) | ApiFailure::Throttled { error, .. } => {
                f.write_str(&error.message)
            }
        }
    }
}

/// Which page of a deployments listing to read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PageRequest {
    /// From 1.
    pub page: u32,
    /// 1 to 100.
    pub page_size: u32,
}

impl PageRequest {
    fn query(self) -> [(&'static str, String); 2] {
        [
            ("page", self.page.to_string()),
            ("pageSize", self.page_size.to_string()),
        ]
    }
}

/// A deployment's log as text (`…/logs/raw`), to be read as it arrives.
pub struct RawLog {
    /// The log's lines, `<timestamp> <line>` or `<timestamp> ##[group]<header>`, each ending in
    /// a newline; the browser has already undone the gzip.
    pub body: web_sys::ReadableStream,
    /// While the deployment had not finished: the continuation token for the lines written
    /// after this reply (for `deployment_logs` or `deployment_logs_raw`).
    pub next_token: Option<String>,
}

/// A client acting with one access token.
#[derive(Clone)]
pub struct Client {
    token: String,
    on_unauthorized: Option<Callback<()>>,
}

fn network(error: gloo_net::Error) -> ApiFailure {
    ApiFailure::Network(match error {
        gloo_net::Error::JsError(error) => error.message,
        other => other.to_string(),
    })
}

impl Client {
    /// A client for `token`; `on_unauthorized` runs whenever the API answers 401.
    pub fn new(token: impl Into<String>, on_unauthorized: Option<Callback<()>>) -> Self {
        Self {
            token: token.into(),
            on_unauthorized,
        }
    }

    /// A request to `path` on the configured backend with the headers every call carries;
    /// writes also name the console as their client, which the server records on what they
    /// write.
    fn request(&self, method: Method, path: &str) -> Result<RequestBuilder, ApiFailure> {
        let request = RequestBuilder::new(&api_url(path)?)
            .header("Authorization", &format!("token {}", self.token))
            .header("Accept", "application/vnd.pulumi+8");
        let request = if method == Method::GET {
            request
        } else {
            request.header("X-Keyless-Client", "console")
        };
        Ok(request.method(method))
    }

    /// Sends a request with an optional JSON body; returns a successful answer unread.
    async fn send(
        &self,
        request: RequestBuilder,
        body: Option<&Value>,
    ) -> Result<Response, ApiFailure> {
        let request = match body {
            Some(body) => request
                .header("Content-Type", "application/json")
                .body(body.to_string()),
            None => request.build(),
        }
        .map_err(network)?;
        let response = request.send().await.map_err(network)?;
        if response.ok() {
            return Ok(response);
        }
        let status = response.status();
        if status == 401
            && let Some(signed_out) = self.on_unauthorized
        {
            signed_out.run(());
        }
        let text = response.text().await.map_err(network)?;
        let error = parse::<ApiError>(&text)
            .unwrap_or_else(|_| ApiError::new(status, fallback_message(status)));
        if status == 429 {
            // The server always sends seconds; an HTTP date is left unread.
            let retry_after_seconds = response
                .headers()
                .get("Retry-After")
                .and_then(|value| value.trim().parse().ok());
            return Err(ApiFailure::Throttled {
                error,
                retry_after_seconds,
            });
        }
        Err(ApiFailure::Api(error))
    }

    /// Sends a request and reads the JSON answer as `T`. Parsing to a `Value` first keeps one
    /// JSON parser in the wasm rather than one per response type.
    async fn read<T: DeserializeOwned>(
        &self,
        request: RequestBuilder,
        body: Option<&Value>,
    ) -> Result<T, ApiFailure> {
        let value = self.read_json(request, body).await?;
        serde_json::from_value(value).map_err(|e| unreadable(&e))
    }

    /// Sends a request and reads the JSON answer, for callers that read the `Value` itself
    /// (`read::<Value>` would rebuild it).
    async fn read_json(
        &self,
        request: RequestBuilder,
        body: Option<&Value>,
    ) -> Result<Value, ApiFailure> {
        let response = self.send(request, body).await?;
        parse_json(&response.text().await.map_err(network)?)
    }

    async fn get<T: DeserializeOwned>(&self, path: &str) -> Result<T, ApiFailure> {
        self.read(self.request(Method::GET, path)?, None).await
    }

    async fn get_json(&self, path: &str) -> Result<Value, ApiFailure> {
        self.read_json(self.request(Method::GET, path)?, None).await
    }

    async fn post<T: DeserializeOwned>(&self, path: &str, body: &Value) -> Result<T, ApiFailure> {
        self.read(self.request(Method::POST, path)?, Some(body))
            .await
    }

    /// Sends a request whose answer has nothing to read.
    async fn call(&self, method: Method, path: &str) -> Result<(), ApiFailure> {
        self.send(self.request(method, path)?, None).await.map(drop)
    }

    /// `GET /api/user`: who the token belongs to.
    pub async fn user(&self) -> Result<User, ApiFailure> {
        self.get("/api/user").await
    }

    /// `GET /api/user/stacks`: the stacks the user can see.
    pub async fn stacks(&self) -> Result<ListStacksResponse, ApiFailure> {
        self.get("/api/user/stacks").await
    }

    /// `GET /api/user/tokens`: the user's live access tokens, newest first, without values.
    pub async fn access_tokens(&self) -> Result<ListAccessTokensResponse, ApiFailure> {
        self.get("/api/user/tokens").await
    }

    /// `POST /api/user/tokens`: a new token; the answer is the only time its value is shown.
    pub async fn create_access_token(
        &self,
        request: &CreateAccessTokenRequest,
    ) -> Result<CreateAccessTokenResponse, ApiFailure> {
        self.post("/api/user/tokens", &to_json(request)?).await
    }

    /// `DELETE /api/user/tokens/{id}`: the token stops working at once.
    pub async fn delete_access_token(&self, id: &str) -> Result<(), ApiFailure> {
        self.call(Method::DELETE, &format!("/api/user/tokens/{id}"))
            .await
    }

    /// `GET /api/orgs/{org}/agent-pools` (admins): the organization's agent pools.
    pub async fn agent_pools(&self, org: &str) -> Result<ListAgentPoolsResponse, ApiFailure> {
        self.get(&agent_pools_path(org, "")).await
    }

    /// `GET /api/orgs/{org}/agent-pools` (admins), read as each pool's id and name: what the
    /// Deploy panel offers, without the cost of decoding the rest on that page.
    pub async fn agent_pool_names(&self, org: &str) -> Result<Vec<(String, String)>, ApiFailure> {
        let listed = self.get_json(&agent_pools_path(org, "")).await?;
        let pools = listed.get("agentPools").and_then(Value::as_array);
        let text = |pool: &Value, key: &str| Some(pool.get(key)?.as_str()?.to_owned());
        Ok(pools
            .into_iter()
            .flatten()
            .filter_map(|pool| Some((text(pool, "id")?, text(pool, "name")?)))
            .collect())
    }

    /// `GET /api/orgs/{org}/agent-pools/{id}` (admins): a pool and its agents.
    pub async fn agent_pool(&self, org: &str, id: &str) -> Result<AgentPoolDetail, ApiFailure> {
        self.get(&agent_pools_path(org, &format!("/{id}"))).await
    }

    /// `POST /api/orgs/{org}/agent-pools` (admins): a new pool; the answer is the only time its
    /// token is shown.
    pub async fn create_agent_pool(
        &self,
        org: &str,
        request: &AgentPoolRequest,
    ) -> Result<CreateAgentPoolResponse, ApiFailure> {
        self.post(&agent_pools_path(org, ""), &to_json(request)?)
            .await
    }

    /// `PATCH /api/orgs/{org}/agent-pools/{id}` (admins): renames or redescribes a pool.
    pub async fn update_agent_pool(
        &self,
        org: &str,
        id: &str,
        request: &AgentPoolRequest,
    ) -> Result<(), ApiFailure> {
        let request_builder =
            self.request(Method::PATCH, &agent_pools_path(org, &format!("/{id}")))?;
        self.send(request_builder, Some(&to_json(request)?))
            .await
            .map(drop)
    }

    /// `DELETE /api/orgs/{org}/agent-pools/{id}` (admins). Without `force`, a pool that stacks'
    /// settings choose is kept and the answer (409) names those stacks.
    pub async fn delete_agent_pool(
        &self,
        org: &str,
        id: &str,
        force: bool,
    ) -> Result<(), ApiFailure> {
        let request = self.request(Method::DELETE, &agent_pools_path(org, &format!("/{id}")))?;
        let request = if force {
            request.query([("force", "true")])
        } else {
            request
        };
        self.send(request, None).await.map(drop)
    }

    /// `GET /api/stacks/{org}/{project}/{stack}`.
    pub async fn stack(&self, stack: &StackRef) -> Result<Stack, ApiFailure> {
        self.get(&stack.api_path()).await
    }

    /// `GET …/deployments/settings`, as JSON; a stack without settings has empty settings.
    pub async fn deployment_settings(&self, stack: &StackRef) -> Result<Value, ApiFailure> {
        match self.get_json(&deployments_path(stack, "/settings")).await {
            Err(ApiFailure::Api(error)) if error.code == 404 => {
                Ok(Value::Object(Default::default()))
            }
            other => other,
        }
    }

    /// `POST …/deployments/settings` with a JSON merge patch; returns the full saved settings.
    pub async fn patch_deployment_settings(
        &self,
        stack: &StackRef,
        patch: &Value,
    ) -> Result<Value, ApiFailure> {
        self.post(&deployments_path(stack, "/settings"), patch)
            .await
    }

    /// `GET …/deployments`: a page of the stack's deployments, newest first.
    pub async fn deployments(
        &self,
        stack: &StackRef,
        page: PageRequest,
    ) -> Result<ListDeploymentResponseV2, ApiFailure> {
        let request = self.request(Method::GET, &deployments_path(stack, ""))?;
        self.read(request.query(page.query()), None).await
    }

    /// `GET /api/orgs/{org}/deployments`: a page of the organization's deployments.
    pub async fn org_deployments(
        &self,
        org: &str,
        page: PageRequest,
    ) -> Result<ListDeploymentResponseV2, ApiFailure> {
        let request = self.request(Method::GET, &format!("/api/orgs/{org}/deployments"))?;
        self.read(request.query(page.query()), None).await
    }

    /// `GET …/deployments/version/{version}`.
    pub async fn deployment(
        &self,
        stack: &StackRef,
        version: i64,
    ) -> Result<GetDeploymentResponse, ApiFailure> {
        let answer = self
            .get_json(&deployments_path(stack, &format!("/version/{version}")))
            .await?;
        deployment_json::deployment(&answer).ok_or_else(|| unreadable(&"not a deployment"))
    }

    /// `POST …/deployments`: runs `operation` with the stack's saved settings.
    pub async fn create_deployment(
        &self,
        stack: &StackRef,
        operation: PulumiOperation,
    ) -> Result<CreateDeploymentResponse, ApiFailure> {
        let request = CreateDeploymentRequest {
            operation,
            inherit_settings: true,
        };
        let body =
            serde_json::to_value(&request).map_err(|e| ApiFailure::Network(e.to_string()))?;
        self.post(&deployments_path(stack, ""), &body).await
    }

    /// `POST …/deployments/{id}/cancel`: stops a running deployment or drops a queued one.
    pub async fn cancel_deployment(&self, stack: &StackRef, id: &str) -> Result<(), ApiFailure> {
        self.call(
            Method::POST,
            &deployments_path(stack, &format!("/{id}/cancel")),
        )
        .await
    }

    /// `POST …/deployments/pause` or `…/resume`.
    pub async fn set_paused(&self, stack: &StackRef, paused: bool) -> Result<(), ApiFailure> {
        let action = if paused { "/pause" } else { "/resume" };
        self.call(Method::POST, &deployments_path(stack, action))
            .await
    }

    /// `GET …/deployments/metadata`: whether the stack's deployments are paused.
    pub async fn deployments_metadata(
        &self,
        stack: &StackRef,
    ) -> Result<StackDeploymentsMetadataResponse, ApiFailure> {
        self.get(&deployments_path(stack, "/metadata")).await
    }

    /// `GET …/deployments/{id}/logs` in streaming mode: the lines after `token`.
    pub async fn deployment_logs(
        &self,
        stack: &StackRef,
        id: &str,
        token: Option<&str>,
    ) -> Result<DeploymentLogs, ApiFailure> {
        let request = self.request(
            Method::GET,
            &deployments_path(stack, &format!("/{id}/logs")),
        )?;
        // Streaming mode always answers `{"__type":"DeploymentLogs",…}`: reading that shape
        // directly spares the console serde's buffering of internally tagged enums.
        let answer = self
            .read_json(request.query(continuation(token)), None)
            .await?;
        deployment_json::logs(&answer).ok_or_else(|| unreadable(&"not a page of a log"))
    }

    /// `GET …/deployments/{id}/logs/raw`: the log's lines after `continuation_token` (all of
    /// them without one) as one streamed text reply.
    pub async fn deployment_logs_raw(
        &self,
        stack: &StackRef,
        id: &str,
        continuation_token: Option<&str>,
    ) -> Result<RawLog, ApiFailure> {
        let path = deployments_path(stack, &format!("/{id}/logs/raw"));
        let request = self.request(Method::GET, &path)?;
        let response = self
            .send(request.query(continuation(continuation_token)), None)
            .await?;
        let body = response
            .body()
            .ok_or_else(|| ApiFailure::Network("the log reply has no body".into()))?;
        Ok(RawLog {
            body,
            next_token: response.headers().get("X-Keyless-Next-Token"),
        })
    }

    /// `GET /api/orgs/{org}/webhooks/github/deliveries` (admins): the webhook's payload URL,
    /// whether it has a secret, and the newest deliveries.
    pub async fn github_webhook_deliveries(
        &self,
        org: &str,
    ) -> Result<keyless_api_types::GitHubWebhookDeliveries, ApiFailure> {
        self.get(&format!("/api/orgs/{org}/webhooks/github/deliveries"))
            .await
    }

    /// `POST /api/orgs/{org}/webhooks/github/secret` (admins): replaces the webhook's secret;
    /// the answer is the only time the new secret is shown.
    pub async fn new_github_webhook_secret(
        &self,
        org: &str,
    ) -> Result<keyless_api_types::GitHubWebhookSecret, ApiFailure> {
        let path = format!("/api/orgs/{org}/webhooks/github/secret");
        self.post(&path, &Value::Object(Default::default())).await
    }

    /// `GET …/deployments/oidc/trust` for `scope` and the saved OIDC settings, or `POST` with
    /// an unsaved `operationContext.oidc` block: `{ "target", "trust" }`, the trust each enabled
    /// cloud needs (`keyless_trust::TrustConfig`), read as JSON.
    pub async fn oidc_trust(
        &self,
        stack: &StackRef,
        scope: Scope,
        unsaved: Option<&OidcConfig>,
    ) -> Result<Value, ApiFailure> {
        let path = deployments_path(stack, &format!("/oidc/trust{}", trust_query(scope)));
        match unsaved {
            Some(block) => self.post(&path, &to_json(block)?).await,
            None => self.get(&path).await,
        }
    }

    /// `POST …/deployments/oidc/test` (admins): "Test OIDC" — a token with the real claims of
    /// the request's operation, exchanged with every configured cloud.
    pub async fn test_oidc(
        &self,
        stack: &StackRef,
        request: &OidcTestRequest,
    ) -> Result<OidcTestRun, ApiFailure> {
        self.post(&deployments_path(stack, "/oidc/test"), &to_json(request)?)
            .await
    }

    /// `POST …/deployments/oidc/explain`: whether pasted trust admits this stack's token.
    pub async fn explain_oidc(
        &self,
        stack: &StackRef,
        request: &ExplainRequest,
    ) -> Result<Verdict, ApiFailure> {
        self.post(
            &deployments_path(stack, "/oidc/explain"),
            &to_json(request)?,
        )
        .await
    }

    /// `GET …/deployments/oidc/lifetime?operation=`: whether the saved session lifetimes
    /// outlast this stack's recent successful runs of `operation`.
    pub async fn oidc_lifetime(
        &self,
        stack: &StackRef,
        operation: PulumiOperation,
    ) -> Result<LifetimeAdvice, ApiFailure> {
        let query = format!("/oidc/lifetime?operation={}", operation.as_str());
        self.get(&deployments_path(stack, &query)).await
    }
}

fn to_json(body: &impl serde::Serialize) -> Result<Value, ApiFailure> {
    serde_json::to_value(body).map_err(|e| ApiFailure::Network(e.to_string()))
}

fn agent_pools_path(org: &str, rest: &str) -> String {
    format!("/api/orgs/{org}/agent-pools{rest}")
}

fn deployments_path(stack: &StackRef, rest: &str) -> String {
    format!("{}/deployments{rest}", stack.api_path())
}

/// The query of `…/oidc/trust` for `scope`: only the narrowest scope names an operation.
fn trust_query(scope: Scope) -> String {
    let kind = scope.kind().key();
    match scope.operation() {
        Some(operation) => format!("?scope={kind}&operation={}", operation.as_str()),
        None => format!("?scope={kind}"),
    }
}

/// The query naming the continuation token of the logs' streaming mode, if there is one.
fn continuation(token: Option<&str>) -> Option<(&'static str, &str)> {
    token.map(|token| ("continuationToken", token))
}

/// Reads a JSON body as `T`, through a `Value` (see [`Client::read`]).
fn parse<T: DeserializeOwned>(text: &str) -> Result<T, ApiFailure> {
    serde_json::from_value(parse_json(text)?).map_err(|e| unreadable(&e))
}

fn parse_json(text: &str) -> Result<Value, ApiFailure> {
    serde_json::from_str(text).map_err(|e| unreadable(&e))
}

fn unreadable(why: &dyn std::fmt::Display) -> ApiFailure {
    ApiFailure::Network(format!("unreadable answer: {why}"))
}

fn fallback_message(status: u16) -> String {
    match status {
        401 => "The access token is not valid.".into(),
        403 => "You are not allowed to do this.".into(),
        404 => "Not found.".into(),
        500..=599 => format!("The Keyless API failed (HTTP {status}). Try again later."),
        _ => format!("The request failed (HTTP {status})."),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_json_answers_are_read_as_the_config() {
        assert!(is_json(Some("application/json")));
        assert!(is_json(Some("Application/JSON; charset=utf-8")));
        assert!(!is_json(Some("text/html; charset=utf-8")));
        assert!(!is_json(None));
    }

    #[test]
    fn each_trust_scope_has_its_query_and_only_the_narrowest_names_the_operation() {
        use keyless_api_types::PulumiOperation;
        use keyless_api_types::trust::ScopeKind;

        let queries: Vec<String> = ScopeKind::ALL
            .iter()
            .map(|kind| trust_query(kind.with(PulumiOperation::DetectDrift)))
            .collect();
        assert_eq!(
            queries,
            [
                "?scope=stack-operation&operation=detect-drift",
                "?scope=stack",
                "?scope=project",
                "?scope=org",
            ]
        );
    }
}

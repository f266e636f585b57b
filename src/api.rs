//! The typed API client: the only place that knows the backend's URLs and headers.
//!
//! Requests go through the browser's `fetch` directly (web-sys), and bodies through one JSON
//! parser (`serde_json::Value` first, then the type): a general HTTP client crate cost the
//! console about a tenth of its download.

use keyless_api_types::tokens::{
    CreateAccessTokenRequest, CreateAccessTokenResponse, ListAccessTokensResponse,
};
use keyless_api_types::{
    ApiError, CreateDeploymentRequest, CreateDeploymentResponse, DeploymentLogs,
    GetDeploymentResponse, ListDeploymentResponseV2, ListStacksResponse, PulumiOperation, Stack,
    StackDeploymentsMetadataResponse, User, stack::StackRef,
};
use keyless_api_types::{ExplainRequest, LifetimeAdvice, OidcConfig, OidcTestRequest, OidcTestRun};
use leptos::prelude::{Callable, Callback};
use serde::de::DeserializeOwned;
use serde_json::Value;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

/// Why a call failed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ApiFailure {
    /// The server could not be reached, or its answer could not be read.
    Network(String),
    /// The server answered with an error.
    Api(ApiError),
}

impl ApiFailure {
    /// The HTTP status, when the server answered.
    pub fn status(&self) -> Option<u16> {
        match self {
            ApiFailure::Network(_) => None,
            ApiFailure::Api(error) => Some(error.code),
        }
    }
}

impl std::fmt::Display for ApiFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ApiFailure::Network(reason) => {
                write!(f, "The Keyless API could not be reached ({reason}).")
            }
            ApiFailure::Api(error) => f.write_str(&error.message),
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

/// A client acting with one access token.
#[derive(Clone)]
pub struct Client {
    token: String,
    on_unauthorized: Option<Callback<()>>,
}

fn network(error: JsValue) -> ApiFailure {
    let reason = error
        .dyn_ref::<js_sys::Error>()
        .map(|e| String::from(e.message()))
        .or_else(|| error.as_string())
        .unwrap_or_else(|| "fetch failed".into());
    ApiFailure::Network(reason)
}

impl Client {
    /// A client for `token`; `on_unauthorized` runs whenever the API answers 401.
    pub fn new(token: impl Into<String>, on_unauthorized: Option<Callback<()>>) -> Self {
        Self {
            token: token.into(),
            on_unauthorized,
        }
    }

    /// Sends a request and returns the body of a successful answer.
    async fn send(
        &self,
        method: &str,
        path: &str,
        body: Option<String>,
    ) -> Result<String, ApiFailure> {
        let headers = web_sys::Headers::new().map_err(network)?;
        headers
            .append("Authorization", &format!("token {}", self.token))
            .map_err(network)?;
        headers
            .append("Accept", "application/vnd.pulumi+8")
            .map_err(network)?;
        let init = web_sys::RequestInit::new();
        init.set_method(method);
        if method != "GET" {
            headers
                .append("X-Keyless-Client", "console")
                .map_err(network)?;
        }
        if let Some(body) = body {
            headers
                .append("Content-Type", "application/json")
                .map_err(network)?;
            init.set_body(&JsValue::from_str(&body));
        }
        init.set_headers(&headers);
        let window = web_sys::window().ok_or_else(|| ApiFailure::Network("no window".into()))?;
        let response: web_sys::Response =
            JsFuture::from(window.fetch_with_str_and_init(path, &init))
                .await
                .map_err(network)?
                .unchecked_into();
        let status = response.status();
        let text = JsFuture::from(response.text().map_err(network)?)
            .await
            .map_err(network)?
            .as_string()
            .unwrap_or_default();
        if response.ok() {
            return Ok(text);
        }
        if status == 401
            && let Some(signed_out) = self.on_unauthorized
        {
            signed_out.run(());
        }
        let error = parse::<ApiError>(&text)
            .unwrap_or_else(|_| ApiError::new(status, fallback_message(status)));
        Err(ApiFailure::Api(error))
    }

    async fn get<T: DeserializeOwned>(&self, path: &str) -> Result<T, ApiFailure> {
        parse(&self.send("GET", path, None).await?)
    }

    async fn post<T: DeserializeOwned>(&self, path: &str, body: &Value) -> Result<T, ApiFailure> {
        parse(&self.send("POST", path, Some(body.to_string())).await?)
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
        self.send("DELETE", &format!("/api/user/tokens/{id}"), None)
            .await
            .map(drop)
    }

    /// `GET /api/stacks/{org}/{project}/{stack}`.
    pub async fn stack(&self, stack: &StackRef) -> Result<Stack, ApiFailure> {
        self.get(&stack.api_path()).await
    }

    /// `GET …/deployments/settings`, as JSON; a stack without settings has empty settings.
    pub async fn deployment_settings(&self, stack: &StackRef) -> Result<Value, ApiFailure> {
        match self.get(&deployments_path(stack, "/settings")).await {
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
        self.get(&format!(
            "{}{}",
            deployments_path(stack, ""),
            page_query(page)
        ))
        .await
    }

    /// `GET /api/orgs/{org}/deployments`: a page of the organization's deployments.
    pub async fn org_deployments(
        &self,
        org: &str,
        page: PageRequest,
    ) -> Result<ListDeploymentResponseV2, ApiFailure> {
        self.get(&format!("/api/orgs/{org}/deployments{}", page_query(page)))
            .await
    }

    /// `GET …/deployments/version/{version}`.
    pub async fn deployment(
        &self,
        stack: &StackRef,
        version: i64,
    ) -> Result<GetDeploymentResponse, ApiFailure> {
        self.get(&deployments_path(stack, &format!("/version/{version}")))
            .await
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
        self.send(
            "POST",
            &deployments_path(stack, &format!("/{id}/cancel")),
            None,
        )
        .await
        .map(drop)
    }

    /// `POST …/deployments/pause` or `…/resume`.
    pub async fn set_paused(&self, stack: &StackRef, paused: bool) -> Result<(), ApiFailure> {
        let action = if paused { "/pause" } else { "/resume" };
        self.send("POST", &deployments_path(stack, action), None)
            .await
            .map(drop)
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
        let query = token.map_or_else(String::new, |t| format!("?continuationToken={t}"));
        // Streaming mode always answers `{"__type":"DeploymentLogs",…}`: reading that shape
        // directly spares the console serde's buffering of internally tagged enums.
        self.get(&deployments_path(stack, &format!("/{id}/logs{query}")))
            .await
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

    /// `GET …/deployments/oidc/trust{query}` for the saved OIDC settings, or `POST` with an
    /// unsaved `operationContext.oidc` block: `{ "target", "trust" }`, the trust each enabled
    /// cloud needs (`keyless_trust::TrustConfig`), read as JSON.
    pub async fn oidc_trust(
        &self,
        stack: &StackRef,
        query: &str,
        unsaved: Option<&OidcConfig>,
    ) -> Result<Value, ApiFailure> {
        let path = deployments_path(stack, &format!("/oidc/trust{query}"));
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

    /// `POST …/deployments/oidc/explain`: whether pasted trust admits this stack's token, as a
    /// `keyless_trust::Verdict` read as JSON.
    pub async fn explain_oidc(
        &self,
        stack: &StackRef,
        request: &ExplainRequest,
    ) -> Result<Value, ApiFailure> {
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

fn deployments_path(stack: &StackRef, rest: &str) -> String {
    format!("{}/deployments{rest}", stack.api_path())
}

fn page_query(page: PageRequest) -> String {
    format!("?page={}&pageSize={}", page.page, page.page_size)
}

/// Reads a JSON body. Parsing to a `Value` first keeps one JSON parser in the wasm rather than
/// one per response type.
fn parse<T: DeserializeOwned>(text: &str) -> Result<T, ApiFailure> {
    let unreadable =
        |e: &dyn std::fmt::Display| ApiFailure::Network(format!("unreadable answer: {e}"));
    let value: Value = serde_json::from_str(text).map_err(|e| unreadable(&e))?;
    serde_json::from_value(value).map_err(|e| unreadable(&e))
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

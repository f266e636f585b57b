//! The typed API client: the only place that knows the backend's URLs and headers.

use gloo_net::http::{Request, RequestBuilder, Response};
use keyless_api_types::{ApiError, ListStacksResponse, Stack, User, stack::StackRef};
use leptos::prelude::{Callable, Callback};
use serde::de::DeserializeOwned;
use serde_json::Value;

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

/// A client acting with one access token.
#[derive(Clone)]
pub struct Client {
    token: String,
    on_unauthorized: Option<Callback<()>>,
}

impl Client {
    /// A client for `token`; `on_unauthorized` runs whenever the API answers 401.
    pub fn new(token: impl Into<String>, on_unauthorized: Option<Callback<()>>) -> Self {
        Self {
            token: token.into(),
            on_unauthorized,
        }
    }

    fn authorized(&self, request: RequestBuilder) -> RequestBuilder {
        request
            .header("Authorization", &format!("token {}", self.token))
            .header("Accept", "application/vnd.pulumi+8")
    }

    async fn send(&self, request: Request) -> Result<Response, ApiFailure> {
        let response = request
            .send()
            .await
            .map_err(|e| ApiFailure::Network(e.to_string()))?;
        if response.ok() {
            return Ok(response);
        }
        let status = response.status();
        if status == 401
            && let Some(signed_out) = self.on_unauthorized
        {
            signed_out.run(());
        }
        let error = match read_json::<ApiError>(response).await {
            Ok(error) => error,
            Err(_) => ApiError::new(status, fallback_message(status)),
        };
        Err(ApiFailure::Api(error))
    }

    async fn get<T: DeserializeOwned>(&self, path: &str) -> Result<T, ApiFailure> {
        let request = self
            .authorized(Request::get(path))
            .build()
            .map_err(|e| ApiFailure::Network(e.to_string()))?;
        read_json(self.send(request).await?).await
    }

    /// `GET /api/user`: who the token belongs to.
    pub async fn user(&self) -> Result<User, ApiFailure> {
        self.get("/api/user").await
    }

    /// `GET /api/user/stacks`: the stacks the user can see.
    pub async fn stacks(&self) -> Result<ListStacksResponse, ApiFailure> {
        self.get("/api/user/stacks").await
    }

    /// `GET /api/stacks/{org}/{project}/{stack}`.
    pub async fn stack(&self, stack: &StackRef) -> Result<Stack, ApiFailure> {
        self.get(&stack.api_path()).await
    }

    /// `GET …/deployments/settings`, as JSON; a stack without settings has empty settings.
    pub async fn deployment_settings(&self, stack: &StackRef) -> Result<Value, ApiFailure> {
        match self.get(&settings_path(stack)).await {
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
        let request = self
            .authorized(Request::post(&settings_path(stack)))
            .header("X-Keyless-Client", "console")
            .json(patch)
            .map_err(|e| ApiFailure::Network(e.to_string()))?;
        read_json(self.send(request).await?).await
    }
}

fn settings_path(stack: &StackRef) -> String {
    format!("{}/deployments/settings", stack.api_path())
}

/// Reads a JSON body. Parsing to a `Value` first keeps one JSON parser in the wasm rather than
/// one per response type.
async fn read_json<T: DeserializeOwned>(response: Response) -> Result<T, ApiFailure> {
    let unreadable =
        |e: &dyn std::fmt::Display| ApiFailure::Network(format!("unreadable answer: {e}"));
    let value: Value = response.json().await.map_err(|e| unreadable(&e))?;
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

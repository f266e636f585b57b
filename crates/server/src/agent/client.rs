//! The agent's requests to the server, and [`Remote`]: the [`Control`] of a deployment an
//! agent runs. Requests that fail on the way (the server restarting, a network blip) are sent
//! again until the lease would lapse; the server stores a report sent twice once.

use std::time::Duration;

use async_trait::async_trait;
use keyless_api_types::{DeploymentStatus, StepStatus};
use reqwest::StatusCode;
use serde::Serialize;
use serde::de::DeserializeOwned;
use tokio::sync::Mutex;

use crate::deploy::control::Control;
use crate::deploy::protocol::{
    AGENT_HEADER, Assignment, ClaimRequest, Finish, LogLine, MintedToken, RenewRequest,
    RenewResponse, Report, StepChange,
};
use crate::http::agent::REPORT_LIMIT;
use crate::store::{DeploymentId, NewLogLine, StoreError};

/// How long one request may take (a claim is held up to 20 s).
const REQUEST_TIMEOUT: Duration = Duration::from_secs(40);
/// The first wait before a failed request is sent again; it doubles up to [`MAX_BACKOFF`].
const FIRST_BACKOFF: Duration = Duration::from_millis(200);
const MAX_BACKOFF: Duration = Duration::from_secs(5);
/// The most bytes of lines in one report, well under what the server accepts.
const REPORT_BYTES: usize = REPORT_LIMIT / 4;

/// Why a request did not get its answer.
#[derive(Debug, thiserror::Error)]
pub enum RequestError {
    /// The server answered 409: this agent does not hold the deployment (any more).
    #[error("the server says this agent no longer holds the deployment: {0}")]
    NotHeld(String),
    /// The server refused the request for good (401 for a deleted pool, say).
    #[error("the server refused the request ({status}): {message}")]
    Refused { status: u16, message: String },
    /// No answer in time.
    #[error("cannot reach the server: {0}")]
    Unreachable(String),
}

impl From<RequestError> for StoreError {
    fn from(err: RequestError) -> Self {
        StoreError::Backend(err.to_string().into())
    }
}

/// The server, as one agent reaches it.
#[derive(Clone)]
pub struct Client {
    http: reqwest::Client,
    /// The server's URL, without a trailing slash.
    base: String,
    token: String,
    agent_id: String,
}

impl Client {
    pub fn new(base: &str, token: String, agent_id: String) -> Result<Self, reqwest::Error> {
        let http = reqwest::Client::builder()
            .timeout(REQUEST_TIMEOUT)
            .build()?;
        Ok(Self {
            http,
            base: base.trim_end_matches('/').to_owned(),
            token,
            agent_id,
        })
    }

    /// The next deployment of the pool, once one may start within the claim's wait.
    pub async fn claim(&self, claim: &ClaimRequest) -> Result<Option<Assignment>, RequestError> {
        self.post("/api/agent/claim", claim).await
    }

    pub async fn renew(&self, request: &RenewRequest) -> Result<RenewResponse, RequestError> {
        self.post("/api/agent/leases", request)
            .await?
            .ok_or_else(|| RequestError::Unreachable("the renewal had no answer".into()))
    }

    /// POSTs `body` once; `None` for 204.
    async fn post<B: Serialize, T: DeserializeOwned>(
        &self,
        path: &str,
        body: &B,
    ) -> Result<Option<T>, RequestError> {
        let response = self
            .http
            .post(format!("{}{path}", self.base))
            .header("authorization", format!("token {}", self.token))
            .header(AGENT_HEADER, &self.agent_id)
            .json(body)
            .send()
            .await
            .map_err(|err| RequestError::Unreachable(err.without_url().to_string()))?;
        let status = response.status();
        if status == StatusCode::NO_CONTENT {
            return Ok(None);
        }
        if status.is_success() {
            return response
                .json()
                .await
                .map(Some)
                .map_err(|err| RequestError::Unreachable(err.without_url().to_string()));
        }
        let message = response
            .json::<serde_json::Value>()
            .await
            .ok()
            .and_then(|body| body["message"].as_str().map(str::to_owned))
            .unwrap_or_default();
        Err(match status {
            StatusCode::CONFLICT => RequestError::NotHeld(message),
            _ if status.is_server_error()
                || status == StatusCode::REQUEST_TIMEOUT
                || status == StatusCode::TOO_MANY_REQUESTS =>
            {
                RequestError::Unreachable(format!("{status}: {message}"))
            }
            _ => RequestError::Refused {
                status: status.as_u16(),
                message,
            },
        })
    }

    /// [`Self::post`], sent again while the server cannot be reached, for at most `patience`.
    pub async fn post_patiently<B: Serialize, T: DeserializeOwned>(
        &self,
        path: &str,
        body: &B,
        patience: Duration,
    ) -> Result<Option<T>, RequestError> {
        let deadline = tokio::time::Instant::now() + patience;
        let mut backoff = FIRST_BACKOFF;
        loop {
            match self.post(path, body).await {
                Err(RequestError::Unreachable(why)) if tokio::time::Instant::now() < deadline => {
                    tracing::warn!(%why, path, "request failed; sending it again");
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(MAX_BACKOFF);
                }
                result => return result,
            }
        }
    }
}

/// The control plane of one deployment an agent runs: numbered reports to the server.
pub struct Remote {
    client: Client,
    id: DeploymentId,
    /// How long a report is sent again before the agent gives up: its lease.
    patience: Duration,
    /// The last report's number; held while a report is on its way, so reports go in order.
    seq: Mutex<i64>,
}

impl Remote {
    pub fn new(client: Client, deployment: &Assignment) -> Self {
        Self {
            client,
            id: deployment.id.clone(),
            patience: Duration::from_millis(deployment.lease_millis),
            seq: Mutex::new(0),
        }
    }

    async fn send(&self, mut report: Report) -> Result<(), StoreError> {
        let mut seq = self.seq.lock().await;
        report.seq = *seq + 1;
        let path = format!("/api/agent/deployments/{}/reports", self.id);
        self.client
            .post_patiently::<_, serde_json::Value>(&path, &report, self.patience)
            .await?;
        *seq = report.seq;
        Ok(())
    }
}

#[async_trait]
impl Control for Remote {
    async fn set_step(
        &self,
        position: i64,
        status: StepStatus,
        at: &str,
    ) -> Result<(), StoreError> {
        self.send(Report {
            seq: 0,
            step: Some(StepChange {
                position,
                status,
                at: at.to_owned(),
            }),
            lines: Vec::new(),
            finish: None,
        })
        .await
    }

    async fn append_logs(&self, lines: &[NewLogLine]) -> Result<(), StoreError> {
        let mut batch = Vec::new();
        let mut bytes = 0;
        for line in lines {
            let size = line
                .line
                .as_ref()
                .or(line.header.as_ref())
                .map_or(0, String::len)
                + 64;
            if bytes + size > REPORT_BYTES && !batch.is_empty() {
                self.send(lines_report(std::mem::take(&mut batch))).await?;
                bytes = 0;
            }
            batch.push(LogLine::from(line));
            bytes += size;
        }
        if !batch.is_empty() {
            self.send(lines_report(batch)).await?;
        }
        Ok(())
    }

    async fn finish(&self, status: DeploymentStatus, at: &str) -> Result<(), StoreError> {
        self.send(Report {
            seq: 0,
            step: None,
            lines: Vec::new(),
            finish: Some(Finish {
                status,
                at: at.to_owned(),
            }),
        })
        .await
    }

    async fn mint(&self) -> Result<MintedToken, String> {
        let path = format!("/api/agent/deployments/{}/token", self.id);
        self.client
            .post_patiently(&path, &serde_json::json!({}), self.patience)
            .await
            .map_err(|err| err.to_string())?
            .ok_or_else(|| "the server sent no token".to_owned())
    }
}

fn lines_report(lines: Vec<LogLine>) -> Report {
    Report {
        seq: 0,
        step: None,
        lines,
        finish: None,
    }
}

//! `keyless-server agent`: claims its pool's deployments from a server and runs each in its own
//! sandbox, as the server would, reporting steps and lines back ([`client::Remote`]). It holds
//! the pool's token and nothing of the control plane: no secret key, no signing key, no store.
//! Each deployment it claims arrives with that deployment's secrets alone, and its OIDC token
//! is minted by the server when its step asks.
//!
//! It renews its leases every [`RENEW_EVERY`] (or a fifth of a shorter lease) and hears there
//! of cancels. An agent killed mid-deployment takes the deployment's processes with it
//! (bubblewrap dies with its parent); its leases lapse, and the server fails the deployment
//! with [`crate::deploy::AGENT_LOST_LINE`].

pub mod client;
pub mod local;

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::Notify;

use crate::BoxError;
use crate::config::AgentConfig;
use crate::deploy::cancel::{self, Canceller, Reason};
use crate::deploy::protocol::{
    AgentInfo, Assignment, ClaimRequest, MAX_CLAIM_WAIT_MILLIS, RenewRequest,
};
use crate::deploy::{ExecConfig, RENEW_EVERY, executor};
use crate::store::DeploymentId;
use client::{Client, Remote, RequestError};

/// How long a full agent waits for one of its deployments to end before looking again.
const IDLE_POLL: Duration = Duration::from_secs(1);
/// How long an agent that could not reach the server waits before trying again.
const UNREACHABLE_RETRY: Duration = Duration::from_secs(2);

/// The environment variable that holds the pool's token (never a flag: command lines are
/// shown to every user of the machine).
pub const TOKEN_VAR: &str = "KEYLESS_AGENT_TOKEN";

struct Agent {
    client: Client,
    exec: Arc<ExecConfig>,
    info: AgentInfo,
    /// What it sends to claim: itself, and how long the server may hold the claim.
    claim: ClaimRequest,
    max_running: usize,
    /// The deployments it runs, each with the sender that cancels it.
    running: Mutex<HashMap<DeploymentId, Canceller>>,
    /// Signalled when a deployment ends, so that a full agent claims again.
    ended: Notify,
    /// The lease of the last deployment claimed, in milliseconds: how often to renew.
    lease_millis: AtomicU64,
}

/// Runs the agent until the server refuses its token.
pub async fn run(config: AgentConfig, token: String) -> Result<(), BoxError> {
    let run = config
        .run
        .absolute("keyless-agent-work")
        .map_err(|err| format!("cannot resolve the configured paths: {err}"))?;
    let exec = Arc::new(crate::exec_config(
        &run,
        config.server_data_dir.as_deref(),
        config.server_secret_key.as_deref(),
    )?);
    let id = uuid::Uuid::new_v4().simple().to_string();
    let client = Client::new(&config.server, token, id.clone())?;
    let info = AgentInfo {
        hostname: nix::unistd::gethostname()
            .map(|name| name.to_string_lossy().into_owned())
            .unwrap_or_default(),
        version: env!("CARGO_PKG_VERSION").to_owned(),
        platform: format!("{}/{}", std::env::consts::OS, std::env::consts::ARCH),
        pid: std::process::id().to_string(),
    };
    tracing::info!(agent = %id, server = %config.server, "agent started");
    let claim = ClaimRequest {
        agent: info.clone(),
        wait_millis: MAX_CLAIM_WAIT_MILLIS,
    };
    let agent = Arc::new(Agent {
        client,
        exec,
        info,
        claim,
        max_running: config.max_running.max(1),
        running: Mutex::default(),
        ended: Notify::new(),
        lease_millis: AtomicU64::new(millis(RENEW_EVERY * 5)),
    });
    tokio::spawn(Arc::clone(&agent).renew_forever());
    agent.claim_forever().await
}

impl Agent {
    fn running(&self) -> usize {
        self.running
            .lock()
            .map_or(usize::MAX, |running| running.len())
    }

    async fn claim_forever(self: &Arc<Self>) -> Result<(), BoxError> {
        loop {
            if self.running() >= self.max_running {
                let _ = tokio::time::timeout(IDLE_POLL, self.ended.notified()).await;
                continue;
            }
            match self.client.claim(&self.claim).await {
                Ok(Some(deployment)) => self.launch(deployment),
                // The server held the claim as long as it would: ask again.
                Ok(None) => {}
                Err(RequestError::Refused { status: 401, .. }) => {
                    return Err(
                        "the server refused the pool's token: the pool was deleted, or \
                                the token is not one of its pools'"
                            .into(),
                    );
                }
                Err(err) => {
                    tracing::warn!(%err, "cannot claim deployments");
                    tokio::time::sleep(UNREACHABLE_RETRY).await;
                }
            }
        }
    }

    fn launch(self: &Arc<Self>, deployment: Assignment) {
        let (canceller, cancel) = cancel::channel();
        let id = deployment.id.clone();
        tracing::info!(deployment = %id, stack = %deployment.stack.stack, "running");
        self.lease_millis
            .store(deployment.lease_millis, Ordering::Relaxed);
        if let Ok(mut running) = self.running.lock() {
            running.insert(id.clone(), canceller.clone());
        }
        let agent = Arc::clone(self);
        let control = Arc::new(Remote::new(self.client.clone(), &deployment));
        tokio::spawn(async move {
            let exec = agent.exec.clone();
            if let Err(err) =
                executor::run_timed(control, exec, deployment, canceller, cancel).await
            {
                // The server fails it once its lease lapses.
                tracing::error!(deployment = %id, %err, "deployment stopped: cannot report it");
            }
            if let Ok(mut running) = agent.running.lock() {
                running.remove(&id);
            }
            agent.ended.notify_one();
        });
    }

    fn cancel(&self, id: &DeploymentId, reason: Reason) {
        if let Ok(running) = self.running.lock()
            && let Some(canceller) = running.get(id)
        {
            cancel::request(canceller, reason);
        }
    }

    /// Renews the leases of what it runs, passing on cancels; stops what it no longer holds,
    /// and everything once it could not renew for most of a lease.
    async fn renew_forever(self: Arc<Self>) {
        let mut renewed = Instant::now();
        loop {
            let lease = Duration::from_millis(self.lease_millis.load(Ordering::Relaxed));
            let every = RENEW_EVERY.min(lease / 5);
            tokio::time::sleep(every).await;
            let here: Vec<DeploymentId> = match self.running.lock() {
                Ok(running) => running.keys().cloned().collect(),
                Err(_) => continue,
            };
            let request = RenewRequest {
                agent: self.info.clone(),
                deployments: here.clone(),
            };
            let held = match self.client.renew(&request).await {
                Ok(answer) => {
                    renewed = Instant::now();
                    answer.held
                }
                Err(err) => {
                    tracing::warn!(%err, "cannot renew leases");
                    if renewed.elapsed() >= lease.saturating_sub(every * 2) {
                        for id in &here {
                            self.cancel(id, Reason::LeaseLost);
                        }
                    }
                    continue;
                }
            };
            for id in here {
                match held.iter().find(|held| held.id == id) {
                    Some(held) => {
                        if let Some(user) = &held.cancel_requested_by {
                            self.cancel(&id, Reason::User(user.clone()));
                        }
                    }
                    None => {
                        tracing::warn!(deployment = %id, "lease lost: the server failed it");
                        self.cancel(&id, Reason::LeaseLost);
                    }
                }
            }
        }
    }
}

fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

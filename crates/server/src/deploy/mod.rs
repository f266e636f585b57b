//! The deployments engine of the control plane: it queues deployments and decides, under the
//! store's queue lock, what may start ([`queue::plan`]), but runs none of them. Agents claim
//! them ([`Engine::claim`]): the server's own local agents (child processes, for deployments of
//! no pool) and the agents of the pool a stack's settings name. Each started deployment is
//! leased to the agent that claimed it, which renews the lease while it runs (and learns there
//! of cancels); a deployment whose lease lapses (its agent, or the server it talked to, died)
//! is failed by whichever server schedules next, and its stack's queue moves on. The executor
//! that runs a deployment's steps (`executor`, `steps`) is the agents' half of this module.
//!
//! Several servers may share one store (PostgreSQL): one at a time decides what starts,
//! counting what every agent runs, so per-stack order and each organization's limit hold
//! across them. A server alone on its store (SQLite) fails at start what its own local agents
//! were running, as they died with it.

pub mod cancel;
pub mod control;
pub mod executor;
mod job;
mod local_repo;
mod logs;
mod process;
pub mod protocol;
pub mod queue;
pub mod redact;
pub mod sandbox;
mod steps;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use keyless_api_types::{DeploymentSettings, DeploymentStatus, StepStatus};
use keyless_exchange::Exchanger;
use tokio::sync::Notify;
use tokio::task::JoinHandle;

use crate::crypto::Cipher;
use crate::oidc::OidcIssuer;
use crate::store::{
    DeploymentId, DeploymentRecord, Lease, NewDeployment, StackId, Store, StoreError,
};
use crate::timestamp;
pub use executor::{Allowance, Started};
use protocol::Assignment;
use queue::{Busy, Pauses, Waiting};
pub use sandbox::Sandbox;

/// How often the scheduler looks at the queue when nothing wakes it.
const IDLE_POLL: Duration = Duration::from_secs(5);

/// How often an agent renews its leases and looks for cancels (or a fifth of a shorter lease).
pub const RENEW_EVERY: Duration = Duration::from_secs(2);

/// How long a server may hold the queue lock for one scheduling pass before others may take it.
const QUEUE_LOCK: Duration = Duration::from_secs(10);

/// How soon a server tries again when another holds the queue lock (a pass takes milliseconds).
const LOCK_RETRY: Duration = Duration::from_millis(100);

/// How often a waiting claim looks at the queue again when nothing on this server woke it (a
/// deployment queued through another server sharing the store).
const CLAIM_RECHECK: Duration = Duration::from_secs(1);

/// The line a deployment that was running when its server (and so its local agent) stopped
/// ends with.
pub const INTERRUPTED_LINE: &str =
    "Deployment failed: the server stopped while it was running, so its outcome is unknown";

/// The line a deployment whose agent stopped being heard from ends with.
pub const AGENT_LOST_LINE: &str = "Deployment failed: the agent running it was lost (it stopped \
     renewing its lease: killed, or its machine or network gone), so its outcome is unknown";

/// The lease holder names of agents start so, then name their pool: `agent:<pool>:<agent>`.
const AGENT_HOLDER: &str = "agent:";

/// The lease holder name of agent `agent` of pool `pool` (`None`: a server's local agent).
pub fn agent_holder(pool: Option<&str>, agent: &str) -> String {
    format!("{AGENT_HOLDER}{}:{agent}", pool.unwrap_or_default())
}

/// What the control plane alone holds and decides.
pub struct Plane {
    pub cipher: Arc<Cipher>,
    /// Mints each deployment's token.
    pub oidc: Arc<OidcIssuer>,
    pub allowance: Allowance,
    /// Whether this server is the store's only user (SQLite), so that what it ran that is
    /// still running at start was left by its own last run.
    pub exclusive_store: bool,
}

/// How deployments run where they run (an agent; the server keeps its own for the local
/// repository checks of its API and webhooks).
pub struct ExecConfig {
    /// The server's data dir, which deployments must never see (known to the server's local
    /// agents; an agent elsewhere has none).
    pub data_dir: Option<PathBuf>,
    /// The secret key when it is kept outside the data dir (`--secret-key-file`), which
    /// deployments must never see either.
    pub secret_key: Option<PathBuf>,
    /// Where deployments' work dirs go, one per deployment id (outside the data dir).
    pub work_root: PathBuf,
    /// How deployment processes are run.
    pub sandbox: Sandbox,
    /// The pulumi CLI given by `--pulumi`.
    pub pulumi: Option<PathBuf>,
    /// The folder local repositories must be in (`--local-repos`), symlinks resolved.
    pub local_repos: Option<PathBuf>,
    /// How long a cancelled process group has between SIGTERM and SIGKILL.
    pub cancel_grace: Duration,
    /// Trades tokens for cloud credentials, at the configured endpoints.
    pub exchanger: Exchanger,
}

impl ExecConfig {
    /// What deployments are never shown.
    pub fn guarded(&self) -> sandbox::Guarded<'_> {
        sandbox::Guarded {
            data_dir: self.data_dir.as_deref(),
            work_root: &self.work_root,
            secret_key: self.secret_key.as_deref(),
        }
    }
}

/// Why a deployment could not be cancelled.
#[derive(Debug, thiserror::Error)]
pub enum CancelError {
    #[error("the deployment has already finished")]
    Finished,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The engine. One per server.
pub struct Engine {
    store: Arc<dyn Store>,
    /// How this server's local agents run deployments (for the local repository checks).
    config: Arc<ExecConfig>,
    plane: Plane,
    /// How many deployments of one organization may run at once.
    per_org: usize,
    /// This server's name on the queue lock and on leases it takes over: new at every start.
    holder: String,
    /// Wakes the scheduler.
    wake: Notify,
    /// Wakes waiting claims.
    claimable: Notify,
    /// Set once the server stops: claims no longer wait.
    closing: std::sync::atomic::AtomicBool,
    /// Held for each pass under the queue lock (see [`Engine::lock_queue`]).
    pass: tokio::sync::Mutex<()>,
    /// The scheduler.
    tasks: Mutex<Vec<JoinHandle<()>>>,
}

impl Engine {
    /// Recovers from the last run, then starts scheduling.
    pub async fn start(
        store: Arc<dyn Store>,
        config: ExecConfig,
        plane: Plane,
        per_org: usize,
    ) -> Result<Arc<Self>, StoreError> {
        if plane.exclusive_store {
            // Pools' agents may still be running theirs: their leases tell.
            let mut running = store
                .deployments_with_status(&[DeploymentStatus::Running])
                .await?;
            running.retain(|d| !held_by_pool_agent(d));
            fail_interrupted(store.as_ref(), &config.work_root, running, |_| {
                INTERRUPTED_LINE
            })
            .await?;
        }
        let holder = format!("server-{}", uuid::Uuid::new_v4());
        tracing::info!(%holder, "deployments engine started");
        let engine = Arc::new(Self {
            store,
            config: Arc::new(config),
            plane,
            per_org: per_org.max(1),
            holder,
            wake: Notify::new(),
            claimable: Notify::new(),
            closing: std::sync::atomic::AtomicBool::new(false),
            pass: tokio::sync::Mutex::new(()),
            tasks: Mutex::default(),
        });
        let scheduler = tokio::spawn(Arc::clone(&engine).schedule_forever());
        if let Ok(mut tasks) = engine.tasks.lock() {
            tasks.push(scheduler);
        }
        Ok(engine)
    }

    /// How many deployments of one organization may run at once.
    pub fn max_concurrent(&self) -> usize {
        self.per_org
    }

    /// The git dir of `url` when it names a local repository this server allows deployments
    /// (and the webhook's checks) to use; `None` when it is not local; why not, when refused.
    pub fn local_repository(&self, url: &str) -> Result<Option<PathBuf>, String> {
        local_repo::resolve(url, &self.config)
    }

    /// Queues a deployment and tells the scheduler; the one way deployments are created (the
    /// API, webhooks).
    pub async fn enqueue(
        &self,
        deployment: NewDeployment<'_>,
    ) -> Result<DeploymentRecord, StoreError> {
        let record = self.store.create_deployment(deployment).await?;
        self.wake();
        Ok(record)
    }

    /// Pauses or resumes a stack's queue, or with `stack_id` `None` an organization's; what a
    /// resume lets start, starts.
    pub async fn set_paused(
        &self,
        org: &str,
        stack_id: Option<&StackId>,
        paused: bool,
    ) -> Result<(), StoreError> {
        self.store.set_paused(org, stack_id, paused).await?;
        self.wake();
        Ok(())
    }

    /// Tells the scheduler and waiting claims to look at the queue (after a deployment is
    /// queued or ends, a pause ends…).
    pub fn wake(&self) {
        self.wake.notify_one();
        self.claimable.notify_waiters();
    }

    /// Cancels deployment `id` for `user`: a running one through its lease (its agent stops it
    /// at its next renewal, within [`RENEW_EVERY`]); a queued one fails at once.
    pub async fn cancel(&self, id: &DeploymentId, user: &str) -> Result<(), CancelError> {
        // Twice: an agent may claim it between the two looks.
        for _ in 0..2 {
            if self.store.request_cancel(id, user).await? {
                return Ok(());
            }
            let queued = [DeploymentStatus::NotStarted, DeploymentStatus::Accepted];
            let now = timestamp::now();
            if self
                .store
                .transition(id, &queued, DeploymentStatus::Failed, &now)
                .await?
            {
                let line = cancel::Reason::User(user.to_owned()).to_string();
                logs::append_note(self.store.as_ref(), id, 0, &line).await?;
                self.wake();
                return Ok(());
            }
        }
        Err(CancelError::Finished)
    }

    /// Answers every waiting claim at once, and every later one without waiting: the server is
    /// stopping, and a claim held open would hold its graceful shutdown.
    pub fn close_claims(&self) {
        self.closing
            .store(true, std::sync::atomic::Ordering::Relaxed);
        self.claimable.notify_waiters();
    }

    /// Stops scheduling, as a crash would.
    pub fn shutdown(&self) {
        if let Ok(mut tasks) = self.tasks.lock() {
            tasks.drain(..).for_each(|task| task.abort());
        }
    }

    async fn schedule_forever(self: Arc<Self>) {
        loop {
            match self.schedule_once().await {
                Ok(true) => {
                    let _ = tokio::time::timeout(IDLE_POLL, self.wake.notified()).await;
                }
                // Another server is scheduling, and may have read the queue before what woke
                // this one: try again as soon as its pass is likely over.
                Ok(false) => tokio::time::sleep(LOCK_RETRY).await,
                Err(err) => {
                    tracing::error!(%err, "cannot schedule deployments");
                    let _ = tokio::time::timeout(IDLE_POLL, self.wake.notified()).await;
                }
            }
        }
    }

    /// One scheduling pass, if this server gets the queue lock; returns whether it did.
    async fn schedule_once(self: &Arc<Self>) -> Result<bool, StoreError> {
        let Some(_pass) = self.lock_queue().await? else {
            return Ok(false);
        };
        let result = self.schedule_locked().await;
        self.store.unlock_queue(&self.holder).await?;
        result.map(|()| true)
    }

    /// Takes the store's queue lock for one pass of this server; `None` when another server
    /// holds it. Passes of this server (the scheduler's, claims') go one at a time: the store's
    /// lock is the server's, and would let two of its passes in at once.
    async fn lock_queue(&self) -> Result<Option<tokio::sync::MutexGuard<'_, ()>>, StoreError> {
        let pass = self.pass.lock().await;
        let lock = Lease {
            holder: &self.holder,
            millis: millis(QUEUE_LOCK),
        };
        Ok(self.store.lock_queue(lock).await?.then_some(pass))
    }

    async fn schedule_locked(self: &Arc<Self>) -> Result<(), StoreError> {
        if !self.plan_locked().await?.is_empty() {
            self.claimable.notify_waiters();
        }
        Ok(())
    }

    /// Under the queue lock: fails lapsed deployments, skips superseded ones, and returns what
    /// may start now, in queue order.
    async fn plan_locked(&self) -> Result<Vec<DeploymentRecord>, StoreError> {
        self.reap_lapsed().await?;
        let queued = self
            .store
            .deployments_with_status(&[DeploymentStatus::NotStarted, DeploymentStatus::Accepted])
            .await?;
        let pauses = Pauses::from_list(self.store.pauses().await?);
        let running = self
            .store
            .deployments_with_status(&[DeploymentStatus::Running])
            .await?;
        let busy: Vec<Busy> = running
            .iter()
            .map(|r| Busy {
                org: r.stack.stack.org.clone(),
                stack_id: r.stack.id.clone(),
            })
            .collect();
        let waiting: Vec<Waiting> = queued.iter().map(waiting).collect();
        let plan = queue::plan(&waiting, &busy, &pauses, self.per_org);
        let mut by_id: HashMap<DeploymentId, DeploymentRecord> =
            queued.into_iter().map(|d| (d.id.clone(), d)).collect();
        for (id, superseded_by) in &plan.skip {
            let version = by_id.get(superseded_by).map_or(0, |d| d.version);
            let from = [DeploymentStatus::NotStarted, DeploymentStatus::Accepted];
            let now = timestamp::now();
            if self
                .store
                .transition(id, &from, DeploymentStatus::Skipped, &now)
                .await?
            {
                let note = format!("Skipped: superseded by version {version}, queued after it");
                logs::append_note(self.store.as_ref(), id, 0, &note).await?;
            }
        }
        Ok(plan
            .start
            .iter()
            .filter_map(|id| by_id.remove(id))
            .collect())
    }

    async fn start_one(
        &self,
        record: DeploymentRecord,
        lease: Lease<'_>,
    ) -> Result<Option<Started>, StoreError> {
        let cipher = &self.plane.cipher;
        executor::start(
            self.store.as_ref(),
            cipher,
            record,
            lease,
            self.plane.allowance,
        )
        .await
    }

    /// Starts the next deployment of agent pool `pool` (`None`: of no pool) that may start,
    /// leased to `holder` (an [`agent_holder`]); waits up to `wait` for one; `None` when none
    /// could start in that time.
    pub async fn claim(
        &self,
        pool: Option<&str>,
        holder: &str,
        wait: Duration,
    ) -> Result<Option<Assignment>, StoreError> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let woken = self.claimable.notified();
            tokio::pin!(woken);
            woken.as_mut().enable();
            if self.closing.load(std::sync::atomic::Ordering::Relaxed) {
                return Ok(None);
            }
            let mut next_look = CLAIM_RECHECK;
            match self.lock_queue().await? {
                Some(pass) => {
                    let claimed = self.claim_locked(pool, holder).await;
                    self.store.unlock_queue(&self.holder).await?;
                    drop(pass);
                    if let Some(assignment) = claimed? {
                        // What it started may free others (skips), or another claim may wait.
                        self.wake();
                        return Ok(Some(assignment));
                    }
                }
                // Another server is deciding: look again as soon as it is likely done.
                None => next_look = LOCK_RETRY,
            }
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            if left.is_zero() {
                return Ok(None);
            }
            let _ = tokio::time::timeout(left.min(next_look), woken).await;
        }
    }

    async fn claim_locked(
        &self,
        pool: Option<&str>,
        holder: &str,
    ) -> Result<Option<Assignment>, StoreError> {
        let lease = Lease {
            holder,
            millis: millis(self.plane.allowance.lease),
        };
        for record in self.plan_locked().await? {
            if pool_of(&record) == pool
                && let Some(started) = self.start_one(record, lease).await?
            {
                return Ok(Some(started.deployment));
            }
        }
        Ok(None)
    }

    /// Renews the leases agent `holder` has on running deployments `ids`; returns those it
    /// still holds, each with who asked to cancel it, if anyone has.
    pub async fn renew_for(
        &self,
        holder: &str,
        ids: &[DeploymentId],
    ) -> Result<Vec<(DeploymentId, Option<String>)>, StoreError> {
        let lease = Lease {
            holder,
            millis: millis(self.plane.allowance.lease),
        };
        self.store.renew_leases(lease, ids).await
    }

    /// Mints the OIDC token of running deployment `id` for its lease holder `holder`; `None`
    /// when `holder` does not hold it.
    pub async fn mint_for(
        &self,
        id: &DeploymentId,
        holder: &str,
    ) -> Result<Option<protocol::MintedToken>, StoreError> {
        let Some(record) = self.store.deployment(id).await? else {
            return Ok(None);
        };
        if record.status != DeploymentStatus::Running
            || record.lease_holder.as_deref() != Some(holder)
        {
            return Ok(None);
        }
        control::mint(
            &self.plane.oidc,
            &record.stack,
            record.operation,
            record.version,
        )
        .await
        .map(Some)
        .map_err(|err| StoreError::Backend(err.into()))
    }

    /// Fails the deployments whose lease lapsed. Each is taken over first, so that a holder
    /// that renews or reports in the meantime is told it lost it, rather than ignored.
    async fn reap_lapsed(&self) -> Result<(), StoreError> {
        let lapsed = self.store.lapsed_leases().await?;
        let reaper = Lease {
            holder: &self.holder,
            millis: millis(self.plane.allowance.lease),
        };
        let mut taken = Vec::new();
        for record in lapsed {
            if self.store.take_lapsed(&record.id, reaper).await? {
                taken.push(record);
            }
        }
        let line = |record: &DeploymentRecord| {
            if held_by_agent(record) {
                AGENT_LOST_LINE
            } else {
                INTERRUPTED_LINE
            }
        };
        fail_interrupted(self.store.as_ref(), &self.config.work_root, taken, line).await
    }
}

fn waiting(record: &DeploymentRecord) -> Waiting {
    let skip_intermediate = serde_json::from_value::<DeploymentSettings>(record.settings.clone())
        .ok()
        .and_then(|s| s.operation_context?.options?.skip_intermediate_deployments)
        .unwrap_or(false);
    Waiting {
        id: record.id.clone(),
        org: record.stack.stack.org.clone(),
        stack_id: record.stack.id.clone(),
        skip_intermediate,
    }
}

/// The agent pool a deployment's settings route it to; `None` for the server's own.
fn pool_of(record: &DeploymentRecord) -> Option<&str> {
    record
        .settings
        .get("agentPoolID")
        .and_then(serde_json::Value::as_str)
        .filter(|pool| !pool.is_empty())
}

/// Whether an agent holds running deployment `record`.
fn held_by_agent(record: &DeploymentRecord) -> bool {
    record
        .lease_holder
        .as_deref()
        .is_some_and(|holder| holder.starts_with(AGENT_HOLDER))
}

/// Whether an agent of a pool holds running deployment `record` (not a server's local agent,
/// which dies with its server).
fn held_by_pool_agent(record: &DeploymentRecord) -> bool {
    let local = agent_holder(None, "");
    held_by_agent(record)
        && !record
            .lease_holder
            .as_deref()
            .is_some_and(|holder| holder.starts_with(&local))
}

/// Marks deployments whose server or agent stopped while they ran failed, with a line saying
/// why, on the step that was running, and removes their work dirs (when on this machine).
async fn fail_interrupted(
    store: &dyn Store,
    work_root: &std::path::Path,
    interrupted: Vec<DeploymentRecord>,
    line: impl Fn(&DeploymentRecord) -> &'static str,
) -> Result<(), StoreError> {
    for record in interrupted {
        let now = timestamp::now();
        let steps = store.steps(&record.id).await?;
        let interrupted = steps
            .iter()
            .rposition(|s| s.status == StepStatus::Running)
            .unwrap_or(0) as i64;
        if steps
            .get(interrupted as usize)
            .is_some_and(|s| s.status == StepStatus::Running)
        {
            store
                .set_step(&record.id, interrupted, StepStatus::Failed, &now)
                .await?;
        }
        logs::append_note(store, &record.id, interrupted, line(&record)).await?;
        // Last, so that a reader who sees it failed has every line.
        store
            .transition(
                &record.id,
                &[DeploymentStatus::Running],
                DeploymentStatus::Failed,
                &now,
            )
            .await?;
        let _ = sandbox::remove(&work_root.join(record.id.as_str()));
        tracing::warn!(deployment = %record.id, holder = ?record.lease_holder, "marked failed: its holder stopped while it ran");
    }
    Ok(())
}

fn millis(duration: Duration) -> i64 {
    i64::try_from(duration.as_millis()).unwrap_or(i64::MAX)
}

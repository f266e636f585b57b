//! The deployments engine: a scheduler that starts queued deployments as [`queue::plan`]
//! allows, the executor that runs each one's steps, cancellation, and recovery.
//!
//! Several servers may share one store (PostgreSQL). One at a time decides what starts (the
//! store's queue lock), counting what every server runs, so per-stack order and each
//! organization's limit hold across them. Each running deployment is leased to the server that
//! started it, which renews the lease every [`RENEW_EVERY`] (or a fifth of a shorter lease) and
//! learns there of cancels asked through other servers; a deployment whose lease lapses (its
//! server died) is failed by whichever server schedules next, and its stack's queue moves on.
//! A server alone on its store (SQLite) fails what was running at start at once, as nothing
//! else can be running it.

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
use cancel::{Canceller, Reason};
pub use executor::{Allowance, Started};
use protocol::Assignment;
use queue::{Busy, Limits, Pauses, Waiting};
pub use sandbox::Sandbox;

/// How often the scheduler looks at the queue when nothing wakes it.
const IDLE_POLL: Duration = Duration::from_secs(5);

/// How often a server renews its leases and looks for cancels asked through other servers.
pub const RENEW_EVERY: Duration = Duration::from_secs(2);

/// How long a server may hold the queue lock for one scheduling pass before others may take it.
const QUEUE_LOCK: Duration = Duration::from_secs(10);

/// How soon a server tries again when another holds the queue lock (a pass takes milliseconds).
const LOCK_RETRY: Duration = Duration::from_millis(100);

/// How long an agent's claim waits for the queue lock before it is told nothing is waiting.
const CLAIM_WAIT: Duration = Duration::from_secs(2);

/// The line a deployment that was running when the server stopped ends with.
pub const INTERRUPTED_LINE: &str =
    "Deployment failed: the server stopped while it was running, so its outcome is unknown";

/// The line a deployment whose agent stopped being heard from ends with.
pub const AGENT_LOST_LINE: &str = "Deployment failed: the agent running it was lost (it stopped \
     renewing its lease: killed, or its machine or network gone), so its outcome is unknown";

/// The lease holder names of agents start so, then name their pool: `agent:<pool>:<agent>`.
const AGENT_HOLDER: &str = "agent:";

/// The lease holder name of agent `agent` of pool `pool`.
pub fn agent_holder(pool: &str, agent: &str) -> String {
    format!("{AGENT_HOLDER}{pool}:{agent}")
}

/// What the control plane alone holds and decides, beside how deployments run.
pub struct Plane {
    pub cipher: Arc<Cipher>,
    /// Mints each deployment's token.
    pub oidc: Arc<OidcIssuer>,
    pub allowance: Allowance,
    /// Whether this server is the store's only user (SQLite), so that what it ran that is
    /// still running at start was left by its own last run.
    pub exclusive_store: bool,
}

/// How deployments run where they run (this server, or an agent).
pub struct ExecConfig {
    /// The server's data dir, which deployments must never see (an agent has none).
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

struct Running {
    canceller: Canceller,
    task: JoinHandle<()>,
}

/// The engine. One per server.
pub struct Engine {
    store: Arc<dyn Store>,
    config: Arc<ExecConfig>,
    plane: Plane,
    limits: Limits,
    /// This server's name on leases and the queue lock: new at every start.
    holder: String,
    wake: Notify,
    running: Mutex<HashMap<DeploymentId, Running>>,
    /// The scheduler and the lease renewer.
    tasks: Mutex<Vec<JoinHandle<()>>>,
}

impl Engine {
    /// Recovers from the last run, then starts scheduling and renewing leases.
    pub async fn start(
        store: Arc<dyn Store>,
        config: ExecConfig,
        plane: Plane,
        limits: Limits,
    ) -> Result<Arc<Self>, StoreError> {
        if plane.exclusive_store {
            // Agents' deployments may still be running: their leases tell.
            let mut running = store
                .deployments_with_status(&[DeploymentStatus::Running])
                .await?;
            running.retain(|d| !held_by_agent(d));
            fail_interrupted(store.as_ref(), &config.work_root, running).await?;
        }
        let holder = format!("server-{}", uuid::Uuid::new_v4());
        tracing::info!(%holder, "deployments engine started");
        let engine = Arc::new(Self {
            store,
            config: Arc::new(config),
            plane,
            limits: Limits {
                per_org: limits.per_org.max(1),
                total: limits.total.max(1),
            },
            holder,
            wake: Notify::new(),
            running: Mutex::default(),
            tasks: Mutex::default(),
        });
        let scheduler = tokio::spawn(Arc::clone(&engine).schedule_forever());
        let renewer = tokio::spawn(Arc::clone(&engine).renew_forever());
        if let Ok(mut tasks) = engine.tasks.lock() {
            tasks.extend([scheduler, renewer]);
        }
        Ok(engine)
    }

    /// How many deployments of one organization may run at once.
    pub fn max_concurrent(&self) -> usize {
        self.limits.per_org
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

    /// Asks the scheduler to look at the queue (after a deployment is queued or ends, a pause
    /// ends…).
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    /// Cancels deployment `id` for `user`: a running one is stopped (its process group
    /// terminated; through the store when another server runs it, within [`RENEW_EVERY`]); a
    /// queued one fails at once.
    pub async fn cancel(&self, id: &DeploymentId, user: &str) -> Result<(), CancelError> {
        // Twice: a scheduler may start it between the two looks.
        for _ in 0..2 {
            if self.signal(id, Reason::User(user.to_owned())) {
                return Ok(());
            }
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
                let line = Reason::User(user.to_owned()).to_string();
                logs::append_note(self.store.as_ref(), id, 0, &line).await?;
                self.wake();
                return Ok(());
            }
        }
        Err(CancelError::Finished)
    }

    /// Stops everything at once, as a crash would: no status is written, and every running
    /// process group is killed. The next start recovers.
    pub fn shutdown(&self) {
        if let Ok(mut tasks) = self.tasks.lock() {
            tasks.drain(..).for_each(|task| task.abort());
        }
        if let Ok(mut running) = self.running.lock() {
            for (_, run) in running.drain() {
                run.task.abort();
            }
        }
    }

    /// Cancels running deployment `id` for `reason`; the first reason stays.
    fn signal(&self, id: &DeploymentId, reason: Reason) -> bool {
        let Ok(running) = self.running.lock() else {
            return false;
        };
        match running.get(id) {
            Some(run) => {
                cancel::request(&run.canceller, reason);
                true
            }
            None => false,
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
        let lock = Lease {
            holder: &self.holder,
            millis: millis(QUEUE_LOCK),
        };
        if !self.store.lock_queue(lock).await? {
            return Ok(false);
        }
        let result = self.schedule_locked().await;
        self.store.unlock_queue(&self.holder).await?;
        result.map(|()| true)
    }

    async fn schedule_locked(self: &Arc<Self>) -> Result<(), StoreError> {
        let startable = self.plan_locked().await?;
        let lease = Lease {
            holder: &self.holder,
            millis: millis(self.plane.allowance.lease),
        };
        for record in startable.into_iter().filter(|r| pool_of(r).is_none()) {
            // Started before the lock is let go, so that the next pass, here or on another
            // server, counts it as running.
            if let Some(started) = self.start_one(record, lease).await? {
                self.launch(started);
            }
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
        let busy: Vec<Busy> = match self.running.lock() {
            Ok(here) => running
                .iter()
                .map(|r| Busy {
                    org: r.stack.stack.org.clone(),
                    stack_id: r.stack.id.clone(),
                    here: here.contains_key(&r.id),
                })
                .collect(),
            Err(_) => return Ok(Vec::new()),
        };
        let waiting: Vec<Waiting> = queued.iter().map(waiting).collect();
        let plan = queue::plan(&waiting, &busy, &pauses, self.limits);
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

    /// Starts the next deployment of agent pool `pool` that may start, leased to `holder` (an
    /// [`agent_holder`]); `None` when none may, or the queue stayed locked for [`CLAIM_WAIT`].
    pub async fn claim(&self, pool: &str, holder: &str) -> Result<Option<Assignment>, StoreError> {
        let lock = Lease {
            holder: &self.holder,
            millis: millis(QUEUE_LOCK),
        };
        let deadline = tokio::time::Instant::now() + CLAIM_WAIT;
        while !self.store.lock_queue(lock).await? {
            if tokio::time::Instant::now() >= deadline {
                return Ok(None);
            }
            tokio::time::sleep(LOCK_RETRY).await;
        }
        let result = self.claim_locked(pool, holder).await;
        self.store.unlock_queue(&self.holder).await?;
        if matches!(result, Ok(Some(_))) {
            // What the claim started may hold back others, or a skip may free some.
            self.wake();
        }
        result
    }

    async fn claim_locked(
        &self,
        pool: &str,
        holder: &str,
    ) -> Result<Option<Assignment>, StoreError> {
        let lease = Lease {
            holder,
            millis: millis(self.plane.allowance.lease),
        };
        for record in self.plan_locked().await? {
            if pool_of(&record) == Some(pool)
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

    /// Fails the deployments of other servers and of agents whose lease lapsed (this server's
    /// own are alive: a late renewal is its renewer's to notice). Each is taken over first, so
    /// that a holder that renews or reports in the meantime is told it lost it, rather than
    /// ignored.
    async fn reap_lapsed(&self) -> Result<(), StoreError> {
        let mut lapsed = self.store.lapsed_leases().await?;
        if let Ok(here) = self.running.lock() {
            lapsed.retain(|d| !here.contains_key(&d.id));
        }
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
        fail_interrupted(self.store.as_ref(), &self.config.work_root, taken).await
    }

    /// Renews this server's leases every [`RENEW_EVERY`], and passes on what the store says:
    /// cancels asked through other servers, and deployments another server has failed since
    /// the lease lapsed.
    async fn renew_forever(self: Arc<Self>) {
        let lease = self.plane.allowance.lease;
        let every = RENEW_EVERY.min(lease / 5);
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        // Past this since the last renewal, another server may take over: stop first.
        let give_up = lease.saturating_sub(every * 2);
        let mut renewed = std::time::Instant::now();
        loop {
            tick.tick().await;
            let here: Vec<DeploymentId> = match self.running.lock() {
                Ok(running) => running.keys().cloned().collect(),
                Err(_) => continue,
            };
            if here.is_empty() {
                renewed = std::time::Instant::now();
                continue;
            }
            let lease = Lease {
                holder: &self.holder,
                millis: millis(lease),
            };
            let held = match self.store.renew_leases(lease, &here).await {
                Ok(held) => {
                    renewed = std::time::Instant::now();
                    held
                }
                Err(err) => {
                    tracing::error!(%err, "cannot renew deployment leases");
                    if renewed.elapsed() >= give_up {
                        for id in &here {
                            self.signal(id, Reason::LeaseLost);
                        }
                    }
                    continue;
                }
            };
            for id in here {
                match held.iter().find(|(held, _)| *held == id) {
                    Some((_, Some(user))) => {
                        self.signal(&id, Reason::User(user.clone()));
                    }
                    Some((_, None)) => {}
                    None => {
                        tracing::warn!(deployment = %id, "lease lost: another server failed it");
                        self.signal(&id, Reason::LeaseLost);
                    }
                }
            }
        }
    }

    fn launch(self: &Arc<Self>, started: Started) {
        let (canceller, cancel) = cancel::channel();
        let Ok(mut running) = self.running.lock() else {
            return;
        };
        let id = started.deployment.id.clone();
        let engine = Arc::clone(self);
        let task_id = id.clone();
        let control = Arc::new(control::Local {
            store: self.store.clone(),
            oidc: self.plane.oidc.clone(),
            holder: started.holder,
            deployment: started.deployment.clone(),
        });
        let timer = canceller.clone();
        let task = tokio::spawn(async move {
            let config = engine.config.clone();
            let result =
                executor::run_timed(control, config, started.deployment, timer, cancel).await;
            if let Err(err) = result {
                tracing::error!(deployment = %task_id, %err, "deployment stopped on a store error");
                let now = timestamp::now();
                let _ = engine
                    .store
                    .finish_job(&task_id, &engine.holder, DeploymentStatus::Failed, &now)
                    .await;
            }
            if let Ok(mut running) = engine.running.lock() {
                running.remove(&task_id);
            }
            engine.wake();
        });
        running.insert(id, Running { canceller, task });
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
        pool: pool_of(record).map(str::to_owned),
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

/// Marks deployments whose server or agent stopped while they ran failed, with a line saying
/// why, on the step that was running, and removes their work dirs (when on this machine).
async fn fail_interrupted(
    store: &dyn Store,
    work_root: &std::path::Path,
    interrupted: Vec<DeploymentRecord>,
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
        let line = if held_by_agent(&record) {
            AGENT_LOST_LINE
        } else {
            INTERRUPTED_LINE
        };
        logs::append_note(store, &record.id, interrupted, line).await?;
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

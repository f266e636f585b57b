//! The deployments engine: a scheduler that starts queued deployments as [`queue::plan`]
//! allows, the executor that runs each one's steps, cancellation, and recovery after a
//! restart (what was running is marked failed; what was queued runs).

mod cancel;
mod executor;
mod job;
mod local_repo;
mod logs;
mod process;
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
use crate::store::{DeploymentId, DeploymentRecord, NewDeployment, StackId, Store, StoreError};
use crate::timestamp;
use cancel::{Canceller, Reason};
use queue::{Busy, Limits, Pauses, Waiting};
pub use sandbox::Sandbox;

/// How often the scheduler looks at the queue when nothing wakes it.
const IDLE_POLL: Duration = Duration::from_secs(5);

/// The line a deployment that was running when the server stopped ends with.
pub const INTERRUPTED_LINE: &str =
    "Deployment failed: the server stopped while it was running, so its outcome is unknown";

/// What the executor needs from the server's configuration.
pub struct ExecConfig {
    /// The server's data dir, which deployments must never see.
    pub data_dir: PathBuf,
    /// Where deployments' work dirs go, one per deployment id (outside the data dir).
    pub work_root: PathBuf,
    /// How deployment processes are run.
    pub sandbox: Sandbox,
    /// How long a deployment may run before the server cancels it.
    pub timeout: Duration,
    /// The most log bytes a deployment keeps.
    pub max_log_bytes: u64,
    pub cipher: Arc<Cipher>,
    /// The pulumi CLI given by `--pulumi`.
    pub pulumi: Option<PathBuf>,
    /// The folder local repositories must be in (`--local-repos`), symlinks resolved.
    pub local_repos: Option<PathBuf>,
    /// How long a cancelled process group has between SIGTERM and SIGKILL.
    pub cancel_grace: Duration,
    /// Mints each deployment's token.
    pub oidc: Arc<OidcIssuer>,
    /// Trades tokens for cloud credentials, at the configured endpoints.
    pub exchanger: Exchanger,
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
    org: String,
    stack_id: StackId,
    canceller: Canceller,
    task: JoinHandle<()>,
}

/// The engine. One per server.
pub struct Engine {
    store: Arc<dyn Store>,
    config: Arc<ExecConfig>,
    limits: Limits,
    wake: Notify,
    running: Mutex<HashMap<DeploymentId, Running>>,
    scheduler: Mutex<Option<JoinHandle<()>>>,
}

impl Engine {
    /// Recovers from the last run, then starts scheduling.
    pub async fn start(
        store: Arc<dyn Store>,
        config: ExecConfig,
        limits: Limits,
    ) -> Result<Arc<Self>, StoreError> {
        recover(store.as_ref(), &config.work_root).await?;
        let engine = Arc::new(Self {
            store,
            config: Arc::new(config),
            limits: Limits {
                per_org: limits.per_org.max(1),
                total: limits.total.max(1),
            },
            wake: Notify::new(),
            running: Mutex::default(),
            scheduler: Mutex::default(),
        });
        let scheduler = tokio::spawn(Arc::clone(&engine).schedule_forever());
        if let Ok(mut slot) = engine.scheduler.lock() {
            *slot = Some(scheduler);
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

    /// Asks the scheduler to look at the queue (after a deployment is queued, a pause ends…).
    fn wake(&self) {
        self.wake.notify_one();
    }

    /// Cancels deployment `id` for `user`: a running one is stopped (its process group
    /// terminated); a queued one fails at once.
    pub async fn cancel(&self, id: &DeploymentId, user: &str) -> Result<(), CancelError> {
        // Twice: the scheduler may start it between the two looks.
        for _ in 0..2 {
            if self.signal(id, Reason::User(user.to_owned())) {
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
        if let Some(scheduler) = self.scheduler.lock().ok().and_then(|mut s| s.take()) {
            scheduler.abort();
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
                run.canceller.send_if_modified(|current| {
                    let first = current.is_none();
                    if first {
                        *current = Some(reason);
                    }
                    first
                });
                true
            }
            None => false,
        }
    }

    async fn schedule_forever(self: Arc<Self>) {
        loop {
            if let Err(err) = self.schedule_once().await {
                tracing::error!(%err, "cannot schedule deployments");
            }
            let _ = tokio::time::timeout(IDLE_POLL, self.wake.notified()).await;
        }
    }

    async fn schedule_once(self: &Arc<Self>) -> Result<(), StoreError> {
        let queued = self
            .store
            .deployments_with_status(&[DeploymentStatus::NotStarted, DeploymentStatus::Accepted])
            .await?;
        let pauses = Pauses::from_list(self.store.pauses().await?);
        let busy: Vec<Busy> = match self.running.lock() {
            Ok(running) => running
                .values()
                .map(|r| Busy {
                    org: r.org.clone(),
                    stack_id: r.stack_id.clone(),
                })
                .collect(),
            Err(_) => return Ok(()),
        };
        let waiting: Vec<Waiting> = queued.iter().map(waiting).collect();
        let plan = queue::plan(&waiting, &busy, &pauses, self.limits);
        let by_id: HashMap<&DeploymentId, &DeploymentRecord> =
            queued.iter().map(|d| (&d.id, d)).collect();
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
        for id in &plan.start {
            if let Some(record) = by_id.get(id) {
                self.launch((*record).clone());
            }
        }
        Ok(())
    }

    fn launch(self: &Arc<Self>, record: DeploymentRecord) {
        let (canceller, cancel) = cancel::channel();
        let Ok(mut running) = self.running.lock() else {
            return;
        };
        let id = record.id.clone();
        let org = record.stack.stack.org.clone();
        let stack_id = record.stack.id.clone();
        let engine = Arc::clone(self);
        let task_id = id.clone();
        let task = tokio::spawn(async move {
            let store = engine.store.clone();
            let config = engine.config.clone();
            let timeout = config.timeout;
            let run = executor::run(store, config, record, cancel);
            tokio::pin!(run);
            let result = tokio::select! {
                result = &mut run => result,
                () = tokio::time::sleep(timeout) => {
                    engine.signal(&task_id, Reason::Timeout(timeout));
                    run.await
                }
            };
            if let Err(err) = result {
                tracing::error!(deployment = %task_id, %err, "deployment stopped on a store error");
                let now = timestamp::now();
                let _ = engine
                    .store
                    .transition(
                        &task_id,
                        &[DeploymentStatus::Running],
                        DeploymentStatus::Failed,
                        &now,
                    )
                    .await;
            }
            if let Ok(mut running) = engine.running.lock() {
                running.remove(&task_id);
            }
            engine.wake();
        });
        running.insert(
            id,
            Running {
                org,
                stack_id,
                canceller,
                task,
            },
        );
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

/// Marks every deployment left `running` by the last run failed, with a line saying why, on
/// the step that was running, and removes its work dir.
async fn recover(store: &dyn Store, work_root: &std::path::Path) -> Result<(), StoreError> {
    for record in store
        .deployments_with_status(&[DeploymentStatus::Running])
        .await?
    {
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
        logs::append_note(store, &record.id, interrupted, INTERRUPTED_LINE).await?;
        store
            .transition(
                &record.id,
                &[DeploymentStatus::Running],
                DeploymentStatus::Failed,
                &now,
            )
            .await?;
        let _ = sandbox::remove(&work_root.join(record.id.as_str()));
        tracing::warn!(deployment = %record.id, "marked failed: it was running when the server stopped");
    }
    Ok(())
}

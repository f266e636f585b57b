//! What the store keeps about deployments: the deployments themselves, their steps, their log
//! lines and the pauses that hold queues.

use async_trait::async_trait;
use keyless_api_types::{
    DeploymentCounts, DeploymentStatus, DeploymentTrigger, PulumiOperation, StepStatus, UserInfo,
};
use serde_json::Value;

use super::{DeploymentId, StackId, StackRecord, StoreError};

/// What is needed to queue a deployment; the store picks its id, version and queue position.
#[derive(Clone, Debug)]
pub struct NewDeployment<'a> {
    pub stack_id: &'a StackId,
    pub operation: PulumiOperation,
    pub requested_by: &'a str,
    pub initiator: &'a str,
    /// What started it from outside (a GitHub delivery), if anything.
    pub trigger: Option<&'a DeploymentTrigger>,
    /// The merged settings it runs with; secrets only sealed.
    pub settings: &'a Value,
    pub now: &'a str,
}

/// A stored deployment.
#[derive(Clone, Debug, PartialEq)]
pub struct DeploymentRecord {
    /// Position in the server-wide queue: earlier deployments have smaller numbers.
    pub seq: i64,
    pub id: DeploymentId,
    pub stack: StackRecord,
    pub version: i64,
    pub operation: PulumiOperation,
    pub status: DeploymentStatus,
    pub requested_by: UserInfo,
    pub initiator: String,
    pub trigger: Option<DeploymentTrigger>,
    pub settings: Value,
    pub created: String,
    pub modified: String,
    /// When its job started.
    pub started: Option<String>,
    /// Who holds its lease, while it runs (a server or an agent, see [`Lease`]).
    pub lease_holder: Option<String>,
}

/// Who holds a running deployment (or the queue lock), and for how long from now: a server's
/// or an agent's id, and milliseconds by the store's clock (which every server sharing it
/// agrees on). The holder renews it while it runs; a lease that lapses was lost with its holder.
#[derive(Clone, Copy, Debug)]
pub struct Lease<'a> {
    pub holder: &'a str,
    pub millis: i64,
}

/// What a deployment's holder reports, in one transaction: a step's new status, lines, and
/// the deployment's end. `seq` numbers the holder's reports from 1, so that one sent twice is
/// stored once.
#[derive(Clone, Copy, Debug)]
pub struct Report<'a> {
    pub seq: i64,
    /// Step (position), its status, and when.
    pub step: Option<(i64, StepStatus, &'a str)>,
    pub lines: &'a [NewLogLine],
    /// The deployment's final status, and when; stored after the lines.
    pub finish: Option<(DeploymentStatus, &'a str)>,
}

/// What became of a [`Report`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reported {
    Stored,
    /// It had been stored already.
    Again,
    /// The reporter does not hold the deployment (its lease was taken over), or it is out of
    /// order; nothing was stored.
    NotHeld,
}

/// One step of a deployment's job.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StepRecord {
    pub name: String,
    pub status: StepStatus,
    pub started: Option<String>,
    pub last_updated: Option<String>,
}

/// Whose deployments to list.
#[derive(Clone, Debug)]
pub enum DeploymentScope {
    Stack(StackId),
    Org(String),
}

/// A page of deployments, by queue order.
#[derive(Clone, Debug)]
pub struct DeploymentPage {
    pub scope: DeploymentScope,
    /// Only deployments in this status.
    pub status: Option<DeploymentStatus>,
    /// How many to skip.
    pub offset: u32,
    pub limit: u32,
    pub ascending: bool,
}

/// A log line to store. `step_offset` is `None` for a header, which starts step `step`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewLogLine {
    pub step: i64,
    pub step_offset: Option<i64>,
    pub timestamp: String,
    pub header: Option<String>,
    pub line: Option<String>,
}

/// A stored log line; `id` orders the whole log.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogRecord {
    pub id: i64,
    pub step: i64,
    pub timestamp: String,
    pub header: Option<String>,
    pub line: Option<String>,
}

/// Deployments in the store.
#[async_trait]
pub trait DeploymentStore: Send + Sync {
    /// Queues a deployment as `not-started`, numbering it after the stack's latest one.
    async fn create_deployment(
        &self,
        new: NewDeployment<'_>,
    ) -> Result<DeploymentRecord, StoreError>;
    async fn deployment(&self, id: &DeploymentId) -> Result<Option<DeploymentRecord>, StoreError>;
    async fn deployment_by_version(
        &self,
        stack_id: &StackId,
        version: i64,
    ) -> Result<Option<DeploymentRecord>, StoreError>;
    /// One page, and how many there are in all.
    async fn list_deployments(
        &self,
        page: &DeploymentPage,
    ) -> Result<(Vec<DeploymentRecord>, i64), StoreError>;
    /// The stack's highest version, 0 when it has none.
    async fn latest_version(&self, stack_id: &StackId) -> Result<i64, StoreError>;
    /// Every deployment in one of `statuses`, in queue order.
    async fn deployments_with_status(
        &self,
        statuses: &[DeploymentStatus],
    ) -> Result<Vec<DeploymentRecord>, StoreError>;
    /// Sets the status if it is still one of `from`; returns whether it did.
    async fn transition(
        &self,
        id: &DeploymentId,
        from: &[DeploymentStatus],
        to: DeploymentStatus,
        now: &str,
    ) -> Result<bool, StoreError>;
    /// Starts the job if the deployment is still queued: records its steps (all
    /// `not-started`), makes it `running` and leases it; returns whether it did.
    async fn start_job(
        &self,
        id: &DeploymentId,
        steps: &[String],
        now: &str,
        lease: Lease<'_>,
    ) -> Result<bool, StoreError>;
    /// Ends running deployment `id` with `status` if `holder` still holds its lease; returns
    /// whether it did. A server that lost the lease leaves the end to the one that took it.
    async fn finish_job(
        &self,
        id: &DeploymentId,
        holder: &str,
        status: DeploymentStatus,
        now: &str,
    ) -> Result<bool, StoreError>;
    /// Takes the queue lock for `lease.holder` when it is free, lapsed or theirs already;
    /// returns whether it did.
    async fn lock_queue(&self, lease: Lease<'_>) -> Result<bool, StoreError>;
    /// Frees the queue lock if `holder` has it.
    async fn unlock_queue(&self, holder: &str) -> Result<(), StoreError>;
    /// Extends the leases `lease.holder` has on running deployments `ids` by `lease.millis`, and
    /// returns the deployments it still held, each with who asked to cancel it, if anyone has.
    async fn renew_leases(
        &self,
        lease: Lease<'_>,
        ids: &[DeploymentId],
    ) -> Result<Vec<(DeploymentId, Option<String>)>, StoreError>;
    /// The running deployments whose lease lapsed, or that have none, in queue order.
    async fn lapsed_leases(&self) -> Result<Vec<DeploymentRecord>, StoreError>;
    /// Takes running deployment `id` over for `lease.holder` if its lease lapsed (or it has
    /// none); returns whether it did. Its old holder's next renewal then fails.
    async fn take_lapsed(&self, id: &DeploymentId, lease: Lease<'_>) -> Result<bool, StoreError>;
    /// Asks the holder of running deployment `id` to cancel it for `user` (the first ask
    /// stays); returns whether it is running.
    async fn request_cancel(&self, id: &DeploymentId, user: &str) -> Result<bool, StoreError>;
    async fn steps(&self, id: &DeploymentId) -> Result<Vec<StepRecord>, StoreError>;
    /// Sets a step's status; `started` is set the first time it runs.
    async fn set_step(
        &self,
        id: &DeploymentId,
        position: i64,
        status: StepStatus,
        now: &str,
    ) -> Result<(), StoreError>;

    /// Stores `report` from `holder` if it holds running deployment `id` and the report is the
    /// next one; says so if it was stored already.
    async fn apply_report(
        &self,
        id: &DeploymentId,
        holder: &str,
        report: Report<'_>,
    ) -> Result<Reported, StoreError>;
    /// Appends lines in one transaction.
    async fn append_logs(&self, id: &DeploymentId, lines: &[NewLogLine]) -> Result<(), StoreError>;
    /// The offset the next line of step `step` gets.
    async fn next_step_offset(&self, id: &DeploymentId, step: i64) -> Result<i64, StoreError>;
    /// Up to `limit` lines (headers included) after line `after`.
    async fn logs_after(
        &self,
        id: &DeploymentId,
        after: i64,
        limit: u32,
    ) -> Result<Vec<LogRecord>, StoreError>;
    /// Up to `limit` rows with ids in `(after, until]` as the text of the console's log files,
    /// with the id of the last one; `None` when there are none. A header is the line
    /// `<time> ##[group]<header>` (with `group_marker` as the marker), a line `<time> <line>`,
    /// each ending in a newline. The store renders the text itself: decoding a million rows one
    /// by one is what made reading a long log whole slow.
    async fn log_text(
        &self,
        id: &DeploymentId,
        after: i64,
        until: i64,
        limit: u32,
        group_marker: &str,
    ) -> Result<Option<(String, i64)>, StoreError>;
    /// The id of the deployment's last stored line (headers included), if it has any: where a
    /// read that must not outrun the writer stops.
    async fn last_log_id(&self, id: &DeploymentId) -> Result<Option<i64>, StoreError>;
    /// Stores a finished deployment's log archive, the gzip stream of its [`log_text`] in
    /// pieces, unless it has one already; returns whether it stored these.
    ///
    /// [`log_text`]: Self::log_text
    async fn save_log_archive(
        &self,
        id: &DeploymentId,
        pieces: &[Vec<u8>],
    ) -> Result<bool, StoreError>;
    /// The size in bytes of the deployment's log archive, if it has one.
    async fn log_archive_len(&self, id: &DeploymentId) -> Result<Option<u64>, StoreError>;
    /// Piece `piece` (from 0) of the deployment's log archive; `None` past the last, or when it
    /// has none.
    async fn log_archive_piece(
        &self,
        id: &DeploymentId,
        piece: i64,
    ) -> Result<Option<Vec<u8>>, StoreError>;
    /// Up to `limit` of step `step`'s lines (no header), from its `offset`-th.
    async fn step_logs(
        &self,
        id: &DeploymentId,
        step: i64,
        offset: i64,
        limit: u32,
    ) -> Result<Vec<LogRecord>, StoreError>;

    /// Pauses or resumes a stack's queue, or with `stack_id` `None` an organization's.
    async fn set_paused(
        &self,
        org: &str,
        stack_id: Option<&StackId>,
        paused: bool,
    ) -> Result<(), StoreError>;
    /// Every pause: (organization, stack id or `None` for the organization).
    async fn pauses(&self) -> Result<Vec<(String, Option<StackId>)>, StoreError>;
    async fn deployment_counts(&self, org: &str) -> Result<DeploymentCounts, StoreError>;
}

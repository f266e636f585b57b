//! A deployment's log as it is written: lines are redacted, cut at [`MAX_LINE`], stamped when
//! they are produced, and stored in batches by one writer task, so that readers see them while
//! the deployment runs.
//!
//! Nothing a deployment prints can make the server hold more than a bounded amount: a line is
//! cut at [`MAX_LINE`] bytes, lines waiting for the writer may hold at most [`BACKLOG_BYTES`]
//! (producers wait beyond that), and once a deployment's log reaches its byte budget, its
//! output is dropped with one line saying so.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

use tokio::sync::{OwnedSemaphorePermit, Semaphore, mpsc, oneshot};
use tokio::task::JoinHandle;

use super::control::Control;
use super::redact::Redactor;
use crate::store::{DeploymentId, NewLogLine, Store, StoreError};
use crate::timestamp;

/// How many lines may wait for the writer before producers wait too.
const BACKLOG: usize = 16 * 1024;
/// How many bytes of lines may wait for the writer before producers wait too.
const BACKLOG_BYTES: usize = 8 * 1024 * 1024;
/// The longest line stored, in bytes; longer ones are cut and marked.
pub const MAX_LINE: usize = 16 * 1024;
/// What ends a cut line.
const CUT_MARKER: &str = " [… line cut: longer than 16 KiB]";
/// The most lines stored in one transaction.
const BATCH: usize = 8 * 1024;

enum Entry {
    Header {
        step: i64,
        name: String,
        at: String,
    },
    Line {
        step: i64,
        text: String,
        at: String,
        /// Its share of the backlog, given back once it is stored.
        backlog: OwnedSemaphorePermit,
    },
    Flush(oneshot::Sender<()>),
}

/// Where a deployment's steps write their output. Cheap to clone; every clone feeds the same
/// writer, which stops once every clone is dropped.
#[derive(Clone)]
pub struct LogSink {
    tx: mpsc::Sender<Entry>,
    redactor: Arc<RwLock<Redactor>>,
    backlog: Arc<Semaphore>,
    budget: Arc<Budget>,
}

/// How many bytes of output a deployment may still store.
struct Budget {
    max: u64,
    used: AtomicU64,
    spent: AtomicBool,
}

/// The writer task of a [`LogSink`].
pub struct LogWriter(JoinHandle<()>);

impl LogWriter {
    /// Waits until every line sent has been stored (call after dropping the sinks).
    pub async fn finish(self) {
        if let Err(err) = self.0.await {
            tracing::error!(%err, "log writer failed");
        }
    }
}

impl LogSink {
    /// A sink for a deployment that has no lines yet, stored through `control`, keeping at
    /// most `max_bytes` of its output.
    pub fn start(control: Arc<dyn Control>, max_bytes: u64) -> (Self, LogWriter) {
        let (tx, rx) = mpsc::channel(BACKLOG);
        let writer = tokio::spawn(write(control, rx));
        let sink = Self {
            tx,
            redactor: Arc::default(),
            backlog: Arc::new(Semaphore::new(BACKLOG_BYTES)),
            budget: Arc::new(Budget {
                max: max_bytes,
                used: AtomicU64::new(0),
                spent: AtomicBool::new(false),
            }),
        };
        (sink, LogWriter(writer))
    }

    /// Redacts `secret` from every line written from now on.
    pub fn add_secret(&self, secret: &str) {
        if let Ok(mut redactor) = self.redactor.write() {
            redactor.add(secret);
        }
    }

    /// Starts step `step`.
    pub async fn header(&self, step: i64, name: &str) {
        let entry = Entry::Header {
            step,
            name: name.to_owned(),
            at: timestamp::now(),
        };
        self.send(entry).await;
    }

    /// Writes one line of step `step`'s output (a newline is added when missing), unless the
    /// deployment's log budget is spent: then the first line refused says so, and the rest
    /// are dropped.
    pub async fn line(&self, step: i64, text: &str) {
        let at = timestamp::now();
        let text = self.prepare(text);
        let budget = &self.budget;
        let used = budget.used.fetch_add(text.len() as u64, Ordering::Relaxed);
        if used + text.len() as u64 > budget.max {
            if !budget.spent.swap(true, Ordering::Relaxed) {
                let note = format!(
                    "Log limit reached: this deployment's log is kept up to {} bytes \
                     (--max-log-bytes); further output is not stored, and the deployment goes on",
                    budget.max
                );
                self.note(step, &note).await;
            }
            return;
        }
        self.enqueue(step, text, at).await;
    }

    /// Writes a line of the server's own about step `step` (an outcome, a cancellation), which
    /// the log budget does not hold back.
    pub async fn note(&self, step: i64, text: &str) {
        let at = timestamp::now();
        let text = self.prepare(text);
        self.enqueue(step, text, at).await;
    }

    /// `text` redacted, then cut at [`MAX_LINE`] bytes, ending with a newline. Redacting comes
    /// first so that a secret across the cut is not left half shown.
    fn prepare(&self, text: &str) -> String {
        let mut text = match self.redactor.read() {
            Ok(redactor) => redactor.redact(text),
            // A poisoned redactor must not let secrets through.
            Err(_) => "[line withheld: the redactor failed]".to_owned(),
        };
        if text.trim_end_matches('\n').len() > MAX_LINE {
            let mut end = MAX_LINE;
            while !text.is_char_boundary(end) {
                end -= 1;
            }
            text.truncate(end);
            text.push_str(CUT_MARKER);
        }
        if !text.ends_with('\n') {
            text.push('\n');
        }
        text
    }

    async fn enqueue(&self, step: i64, text: String, at: String) {
        let bytes = text.len().min(BACKLOG_BYTES) as u32;
        let Ok(permit) = self.backlog.clone().acquire_many_owned(bytes).await else {
            return;
        };
        let entry = Entry::Line {
            step,
            text,
            at,
            backlog: permit,
        };
        self.send(entry).await;
    }

    /// Waits until every line written so far is stored.
    pub async fn flush(&self) {
        let (done, stored) = oneshot::channel();
        self.send(Entry::Flush(done)).await;
        let _ = stored.await;
    }

    async fn send(&self, entry: Entry) {
        if self.tx.send(entry).await.is_err() {
            tracing::error!("log writer has stopped; a log line was lost");
        }
    }
}

async fn write(control: Arc<dyn Control>, mut rx: mpsc::Receiver<Entry>) {
    let mut offsets: HashMap<i64, i64> = HashMap::new();
    let mut entries = Vec::with_capacity(BATCH);
    let mut rows = Vec::with_capacity(BATCH);
    let mut flushed = Vec::new();
    let mut held = Vec::with_capacity(BATCH);
    while rx.recv_many(&mut entries, BATCH).await > 0 {
        for entry in entries.drain(..) {
            match entry {
                Entry::Header { step, name, at } => rows.push(NewLogLine {
                    step,
                    step_offset: None,
                    timestamp: at,
                    header: Some(name),
                    line: None,
                }),
                Entry::Line {
                    step,
                    text,
                    at,
                    backlog,
                } => {
                    held.push(backlog);
                    let offset = offsets.entry(step).or_default();
                    rows.push(NewLogLine {
                        step,
                        step_offset: Some(*offset),
                        timestamp: at,
                        header: None,
                        line: Some(text),
                    });
                    *offset += 1;
                }
                Entry::Flush(done) => flushed.push(done),
            }
        }
        if !rows.is_empty() {
            if let Err(err) = control.append_logs(&rows).await {
                tracing::error!(%err, lines = rows.len(), "cannot store log lines");
            }
            rows.clear();
            held.clear();
        }
        for done in flushed.drain(..) {
            let _ = done.send(());
        }
    }
}

/// Appends one line to step `step` of a deployment that has no running sink (a queued
/// deployment being cancelled or skipped, or one recovered after a restart).
pub async fn append_note(
    store: &dyn Store,
    id: &DeploymentId,
    step: i64,
    text: &str,
) -> Result<(), StoreError> {
    let offset = store.next_step_offset(id, step).await?;
    store
        .append_logs(
            id,
            &[NewLogLine {
                step,
                step_offset: Some(offset),
                timestamp: timestamp::now(),
                header: None,
                line: Some(format!("{text}\n")),
            }],
        )
        .await
}

//! A deployment's log as it is written: lines are redacted, stamped when they are produced, and
//! stored in batches by one writer task, so that readers see them while the deployment runs.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

use super::redact::Redactor;
use crate::store::{NewLogLine, Store, StoreError};
use crate::timestamp;

/// How many lines may wait for the writer before producers wait too.
const BACKLOG: usize = 16 * 1024;
/// The most lines stored in one transaction.
const BATCH: usize = 8 * 1024;

enum Entry {
    Header { step: i64, name: String, at: String },
    Line { step: i64, text: String, at: String },
    Flush(oneshot::Sender<()>),
}

/// Where a deployment's steps write their output. Cheap to clone; every clone feeds the same
/// writer, which stops once every clone is dropped.
#[derive(Clone)]
pub struct LogSink {
    tx: mpsc::Sender<Entry>,
    redactor: Arc<RwLock<Redactor>>,
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
    /// A sink for deployment `id`, which has no lines yet.
    pub fn start(store: Arc<dyn Store>, id: String) -> (Self, LogWriter) {
        let (tx, rx) = mpsc::channel(BACKLOG);
        let writer = tokio::spawn(write(store, id, rx));
        let sink = Self {
            tx,
            redactor: Arc::default(),
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

    /// Writes one line of step `step`'s output (a newline is added when missing).
    pub async fn line(&self, step: i64, text: &str) {
        let at = timestamp::now();
        let mut text = match self.redactor.read() {
            Ok(redactor) => redactor.redact(text),
            // A poisoned redactor must not let secrets through.
            Err(_) => "[line withheld: the redactor failed]".to_owned(),
        };
        if !text.ends_with('\n') {
            text.push('\n');
        }
        self.send(Entry::Line { step, text, at }).await;
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

async fn write(store: Arc<dyn Store>, id: String, mut rx: mpsc::Receiver<Entry>) {
    let mut offsets: HashMap<i64, i64> = HashMap::new();
    let mut entries = Vec::with_capacity(BATCH);
    let mut rows = Vec::with_capacity(BATCH);
    let mut flushed = Vec::new();
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
                Entry::Line { step, text, at } => {
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
            if let Err(err) = store.append_logs(&id, &rows).await {
                tracing::error!(%err, deployment = %id, lines = rows.len(), "cannot store log lines");
            }
            rows.clear();
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
    id: &str,
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

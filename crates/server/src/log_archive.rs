//! Finished deployments' logs, compressed once. A finished log no longer changes, so the text
//! `…/logs/raw` sends is built when the deployment finishes (or on the first whole read of one
//! that finished without it, say when its agent's lease lapsed), stored gzip-compressed, and
//! then sent as stored: reading a million rows and compressing them again on every visit took
//! seconds; sending the stored archive takes milliseconds.

use std::collections::HashSet;
use std::io::Write;
use std::sync::{Arc, Mutex, PoisonError};

use flate2::Compression;
use flate2::write::GzEncoder;
use keyless_api_types::GROUP_MARKER;
use tokio::sync::Semaphore;

use crate::BoxError;
use crate::store::{DeploymentId, Store};

/// Rows per store read: few queries, and a chunk of about a MiB in memory at a time.
pub const BATCH: u32 = 10_000;

/// The size a stored piece reaches before the next one starts: a reader holds one at a time.
const PIECE: usize = 1 << 20;

/// The largest archive built, compressed (a log of several hundred MB): one is built in memory
/// and stored in one transaction. A longer log (the log budget allows gigabytes) is sent as
/// read from its rows.
const MAX_ARCHIVE: usize = 64 << 20;

/// Builds archives in the background, one at a time on this server: each reads and compresses
/// a whole log, and many deployments may end at once.
pub struct LogArchives {
    store: Arc<dyn Store>,
    building: Mutex<HashSet<DeploymentId>>,
    turn: Semaphore,
}

impl LogArchives {
    pub fn new(store: Arc<dyn Store>) -> Self {
        Self {
            store,
            building: Mutex::default(),
            turn: Semaphore::new(1),
        }
    }

    /// Starts building finished deployment `id`'s archive, unless this server is at it already
    /// or has it queued.
    pub fn build_in_background(self: &Arc<Self>, id: DeploymentId) {
        if !self.building().insert(id.clone()) {
            return;
        }
        let this = Arc::clone(self);
        tokio::spawn(async move {
            let _turn = this.turn.acquire().await;
            if let Err(err) = build(this.store.as_ref(), &id).await {
                tracing::warn!(deployment = %id, %err, "archiving the log failed; it is sent as read from its rows");
            }
            this.building().remove(&id);
        });
    }

    fn building(&self) -> std::sync::MutexGuard<'_, HashSet<DeploymentId>> {
        self.building.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Builds and stores finished deployment `id`'s archive; returns whether it stored one (not
/// when it has one already, has no lines, or its log is too long to archive).
pub async fn build(store: &dyn Store, id: &DeploymentId) -> Result<bool, BoxError> {
    if store.log_archive_len(id).await?.is_some() {
        return Ok(false);
    }
    let Some(until) = store.last_log_id(id).await? else {
        return Ok(false);
    };
    let mut encoder = GzEncoder::new(Vec::with_capacity(2 * PIECE), Compression::default());
    let (mut pieces, mut size, mut after) = (Vec::new(), 0, 0);
    while let Some((text, last)) = store
        .log_text(id, after, until, BATCH, GROUP_MARKER)
        .await?
    {
        after = last;
        // Compressing a MiB takes milliseconds: not on the threads that answer requests.
        encoder = tokio::task::spawn_blocking(move || {
            encoder.write_all(text.as_bytes()).map(|()| encoder)
        })
        .await??;
        if encoder.get_ref().len() >= PIECE {
            let piece = std::mem::replace(encoder.get_mut(), Vec::with_capacity(2 * PIECE));
            size += piece.len();
            if size > MAX_ARCHIVE {
                return Ok(false);
            }
            pieces.push(piece);
        }
    }
    pieces.push(encoder.finish()?);
    Ok(store.save_log_archive(id, &pieces).await?)
}

//! The log as the viewer watches it: the text, a revision bumped when lines arrive, and
//! whether more will come.

use leptos::prelude::*;

use super::LogText;

/// A log that can grow: the text, and a revision bumped on every change.
#[derive(Clone, Copy)]
pub struct LiveLog {
    text: StoredValue<LogText>,
    /// Bumped whenever lines arrive.
    pub revision: RwSignal<u64>,
    /// Whether no more lines will come.
    pub complete: RwSignal<bool>,
}

impl Default for LiveLog {
    fn default() -> Self {
        Self::new()
    }
}

impl LiveLog {
    /// An empty log that may grow.
    pub fn new() -> Self {
        Self {
            text: StoredValue::new(LogText::new()),
            revision: RwSignal::new(0),
            complete: RwSignal::new(false),
        }
    }

    /// Changes the text and tells the viewer.
    pub fn update(&self, change: impl FnOnce(&mut LogText)) {
        self.text.update_value(change);
        self.revision.update(|r| *r += 1);
    }

    /// Changes the text without telling the viewer yet (see [`notify`](Self::notify)), for
    /// lines that arrive faster than frames; `false` once the log is gone with its page.
    pub fn try_update_quietly(&self, change: impl FnOnce(&mut LogText)) -> bool {
        self.text.try_update_value(change).is_some()
    }

    /// Whether the log is gone with its page.
    pub fn is_gone(&self) -> bool {
        self.text.is_disposed()
    }

    /// Tells the viewer that lines arrived.
    pub fn notify(&self) {
        self.revision.try_update(|r| *r += 1);
    }

    /// Reads the text (not tracked; track `revision`).
    pub fn with<R>(&self, read: impl FnOnce(&LogText) -> R) -> R {
        self.text.with_value(read)
    }
}

//! Cancelling a running deployment: by a user, by the server when it runs past the
//! deployment timeout, or when the server has lost its lease on it. The reason becomes the
//! log's last line.

use std::fmt;
use std::time::Duration;

use tokio::sync::watch;

/// Why a deployment was cancelled.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Reason {
    /// This user asked.
    User(String),
    /// It ran longer than the server's `--deployment-timeout`.
    Timeout(Duration),
    /// The lease of the server or agent running it lapsed, or is about to while the store
    /// cannot be reached (it stalled, or lost its database or its server): another server may
    /// fail it and run its stack's next deployment.
    LeaseLost,
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::User(user) => write!(f, "Deployment cancelled by {user}"),
            Self::Timeout(limit) => write!(
                f,
                "Deployment cancelled: it ran longer than this server allows ({}, set by \
                 --deployment-timeout)",
                keyless_api_types::duration::format(limit.as_secs())
            ),
            Self::LeaseLost => write!(
                f,
                "Deployment stopped: the server or agent running it could not renew its lease \
                 on it in time, so it may be failed and its stack's next deployment run elsewhere"
            ),
        }
    }
}

/// The sending side, kept by the engine for each running deployment.
pub type Canceller = watch::Sender<Option<Reason>>;

/// The receiving side, held by the deployment's steps.
#[derive(Clone)]
pub struct Cancel(watch::Receiver<Option<Reason>>);

/// Cancels for `reason`, unless it was cancelled already (the first reason stays).
pub fn request(canceller: &Canceller, reason: Reason) {
    canceller.send_if_modified(|current| {
        let first = current.is_none();
        if first {
            *current = Some(reason);
        }
        first
    });
}

/// A new pair.
pub fn channel() -> (Canceller, Cancel) {
    let (tx, rx) = watch::channel(None);
    (tx, Cancel(rx))
}

impl Cancel {
    /// Why it was cancelled, if it has been.
    pub fn reason(&self) -> Option<Reason> {
        self.0.borrow().clone()
    }

    /// Resolves with the reason once the deployment is cancelled; never when the engine drops
    /// the sender.
    pub async fn requested(&mut self) -> Reason {
        let reason = match self.0.wait_for(Option::is_some).await {
            Ok(reason) => reason.clone(),
            Err(_) => None,
        };
        match reason {
            Some(reason) => reason,
            None => std::future::pending().await,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasons_read_as_log_lines() {
        assert_eq!(
            Reason::User("alice".into()).to_string(),
            "Deployment cancelled by alice"
        );
        let line = Reason::Timeout(Duration::from_secs(7200)).to_string();
        assert!(
            line.contains("2h0m0s") && line.contains("--deployment-timeout"),
            "{line}"
        );
    }
}

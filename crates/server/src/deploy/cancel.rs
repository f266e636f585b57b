//! Cancelling a running deployment: the request carries the name of who cancelled.

use tokio::sync::watch;

/// The sending side, kept by the engine for each running deployment.
pub type Canceller = watch::Sender<Option<String>>;

/// The receiving side, held by the deployment's steps.
#[derive(Clone)]
pub struct Cancel(watch::Receiver<Option<String>>);

/// A new pair.
pub fn channel() -> (Canceller, Cancel) {
    let (tx, rx) = watch::channel(None);
    (tx, Cancel(rx))
}

impl Cancel {
    /// Who cancelled, if anyone has.
    pub fn by(&self) -> Option<String> {
        self.0.borrow().clone()
    }

    /// Resolves with who cancelled, once someone has; never when the engine drops the sender.
    pub async fn requested(&mut self) -> String {
        let user = match self.0.wait_for(Option::is_some).await {
            Ok(user) => user.clone(),
            Err(_) => None,
        };
        match user {
            Some(user) => user,
            None => std::future::pending().await,
        }
    }
}
